"""Stage 7, report: everything the instructor reads, written into one output folder.

``OUT/`` after a run holds exactly this run's files: ``results.json``, ``grades.csv``,
``changes.csv`` (what changed since the previous run, per learner), ``report.html`` (the
class report), ``feedback/<learner>.html`` (to send to each learner), ``instructor/
<learner>.html`` (the instructor's view of the same learner), ``canvas.csv`` and
``moodle.csv`` (with a roster), ``previous/`` (the previous run's results.json and
grades.csv) and the row store ``.cache/``. Pages of learners who are no longer in the batch
are removed. The feedback pages are in the language of each learner's notebooks, the class
report and the instructor's pages in the instructor's (:attr:`ClassSettings.language`). Files
are written atomically (to a temporary name, then renamed), so a report on
disk is always complete: a grader killed while writing leaves the previous version.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from ..i18n import use_language
from ..results import BatchResults, SubmissionResult, SubmissionStatus
from ..roster import describe_delay
from .changes import changes_csv, compare
from .classreport import class_report_html
from .exports import canvas_csv, moodle_csv
from .pages import feedback_html

PROBLEM_COLUMNS = ("unreadable", "duplicate", "unmatched", "solution_marked")
PAGE_FOLDERS = ("feedback", "instructor")


def write_atomically(path: Path, text: str):
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def file_name(name: str) -> str:
    """A learner's name as a safe file name (letters, digits, ``-_.``; at most 100 characters)."""
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name)[:100] \
        or "submission"


def results_json(batch: BatchResults, changes: list[dict] | None = None) -> str:
    """The text of results.json (with ``changes`` since the previous run, when known)."""
    data = batch.to_dict()
    data["changes"] = changes or []
    return json.dumps(data, indent=1, ensure_ascii=False)


def _late_by(row: SubmissionResult) -> str:
    return "; ".join(f"{entry['chapter']}: {describe_delay(entry['seconds_late'])}"
                     for entry in row.late)


def grades_csv(batch: BatchResults) -> str:
    """The text of grades.csv: one row per submission (and per missing learner).

    Columns: ``name, status, <exercise ids...>, total, max_score, bonus_score, bonus_max``
    (``total`` and ``max_score`` leave bonus exercises out), then ``late_penalty,
    final_score, late, late_by``, the problem columns ``unreadable, duplicate, unmatched,
    solution_marked`` (the notebooks concerned, ``;``-separated), ``review_flags`` (how many),
    and from the roster ``learner_name, section, in_roster``. A missing learner's scores are
    empty, never zero.
    """
    exercise_ids = [entry.id for entry in batch.exercises]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "status", *exercise_ids, "total", "max_score", "bonus_score",
                     "bonus_max", "late_penalty", "final_score", "late", "late_by",
                     *PROBLEM_COLUMNS, "review_flags", "learner_name", "section", "in_roster"])
    roster = batch.settings.roster is not None
    for row in batch.submissions:
        graded = row.status is SubmissionStatus.GRADED
        if row.status is SubmissionStatus.MISSING:
            numbers = [""] * (len(exercise_ids) + 6)
        else:
            scores = [row.exercises[key].score if key in row.exercises else 0.0
                      for key in exercise_ids]
            numbers = [*scores, row.score, batch.max_score if graded else row.max_score,
                       row.bonus_score, batch.bonus_max if graded else row.bonus_max,
                       row.penalty, row.final_score]
        problems = row.problems()
        learner = row.learner or {}
        writer.writerow([row.name, row.status.value, *numbers, "yes" if row.late else "",
                         _late_by(row), *("; ".join(problems[key]) for key in PROBLEM_COLUMNS),
                         len(row.flags), learner.get("name", ""), learner.get("section", ""),
                         ("yes" if row.learner else "no") if roster else ""])
    return buffer.getvalue()


def _previous(out: Path) -> dict | None:
    try:
        return json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _keep_previous(out: Path):
    for name in ("results.json", "grades.csv"):
        if (out / name).is_file():
            write_atomically(out / "previous" / name, (out / name).read_text(encoding="utf-8"))


def _remove_stale(out: Path, written: set[Path]):
    """Pages of earlier runs that this run did not write (a learner removed, renamed)."""
    for folder in PAGE_FOLDERS:
        for path in (out / folder).glob("*.html") if (out / folder).is_dir() else ():
            if path not in written:
                path.unlink()
    if not (out / "canvas.csv") in written:
        for name in ("canvas.csv", "moodle.csv"):
            (out / name).unlink(missing_ok=True)


def write_reports(batch: BatchResults, out: Path) -> list[dict]:
    """Write this run's complete output folder (see the module's docstring).

    Returns
    -------
    list of dict
        What changed per learner since the previous run (:func:`compare`).
    """
    out = Path(out)
    previous = _previous(out)
    changes = compare(previous, batch) if previous is not None else []
    _keep_previous(out)
    written = set()
    for row in batch.submissions:
        # A learner's page in the language of their notebooks, the instructor's in theirs.
        for folder, instructor, language in (("feedback", False, row.language),
                                             ("instructor", True, batch.settings.language)):
            path = out / folder / f"{file_name(row.name)}.html"
            with use_language(language):
                write_atomically(path, feedback_html(row, batch, instructor=instructor))
            written.add(path)
    if batch.settings.roster is not None:
        write_atomically(out / "canvas.csv", canvas_csv(batch))
        write_atomically(out / "moodle.csv", moodle_csv(batch))
        written.add(out / "canvas.csv")
    write_atomically(out / "grades.csv", grades_csv(batch))
    write_atomically(out / "changes.csv", changes_csv(changes))
    with use_language(batch.settings.language):
        write_atomically(out / "report.html", class_report_html(batch))
    write_atomically(out / "results.json", results_json(batch, changes))
    _remove_stale(out, written)
    return changes
