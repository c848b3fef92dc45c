"""Gradebook files for learning-management systems, from the roster.

* ``canvas.csv``: the layout of Canvas's own gradebook export, which its gradebook import
  accepts: ``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment,
  and a ``Points Possible`` row. Canvas matches learners by ``ID`` (the Canvas user id: the
  roster's ``lms_id``) or the SIS ids; an assignment column named ``Title (12345)`` updates
  assignment 12345, any other title creates a new assignment. (Canvas guides, "How do I import
  grades in the Gradebook?"; the required columns are also listed in OSU's "Import a CSV file
  to Carmen grades".)
* ``moodle.csv``: for Moodle's "Import: CSV file" (grade/import/csv): one row per learner with
  ``ID number``, ``Email address``, ``Full name``, the grade, and a ``Feedback`` column. On
  import, map "ID number" (or "Email address") to the user field of the same name and the
  grade column to the grade item; Moodle's gradeimport_csv_load_data maps users by
  userid, useridnumber, useremail or username.

Both give every roster learner a row; a learner without a submission gets an empty grade.
The grade is the final score (score less any late penalty).
"""
from __future__ import annotations

import csv
import io

from ..results import BatchResults, SubmissionResult, SubmissionStatus

def _grade(row: SubmissionResult) -> str:
    return f"{row.final_score:g}" if row.status is SubmissionStatus.GRADED else ""


def _roster_rows(batch: BatchResults) -> list[SubmissionResult]:
    return [row for row in batch.submissions if row.learner is not None]


def canvas_csv(batch: BatchResults) -> str:
    """The text of canvas.csv (see the module's docstring)."""
    assignment = batch.settings.assignment
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
    writer.writerow(["Points Possible", "", "", "", "", f"{batch.max_score:g}"])
    for row in _roster_rows(batch):
        learner = row.learner
        writer.writerow([learner["name"], learner["lms_id"], learner["id"], learner["email"],
                         learner["section"], _grade(row)])
    return buffer.getvalue()


def _feedback(row: SubmissionResult) -> str:
    if row.status is SubmissionStatus.MISSING:
        return "no submission"
    if row.status is not SubmissionStatus.GRADED:
        return f"not gradable: {row.reason}"
    text = f"{row.score:g} / {row.max_score:g}"
    if row.penalty:
        text += f", late penalty {row.penalty:g}"
    return text


def moodle_csv(batch: BatchResults) -> str:
    """The text of moodle.csv (see the module's docstring)."""
    assignment = batch.settings.assignment
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["ID number", "Email address", "Full name", assignment, "Feedback"])
    for row in _roster_rows(batch):
        learner = row.learner
        writer.writerow([learner["lms_id"] or learner["id"], learner["email"], learner["name"],
                         _grade(row), _feedback(row)])
    return buffer.getvalue()
