"""Stage 1, discover: from a path on the instructor's disk to a list of submissions.

A submission is one learner's notebooks. The path may be one notebook, one learner's folder of
notebooks, a folder with one folder per learner, nbgrader's ``submitted/<student>/<assignment>/``
layout, or the bulk download of a learning-management system (Canvas, Moodle, Blackboard), whose
file and folder names carry the learner's identity and sometimes the submission time. Only
names are read here (and nbgrader's ``timestamp.txt``, a few bytes of metadata): the notebooks'
contents are read by :mod:`grader.intake`.
"""
from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = frozenset({".ipynb_checkpoints", "__pycache__", ".git"})
TIMESTAMP_BYTES = 200
"""At most this much of nbgrader's ``timestamp.txt`` is read."""


@dataclass(frozen=True)
class SubmissionSource:
    """Where one learner's submission is on disk.

    Attributes
    ----------
    name : str
        The learner as the layout names them: a file stem, a folder name, or the name an LMS
        put in its file names (valid Unicode: undecodable bytes become U+FFFD).
    base : Path
        The folder that notebook paths are reported relative to.
    paths : tuple of Path
        The learner's ``.ipynb`` files, in discovery order.
    layout : str
        ``file``, ``folder``, ``folders``, ``nbgrader``, ``canvas``, ``moodle`` or ``blackboard``.
    lms_id : str or None
        The learner's id in the LMS when the layout gives one (Canvas user id, Blackboard
        username, nbgrader student id).
    times : tuple of (str or None)
        Per path, the submission time the layout records (ISO 8601), else None.
    late_marked : bool
        The LMS marked the submission late without saying by how much (Canvas's ``LATE``).
    """

    name: str
    base: Path
    paths: tuple[Path, ...]
    layout: str = "folders"
    lms_id: str | None = None
    times: tuple[str | None, ...] = ()
    late_marked: bool = False

    def time_of(self, path: Path) -> str | None:
        """The submission time recorded for one of :attr:`paths`, if any."""
        return dict(zip(self.paths, self.times)).get(path)


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


def _source(name: str, base: Path, paths, **details) -> SubmissionSource:
    return SubmissionSource(display_name(name), base, tuple(paths), **details)


# --------------------------------------------------------------------------- LMS file names
# Canvas, "Download Submissions": every file of every learner in one flat folder, named
# ``<lastfirst>[_LATE]_<user id>_<submission or attachment id>_<original name>``, the
# lower-case sortable name without spaces first, "LATE" when Canvas marked it late; no time.
# Documented by the tools that unpack these downloads, e.g. github.com/mikewesthad/
# canvas-unzipper (``smithbob_340934_208490284_BobsWork.zip``) and github.com/TimHanneman/
# Canvas_submission_sort ("an extra field if the assignment was submitted late").
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_"
                    r"(?P<file>.+\.ipynb)$")
# Moodle, "Download all submissions" (mod/assign): ``<Full Name>_<participant id>_
# assignsubmission_file_`` then ``/<original name>`` ("Download submissions in folders", the
# default) or ``<original name>`` (flat); no time. Moodle's mod/assign/locallib.php
# download_submissions(); parsed the same way by github.com/gondree/canvas-offline-grading
# (moodle_submissions.py: name, id, then the file name after the plugin fields).
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_file_"
                         r"(?P<file>.+\.ipynb)$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_\w+?_?$")
# Blackboard Learn, Grade Centre "Assignment File Download": a flat folder of
# ``<assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<original name>`` plus one
# ``..._attempt_<time>.txt`` receipt per attempt ("Name: ... Date Submitted: ..."); the time is
# the server's local time. See github.com/jeroendoggen/blackboard-analysis-tools and the
# BBGradebookOrganiser instructions (docs/instructions.md), which split the same names.
BLACKBOARD = re.compile(r"^(?P<assignment>.*)_(?P<user>[^_]+)_attempt_"
                        r"(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(?P<file>.+\.ipynb)$")


@dataclass(frozen=True)
class _LmsFile:
    key: str            # groups one learner's files
    name: str
    lms_id: str | None
    time: str | None
    late: bool


def _canvas(match: re.Match) -> _LmsFile:
    return _LmsFile(match["user"], match["name"], match["user"], None, bool(match["late"]))


def _moodle(match: re.Match) -> _LmsFile:
    return _LmsFile(match["name"] + "_" + match["participant"], match["name"], None, None, False)


def _blackboard(match: re.Match) -> _LmsFile:
    time = datetime.datetime.strptime(match["time"], "%Y-%m-%d-%H-%M-%S").isoformat()
    return _LmsFile(match["user"], match["user"], match["user"], time, False)


FLAT_LAYOUTS: dict[str, tuple[re.Pattern, Callable[[re.Match], _LmsFile]]] = {
    "canvas": (CANVAS, _canvas), "moodle": (MOODLE_FILE, _moodle),
    "blackboard": (BLACKBOARD, _blackboard)}
"""Flat bulk downloads: layout name -> (file-name pattern, what the name says)."""


def _flat_lms(files: list[Path]) -> tuple[list[SubmissionSource], list[Path]]:
    """Group LMS-named files by learner; the files no layout recognises are returned apart."""
    groups: dict[tuple[str, str], list[tuple[Path, _LmsFile]]] = {}
    rest = []
    for path in files:
        for layout, (pattern, read) in FLAT_LAYOUTS.items():
            match = pattern.match(path.name)
            if match:
                groups.setdefault((layout, read(match).key), []).append((path, read(match)))
                break
        else:
            rest.append(path)
    sources = []
    for (layout, _), members in groups.items():
        first = members[0][1]
        sources.append(_source(first.name, members[0][0].parent, [path for path, _ in members],
                               layout=layout, lms_id=first.lms_id,
                               times=tuple(info.time for _, info in members),
                               late_marked=any(info.late for _, info in members)))
    return sources, rest


def nbgrader_time(assignment_folder: Path) -> str | None:
    """The time in nbgrader's ``timestamp.txt`` (``2026-03-01 12:00:00.000000 UTC``), ISO 8601.

    nbgrader's ``collect`` writes this file into ``submitted/<student>/<assignment>/``
    (nbgrader docs, "exchange api"; ``%Y-%m-%d %H:%M:%S.%f %Z``). None if absent or unreadable.
    """
    try:
        with open(assignment_folder / "timestamp.txt", "rb") as stream:
            text = stream.read(TIMESTAMP_BYTES).decode("utf-8", "replace").strip()
    except OSError:
        return None
    parts = text.split()
    try:
        moment = datetime.datetime.fromisoformat(" ".join(parts[:2]))
    except ValueError:
        return None
    if len(parts) > 2 and parts[2].upper() == "UTC" and moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.isoformat()


def _nbgrader(submitted: Path) -> list[SubmissionSource]:
    sources = []
    for student in sorted(entry for entry in submitted.iterdir()
                          if entry.is_dir() and not _skipped(entry.name)):
        paths = notebooks_under(student)
        times = tuple(nbgrader_time(student / path.relative_to(student).parts[0])
                      if len(path.relative_to(student).parts) > 1 else None for path in paths)
        sources.append(_source(student.name, student, paths, layout="nbgrader",
                               lms_id=display_name(student.name), times=times))
    return sources


def _learner_folder(folder: Path) -> SubmissionSource:
    match = MOODLE_FOLDER.match(folder.name)
    if match:
        return _source(match["name"], folder, notebooks_under(folder), layout="moodle")
    return _source(folder.name, folder, notebooks_under(folder), layout="folders")


def discover(path: Path) -> list[SubmissionSource]:
    """The submissions found at ``path``.

    Parameters
    ----------
    path : Path
        A notebook; a learner's folder; a folder of learners' folders (Moodle's per-learner
        folders included); nbgrader's ``submitted/`` folder or the course folder holding it;
        or a flat folder of LMS-named files (Canvas, Moodle, Blackboard).

    Returns
    -------
    list of SubmissionSource
        In a stable order: learners' folders by name, then LMS-named files by learner, then
        other loose notebooks by name.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    """
    path = Path(path)
    if path.is_file():
        return [_source(path.stem, path.parent, [path], layout="file")]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if (path / "submitted").is_dir() and not any(path.glob("*.ipynb")):
        path = path / "submitted"  # an nbgrader course folder
    if path.name == "submitted":
        return _nbgrader(path)
    direct = sorted(entry for entry in path.iterdir()
                    if entry.is_file() and entry.suffix == ".ipynb")
    subdirs = sorted(entry for entry in path.iterdir()
                     if entry.is_dir() and not _skipped(entry.name))
    lms, loose = _flat_lms(direct)
    if loose and not lms and not any(notebooks_under(folder) for folder in subdirs):
        return [_source(path.name, path, notebooks_under(path), layout="folder")]
    learners = [_learner_folder(folder) for folder in subdirs]
    # loose notebooks in a folder of learners: one submission each
    return learners + lms + [_source(notebook.stem, path, [notebook], layout="file")
                             for notebook in loose]
