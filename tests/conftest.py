"""Shared fixtures for the whole test suite."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("MPLBACKEND", "Agg")
# The grader's warm folders (grader.warm: chapter 10's compilation cache, filled by grading the
# reference solution) go to a folder of this test run, not to the user's ~/.cache: the run
# starts from nothing (so it fills one, as a new course version does) and leaves nothing behind.
_WARM = tempfile.mkdtemp(prefix="nngrader-warm-tests-")
os.environ.setdefault("NNGRADER_WARM_DIR", _WARM)
atexit.register(shutil.rmtree, _WARM, True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def _book_environment() -> dict:
    env = dict(os.environ, KERAS_BACKEND="jax", PYDEVD_DISABLE_FILE_VALIDATION="1")
    # The chapters' kernels must use IPython's inline backend: with MPLBACKEND=Agg (set for the
    # test process) plt.show() displays nothing and every figure would vanish from the book.
    env.pop("MPLBACKEND", None)
    return env


@pytest.fixture(scope="session")
def book_build(tmp_path_factory):
    """Build both editions once per session, strictly, as ``scripts/build-book`` does, and
    return (returncode, log, html_dir): English in html_dir, Chinese in html_dir / "zh".

    Uses the project's _build directory so the execution cache is shared with
    ``scripts/build-book``.
    """
    cmd = [sys.executable, str(ROOT / "scripts" / "build_book.py")]
    proc = subprocess.run(cmd, cwd=ROOT, env=_book_environment(), capture_output=True,
                          text=True, timeout=3600)
    log = proc.stdout + proc.stderr
    log_file = tmp_path_factory.mktemp("book") / "build.log"
    log_file.write_text(log)
    return proc.returncode, log, ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def book_templates(book_build, tmp_path_factory) -> Path:
    """The message templates (.pot) of the book's pages, written by a gettext build after the
    book build (whose execution cache it reuses), and of the exercise notebooks' prose: what
    ``scripts/update-translations`` merges into the catalogs."""
    returncode, log, _ = book_build
    if returncode != 0:
        pytest.fail("the book build failed, so the templates cannot be compared:\n" + log[-3000:])
    outdir = tmp_path_factory.mktemp("gettext")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"),
                           "--gettext", str(outdir)], cwd=ROOT, env=_book_environment(),
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        pytest.fail("the gettext build failed:\n" + (proc.stdout + proc.stderr)[-3000:])
    proc = subprocess.run([sys.executable, "-m", "grader.authoring", "templates", str(outdir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail("the exercise notebooks' templates failed:\n" + proc.stdout + proc.stderr)
    return outdir
