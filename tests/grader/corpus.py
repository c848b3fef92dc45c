"""A generated corpus of bad submissions, built from the reference solution notebooks.

Every item is one learner folder holding a chapter 3 and a chapter 6 notebook (under arbitrary
file names). Each item breaks one thing; ``EXPECT`` says which exercise must get which status and
message, and which exercise in the same notebook must still get full points.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CH03 = ROOT / "solutions" / "ch03_activations.ipynb"
CH06 = ROOT / "solutions" / "ch06_backprop.ipynb"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(nb: dict, exercise: str) -> dict:
    for c in nb["cells"]:
        if c.get("metadata", {}).get("grader", {}).get("exercise") == exercise and c["cell_type"] == "code" \
                and c["metadata"]["grader"].get("role") != "check":
            return c
    raise KeyError(exercise)


def set_body(nb: dict, exercise: str, func_source: str, top: str = "") -> dict:
    """Replace the graded cell of ``exercise`` by ``top`` + ``func_source``."""
    nb = copy.deepcopy(nb)
    _cell(nb, exercise)["source"] = (top + func_source).splitlines(True)
    return nb


def strip_outputs(nb):
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    return nb


SOFTMAX_OK = """def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
"""


def softmax_with(pre: str) -> str:
    """A correct softmax that first runs ``pre`` (indented into the body)."""
    body = "".join("    " + ln + "\n" for ln in pre.strip("\n").splitlines())
    return "def softmax(z):\n" + body + "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n" \
           "    return e / np.sum(e, axis=-1, keepdims=True)\n"


def build(dest: Path) -> dict[str, dict]:
    """Write the corpus under ``dest``; returns {item name: expectation}."""
    ch03, ch06 = strip_outputs(load(CH03)), strip_outputs(load(CH06))
    items: dict[str, tuple] = {}  # name -> (ch03 bytes or nb, ch06 nb, expectation)

    def add(name, nb03, expect, nb06=None):
        items[name] = (nb03, nb06 if nb06 is not None else ch06, expect)

    S, SM, R, RD, SD = "ch03.sigmoid", "ch03.softmax", "ch03.relu", "ch03.relu_derivative", "ch03.sigmoid_derivative"
    # ---- whole-file problems (the ch06 notebook of the same learner must still grade)
    good03 = json.dumps(ch03, indent=1).encode()
    add("invalid_json", b"{\"cells\": [ this is not json", {"unreadable": "not valid JSON", "control": "ch06.dense_backward",
                                                             "exercise": S, "status": {"missing"}})
    add("truncated", good03[: len(good03) // 2], {"unreadable": "truncated", "control": "ch06.mlp_backward",
                                                  "exercise": SM, "status": {"missing"}})
    add("empty", b"", {"unreadable": "empty", "control": "ch06.dense_backward", "exercise": R, "status": {"missing"}})
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": [
        {"cell_type": c["cell_type"] if c["cell_type"] == "code" else "markdown",
         ("input" if c["cell_type"] == "code" else "source"): "".join(c["source"]), "language": "python",
         "outputs": [], "metadata": {}} for c in ch03["cells"]]}]}
    add("nbformat3", v3, {"warning": "nbformat 3", "exercise": SM, "status": {"passed"}, "control": S})
    # ---- cell-level problems
    noids = copy.deepcopy(ch03)
    for c in noids["cells"]:
        c.pop("id", None)
        c["metadata"] = {}
    noids["nbformat_minor"] = 4
    add("missing_cell_ids", noids, {"exercise": SM, "status": {"passed"}, "control": S})
    dup = copy.deepcopy(ch03)
    i = dup["cells"].index(_cell(dup, SM))
    stub = copy.deepcopy(dup["cells"][i])
    stub["source"] = ["def softmax(z):\n", "    raise NotImplementedError\n"]
    dup["cells"].insert(i, stub)  # same id twice; the later (real) definition wins, as in Jupyter
    add("duplicated_cell_ids", dup, {"exercise": SM, "status": {"passed"}, "control": S, "warning": "duplicated cell id"})
    deleted = copy.deepcopy(ch03)
    deleted["cells"].remove(_cell(deleted, SM))
    add("deleted_graded_cell", deleted, {"exercise": SM, "status": {"missing"}, "message": "not found", "control": S})
    add("renamed_function", set_body(ch03, SM, SOFTMAX_OK.replace("def softmax", "def my_softmax")),
        {"exercise": SM, "status": {"missing"}, "message": "my_softmax", "control": S})
    add("wrong_signature", set_body(ch03, SM, SOFTMAX_OK.replace("softmax(z)", "softmax(z, axis)")),
        {"exercise": SM, "status": {"error"}, "message": "TypeError", "control": S})
    add("syntax_error", set_body(ch03, SM, "def softmax(z)\n    return z +\n"),
        {"exercise": SM, "status": {"syntax_error"}, "message": "syntax error", "control": S})
    add("exception", set_body(ch03, SM, "def softmax(z):\n    raise ValueError('boom')\n"),
        {"exercise": SM, "status": {"error"}, "message": "ValueError: boom", "control": S})
    add("infinite_loop", set_body(ch03, SM, "def softmax(z):\n    while True:\n        pass\n"),
        {"exercise": SM, "status": {"timeout"}, "control": S})
    add("loop_ignoring_sigint", set_body(ch03, SM, "def softmax(z):\n    import signal\n"
                                         "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                         "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    while True:\n        pass\n"),
        {"exercise": SM, "status": {"timeout"}, "control": S, "flag": "signal"})
    add("loop_inside_numpy", set_body(ch03, SM, "def softmax(z):\n    a = np.ones((2500, 2500)) + np.eye(2500)\n"
                                      "    for _ in range(100):\n        np.linalg.svd(a)\n    return z\n"),
        {"exercise": SM, "status": {"timeout"}, "control": S})
    add("toplevel_while_true", set_body(ch03, SM, SOFTMAX_OK, top="while True:\n    pass\n"),
        {"exercise": SM, "status": {"timeout"}, "message": "top-level", "control": S})
    add("sys_exit", set_body(ch03, SM, "import sys\ndef softmax(z):\n    sys.exit(3)\n"),
        {"exercise": SM, "status": {"error"}, "message": "SystemExit", "control": S})
    add("os_exit", set_body(ch03, SM, "import os\ndef softmax(z):\n    os._exit(0)\n"),
        {"exercise": SM, "status": {"crashed"}, "message": "exit code 0", "control": S, "flag": "os._exit"})
    add("segfault_ctypes", set_body(ch03, SM, "def softmax(z):\n    import ctypes\n    return ctypes.string_at(0)\n"),
        {"exercise": SM, "status": {"crashed"}, "message": "SIGSEGV", "control": S, "flag": "ctypes"})
    add("allocate_10gb", set_body(ch03, SM, "def softmax(z):\n    big = np.ones(10 * 2**30 // 8)\n    return big\n"),
        {"exercise": SM, "status": {"memory_limit"}, "message": "memory", "control": S})
    add("fork_bomb_bounded", set_body(ch03, SM, softmax_with("""
import os, time
made = 0
while made < 300:                # bounded: never more than 300 processes
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    made += 1
return np.full(z.shape, float(made))
""")), {"exercise": SM, "status": {"failed", "partial", "timeout", "crashed", "error"}, "control": S, "flag": "os.fork"})
    add("print_100mb", set_body(ch03, SM, softmax_with("""
import sys
chunk = "x" * (1 << 20)
for _ in range(100):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
""")), {"exercise": SM, "status": {"passed"}, "control": S, "truncated": True})
    add("calls_input", set_body(ch03, SM, "def softmax(z):\n    k = input('scale? ')\n    return z * float(k)\n"),
        {"exercise": SM, "status": {"error"}, "message": "input()", "control": S, "flag": "input"})
    add("reads_solutions", set_body(ch03, SM, "def softmax(z):\n    src = open(%r).read()\n    return src\n"
                                    % str(CH03)),
        {"exercise": SM, "status": {"error"}, "message": "FileNotFoundError", "control": S, "flag": "open"})
    add("patches_allclose", set_body(ch03, SM, "def softmax(z):\n    return z\n",
                                     top="np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"),
        {"exercise": SM, "status": {"failed"}, "message": "wrong at", "control": S, "flag": "patches np"})
    add("always_true_eq", set_body(ch03, SM, "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
                                   "    __array_priority__ = 1000\n\ndef softmax(z):\n    return AlwaysEqual()\n"),
        {"exercise": SM, "status": {"failed"}, "message": "AlwaysEqual", "control": S})
    add("calls_nnlib", set_body(ch03, SM, "def softmax(z):\n    from nnlib.activations import softmax as s\n    return s(z)\n"),
        {"exercise": SM, "status": {"error"}, "message": "nnlib", "control": S, "flag": "nnlib"})
    add("network_access", set_body(ch03, SM, "def softmax(z):\n    import socket\n"
                                   "    socket.create_connection(('127.0.0.1', 9), timeout=0.5)\n    return z\n"),
        {"exercise": SM, "status": {"error"}, "control": S, "flag": "socket"})
    # ---- wrong answers
    add("wrong_shape_column", set_body(ch03, SD, "def sigmoid_derivative(z):\n    s = sigmoid(z)\n"
                                       "    return (s * (1 - s)).reshape(-1, 1)\n"),
        {"exercise": SD, "status": {"failed"}, "message": "extra axis", "control": S})
    add("integer_dtype", set_body(ch03, RD, "def relu_derivative(z):\n    return (z > 0).astype(int)\n"),
        {"exercise": RD, "status": {"failed"}, "message": "dtype int64, expected float64", "control": S})
    add("nan_results", set_body(ch03, SM, "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)\n"),
        {"exercise": SM, "status": {"partial"}, "message": "NaN", "control": S, "min_points": 1})
    add("mutates_input", set_body(ch03, R, "def relu(z):\n    z[z < 0] = 0\n    return z\n"),
        {"exercise": R, "status": {"partial", "failed"}, "message": "modified its argument", "control": S})
    add("unseeded_randomness", set_body(ch03, SM, softmax_with("z = z + np.random.rand(*z.shape) * 1e-3")),
        {"exercise": SM, "status": {"failed"}, "message": "wrong at", "control": S})
    add("backprop_double_sigmoid", ch03, {"exercise": "ch06.mlp_backward", "status": {"partial"},
                                          "message": "dW1 wrong", "control": "ch06.dense_backward", "min_points": 2},
        nb06=set_body(ch06, "ch06.mlp_backward", re.sub(
            r"dZ1 = .*\n", "dZ1 = dA1 * sigmoid(A1) * (1.0 - sigmoid(A1))  # the seeds' bug\n",
            "".join(_cell(ch06, "ch06.mlp_backward")["source"]))))
    # ---- files no reader should choke on (each once stopped the whole batch)
    add("deeply_nested_json", b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        {"unreadable": "nested too deeply", "control": "ch06.dense_backward", "exercise": S,
         "status": {"missing"}})
    add("huge_integer", b'{"nbformat": 4, "cells": [], "x": ' + b"7" * 5000 + b"}",
        {"unreadable": "cannot be read", "control": "ch06.dense_backward", "exercise": S,
         "status": {"missing"}})
    odd = copy.deepcopy(ch03)
    for number, c in enumerate(odd["cells"]):
        c["id"] = number                                  # ids must be strings
        c["metadata"] = {"grader": {"exercise": ["x"], "role": {"a": 1}, "bonus": "yes"},
                         "nbgrader": {"grade_id": ["y"], "solution": "true"}}
    add("metadata_wrong_types", odd, {"exercise": SM, "status": {"passed"}, "control": S})
    add("surrogate_in_message", set_body(ch03, SM, "def softmax(z):\n    raise ValueError('\\ud800 bad')\n"),
        {"exercise": SM, "status": {"error"}, "message": "ValueError: \ufffd bad", "control": S})
    add("special_file", Path("/dev/zero"), {"unreadable": "not a regular file", "exercise": S,
                                             "status": {"missing"}, "control": "ch06.dense_backward"})
    # ---- the references and the untouched stubs
    add("reference", ch03, {"all_passed": True})
    add("stubs", load(ROOT / "exercises" / "ch03_activations.ipynb"), {"all_not_implemented": True},
        nb06=load(ROOT / "exercises" / "ch06_backprop.ipynb"))

    expectations = {}
    for k, (name, (nb03, nb06, expect)) in enumerate(items.items()):
        d = dest / name
        d.mkdir(parents=True)
        part_a = d / ("submission_%02d_part_a.ipynb" % k)   # file names say nothing
        if isinstance(nb03, Path):
            part_a.symlink_to(nb03)                          # e.g. a link to a device
        else:
            part_a.write_bytes(nb03 if isinstance(nb03, bytes) else json.dumps(nb03, indent=1).encode())
        (d / ("Untitled (%d).ipynb" % k)).write_bytes(json.dumps(nb06, indent=1).encode())
        expectations[name] = expect
    return expectations
