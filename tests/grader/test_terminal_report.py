"""The terminal report of `python -m grader NOTEBOOK` and where folder reports go by default."""
from __future__ import annotations

import io
from pathlib import Path

from grader.cli import _summary, default_output


def _test(exercise, name, points, max_points, status="passed", message=""):
    return {"exercise": exercise, "test_id": f"{exercise}::{name}", "points": points,
            "max_points": max_points, "status": status, "message": message}


def test_rows_are_grouped_by_exercise_and_aligned_whatever_the_id_length():
    long_name = "test_" + "a_very_long_check_name_" * 4
    tests = [_test("ch03.sigmoid", "test_short", 1, 1),
             _test("ch03.sigmoid", long_name, 0, 2, "failed", "wrong\nsecond line"),
             _test("ch11.conv2d_layer", "hidden-1", 12.5, 20)]
    report = {"submissions": [{"name": "me", "status": "graded", "score": 13.5,
                               "max_score": 23, "tests": tests}]}
    stream = io.StringIO()
    _summary(report, stream, detail=True)
    lines = stream.getvalue().splitlines()
    rows = [line for line in lines if line.startswith(("    ok", "    FAIL"))]
    headers = [line for line in lines if line.startswith("  ch")]
    assert [line.split()[0] for line in headers] == ["ch03.sigmoid", "ch11.conv2d_layer"]
    assert headers[0].split()[1] == "1/3" and headers[1].split()[1] == "12.5/20"
    ends = {len(line.split("  failed")[0].rstrip()) for line in rows + headers}
    assert len(ends) == 1, lines  # every points column ends at the same column
    assert "         wrong" in lines and "         second line" in lines


def test_folder_reports_go_next_to_the_folder(tmp_path):
    (tmp_path / "exercises").mkdir()
    assert default_output([tmp_path / "exercises"]) == tmp_path / "exercises-graded"
    gitignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "*-graded/" in gitignore.splitlines()
