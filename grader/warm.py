"""Warm starts: a chapter's sandbox starts with what grading the reference solution left behind.

Chapter 10's sandbox spends most of its time compiling the learner's Keras models with XLA. JAX
keeps compiled programs in a cache folder (``JAX_COMPILATION_CACHE_DIR``, in the sandbox's
private ``/tmp``); a learner whose models have the reference's shapes needs the same programs.
A check module names such a folder with ``SANDBOX = {"warm_folder": "jax-cache", ...}``, and:

* the folder is filled only by trusted code: the grader grades the chapter's *reference
  solution* once per course version (solutions, checks and grader code: the catalog's
  fingerprint) and sandbox settings, in a sandbox whose warm folder is a fresh host folder
  mounted writable, and keeps the result only if the reference earned full marks in an
  isolated sandbox;
* it is stored outside every sandbox (``$NNGRADER_WARM_DIR``, default
  ``$XDG_CACHE_HOME/nngrader/warm`` or ``~/.cache/nngrader/warm``, mode 0700) and never changes
  once stored (a finished fill is renamed into place; nothing writes to it afterwards); one
  process fills it while the others wait (a lock file beside it), so the workers of a batch
  fill it once; where the reference cannot fill it, a ``.cold`` file beside it says why, and
  that course version's sandboxes start cold for the next hour, after which a run tries again;
* ``NNGRADER_WARM_DIR=off`` turns warm starts off: every sandbox starts cold (Gradescope's
  autograder does, since each submission runs in a new container, where filling the folder would
  cost more than it saves);
* a learner's sandbox gets a private *copy* in its own ``/tmp``, made before any learner code
  runs (mount kind ``copy`` of :mod:`grader.sandbox.policy`); the host folder is never visible
  to it, so what a learner's code compiles or writes there dies with their sandbox and cannot
  reach another learner.
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from .catalog import Catalog, Chapter
from .execute import SandboxConfig
from .intake import Snapshot
from .results import SubmissionStatus

__all__ = ["WarmStarts", "warm_root"]

COLD_RETRY_SECONDS = 3600
"""A failed fill is not tried again for this long (each learner would pay for it); after that,
the next grader run tries again (the failure may have been a passing one, e.g. an overloaded
machine)."""


def warm_root() -> Path:
    """Where the trusted warm folders are kept (outside every sandbox's file system)."""
    if os.environ.get("NNGRADER_WARM_DIR"):
        return Path(os.environ["NNGRADER_WARM_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "nngrader" / "warm"


class WarmStarts:
    """The trusted warm folders of one catalog (filled on first use: one process fills a folder,
    the others wait for it).

    ``grade`` is :func:`grader.grade.grade_snapshot` (passed in: that orchestrator uses this
    one), with which the reference solution is graded to fill a folder.
    """

    def __init__(self, catalog: Catalog, grade):
        self.catalog, self.grade = catalog, grade
        self._known: dict[Path, bool] = {}

    def folder(self, config: SandboxConfig, chapter: Chapter) -> Path:
        """The warm folder of ``chapter`` for sandboxes like ``config``: one per course
        version, interpreter and environment (XLA's flags change what it compiles)."""
        key = hashlib.sha256("\0".join([
            self.catalog.fingerprint, config.python, config.warm_folder,
            *(f"{name}={value}" for name, value in sorted(config.env.items()))]).encode())
        return warm_root() / f"{chapter.name}-{key.hexdigest()[:20]}"

    def config_for(self, config: SandboxConfig, chapter: Chapter) -> SandboxConfig:
        """``config`` with its warm folder's trusted source, filled from the reference solution
        if needed; ``config`` itself where no warm folder can be had (the sandbox starts cold)."""
        if (not config.warm_folder or config.warm_fill or not config.namespaces
                or os.environ.get("NNGRADER_WARM_DIR") == "off"):
            return config
        folder = self.folder(config, chapter)
        if folder not in self._known:
            self._known[folder] = folder.is_dir() or self._fill_once(config, chapter, folder)
        if not self._known[folder]:
            return config
        return dataclasses.replace(config, warm_source=str(folder))

    def _fill_once(self, config: SandboxConfig, chapter: Chapter, folder: Path) -> bool:
        """Fill ``folder`` unless another process is filling it (then wait for that one: the
        workers of a batch fill it once, not once each) or a recent fill failed."""
        cold = folder.with_name(folder.name + ".cold")  # why it could not be filled
        try:
            folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock = open(folder.with_name("." + folder.name + ".lock"), "a+b")
        except OSError:
            return False
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            if folder.is_dir():
                return True
            try:
                if time.time() - cold.stat().st_mtime < COLD_RETRY_SECONDS:
                    return False
            except OSError:
                pass  # no note: never tried, or the note expired
            return self._fill(config, chapter, folder, cold)

    def _fill(self, config: SandboxConfig, chapter: Chapter, folder: Path, cold: Path) -> bool:
        """Grade the reference solution with a fresh warm folder; keep it if that went right,
        else write why to ``cold`` (sandboxes of this course version then start cold for a while,
        instead of grading the reference again for every learner)."""
        try:
            staging = Path(tempfile.mkdtemp(prefix=".filling-", dir=folder.parent))
        except OSError:
            return False
        try:
            os.chmod(staging, 0o777)  # written by the sandbox's uid (the grader's, or nobody)
            snapshot = Snapshot("reference", str(chapter.path),
                                {chapter.path.name: chapter.path.read_bytes()})
            filling = dataclasses.replace(config, warm_source=str(staging), warm_fill=True)
            row = self.grade(snapshot, self.catalog, filling, chapters=[chapter.name])
            if (row.status is not SubmissionStatus.GRADED or row.score < row.max_score
                    or not row.protections.get("filesystem_isolated")):
                cold.write_text(f"the reference solution of {chapter.name}: {row.status.value}, "
                                f"{row.score:g}/{row.max_score:g} points, file system isolated: "
                                f"{bool(row.protections.get('filesystem_isolated'))} "
                                f"{row.reason or ''}\n", encoding="utf-8")
                return False
            for path in [staging, *staging.rglob("*")]:
                if not path.is_symlink():
                    path.chmod(0o755 if path.is_dir() else 0o444)
            try:
                staging.rename(folder)
            except OSError:  # another process stored the same folder first
                return folder.is_dir()
            return True
        except (OSError, ValueError):
            return False
        finally:
            shutil.rmtree(staging, ignore_errors=True)
