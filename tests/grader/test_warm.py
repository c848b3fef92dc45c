"""Warm starts (grader.warm): a chapter's sandbox starts with a private copy of a folder that only
grading the reference solution fills (chapter 10: JAX's compilation cache).

What must hold, since learner code is untrusted: a learner's sandbox cannot write into the
trusted folder nor even see it; what a learner writes into their copy dies with their sandbox;
and the trusted folder is filled from the reference solution, never from a learner's run, even
when a hostile learner is graded first.
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path

import pytest

from corpus import CH03, load, set_body, strip_outputs
from grader.catalog import Catalog
from grader.grade import grade_snapshot
from grader.intake import Snapshot
from grader.sandbox import SandboxConfig, Session, build_policy
from grader.warm import COLD_RETRY_SECONDS, WarmStarts

ROOT = Path(__file__).resolve().parents[2]
WARM = "nngrader-warm"

ATTACK = '''
import os


def attack(host):
    seen = sorted(os.listdir("/tmp/warm"))
    with open("/tmp/warm/entry", "rb") as f:
        before = f.read().decode()
    with open("/tmp/warm/entry", "wb") as f:
        f.write(b"poison")
    with open("/tmp/warm/new-entry", "wb") as f:
        f.write(b"poison")
    visible = [path for path in (host, os.path.dirname(host)) if os.path.exists(path)]
    return seen, before, visible
'''


def _isolated(session: Session):
    if not session.report.get("filesystem_isolated"):
        pytest.fail(f"the sandbox did not isolate the file system here: {session.report}")


def test_a_learner_gets_a_private_copy_and_cannot_write_the_trusted_folder(tmp_path):
    trusted = tmp_path / "trusted"
    (trusted / "sub").mkdir(parents=True)
    (trusted / "entry").write_bytes(b"reference")
    (trusted / "sub" / "deep").write_bytes(b"reference too")
    (trusted / "link").symlink_to("/etc/hostname")       # links are not copied, nor followed
    config = SandboxConfig(call_timeout=10, warm_folder="warm", warm_source=str(trusted))
    assert any(line.startswith("/tmp/warm: private copy of") for line in
               build_policy(config).describe())          # python -m grader protections says so
    for attempt in range(2):
        with Session(config) as session:
            session.start()
            _isolated(session)
            assert session.load([("exercise", ATTACK)])["ok"]
            ok, (seen, before, visible), *_ = session.call("attack", (str(trusted / "entry"),),
                                                          {})
            assert ok
            assert seen == ["entry", "sub"]
            assert before == "reference"                   # the second sandbox starts clean
            assert visible == []                           # the host folder is not there at all
        assert (trusted / "entry").read_bytes() == b"reference", attempt
        assert sorted(p.name for p in trusted.iterdir()) == ["entry", "link", "sub"]


def test_a_warm_folder_name_cannot_leave_tmp():
    for name in ("../etc", "a/b", ".."):
        with pytest.raises(ValueError, match="plain folder name"):
            build_policy(SandboxConfig(warm_folder=name, warm_source="/nonexistent"))


# ---------------------------------------------------------------- filled only by the reference
def _sigmoid(pre: str) -> str:
    body = "".join("    " + line + "\n" for line in pre.strip("\n").splitlines())
    return ("import os\n\n\ndef sigmoid(z):\n    ### BEGIN SOLUTION\n" + body +
            "    z = np.asarray(z)\n"
            "    out = np.empty_like(z, dtype=np.result_type(z.dtype, np.float32))\n"
            "    pos = z >= 0\n    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))\n"
            "    ez = np.exp(z[~pos])\n    out[~pos] = ez / (1.0 + ez)\n    return out\n"
            "    ### END SOLUTION\n")


REFERENCE = _sigmoid(f'''
if os.path.isdir("{WARM}"):
    with open("{WARM}/from-reference", "w") as f:
        f.write("reference")
''')
POISONER = _sigmoid(f'''
if os.path.isdir("{WARM}"):
    for name in ("from-reference", "poison"):
        with open("{WARM}/" + name, "w") as f:
            f.write("poison")
''')
VICTIM = _sigmoid(f'''
with open("{WARM}/from-reference") as f:
    seeded = f.read()
if seeded != "reference" or os.path.exists("{WARM}/poison"):
    raise RuntimeError("poisoned warm folder: " + repr(seeded))
''')


@pytest.fixture
def warm_course(tmp_path, monkeypatch):
    """Chapter 3 with a warm folder; its reference sigmoid leaves a file there."""
    monkeypatch.setenv("NNGRADER_WARM_DIR", str(tmp_path / "warm"))
    monkeypatch.chdir(tmp_path)                     # the trusted reference finds no WARM here
    solutions, checks = tmp_path / "solutions", tmp_path / "checks"
    solutions.mkdir()
    checks.mkdir()
    nb = strip_outputs(load(CH03))
    (solutions / CH03.name).write_text(json.dumps(set_body(nb, "ch03.sigmoid", REFERENCE)))
    source = (ROOT / "tests" / "exercises" / "test_ch03_activations.py").read_text()
    (checks / "test_ch03_activations.py").write_text(
        source + f"\nSANDBOX = {{'warm_folder': {WARM!r}}}\n")
    return Catalog(solutions, checks, chapters=[]), nb


def _grade(catalog, nb, name, sigmoid):
    files = {CH03.name: json.dumps(set_body(nb, "ch03.sigmoid", sigmoid)).encode()}
    return grade_snapshot(Snapshot(name, name, files), catalog, SandboxConfig())


def test_the_trusted_folder_is_filled_from_the_reference_never_from_a_learner(warm_course,
                                                                               tmp_path):
    catalog, nb = warm_course
    assert not (tmp_path / "warm").exists()
    eve = _grade(catalog, nb, "eve", POISONER)     # graded first: her grading fills the folder
    assert eve.protections["filesystem_isolated"] is True
    assert eve.score == eve.max_score > 0
    folders = [p for p in (tmp_path / "warm").iterdir() if not p.name.startswith(".")]
    assert [p.name.split("-")[0] for p in folders] == ["ch03_activations"]
    assert sorted(p.name for p in folders[0].iterdir()) == ["from-reference"]
    assert (folders[0] / "from-reference").read_text() == "reference"
    assert not (folders[0] / "from-reference").stat().st_mode & 0o222   # stored read-only
    ada = _grade(catalog, nb, "ada", VICTIM)       # sees the reference's file, not eve's
    assert ada.score == ada.max_score, [t.message for t in ada.tests if t.points < t.max_points]
    assert sorted(p.name for p in folders[0].iterdir()) == ["from-reference"]
    left = sorted(os.listdir(tmp_path / "warm"))
    assert left == sorted([folders[0].name, f".{folders[0].name}.lock"])  # no filling left behind


def test_a_reference_that_cannot_fill_it_is_graded_once_and_sandboxes_start_cold(
        warm_course, tmp_path, monkeypatch):
    catalog, nb = warm_course
    broken = _sigmoid(f'if os.path.isdir("{WARM}"):\n    raise RuntimeError("in the sandbox")')
    (catalog.solutions_dir / CH03.name).write_text(
        json.dumps(set_body(nb, "ch03.sigmoid", broken)))
    catalog = Catalog(catalog.solutions_dir, catalog.checks_dir, chapters=[])
    ada = _grade(catalog, nb, "ada", REFERENCE)        # the reference fails where it is warm
    assert ada.score == ada.max_score                   # graded all the same, cold
    [cold] = [p for p in (tmp_path / "warm").iterdir() if not p.name.startswith(".")]
    assert cold.name.endswith(".cold") and "points" in cold.read_text()
    monkeypatch.setattr(WarmStarts, "_fill", lambda *args: pytest.fail("filled again"))
    assert _grade(catalog, nb, "bob", REFERENCE).score == ada.score
    # an old note is a failure that may have passed (an overloaded machine): tried again
    old = time.time() - COLD_RETRY_SECONDS - 60
    os.utime(cold, (old, old))
    tried = []
    monkeypatch.setattr(WarmStarts, "_fill", lambda *args: tried.append(1) or False)
    assert _grade(catalog, nb, "cy", REFERENCE).score == ada.score
    assert tried == [1]


def test_workers_that_need_the_same_folder_fill_it_once(warm_course, tmp_path, monkeypatch):
    """Two processes (here: threads, each with its own lock file handle) ask for the folder at
    the same time: one fills it, the other waits for that fill instead of grading the reference
    a second time."""
    catalog, _nb = warm_course
    fills = []

    def slow_fill(self, config, chapter, folder, cold):
        fills.append(folder)
        time.sleep(0.5)
        folder.mkdir()
        return True

    monkeypatch.setattr(WarmStarts, "_fill", slow_fill)
    chapter = catalog.including(["ch03_activations"]).chapters["ch03_activations"]
    config = dataclasses.replace(SandboxConfig(), warm_folder=WARM)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        WarmStarts(catalog, grade_snapshot).config_for(config, chapter).warm_source))
        for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fills) == 1
    assert results == [str(fills[0])] * 2


def test_warm_starts_can_be_turned_off(warm_course, tmp_path, monkeypatch):
    """NNGRADER_WARM_DIR=off (Gradescope's autograder: a new container per submission) grades
    cold: nothing is filled, and the sandbox gets no warm folder."""
    catalog, nb = warm_course
    monkeypatch.setenv("NNGRADER_WARM_DIR", "off")
    monkeypatch.setattr(WarmStarts, "_fill", lambda *args: pytest.fail("filled"))
    chapter = catalog.including(["ch03_activations"]).chapters["ch03_activations"]
    config = dataclasses.replace(SandboxConfig(), warm_folder=WARM)
    assert WarmStarts(catalog, grade_snapshot).config_for(config, chapter) is config
    ada = _grade(catalog, nb, "ada", REFERENCE)
    assert ada.score == ada.max_score
    assert not (tmp_path / "off").exists() and not (tmp_path / "warm").exists()


def test_protections_name_the_chapters_that_start_warm(capsys, monkeypatch):
    from grader.cli import main

    monkeypatch.setenv("NNGRADER_WARM_DIR", "/somewhere/warm")
    assert main(["protections"]) == 0
    report = json.loads(capsys.readouterr().out)
    if not report["filesystem_isolated"]:
        pytest.fail("this machine cannot isolate the file system: the sandbox tests need it")
    [entry] = report["warm_folders"]
    assert entry.startswith("ch10_keras: /tmp/jax-cache, a private copy of a folder in "
                            "/somewhere/warm")
    monkeypatch.setenv("NNGRADER_WARM_DIR", "off")
    assert main(["protections"]) == 0
    assert "NNGRADER_WARM_DIR=off" in json.loads(capsys.readouterr().out)["warm_folders"][0]
