"""Nothing in a submission stops the batch; a killed batch loses no finished row and resumes."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
CH03 = (ROOT / "solutions" / "ch03_activations.ipynb").read_bytes()


def _course(tmp_path: Path, sandboxes: dict) -> tuple[Path, Path]:
    """A course of the given chapters (solutions and check modules copied from the real course);
    a chapter's value, unless None, is appended to its check module (e.g. a SANDBOX line)."""
    solutions, checks = tmp_path / "solutions", tmp_path / "checks"
    solutions.mkdir()
    checks.mkdir()
    for chapter, extra in sandboxes.items():
        (solutions / f"{chapter}.ipynb").write_bytes(
            (ROOT / "solutions" / f"{chapter}.ipynb").read_bytes())
        source = (ROOT / "tests" / "exercises" / f"test_{chapter}.py").read_text()
        (checks / f"test_{chapter}.py").write_text(source + (extra or ""))
    return solutions, checks


def _learners(folder: Path, **files: bytes) -> Path:
    for name, data in files.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "ch03.ipynb").write_bytes(data)
    return folder


def test_one_poisoned_file_among_good_learners(tmp_path):
    poison = b'{"nbformat": 4, "cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    subs = _learners(tmp_path / "subs", alice=CH03, mallory=poison, bob=CH03)
    out = tmp_path / "out"
    assert main(["grade", str(subs), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    rows = {row["name"]: row for row in json.loads((out / "results.json").read_text())["submissions"]}
    assert sorted(rows) == ["alice", "bob", "mallory"]
    for name in ("alice", "bob"):
        assert rows[name]["status"] == "graded"
        assert rows[name]["score"] == rows[name]["max_score"] > 0
    assert rows["mallory"]["status"] == "not_gradable"
    assert "nested too deeply" in rows["mallory"]["reason"]
    with open(out / "grades.csv", newline="") as stream:
        assert sorted(row["name"] for row in csv.DictReader(stream)) == ["alice", "bob", "mallory"]
    assert (out / "feedback" / "mallory.html").exists()


def test_unknown_chapter_is_a_clear_error(tmp_path, capsys):
    subs = _learners(tmp_path / "subs", alice=CH03)
    assert main(["grade", str(subs), "--chapters", "ch03_activations,ch99_nothing",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "unknown chapter(s) ch99_nothing" in capsys.readouterr().err


def _saved_rows(out: Path) -> list[Path]:
    return sorted((out / ".cache").glob("*.json")) if (out / ".cache").is_dir() else []


def test_a_batch_killed_mid_way_loses_no_finished_row_and_resumes(tmp_path):
    # different bytes (trailing spaces): identical files would share one saved row
    learners = {f"learner{number}": CH03 + b" " * number for number in range(6)}
    subs = _learners(tmp_path / "subs", **learners)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out),
               "--workers", "1", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    grader = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_saved_rows(out)) < 2 and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    saved = _saved_rows(out)
    assert grader.returncode == -signal.SIGKILL, "the batch ended before it could be killed"
    assert 2 <= len(saved) < len(learners)
    assert not (out / "results.json").exists()
    for path in saved:  # complete rows only: each is written whole or not at all
        row = json.loads(path.read_text())
        assert row["status"] == "graded" and row["score"] == row["max_score"] > 0
    resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = json.loads((out / "results.json").read_text())["submissions"]
    assert sorted(row["name"] for row in rows) == sorted(learners)
    assert all(row["score"] == row["max_score"] > 0 for row in rows)
    assert sum(row["cached"] for row in rows) >= len(saved)   # finished rows were not regraded


def test_a_dying_worker_costs_only_its_own_row(tmp_path, monkeypatch):
    """A worker process that dies takes only the submission that killed it (workers fork)."""
    import grader.batch

    graded = grader.batch.grade_safely

    def grade_or_die(snapshot, *args):
        if snapshot.name == "killer":
            os._exit(1)        # as a crash of the trusted worker process would
        return graded(snapshot, *args)

    monkeypatch.setattr(grader.batch, "grade_safely", grade_or_die)
    subs = _learners(tmp_path / "subs", alice=CH03, killer=CH03 + b" ", bob=CH03 + b"  ")
    out = tmp_path / "out"
    assert main(["grade", str(subs), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    rows = {row["name"]: row for row in json.loads((out / "results.json").read_text())["submissions"]}
    assert rows["killer"]["status"] == "not_gradable"
    assert rows["killer"]["reason"].startswith("grader worker failed")
    for name in ("alice", "bob"):
        assert rows[name]["score"] == rows[name]["max_score"] > 0, rows[name]["reason"]
    assert not any("killer" in path.read_text() for path in (out / ".cache").glob("*.json"))


def test_a_chapter_with_its_own_sandbox_is_a_task_of_its_own(tmp_path):
    """With several workers a learner's chapter that needs its own sandbox (the Keras chapter)
    is graded as a separate task, in parallel with the others; the joined row is the row a
    single worker makes (exercises and tests in course order)."""
    from grader.batch import chapter_tasks, grade_batch
    from grader.catalog import Catalog
    from grader.execute import SandboxConfig
    from grader.intake import read_submission
    from grader.discover import discover

    # ch03 stands in for the Keras chapter: a sandbox of its own, with larger limits
    solutions, checks = _course(tmp_path, {"ch02_neuron": None,
                                           "ch03_activations": "\nSANDBOX = {'memory_mb': 4096}\n"})
    subs = tmp_path / "subs"
    for learner in ("ada", "bob", "eve"):
        (subs / learner).mkdir(parents=True)
        for chapter in ("ch03_activations", "ch02_neuron"):
            (subs / learner / f"{chapter}.ipynb").write_bytes(
                (solutions / f"{chapter}.ipynb").read_bytes())
    # a suspicious cell in the chapter of the second task: the first task scans every notebook
    eve = json.loads((subs / "eve" / "ch02_neuron.ipynb").read_text())
    eve["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                         "execution_count": None, "source": "import ctypes\n"})
    (subs / "eve" / "ch02_neuron.ipynb").write_text(json.dumps(eve))
    catalog, config = Catalog(solutions, checks, chapters=[]), SandboxConfig()
    snapshot = read_submission(discover(subs / "ada")[0])
    assert chapter_tasks(snapshot, catalog, config, None) == [["ch03_activations"],
                                                               ["ch02_neuron"]]
    assert chapter_tasks(snapshot, catalog, config, ["ch03_activations"]) == [
        ["ch03_activations"]]

    def rows(workers):
        batch = grade_batch([subs], None, catalog, config, workers=workers, progress=False)
        return {row.name: row.to_dict() for row in batch.submissions}

    alone, split = rows(1), rows(2)
    assert sorted(split) == ["ada", "bob", "eve"]
    for name, row in split.items():
        assert row["score"] == row["max_score"] > 0
        for key in ("seconds", "protections"):
            row.pop(key), alone[name].pop(key)
        assert row == alone[name]
    assert [flag["reason"] for flag in split["eve"]["flags"]] == [
        "imports ctypes (raw memory access)"]                           # scanned once
    assert list(split["ada"]["exercises"])[0].startswith("ch02.")   # course order, though
    assert split["ada"]["tests"][0]["exercise"].startswith("ch02.")  # ch03 was graded first


def test_own_sandbox_chapters_come_first_the_largest_allowance_first(tmp_path):
    """A learner's tasks are ordered by the CPU time their chapters may take: the costliest
    first, the chapters sharing the main sandbox last."""
    from grader.batch import chapter_tasks
    from grader.catalog import Catalog
    from grader.execute import SandboxConfig
    from grader.intake import Snapshot

    allowance = {"ch01_background": None, "ch02_neuron": 100, "ch03_activations": 600}
    solutions, checks = _course(tmp_path, {
        chapter: None if cpu is None else f"\nSANDBOX = {{'cpu_seconds': {cpu}}}\n"
        for chapter, cpu in allowance.items()})
    files = {f"{c}.ipynb": (solutions / f"{c}.ipynb").read_bytes() for c in allowance}
    tasks = chapter_tasks(Snapshot("ada", "ada", files), Catalog(solutions, checks, chapters=[]),
                          SandboxConfig(), None)
    assert tasks == [["ch03_activations"], ["ch02_neuron"], ["ch01_background"]]


def test_the_pool_starts_every_held_submissions_first_task_before_any_second(monkeypatch):
    """Long tasks start early and short ones fill in at the end: with one worker free at a
    time, the first (costliest) task of every held submission goes before any second task."""
    from concurrent.futures import Future

    from grader import batch
    from grader.intake import Snapshot
    from grader.results import SubmissionResult

    started, scanned = [], []

    class OneAtATime:
        def __init__(self, max_workers):
            self.futures = []

        def submit(self, function, setup, config, snapshot, task, scan):
            started.append((snapshot.name, task[0]))
            scanned.append(scan)
            future = Future()
            future.set_result(SubmissionResult.not_gradable(snapshot.name, snapshot.name, "x"))
            return future

    monkeypatch.setattr(batch, "ProcessPoolExecutor", OneAtATime)
    monkeypatch.setattr(batch, "chapter_tasks", lambda *args: [["keras"], ["others"]])
    pool = batch._Pool(1, None, None, None, None)
    for index, name in enumerate(("ada", "bob", "eve")):
        pool.submit(index, Snapshot(name, name, {}))
    assert started == [("ada", "keras")]          # one worker: one task handed out
    rows = list(pool.finished(block_until_room=False))
    assert started == [("ada", "keras"), ("bob", "keras"), ("eve", "keras"),
                       ("ada", "others"), ("bob", "others"), ("eve", "others")]
    assert scanned == [True] * 3 + [False] * 3   # a learner's notebooks are scanned once
    assert sorted(snapshot.name for _index, snapshot, _row in rows) == ["ada", "bob", "eve"]


def test_a_task_of_own_sandbox_chapters_starts_no_main_sandbox(tmp_path, monkeypatch):
    """The main sandbox starts early (it imports numpy while the notebooks are analysed) only
    for a task that will use it: the Keras chapter's task grades in a sandbox of its own."""
    from grader import execute
    from grader.catalog import Catalog
    from grader.execute import SandboxConfig
    from grader.grade import grade_snapshot
    from grader.intake import Snapshot

    # ch03 stands in for the Keras chapter: a sandbox of its own, with larger limits
    solutions, checks = _course(tmp_path, {"ch02_neuron": None,
                                           "ch03_activations": "\nSANDBOX = {'memory_mb': 4096}\n"})
    files = {f"{c}.ipynb": (solutions / f"{c}.ipynb").read_bytes()
             for c in ("ch02_neuron", "ch03_activations")}
    started = []
    original = execute.Executor.start_early
    monkeypatch.setattr(execute.Executor, "start_early",
                        lambda self: started.append(1) or original(self))
    catalog = Catalog(solutions, checks, chapters=[])
    for chapters, early in ((["ch03_activations"], []), (["ch02_neuron"], [1]), (None, [1])):
        started.clear()
        row = grade_snapshot(Snapshot("ada", "ada", files), catalog, SandboxConfig(), chapters)
        assert row.score == row.max_score > 0
        assert started == early, chapters
