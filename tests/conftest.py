"""Shared fixtures for the whole test suite."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def book_build(tmp_path_factory):
    """Build the book once per session, strictly, and return (returncode, log, html_dir).

    Uses the project's _build directory so the execution cache is shared with
    ``scripts/build-book``.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"]
    env = dict(os.environ, KERAS_BACKEND="jax", PYDEVD_DISABLE_FILE_VALIDATION="1")
    # The chapters' kernels must use IPython's inline backend: with MPLBACKEND=Agg (set for the
    # test process) plt.show() displays nothing and every figure would vanish from the book.
    env.pop("MPLBACKEND", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=3600)
    log = proc.stdout + proc.stderr
    log_file = tmp_path_factory.mktemp("book") / "build.log"
    log_file.write_text(log)
    return proc.returncode, log, ROOT / "_build" / "html"
