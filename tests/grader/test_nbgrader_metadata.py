"""nbgrader compatibility of the notebooks: setup and given cells are locked (read-only), like
check cells, with grade ids nbgrader accepts."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader.authoring import prepare_solution
from grader.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "solutions").glob("ch*.ipynb")) + sorted(
    (ROOT / "exercises").glob("ch*.ipynb"))
NBGRADER_ID = re.compile(r"^[A-Za-z0-9_-]+$")   # what nbgrader 0.9 allows in a grade_id


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_setup_and_given_cells_are_locked(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    roles = [c["metadata"].get("grader", {}).get("role") for c in cells]
    assert "setup" in roles
    ids = []
    for cell, role in zip(cells, roles):
        nbgrader = cell["metadata"].get("nbgrader")
        if role in ("setup", "given", "check"):
            assert nbgrader and nbgrader["locked"] is True and nbgrader["solution"] is False, cell
            assert nbgrader["grade"] is (role == "check")
        if nbgrader:
            assert NBGRADER_ID.match(nbgrader["grade_id"]), nbgrader["grade_id"]
            ids.append(nbgrader["grade_id"])
    assert len(ids) == len(set(ids)), "nbgrader needs unique grade ids"


def test_generate_locks_a_new_given_cell():
    path = ROOT / "solutions" / "ch06_backprop.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("grader", {}).get("role") in ("setup", "given"):
            del cell["metadata"]["nbgrader"]
    prepared = prepare_solution(nb, default_catalog(), path.stem)
    locked = [c["metadata"]["nbgrader"] for c in prepared["cells"]
              if c["metadata"].get("grader", {}).get("role") in ("setup", "given")]
    assert [m["grade_id"] for m in locked][:2] == ["ch06-setup", "ch06-given"]
    assert all(m == {"grade": False, "solution": False, "locked": True,
                     "grade_id": m["grade_id"], "schema_version": 3} for m in locked)
