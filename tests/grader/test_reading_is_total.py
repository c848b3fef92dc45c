"""Reading a notebook is total: any bytes, any JSON shape or depth, any size up to the cap.

Whatever a submitted file holds, intake gives it a parsed notebook or a reason, and the analysis
of what was read (chapter matching, locating code, the suspicious-code scan, the results of
checks that cannot run) neither raises nor produces text that cannot be written as UTF-8.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from grader.analyse import plan_submission
from grader.catalog import default_catalog
from grader.intake import NotebookFile, Snapshot, read_file, read_notebook, read_notebooks
from grader.notebook import MAX_NOTEBOOK_BYTES
from grader.results import NotebookEntry, judge_exercise

ROOT = Path(__file__).resolve().parents[2]
REAL = [(ROOT / "solutions" / name).read_bytes()
        for name in ("ch03_activations.ipynb", "ch06_backprop.ipynb")]
CATALOG = default_catalog()
EXERCISE_IDS = sorted(CATALOG.exercises)
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

texts = st.text(max_size=40) | st.builds(lambda text: text + "\ud800", st.text(max_size=10))
sources = texts | st.sampled_from([
    "def softmax(z):\n    return z\n", "def sigmoid(z)\n    return z\n", "%matplotlib inline\n",
    "import os\nos._exit(0)\n", "def relu(z):\n    return (" * 300 + ")" * 300 + "\n",
    "np.allclose = lambda *a: True\ndef relu(z):\n    return z\n", "def f(\x00):\n    pass\n"])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20)


def maybe(strategy):
    """The strategy, or any JSON value in its place (the wrong type)."""
    return strategy | json_values


metadata = st.fixed_dictionaries({}, optional={
    "grader": maybe(st.fixed_dictionaries({}, optional={
        "exercise": maybe(st.sampled_from(EXERCISE_IDS)),
        "role": maybe(st.sampled_from(["setup", "check", "given"])), "bonus": json_values})),
    "nbgrader": maybe(st.fixed_dictionaries({}, optional={
        "grade_id": maybe(st.sampled_from([e.replace(".", "-") for e in EXERCISE_IDS])),
        "solution": json_values}))})
cells = st.fixed_dictionaries({}, optional={
    "cell_type": maybe(st.sampled_from(["code", "markdown", "raw", "heading"])),
    "source": maybe(sources | st.lists(sources, max_size=3)), "input": maybe(sources),
    "id": maybe(texts), "metadata": maybe(metadata)})
notebooks = st.fixed_dictionaries({}, optional={
    "nbformat": maybe(st.sampled_from([3, 4])), "cells": maybe(st.lists(maybe(cells), max_size=6)),
    "worksheets": maybe(st.lists(maybe(st.fixed_dictionaries(
        {}, optional={"cells": maybe(st.lists(maybe(cells), max_size=4))})), max_size=2))})


def read_and_analyse(data: bytes) -> NotebookFile:
    """Intake and analysis of one file; fails the test on any exception or unwritable text."""
    entry = read_notebook("learner.ipynb", data)
    assert (entry.notebook is None) != (entry.reason is None)
    assert entry.reason is None or (isinstance(entry.reason, str) and entry.reason)
    plan = plan_submission([entry], CATALOG)
    written = [NotebookEntry(entry.path, plan.assigned.get(entry.path), entry.reason,
                             entry.notebook.warnings if entry.notebook else ()).to_dict()]
    written += [flag.__dict__ for flag in plan.flags]
    for chapter in plan.chapters:
        for exercise in chapter.exercises:
            assert bool(exercise.parts) != (exercise.problem is not None)
            if exercise.problem is not None:
                total, tests = judge_exercise(exercise, [])
                written += [total.to_dict(), *(test.to_dict() for test in tests)]
    json.dumps(written, ensure_ascii=False).encode("utf-8")
    return entry


@SETTINGS
@given(st.binary(max_size=4000))
def test_any_bytes(data):
    read_and_analyse(data)


@SETTINGS
@given(json_values)
def test_any_json_document(document):
    entry = read_and_analyse(json.dumps(document).encode())
    if not isinstance(document, dict):
        assert "not a notebook object" in entry.reason


@SETTINGS
@given(notebooks)
def test_any_notebook_shaped_document(document):
    read_and_analyse(json.dumps(document).encode())


def _locations(document, path=()):
    """Every (container, key) of a JSON document, for replacing one value."""
    items = document.items() if isinstance(document, dict) else enumerate(document) \
        if isinstance(document, list) else ()
    for key, value in items:
        yield document, key
        yield from _locations(value, (*path, key))


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_real_notebooks_with_one_value_replaced(data, draw):
    document = json.loads(data)
    locations = list(_locations(document))
    container, key = draw.draw(st.sampled_from(locations))
    container[key] = draw.draw(json_values)
    read_and_analyse(json.dumps(document).encode())


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_real_notebooks_with_bytes_mutated(data, draw):
    for _ in range(draw.draw(st.integers(1, 3))):
        start = draw.draw(st.integers(0, len(data)))
        end = draw.draw(st.integers(start, min(len(data), start + 200)))
        data = data[:start] + draw.draw(st.binary(max_size=20)) + data[end:]
    read_and_analyse(data)


@pytest.mark.parametrize("depth", [10, 1_000, 100_000, 1_000_000])
@pytest.mark.parametrize("opening, closing", [(b"[", b"]"), (b'{"a": ', b"}")])
def test_any_depth(depth, opening, closing):
    data = b'{"nbformat": 4, "cells": ' + opening * depth + b"1" + closing * depth + b"}"
    entry = read_and_analyse(data)
    if depth >= 100_000:
        assert "nested too deeply" in entry.reason


def test_size_cap(tmp_path):
    """Up to MAX_NOTEBOOK_BYTES a file is read; a larger one is refused without reading it all."""
    padding = MAX_NOTEBOOK_BYTES - len(REAL[0]) - 10
    at_cap = REAL[0].rstrip()[:-1] + b', "pad": "' + b"x" * padding + b'"}'
    assert len(at_cap) <= MAX_NOTEBOOK_BYTES
    assert read_and_analyse(at_cap).notebook is not None
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as stream:
        stream.truncate(5 * MAX_NOTEBOOK_BYTES)    # sparse: costs no disk
    data = read_file(huge)
    assert len(data) == MAX_NOTEBOOK_BYTES + 1
    assert "larger than 20 MB" in read_and_analyse(data).reason


def test_files_that_cannot_be_read_get_a_reason(tmp_path):
    os.mkfifo(tmp_path / "pipe.ipynb")             # would block a plain open() forever
    (tmp_path / "folder.ipynb").mkdir()
    (tmp_path / "dangling.ipynb").symlink_to(tmp_path / "nowhere")
    reasons = {}
    for name in ("pipe.ipynb", "folder.ipynb", "dangling.ipynb"):
        try:
            read_file(tmp_path / name)
        except Exception as exc:  # noqa: BLE001 - the type is checked below
            reasons[name] = (type(exc).__name__, exc.reason)
    assert reasons["pipe.ipynb"] == ("UnreadableFile", reasons["pipe.ipynb"][1])
    assert "not a regular file" in reasons["pipe.ipynb"][1]
    assert "not a regular file" in reasons["folder.ipynb"][1] or "cannot read" in \
        reasons["folder.ipynb"][1]
    assert "No such file" in reasons["dangling.ipynb"][1]
    files = read_notebooks(Snapshot("x", "x", {"a.ipynb": b"{"}, {"b.ipynb": "not a regular file"}))
    assert [entry.path for entry in files] == ["a.ipynb", "b.ipynb"]
    assert all(entry.reason for entry in files)
