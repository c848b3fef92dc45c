"""Benchmark of the final project (solutions/ch12_capstone.ipynb); prints figures, no assertions.

    python benchmarks/bench_capstone.py [--splits 10] [--repeat 3]

1. The reference `train_digits`, run by the grader's sandbox exactly as the digits checks run it,
   on `--splits` different train/test splits of the digits (split seed s, training seed s + 1):
   test accuracy and wall time of each call, then the median and the worst. The same call is also
   timed in this process with one BLAS thread, as CPU time, which a busy machine inflates less.
2. Grading the whole solution notebook in process (catalog loaded, sandbox started per run):
   median wall time, and the CPU time of the trusted process and of the sandbox children.
"""
from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.analyse import build_parts, find_exercise_code  # noqa: E402
from grader.catalog import default_catalog  # noqa: E402
from grader.discover import SubmissionSource  # noqa: E402
from grader.execute import ExerciseRunner, SandboxConfig, Session, chapter_config  # noqa: E402
from grader.grade import grade_snapshot  # noqa: E402
from grader.intake import read_submission  # noqa: E402
from grader.notebook import parse_notebook  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "ch12_capstone.ipynb"


def _checks_module():
    """The capstone's check module: its digits split and trusted forward pass are reused here."""
    path = ROOT / "tests" / "exercises" / "test_ch12_capstone.py"
    spec = importlib.util.spec_from_file_location("capstone_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpu_seconds() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def digits_in_sandbox(splits: int) -> None:
    catalog = default_catalog()
    chapter = catalog.chapters[NOTEBOOK.stem]
    exercise = catalog.exercises["ch12.train_digits"]
    checks = _checks_module()
    notebook = parse_notebook(NOTEBOOK.read_bytes(), NOTEBOOK.name)
    cell, problem = find_exercise_code(notebook, exercise)
    if problem is not None:
        raise SystemExit(f"train_digits not found in {NOTEBOOK}: {problem}")
    config = chapter_config(SandboxConfig(), chapter)
    session = Session(config)
    runner = ExerciseRunner(session, build_parts(notebook, chapter, cell), checks.DIGITS_TIMEOUT)
    reference = catalog.reference(chapter.name)
    accuracies, seconds, cpu_seconds = [], [], []
    print(f"1. reference train_digits in the grader's sandbox ({splits} splits of the digits)")
    try:
        for split in range(splits):
            X_train, y_train, X_test, y_test = checks._digits(split)
            t0 = time.perf_counter()
            params = runner.call("train_digits", (X_train, y_train, split + 1), {})[0]
            seconds.append(time.perf_counter() - t0)
            accuracies.append(float((checks._logits(params, X_test).argmax(axis=1)
                                     == y_test).mean()))
            with threadpool_limits(limits=1, user_api="blas"):
                cpu0 = time.process_time()
                reference.train_digits(X_train, y_train, split + 1)
                cpu_seconds.append(time.process_time() - cpu0)
            print(f"   split {split:2d}: test accuracy {accuracies[-1]:.3f}, "
                  f"{seconds[-1]:.2f} s in the sandbox, {cpu_seconds[-1]:.2f} s CPU in process, "
                  f"layer sizes {checks._sizes(params)}")
    finally:
        runner.finish()
        session.kill()
    print(f"   median test accuracy {statistics.median(accuracies):.3f} (worst "
          f"{min(accuracies):.3f}, target {checks.DIGITS_TARGET}); median time "
          f"{statistics.median(seconds):.2f} s in the sandbox (worst {max(seconds):.2f} s, limit "
          f"{checks.DIGITS_TIMEOUT} s), median CPU time {statistics.median(cpu_seconds):.2f} s")


def grading(repeat: int) -> None:
    catalog = default_catalog()
    source = SubmissionSource("bench", NOTEBOOK.parent, (NOTEBOOK,))
    walls, cpus = [], []
    for _ in range(repeat):
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        result = grade_snapshot(read_submission(source), catalog).to_dict()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_seconds() - cpu0)
    print(f"2. grading {NOTEBOOK.name} in process ({repeat} runs): score {result['score']:g} of "
          f"{result['max_score']:g}; median wall {statistics.median(walls):.2f} s, median CPU "
          f"{statistics.median(cpus):.2f} s (trusted process and sandbox together)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=10, help="digits splits to train on")
    parser.add_argument("--repeat", type=int, default=3, help="gradings of the whole notebook")
    args = parser.parse_args(argv)
    digits_in_sandbox(args.splits)
    grading(args.repeat)


if __name__ == "__main__":
    main()
