"""Benchmark of the grader (prints figures; no assertions).

    python benchmarks/bench_grader.py [--repeat 5] [--batch 50] [--nbgrader-venv /tmp/nbg]

Figures (median wall time):
  * one exercise notebook (solutions/ch03_activations.ipynb): in process (catalog loaded) and via
    the command line (`python -m grader NOTEBOOK`, interpreter start included);
  * one full submission (the ch03 and ch06 notebooks of one learner);
  * a batch of N submissions with 2 workers (cache disabled);
  * nbgrader's `autograde` of the same notebook, if nbgrader is installed in a scratch venv
    (`python -m venv /tmp/nbg && /tmp/nbg/bin/pip install nbgrader numpy`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NB03 = ROOT / "solutions" / "ch03_activations.ipynb"
NB06 = ROOT / "solutions" / "ch06_backprop.ipynb"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def cli(*args):
    subprocess.run([sys.executable, "-m", "grader", *map(str, args), "--quiet"], check=True, env=ENV,
                   cwd=ROOT, stdout=subprocess.DEVNULL)


def nbgrader_autograde(venv: Path, repeat: int):
    """Median seconds of `nbgrader autograde` on one notebook, or (None, reason)."""
    nbg = venv / "bin" / "nbgrader"
    if not nbg.exists():
        return None, "nbgrader is not installed in %s (python -m venv %s && %s/bin/pip install nbgrader numpy)" % (venv, venv, venv)
    course = Path(tempfile.mkdtemp(prefix="nbg-course-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH="%s/bin:%s" % (venv, os.environ["PATH"]))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 60\n" % str(course))
    src = course / "source" / "ps1"
    src.mkdir(parents=True)
    shutil.copy(NB03, src / "ch03.ipynb")
    r = subprocess.run([str(nbg), "generate_assignment", "ps1", "--force"], cwd=course, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, "nbgrader generate_assignment failed: %s" % (r.stderr or r.stdout)[-800:]
    sub = course / "submitted" / "learner" / "ps1"
    sub.mkdir(parents=True)
    shutil.copy(NB03, sub / "ch03.ipynb")  # the full solution, so every test passes
    (sub / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run([str(nbg), "autograde", "ps1", "--force"], cwd=course, env=env,
                           capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            return None, "nbgrader autograde failed: %s" % (r.stderr or r.stdout)[-800:]
    score = None
    try:
        import sqlite3
        con = sqlite3.connect(course / "gradebook.db")
        score = con.execute("select sum(auto_score) from grade").fetchone()[0]
    except Exception:
        pass
    return statistics.median(times), "score in nbgrader's gradebook: %s" % score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--nbgrader-venv", type=Path, default=Path("/tmp/nbg"))
    args = ap.parse_args()

    from grader.catalog import Catalog
    from grader.discover import SubmissionSource
    from grader.grade import grade_snapshot
    from grader.intake import read_submission

    def grade_submission(name, paths, catalog, config):
        """Read (intake) and grade one learner's notebooks, as the batch does."""
        snapshot = read_submission(SubmissionSource(name, paths[0].parent, tuple(paths)))
        return grade_snapshot(snapshot, catalog, config).to_dict()
    from grader.sandbox import SandboxConfig, default_hidden_paths

    cat = Catalog(ROOT / "solutions", ROOT / "tests" / "exercises")
    for ch in ("ch03_activations", "ch06_backprop"):
        cat.reference(ch)
    cfg = SandboxConfig(hide=default_hidden_paths())
    r = grade_submission("bench", [NB03], cat, config=cfg)
    assert r["score"] == r["max_score"], "the reference must score 100% before timing"

    print("grader benchmark (%d cores, Python %s)" % (os.cpu_count(), sys.version.split()[0]))
    from grader.selfcheck import run_checks
    worst = max(median_time(lambda e=e: run_checks(e.id, *[getattr(cat.reference(e.chapter), f) for f in e.functions], catalog=cat),
                            args.repeat)[0] for e in cat.chapters["ch03_activations"].exercises + cat.chapters["ch06_backprop"].exercises)
    print("  slowest in-notebook self-check of one exercise:  %.3f s" % worst)
    t, _ = median_time(lambda: grade_submission("bench", [NB03], cat, config=cfg), args.repeat)
    print("  one notebook (ch03, %d tests), in process:      %.3f s" % (len(r["tests"]), t))
    one_nb = t
    t, _ = median_time(lambda: cli(NB03), args.repeat)
    print("  one notebook, command line (python -m grader):  %.3f s" % t)
    t, _ = median_time(lambda: grade_submission("bench", [NB03, NB06], cat, config=cfg), args.repeat)
    print("  one full submission (ch03 + ch06), in process:  %.3f s" % t)

    with tempfile.TemporaryDirectory() as d:
        for i in range(args.batch):
            learner = Path(d) / "subs" / ("learner%02d" % i)
            learner.mkdir(parents=True)
            shutil.copy(NB03, learner / "ch03.ipynb")
            shutil.copy(NB06, learner / "ch06.ipynb")
        t, _ = median_time(lambda: cli("grade", Path(d) / "subs", "--out", Path(d) / "out", "--workers", "2",
                                       "--no-cache"), max(1, args.repeat // 2))
        rows = json.loads((Path(d) / "out" / "results.json").read_text())["submissions"]
        assert len(rows) == args.batch and all(s["score"] == s["max_score"] for s in rows)
    print("  batch of %d full submissions, 2 workers:        %.2f s (%.3f s per submission)" % (args.batch, t, t / args.batch))

    nbg, note = nbgrader_autograde(args.nbgrader_venv, args.repeat)
    if nbg is None:
        print("  nbgrader autograde: not measured: %s" % note)
    else:
        print("  nbgrader autograde, same notebook:              %.3f s (%s)" % (nbg, note))
        print("  speed-up vs nbgrader (in process / command line): %.1fx" % (nbg / one_nb))


if __name__ == "__main__":
    main()
