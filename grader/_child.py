"""The sandboxed child: runs learner code, answers calls with plain data only.

This file is self-contained (standard library + numpy) because it is executed as
``python -I -c <this source>`` in a fresh interpreter, which then replaces its file system by the
allow-list it is given (:func:`apply_policy`, built by ``grader.sandbox.policy``). The trusted
side (``grader.sandbox``) imports the same module to share the wire format, so both ends always
agree.

Process layout inside the sandbox::

    bootstrap (enters new namespaces) -> server (pid 1 of a new PID namespace when available:
    applies the file system policy, imports numpy once, drops privileges, applies limits; may
    import more trusted modules on request, "preload") -> one forked worker per exercise

The worker execs the learner's code for one exercise and serves ``call`` requests over the
request/response pipes (fds 3 and 4). When the worker exits (normally or not) the server sends
an ``exit`` frame with its status, kills anything the worker left behind and waits for the next
``load`` request. Learner output goes to fds 1 and 2, which the trusted side drains with a cap.

Wire format: frame = MAGIC (4 bytes) + body length (uint32 big endian) + body; body = header
length (uint32) + JSON header + binary blobs, each prefixed by its uint64 length. Arrays travel as
their raw bytes, with dtype (numbers, booleans or fixed-size strings) and shape in the header,
checked against the byte count before use; nothing is ever pickled.
"""
from __future__ import annotations

import gc
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
    """Turn plain data into a JSON-able tree; arrays go to ``blobs`` as their raw bytes (C
    order), with dtype and shape in the tree (a .npy header costs more to parse than most
    arrays the checks send)."""
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
            if not _plain_dtype(value.dtype):
                return {"t": "unsupported", "type": "numpy.ndarray of dtype %s" % value.dtype}
            return _encode_array("ndarray", value, blobs)
        if isinstance(value, np.generic) and tp.__module__ == "numpy":
            arr = np.asarray(value)
            if not _plain_dtype(arr.dtype):
                return {"t": "unsupported", "type": "numpy.%s" % tp.__name__}
            return _encode_array("npscalar", arr, blobs)
    name = getattr(tp, "__qualname__", "?")
    mod = getattr(tp, "__module__", "")
    return {"t": "unsupported", "type": ("%s.%s" % (mod, name)) if mod not in ("builtins", "") else name}


def _plain_dtype(dtype):
    """Numbers, booleans or fixed-size strings: no objects, fields or sub-arrays."""
    return (dtype.kind in ARRAY_KINDS and not dtype.hasobject and dtype.fields is None
            and dtype.subdtype is None and dtype.itemsize > 0)


def _encode_array(tag, arr, blobs):
    blobs.append(arr.tobytes())          # C order, whatever the layout of arr
    return {"t": tag, "i": len(blobs) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}


def _decode_array(tree, blobs):
    """The array an encoded tree describes, checked before any memory is used: a plain dtype,
    a shape of non-negative ints, and exactly as many bytes as they call for."""
    np = _np()
    descr, shape = tree.get("dtype"), tree.get("shape")
    if not (isinstance(descr, str) and len(descr) <= 16 and isinstance(shape, list)
            and len(shape) <= 64 and all(type(n) is int and n >= 0 for n in shape)):
        raise ValueError("malformed array")
    try:
        dtype = np.dtype(descr)
    except Exception:  # noqa: BLE001 - whatever numpy makes of the string, it is malformed
        raise ValueError("malformed array dtype") from None
    if not _plain_dtype(dtype):
        raise ValueError("unsupported dtype")
    data = blobs[int(tree["i"])]
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(data):
        raise ValueError("the array's data does not match its shape and dtype")
    return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape)   # writable, own memory


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
        arr = _decode_array(tree, blobs)
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
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = (1024, 2048, 4096, 16384,
                                                                      1 << 18, 1 << 21)
MNT_DETACH = 2
# statvfs f_flag bits -> the mount flags a bind remount must keep (a user namespace may not
# clear them)
ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME,
            2048: MS_NODIRATIME, 4096: MS_RELATIME}
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "loongarch64": 41,
                  "ppc64le": 203, "ppc64": 203, "s390x": 217, "i686": 217, "i386": 217,
                  "armv7l": 218}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
# where the new root is assembled (any existing folder: it is covered only in our namespace)
ASSEMBLY_POINTS = ("/tmp", "/mnt", "/opt", "/srv", "/media", "/run", "/var")


def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    return ctypes, libc


class IsolationUnavailable(Exception):
    """The kernel refused a step before anything was changed: run without file isolation."""


class _Kernel:
    """The few system calls the sandbox needs, raising OSError with the failing step."""

    def __init__(self):
        import platform
        self.ctypes, self.libc = _libc()
        self.pivot_nr = SYS_PIVOT_ROOT.get(platform.machine())

    def _check(self, rc, what):
        if rc != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, "%s: %s" % (what, os.strerror(err)))

    def mount(self, source, target, fstype, flags, data=None):
        enc = lambda s: None if s is None else s.encode()  # noqa: E731
        self._check(self.libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
                    "mount %s" % target)

    def umount(self, target, flags=0):
        self._check(self.libc.umount2(target.encode(), flags), "umount %s" % target)

    def pivot_root(self, new_root, put_old):
        if self.pivot_nr is None:
            raise OSError(38, "pivot_root: unknown system call number on this architecture")
        self._check(self.libc.syscall(self.pivot_nr, new_root.encode(), put_old.encode()),
                    "pivot_root")


def setup_namespaces(cfg, report):
    """In the bootstrap: new user (if not root), mount, network and PID namespaces."""
    if not cfg.get("namespaces", True):
        report["namespaces"] = "disabled by configuration (--no-namespaces)"
        return False
    try:
        ctypes, libc = _libc()
    except Exception as exc:  # noqa: BLE001 - no ctypes or no C library
        report["namespaces"] = "unavailable (%s)" % exc
        return False
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
    if uid != 0:
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        report["namespaces"] = "unavailable: unshare failed: %s" % os.strerror(ctypes.get_errno())
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
            report["namespaces"] = "unavailable: user namespace mapping failed: %s" % exc
            return False
        report["user_namespace"] = True
    report["namespaces"] = "user, mount, PID, network" if uid != 0 else "mount, PID, network"
    report["network"] = "isolated (new network namespace, no interfaces up)"
    report["pid_namespace"] = True
    return True


def _kept_flags(path):
    kept = 0
    flags = os.statvfs(path).f_flag
    for st, ms in ST_TO_MS.items():
        if flags & st:
            kept |= ms
    return kept


def _place(kernel, mount, notes):
    """Create one mount of the policy under /newroot (the old root is at /oldroot)."""
    kind, dest = mount["kind"], "/newroot" + mount["destination"]
    if kind == "symlink":
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.symlink(mount["source"], dest)
    elif kind in ("bind", "dev"):
        source = "/oldroot" + mount["source"]
        if not os.path.exists(source):
            notes.append("%s: missing on this machine" % mount["source"])
            return
        if os.path.isdir(source):
            os.makedirs(dest, exist_ok=True)
        elif not os.path.exists(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            open(dest, "w").close()
        kernel.mount(source, dest, None, MS_BIND)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | _kept_flags(dest)
        if kind == "dev":  # a device node: usable, never executable
            flags |= MS_NOEXEC
        else:
            flags |= MS_NODEV | (0 if mount["writable"] else MS_RDONLY)
        kernel.mount(None, dest, None, flags)
    elif kind == "tmpfs":
        os.makedirs(dest, exist_ok=True)
        size_mb = int(mount["size_mb"])
        options = "size=%dm,nr_inodes=%d,mode=%s" % (size_mb, 1024 * max(size_mb, 1),
                                                      "1777" if mount["writable"] else "0755")
        kernel.mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV | (
            0 if mount["writable"] else MS_RDONLY), options)
    elif kind == "proc":
        os.makedirs(dest, exist_ok=True)
        try:
            kernel.mount("proc", dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError as exc:  # e.g. a user namespace inside a container with a masked /proc
            notes.append("no %s (%s)" % (mount["destination"], exc.strerror))
    elif kind == "copy":
        _copy_tree("/oldroot" + mount["source"], dest, notes)
    elif kind == "mask" and os.path.isdir(dest):
        kernel.mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                     "size=4k,mode=0755")


def _copy_tree(source, dest, notes):
    """Copy the folders and regular files of trusted ``source`` to ``dest`` (inside the private
    /tmp); symbolic links and special files are skipped, nothing is followed. A copy that does
    not fit is removed whole (a cache with a truncated entry would be worse than none). Runs
    between the two ``pivot_root`` calls, where no module can be imported: ``os`` only."""
    try:
        os.makedirs(dest, exist_ok=True)
        for folder, subfolders, files in os.walk(source):
            target = os.path.join(dest, os.path.relpath(folder, source))
            subfolders[:] = [n for n in subfolders if not os.path.islink(os.path.join(folder, n))]
            for name in subfolders:
                os.makedirs(os.path.join(target, name), exist_ok=True)
            for name in files:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as src, open(os.path.join(target, name), "wb") as out:
                        out.write(src.read())
                    os.chmod(os.path.join(target, name), 0o666)
            os.chmod(target, 0o777)  # the sandbox's own: writable whatever uid learner code has
    except OSError as exc:
        for folder, _, files in os.walk(dest, topdown=False):
            for name in files:
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
        notes.append("%s: not copied (%s)" % (dest[len("/newroot"):], exc.strerror or exc))


def apply_policy(policy, report):
    """In the server (pid 1 of the new namespaces): make the allow-list the whole file system.

    As bubblewrap: a tmpfs becomes the root (``pivot_root``), each mount of the policy is
    created on a new root inside it from the old root, the old root is detached, the new root
    is pivoted to and remounted read-only. Bind mounts are read-only, ``nosuid`` and ``nodev``.
    Raises :class:`IsolationUnavailable` if the kernel refuses before anything changed.
    """
    kernel = _Kernel()
    os.umask(0o022)
    try:
        kernel.mount(None, "/", None, MS_REC | MS_PRIVATE)
        base = next(d for d in ASSEMBLY_POINTS if os.path.isdir(d))
        kernel.mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    except (OSError, StopIteration) as exc:
        raise IsolationUnavailable(str(exc)) from None
    os.chdir(base)
    os.mkdir("newroot")
    os.mkdir("oldroot")
    try:
        kernel.pivot_root(".", "oldroot")
    except OSError as exc:
        os.chdir("/")
        kernel.umount(base, MNT_DETACH)
        raise IsolationUnavailable(str(exc)) from None
    # From here on the old root is only reachable below /oldroot: any failure is fatal.
    os.chdir("/")
    kernel.mount("newroot", "newroot", None, MS_BIND | MS_REC)
    notes = []
    for mount in policy["mounts"]:
        _place(kernel, mount, notes)
    kernel.mount(None, "oldroot", None, MS_REC | MS_PRIVATE)
    kernel.umount("oldroot", MNT_DETACH)
    os.chdir("/newroot")
    kernel.pivot_root(".", ".")
    kernel.umount(".", MNT_DETACH)
    os.chdir("/")
    kernel.mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    tmp = next((m for m in policy["mounts"] if m["destination"] == policy["workdir"]), {})
    binds = sum(1 for m in policy["mounts"] if m["kind"] == "bind")
    report["filesystem"] = ("allow-list only: new empty read-only root with %d read-only bind "
                            "mounts (Python, its libraries), a minimal /dev, its own /proc and a "
                            "private /tmp; nothing else is visible" % binds)
    report["filesystem_isolated"] = True
    report["tmp"] = "private empty %s (tmpfs, %s MiB in total, gone with the sandbox)" % (
        policy["workdir"], tmp.get("size_mb"))
    report["cwd"] = policy["workdir"]
    if notes:
        report["filesystem_notes"] = notes


def drop_privileges(cfg, report):
    if os.getuid() != 0 or report.get("user_namespace"):
        report["user"] = "uid %d (not root%s)" % (
            os.getuid(), ", user namespace" if report.get("user_namespace") else "")
        return
    uid = int(cfg.get("uid", 65534))
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        report["user"] = "dropped root to unprivileged uid %d" % uid
    except OSError as exc:
        report["user"] = "still root: %s" % exc


def apply_limits(limits, report):
    """Resource limits (``RLIMIT_*`` name -> value); reported, never fatal where missing."""
    try:
        import resource
    except ImportError as exc:
        report["limits"] = ("unavailable: no resource module in this Python (%s): no memory, "
                            "CPU or file limits; timeouts still apply" % exc)
        return
    applied = {}
    for name, value in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
            applied[name] = int(value)
        except (AttributeError, ValueError, OSError) as exc:
            applied[name] = "failed: %s" % exc
    report["limits"] = applied
    try:
        _, libc = _libc()
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort
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


def server(req_fd, resp_fd, report):
    import signal
    pid1 = os.getpid() == 1
    write_frame(resp_fd, {"op": "ready", "report": report})
    while True:
        try:
            header, blobs = read_frame(req_fd)
        except EOFError:
            os._exit(0)
        if header.get("op") == "preload":
            write_frame(resp_fd, {"op": "preloaded", "modules": _preload(
                header.get("modules", []), header.get("hidden", ()))})
            continue
        if header.get("op") != "load":
            os._exit(0)
        go_r, go_w = os.pipe()
        gc.freeze()  # the worker's garbage collector skips what the server imported
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


def _preload(names, hidden=()):
    """Import trusted module names in the server; every later worker inherits them.

    The modules ``hidden`` (optional dependencies, e.g. scikit-learn for Keras) cannot be
    imported meanwhile; afterwards they can again (imported by whoever needs them)."""
    import importlib
    done = {}
    blocked = [str(name) for name in hidden if str(name) not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # "import name" raises ImportError, as if not installed
    try:
        for name in names:
            try:
                importlib.import_module(str(name))
                done[name] = "ok"
            except BaseException as exc:  # noqa: BLE001 - reported to the trusted side
                done[name] = "%s: %s" % (type(exc).__name__, str(exc)[:300])
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    return done


#: Imported by every sandbox before it drops privileges: without a mount namespace the
#: interpreter's files may sit in a folder the unprivileged uid cannot read.
BASE_MODULES = ("numpy", "math", "random", "functools", "itertools", "collections", "copy",
                "traceback", "signal", "linecache", "ctypes", "typing", "dataclasses", "time",
                "importlib", "resource", "numpy.linalg", "numpy.random")


def run_sandbox(cfg):
    """Enter the namespaces and the file system policy, drop privileges, serve (never returns)."""
    req_fd, resp_fd = int(cfg["req_fd"]), int(cfg["resp_fd"])
    report = {"network": "not isolated", "pid_namespace": False,
              "filesystem": "not isolated: no mount namespace", "filesystem_isolated": False}
    policy = cfg["policy"]
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
            apply_policy(policy, report)
        except IsolationUnavailable as exc:
            report["filesystem"] = "not isolated: %s" % exc
    work = policy["workdir"] if report["filesystem_isolated"] else cfg["workdir"]
    os.environ["HOME"] = work
    os.chdir(work)
    if cfg.get("probe"):  # report what this machine allows, then stop
        drop_privileges(cfg, report)
        apply_limits(policy["limits"], report)
        write_frame(resp_fd, {"op": "ready", "report": report})
        os._exit(0)
    _preload(BASE_MODULES)  # already imported when forked from a template
    drop_privileges(cfg, report)
    if in_ns:
        try:
            _, libc = _libc()
            libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
        except Exception:  # noqa: BLE001 - best effort
            pass
    apply_limits(policy["limits"], report)
    sys.argv = ["exercise"]
    server(req_fd, resp_fd, report)


# --------------------------------------------------------------------------- template
def _outside(roots):
    """Loaded modules whose files lie outside ``roots`` (what a sandbox could not import)."""
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and not any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots):
            found.append(name)
    return found


def _importable_inside(name, roots):
    """Whether module ``name`` comes from inside ``roots`` (found without importing it)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec(name.split(".")[0])
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    paths = list(spec.submodule_search_locations or []) + [spec.origin or ""]
    inside = lambda p: any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots)  # noqa
    return spec.origin in ("built-in", "frozen") or all(inside(p) for p in paths if p)


def _close_fds_except(keep):
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _reap(signum, frame):
    """Collect ended sandboxes (their CPU time then counts in this process's children)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def template(cfg):
    """A clean process that forks sandboxes, so each one starts with numpy (and the chapter's
    modules) already imported instead of importing them again.

    It never runs learner code and imports only trusted module names whose files a sandbox
    could import too (inside the allow-list's folders; anything else is refused and the trusted
    side falls back to a fresh interpreter). Requests come over a private socket: ``preload``
    (import modules) and ``spawn`` (fork a sandbox with the given pipes and configuration).
    """
    import signal
    import socket
    control = socket.socket(fileno=int(cfg["control_fd"]))
    roots = cfg["roots"]
    signal.signal(signal.SIGCHLD, _reap)

    def reply(header):
        control.send(json.dumps(header).encode())

    _preload(BASE_MODULES)
    reply({"op": "ready", "outside": _outside(roots)})
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 22, 3)
        except OSError:
            break
        if not message:
            break
        request = json.loads(message)
        if request["op"] == "preload":
            done = {name: "not imported: outside the sandbox's file system" for name in
                    request["modules"] if not _importable_inside(name, roots)}
            done.update(_preload([name for name in request["modules"] if name not in done],
                                 request.get("hidden", ())))
            reply({"op": "preloaded", "modules": done, "outside": _outside(roots)})
            continue
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:  # fork only a single-threaded process
            for fd in fds:
                os.close(fd)
            reply({"op": "refused", "reason": "the template has %d threads" % threads})
            continue
        gc.freeze()  # the sandbox's garbage collector skips what the template imported
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 70
            try:
                _, libc = _libc()
                libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
                os.setsid()
                req_fd, resp_fd, out_fd = fds
                os.dup2(out_fd, 1)
                os.dup2(out_fd, 2)
                _close_fds_except({req_fd, resp_fd})
                session = dict(request["cfg"], req_fd=req_fd, resp_fd=resp_fd)
                run_sandbox(session)
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        reply({"op": "spawned", "pid": pid})
    os._exit(0)


def main():
    cfg = json.loads(os.environ.get("NNGRADER_CFG", "{}"))
    os.environ.pop("NNGRADER_CFG", None)
    if cfg.get("template"):
        template(cfg)
    else:
        run_sandbox(cfg)


if __name__ == "__main__":
    main()
