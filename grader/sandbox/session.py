"""Trusted side of the sandbox: start a child, send plain inputs, read plain outputs.

One :class:`Session` is one sandboxed process tree (see ``grader/_child.py``). For each exercise
the session forks a fresh worker that loads the learner's code and answers calls. A timeout kills
the whole tree (process group, and the PID namespace with it); the next call starts a fresh one.
Learner output (stdout and stderr, merged) is drained continuously and kept up to a cap, so an
output flood can neither block the child nor fill memory.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from .. import _child
from .config import SandboxConfig
from .policy import build_policy
from .template import SpawnedProcess, TemplateUnavailable, discard, template_for

CHILD_SOURCE = Path(_child.__file__).read_text()
FIRST_SANDBOX_UID = 61000


class SandboxError(Exception):
    """The child could not answer: ``kind`` is timeout, crashed, protocol, too_large or start."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


_uid_counter = 0


def _sandbox_uid() -> int:
    """An unprivileged uid for the next sandbox of this process (two alternate, so a new
    sandbox's RLIMIT_NPROC never counts the processes of one that is still being torn down)."""
    global _uid_counter
    _uid_counter += 1
    return FIRST_SANDBOX_UID + os.getpid() % 3000 + 3000 * (_uid_counter % 2)


def child_environment(config: SandboxConfig) -> dict:
    """The sandbox's environment (without HOME, set once its working directory is known)."""
    return {**{str(k): str(v) for k, v in config.env.items()}, "PATH": "/usr/bin:/bin",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}


def prestart(config: SandboxConfig | None = None):
    """Start the template of sandboxes like ``config`` now, without waiting for it: it imports
    numpy while this process loads the course and reads the notebooks, and the first sandbox
    is forked from it as soon as it is ready (see ``grader.sandbox.template``)."""
    config = config or SandboxConfig()
    template_for(config, CHILD_SOURCE, child_environment(config))


class Session:
    """One sandboxed process tree: a server that forks one worker per exercise."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.proc: subprocess.Popen | None = None
        self.report: dict = {}
        self.worker_pid: int | None = None
        self._buf = bytearray()
        self._tmp: str | None = None
        self.output = bytearray()
        self.output_total = 0
        self.starts = 0
        self.ready = False
        self.last_warnings: tuple[str, ...] = ()  # warnings of the last successful call
        self.preloaded: dict[str, str] = {}
        self.serving = False  # a worker is loaded and answering calls
        self._template = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait: bool = True, probe: bool = False, modules=()):
        """Spawn the sandbox; with ``wait=False`` return at once (it imports numpy meanwhile).

        The sandbox is forked from this configuration's template when possible (see
        ``grader.sandbox.template``), else started as a fresh interpreter. ``modules`` (trusted
        names, see :meth:`preload`) are imported by the template before it forks this sandbox,
        so a worker's later sandboxes of this kind start with them too. With ``probe=True`` the
        child only sets up its protections, reports them and exits.
        """
        cfg = self.config
        # the working directory where the file system cannot be isolated; unused otherwise
        self._tmp = tempfile.mkdtemp(prefix="nngrader-")
        os.chmod(self._tmp, 0o777)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        child_cfg = {"req_fd": req_r, "resp_fd": resp_w, "workdir": self._tmp,
                     "namespaces": cfg.namespaces, "policy": build_policy(cfg).to_data(),
                     "uid": _sandbox_uid(), "probe": probe}
        env = child_environment(cfg)
        self._template = None if probe else template_for(cfg, CHILD_SOURCE, env)
        try:
            if self._template is not None:
                self._template.remember(modules)
                try:
                    self.proc = SpawnedProcess(self._template.spawn(child_cfg,
                                                                    (req_r, resp_w, out_w)))
                except TemplateUnavailable:
                    discard(cfg)
                    self._template = None
            if self._template is None:
                env.update(HOME=self._tmp, NNGRADER_CFG=json.dumps(child_cfg))
                self.proc = subprocess.Popen(
                    [cfg.python, "-I", "-c", CHILD_SOURCE], stdin=subprocess.DEVNULL,
                    stdout=out_w, stderr=out_w, pass_fds=(req_r, resp_w), env=env,
                    cwd=self._tmp, start_new_session=True, close_fds=True)
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        self.req_w, self.resp_r, self.out_r = req_w, resp_r, out_r
        os.set_blocking(resp_r, False)
        os.set_blocking(out_r, False)
        self._buf = bytearray()
        self.starts += 1
        self.ready = False
        self.preloaded = {}
        if wait:
            return self.wait_ready()
        return None

    def wait_ready(self) -> dict:
        """Wait for the child's 'ready' message; returns its report of active protections."""
        header, _ = self._recv(time.monotonic() + self.config.start_timeout, phase="start")
        if header.get("op") != "ready":
            self.kill()
            raise SandboxError("start", "sandbox did not start properly")
        self.report = header.get("report", {})
        if self.config.accept_weaker and not self.report.get("filesystem_isolated"):
            self.report["weaker_protection_accepted"] = True
        self.ready = True
        return self.report

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """End the whole process tree (idempotent)."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.report.get("pid_namespace") and self.proc.poll() is None:
            # kill the namespace's init (the bootstrap's only child): the kernel then kills every
            # process in the namespace, and the bootstrap reaps it and exits (no zombies left)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            for kid in kids:
                try:
                    os.kill(kid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        for group in (self.worker_pid, pid):
            if group:
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for fd in (self.req_w, self.resp_r, self.out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._tmp:
            # only used (and written by learner code) where the file system is not isolated
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.proc = None
        self.worker_pid = None
        self.serving = False

    close = kill

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    # ------------------------------------------------------------------ I/O
    def reset_output(self):
        self.output = bytearray()
        self.output_total = 0

    def output_text(self) -> tuple[str, bool]:
        """(captured output, whether some was dropped)."""
        text = self.output.decode("utf-8", "replace")
        return text, self.output_total > len(self.output)

    def _drain_output(self):
        cap = self.config.output_cap_kb * 1024
        while True:
            try:
                chunk = os.read(self.out_r, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            self.output_total += len(chunk)
            room = cap - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def _send(self, header, blobs=()):
        data = _child.pack(header, blobs)
        try:
            view = memoryview(data)
            deadline = time.monotonic() + self.config.call_timeout
            while view:
                remaining = max(0.0, deadline - time.monotonic())
                _, writable, _ = select.select([], [self.req_w], [], remaining)
                if not writable:
                    raise SandboxError("timeout", "the sandbox stopped reading its input")
                view = view[os.write(self.req_w, view[:1 << 16]):]
        except OSError as exc:
            self.kill()
            raise SandboxError("crashed", f"the sandbox closed its input ({exc})") from None

    def _recv(self, deadline: float, phase: str = "call"):
        max_body = self.config.max_result_mb * 2**20
        while True:
            if len(self._buf) >= 8:
                if self._buf[:4] != _child.MAGIC:
                    self.kill()
                    raise SandboxError("protocol",
                                       "the learner's code wrote garbage on the result channel")
                (size,) = struct.unpack(">I", self._buf[4:8])
                if size > max_body:
                    self.kill()
                    raise SandboxError("too_large", f"the result is larger than "
                                       f"{self.config.max_result_mb} MB")
                if len(self._buf) >= 8 + size:
                    body = bytes(self._buf[8:8 + size])
                    del self._buf[:8 + size]
                    try:
                        return _child.unpack_body(body)
                    except Exception:
                        self.kill()
                        raise SandboxError("protocol",
                                           "malformed message from the sandbox") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise SandboxError("timeout", phase)
            ready, _, _ = select.select([self.resp_r, self.out_r], [], [], min(remaining, 0.5))
            if self.out_r in ready:
                self._drain_output()
            if self.resp_r in ready:
                try:
                    chunk = os.read(self.resp_r, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    self._child_ended(phase)
                self._buf += chunk

    def _child_ended(self, phase: str):
        time.sleep(0.01)
        self._drain_output()
        code = self.proc.wait(timeout=5) if self.proc else None
        if phase == "start":
            message = self.output_text()[0][-2000:]
            self.kill()
            raise SandboxError("start", f"the sandbox could not start (exit status {code}): "
                               f"{message}")
        self.kill()
        raise SandboxError("crashed", f"the sandbox process ended (exit status {code})")

    # ------------------------------------------------------------------ protocol
    def _ensure_started(self):
        if not self.alive:
            self.start()
        elif not self.ready:
            self.wait_ready()

    def preload(self, modules) -> dict[str, str]:
        """Import ``modules`` once in the sandbox's server, before it forks workers.

        Every later worker starts with them imported (e.g. Keras: seconds once per sandbox
        instead of once per exercise). Only trusted names belong here (the reference solution's
        imports), never names read from a learner's notebook. Returns {module: "ok" or the
        error}; a module that fails to import is reported, not fatal.
        """
        if not self.alive:  # the template imports them before it forks this sandbox
            self.start(modules=modules)
        self._ensure_started()
        wanted = [m for m in dict.fromkeys(modules) if m not in self.preloaded]
        if not wanted:
            return self.preloaded
        if self.serving:  # only the server imports: end the current exercise's worker first
            self.end()
        self.reset_output()
        self._send({"op": "preload", "modules": wanted,
                    "hidden": list(self.config.preload_hidden)})
        header, _ = self._recv(time.monotonic() + self.config.start_timeout, phase="preload")
        if header.get("op") != "preloaded":
            self.kill()
            raise SandboxError("protocol", "unexpected message from the sandbox")
        self.preloaded.update(header.get("modules", {}))
        if self._template is not None:
            self._template.remember(m for m in wanted if self.preloaded.get(m) == "ok")
        return self.preloaded

    def load(self, parts: list[tuple[str, str]]) -> dict:
        """Fork a fresh worker running ``parts`` [(label, source)]; returns the 'loaded' header."""
        self._ensure_started()
        self.reset_output()
        self._send({"op": "load", "parts": [list(p) for p in parts]})
        deadline = time.monotonic() + self.config.load_timeout
        header, _ = self._recv(deadline, phase="load")
        if header.get("op") == "spawned":
            self.worker_pid = header.get("pid") if not self.report.get("pid_namespace") else None
            header, _ = self._recv(deadline, phase="load")
        if header.get("op") == "exit":
            self.worker_pid = None
            raise SandboxError("crashed", describe_exit(header))
        if not header.get("ok"):
            self._expect_exit()
        self.serving = bool(header.get("ok"))
        return header

    def _expect_exit(self):
        try:
            header, _ = self._recv(time.monotonic() + 2.0, phase="exit")
        except SandboxError:
            return
        if header.get("op") != "exit":
            self.kill()
        self.worker_pid = None
        self.serving = False

    def end(self):
        """End the current worker (the server stays, ready for the next exercise)."""
        if not self.alive:
            return
        try:
            self._send({"op": "end"})
            self._expect_exit()
        except SandboxError:
            self.kill()

    def call(self, func: str, args: tuple, kwargs: dict, timeout: float | None = None):
        """Call ``func(*args, **kwargs)`` in the worker.

        Returns (ok, value_or_error, args_after, kwargs_after): the decoded result and the
        arguments as the function left them (to detect in-place changes). The warnings the call
        emitted are in :attr:`last_warnings`.
        """
        blobs: list[bytes] = []
        header = {"op": "call", "func": func, "args": _child.encode(tuple(args), blobs),
                  "kwargs": _child.encode(dict(kwargs), blobs)}
        self._send(header, blobs)
        deadline = time.monotonic() + (timeout or self.config.call_timeout)
        reply, reply_blobs = self._recv(deadline, phase="call")
        if reply.get("op") == "exit":
            self.worker_pid = None
            self.serving = False
            raise SandboxError("crashed", describe_exit(reply))
        if reply.get("op") != "result":
            self.kill()
            raise SandboxError("protocol", "unexpected message from the sandbox")
        self.last_warnings = tuple(str(text)[:400] for text in reply.get("warnings", ())[:5])
        if not reply.get("ok"):
            return False, reply.get("error", {}), None, None
        try:
            value = _child.decode(reply["value"], reply_blobs)
            args_after = _child.decode(reply["args_after"], reply_blobs)
            kwargs_after = _child.decode(reply["kwargs_after"], reply_blobs)
        except Exception:
            self.kill()
            raise SandboxError("protocol",
                               "the result could not be decoded as plain data") from None
        return True, value, args_after, kwargs_after


def probe(config: SandboxConfig | None = None) -> dict:
    """The protections a sandbox started with ``config`` gets on this machine.

    Starts a child that sets up its namespaces and file system, reports, and exits (no numpy
    import, so it costs a few tens of milliseconds).
    """
    with Session(config) as session:
        return session.start(probe=True)


def describe_exit(header: dict) -> str:
    """A learner-facing sentence for a worker that ended without answering."""
    sig = header.get("signal")
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        extra = {"SIGSEGV": "segmentation fault", "SIGKILL": "killed (memory or CPU limit?)",
                 "SIGXCPU": "CPU time limit exceeded", "SIGABRT": "aborted",
                 "SIGXFSZ": "file size limit exceeded"}.get(name, "")
        return f"your code crashed the Python process ({name}{', ' + extra if extra else ''})"
    if header.get("status"):
        return f"could not start a worker: {header['status']}"
    return (f"your code ended the Python process (exit code {header.get('code')}), e.g. with "
            "os._exit() or sys.exit()")
