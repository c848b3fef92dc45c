"""The class: a roster of learners, deadlines with per-learner extensions, a late penalty.

Pure data and parsing (a foundation module: it imports nothing of the grader). The roster is a
CSV file with a header row::

    id,name,lms_id,section,extension,email
    alice,Alice Martin,48213,A,,alice.martin@uni.example
    bob,"Dupont, Bob",48214,B,2d,

``id`` (the learner id used in every report) and ``name`` are required; ``lms_id`` (the
learner's id in the learning-management system: Canvas user id, Moodle ID number, Blackboard
username, nbgrader student id), ``section``, ``extension`` (extra time for every deadline,
e.g. ``2d``, ``36h``, ``1d12h``, ``90m``) and ``email`` are optional. A submission belongs to
the learner whose ``id`` or ``lms_id`` equals the submission's name or LMS id, else whose name
equals the submission's name once both are reduced to lower-case letters in either order
(``Jane Doe``, ``Doe, Jane`` and Canvas's ``doejane`` are the same person), when that is
unambiguous.
"""
from __future__ import annotations

import csv
import datetime
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROSTER_COLUMNS = ("id", "name", "lms_id", "section", "extension", "email")
REQUIRED_COLUMNS = ("id", "name")
DURATION = re.compile(r"^(?:(?P<d>\d+(?:\.\d+)?)d)?\s*(?:(?P<h>\d+(?:\.\d+)?)h)?\s*"
                      r"(?:(?P<m>\d+(?:\.\d+)?)m)?$")


class RosterError(ValueError):
    """A roster, deadline or penalty setting that cannot be used; the message says how to fix it."""


def parse_duration(text: str) -> datetime.timedelta:
    """``2d``, ``36h``, ``1d12h``, ``90m`` (or empty: none) as a timedelta.

    Raises
    ------
    RosterError
    """
    match = DURATION.match(text.strip())
    if not match:
        raise RosterError(f"{text!r} is not a duration: write e.g. 2d, 36h, 1d12h or 90m")
    return datetime.timedelta(days=float(match["d"] or 0), hours=float(match["h"] or 0),
                              minutes=float(match["m"] or 0))


def parse_time(text: str) -> datetime.datetime:
    """An ISO 8601 time as an aware datetime; a time without a zone is taken as UTC."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RosterError(f"{text!r} is not a date and time: write e.g. 2026-03-01T23:59+01:00 "
                          "(ISO 8601; without a zone it is UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def name_keys(name: str) -> set[str]:
    """Ways an LMS writes a person's name, reduced to lower-case letters: both orders."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain.replace(",", " , "))
    if "," in plain:  # "Doe, Jane": last name first
        comma = plain.index(",")
        last, first = re.findall(r"[a-z0-9]+", plain[:comma]), re.findall(r"[a-z0-9]+",
                                                                          plain[comma:])
        words = first + last
    if not words:
        return set()
    return {"".join(words), "".join(words[-1:] + words[:-1]), "".join(reversed(words))}


@dataclass(frozen=True)
class Learner:
    """One row of the roster."""

    id: str
    name: str
    lms_id: str = ""
    section: str = ""
    extension: datetime.timedelta = datetime.timedelta()
    email: str = ""

    def to_dict(self) -> dict:
        """As recorded in results.json (``extension`` in hours)."""
        return {"id": self.id, "name": self.name, "lms_id": self.lms_id,
                "section": self.section, "email": self.email,
                "extension_hours": self.extension.total_seconds() / 3600}


@dataclass(frozen=True)
class Roster:
    """The learners of a class, and how submissions are matched to them."""

    learners: tuple[Learner, ...]
    source: str = ""

    @classmethod
    def read(cls, path: Path) -> Roster:
        """Read a roster CSV (UTF-8, a BOM allowed, as spreadsheets write it).

        Raises
        ------
        RosterError
            Naming the file, the row and what is wrong.
        """
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RosterError(f"roster {path}: cannot read it ({exc})") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "roster") -> Roster:
        """A roster from CSV text (see the module's docstring for the columns)."""
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise RosterError(f"roster {source}: missing column(s) {', '.join(missing)}; the "
                              f"header must name {', '.join(REQUIRED_COLUMNS)} and may name "
                              f"{', '.join(ROSTER_COLUMNS[2:])}")
        reader.fieldnames = header
        learners, seen = [], set()
        for number, row in enumerate(reader, start=2):
            values = {key: (row.get(key) or "").strip() for key in ROSTER_COLUMNS}
            if not values["id"]:
                raise RosterError(f"roster {source}, line {number}: empty id")
            if values["id"] in seen:
                raise RosterError(f"roster {source}, line {number}: id {values['id']!r} "
                                  "appears twice")
            seen.add(values["id"])
            try:
                extension = parse_duration(values["extension"])
            except RosterError as exc:
                raise RosterError(f"roster {source}, line {number}, extension: {exc}") from None
            learners.append(Learner(values["id"], values["name"] or values["id"],
                                    values["lms_id"], values["section"], extension,
                                    values["email"]))
        return cls(tuple(learners), source)

    def match(self, name: str, lms_id: str | None = None) -> Learner | None:
        """The learner a submission named ``name`` (with LMS id ``lms_id``) belongs to."""
        for learner in self.learners:
            if lms_id and learner.lms_id and learner.lms_id == lms_id:
                return learner
        for learner in self.learners:
            if name in (learner.id, learner.lms_id):
                return learner
        keys = name_keys(name)
        found = [learner for learner in self.learners if keys & name_keys(learner.name)]
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Deadlines:
    """A deadline per chapter (``"*"``: every chapter without its own)."""

    by_chapter: dict[str, datetime.datetime] = field(default_factory=dict)

    @classmethod
    def parse(cls, settings: list[str]) -> Deadlines:
        """From ``--deadline`` values: ``TIME`` (every chapter) or ``CHAPTER=TIME``."""
        by_chapter = {}
        for setting in settings:
            chapter, _, time = setting.rpartition("=") if "=" in setting else ("*", "", setting)
            by_chapter[chapter.strip() or "*"] = parse_time(time)
        return cls(by_chapter)

    def of(self, chapter: str) -> datetime.datetime | None:
        """The chapter's deadline, if any."""
        return self.by_chapter.get(chapter, self.by_chapter.get("*"))

    def to_dict(self) -> dict:
        """As recorded in results.json."""
        return {chapter: moment.isoformat() for chapter, moment in self.by_chapter.items()}


@dataclass(frozen=True)
class PenaltyPolicy:
    """What lateness costs: ``none`` (the default), ``zero``, or ``P%/day[,max=M%]``.

    ``P%/day`` takes P percent of a late chapter's points for every started day (24 hours)
    after the deadline (plus the learner's extension), at most M percent (default 100).
    ``zero`` gives a late chapter no points. A submission that the LMS marked late without a
    time (Canvas's ``LATE``) is reported late by an unknown amount and is never penalised
    automatically.
    """

    kind: str = "none"
    percent_per_day: float = 0.0
    max_percent: float = 100.0

    @classmethod
    def parse(cls, text: str) -> PenaltyPolicy:
        """Read ``--late-penalty``."""
        spec = text.strip().lower().replace(" ", "")
        if spec in ("", "none"):
            return cls()
        if spec == "zero":
            return cls("zero")
        match = re.match(r"^(\d+(?:\.\d+)?)%/day(?:,max=(\d+(?:\.\d+)?)%)?$", spec)
        if not match:
            raise RosterError(f"--late-penalty {text!r}: write none, zero, or e.g. 10%/day or "
                              "10%/day,max=50%")
        return cls("per_day", float(match[1]), float(match[2] or 100.0))

    def __str__(self) -> str:
        if self.kind == "per_day":
            return f"{self.percent_per_day:g}%/day,max={self.max_percent:g}%"
        return self.kind

    def penalty(self, points: float, seconds_late: float | None) -> float:
        """Points taken from a chapter worth ``points`` submitted ``seconds_late`` late."""
        if seconds_late is None or seconds_late <= 0 or self.kind == "none":
            return 0.0
        if self.kind == "zero":
            return points
        days = math.ceil(seconds_late / 86400)
        return points * min(self.max_percent, self.percent_per_day * days) / 100


def describe_delay(seconds: float | None) -> str:
    """``2d 3h 4m`` (or ``unknown``) for a delay in seconds."""
    if seconds is None:
        return "unknown"
    minutes = int(math.ceil(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(
        minutes)
    return " ".join(parts) or "0m"
