"""Instructor-only tests from a folder outside the repository: scored, never revealed."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXTRA = '''
import numpy as np
from grader.checks import check, expect_close, run

@check("ch03.relu", points=3, hidden=False)
def test_secret_relu_case(sub):
    z = np.array([-7.25, 7.25, 1234.5])
    expect_close(run(sub.relu, z), np.array([0.0, 7.25, 999.0]))   # deliberately "wrong" expectation
'''


def test_extra_tests_are_hidden_and_scored(tmp_path):
    extra = tmp_path / "instructor_tests"
    extra.mkdir()
    (extra / "test_secret.py").write_text(EXTRA)
    sub = tmp_path / "alice"
    sub.mkdir()
    (sub / "ch03.ipynb").write_bytes((ROOT / "solutions" / "ch03_activations.ipynb").read_bytes())
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "grader", "grade", str(sub), "--out", str(out), "--quiet",
                    "--extra-tests", str(extra)], check=True, cwd=ROOT, env=env, capture_output=True)
    report = json.loads((out / "results.json").read_text())
    row = report["submissions"][0]
    secret = [t for t in row["tests"] if t["exercise"] == "ch03.relu" and t["max_points"] == 3]
    assert len(secret) == 1 and secret[0]["hidden"] and secret[0]["status"] == "failed"
    assert secret[0]["points"] == 0
    assert secret[0]["message"].startswith("hidden test ") and secret[0]["message"].endswith("wrong values")
    learner_page = (out / "feedback" / "alice.html").read_text()
    for leak in ("secret_relu", "1234.5", "999", "7.25", "test_secret"):
        assert leak not in learner_page, leak
    # results.json names the instructor-only files that ran, never a hidden check or its inputs
    # (its hashes and timings are left out of the search: a digest may hold "999" by chance)
    text = re.sub(r'"(content_hash|catalog_fingerprint|seconds)": ("[^"]*"|[\d.]+)', "",
                  (out / "results.json").read_text())
    for leak in ("secret_relu", "1234.5", "999", "7.25"):
        assert leak not in text, leak
    assert row["score"] == row["max_score"] - 3
