"""Stage 1, discover: from a path on the instructor's disk to a list of submissions.

A submission is one learner's notebooks. The path may be one notebook, one learner's folder of
notebooks, or a folder with one folder per learner (loose notebooks in it are one submission
each). Only names are read here: the files' contents are read by :mod:`grader.intake`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = frozenset({".ipynb_checkpoints", "__pycache__", ".git"})


@dataclass(frozen=True)
class SubmissionSource:
    """Where one learner's submission is on disk.

    Attributes
    ----------
    name : str
        The learner: a file stem or a folder name (valid Unicode: undecodable bytes of a file
        name become U+FFFD).
    base : Path
        The folder that notebook paths are reported relative to.
    paths : tuple of Path
        The learner's ``.ipynb`` files, in discovery order.
    """

    name: str
    base: Path
    paths: tuple[Path, ...]


def display_name(name: str) -> str:
    """A file name as valid Unicode text (names that are not UTF-8 reach Python as surrogates)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _skipped(name: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".")


def notebooks_under(folder: Path) -> list[Path]:
    """Every ``.ipynb`` below ``folder``, sorted per folder; hidden folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not _skipped(name))
        found += [Path(root) / name for name in sorted(files) if name.endswith(".ipynb")]
    return found


def _source(name: str, base: Path, paths) -> SubmissionSource:
    return SubmissionSource(display_name(name), base, tuple(paths))


def discover(path: Path) -> list[SubmissionSource]:
    """The submissions found at ``path``.

    Parameters
    ----------
    path : Path
        A notebook, a learner's folder, or a folder of learners' folders.

    Returns
    -------
    list of SubmissionSource
        In a stable order: learners' folders by name, then loose notebooks by name.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    """
    path = Path(path)
    if path.is_file():
        return [_source(path.stem, path.parent, [path])]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    direct = sorted(entry for entry in path.iterdir()
                    if entry.is_file() and entry.suffix == ".ipynb")
    subdirs = sorted(entry for entry in path.iterdir()
                     if entry.is_dir() and not _skipped(entry.name))
    if direct and not any(notebooks_under(folder) for folder in subdirs):
        return [_source(path.name, path, notebooks_under(path))]
    learners = [_source(folder.name, folder, notebooks_under(folder)) for folder in subdirs]
    # loose notebooks in a folder of learners: one submission each
    return learners + [_source(notebook.stem, path, [notebook]) for notebook in direct]
