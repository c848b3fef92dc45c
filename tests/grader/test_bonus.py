"""Bonus (challenge) exercises, on a small synthetic course: reported apart, never in max_score."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.catalog import Catalog
from grader.execute import SandboxConfig

CHECKS = '''
import numpy as np
from grader.checks import check, expect_close, run

@check("ch90.double", points=2)
def test_double(sub):
    expect_close(run(sub.double, np.array([1.0, -2.0])), np.array([2.0, -4.0]))

@check("ch90.double", points=1, hidden=True)
def test_double_hidden(sub):
    expect_close(run(sub.double, np.array([0.5])), np.array([1.0]))

@check("ch90.cube", points=3)
def test_cube(sub):
    expect_close(run(sub.cube, np.array([2.0, -1.0])), np.array([8.0, -1.0]))
'''

DOUBLE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
CUBE = "def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION\n"


def _cell(cell_id: str, source: str, grader: dict, nbgrader: dict | None = None) -> dict:
    metadata = {"grader": grader}
    if nbgrader is not None:
        metadata["nbgrader"] = nbgrader
    return {"cell_type": "code", "id": cell_id, "metadata": metadata, "source": source,
            "outputs": [], "execution_count": None}


def _notebook(double: str, cube: str) -> dict:
    def graded(name, source, bonus):
        grader = {"exercise": f"ch90.{name}", **({"bonus": True} if bonus else {})}
        return _cell(f"ch90-{name}", source, grader, {
            "grade": False, "solution": True, "locked": False, "grade_id": f"ch90-{name}",
            "schema_version": 3})
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        graded("double", double, False),
        _cell("ch90-double-check", 'check("ch90.double", double)',
              {"role": "check", "exercise": "ch90.double"}),
        graded("cube", cube, True),
        _cell("ch90-cube-check", 'check("ch90.cube", cube)',
              {"role": "check", "exercise": "ch90.cube"})]}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "solutions").mkdir()
    (root / "checks").mkdir()
    (root / "solutions" / "ch90_demo.ipynb").write_text(json.dumps(_notebook(DOUBLE, CUBE)))
    (root / "checks" / "test_ch90_demo.py").write_text(CHECKS)
    return root, Catalog(root / "solutions", root / "checks")


@pytest.fixture(scope="module")
def graded(course):
    root, catalog = course
    learners = {"full": (DOUBLE, CUBE), "regular_only": (DOUBLE, "def cube(x):\n    return x\n"),
                "bonus_only": ("def double(x):\n    return x\n", CUBE)}
    for name, (double, cube) in learners.items():
        (root / "subs" / name).mkdir(parents=True)
        (root / "subs" / name / "demo.ipynb").write_text(json.dumps(_notebook(double, cube)))
    out = root / "out"
    batch = grade_batch([root / "subs"], out, catalog, SandboxConfig(), workers=1,
                        progress=False)
    with open(out / "grades.csv", newline="") as stream:
        csv_rows = {row["name"]: row for row in csv.DictReader(stream)}
    return json.loads((out / "results.json").read_text()), csv_rows, out


def test_the_catalog_reads_the_bonus_flag(course):
    _, catalog = course
    assert catalog.exercises["ch90.cube"].bonus and not catalog.exercises["ch90.double"].bonus
    assert catalog.max_points == 3                       # 2 + 1 for double; cube's 3 are bonus
    assert catalog.chapters["ch90_demo"].bonus_max == 3


def test_results_json_reports_bonus_apart(graded):
    report, _, _ = graded
    assert report["max_score"] == 3 and report["bonus_max"] == 3
    entries = {entry["id"]: entry for entry in report["exercises"]}
    assert entries["ch90.cube"].get("bonus") is True and "bonus" not in entries["ch90.double"]
    rows = {row["name"]: row for row in report["submissions"]}
    expected = {"full": (3, 3), "regular_only": (3, 0), "bonus_only": (0, 3)}
    for name, (score, bonus) in expected.items():
        row = rows[name]
        assert (row["score"], row["max_score"]) == (score, 3), name
        assert (row["bonus_score"], row["bonus_max"]) == (bonus, 3), name
        assert row["exercises"]["ch90.cube"]["bonus"] is True


def test_grades_csv_has_bonus_columns_outside_the_total(graded):
    _, csv_rows, _ = graded
    row = csv_rows["bonus_only"]
    assert float(row["total"]) == 0 and float(row["max_score"]) == 3
    assert float(row["bonus_score"]) == 3 and float(row["bonus_max"]) == 3
    assert float(row["ch90.cube"]) == 3


def test_feedback_shows_the_bonus(graded):
    _, _, out = graded
    page = (out / "feedback" / "regular_only.html").read_text()
    assert "Score: <b>3 / 3</b> + bonus <b>0 / 3</b>" in page
