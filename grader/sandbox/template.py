"""Sandbox templates: one clean, pre-initialised process per sandbox kind that forks sandboxes.

Starting a sandbox from scratch costs an interpreter start and the imports of numpy and of the
chapter's modules (Keras: over a second). A template pays that once per grader process: it
imports them, then forks a new sandbox for each session, which enters its own namespaces and
allow-list file system exactly as a fresh one does. The template never runs learner code; it
imports only trusted names (the reference notebooks' imports) whose files a sandbox could import
too, and only when a session of its kind asks for them: before forking that session when it asks
before it starts (a chapter's sandbox), else before the next spawn. A single learner pays nothing
extra, and a worker imports Keras once, however many learners it grades. Learners never share
a process: each session is a new fork of the untouched template.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from .config import SandboxConfig
from .policy import build_policy

_templates: dict = {}        # (python, env) -> Template, for the process that created them
_owner = os.getpid()


class TemplateUnavailable(Exception):
    """The template cannot serve (it died, refused, or imported something it must not)."""


class Template:
    """A template process for sandboxes of one interpreter and environment."""

    def __init__(self, config: SandboxConfig, child_source: str, child_env: dict):
        self._home = tempfile.mkdtemp(prefix="nngrader-template-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        policy = build_policy(config)
        cfg = {"template": True, "control_fd": theirs.fileno(),
               "roots": [m.destination for m in policy.mounts if m.kind == "bind"]}
        env = {**child_env, "HOME": self._home,
               "NNGRADER_CFG": json.dumps(cfg)}
        try:
            self.proc = subprocess.Popen(
                [config.python, "-I", "-c", child_source], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=self._home,
                pass_fds=(theirs.fileno(),), start_new_session=True, close_fds=True)
        finally:
            theirs.close()
        self.control = ours
        self.timeout = config.start_timeout
        self.modules: set[str] = set()      # imported in the template
        self.wanted: set[str] = set()       # asked for by sessions of this kind
        self.hidden = list(config.preload_hidden)  # while importing them
        self.ready = False  # it imports numpy meanwhile: waited for at the first spawn

    def _ensure_ready(self):
        if not self.ready:
            self._check(self._reply(), "ready")
            self.ready = True

    def _reply(self) -> dict:
        self.control.settimeout(self.timeout)
        try:
            message = self.control.recv(1 << 20)
        except OSError as exc:
            raise TemplateUnavailable(f"no answer from the template ({exc})") from None
        if not message:
            raise TemplateUnavailable("the template ended")
        return json.loads(message)

    def _check(self, reply: dict, op: str) -> dict:
        if reply.get("op") != op:
            raise TemplateUnavailable(reply.get("reason", f"unexpected answer {reply}"))
        if reply.get("outside"):
            raise TemplateUnavailable("the template imported modules a sandbox cannot see: "
                                      + ", ".join(sorted(reply["outside"])[:5]))
        return reply

    def remember(self, modules):
        """Modules a session of this kind imported: the template imports them before the
        next spawn, so later sessions start with them."""
        self.wanted.update(modules)

    def spawn(self, session_cfg: dict, fds) -> int:
        """Fork a sandbox with pipes ``fds`` (request read end, response write end, output
        write end); returns the pid of its bootstrap process."""
        self._ensure_ready()
        missing = sorted(self.wanted - self.modules)
        if missing:
            self.control.send(json.dumps({"op": "preload", "modules": missing,
                                          "hidden": self.hidden}).encode())
            done = self._check(self._reply(), "preloaded")["modules"]
            self.modules.update(m for m, status in done.items() if status == "ok")
            self.wanted.difference_update(missing)
        socket.send_fds(self.control, [json.dumps({"op": "spawn", "cfg": session_cfg})
                                       .encode()], list(fds))
        return self._check(self._reply(), "spawned")["pid"]

    def close(self):
        """End the template (its sandboxes are ended by their sessions) and wait for it, so
        its CPU time, and that of every sandbox it forked, counts for this process."""
        try:
            self.control.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self._home, ignore_errors=True)


def template_for(config: SandboxConfig, child_source: str, child_env: dict) -> Template | None:
    """The template of this interpreter and environment, started on first use; None where
    templates cannot work here (no /proc, no descriptor passing) or this one failed before."""
    global _owner
    if not os.path.isdir("/proc/self/task") or not hasattr(socket, "send_fds"):
        return None
    if _owner != os.getpid():  # a forked child (e.g. a batch worker) starts its own templates
        _templates.clear()
        _owner = os.getpid()
    key = (config.python, tuple(sorted(config.env.items())), tuple(config.preload_hidden))
    if key not in _templates:
        if not _templates:
            _register_close()
        try:
            _templates[key] = Template(config, child_source, child_env)
        except (OSError, TemplateUnavailable):
            _templates[key] = None
    return _templates[key]


def discard(config: SandboxConfig):
    """Stop using the template of ``config`` (after it failed); sessions start fresh."""
    key = (config.python, tuple(sorted(config.env.items())), tuple(config.preload_hidden))
    template = _templates.get(key)
    _templates[key] = None
    if template is not None:
        template.close()


def close_all():
    """End every template of this process (at exit, and at the end of a batch worker)."""
    if _owner != os.getpid():
        return
    for template in list(_templates.values()):
        if template is not None:
            template.close()
    _templates.clear()


def _register_close():
    atexit.register(close_all)
    try:  # batch workers end through multiprocessing, which skips atexit but runs finalizers
        from multiprocessing import util
        util.Finalize(None, close_all, exitpriority=10)
    except ImportError:  # pragma: no cover
        pass


class SpawnedProcess:
    """The bootstrap process of a sandbox forked by a template: enough of ``Popen`` for
    :class:`~grader.sandbox.Session` (the template, its parent, collects its exit status)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def poll(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "X"
        if state in ("Z", "X"):
            self.returncode = -1
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.005)
        return self.returncode
