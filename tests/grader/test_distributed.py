"""Grading on a real Dask cluster on localhost: a scheduler and worker processes over TCP.

One cluster serves the whole module (``dask scheduler`` and ``dask worker --nworkers 2``, each
worker under a nanny that restarts it when it dies). Its workers load ``dask_cluster/faults.py``
so that learners named ``killer*`` kill their worker and ``slow*`` take a few seconds longer.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed
import pytest

from grader.cli import main
from grader.distributed import CourseVersion



ROOT = Path(__file__).resolve().parents[2]
FAULTS = Path(__file__).with_name("dask_cluster") / "faults.py"
SOLUTION = (ROOT / "solutions" / "ch03_activations.ipynb").read_bytes()
BLANK = (ROOT / "exercises" / "ch03_activations.ipynb").read_bytes()
WORKERS = 2
ALLOWED_FAILURES = 1
"""The test scheduler gives a task up after 2 worker deaths (Dask's default: 4), to save time."""

pytestmark = pytest.mark.slow

EXTRA_CHECK = """
import numpy as np
from grader.checks import check, expect_close, run

@check("ch03.softmax", points=2)
def test_softmax_of_equal_scores(sub):
    expect_close(run(sub.softmax, np.zeros((2, 4))), np.full((2, 4), 0.25))
"""


def _partial() -> bytes:
    """The solution with softmax wrong (not normalised): some checks fail, others pass."""
    notebook = json.loads(SOLUTION)
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if "def softmax" in text:
            cell["source"] = text.replace("return ", "return 2 * ", 1)
    return json.dumps(notebook).encode()


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Cluster:
    """A scheduler and workers started as processes; ``client`` watches them from the test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.dask = str(Path(sys.executable).with_name("dask"))
        self.env = dict(os.environ, PYTHONPATH=str(ROOT),
                        DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(ALLOWED_FAILURES),
                        DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")  # as deploy/
        scheduler_file = folder / "scheduler.json"
        self.scheduler = _start([self.dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                 "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                self.env, folder / "scheduler.log")
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers = [self.worker(self.env, "workers", "--nworkers", str(WORKERS),
                                    "--preload", str(FAULTS))]
        self.client = distributed.Client(self.address, timeout="30s", set_as_default=False)
        self.wait_for(WORKERS)

    def worker(self, env: dict, log: str, *options: str) -> subprocess.Popen:
        """Start ``dask worker`` processes connected to this scheduler."""
        return _start([self.dask, "worker", self.address, "--nthreads", "1", "--no-dashboard",
                       "--host", "127.0.0.1", "--memory-limit", "0", *options],
                      env, self.folder / f"{log}.log")

    def wait_for(self, count: int, timeout: float = 120, steady: float = 1.0):
        """Until exactly ``count`` workers have been connected for ``steady`` seconds (workers
        restarted by their nanny join a moment after the dead ones leave)."""
        deadline = time.monotonic() + timeout
        since = time.monotonic()
        while time.monotonic() - since < steady:
            if len(self.client.nthreads()) != count:
                since = time.monotonic()
            assert time.monotonic() < deadline, f"{len(self.client.nthreads())} workers, not {count}"
            time.sleep(0.1)

    def close(self):
        self.client.close()
        for process in [*self.workers, self.scheduler]:
            _stop(process)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("dask"))
    yield running
    running.close()


def _learners(folder: Path, **files: bytes) -> Path:
    for name, data in files.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "ch03.ipynb").write_bytes(data)
    return folder


def _grade(subs: Path, out: Path, *options: str) -> int:
    return main(["grade", str(subs), "--out", str(out), "--quiet", *options])


def _rows(out: Path) -> dict[str, dict]:
    return {row["name"]: row for row in json.loads((out / "results.json").read_text())["submissions"]}


def _without_timing(report: dict) -> dict:
    """results.json without what differs from run to run: times and the sandbox's random uid."""
    report = {key: value for key, value in report.items() if key not in ("generated_at", "seconds")}
    report["protections"] = {k: v for k, v in report["protections"].items() if k != "user"}
    report["submissions"] = [
        {**{key: value for key, value in row.items() if key != "seconds"},
         "protections": {k: v for k, v in (row.get("protections") or {}).items() if k != "user"}}
        for row in report["submissions"]]
    return report


def test_cluster_and_local_results_are_identical(cluster, tmp_path):
    subs = _learners(tmp_path / "subs", alice=SOLUTION, bob=_partial(), carol=BLANK,
                     dave=b"{not a notebook")
    (tmp_path / "roster.csv").write_text("id,name,lms_id\nalice,Alice A,101\nbob,Bob B,102\n"
                                         "carol,Carol C,103\nerin,Erin E,105\n")
    extra = tmp_path / "instructor-tests"  # instructor-only checks travel with the tasks
    extra.mkdir()
    (extra / "test_extra_ch03.py").write_text(EXTRA_CHECK)
    class_options = ["--roster", str(tmp_path / "roster.csv"), "--extra-tests", str(extra),
                     "--deadline", "2000-01-01T00:00+00:00", "--late-penalty", "10%/day"]
    assert _grade(subs, tmp_path / "local", "--workers", "2", *class_options) == 0
    assert _grade(subs, tmp_path / "dask", "--scheduler", cluster.address, *class_options) == 0

    local, remote = (json.loads((tmp_path / run / "results.json").read_text())
                     for run in ("local", "dask"))
    assert {row["name"]: row["status"] for row in local["submissions"]} == {
        "alice": "graded", "bob": "graded", "carol": "graded", "dave": "not_gradable",
        "erin": "missing"}
    scores = {row["name"]: row["score"] for row in local["submissions"]}
    assert scores["alice"] == local["max_score"] > scores["bob"] > scores["carol"] == 0
    bob = next(row for row in local["submissions"] if row["name"] == "bob")
    assert [test["status"] for test in bob["tests"]
            if test["test_id"] == "ch03.softmax::hidden-3"] == ["failed"]  # the extra check
    assert _without_timing(remote) == _without_timing(local)
    for name in ("grades.csv", "canvas.csv", "moodle.csv", *(
            f"{folder}/{page.name}" for folder in ("feedback", "instructor")
            for page in (tmp_path / "local" / folder).glob("*.html"))):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    # the row store is shared: a rerun in either mode reuses the other's rows
    assert _grade(subs, tmp_path / "dask", "--workers", "2", *class_options) == 0
    assert {name: row["cached"] for name, row in _rows(tmp_path / "dask").items()} == {
        "alice": True, "bob": True, "carol": True, "dave": True, "erin": False}  # erin: missing


def test_a_worker_killed_mid_task_loses_no_row(cluster, tmp_path):
    subs = _learners(tmp_path / "subs", slow1=SOLUTION, slow2=SOLUTION + b" ",
                     slow3=SOLUTION + b"  ", fast=_partial())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out), "--quiet",
               "--scheduler", cluster.address]
    batch = subprocess.Popen(command, cwd=ROOT, env=cluster.env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    busy = {}
    while not busy and time.monotonic() < deadline:
        busy = {worker: tasks for worker, tasks in cluster.client.processing().items() if tasks}
        time.sleep(0.1)
    assert busy, "no worker ever started a task"
    victim = sorted(busy)[0]
    time.sleep(0.5)  # inside the task's grading now (a slow learner takes 4 s more)
    pid = cluster.client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    _, errors = batch.communicate(timeout=240)
    assert batch.returncode == 0, errors[-2000:]
    rows = _rows(out)
    assert sorted(rows) == ["fast", "slow1", "slow2", "slow3"]
    assert all(rows[name]["score"] == rows[name]["max_score"] > 0 for name in rows if name != "fast")
    assert rows["fast"]["status"] == "graded" and 0 < rows["fast"]["score"] < rows["fast"]["max_score"]
    assert victim not in cluster.client.nthreads() or pid not in cluster.client.run(os.getpid).values()
    cluster.wait_for(WORKERS)


def test_a_submission_that_kills_every_worker_is_not_gradable(cluster, tmp_path):
    subs = _learners(tmp_path / "subs", alice=SOLUTION, killer=SOLUTION + b" ",
                     bob=SOLUTION + b"  ")
    out = tmp_path / "out"
    assert _grade(subs, out, "--scheduler", cluster.address) == 0
    rows = _rows(out)
    assert rows["killer"]["status"] == "not_gradable"
    assert rows["killer"]["reason"].startswith("grader worker failed: the worker process died "
                                               f"each of the {ALLOWED_FAILURES + 1} times")
    for name in ("alice", "bob"):
        assert rows[name]["score"] == rows[name]["max_score"] > 0, rows[name]["reason"]
    with open(out / "grades.csv", newline="") as stream:
        assert sorted(row["name"] for row in csv.DictReader(stream)) == ["alice", "bob", "killer"]
    # not saved: a rerun (after the cause is fixed) tries again
    assert not any("killer" in path.read_text() for path in (out / ".cache").glob("*.json"))
    cluster.wait_for(WORKERS)


def test_a_worker_with_another_course_refuses(cluster, tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copytree(ROOT / "tests" / "exercises", course / "tests" / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    edited = course / "solutions" / "ch03_activations.ipynb"
    edited.write_bytes(edited.read_bytes() + b"\n")
    other = cluster.worker(dict(cluster.env, NN_COURSE_ROOT=str(course)), "other-course",
                           "--no-nanny")
    try:
        cluster.wait_for(WORKERS + 1)
        subs = _learners(tmp_path / "subs", alice=SOLUTION)
        assert _grade(subs, tmp_path / "out", "--scheduler", cluster.address) == 2
        error = capsys.readouterr().err
        assert error.count("does not have the instructor's course") == 1, error
        assert "solutions differ (sha256" in error and "checks differ" not in error
        assert not (tmp_path / "out" / "results.json").exists()
    finally:
        _stop(other)
    cluster.wait_for(WORKERS)


def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path, capsys):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subs = _learners(tmp_path / "subs", alice=SOLUTION)
    started = time.monotonic()
    assert _grade(subs, tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{port}") == 2
    assert time.monotonic() - started < 15
    error = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in error


def test_course_versions_name_what_differs():
    mine = CourseVersion("a" * 64, "b" * 64, "c" * 64, "d" * 64, "3.11.2", "2.4.6", "3.15.1")
    theirs = CourseVersion("a" * 64, "e" * 64, "c" * 64, "d" * 64, "3.11.2", "2.3.0", "3.15.1")
    assert mine.differences(mine) == []
    assert mine.differences(theirs) == [
        "checks differ (sha256 bbbbbbbbbbbb on the instructor's machine, eeeeeeeeeeee on the "
        "worker)", "numpy 2.4.6 on the instructor's machine, 2.3.0 on the worker"]
