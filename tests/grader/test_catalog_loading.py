"""The grader loads only what the chapters it grades need: their check modules, and a reference
solution only when a check compares with it (chapter 10's would import Keras)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.catalog import Catalog
from grader.discover import SubmissionSource
from grader.grade import grade_snapshot
from grader.intake import read_submission
from grader.paths import checks_dir, solutions_dir

ROOT = Path(__file__).resolve().parents[2]
CH03 = "ch03_activations"


def _check_counts(catalog: Catalog) -> dict[str, int]:
    return {name: sum(len(exercise.checks) for exercise in chapter.exercises)
            for name, chapter in catalog.chapters.items()}


def test_a_catalog_of_no_chapter_reads_every_notebook_and_runs_no_check_module():
    full = Catalog(solutions_dir(), checks_dir())
    empty = Catalog(solutions_dir(), checks_dir(), chapters=[])
    assert list(empty.chapters) == list(full.chapters)
    assert set(_check_counts(empty).values()) == {0}
    assert empty.fingerprint == full.fingerprint   # row-store keys do not depend on it


def test_including_adds_the_check_modules_of_the_chapters_named_only():
    full = Catalog(solutions_dir(), checks_dir())
    empty = Catalog(solutions_dir(), checks_dir(), chapters=[])
    with_ch03 = empty.including([CH03])
    counts = _check_counts(with_ch03)
    assert counts[CH03] == _check_counts(full)[CH03] > 0
    assert sum(counts.values()) == counts[CH03]
    assert empty.including([CH03]) is with_ch03 and with_ch03.including([CH03]) is with_ch03


def test_grading_loads_the_checks_of_the_submitted_chapter():
    empty = Catalog(solutions_dir(), checks_dir(), chapters=[])
    notebook = ROOT / "solutions" / f"{CH03}.ipynb"
    result = grade_snapshot(read_submission(SubmissionSource("ref", notebook.parent,
                                                             (notebook,))), empty)
    full = Catalog(solutions_dir(), checks_dir())
    assert len(result.tests) == _check_counts(full)[CH03]
    assert result.score == result.max_score == full.chapters[CH03].max_points


def test_only_chapters_whose_checks_take_ref_run_their_reference():
    chapters = Catalog(solutions_dir(), checks_dir()).chapters
    assert chapters[CH03].uses_reference
    assert not chapters["ch10_keras"].uses_reference


def test_the_command_line_loads_only_the_graded_chapters_modules(tmp_path):
    """One notebook through `python -m grader`: no other chapter's check module runs, and
    Keras is never imported in the grader's own process."""
    script = (
        "import json, sys\n"
        "from grader.cli import main\n"
        f"code = main(['grade', {str(ROOT / 'solutions' / (CH03 + '.ipynb'))!r}, '--quiet',\n"
        f"             '--out', {str(tmp_path / 'out')!r}])\n"
        "files = sorted(getattr(m, '__file__', '') or '' for n, m in list(sys.modules.items())\n"
        "               if n.startswith('_nn_checks_'))\n"
        "print(json.dumps({'code': code, 'files': files, 'keras': 'keras' in sys.modules}))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert [Path(f).name for f in report["files"]] == [f"test_{CH03}.py"]
    assert report["keras"] is False
