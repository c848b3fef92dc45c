"""Gradescope: build the autograder zip, and grade one submission the way Gradescope runs it.

Gradescope's documented layout (gradescope-autograders.readthedocs.io, "Autograder
Specifications"): the zip holds ``setup.sh`` (run once, as root, when Gradescope builds its
image) and an executable ``run_autograder`` at its root; Gradescope unpacks the zip into
``/autograder/source``, puts the learner's files in ``/autograder/submission/``, runs
``run_autograder`` with ``/autograder`` as working directory, and reads
``/autograder/results/results.json``: a total ``score`` and a list of ``tests`` (``name``,
``score``, ``max_score``, ``status``, ``output``, ``visibility``, ``tags``).

:func:`build_zip` packs the course (solutions, checks, ``grader``, ``nnlib``, the learner
requirements) with those two scripts; :func:`submission_source` and :func:`gradescope_results`
are the run mode (``python -m grader gradescope``): the same grading as ``python -m grader
grade``, one learner, the result in Gradescope's schema. Hidden checks are reported with
visibility ``after_published``: learners see them once the instructor publishes the grades.
"""
from __future__ import annotations

import json
import shlex
import zipfile
from pathlib import Path

from .discover import SubmissionSource, notebooks_under

DEFAULT_ROOT = Path("/autograder")
"""Where Gradescope mounts everything (configurable for tests and local trials)."""

COURSE_FOLDER = "course"
"""The course's folder inside the zip (``/autograder/source/course``)."""

COURSE_FILES = ("pyproject.toml", "README.md", "requirements-learner.txt")
COURSE_TREES = (("grader", "*.py"), ("nnlib", "*.py"), ("solutions", "ch*.ipynb"),
                ("tests/exercises", "test_*.py"))
"""What grading needs from the repository: files, and (folder, pattern) read recursively."""

HIDDEN_VISIBILITY = "after_published"
"""Gradescope's visibility for hidden checks: shown when the instructor publishes grades."""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (choose an Ubuntu
# 24.04 base image: the course needs Python 3.11 to 3.14).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install -r /autograder/source/course/requirements-learner.txt \\
    -e /autograder/source/course
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and AUTOGRADER_PYTHON exist only to
# try the autograder outside Gradescope (the course's tests do).
set -euo pipefail
root="${{AUTOGRADER_ROOT:-/autograder}}"
python="${{AUTOGRADER_PYTHON:-$root/venv/bin/python}}"
export KERAS_BACKEND=jax MPLBACKEND=Agg
# Every submission runs in a new container: filling chapter 10's warm compilation cache from the
# reference solution (grader/warm.py) would cost more than it saves, so sandboxes start cold.
export NNGRADER_WARM_DIR=off
cd "$root/source/{course}"
exec "$python" -m grader gradescope --root "$root"{options}
"""


def _course_files(course_root: Path) -> list[Path]:
    files = [course_root / name for name in COURSE_FILES]
    for folder, pattern in COURSE_TREES:
        files += sorted(path for path in (course_root / folder).rglob(pattern)
                        if "__pycache__" not in path.parts)
    return files


def build_zip(out: Path, course_root: Path, chapters: list[str] | None = None,
              extra_tests: list[Path] = ()) -> list[str]:
    """Write Gradescope's autograder zip for this course.

    Parameters
    ----------
    out : Path
        The zip to write (e.g. ``autograder.zip``).
    course_root : Path
        The course repository.
    chapters : list of str, optional
        Chapters every submission is graded on (one not submitted scores zero); default: the
        chapters each submission holds.
    extra_tests : list of Path, default ()
        Folders of instructor-only checks (``test_*.py``), packed under ``extra_tests/N/``.

    Returns
    -------
    list of str
        The archive's member names.
    """
    members: dict[str, tuple[bytes, int]] = {}
    options = f" --chapters {shlex.quote(','.join(chapters))}" if chapters else ""
    for number, folder in enumerate(extra_tests):
        files = sorted(Path(folder).glob("test_*.py"))
        if not files:
            raise FileNotFoundError(f"--extra-tests {folder}: no test_*.py files found")
        for path in files:
            members[f"extra_tests/{number}/{path.name}"] = (path.read_bytes(), 0o644)
        options += f" --extra-tests ../extra_tests/{number}"
    members["setup.sh"] = (SETUP_SH.encode(), 0o755)
    members["run_autograder"] = (
        RUN_AUTOGRADER.format(course=COURSE_FOLDER, options=options).encode(), 0o755)
    for path in _course_files(course_root):
        members[f"{COURSE_FOLDER}/{path.relative_to(course_root).as_posix()}"] = (
            path.read_bytes(), 0o644)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16  # a regular file with its permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return list(members)


def submission_source(root: Path) -> SubmissionSource:
    """The learner's submission in ``root/submission/``: every notebook below it, one learner.

    Raises
    ------
    FileNotFoundError
        When ``root/submission`` is not a folder (not run inside Gradescope's layout).
    """
    folder = Path(root) / "submission"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: run inside Gradescope's layout, or "
                                "give --root the folder that holds submission/")
    return SubmissionSource("submission", folder, tuple(notebooks_under(folder)), layout="folder")


def _test_output(test: dict) -> str:
    if test["hidden"]:
        return test["message"]  # "hidden test N failed: <kind>": never inputs or code
    parts = [test["message"]] + ([f"Printed output:\n{test['output']}"] if test["output"] else [])
    return "\n\n".join(part for part in parts if part)


def gradescope_results(row: dict, bonus_exercises: set[str]) -> dict:
    """One learner's row of ``results.json`` in Gradescope's results schema.

    Parameters
    ----------
    row : dict
        :meth:`grader.results.SubmissionResult.to_dict` (the public form: hidden checks
        carry no check name or detail).
    bonus_exercises : set of str
        Ids of the bonus exercises (their tests are tagged ``bonus``).

    Returns
    -------
    dict
        ``score`` (regular plus bonus points), ``execution_time``, ``output`` (the summary
        a learner sees) and ``tests``: one per check, with ``name``, ``score``, ``max_score``,
        ``status``, ``output``, ``tags`` and ``visibility`` (``after_published`` when hidden).
    """
    tests = []
    for test in row["tests"]:
        check = test["test_id"].split("::", 1)[1]
        tests.append({
            "name": f"{test['exercise']}: {check.removeprefix('test_').replace('_', ' ')}",
            "score": test["points"], "max_score": test["max_points"],
            "status": "passed" if test["status"] == "passed" else "failed",
            "output": _test_output(test),
            "tags": [test["exercise"], *(["bonus"] if test["exercise"] in bonus_exercises else [])],
            "visibility": HIDDEN_VISIBILITY if test["hidden"] else "visible"})
    if row["status"] == "graded":
        summary = [f"Score: {row['score']:g} / {row['max_score']:g}"
                   + (f", bonus {row['bonus_score']:g} / {row['bonus_max']:g}"
                      if row["bonus_max"] else "")]
        hidden = sum(test["hidden"] for test in row["tests"])
        if hidden:
            summary.append(f"{hidden} of the {len(row['tests'])} tests are hidden until the "
                           "grades are published.")
    else:
        summary = [f"Not graded: {row['reason']}"]
    if not row["notebooks"]:
        summary.append("No notebook (.ipynb file) was found in your submission: upload the "
                       "exercise notebook.")
    summary += [f"{entry['path']}: {entry['use']}" + (f" ({entry['note']})" if entry["note"] else "")
                for entry in row["notebooks"] if entry["use"] != "graded"]
    return {"score": row["score"] + row["bonus_score"], "execution_time": round(row["seconds"]),
            "output": "\n".join(summary), "tests": tests}


def results_text(results: dict) -> str:
    """``results.json``'s text."""
    return json.dumps(results, indent=1, ensure_ascii=False)
