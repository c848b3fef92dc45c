"""Time to grade and report a synthetic class: python benchmarks/bench_class.py [--learners 200].

Builds a Canvas bulk download of ``--learners`` learners' chapter-3 notebooks (a mix generated
from the course's own notebooks: complete, partial, blank, near-copies, a duplicate notebook,
late marks, an infinite loop and a truncated file) with a roster (plus missing learners),
then runs the instructor's command ``python -m grader grade`` as a subprocess, twice:

1. a cold run (every learner graded, then every report written), and
2. a warm run into the same folder (every row reused from the cache, so the time is discovery,
   reading, the roster, the regrade comparison and writing every report and page).

Prints the wall time of each, learners per minute, and the report files' sizes.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' sample notebooks (tests/class_samples.py)
import class_samples as samples  # noqa: E402


EXERCISES = ("ch03.sigmoid", "ch03.sigmoid_derivative", "ch03.relu", "ch03.relu_derivative",
             "ch03.softmax")


def build_class(folder: Path, learners: int, rng: random.Random) -> tuple[Path, Path]:
    """A Canvas download folder and its roster (with 5 % missing learners)."""
    subs = folder / "download"
    subs.mkdir()
    loop = samples.notebook(lambda source: source.replace(
        "return out", "while True:\n        pass") if "def sigmoid(" in source else source)
    roster = ["id,name,lms_id,section"]
    for number in range(learners):
        user = 10_000 + number
        name = f"learner{number:04d}"
        roster.append(f"{name},Learner {number:04d},{user},{'AB'[number % 2]}")
        kind = rng.random()
        if kind < 0.30:
            data = samples.FILLED
        elif kind < 0.60:
            data = samples.notebook(only=tuple(rng.sample(EXERCISES, rng.randint(1, 4))))
        elif kind < 0.80:
            data = samples.BLANK
        elif kind < 0.90:
            data = samples.notebook(rng.choice([samples.renamed, samples.respaced,
                                                samples.independent]))
        elif kind < 0.98:
            data = samples.notebook(only=EXERCISES[:2])
            (subs / f"{name}_{user}_{user + 1}_ch03_old.ipynb").write_bytes(samples.BLANK)
        elif kind < 0.99:
            data = loop
        else:
            data = samples.FILLED[:5000]  # truncated download
        late = "_LATE" if rng.random() < 0.1 else ""
        (subs / f"{name}{late}_{user}_{user}_ch03_activations.ipynb").write_bytes(data)
    for extra in range(max(1, learners // 20)):
        roster.append(f"absent{extra:03d},Absent {extra:03d},{90_000 + extra},A")
    (folder / "roster.csv").write_text("\n".join(roster) + "\n")
    return subs, folder / "roster.csv"


def run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, KERAS_BACKEND="jax"))
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        subs, roster = build_class(folder, args.learners, random.Random(args.seed))
        out = folder / "out"
        command = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out),
                   "--workers", str(args.workers), "--quiet", "--roster", str(roster),
                   "--deadline", "2026-03-01T23:59+01:00", "--late-penalty", "10%/day"]
        cold = run(command)
        warm = run(command)
        pages = len(list((out / "feedback").glob("*.html")))
        sizes = {name: (out / name).stat().st_size for name in
                 ("results.json", "grades.csv", "report.html", "canvas.csv")}
    print(f"learners: {args.learners} (+ {max(1, args.learners // 20)} missing), chapter 3, "
          f"{args.workers} workers, {os.cpu_count()} CPUs")
    print(f"cold run (grade + report): {cold:.1f} s = {args.learners / cold * 60:.0f} "
          "learners/min")
    print(f"warm run (all cached: discover, roster, compare, all reports): {warm:.1f} s")
    print(f"feedback pages: {pages}; " + ", ".join(f"{name} {size / 1024:.0f} KiB"
                                                  for name, size in sizes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
