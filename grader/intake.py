"""Stage 2, intake: the only place a submission is read from disk.

:func:`read_submission` reads each of a learner's files once into a :class:`Snapshot` (the
learner's name and ``{relative path: bytes}``). Everything after this stage works on the
snapshot, so the cache key (:attr:`Snapshot.content_hash`) is the hash of exactly the bytes that
are graded, and a snapshot can be shipped as plain data to another process or machine.
:func:`read_notebooks` turns a snapshot's bytes into parsed notebooks or reading errors; it never
raises, whatever the bytes.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .discover import SubmissionSource, display_name
from .notebook import MAX_NOTEBOOK_BYTES, Notebook, NotebookError, parse_notebook

READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""Read-only (submissions are never modified); non-blocking so a named pipe cannot hang us."""


class UnreadableFile(Exception):
    """A submitted file cannot be read; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Snapshot:
    """One learner's submission, in memory.

    Attributes
    ----------
    name : str
        The learner.
    origin : str
        Where the submission came from (reported as its ``path``), e.g. the learner's folder.
    files : dict of str to bytes
        Relative path to content, in discovery order. A file larger than
        :data:`~grader.notebook.MAX_NOTEBOOK_BYTES` holds only its first bytes (it is refused).
    unreadable : dict of str to str
        Relative path to the reason a file could not be read (permissions, not a regular file).
    times : dict of str to str
        Relative path to its submission time (ISO 8601), where the layout records one.
    """

    name: str
    origin: str
    files: dict[str, bytes] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    times: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """sha256 over the files in path order: each relative path, NUL, sha256 of its bytes.

        The cache key of a submission; an unreadable file contributes its reason instead, and a
        file with a submission time its time too (the time can decide which notebook is graded).
        """
        digest = hashlib.sha256()
        for path in sorted({*self.files, *self.unreadable}, key=PurePosixPath):
            digest.update(path.encode() + b"\0")
            if path in self.files:
                digest.update(hashlib.sha256(self.files[path]).digest())
            else:
                digest.update(b"unreadable: " + self.unreadable[path].encode())
            if path in self.times:
                digest.update(b"time: " + self.times[path].encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class NotebookFile:
    """One file of a snapshot after reading: a parsed notebook or the reason it is unreadable."""

    path: str
    notebook: Notebook | None = None
    reason: str | None = None


def read_file(path: Path) -> bytes:
    """The first ``MAX_NOTEBOOK_BYTES + 1`` bytes of a regular file, opened read-only.

    Raises
    ------
    UnreadableFile
        When the file cannot be opened or is not a regular file.
    """
    try:
        descriptor = os.open(path, READ_FLAGS)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnreadableFile("not a regular file (a folder, a device or a pipe?): submit the "
                                 ".ipynb file itself")
        chunks, size = [], 0
        while size <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(descriptor, MAX_NOTEBOOK_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {exc.strerror}") from None
    finally:
        os.close(descriptor)


def _relative(path: Path, base: Path) -> str:
    relative = path.relative_to(base) if path.is_relative_to(base) else Path(path.name)
    return display_name(relative.as_posix())


def read_submission(source: SubmissionSource) -> Snapshot:
    """Read a learner's files once; the only disk read of the grading pipeline.

    Parameters
    ----------
    source : SubmissionSource
        From :func:`grader.discover.discover`.

    Returns
    -------
    Snapshot
    """
    files: dict[str, bytes] = {}
    unreadable: dict[str, str] = {}
    times: dict[str, str] = {}
    for path in source.paths:
        relative = _relative(path, source.base)
        while relative in files or relative in unreadable:  # names equal once made valid text
            relative += "'"
        if source.time_of(path):
            times[relative] = source.time_of(path)
        try:
            files[relative] = read_file(path)
        except UnreadableFile as exc:
            unreadable[relative] = exc.reason
    return Snapshot(source.name, display_name(str(source.base)), files, unreadable, times)


def read_notebook(path: str, data: bytes) -> NotebookFile:
    """Parse one file's bytes; total: any bytes give a notebook or a reason, never an exception."""
    try:
        return NotebookFile(path, notebook=parse_notebook(data, path))
    except NotebookError as exc:
        return NotebookFile(path, reason=exc.reason)


def read_notebooks(snapshot: Snapshot) -> list[NotebookFile]:
    """Every file of a snapshot, read: the readable ones in order, then the unreadable ones."""
    return [*(read_notebook(path, data) for path, data in snapshot.files.items()),
            *(NotebookFile(path, reason=reason) for path, reason in snapshot.unreadable.items())]
