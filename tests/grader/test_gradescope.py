"""Gradescope: the autograder zip, run as Gradescope runs it in a tree that mimics /autograder."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = json.loads((ROOT / "solutions" / "ch03_activations.ipynb").read_bytes())
DOCUMENTED_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
                        "output_format", "tags", "visibility", "extra_data"}
"""Keys of a test in Gradescope's results.json ("Autograder Specifications")."""


def _partial() -> bytes:
    """The solution with relu wrong (|z|) and the bonus exercise left out."""
    notebook = json.loads(json.dumps(SOLUTION))
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if "def relu(z)" in text:
            cell["source"] = text.replace("np.maximum(z, 0)", "np.abs(z)", 1)
        if "def softplus" in text:
            cell["source"] = ""
    return json.dumps(notebook).encode()


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """Gradescope's tree: the zip unpacked into autograder/source, as its image build does."""
    folder = tmp_path_factory.mktemp("gradescope")
    archive = folder / "autograder.zip"
    assert main(["gradescope-zip", "--out", str(archive), "--chapters", "ch03_activations"]) == 0
    root = folder / "autograder"
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in unpacked.infolist()}
    for name, mode in modes.items():  # ZipFile.extractall drops permissions; Gradescope keeps them
        os.chmod(root / "source" / name, stat.S_IMODE(mode))
    return archive, root


def _run(root: Path, notebook: bytes | None) -> subprocess.CompletedProcess:
    submission = root / "submission"
    submission.mkdir(exist_ok=True)
    for old in submission.iterdir():
        old.unlink()
    if notebook is not None:
        (submission / "relu and friends.ipynb").write_bytes(notebook)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    return subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_zip_follows_gradescopes_layout(autograder):
    archive, _ = autograder
    with zipfile.ZipFile(archive) as unpacked:
        names = unpacked.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in unpacked.infolist()}
    assert {"setup.sh", "run_autograder"} <= set(names)  # at the root of the archive
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} is not executable"
    assert "course/solutions/ch03_activations.ipynb" in names
    assert "course/tests/exercises/test_ch03_activations.py" in names
    assert "course/grader/gradescope.py" in names and "course/nnlib/__init__.py" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("course/.")]
    setup = zipfile.ZipFile(archive).read("setup.sh").decode()
    assert "requirements-learner.txt" in setup and "-e /autograder/source/course" in setup
    # a new container per submission: no warm folder to fill (grader.warm) for just one learner
    run_autograder = zipfile.ZipFile(archive).read("run_autograder").decode()
    assert "export NNGRADER_WARM_DIR=off" in run_autograder


def test_run_autograder_writes_gradescopes_results(autograder, tmp_path):
    _, root = autograder
    run = _run(root, _partial())
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    tests = results["tests"]
    assert all(set(test) <= DOCUMENTED_TEST_KEYS for test in tests)
    assert results["score"] == sum(test["score"] for test in tests)
    for test in tests:
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert test["name"].startswith(test["tags"][0] + ": ")
    relu = [test for test in tests if test["tags"][0] == "ch03.relu"]
    assert relu and all(test["status"] == "failed" for test in relu)
    assert {test["visibility"] for test in tests if "hidden" in test["name"]} == {"after_published"}
    public = [test for test in tests if "hidden" not in test["name"]]
    assert {test["visibility"] for test in public} == {"visible"}
    failed_public = [test for test in public if test["status"] == "failed"]
    assert failed_public and all(test["output"] for test in failed_public)
    hidden_relu = [test for test in relu if "hidden" in test["name"]]
    assert hidden_relu and all(test["output"].startswith("hidden test 1 failed: ")
                               and "\n" not in test["output"] for test in hidden_relu)
    softplus = [test for test in tests if test["tags"] == ["ch03.softplus", "bonus"]]
    assert softplus and all(test["score"] == 0 for test in softplus)
    # the same notebook graded by the instructor's command gets the same points
    subs = tmp_path / "subs" / "learner"
    subs.mkdir(parents=True)
    (subs / "ch03.ipynb").write_bytes(_partial())
    assert main(["grade", str(subs.parent), "--out", str(tmp_path / "out"), "--quiet",
                 "--workers", "1"]) == 0
    row = json.loads((tmp_path / "out" / "results.json").read_text())["submissions"][0]
    assert 0 < results["score"] == row["score"] + row["bonus_score"] < row["max_score"]
    assert "Score: " in results["output"] and "hidden until the grades are published" in results["output"]
    assert "ch03.relu" in run.stdout  # Gradescope shows stdout to instructors


def test_an_empty_submission_scores_zero_with_a_reason(autograder):
    _, root = autograder
    run = _run(root, None)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0
    assert "No notebook (.ipynb file) was found in your submission" in results["output"]
    assert all(test["score"] == 0 for test in results["tests"])


def test_outside_gradescopes_layout_is_a_clear_error(tmp_path, capsys):
    assert main(["gradescope", "--root", str(tmp_path)]) == 2
    assert f"{tmp_path / 'submission'} is not a folder" in capsys.readouterr().err
