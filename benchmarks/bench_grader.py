"""The grader's cost, and the grader against nbgrader, like for like (prints figures only).

    python benchmarks/bench_grader.py [--rounds 5] [--nbgrader-venv DIR] [--skip-nbgrader]

Every figure is a median over ``--rounds`` runs of whole processes started from the command
line, as an instructor or a learner would start them; the grader and nbgrader run in alternating
rounds, so both see the same machine load. Core-seconds are the user + system CPU time of the
process and all its children (the sandboxes, nbgrader's kernels), from ``wait4``.

0. The warm folders (grader.warm): chapter 10's compilation cache, filled once per course
   version by grading the reference solution, in a folder of this run; what the first
   ``python -m grader ch10_keras.ipynb`` costs with it. Every later figure starts from it.
1. One learner's whole course: a perfect submission of every exercise notebook, graded by
   ``python -m grader grade LEARNER --workers 1 --no-cache``; core-seconds and wall time. Also
   the ten notebooks issue 9's goal was set for (the chapters added since left out).
2. The cost of each chapter: ``python -m grader NOTEBOOK`` (a learner grading one notebook,
   interpreter start-up included) for each solution notebook.
3. Command line against command line: ``python -m grader NOTEBOOK`` against ``nbgrader
   autograde`` of the same notebook for one learner.
   Chapter 10 also as two other learners wrote it (KERAS_VARIANTS): its cost depends on
   whether the learner's models are in the warm compilation cache.
4. Batch against batch: the same notebooks for the same 3 learners with 2 workers: ``python -m
   grader grade SUBMISSIONS --workers 2 --no-cache`` against two ``nbgrader autograde``
   processes side by side, each with half of the learners in its own course folder (nbgrader has
   no worker option, and two processes sharing one gradebook database would lock each other).
   The learners' chapter 10 notebooks are the three of KERAS_VARIANTS.

nbgrader is not a dependency of the course: ``--nbgrader-venv`` names a scratch virtual
environment outside the repository, created with nbgrader 0.9.6 if it does not exist. nbgrader
runs the notebooks in a kernel of the course's own environment (same numpy, Keras and grader),
so both tools run the same code. Both must give every learner full marks, or the script stops.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("ch*.ipynb"))
ADDED_SINCE_ISSUE_9 = ("ch07_autodiff", "ch12_capstone")
"""Chapters added after issue 9 set its goal for "all ten notebooks" (the others renumbered)."""
ORIGINAL_TEN = [nb for nb in SOLUTIONS if nb.stem not in ADDED_SINCE_ISSUE_9]
ONE_NOTEBOOK = ROOT / "solutions" / "ch03_activations.ipynb"
LEARNERS = ("ada", "grace", "alan")
NBGRADER_VERSION = "0.9.6"
KERAS = ROOT / "solutions" / "ch10_keras.ipynb"
KERAS_VARIANTS = {"ada": None, "grace": "same models, written differently",
                  "alan": "another CNN"}
"""The batch's learners' chapter 10: the reference, the reference's models written in another
style (the warm compilation cache holds their programs all the same), and a CNN of other sizes
(its programs are not in the cache and compile while grading)."""


# --------------------------------------------------------------------------- measuring
def environment() -> dict:
    """The environment of every measured process: as on a learner's machine, Python caches
    bytecode (this development machine turns it off globally)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["KERAS_BACKEND"] = "jax"
    return env


def measured(cmd, cwd=ROOT, env=None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, core-seconds of it and its children)."""
    return measured_together([(cmd, cwd)], env)


def measured_together(cmds, env=None) -> tuple[float, float]:
    """Run ``cmds`` [(cmd, cwd)] side by side; return (wall seconds until the last one ends,
    core-seconds of all of them and their children)."""
    start = time.perf_counter()
    runs = []
    for cmd, cwd in cmds:
        log = tempfile.TemporaryFile()
        runs.append((cmd, log, subprocess.Popen([str(c) for c in cmd], cwd=cwd,
                                                env=env or environment(),
                                                stdout=subprocess.DEVNULL, stderr=log)))
    cpu = 0.0
    for cmd, log, proc in runs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            log.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                             f"{log.read().decode(errors='replace')[-3000:]}")
        log.close()
    return time.perf_counter() - start, cpu


def median(values) -> float:
    return statistics.median(values)


# --------------------------------------------------------------------------- the grader
def grader_cmd(*args):
    return [sys.executable, "-m", "grader", *args, "--quiet"]


def keras_variant(kind: str | None) -> bytes:
    """Chapter 10's solution notebook as another learner could have written it (every check
    still passes): ``kind`` is None (the reference itself) or a value of KERAS_VARIANTS."""
    if kind is None:
        return KERAS.read_bytes()
    nb = json.loads(KERAS.read_text())
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if cell["cell_type"] != "code" or grade_id not in (
                "ch10-build_binary_classifier", "ch10-train_digits_cnn", "ch10-transfer_weights",
                "ch10-build_residual_mlp"):
            continue
        source = "".join(cell["source"])
        changed = ("# my solution\nimport keras as K\nfrom keras import layers as L\n\n\n"
                   + source.replace("keras.Sequential(", "K.Sequential(")
                   .replace("keras.layers.", "L."))
        if kind == "another CNN" and grade_id == "ch10-train_digits_cnn":
            changed = (changed.replace('L.Conv2D(32, (3, 3)', 'L.Conv2D(24, (3, 3)')
                       .replace('L.Dense(64, activation="relu")', 'L.Dense(48, activation="relu")'))
            if "Conv2D(24" not in changed or "Dense(48" not in changed:
                raise SystemExit("the reference CNN changed: update keras_variant()")
        if "L." not in changed:
            raise SystemExit(f"the reference of {grade_id} changed: update keras_variant()")
        cell["source"] = changed
    return json.dumps(nb, indent=1).encode()


def make_learners(folder: Path, notebooks, learners=LEARNERS) -> Path:
    """``folder/<learner>/<notebook>`` for each learner: perfect submissions (chapter 10 in
    the learner's style of KERAS_VARIANTS)."""
    for learner in learners:
        (folder / learner).mkdir(parents=True, exist_ok=True)
        submit(notebooks, folder / learner, learner)
    return folder


def submit(notebooks, folder: Path, learner: str) -> None:
    for nb in notebooks:
        if nb == KERAS:
            (folder / nb.name).write_bytes(keras_variant(KERAS_VARIANTS.get(learner)))
        else:
            shutil.copy(nb, folder / nb.name)


def check_full_marks(results: Path, learners) -> None:
    report = json.loads(results.read_text())
    scores = {s["name"]: (s["score"], s["max_score"]) for s in report["submissions"]}
    if sorted(scores) != sorted(learners) or any(s != m or m <= 0 for s, m in scores.values()):
        raise SystemExit(f"the grader did not give full marks: {scores}")


# --------------------------------------------------------------------------- nbgrader
def nbgrader_venv(venv: Path) -> Path:
    """The scratch venv with nbgrader, created if missing; the course's environment is its
    notebook kernel (kernel name python3, as in the notebooks' metadata)."""
    if ROOT in venv.resolve().parents or venv.resolve() == ROOT:
        raise SystemExit("--nbgrader-venv must be outside the repository")
    if not (venv / "bin" / "nbgrader").exists():
        print(f"creating {venv} with nbgrader {NBGRADER_VERSION} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([venv / "bin" / "pip", "install", "--quiet",
                        f"nbgrader=={NBGRADER_VERSION}"], check=True)
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(venv),
                    "--name", "python3", "--display-name", "course environment"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return venv


def nbgrader_course(folder: Path, venv: Path, notebooks, learners) -> tuple[list, Path]:
    """A course folder with assignment ps1 (``notebooks``) released and submitted by
    ``learners``; returns (the autograde command, the gradebook)."""
    folder.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(folder)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 900\n")
    source = folder / "source" / "ps1"
    source.mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, source / nb.name)
    env = nbgrader_env(venv)
    subprocess.run([venv / "bin" / "nbgrader", "generate_assignment", "ps1", "--force"],
                   cwd=folder, env=env, check=True, capture_output=True)
    for learner in learners:
        submitted = folder / "submitted" / learner / "ps1"
        submitted.mkdir(parents=True)
        submit(notebooks, submitted, learner)      # as for the grader: every check passes
        (submitted / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    return [venv / "bin" / "nbgrader", "autograde", "ps1", "--force", "--create"], \
        folder / "gradebook.db"


def nbgrader_env(venv: Path) -> dict:
    env = environment()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    return env


def nbgrader_scores(gradebook: Path) -> dict:
    with sqlite3.connect(gradebook) as db:
        rows = db.execute(
            "select student.id, sum(grade.auto_score), sum(grade_cells.max_score) from grade "
            "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = "
            "submitted_assignment.id join student on submitted_assignment.student_id = "
            "student.id join grade_cells on grade.cell_id = grade_cells.id "
            "group by student.id").fetchall()
    return {student: (score, total) for student, score, total in rows}


def check_nbgrader_full_marks(gradebooks, learners) -> None:
    """Stops if nbgrader graded the wrong learners; says so if a score is not full (e.g. a
    self-check that ran past its time limit on a loaded machine: the work was still done)."""
    scores = {}
    for gradebook in gradebooks:
        scores.update(nbgrader_scores(gradebook))
    if sorted(scores) != sorted(learners) or not all(m for _, m in scores.values()):
        raise SystemExit(f"nbgrader did not grade every learner: {scores}")
    short = {name: f"{s:g}/{m:g}" for name, (s, m) in scores.items() if s != m}
    if short:
        print(f"  note: nbgrader's last round did not give full marks: {short}")


# --------------------------------------------------------------------------- the figures
def whole_course(scratch: Path, rounds: int) -> None:
    """Every notebook of the course, and the ten of issue 9's goal, in alternating rounds."""
    courses = [("whole course", SOLUTIONS), ("issue 9's ten chapters", ORIGINAL_TEN)]
    runs = {label: [] for label, _ in courses}
    for i in range(rounds):
        for label, notebooks in courses if i % 2 == 0 else courses[::-1]:
            folder = scratch / f"one-{len(notebooks)}"
            learner = make_learners(folder, notebooks, learners=("learner",)) / "learner"
            out = folder.with_name(folder.name + "-out")
            runs[label].append(measured(grader_cmd("grade", learner, "--workers", "1",
                                                   "--no-cache", "--out", out)))
            check_full_marks(out / "results.json", ["learner"])
    for label, notebooks in courses:
        print(f"one learner, {label} ({len(notebooks)} notebooks), 1 worker, no cache: "
              f"{median(c for _, c in runs[label]):.2f} core-seconds "
              f"(wall {median(w for w, _ in runs[label]):.2f} s)")


def warm_folders(scratch: Path) -> None:
    """Fill the trusted warm folders (grader.warm) in a folder of this run, once, as the first
    grading of a new course version does: every later figure starts from them."""
    os.environ["NNGRADER_WARM_DIR"] = str(scratch / "warm")
    wall, cpu = measured(grader_cmd(KERAS))
    print(f"warm folders filled from the reference solution (once per course version), with "
          f"the first python -m grader {KERAS.name}: {cpu:.2f} core-seconds (wall {wall:.2f} s)",
          flush=True)


def per_chapter(scratch: Path, rounds: int) -> None:
    print("cost of each chapter (python -m grader NOTEBOOK, interpreter start-up included):")
    total = 0.0
    for nb in SOLUTIONS:
        runs = [measured(grader_cmd(nb)) for _ in range(rounds)]
        cpu = median(c for _, c in runs)
        total += cpu
        print(f"  {nb.stem:<24} {cpu:6.2f} core-seconds  (wall {median(w for w, _ in runs):.2f} s)")
    print(f"  {'sum':<24} {total:6.2f} core-seconds (each run pays the start-up again)")
    for kind in [k for k in KERAS_VARIANTS.values() if k]:
        variant = scratch / kind.replace(" ", "-").replace(",", "") / KERAS.name
        variant.parent.mkdir(parents=True)
        variant.write_bytes(keras_variant(kind))
        runs = [measured(grader_cmd(variant)) for _ in range(rounds)]
        print(f"  {KERAS.stem}, {kind}: {median(c for _, c in runs):.2f} core-seconds "
              f"(wall {median(w for w, _ in runs):.2f} s)")


def command_line(scratch: Path, venv: Path | None, rounds: int) -> None:
    label = f"command line, one notebook ({ONE_NOTEBOOK.stem}), one learner"
    ours_cmd = grader_cmd(ONE_NOTEBOOK)
    if venv is None:
        runs = [measured(ours_cmd) for _ in range(rounds)]
        print(f"{label}: grader {median(w for w, _ in runs):.2f} s wall (nbgrader skipped)")
        return
    cmd, gradebook = nbgrader_course(scratch / "nbg-one", venv, [ONE_NOTEBOOK], ["ada"])
    env = nbgrader_env(venv)
    ours, theirs = [], []
    for i in range(rounds):
        pair = [lambda: ours.append(measured(ours_cmd)),
                lambda: theirs.append(measured(cmd, cwd=scratch / "nbg-one", env=env))]
        for run in pair if i % 2 == 0 else pair[::-1]:
            run()
    check_nbgrader_full_marks([gradebook], ["ada"])
    report(label, ours, theirs)


def batch(scratch: Path, venv: Path | None, rounds: int) -> None:
    label = f"batch, {len(SOLUTIONS)} notebooks x {len(LEARNERS)} learners, 2 workers"
    subs = make_learners(scratch / "subs", SOLUTIONS)
    ours_cmd = grader_cmd("grade", subs, "--workers", "2", "--no-cache", "--out",
                          scratch / "batch-out")
    if venv is None:
        runs = [measured(ours_cmd) for _ in range(rounds)]
        check_full_marks(scratch / "batch-out" / "results.json", LEARNERS)
        print(f"{label}: grader {median(w for w, _ in runs):.2f} s wall (nbgrader skipped)")
        return
    halves = [list(LEARNERS[0::2]), list(LEARNERS[1::2])]
    courses = [nbgrader_course(scratch / f"nbg-batch{i}", venv, SOLUTIONS, half)
               for i, half in enumerate(halves)]
    together = [(cmd, scratch / f"nbg-batch{i}") for i, (cmd, _) in enumerate(courses)]
    env = nbgrader_env(venv)
    ours, theirs = [], []
    for i in range(rounds):
        pair = [lambda: ours.append(measured(ours_cmd)),
                lambda: theirs.append(measured_together(together, env=env))]
        for run in pair if i % 2 == 0 else pair[::-1]:
            run()
    check_full_marks(scratch / "batch-out" / "results.json", LEARNERS)
    check_nbgrader_full_marks([gradebook for _, gradebook in courses], LEARNERS)
    report(label, ours, theirs)
    print(f"  per learner: grader {median(c for _, c in ours) / len(LEARNERS):.2f} "
          f"core-seconds, nbgrader {median(c for _, c in theirs) / len(LEARNERS):.2f}")


def report(label, ours, theirs) -> None:
    wall_ours, wall_theirs = median(w for w, _ in ours), median(w for w, _ in theirs)
    print(f"{label}:\n  grader {wall_ours:.2f} s wall ({median(c for _, c in ours):.2f} "
          f"core-s), nbgrader {wall_theirs:.2f} s wall ({median(c for _, c in theirs):.2f} "
          f"core-s): grader {wall_theirs / wall_ours:.1f}x faster")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="runs of each measurement (median)")
    ap.add_argument("--nbgrader-venv", type=Path, default=Path(tempfile.gettempdir()) /
                    f"nbgrader-{NBGRADER_VERSION}", help="scratch venv with nbgrader "
                    "(created if missing), outside the repository")
    ap.add_argument("--skip-nbgrader", action="store_true", help="the grader's figures only")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured
    venv = None if args.skip_nbgrader else nbgrader_venv(args.nbgrader_venv)
    print(f"grader benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{args.rounds} rounds, medians"
          + ("" if venv is None else f", nbgrader {NBGRADER_VERSION} in alternating rounds"))
    with tempfile.TemporaryDirectory(prefix="bench-grader-") as scratch:
        scratch = Path(scratch)
        warm_folders(scratch)
        whole_course(scratch, args.rounds)
        per_chapter(scratch, args.rounds)
        command_line(scratch, venv, args.rounds)
        batch(scratch, venv, args.rounds)


if __name__ == "__main__":
    main()
