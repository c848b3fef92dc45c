"""Every exercise notebook ends with one optional challenge, worth bonus points, announced in its
chapter with the points its checks are worth.

A challenge is the graded cell whose metadata says ``"grader": {"exercise": ..., "bonus": true}``.
It is the last exercise of its solution notebook, it has public and hidden checks in
tests/exercises/, its notebook heading reads ``## Challenge (optional, N bonus points): ...`` and
its chapter's exercise section ``**Optional challenge (N bonus points).**``, where N is the sum of
its checks' points.
"""
from __future__ import annotations

import json
import re

import pytest

from grader.catalog import Catalog

# The final project is a course-wide exercise launched from chapter 9, not a chapter's notebook.
FINAL_PROJECT = "ch12_capstone"
NOTEBOOK_HEADING = re.compile(r"^## Challenge \(optional, (\d+) bonus points\): ", re.M)
BOOK_ANNOUNCEMENT = re.compile(r"\*\*Optional challenge \((\d+) bonus points\)\.\*\*")


@pytest.fixture(scope="module")
def catalog(repo_root):
    return Catalog(repo_root / "solutions", repo_root / "tests" / "exercises")


def _graded_cells(path):
    """(exercise id, bonus flag) of the notebook's graded cells, in order."""
    cells = json.loads(path.read_text("utf-8"))["cells"]
    found = []
    for cell in cells:
        meta = cell.get("metadata", {})
        grader = meta.get("grader", {})
        if cell["cell_type"] == "code" and meta.get("nbgrader", {}).get("solution") \
                and grader.get("exercise"):
            found.append((grader["exercise"], grader.get("bonus") is True))
    return cells, found


def _points(catalog, exercise):
    points = catalog.exercises[exercise].max_points
    assert points == int(points), f"{exercise}: bonus points {points} are not a whole number"
    return int(points)


def test_every_notebook_ends_with_one_challenge(repo_root, catalog):
    problems = []
    for path in sorted((repo_root / "solutions").glob("ch*.ipynb")):
        if path.stem == FINAL_PROJECT:
            continue
        cells, graded = _graded_cells(path)
        challenges = [exercise for exercise, bonus in graded if bonus]
        if len(challenges) != 1:
            problems.append(f"{path.name}: {len(challenges)} challenges (bonus: true), expected 1")
            continue
        if graded[-1][0] != challenges[0]:
            problems.append(f"{path.name}: the challenge {challenges[0]} is not the last exercise")
        checks = catalog.exercises[challenges[0]].checks
        if not any(c.hidden for c in checks) or all(c.hidden for c in checks):
            problems.append(f"{path.name}: {challenges[0]} needs public and hidden checks")
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        stated = NOTEBOOK_HEADING.findall(text)
        points = _points(catalog, challenges[0])
        if stated != [str(points)]:
            problems.append(f"{path.name}: the challenge heading states {stated} bonus points, "
                            f"its checks are worth {points}")
    assert not problems, "\n".join(problems)


def test_every_chapter_announces_its_challenge(repo_root, catalog):
    problems = []
    for chapter in sorted((repo_root / "book").glob("ch*.md")):
        text = chapter.read_text("utf-8")
        section = re.search(r"^## Exercise\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
        if section is None:
            continue
        launch = re.search(r"```\{exercise-launch\}\s+(\S+)", section.group(1)).group(1)
        _, graded = _graded_cells(repo_root / "solutions" / f"{launch}.ipynb")
        challenge = [exercise for exercise, bonus in graded if bonus]
        stated = BOOK_ANNOUNCEMENT.findall(section.group(1))
        expected = [str(_points(catalog, challenge[0]))] if challenge else []
        if stated != expected:
            problems.append(f"{chapter.name}: the exercise section announces {stated} bonus "
                            f"points, the notebook's challenge is worth {expected}")
    assert not problems, "\n".join(problems)
