"""Where Linux namespaces or the ``resource`` module are missing (macOS, Windows' WSL1, locked-down
containers), the self-check and a learner grading their own notebook still work and say once what
is missing; grading other people's code refuses unless weaker protection is accepted.

The absences are simulated with a stand-in interpreter for the sandbox: it runs the real child
code after making ``unshare(2)`` fail with EPERM (as a container without CAP_SYS_ADMIN does) and/or
hiding the ``resource`` module (as on Windows).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.sandbox import SandboxConfig, Session

ROOT = Path(__file__).resolve().parents[2]
NB03 = ROOT / "solutions" / "ch03_activations.ipynb"

SIMULATION = r'''
import sys
modes = sys.argv.pop(1).split(",")
if "no-resource" in modes:
    sys.modules["resource"] = None          # "import resource" raises ImportError
if "no-namespaces" in modes:
    import ctypes
    import errno

    class _LibcWithoutNamespaces:
        """The C library, except that unshare(2) is refused as in an unprivileged container."""

        def __init__(self, real):
            self._real = real

        def unshare(self, flags):
            ctypes.set_errno(errno.EPERM)
            return -1

        def __getattr__(self, name):
            return getattr(self._real, name)

    _real_cdll = ctypes.CDLL
    ctypes.CDLL = lambda *a, **k: _LibcWithoutNamespaces(_real_cdll(*a, **k))
source = sys.argv[sys.argv.index("-c") + 1]
sys.argv = ["-c"]
exec(compile(source, "<sandbox child>", "exec"), {"__name__": "__main__"})
'''


def simulated_python(folder: Path, modes: str) -> str:
    """An executable that behaves like this interpreter without what ``modes`` names."""
    script = folder / "simulation.py"
    script.write_text(SIMULATION)
    launcher = folder / f"python-{modes.replace(',', '-')}"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I "{script}" "{modes}" "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


MODES = ["no-namespaces", "no-resource", "no-namespaces,no-resource"]


@pytest.mark.parametrize("modes", MODES)
def test_the_sandbox_runs_with_what_the_system_allows(tmp_path, modes):
    config = SandboxConfig(python=simulated_python(tmp_path, modes), call_timeout=5)
    with Session(config) as session:
        report = session.start()
        header = session.load([("exercise", "def add(a, b):\n    return a + b\n")])
        assert header["ok"], header
        assert session.call("add", (2, 3), {})[1] == 5
    if "no-namespaces" in modes:
        assert report["filesystem_isolated"] is False
        assert "unshare failed" in report["namespaces"] and "not isolated" in report["network"]
    else:
        assert report["filesystem_isolated"] is True
    if "no-resource" in modes:
        assert "no resource module" in report["limits"]
    else:
        assert report["limits"]["RLIMIT_AS"] == config.memory_mb * 2**20


@pytest.fixture
def simulated_interpreter(tmp_path, monkeypatch):
    """Make every sandbox started by the command line use the simulated interpreter."""
    def use(modes):
        monkeypatch.setattr(sys, "executable", simulated_python(tmp_path, modes))
    return use


@pytest.mark.parametrize("modes", MODES)
def test_learner_grades_own_notebook_with_one_notice(tmp_path, simulated_interpreter, capsys,
                                                     modes):
    notebook = tmp_path / "my work.ipynb"
    shutil.copy(NB03, notebook)
    simulated_interpreter(modes)
    assert cli.main([str(notebook), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "17 / 17" in out                               # every check ran and passed
    assert err.count("note: this system allows only part of the sandbox") == 1
    assert ("file system not isolated" in err) == ("no-namespaces" in modes)
    assert ("no resource module" in err) == ("no-resource" in modes)


def test_learner_on_a_full_sandbox_gets_no_notice(tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("full isolation is checked where the grader runs as root")
    notebook = tmp_path / "mine.ipynb"
    shutil.copy(NB03, notebook)
    assert cli.main([str(notebook), "--quiet"]) == 0
    assert "note:" not in capsys.readouterr().err


@pytest.fixture
def learners(tmp_path):
    """A class of one: submissions/alice/ch03.ipynb."""
    folder = tmp_path / "submissions"
    (folder / "alice").mkdir(parents=True)
    shutil.copy(NB03, folder / "alice" / "ch03.ipynb")
    return folder


def test_grading_other_people_refuses_without_isolation(tmp_path, learners, simulated_interpreter,
                                                        capsys):
    simulated_interpreter("no-namespaces")
    out = tmp_path / "out"
    assert cli.main(["grade", str(learners), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot isolate the file system" in err and "--accept-weaker-sandbox" in err
    assert not out.exists()                             # nothing was graded


def test_accepted_weaker_protection_is_recorded(tmp_path, learners, simulated_interpreter):
    simulated_interpreter("no-namespaces")
    out = tmp_path / "out"
    assert cli.main(["grade", str(learners), "--out", str(out), "--quiet",
                     "--accept-weaker-sandbox"]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["protections"]["weaker_protection_accepted"] is True
    assert report["protections"]["filesystem_isolated"] is False
    assert report["submissions"][0]["score"] == report["submissions"][0]["max_score"] > 0


SELF_CHECK = r'''
import sys
sys.modules["resource"] = None
import ctypes
ctypes.CDLL = None                       # no C library calls: no namespaces of any kind
import numpy as np
from grader.selfcheck import check

def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

check("ch03.softmax", softmax)
'''


def test_self_check_works_without_namespaces_or_resource():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", SELF_CHECK], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 of 2 public checks passed" in proc.stdout
