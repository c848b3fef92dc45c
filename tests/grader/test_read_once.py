"""A submitted file is read once per batch: the grade and the cache key come from the same bytes.

The file under test changes on disk every time it is opened (an audit hook rewrites it just
before each open), as a notebook being saved by a sync client during a grading run would.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]

_WATCHED: dict = {}  # the audit hook below is process-wide and permanent: inert unless armed


def _audit(event, args):
    if event != "open" or not _WATCHED or _WATCHED.get("busy"):
        return
    path = args[0]
    if isinstance(path, (str, bytes, Path)) and str(Path(path if not isinstance(path, bytes)
                                                       else path.decode())) == _WATCHED["path"]:
        _WATCHED["opens"] += 1
        versions = _WATCHED["versions"]
        data = versions[min(_WATCHED["opens"], len(versions)) - 1]
        _WATCHED["busy"] = True
        try:
            Path(_WATCHED["path"]).write_bytes(data)
        finally:
            _WATCHED["busy"] = False


sys.addaudithook(_audit)


@pytest.fixture
def changing_notebook(tmp_path):
    """A learner folder whose ch03 notebook is the reference on the first open, stubs after."""
    learner = tmp_path / "subs" / "alice"
    learner.mkdir(parents=True)
    target = learner / "ch03.ipynb"
    reference = (ROOT / "solutions" / "ch03_activations.ipynb").read_bytes()
    stubs = (ROOT / "exercises" / "ch03_activations.ipynb").read_bytes()
    target.write_bytes(reference)
    _WATCHED.update(path=str(target), opens=0, versions=[reference, stubs, stubs + b"\n"])
    yield tmp_path, target, reference
    _WATCHED.clear()


def test_each_file_is_read_once_and_graded_as_hashed(changing_notebook):
    tmp_path, target, first_version = changing_notebook
    out = tmp_path / "out"
    rc = main(["grade", str(tmp_path / "subs"), "--out", str(out), "--workers", "1", "--quiet"])
    opens = _WATCHED["opens"]
    _WATCHED.clear()
    assert rc == 0
    assert opens == 1, f"the submitted notebook was opened {opens} times in one batch"
    row = json.loads((out / "results.json").read_text())["submissions"][0]
    # the documented key: sha256 over (relative path, NUL, sha256 of the file's bytes) per file
    expected = hashlib.sha256(b"ch03.ipynb\0" + hashlib.sha256(first_version).digest())
    assert row["content_hash"] == expected.hexdigest()
    assert row["score"] == row["max_score"] > 0, "graded bytes differ from the hashed bytes"
