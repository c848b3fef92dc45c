"""scripts/setup.py (the set-up without bash) and scripts/setup-env (its bash front end).

Interpreters of other versions are simulated: a "fake" Python is a shell script that runs this
interpreter with a sitecustomize module that changes ``sys.version_info`` before the script runs.
The learner install itself runs for real, into a temporary folder (slow: it installs ~1 GB).
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from requirement_pins import ROOT, SUPPORTED_PYTHONS, load_setup_script

SETUP = ROOT / "scripts" / "setup.py"
SETUP_ENV = ROOT / "scripts" / "setup-env"
setup = load_setup_script()
SUPPORTED_TEXT = f"{SUPPORTED_PYTHONS[0]} to {SUPPORTED_PYTHONS[-1]}"


def fake_python(folder: Path, name: str, version: tuple[int, int, int]) -> Path:
    """An executable ``folder/name`` that behaves as Python ``version`` to the scripts."""
    site = folder / f"site-{name}"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import collections, sys\n"
        "Version = collections.namedtuple('Version', 'major minor micro releaselevel serial')\n"
        f"sys.version_info = Version({version[0]}, {version[1]}, {version[2]}, 'final', 0)\n")
    executable = folder / name
    executable.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    executable.chmod(0o755)
    return executable


def broken_python(folder: Path, name: str) -> Path:
    """An executable that fails the way a pyenv shim for an inactive version does."""
    executable = folder / name
    executable.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n")
    executable.chmod(0o755)
    return executable


def test_setup_script_parses_as_python_3_6():
    """An old interpreter must be able to read the script to say it is too old."""
    ast.parse(SETUP.read_text(), feature_version=(3, 6))


@pytest.mark.parametrize("version, problem", [
    ((3, 10, 12), "is too old"),
    ((3, 15, 0), "is not supported yet: some pinned packages have no wheels for it")])
def test_unsupported_python_is_refused_with_the_supported_versions(tmp_path, version, problem):
    python = fake_python(tmp_path, "python3", version)
    venv = tmp_path / "venv"
    proc = subprocess.run([str(python), str(SETUP), "--learner", "--venv", str(venv)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    message = proc.stderr
    assert message.startswith("setup: error: Python %d.%d.%d (" % version)
    assert f") {problem}." in message
    assert f"CPython {SUPPORTED_TEXT}" in message
    assert "scripts/setup.py --learner" in message and "py -3.13 scripts\\setup.py" in message
    assert "PYTHON=/path/to/python3.13" in message
    assert not venv.exists()


def test_supported_python_passes_the_check(tmp_path):
    python = fake_python(tmp_path, "python3", (3, 14, 2))
    proc = subprocess.run([str(python), str(SETUP), "--check-python"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Python 3.14.2 (")


def test_other_interpreters_and_builds_are_refused():
    supported = tuple(int(part) for part in SUPPORTED_PYTHONS[0].split(".")) + (4,)
    assert setup.python_support_error(supported, "cpython", False, "/usr/bin/python3") is None
    pypy = setup.python_support_error(supported, "pypy", False, "/usr/bin/pypy3")
    assert pypy.startswith(f"pypy {SUPPORTED_PYTHONS[0]}.4 (/usr/bin/pypy3) is not CPython")
    threaded = setup.python_support_error(supported, "cpython", True, "python3.13t")
    assert "free-threaded build" in threaded and f"CPython {SUPPORTED_TEXT}" in threaded


# ------------------------------------------------------------------ scripts/setup-env (bash)
@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the two set-up scripts with no .venv, as in a fresh clone."""
    (tmp_path / "repo" / "scripts").mkdir(parents=True)
    for script in (SETUP, SETUP_ENV):
        shutil.copy(script, tmp_path / "repo" / "scripts" / script.name)
    return tmp_path / "repo"


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    """A PATH with no Python on it, only what setup-env itself calls."""
    folder = tmp_path / "bin"
    folder.mkdir()
    os.symlink(shutil.which("dirname"), folder / "dirname")
    return folder


def run_setup_env(checkout, bin_dir, *args, python=None):
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")}
    if python:
        env["PYTHON"] = str(python)
    return subprocess.run(["/bin/bash", str(checkout / "scripts" / "setup-env"), *args],
                          capture_output=True, text=True, env=env)


def test_setup_env_skips_unsupported_and_broken_pythons(checkout, bin_dir):
    fake_python(bin_dir, "python3", (3, 10, 12))
    broken_python(bin_dir, "python3.13")
    fake_python(bin_dir, "python3.12", (3, 12, 3))
    proc = run_setup_env(checkout, bin_dir, "--check-python")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Python 3.12.3 ("), proc.stdout


def test_setup_env_says_which_pythons_it_tried(checkout, bin_dir):
    fake_python(bin_dir, "python3", (3, 10, 12))
    broken_python(bin_dir, "python3.13")
    proc = run_setup_env(checkout, bin_dir)
    assert proc.returncode == 1
    assert "setup-env: error: no supported Python found" in proc.stderr
    assert "found but unusable: python3 python3.13)" in proc.stderr
    # The one that runs explains: what it is, what is supported, how to point at another.
    assert "Python 3.10.12 (" in proc.stderr and f"CPython {SUPPORTED_TEXT}" in proc.stderr
    assert not (checkout / ".venv").exists()


def test_setup_env_uses_only_the_python_it_is_pointed_at(checkout, bin_dir):
    fake_python(bin_dir, "python3", (3, 12, 3))
    chosen = fake_python(bin_dir.parent, "python3.15", (3, 15, 0))
    proc = run_setup_env(checkout, bin_dir, "--check-python", python=chosen)
    assert proc.returncode == 1
    assert f"found but unusable: {chosen})" in proc.stderr
    assert "Python 3.15.0 (" in proc.stderr


def test_setup_env_without_any_python(checkout, bin_dir):
    broken_python(bin_dir, "python3")
    proc = run_setup_env(checkout, bin_dir)
    assert proc.returncode == 1
    assert "(looked for .venv/bin/python python3 python3.14" in proc.stderr
    assert f"Install Python {SUPPORTED_TEXT}" in proc.stderr and "PYTHON=" in proc.stderr


def test_setup_env_lists_exactly_the_supported_versions():
    text = SETUP_ENV.read_text()
    candidates = re.search(r"candidates\+=\(python3 ([^)]*)\)", text).group(1).split()
    assert candidates == [f"python{v}" for v in reversed(SUPPORTED_PYTHONS)]


# ------------------------------------------------------------------ the virtual environment
def test_a_folder_that_is_not_a_venv_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(setup.SetupError, match="exists but is not a virtual environment"):
        setup.ensure_venv(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_failed_venv_creation_leaves_nothing_behind(tmp_path, monkeypatch):
    # Debian's Python without python3-venv: venv makes bin/python, then fails at ensurepip.
    failing = tmp_path / "python-without-ensurepip"
    failing.write_text('#!/bin/sh\nmkdir -p "$3/bin" && touch "$3/bin/python"\n'
                       "echo 'ensurepip is not available' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(failing))
    venv = tmp_path / "venv"
    with pytest.raises(setup.SetupError, match=r"sudo apt install python3\.\d+-venv"):
        setup.ensure_venv(venv)
    assert not venv.exists()


@pytest.mark.slow  # creates a real venv, with pip
def test_a_venv_whose_python_no_longer_runs_is_made_again(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(tmp_path / "removed-python3.11")
    python = setup.ensure_venv(venv)
    check = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"],
                           capture_output=True, text=True)
    assert check.returncode == 0 and Path(check.stdout.strip()) == venv


def test_a_venv_made_with_an_unsupported_python_is_reported(tmp_path):
    venv = tmp_path / "venv"
    fake_python(venv / "bin", "python", (3, 10, 1))
    with pytest.raises(setup.SetupError) as raised:
        setup.ensure_venv(venv)
    assert (f"venv was made with Python 3.10, which the course does not support (it needs "
            f"{SUPPORTED_TEXT}); delete that folder") in str(raised.value)
    assert (venv / "bin" / "python").exists()


@pytest.mark.slow
def test_learner_install_grades_and_runs_notebooks(tmp_path):
    """The README's learner command, into a temporary venv: then the grader and a notebook's
    self-check work in it, and the maintainer tools are not there."""
    venv = tmp_path / "learner-venv"
    proc = subprocess.run([sys.executable, str(SETUP), "--learner", "--venv", str(venv)],
                          capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "installing requirements-learner.txt" in proc.stderr
    assert f"source {venv}/bin/activate\n    jupyter lab exercises" in proc.stderr
    python = venv / "bin" / "python"

    again = subprocess.run([sys.executable, str(SETUP), "--learner", "--venv", str(venv)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "installing" not in again.stderr, again.stderr

    env = dict(os.environ, KERAS_BACKEND="jax", MPLBACKEND="Agg")
    absent = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print([m for m in ('jupyter_book', "
         "'sphinx', 'playwright', 'nbval', 'hypothesis') if u.find_spec(m)])"],
        capture_output=True, text=True, env=env)
    assert absent.stdout.strip() == "[]", absent.stdout + absent.stderr

    grade = subprocess.run([str(python), "-m", "grader",
                            str(ROOT / "solutions" / "ch10_keras.ipynb")],
                           capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    score = re.search(r"^ch10_keras: (\S+) / (\S+)", grade.stdout, re.M)
    assert score and score.group(1) == score.group(2), grade.stdout[-3000:] + grade.stderr[-3000:]

    notebook = ROOT / "solutions" / "ch03_activations.ipynb"
    env.pop("MPLBACKEND")
    run = subprocess.run([str(python), "-m", "nbconvert", "--to", "notebook", "--execute",
                          "--output-dir", str(tmp_path), str(notebook)],
                         capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    cells = json.loads((tmp_path / notebook.name).read_text())["cells"]
    checks = [c for c in cells if c["cell_type"] == "code" and "check(" in "".join(c["source"])]
    passed = [c for c in checks
              if re.search(r"\b(\d+) of \1 public checks passed", json.dumps(c["outputs"]))]
    assert checks and len(passed) == len(checks), [c["outputs"] for c in checks if c not in passed]
