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
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import _child

CHILD_SOURCE = Path(_child.__file__).read_text()


class SandboxError(Exception):
    """The child could not answer: ``kind`` is timeout, crashed, protocol or start."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class SandboxConfig:
    memory_mb: int = 1536
    cpu_seconds: int = 20
    nproc: int = 64
    fsize_mb: int = 16
    nofile: int = 256
    output_cap_kb: int = 64
    max_result_mb: int = 64
    call_timeout: float = 3.0
    load_timeout: float = 3.0
    start_timeout: float = 20.0
    namespaces: bool = True
    hide: list = field(default_factory=list)
    env: dict = field(default_factory=dict)  # extra environment variables, e.g. KERAS_BACKEND
    python: str = sys.executable


def default_hidden_paths(extra=()) -> list[str]:
    """Directories the learner's code must not see (each mounted over with an empty tmpfs).

    The whole course repository (solutions, tests, nnlib, grader, exercises...), /root, /home,
    the shared folder beside the repository, and anything in ``extra`` (submission folders,
    instructor test folders, the output folder). The Python installation is re-exposed inside
    them by :func:`kept_paths` (bind mounts), so numpy and the standard library still import.
    """
    from .paths import course_root
    candidates = [Path("/root"), Path("/home")]
    root = course_root(required=False)
    if root is not None:
        candidates += [root, root.parent / "shared"]
    candidates += [Path(p) for p in extra]
    resolved = sorted({str(c.resolve()) for c in candidates if c.exists() and c.is_dir()})
    out = []
    for p in resolved:
        if p in ("/", "/tmp", "/proc", "/dev", "/usr", "/lib", "/etc"):
            continue
        if not any(p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def kept_paths() -> list[str]:
    """The Python installation (venv and base interpreter), visible inside hidden folders."""
    keep = sorted({str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve())})
    out = []
    for p in keep:
        if not any(p.startswith(q + "/") for q in out):
            out.append(p)
    return out


_uid_counter = 0


class Session:
    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.proc: subprocess.Popen | None = None
        self.report: dict = {}
        self.worker_pid: int | None = None
        self._buf = bytearray()
        self.output = bytearray()
        self.output_total = 0
        self.starts = 0
        self.ready = False
        self.last_warnings: tuple[str, ...] = ()  # warnings of the last successful call

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait: bool = True):
        """Spawn the sandbox; with ``wait=False`` return at once (it imports numpy meanwhile)."""
        global _uid_counter
        cfg = self.config
        self._tmp = tempfile.mkdtemp(prefix="nngrader-")
        os.chmod(self._tmp, 0o777)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        _uid_counter += 1
        child_cfg = {
            "req_fd": req_r, "resp_fd": resp_w, "workdir": self._tmp,
            "memory_bytes": cfg.memory_mb * 2**20, "cpu_seconds": cfg.cpu_seconds,
            "nproc": cfg.nproc, "fsize_bytes": cfg.fsize_mb * 2**20, "nofile": cfg.nofile,
            "namespaces": cfg.namespaces, "hide": list(cfg.hide), "keep": kept_paths(), "tmp_kb": cfg.fsize_mb * 1024,
            "uid": 61000 + (os.getpid() % 3000) + 3000 * (_uid_counter % 2),
        }
        env = {**{str(k): str(v) for k, v in cfg.env.items()}, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
               "HOME": self._tmp, "NNGRADER_CFG": json.dumps(child_cfg)}
        try:
            self.proc = subprocess.Popen(
                [cfg.python, "-I", "-c", CHILD_SOURCE], stdin=subprocess.DEVNULL, stdout=out_w,
                stderr=out_w, pass_fds=(req_r, resp_w), env=env, cwd=self._tmp,
                start_new_session=True, close_fds=True)
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        self.req_w, self.resp_r, self.out_r = req_w, resp_r, out_r
        os.set_blocking(resp_r, False)
        os.set_blocking(out_r, False)
        self._buf = bytearray()
        self.starts += 1
        self.ready = False
        if wait:
            return self.wait_ready()

    def wait_ready(self):
        header, _ = self._recv(time.monotonic() + self.config.start_timeout, phase="start")
        if header.get("op") != "ready":
            self.kill()
            raise SandboxError("start", "sandbox did not start properly")
        self.report = header.get("report", {})
        self.ready = True
        return self.report

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.report.get("pid_namespace") and self.proc.poll() is None:
            # kill the namespace's init (the bootstrap's only child): the kernel then kills every
            # process in the namespace, and the bootstrap reaps it and exits (no zombies left)
            try:
                with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        for pg in (self.worker_pid, pid):
            if pg:
                try:
                    os.killpg(pg, signal.SIGKILL)
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
        try:
            os.rmdir(self._tmp)
        except OSError:
            pass
        self.proc = None
        self.worker_pid = None

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
        text = self.output.decode("utf-8", "replace")
        return text, self.output_total > len(self.output)

    def _drain_output(self):
        cap = self.config.output_cap_kb * 1024
        while True:
            try:
                chunk = os.read(self.out_r, 1 << 16)
            except BlockingIOError:
                return
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
                _, w, _ = select.select([], [self.req_w], [], max(0.0, deadline - time.monotonic()))
                if not w:
                    raise SandboxError("timeout", "the sandbox stopped reading its input")
                view = view[os.write(self.req_w, view[:1 << 16]):]
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise SandboxError("crashed", "the sandbox closed its input (%s)" % exc) from None

    def _recv(self, deadline: float, phase: str = "call"):
        max_body = self.config.max_result_mb * 2**20
        while True:
            if len(self._buf) >= 8:
                if self._buf[:4] != _child.MAGIC:
                    self.kill()
                    raise SandboxError("protocol", "the learner's code wrote garbage on the result channel")
                (n,) = struct.unpack(">I", self._buf[4:8])
                if n > max_body:
                    self.kill()
                    raise SandboxError("too_large", "the result is larger than %d MB" % self.config.max_result_mb)
                if len(self._buf) >= 8 + n:
                    body = bytes(self._buf[8:8 + n])
                    del self._buf[:8 + n]
                    try:
                        return _child.unpack_body(body)
                    except Exception:
                        self.kill()
                        raise SandboxError("protocol", "malformed message from the sandbox") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise SandboxError("timeout", phase)
            r, _, _ = select.select([self.resp_r, self.out_r], [], [], min(remaining, 0.5))
            if self.out_r in r:
                self._drain_output()
            if self.resp_r in r:
                try:
                    chunk = os.read(self.resp_r, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    time.sleep(0.01)
                    self._drain_output()
                    code = self.proc.wait(timeout=5) if self.proc else None
                    if phase == "start":
                        msg = self.output_text()[0][-2000:]
                        self.kill()
                        raise SandboxError("start", "the sandbox could not start (exit status %s): %s"
                                           % (code, msg))
                    self.kill()
                    raise SandboxError("crashed", "the sandbox process ended (exit status %s)" % code)
                self._buf += chunk

    # ------------------------------------------------------------------ protocol
    def load(self, parts: list[tuple[str, str]]) -> dict:
        """Fork a fresh worker running ``parts`` [(label, source)]; returns the 'loaded' header."""
        if not self.alive:
            self.start()
        elif not self.ready:
            self.wait_ready()
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
        return header

    def _expect_exit(self):
        try:
            header, _ = self._recv(time.monotonic() + 2.0, phase="exit")
        except SandboxError:
            return
        if header.get("op") != "exit":
            self.kill()
        self.worker_pid = None

    def end(self):
        if not self.alive:
            return
        try:
            self._send({"op": "end"})
            self._expect_exit()
        except SandboxError:
            self.kill()

    def call(self, func: str, args: tuple, kwargs: dict, timeout: float | None = None):
        """Call ``func(*args, **kwargs)`` in the worker; returns the reply header decoded.

        Returns (ok, value_or_error, args_after, kwargs_after); the warnings the call emitted
        are in :attr:`last_warnings`.
        """
        blobs: list[bytes] = []
        header = {"op": "call", "func": func, "args": _child.encode(tuple(args), blobs),
                  "kwargs": _child.encode(dict(kwargs), blobs)}
        self._send(header, blobs)
        deadline = time.monotonic() + (timeout or self.config.call_timeout)
        reply, rblobs = self._recv(deadline, phase="call")
        if reply.get("op") == "exit":
            self.worker_pid = None
            raise SandboxError("crashed", describe_exit(reply))
        if reply.get("op") != "result":
            self.kill()
            raise SandboxError("protocol", "unexpected message from the sandbox")
        self.last_warnings = tuple(str(text)[:400] for text in reply.get("warnings", ())[:5])
        if not reply.get("ok"):
            return False, reply.get("error", {}), None, None
        try:
            value = _child.decode(reply["value"], rblobs)
            args_after = _child.decode(reply["args_after"], rblobs)
            kwargs_after = _child.decode(reply["kwargs_after"], rblobs)
        except Exception:
            self.kill()
            raise SandboxError("protocol", "the result could not be decoded as plain data") from None
        return True, value, args_after, kwargs_after


def describe_exit(header: dict) -> str:
    sig = header.get("signal")
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "signal %d" % sig
        extra = {"SIGSEGV": "segmentation fault", "SIGKILL": "killed (memory or CPU limit?)",
                 "SIGXCPU": "CPU time limit exceeded", "SIGABRT": "aborted",
                 "SIGXFSZ": "file size limit exceeded"}.get(name, "")
        return "your code crashed the Python process (%s%s)" % (name, ", " + extra if extra else "")
    if header.get("status"):
        return "could not start a worker: %s" % header["status"]
    return "your code ended the Python process (exit code %s), e.g. with os._exit() or sys.exit()" % header.get("code")
