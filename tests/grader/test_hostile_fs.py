"""Hostile learners against the allow-list file system, graded as an instructor grades a class.

One learner's chapter 3 notebook turns three exercises into attacks:
* ``softmax`` walks the whole file system for ``*.ipynb``, and copies the reference solution from
  any readable copy of the course it finds (a decoy copy sits outside the checkout, and this
  machine may hold more, e.g. other clones);
* ``relu`` writes into every world-writable place it can think of (``/var/tmp``, ``/dev/shm``,
  ``/tmp``, its home, the output folder, the course);
* ``sigmoid_derivative`` looks for the ``--out`` folder, which the grader creates while grading.
Each reports what it saw in its exception message, which the public checks' feedback shows.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from corpus import CH03, load, set_body, strip_outputs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # one batch of two learners, one of whom walks the whole file system

WALK = '''
import os
import re


def softmax(z):
    found, copies = [], []
    for folder, subfolders, files in os.walk("/"):
        if folder == "/proc":
            subfolders[:] = []
        found += [os.path.join(folder, f) for f in files if f.endswith(".ipynb")]
    for path in found:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        match = re.search(r"def softmax\\(z\\):.*?### BEGIN SOLUTION\\\\n(.*?)### END SOLUTION",
                          text, re.S)
        if "### BEGIN SOLUTION" in text:
            copies.append(path)
        if match:
            body = "".join(line.strip().strip('",').encode().decode("unicode_escape")
                           for line in match.group(1).split("\\n"))
            namespace = {"np": np}
            exec("def stolen(z):\\n" + body, namespace)
            return namespace["stolen"](z)
    raise RuntimeError("course notebooks found: %r (and %d other notebooks, e.g. templates "
                       "in site-packages)" % (copies, len(found) - len(copies)))
'''

WRITE = '''
import os


def relu(z):
    outcome = {}
    for path in TARGETS:
        try:
            with open(path, "w") as f:
                f.write("left behind by a learner")
            outcome[path] = "written"
        except OSError as exc:
            outcome[path] = type(exc).__name__
    raise RuntimeError("writes: %r" % (outcome,))
'''

LOOK = '''
import os


def sigmoid_derivative(z):
    raise RuntimeError("out folder visible: %r, its parent visible: %r"
                       % (os.path.exists(OUT), os.path.exists(os.path.dirname(OUT))))
'''


@pytest.fixture(scope="module")
def attack(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the allow-list is tested where the grader runs as root")
    marker = f"nngrader-hostile-{uuid.uuid4().hex[:12]}"
    decoy = tmp_path_factory.mktemp("decoy-course")
    shutil.copytree(ROOT / "solutions", decoy / "solutions")     # a readable copy of the course
    out = tmp_path_factory.mktemp("grading") / "results"          # created by the grader itself
    targets = [f"/var/tmp/{marker}", f"/dev/shm/{marker}", f"/tmp/{marker}",
               f"{os.path.expanduser('~')}/{marker}", str(out / marker), str(ROOT / marker),
               str(decoy / marker)]
    nb = strip_outputs(load(CH03))
    nb = set_body(nb, "ch03.softmax", WALK)
    nb = set_body(nb, "ch03.relu", f"TARGETS = {targets!r}\n" + WRITE)
    nb = set_body(nb, "ch03.sigmoid_derivative", f"OUT = {str(out)!r}\n" + LOOK)
    learners = tmp_path_factory.mktemp("submissions")
    (learners / "mallory").mkdir()
    (learners / "mallory" / "ch03.ipynb").write_text(json.dumps(nb))
    (learners / "honest").mkdir()
    shutil.copy(CH03, learners / "honest" / "ch03.ipynb")
    cmd = [sys.executable, "-m", "grader", "grade", str(learners), "--out", str(out),
           "--workers", "2", "--timeout", "60", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "results.json").read_text())
    rows = {s["name"]: s for s in report["submissions"]}
    yield {"rows": rows, "targets": targets, "decoy": decoy, "out": out, "marker": marker,
           "report": report}
    for path in targets:
        if os.path.isfile(path):
            os.remove(path)


def _message(row, exercise):
    return " ".join(t["message"] for t in row["tests"] if t["exercise"] == exercise
                    and not t["hidden"])


def _learner_function(source: str, name: str, **names):
    namespace = {"np": __import__("numpy"), **names}
    exec(source, namespace)
    return namespace[name]


def test_the_walk_would_find_the_decoy_outside_the_sandbox(attack):
    """Control: the same learner code, run on this machine, does find and use the decoy."""
    import numpy as np

    walk_decoy = WALK.replace('os.walk("/")', f'os.walk({str(attack["decoy"])!r})')
    softmax = _learner_function(walk_decoy, "softmax")
    z = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum())


def test_a_filesystem_walk_finds_no_notebook(attack):
    mallory = attack["rows"]["mallory"]
    assert mallory["exercises"]["ch03.softmax"]["score"] == 0
    assert "course notebooks found: []" in _message(mallory, "ch03.softmax")


def test_writes_outside_the_private_tmp_fail_and_nothing_survives(attack):
    message = _message(attack["rows"]["mallory"], "ch03.relu")
    targets = attack["targets"]
    assert f"'/tmp/{attack['marker']}': 'written'" in message      # the sandbox's own /tmp
    for path in targets[:2] + targets[3:]:
        assert f"{path!r}: 'written'" not in message, message
    for path in targets:                                            # nothing on this machine
        assert not os.path.exists(path), path


def test_the_output_folder_is_invisible(attack):
    message = _message(attack["rows"]["mallory"], "ch03.sigmoid_derivative")
    assert "out folder visible: False, its parent visible: False" in message
    assert (attack["out"] / "results.json").exists()   # it did exist while learners were graded


def test_the_attacks_cost_only_their_own_exercises(attack):
    mallory, honest = attack["rows"]["mallory"], attack["rows"]["honest"]
    for exercise in ("ch03.sigmoid", "ch03.relu_derivative"):
        ex = mallory["exercises"][exercise]
        assert ex["score"] == ex["max_points"] > 0
    assert honest["score"] == honest["max_score"] > 0
    assert attack["report"]["protections"]["filesystem_isolated"] is True
