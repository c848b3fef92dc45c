"""The sandbox on its own: plain-data wire format, restarts, limits, and the allow-list file
system (only the Python installation, a minimal /dev, its own /proc and a private /tmp)."""
import errno
import os
import sys

import types
from pathlib import Path

import numpy as np
import pytest

from grader import _child
from grader.sandbox import Mount, Policy, SandboxConfig, SandboxError, Session, build_policy
from grader.sandbox import policy as policy_module

ROOT = Path(__file__).resolve().parents[2]
root_only = pytest.mark.skipif(os.geteuid() != 0,
                               reason="the allow-list is tested where the grader runs as root")

CODE = """
import os
def echo(x):
    return x
def ls(path):
    return sorted(os.listdir(path))
def whoami():
    return os.getuid()
def crash():
    os._exit(5)
def obj():
    return object()
def exists(path):
    return os.path.exists(path)
def write(path, n_bytes=1):
    try:
        with open(path, "wb") as f:
            f.write(b"x" * n_bytes)
        return "written"
    except OSError as exc:
        return errno_name(exc.errno)
def errno_name(number):
    import errno
    return errno.errorcode.get(number, str(number))
def fill_tmp(chunk_mb):
    # files of chunk_mb MiB each (below the per-file limit) until the file system says no
    for i in range(100):
        try:
            with open("/tmp/fill%d" % i, "wb") as f:
                f.write(b"x" * (chunk_mb << 20))
        except OSError as exc:
            return [i, errno_name(exc.errno)]
    return [100, "no error"]
def imports(names):
    import importlib
    for name in names:
        importlib.import_module(name)
    return True
def processes():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
"""


@pytest.fixture(scope="module")
def session():
    s = Session(SandboxConfig(call_timeout=5))
    s.start()
    s.load([("exercise", CODE)])
    yield s
    s.kill()


def test_wire_format_roundtrip_without_pickle():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": (1, 2.5, "x", None, True), "c": np.float32(1.5)}
    blobs = []
    tree = _child.encode(value, blobs)
    back = _child.decode(tree, blobs)
    assert back["b"] == (1, 2.5, "x", None, True) and type(back["c"]) is np.float32
    np.testing.assert_array_equal(back["a"], value["a"])
    assert isinstance(_child.decode(_child.encode(object(), []), []), _child.Unsupported)
    assert _child.encode(np.array([object()]), [])["t"] == "unsupported"


@pytest.mark.parametrize("array", [np.array(2.5), np.zeros((0, 3)), np.arange(12.0).reshape(3, 4).T,
                                   np.arange(5, dtype=np.int8)[::2], np.arange(3, dtype=">i4"),
                                   np.array(["ab", "c"]), np.array([True, False])])
def test_wire_format_keeps_shape_dtype_and_values(array):
    blobs = []
    back = _child.decode(_child.encode(array, blobs), blobs)
    assert back.shape == array.shape and back.dtype == array.dtype    # a 0-d array stays 0-d
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("tree", [
    {"dtype": "O", "shape": [1]},                 # objects
    {"dtype": "(1,)f8", "shape": [1]},            # a sub-array dtype
    {"dtype": "i4,i4", "shape": [1]},             # fields
    {"dtype": "no such dtype", "shape": [1]},
    {"dtype": "<f8", "shape": [10 ** 12]},        # more elements than bytes sent
    {"dtype": "<f8", "shape": [-1]},
    {"dtype": "<f8", "shape": "1"},
    {"dtype": "<f8"},
    {"dtype": "<U0", "shape": [0]},
])
def test_wire_format_rejects_arrays_it_did_not_write(tree):
    with pytest.raises(ValueError):
        _child.decode({"t": "ndarray", "i": 0, **tree}, [bytes(8)])


def test_plain_data_roundtrip(session):
    ok, val, args_after, _ = session.call("echo", (np.eye(2),), {})
    assert ok and isinstance(val, np.ndarray) and val.shape == (2, 2)


def test_objects_come_back_as_type_names_only(session):
    ok, val, _, _ = session.call("obj", (), {})
    assert ok and isinstance(val, _child.Unsupported) and val.type_name == "object"


@root_only
def test_protections_as_root(session):
    rep = session.report
    assert rep["network"].startswith("isolated")
    assert rep["pid_namespace"] is True
    assert "dropped root" in rep["user"]
    ok, uid, _, _ = session.call("whoami", (), {})
    assert ok and uid != 0



def _first_component(path):
    return os.path.realpath(path).split("/")[1]


@root_only
def test_root_holds_only_the_allow_list(session):
    assert session.report["filesystem_isolated"] is True, session.report
    ok, listing, _, _ = session.call("ls", ("/",), {})
    assert ok
    # by hand: the Python installation (venv and base interpreter), the folder of the C library,
    # /dev, /proc and /tmp; nothing else
    with open("/proc/self/maps") as maps:
        libc = next(line.split()[-1] for line in maps if "/libc.so" in line)
    expected = {"dev", "proc", "tmp", _first_component(sys.prefix),
                _first_component(sys.base_prefix), _first_component(libc)}
    assert set(listing) == expected
    assert set(listing) == build_policy(SandboxConfig()).top_level()


@root_only
@pytest.mark.parametrize("path", ["/etc/passwd", "/var/tmp", "/dev/shm", "/home", "/sys",
                                  str(ROOT / "solutions"), str(ROOT / "nnlib"), __file__])
def test_host_paths_are_absent(session, path):
    assert os.path.exists(path)                      # on the host ...
    assert session.call("exists", (path,), {})[1] is False   # ... but not in the sandbox


@root_only
def test_writes_outside_tmp_fail_and_tmp_is_private(session):
    site = next(p for p in sys.path if p.endswith("site-packages"))
    assert session.call("write", ("/tmp/ok.txt",), {})[1] == "written"
    assert session.call("write", ("/x.txt",), {})[1] == "EROFS"
    assert session.call("write", (os.path.join(site, "x.txt"),), {})[1] == "EROFS"
    assert session.call("write", ("/dev/shm/x",), {})[1] == "ENOENT"
    assert session.call("write", ("/var/tmp/x",), {})[1] == "ENOENT"
    assert not os.path.exists("/tmp/ok.txt")          # the sandbox's /tmp is not the host's


@root_only
def test_full_tmp_raises_enospc():
    with Session(SandboxConfig(call_timeout=10, tmp_mb=8, fsize_mb=4)) as s:
        s.start()
        s.load([("exercise", CODE)])
        ok, (n_files, error), _, _ = s.call("fill_tmp", (3,), {})
    assert ok and error == "ENOSPC" and n_files == 2   # 8 MiB in total: the third 3 MiB file fails


def _mount_points_in_tmp(config) -> list[str]:
    """What the private /tmp holds before learner code writes: the folders leading to mounts
    below /tmp (the Python installation when it lives there, as in a CI clone under /tmp)."""
    return sorted({Path(m.destination).relative_to("/tmp").parts[0]
                   for m in build_policy(config).mounts if m.destination.startswith("/tmp/")})


@root_only
def test_nothing_written_survives_the_sandbox():
    config = SandboxConfig(call_timeout=5)
    empty = _mount_points_in_tmp(config)
    with Session(config) as s:
        s.start()
        s.load([("exercise", CODE)])
        assert s.call("write", ("/tmp/left-behind",), {})[1] == "written"
        assert s.call("ls", ("/tmp",), {})[1] == sorted(["left-behind", *empty])
    with Session(config) as s:
        s.start()
        s.load([("exercise", CODE)])
        assert s.call("ls", ("/tmp",), {})[1] == empty


@root_only
def test_standard_library_and_numpy_work_inside(session):
    names = ["sqlite3", "hashlib", "ssl", "lzma", "bz2", "zlib", "uuid", "decimal", "ctypes",
             "json", "csv", "numpy.fft", "numpy.polynomial"]
    ok, value, _, _ = session.call("imports", (names,), {})
    assert ok, value


@root_only
def test_proc_shows_only_the_sandbox(session):
    ok, pids, _, _ = session.call("processes", (), {})
    assert ok and pids[0] == 1 and len(pids) <= 3, pids   # server (pid 1), worker, nothing else


@root_only
def test_mask_hides_a_course_package_inside_a_bound_folder(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "nnlib").mkdir(parents=True)
    (site / "nnlib" / "__init__.py").write_text("SECRET = 1\n")
    (site / "other.py").write_text("VALUE = 2\n")
    base = build_policy(SandboxConfig())
    extra = (Mount(str(site), str(site)), Mount(str(site / "nnlib"), kind="mask"))
    monkeypatch.setattr("grader.sandbox.session.build_policy",
                        lambda config: Policy(base.mounts + extra, base.limits))
    with Session(SandboxConfig(call_timeout=5)) as s:
        s.start()
        s.load([("exercise", CODE)])
        assert s.call("ls", (str(site),), {})[1] == ["nnlib", "other.py"]
        assert s.call("ls", (str(site / "nnlib"),), {})[1] == []


def test_course_packages_inside_the_installation_are_masked(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "nnlib").mkdir(parents=True)
    spec = types.SimpleNamespace(submodule_search_locations=[str(site / "nnlib")])
    monkeypatch.setattr(policy_module.importlib.util, "find_spec",
                        lambda name: spec if name == "nnlib" else None)
    assert policy_module.course_package_folders([(str(site), str(site))]) == [str(site / "nnlib")]
    assert policy_module.course_package_folders([(str(tmp_path / "x"), str(tmp_path / "x"))]) == []


def test_the_scripts_folder_is_not_mounted_however_the_grader_started(monkeypatch):
    """A console script (``dask worker``) puts its own folder, ``bin``, first on sys.path; the
    allow-list is the same as for ``python -m grader``."""
    scripts = os.path.dirname(os.path.abspath(sys.executable))
    plain = policy_module.python_folders()
    monkeypatch.setattr(sys, "path", [scripts, *sys.path])
    assert policy_module.python_folders() == plain
    assert all(os.path.realpath(real) != os.path.realpath(scripts) for _, real in plain)


@pytest.mark.parametrize("bad", [dict(destination="tmp"), dict(destination="/a/../b"),
                                 dict(destination="/"), dict(destination="/x", kind="bind"),
                                 dict(destination="/x", kind="overlay")])
def test_mount_records_are_validated(bad):
    with pytest.raises(ValueError):
        Mount(**bad)


def test_elf_dependencies_of_the_interpreter_extension_modules():
    import _ctypes
    needed, _ = policy_module.elf_dependencies(_ctypes.__file__)
    assert "libffi.so.8" in needed or any(n.startswith("libffi.so") for n in needed)
    assert policy_module.elf_dependencies(__file__) == ([], [])   # not an ELF file


def test_limits_are_applied(session):
    lim = session.report["limits"]
    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE"):
        assert isinstance(lim[name], int), lim


def test_crash_then_fresh_worker(session):
    with pytest.raises(SandboxError) as e:
        session.call("crash", (), {})
    assert e.value.kind == "crashed" and "exit code 5" in e.value.message
    session.load([("exercise", CODE)])
    ok, val, _, _ = session.call("echo", (3,), {})
    assert ok and val == 3
