"""Stage 7, report: results.json, grades.csv and one feedback page per learner.

Files are written atomically (to a temporary name, then renamed), so a report on disk is
always complete: a grader killed while writing leaves the previous version.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from pathlib import Path

from .results import BatchResults, SubmissionResult, SubmissionStatus
from .verdict import Status

STATUS_COLOUR = {Status.PASSED: "#2e7d32", Status.FAILED: "#c62828",
                 Status.NOT_IMPLEMENTED: "#757575"}
OTHER_COLOUR = "#e65100"
OUTPUT_SHOWN = 1500
"""Characters of printed output shown per test in the feedback page."""

PAGE_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
              "td,th{border-bottom:1px solid #ddd;padding:4px;vertical-align:top}"
              "pre{white-space:pre-wrap;margin:0;font-size:90%}"
              "table{border-collapse:collapse;width:100%}")


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


def results_json(batch: BatchResults) -> str:
    """The text of results.json."""
    return json.dumps(batch.to_dict(), indent=1, ensure_ascii=False)


def grades_csv(batch: BatchResults) -> str:
    """The text of grades.csv: one row per submission, one column per exercise.

    Columns: ``name, status, <exercise ids...>, total, max_score, bonus_score, bonus_max``;
    ``total`` and ``max_score`` leave bonus exercises out.
    """
    exercise_ids = [entry.id for entry in batch.exercises]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "status", *exercise_ids, "total", "max_score", "bonus_score",
                     "bonus_max"])
    for row in batch.submissions:
        graded = row.status is SubmissionStatus.GRADED
        scores = [row.exercises[key].score if key in row.exercises else 0.0
                  for key in exercise_ids]
        writer.writerow([row.name, row.status.value, *scores, row.score,
                         batch.max_score if graded else row.max_score, row.bonus_score,
                         batch.bonus_max if graded else row.bonus_max])
    return buffer.getvalue()


def _test_row(test) -> str:
    escape = html.escape
    colour = STATUS_COLOUR.get(test.status, OTHER_COLOUR)
    mark = "✓" if test.status is Status.PASSED else "✗"
    message = test.message
    if test.output and not test.hidden:
        message += "\n--- printed output ---\n" + test.output[-OUTPUT_SHOWN:]
    return (f"<tr><td>{escape(test.exercise)}</td><td>{escape(test.test_id.split('::')[-1])}</td>"
            f"<td style='color:{colour}'>{mark} {escape(test.status.value)}</td>"
            f"<td>{test.points:g} / {test.max_points:g}</td><td><pre>{escape(message)}</pre></td>"
            "</tr>")


def _notebook_item(entry) -> str:
    reason = f" ({html.escape(entry.reason)})" if entry.reason else ""
    return f"<li>{html.escape(entry.path)}: {html.escape(entry.status)}{reason}</li>"


def feedback_html(row: SubmissionResult, batch: BatchResults) -> str:
    """One learner's feedback page: hidden tests show only pass/fail and the kind of problem."""
    escape = html.escape
    name = escape(row.name)
    reason = f"<p><b>Not gradable:</b> {escape(row.reason)}</p>" if row.reason else ""
    bonus = (f" + bonus <b>{row.bonus_score:g} / {row.bonus_max:g}</b>" if row.bonus_max
             else "")
    versions = {key: escape(str(batch.versions.get(key))) for key in ("grader", "python", "numpy")}
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Feedback: {name}'
        f"</title>\n<style>{PAGE_STYLE}</style></head><body>\n"
        f"<h1>Feedback for {name}</h1><p>Score: <b>{row.score:g} / {row.max_score:g}</b>{bonus} "
        f"(status: {escape(row.status.value)})</p>{reason}"
        f"<ul>{''.join(map(_notebook_item, row.notebooks))}</ul>\n"
        "<table><tr><th>exercise</th><th>test</th><th>status</th><th>points</th><th>message</th>"
        f"</tr>{''.join(map(_test_row, row.tests))}</table>\n"
        f'<p style="color:#777">Graded by grader {versions["grader"]} with Python '
        f'{versions["python"]}, numpy {versions["numpy"]}. Hidden tests show only what kind of '
        "problem they found.</p>\n</body></html>")


def write_reports(batch: BatchResults, out: Path):
    """Write results.json, grades.csv and feedback/<learner>.html into ``out``."""
    out = Path(out)
    write_atomically(out / "results.json", results_json(batch))
    write_atomically(out / "grades.csv", grades_csv(batch))
    for row in batch.submissions:
        write_atomically(out / "feedback" / f"{file_name(row.name)}.html",
                         feedback_html(row, batch))
