"""The sandbox's file system as data: an allow-list of mounts, built on the trusted side.

Learner code runs with a root file system that holds only what the mounts below name (model:
bubblewrap's "new, completely empty, mount namespace where the root is on a tmpfs", and nsjail's
mount points described as data, read-only by default). :func:`build_policy` derives the list
from the Python installation this process runs on; the child (``grader/_child.py``) applies it
with ``apply_policy``: a tmpfs as the new root, read-only ``nosuid``/``nodev`` bind mounts,
``pivot_root``, and the working directory ``/tmp``.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import struct
import sys
import sysconfig
from dataclasses import asdict, dataclass, field

#: What a mount makes visible. ``bind``: a host file or folder, read-only unless ``writable``;
#: ``dev``: a host device node (``/dev/null``...), usable but not executable; ``tmpfs``: an empty
#: memory file system (``size_mb`` bounds its total size); ``proc``: the sandbox's own ``/proc``;
#: ``symlink``: a symbolic link to ``source``; ``mask``: an empty read-only folder laid over a
#: folder of a bind mount (hides the course's own packages if they sit in site-packages);
#: ``copy``: a private copy of a trusted host folder, made inside a writable tmpfs before any
#: learner code runs (the host folder itself is never visible).
MOUNT_KINDS = ("bind", "dev", "tmpfs", "proc", "symlink", "mask", "copy")

#: Device nodes of the minimal /dev (as bubblewrap's ``--dev``, without a tty, /dev/shm or pts).
DEV_NODES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}

#: Libraries a binary wheel may take from the system instead of bundling them (PEP 600's
#: manylinux policy, plus libz); extension modules in site-packages load them lazily.
WHEEL_SYSTEM_LIBRARIES = ("libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1",
                          "libpthread.so.0", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1")

#: Standard-library extension modules whose libraries are left out: a GUI has no use in the
#: sandbox (Tk alone would bring a dozen X11 libraries).
SKIPPED_EXTENSIONS = ("_tkinter",)

#: The course's own packages: never visible to learner code, even from site-packages.
COURSE_PACKAGES = ("grader", "nnlib")


@dataclass(frozen=True)
class Mount:
    """One entry of the allow-list: what appears at ``destination`` inside the sandbox."""

    destination: str
    source: str | None = None
    kind: str = "bind"
    writable: bool = False
    size_mb: int | None = None

    def __post_init__(self):
        if self.kind not in MOUNT_KINDS:
            raise ValueError(f"mount kind {self.kind!r} is not one of {', '.join(MOUNT_KINDS)}")
        if not os.path.isabs(self.destination) or os.path.normpath(self.destination) != \
                self.destination or self.destination == "/":
            raise ValueError(f"mount destination {self.destination!r} must be a normalised "
                             "absolute path below /")
        if self.kind in ("bind", "dev", "symlink", "copy") and not self.source:
            raise ValueError(f"a {self.kind} mount at {self.destination} needs a source")

    def describe(self) -> str:
        """One line for ``python -m grader protections``."""
        mode = "read-write" if self.writable else "read-only"
        if self.kind == "bind":
            origin = "" if self.source == self.destination else f" (from {self.source})"
            return f"{self.destination}{origin}, {mode}"
        if self.kind == "tmpfs":
            return f"{self.destination}: private empty tmpfs of {self.size_mb} MiB in total, {mode}"
        if self.kind == "proc":
            return f"{self.destination}: the sandbox's own proc (its processes only)"
        if self.kind == "dev":
            return f"{self.destination}: device node"
        if self.kind == "symlink":
            return f"{self.destination} -> {self.source}"
        if self.kind == "copy":
            return (f"{self.destination}: private copy of {self.source} (made by the grader "
                    "from the reference solution), read-write, gone with the sandbox")
        return f"{self.destination}: hidden (empty read-only folder)"


@dataclass(frozen=True)
class Policy:
    """The sandbox's whole file system (``mounts``) and its resource limits.

    Everything else is absent: the root is an empty tmpfs, made read-only once the mounts are in
    place, so nothing but ``/tmp`` can be written and nothing written survives the sandbox.
    """

    mounts: tuple[Mount, ...]
    limits: dict = field(default_factory=dict)
    workdir: str = "/tmp"

    def to_data(self) -> dict:
        """Plain JSON-able data for the child."""
        return {"mounts": [asdict(m) for m in self.mounts], "limits": dict(self.limits),
                "workdir": self.workdir}

    def top_level(self) -> set[str]:
        """The names ``os.listdir("/")`` shows inside the sandbox."""
        return {m.destination.split("/")[1] for m in self.mounts}

    def describe(self) -> list[str]:
        """One line per mount, sorted by destination."""
        return [m.describe() for m in sorted(self.mounts, key=lambda m: m.destination)]


# --------------------------------------------------------------------------- the installation
def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def python_folders() -> list[tuple[str, str]]:
    """[(path as Python sees it, real path)] of the import path inside this installation.

    The entries of ``sys.path`` that lie inside ``sys.prefix`` or ``sys.base_prefix`` (standard
    library, ``lib-dynload``, site-packages); folders outside them, such as the course checkout
    of an editable install or the current directory, are left out, and so is the scripts folder
    (``bin``), which is on ``sys.path`` only when a console script such as ``dask worker``
    started the process: the policy is the same however the grader was started.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                              sys.base_exec_prefix)}
    prefixes |= {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix)}
    scripts = {os.path.realpath(sysconfig.get_paths()["scripts"]),
               os.path.realpath(os.path.dirname(os.path.abspath(sys.executable)))}
    candidates = [*sys.path, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                  sysconfig.get_paths()["platlib"]]
    out: dict[str, str] = {}
    for entry in candidates:
        if not entry or not os.path.isdir(entry):
            continue
        seen_as, real = os.path.abspath(entry), os.path.realpath(entry)
        if real in scripts:
            continue
        if any(_inside(seen_as, p) or _inside(real, p) for p in prefixes):
            out.setdefault(seen_as, real)
    return _outermost(out)


def _outermost(paths: dict[str, str]) -> list[tuple[str, str]]:
    """Drop entries that lie inside another entry (the outer bind already shows them)."""
    kept: list[tuple[str, str]] = []
    for seen_as in sorted(paths, key=len):
        if not any(_inside(seen_as, outer) and paths[seen_as] == paths[outer] + seen_as[len(outer):]
                   for outer, _ in kept):
            kept.append((seen_as, paths[seen_as]))
    return sorted(kept)


def course_package_folders(folders: list[tuple[str, str]]) -> list[str]:
    """Folders of the course's own packages that a bind mount in ``folders`` would show."""
    hidden = []
    for name in COURSE_PACKAGES:
        spec = importlib.util.find_spec(name)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            real = os.path.realpath(location)
            for seen_as, folder_real in folders:
                if _inside(real, folder_real):
                    hidden.append(seen_as + real[len(folder_real):])
    return sorted(set(hidden))


# --------------------------------------------------------------------------- shared libraries
DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_STRTAB = 1, 15, 29, 5


def elf_dependencies(path: str) -> tuple[list[str], list[str]]:
    """(DT_NEEDED names, DT_RUNPATH/DT_RPATH folders) of a 64-bit little-endian ELF file.

    Returns ([], []) for anything else (other formats are not loaded by this interpreter).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return [], []
            (phoff,) = struct.unpack_from("<Q", head, 32)
            phentsize, phnum = struct.unpack_from("<HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            loads, dynamic = [], None
            for i in range(phnum):
                p_type, _, offset, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", table,
                                                                        i * phentsize)
                if p_type == 1:
                    loads.append((vaddr, offset, filesz))
                elif p_type == 2:
                    dynamic = (offset, filesz)
            if dynamic is None:
                return [], []
            f.seek(dynamic[0])
            raw = f.read(dynamic[1])
            entries = [struct.unpack_from("<qQ", raw, i) for i in range(0, len(raw) - 15, 16)]
            strtab = next((v for t, v in entries if t == DT_STRTAB), None)
            base = next((o + strtab - v for v, o, s in loads if strtab is not None
                         and v <= strtab < v + s), None)
            if base is None:
                return [], []

            def string(offset):
                f.seek(base + offset)
                data = f.read(4096)
                return data[:data.find(b"\0")].decode("utf-8", "replace")

            needed, search = [], []
            for tag, value in entries:
                if tag == 0:
                    break
                if tag == DT_NEEDED:
                    needed.append(string(value))
                elif tag in (DT_RPATH, DT_RUNPATH):
                    origin = os.path.dirname(os.path.realpath(path))
                    search += [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
                               for p in string(value).split(":") if p]
            return needed, search
    except (OSError, struct.error, ValueError):
        return [], []


def _system_library_folders() -> list[str]:
    """Where the dynamic loader looks (the folder of the C library first)."""
    folders = []
    libc = _mapped_file("libc.so.6")
    if libc:
        folders.append(os.path.dirname(libc))
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    for base in ("/lib", "/usr/lib", "/lib64", "/usr/lib64"):
        folders += [f"{base}/{arch}" if arch else base, base]
    out = []
    for folder in folders:
        real = os.path.realpath(folder)
        if os.path.isdir(real) and real not in out:
            out.append(real)
    return out


def _mapped_file(name: str) -> str | None:
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip("\n").split(None, 5)[-1]
                if os.path.basename(path) == name or os.path.basename(path).startswith(name + "."):
                    return os.path.realpath(path)
    except OSError:
        pass
    return None


@functools.lru_cache(maxsize=1)
def shared_libraries() -> tuple[tuple[str, str], ...]:
    """((path the loader looks up, real file), ...) of the system libraries Python may load.

    The dependencies (DT_NEEDED, transitively) of the interpreter, of the standard library's
    extension modules (except ``SKIPPED_EXTENSIONS``), and of the system libraries binary wheels
    are allowed to use, resolved
    the way the loader does (RUNPATH, then the system folders). Libraries inside the Python
    installation are left out: the installation's folders are mounted whole.
    """
    folders = _system_library_folders()
    dynload = sysconfig.get_config_var("DESTSHARED") or ""
    todo = [os.path.realpath(sys.executable)]
    if os.path.isdir(dynload):
        todo += [os.path.join(dynload, n) for n in sorted(os.listdir(dynload))
                 if ".so" in n and n.split(".")[0] not in SKIPPED_EXTENSIONS]
    todo += list(WHEEL_SYSTEM_LIBRARIES)
    found: dict[str, str] = {}
    seen: set[str] = set()
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        if os.path.isabs(item):
            path = item
        else:
            path = next((os.path.join(d, item) for d in folders
                         if os.path.exists(os.path.join(d, item))), None)
            if path is None:
                continue
            found[path] = os.path.realpath(path)
        needed, search = elf_dependencies(path)
        for name in needed:
            local = next((os.path.join(d, name) for d in search
                          if os.path.exists(os.path.join(d, name))), None)
            todo.append(local if local else name)
    return tuple(sorted(found.items()))


# --------------------------------------------------------------------------- the policy
def build_policy(config) -> Policy:
    """The allow-list and limits for ``config`` (a :class:`~grader.sandbox.SandboxConfig`) on
    the Python installation this process runs on.

    Read-only: the interpreter, its import path inside the installation (standard library,
    ``lib-dynload``, site-packages) and the system libraries these may load; a minimal ``/dev``;
    the sandbox's own ``/proc``; a private writable ``/tmp`` of ``config.tmp_mb`` MiB in total.
    """
    folders = python_folders()
    mounts = [Mount(seen_as, real) for seen_as, real in folders]
    mounts += [Mount(hidden, kind="mask") for hidden in course_package_folders(folders)]
    executable = os.path.realpath(sys.executable)
    if not any(_inside(executable, real) for _, real in folders):
        mounts.append(Mount(executable, executable))
    mounts += [Mount(seen_as, real) for seen_as, real in shared_libraries()
               if not any(_inside(real, r) for _, r in folders)]
    mounts += [Mount(f"/dev/{n}", f"/dev/{n}", kind="dev", writable=True) for n in DEV_NODES
               if os.path.exists(f"/dev/{n}")]
    mounts += [Mount(f"/dev/{n}", target, kind="symlink") for n, target in DEV_LINKS.items()]
    mounts += [Mount("/proc", kind="proc"),
               Mount("/tmp", kind="tmpfs", writable=True, size_mb=int(config.tmp_mb))]
    if config.warm_folder and config.warm_source:
        mounts.append(warm_mount(config))
    unique = {m.destination: m for m in mounts}
    return Policy(tuple(sorted(unique.values(), key=_mount_order)), resource_limits(config))


def warm_mount(config) -> Mount:
    """The warm folder of the private /tmp: a private copy of the trusted host folder, or,
    for the trusted run that fills it from the reference solution only, the folder itself."""
    name = config.warm_folder
    if "/" in name or name in (".", "..") or not name.isprintable():
        raise ValueError(f"warm folder {name!r} must be a plain folder name inside /tmp")
    if config.warm_fill:
        return Mount(f"/tmp/{name}", config.warm_source, writable=True)
    return Mount(f"/tmp/{name}", config.warm_source, kind="copy")


def resource_limits(config) -> dict:
    """Resource limits (``resource.RLIMIT_*`` name -> value) for ``config``."""
    return {"RLIMIT_AS": config.memory_mb * 2**20, "RLIMIT_CPU": config.cpu_seconds,
            "RLIMIT_NPROC": config.nproc, "RLIMIT_FSIZE": config.fsize_mb * 2**20,
            "RLIMIT_NOFILE": config.nofile, "RLIMIT_CORE": 0}


def _mount_order(m: Mount):
    """Parents before children; masks after the bind mounts they cover."""
    return (m.kind == "mask", m.destination.count("/"), m.destination)


