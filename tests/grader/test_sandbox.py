"""The sandbox on its own: protections, plain-data wire format, restarts."""
import os

import numpy as np
import pytest

from grader import _child
from grader.sandbox import SandboxConfig, SandboxError, Session, default_hidden_paths

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
"""


@pytest.fixture(scope="module")
def session():
    s = Session(SandboxConfig(hide=default_hidden_paths(), call_timeout=2))
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
                                   np.arange(5, dtype=np.int8)[::2]])
def test_wire_format_keeps_shape_dtype_and_values(array):
    blobs = []
    back = _child.decode(_child.encode(array, blobs), blobs)
    assert back.shape == array.shape and back.dtype == array.dtype    # a 0-d array stays 0-d
    np.testing.assert_array_equal(back, array)


def test_plain_data_roundtrip(session):
    ok, val, args_after, _ = session.call("echo", (np.eye(2),), {})
    assert ok and isinstance(val, np.ndarray) and val.shape == (2, 2)


def test_objects_come_back_as_type_names_only(session):
    ok, val, _, _ = session.call("obj", (), {})
    assert ok and isinstance(val, _child.Unsupported) and val.type_name == "object"


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop and namespaces are tested where the grader runs as root")
def test_protections_as_root(session):
    rep = session.report
    assert rep["network"].startswith("isolated")
    assert rep["pid_namespace"] is True
    assert "dropped root" in rep["user"]
    ok, uid, _, _ = session.call("whoami", (), {})
    assert ok and uid != 0
    from grader.paths import course_root
    root = str(course_root())
    ok, listing, _, _ = session.call("ls", (root,), {})
    assert ok and "solutions" not in listing and "tests" not in listing


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
