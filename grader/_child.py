"""The sandboxed child: runs learner code, answers calls with plain data only.

This file is self-contained (standard library + numpy) because it is executed as
``python -I -c <this source>`` in a fresh interpreter whose view of the file system hides the
course repository. The trusted side (``grader.sandbox``) imports the same module to share the
wire format, so both ends always agree.

Process layout inside the sandbox::

    bootstrap (applies namespaces) -> server (pid 1 of a new PID namespace when available,
    limits applied, numpy imported once) -> one forked worker per exercise

The worker execs the learner's code for one exercise and serves ``call`` requests over the
request/response pipes (fds 3 and 4). When the worker exits (normally or not) the server sends
an ``exit`` frame with its status, kills anything the worker left behind and waits for the next
``load`` request. Learner output goes to fds 1 and 2, which the trusted side drains with a cap.

Wire format: frame = MAGIC (4 bytes) + body length (uint32 big endian) + body; body = header
length (uint32) + JSON header + binary blobs, each prefixed by its uint64 length. Arrays travel as
``np.save`` bytes with ``allow_pickle=False``; nothing is ever pickled.
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
import warnings

MAGIC = b"NNGR"
MAX_FRAME = 256 * 1024 * 1024  # the trusted side applies its own, smaller cap
MAX_DEPTH = 32
ARRAY_KINDS = set("biufcU?")


# --------------------------------------------------------------------------- encoding
def _np():
    import numpy as np
    return np


def encode(value, blobs, depth=0):
    """Turn plain data into a JSON-able tree; arrays go to ``blobs`` as .npy bytes."""
    if depth > MAX_DEPTH:
        return {"t": "unsupported", "type": "nesting deeper than %d levels" % MAX_DEPTH}
    tp = type(value)
    if value is None:
        return {"t": "none"}
    if tp is bool:
        return {"t": "bool", "v": value}
    if tp is int:
        return {"t": "int", "v": str(value)}
    if tp is float:
        return {"t": "float", "v": repr(value)}
    if tp is str:
        return {"t": "str", "v": value}
    if tp is list or tp is tuple:
        return {"t": tp.__name__, "v": [encode(v, blobs, depth + 1) for v in value]}
    if tp is dict:
        items = []
        for k, v in value.items():
            if type(k) not in (str, int):
                return {"t": "unsupported", "type": "dict with a %s key" % type(k).__name__}
            items.append([encode(k, blobs, depth + 1), encode(v, blobs, depth + 1)])
        return {"t": "dict", "v": items}
    np = sys.modules.get("numpy")
    if np is not None:
        if tp is np.ndarray:
            if value.dtype.kind not in ARRAY_KINDS or value.dtype.hasobject:
                return {"t": "unsupported", "type": "numpy.ndarray of dtype %s" % value.dtype}
            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)  # keeps the shape, 0-d included
            blobs.append(buf.getvalue())
            return {"t": "ndarray", "i": len(blobs) - 1}
        if isinstance(value, np.generic) and tp.__module__ == "numpy":
            arr = np.asarray(value)
            if arr.dtype.kind not in ARRAY_KINDS:
                return {"t": "unsupported", "type": "numpy.%s" % tp.__name__}
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            blobs.append(buf.getvalue())
            return {"t": "npscalar", "i": len(blobs) - 1}
    name = getattr(tp, "__qualname__", "?")
    mod = getattr(tp, "__module__", "")
    return {"t": "unsupported", "type": ("%s.%s" % (mod, name)) if mod not in ("builtins", "") else name}


class Unsupported:
    """Stands for a value the child could not send as plain data (only its type name is known)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:200]

    def __repr__(self):
        return "<object of type %s>" % self.type_name


def decode(tree, blobs, depth=0):
    if depth > MAX_DEPTH + 1 or not isinstance(tree, dict):
        raise ValueError("malformed value")
    t = tree.get("t")
    if t == "none":
        return None
    if t == "bool":
        return bool(tree["v"])
    if t == "int":
        s = str(tree["v"])
        if len(s) > 4000:
            raise ValueError("integer too large")
        return int(s)
    if t == "float":
        return float(str(tree["v"]))
    if t == "str":
        return str(tree["v"])
    if t in ("list", "tuple"):
        items = [decode(v, blobs, depth + 1) for v in tree["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {decode(k, blobs, depth + 1): decode(v, blobs, depth + 1) for k, v in tree["v"]}
    if t in ("ndarray", "npscalar"):
        np = _np()
        arr = np.load(io.BytesIO(blobs[int(tree["i"])]), allow_pickle=False)
        if arr.dtype.kind not in ARRAY_KINDS:
            raise ValueError("unsupported dtype")
        return arr if t == "ndarray" else arr[()]
    if t == "unsupported":
        return Unsupported(tree.get("type", "?"))
    raise ValueError("unknown tag %r" % (t,))


def pack(header, blobs=()):
    hj = json.dumps(header, allow_nan=False).encode()
    parts = [struct.pack(">I", len(hj)), hj]
    for b in blobs:
        parts.append(struct.pack(">Q", len(b)))
        parts.append(b)
    body = b"".join(parts)
    return MAGIC + struct.pack(">I", len(body)) + body


def unpack_body(body):
    (hl,) = struct.unpack(">I", body[:4])
    header = json.loads(body[4:4 + hl].decode())
    blobs, pos = [], 4 + hl
    while pos < len(body):
        (bl,) = struct.unpack(">Q", body[pos:pos + 8])
        blobs.append(body[pos + 8:pos + 8 + bl])
        pos += 8 + bl
    return header, blobs


def write_frame(fd, header, blobs=()):
    data = pack(header, blobs)
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        c = os.read(fd, min(n - got, 1 << 20))
        if not c:
            raise EOFError("pipe closed")
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)


def read_frame(fd):
    head = _read_exact(fd, 8)
    if head[:4] != MAGIC:
        raise ValueError("bad frame")
    (n,) = struct.unpack(">I", head[4:])
    if n > MAX_FRAME:
        raise ValueError("frame too large")
    return unpack_body(_read_exact(fd, n))


# --------------------------------------------------------------------------- sandbox setup
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 1, 38, 4


def _libc():
    import ctypes
    return ctypes, ctypes.CDLL(None, use_errno=True)


def setup_namespaces(cfg, report):
    """In the bootstrap: new user (if not root), mount, network and PID namespaces."""
    if not cfg.get("namespaces", True):
        report["namespaces"] = "disabled by configuration"
        return False
    try:
        ctypes, libc = _libc()
    except Exception as exc:  # pragma: no cover - no ctypes
        report["namespaces"] = "unavailable (%s)" % exc
        return False
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
    if uid != 0:
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        report["namespaces"] = "unshare failed: %s" % os.strerror(err)
        # try network only (e.g. PID namespaces forbidden)
        return False
    if uid != 0:
        try:
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write("0 %d 1" % uid)
            with open("/proc/self/gid_map", "w") as f:
                f.write("0 %d 1" % gid)
        except OSError as exc:
            report["namespaces"] = "user namespace mapping failed: %s" % exc
            return False
        report["user_namespace"] = True
    report["network"] = "isolated (new network namespace, no interfaces up)"
    report["pid_namespace"] = True
    return True


def setup_filesystem(cfg, report):
    """In the server (pid 1 of the new namespaces): hide the course and submissions.

    A fresh tmpfs becomes /tmp (the working directory). Every hidden folder gets an empty tmpfs
    mounted over it; the Python installation, if it lives inside a hidden folder, is bind-mounted
    back at its own path so numpy and the standard library still import.
    """
    ctypes, libc = _libc()
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        report["filesystem"] = "mount namespace private remount failed"
        return
    MS_BIND, MS_MOVE = 4096, 8192
    keeps = [k for k in cfg.get("keep", []) if os.path.isdir(k)]
    # A Python installation under /tmp (e.g. a clone's .venv in /tmp) would vanish under the
    # private /tmp: hold it open now and bind it back through /proc/self/fd afterwards.
    held = {k: os.open(k, os.O_RDONLY | os.O_DIRECTORY) for k in keeps
            if k == "/tmp" or k.startswith("/tmp/")}
    size = ("size=%dk,mode=1777" % (cfg.get("tmp_kb", 16384))).encode()
    if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, size) != 0:
        report["filesystem"] = "could not mount a private /tmp"
        return
    report["tmp"] = "private empty /tmp (tmpfs, %d KiB)" % cfg.get("tmp_kb", 16384)
    report["cwd"] = "/tmp"
    hide = [h for h in cfg.get("hide", []) if os.path.isdir(h)]
    staged = []
    for i, keep in enumerate(keeps):
        if keep in held:
            source = "/proc/self/fd/%d" % held[keep]
        elif any(keep == h or keep.startswith(h.rstrip("/") + "/") for h in hide):
            source = keep
        else:
            continue
        stage = "/tmp/.stage%d" % i
        os.mkdir(stage)
        if libc.mount(source.encode(), stage.encode(), None, MS_BIND | MS_REC, None) == 0:
            staged.append((keep, stage))
    for fd in held.values():
        os.close(fd)
    hidden = []
    for path in hide:
        rc = libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        b"size=64k,mode=0755")
        if rc == 0:
            hidden.append(path)
    for keep, stage in staged:
        os.makedirs(keep, exist_ok=True)
        libc.mount(stage.encode(), keep.encode(), None, MS_MOVE, None)
        try:
            os.rmdir(stage)
        except OSError:
            pass
    for path in hidden:  # make the placeholder folders read-only
        libc.mount(b"none", path.encode(), None, 32 | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    if os.path.isdir("/proc"):
        libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    report["hidden_paths"] = hidden
    report["filesystem"] = "course, tests and submissions hidden (%d folders)" % len(hidden)


def drop_privileges(cfg, report):
    if os.getuid() != 0 or report.get("user_namespace"):
        report["user"] = "uid %d (not root%s)" % (os.getuid(), ", user namespace" if report.get("user_namespace") else "")
        return
    uid = int(cfg.get("uid", 65534))
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        report["user"] = "dropped root to unprivileged uid %d" % uid
    except OSError as exc:
        report["user"] = "still root: %s" % exc


def apply_limits(cfg, report):
    import resource
    lim = {}
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_CPU", "cpu_seconds"),
                      ("RLIMIT_NPROC", "nproc"), ("RLIMIT_FSIZE", "fsize_bytes"),
                      ("RLIMIT_CORE", None), ("RLIMIT_NOFILE", "nofile")):
        value = 0 if key is None else cfg.get(key)
        if value is None:
            continue
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
            lim[name] = int(value)
        except (ValueError, OSError) as exc:
            lim[name] = "failed: %s" % exc
    report["limits"] = lim
    try:
        ctypes, libc = _libc()
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except Exception:
        pass


# --------------------------------------------------------------------------- worker
def _format_exc(exc, tb, filename):
    """Traceback limited to the learner's own code."""
    import traceback
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith("<exercise")]
    lines = []
    for f in frames[-5:]:
        lines.append("  line %s, in %s: %s" % (f.lineno, f.name, (f.line or "").strip()))
    return "\n".join(lines)


def _exc_info(exc):
    return {"type": type(exc).__name__, "message": str(exc)[:2000],
            "traceback": _format_exc(exc, exc.__traceback__, "")}


def warning_texts(caught, limit=5):
    """The first ``limit`` warnings a call emitted, as ``"Category: message"`` strings."""
    texts = []
    for item in caught[:limit]:
        try:
            texts.append("%s: %s" % (item.category.__name__, str(item.message)[:300]))
        except Exception:  # noqa: BLE001 - a learner's warning class may not print
            texts.append("Warning: (unprintable)")
    return texts


def worker(req_fd, resp_fd, msg):
    """Run one exercise's learner code and serve calls until 'end'."""
    ns = {"__name__": "__exercise__", "__builtins__": __builtins__}
    loaded = {"op": "loaded", "ok": True}
    for i, (label, source) in enumerate(msg["parts"]):
        try:
            import linecache
            fname = "<exercise:%s:%d>" % (label, i)
            linecache.cache[fname] = (len(source), None, source.splitlines(True), fname)
            code = compile(source, fname, "exec")
        except SyntaxError as exc:
            if label == "exercise":
                loaded = {"op": "loaded", "ok": False, "kind": "syntax_error",
                          "error": {"type": "SyntaxError", "message": "%s (line %s)" % (exc.msg, exc.lineno),
                                    "traceback": (exc.text or "").rstrip()}}
                break
            continue
        try:
            exec(code, ns)
        except BaseException as exc:  # noqa: BLE001 - learner code can raise anything
            if label == "exercise" or label == "prelude":
                loaded = {"op": "loaded", "ok": False, "kind": "load_error", "error": _exc_info(exc)}
                break
    loaded["names"] = sorted(k for k, v in ns.items() if callable(v) and not k.startswith("__"))
    write_frame(resp_fd, loaded)
    if not loaded["ok"]:
        return
    import copy
    while True:
        header, blobs = read_frame(req_fd)
        if header.get("op") == "end":
            return
        fn = ns.get(header.get("func"))
        try:
            args = decode(header["args"], blobs)
            kwargs = decode(header["kwargs"], blobs)
            if not callable(fn):
                raise NameError("name %r is not defined" % header.get("func"))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = fn(*args, **kwargs)
            out_blobs = []
            reply = {"op": "result", "ok": True, "value": encode(result, out_blobs),
                     "args_after": encode(args, out_blobs), "kwargs_after": encode(kwargs, out_blobs),
                     "warnings": warning_texts(caught)}
        except BaseException as exc:  # noqa: BLE001
            out_blobs = []
            reply = {"op": "result", "ok": False, "error": _exc_info(exc)}
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        write_frame(resp_fd, reply, out_blobs)


def server(req_fd, resp_fd, cfg, report):
    import signal
    pid1 = os.getpid() == 1
    write_frame(resp_fd, {"op": "ready", "report": report})
    while True:
        try:
            header, blobs = read_frame(req_fd)
        except EOFError:
            os._exit(0)
        if header.get("op") != "load":
            os._exit(0)
        go_r, go_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(go_r)
            os.close(go_w)
            write_frame(resp_fd, {"op": "exit", "status": "fork failed: %s" % exc, "code": None, "signal": None})
            continue
        if pid == 0:
            code = 0
            try:
                os.close(go_w)
                os.read(go_r, 1)  # wait until the server has announced our pid
                os.close(go_r)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                worker(req_fd, resp_fd, header)
            except BaseException:  # noqa: BLE001
                code = 70
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                except Exception:
                    pass
                os._exit(code)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        write_frame(resp_fd, {"op": "spawned", "pid": pid})
        os.close(go_r)
        os.write(go_w, b"x")
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
        # kill whatever the worker left behind (forks, daemons)
        if pid1:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        write_frame(resp_fd, {"op": "exit", "code": code, "signal": sig})


def main():
    cfg = json.loads(os.environ.get("NNGRADER_CFG", "{}"))
    os.environ.pop("NNGRADER_CFG", None)
    req_fd, resp_fd = int(cfg["req_fd"]), int(cfg["resp_fd"])
    report = {"network": "not isolated", "pid_namespace": False, "filesystem": "not isolated"}
    in_ns = setup_namespaces(cfg, report)
    if in_ns:
        pid = os.fork()
        if pid != 0:
            # the bootstrap only waits: when the trusted side kills it, the namespace goes too
            try:
                _, status = os.waitpid(pid, 0)
                os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
            except BaseException:
                os._exit(1)
        try:
            setup_filesystem(cfg, report)
        except Exception as exc:  # noqa: BLE001
            report["filesystem"] = "failed: %s" % exc
    # import what the worker and typical learner code need before dropping privileges: without a
    # mount namespace the interpreter's files may sit in a folder the unprivileged uid cannot read
    import numpy  # noqa: F401 - imported once, shared by every forked worker
    for mod in ("math", "random", "functools", "itertools", "collections", "copy", "traceback",
                "signal", "linecache", "resource", "ctypes", "typing", "dataclasses", "time",
                "numpy.linalg", "numpy.random"):
        try:
            __import__(mod)
        except ImportError:
            pass
    drop_privileges(cfg, report)
    if in_ns:
        try:
            ctypes, libc = _libc()
            libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
        except Exception:
            pass
    work = report.get("cwd") or cfg.get("workdir", "/tmp")
    try:
        os.chdir(work)
    except OSError:
        os.chdir("/")
    apply_limits(cfg, report)
    sys.argv = ["exercise"]
    server(req_fd, resp_fd, cfg, report)


if __name__ == "__main__":
    main()
