"""The grader on a generated corpus of bad submissions: one batch, 2 workers, asserted per row."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import build

ROOT = Path(__file__).resolve().parents[2]


def _hashes(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def _sandbox_processes() -> list[str]:
    """Orphaned sandbox processes: running under the sandbox's unprivileged uids with no live
    trusted grader (``-m grader`` or pytest) above them. Sandboxes of other grader runs that are
    still working (another pytest-xdist worker, an executing book page) have such a parent and
    are not counted; a process our batch left behind has been re-parented away from it."""
    out = subprocess.run(["ps", "-eo", "uid=,pid=,ppid=,args="], capture_output=True,
                         text=True).stdout
    procs = {}
    for ln in out.splitlines():
        parts = ln.split(None, 3)
        if len(parts) >= 3:
            procs[int(parts[1])] = (int(parts[0]), int(parts[2]), parts[3] if len(parts) > 3 else "")

    def has_trusted_ancestor(pid):
        seen = set()
        while pid in procs and pid not in seen and pid > 1:
            seen.add(pid)
            uid, ppid, args = procs[pid]
            if uid == os.getuid() and " -I -c " not in f" {args} " and (
                    "-m grader" in args or "pytest" in args or "grader.cli" in args):
                return True
            pid = ppid
        return False

    return [f"{pid} {args[:80]}" for pid, (uid, _, args) in procs.items()
            if 61000 <= uid < 68000 and not has_trusted_ancestor(pid)]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    expectations = build(corpus)
    before = _hashes(corpus)
    out = tmp_path_factory.mktemp("out")
    cmd = [sys.executable, "-m", "grader", "grade", str(corpus), "--out", str(out), "--workers", "2",
           "--timeout", "1.5", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    report = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else None
    return {"corpus": corpus, "exp": expectations, "before": before, "after": _hashes(corpus),
            "proc": proc, "report": report, "out": out}


def _row(batch, name):
    rows = [s for s in batch["report"]["submissions"] if s["name"] == name]
    assert len(rows) == 1, "expected exactly one row for %s, got %d" % (name, len(rows))
    return rows[0]


def test_batch_completes_with_a_row_per_submission(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-3000:]
    names = [s["name"] for s in batch["report"]["submissions"]]
    assert sorted(names) == sorted(batch["exp"])
    assert (batch["out"] / "grades.csv").read_text().count("\n") == len(names) + 1
    for n in names:
        assert (batch["out"] / "feedback" / (n + ".html")).exists()


def test_submitted_files_unchanged(batch):
    assert batch["after"] == batch["before"]


def test_no_sandbox_process_left_behind(batch):
    assert _sandbox_processes() == []


def test_versions_and_protections_recorded(batch):
    v = batch["report"]["versions"]
    assert v["python"] and v["numpy"] and "keras" in v
    assert batch["report"]["protections"]["limits"]["RLIMIT_AS"] > 0


def test_reference_scores_full_marks(batch):
    r = _row(batch, "reference")
    assert r["status"] == "graded" and r["max_score"] > 0
    assert r["score"] == r["max_score"], [t for t in r["tests"] if t["status"] != "passed"]


def test_stubs_score_zero_not_implemented(batch):
    r = _row(batch, "stubs")
    assert r["score"] == 0 and r["tests"]
    assert {t["status"] for t in r["tests"]} == {"not_implemented"}


CASES = ["invalid_json", "truncated", "empty", "nbformat3", "missing_cell_ids", "duplicated_cell_ids",
         "deleted_graded_cell", "renamed_function", "wrong_signature", "syntax_error", "exception",
         "infinite_loop", "loop_ignoring_sigint", "loop_inside_numpy", "toplevel_while_true", "sys_exit",
         "os_exit", "segfault_ctypes", "allocate_10gb", "fork_bomb_bounded", "print_100mb", "calls_input",
         "reads_solutions", "patches_allclose", "always_true_eq", "calls_nnlib", "network_access",
         "wrong_shape_column", "integer_dtype", "nan_results", "mutates_input", "unseeded_randomness",
         "backprop_double_sigmoid", "deeply_nested_json", "huge_integer", "metadata_wrong_types",
         "surrogate_in_message", "special_file"]


@pytest.mark.parametrize("name", CASES)
def test_bad_submission(batch, name):
    exp = batch["exp"][name]
    r = _row(batch, name)
    assert r["status"] == "graded", r.get("reason")
    ex = r["exercises"][exp["exercise"]]
    assert ex["status"] in exp["status"], (ex, [t for t in r["tests"] if t["exercise"] == exp["exercise"]])
    tests = [t for t in r["tests"] if t["exercise"] == exp["exercise"]]
    if "message" in exp:
        public = " ".join(t["message"] for t in tests if not t["hidden"])
        assert exp["message"] in public, public[:2000]
    if "min_points" in exp:
        assert exp["min_points"] <= ex["score"] < ex["max_points"]
    # a correct exercise in the same submission still gets its points
    ctrl = r["exercises"][exp["control"]]
    assert ctrl["score"] == ctrl["max_points"] > 0, [t for t in r["tests"] if t["exercise"] == exp["control"]]
    if "unreadable" in exp:
        bad = [n for n in r["notebooks"] if n["status"] == "unreadable"]
        assert bad and exp["unreadable"] in bad[0]["reason"], r["notebooks"]
    if "warning" in exp:
        assert any(exp["warning"] in w for n in r["notebooks"] for w in n.get("warnings", [])), r["notebooks"]
    if "flag" in exp:
        assert any(exp["flag"] in f["reason"] for f in r["flags"]), r["flags"]
    if exp.get("truncated"):
        assert any(t["output_truncated"] for t in tests)
        assert all(len(t["output"]) <= 64 * 1024 for t in r["tests"])
        assert "truncated" in " ".join(t["message"] for t in tests)


def test_hidden_tests_leak_nothing(batch):
    for s in batch["report"]["submissions"]:
        for t in s["tests"]:
            if t["hidden"]:
                assert t["output"] == ""
                if t["status"] != "passed":
                    assert t["message"].startswith("hidden test ") or t["status"] in (
                        "missing", "syntax_error", "load_error", "timeout", "crashed"), t
                    assert "array(" not in t["message"] and "test_" not in t["test_id"].split("::")[-1]


def test_cache_skips_unchanged_and_force_regrades(batch, tmp_path):
    one = batch["corpus"] / "exception"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "o"
    base = [sys.executable, "-m", "grader", "grade", str(one), "--out", str(out), "--quiet", "--timeout", "1.5"]
    subprocess.run(base, check=True, capture_output=True, cwd=ROOT, env=env)
    second = subprocess.run(base, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    assert "(cached)" in second.stdout
    third = subprocess.run(base + ["--force"], check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    assert "(cached)" not in third.stdout
