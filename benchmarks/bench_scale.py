"""Learners per minute, local pool vs a local Dask cluster: python benchmarks/bench_scale.py.

Builds a synthetic class of ``--learners`` learners (default 200), one folder each with a
chapter-3 notebook generated from the course's solution: perfect, partial (some exercises
done), blank, and hostile (an infinite loop, a flood of output, a memory bomb, code that tries
the network and the file system, code that kills its own process). Every notebook differs by a
few bytes, and ``--no-cache`` makes every run grade every learner.

Then it times the instructor's command ``python -m grader grade`` (a subprocess, reports
included) with the local pool of ``--workers`` processes and with ``--scheduler`` on a local
Dask cluster of the same size (``dask scheduler`` + ``dask worker --nworkers W --nthreads 1``,
started once and left running between runs, as an instructor's cluster would be), alternating
the two modes ``--repeats`` times, and prints the median wall time, learners per minute, the
ratio of the two, and the core-seconds per learner (CPU time of every process involved: the
grader, its workers or the Dask scheduler and workers, and every sandbox process they ran).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import distributed
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' sample notebooks (tests/class_samples.py)
import class_samples as samples  # noqa: E402

EXERCISES = ("ch03.sigmoid", "ch03.sigmoid_derivative", "ch03.relu", "ch03.relu_derivative",
             "ch03.softmax")
HOSTILE_LINES = {
    "loop": "while True:\n        pass",
    "flood": "print('x' * 10_000_000)",
    "memory": "hoard = bytearray(8 * 1024 ** 3)",
    "snoop": "import os, socket; os.listdir('/'); socket.create_connection(('127.0.0.1', 22))",
    "exit": "import os; os._exit(3)",
}
"""Lines put at the top of the learner's ``sigmoid``: what hostile submissions do."""


def hostile(kind: str) -> bytes:
    """The complete notebook with ``sigmoid`` starting with a hostile line."""
    line = HOSTILE_LINES[kind]
    return samples.notebook(lambda source: source.replace(
        "def sigmoid(z):\n", f"def sigmoid(z):\n    {line}\n", 1))


def build_class(folder: Path, learners: int, rng: random.Random) -> dict[str, int]:
    """One folder per learner under ``folder``; returns how many of each kind."""
    counts: dict[str, int] = {}
    for number in range(learners):
        draw = rng.random()
        if draw < 0.35:
            kind, data = "perfect", samples.FILLED
        elif draw < 0.65:
            kind = "partial"
            data = samples.notebook(only=tuple(rng.sample(EXERCISES, rng.randint(1, 4))))
        elif draw < 0.85:
            kind, data = "blank", samples.BLANK
        else:
            kind = "hostile"
            data = hostile(rng.choice(sorted(HOSTILE_LINES)))
        counts[kind] = counts.get(kind, 0) + 1
        learner = folder / f"learner{number:05d}"
        learner.mkdir(parents=True)
        (learner / "ch03.ipynb").write_bytes(data + b" " * number)  # distinct bytes
    return counts


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT),
                                     DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0"))


def start_cluster(folder: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and ``workers`` single-threaded worker processes on localhost."""
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = folder / "scheduler.json"
    scheduler = _start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                       folder / "scheduler.log")
    while not scheduler_file.exists():
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = _start([dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                     "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0"],
                    folder / "workers.log")
    with distributed.Client(address, timeout="30s") as client:
        client.wait_for_workers(workers, timeout=120)
    return address, [scheduler, worker]


def tree_cpu(processes: list[subprocess.Popen]) -> float:
    """CPU seconds so far of these processes, their descendants, and the children they reaped."""
    total = 0.0
    for process in processes:
        root = psutil.Process(process.pid)
        for member in [root, *root.children(recursive=True)]:
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


def grade(subs: Path, out: Path, options: list[str], cluster: list[subprocess.Popen]):
    """Wall seconds and core-seconds of one run of the instructor's command."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_cluster = tree_cpu(cluster)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out),
                    "--no-cache", "--quiet", *options], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, KERAS_BACKEND="jax"))
    wall = time.perf_counter() - started
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_children.ru_utime - before_children.ru_utime
           + after_children.ru_stime - before_children.ru_stime
           + tree_cpu(cluster) - before_cluster)
    return wall, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        counts = build_class(folder / "subs", args.learners, random.Random(args.seed))
        address, cluster = start_cluster(folder, args.workers)
        modes = {"local": (["--workers", str(args.workers)], []),
                 "dask": (["--scheduler", address], cluster)}
        figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
        try:
            for repeat in range(args.repeats):
                for mode, (options, processes) in modes.items():
                    figures[mode].append(grade(folder / "subs", folder / f"out-{mode}",
                                               options, processes))
                    wall, cpu = figures[mode][-1]
                    print(f"run {repeat + 1} {mode:5s}: {wall:6.1f} s wall, {cpu:6.1f} "
                          "core-seconds", flush=True)
        finally:
            for process in cluster:
                process.terminate()
                process.wait()
    print(f"class: {args.learners} learners ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
          f"chapter 3; {args.workers} workers; {os.cpu_count()} CPUs; median of {args.repeats}")
    rates = {}
    for mode, runs in figures.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        rates[mode] = args.learners / wall * 60
        print(f"{mode:5s}: {wall:6.1f} s, {rates[mode]:6.0f} learners/min, "
              f"{cpu / args.learners:.2f} core-seconds per learner")
    print(f"dask / local learners per minute: {rates['dask'] / rates['local']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
