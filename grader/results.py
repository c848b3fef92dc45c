"""Stage 6, results: typed results and their one serialisation, the results.json schema.

:class:`TestResult`, :class:`ExerciseResult`, :class:`NotebookEntry`, :class:`SubmissionResult`
and :class:`BatchResults` hold plain values; each ``to_dict()`` writes exactly the structure
documented in grader/README.md ("results.json schema") and :meth:`SubmissionResult.from_dict`
reads it back (the cache). Every string they hold is valid Unicode (lone surrogates, which a
learner's exception message may carry, become U+FFFD), so a report can always be written.
"""
from __future__ import annotations

import datetime
import enum
import platform
import re
from dataclasses import dataclass, field, fields, replace
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import __version__
from .analyse import SEVERAL_NOTEBOOKS_RULE, ExercisePlan, Flag, plan_missing_chapter
from .catalog import Catalog, Exercise
from .checks import check_title
from .discover import SubmissionSource
from .execute import CheckOutcome
from .i18n import _, instructor_language, known_language
from .roster import Deadlines, PenaltyPolicy, Roster, parse_time
from .verdict import Status, classify, learner_message

SCHEMA_VERSION = 1
OUTPUT_KEPT = 4000
"""Characters of printed output kept per public test in results.json."""


class SubmissionStatus(str, enum.Enum):
    """Whether a submission could be graded at all."""

    GRADED = "graded"
    NOT_GRADABLE = "not_gradable"  # with a reason, e.g. no notebook could be read
    MISSING = "missing"  # a learner of the roster with no submission

    def __str__(self) -> str:
        return self.value


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with what cannot be written as UTF-8 (lone surrogates) replaced by U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text)


def _clean(value):
    """A JSON-ready copy of ``value``: enums as their values, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


class _ValidText:
    """Makes every string field (and tuple of strings) of a frozen dataclass valid Unicode."""

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, str) and not isinstance(value, enum.Enum):
                object.__setattr__(self, item.name, valid_text(value))
            elif isinstance(value, tuple) and all(isinstance(part, str) for part in value):
                object.__setattr__(self, item.name, tuple(map(valid_text, value)))


@dataclass(frozen=True)
class TestResult(_ValidText):
    """One check's result for one learner (a row of ``tests`` in results.json)."""

    __test__ = False  # not a pytest test class

    notebook: str
    exercise: str
    test_id: str
    hidden: bool
    status: Status
    points: float
    max_points: float
    message: str = ""
    output: str = ""
    output_truncated: bool = False
    check: str = ""
    detail: str = ""

    @classmethod
    def judge(cls, exercise: Exercise, notebook: str, outcome: CheckOutcome) -> TestResult:
        """The result of one check's outcome: status by :func:`~grader.verdict.classify`."""
        spec = outcome.spec
        verdict = classify(outcome.error)
        hidden_number = exercise.hidden_number(spec) if spec.hidden else None
        message = learner_message(verdict, hint=spec.hint, hidden_number=hidden_number,
                                  ran=outcome.ran)
        if outcome.output_truncated and not spec.hidden:
            message = (message + "\n" if message else "") + _(
                "(printed output truncated: {total} bytes printed, {kept} kept; printing never "
                "affects the score)").format(total=outcome.output_total, kept=outcome.output_kept)
        passed = verdict.status is Status.PASSED
        detail = ""
        if spec.hidden:  # for the instructor's view only: what a public check would have said
            detail = learner_message(verdict, hint=spec.hint, ran=outcome.ran)
            if outcome.output:
                detail += ("\n--- " + _("printed output") + " ---\n"
                           + outcome.output[-OUTPUT_KEPT:])
        return cls(notebook, exercise.id, exercise.test_id(spec), spec.hidden, verdict.status,
                   spec.points if passed else 0.0, spec.points, message,
                   "" if spec.hidden else outcome.output[-OUTPUT_KEPT:], outcome.output_truncated,
                   spec.name, detail)

    def to_dict(self, private: bool = False) -> dict:
        """The results.json form (see grader/README.md).

        ``private=True`` (the row store in ``OUT/.cache/``, the instructor's own) also keeps a
        hidden check's function name and ``detail``; results.json never holds them.
        """
        shown = private or not self.hidden
        return _clean({"notebook": self.notebook, "exercise": self.exercise,
                       "test_id": self.test_id, "hidden": self.hidden, "status": self.status,
                       "points": self.points, "max_points": self.max_points,
                       "message": self.message, "output": self.output,
                       "output_truncated": self.output_truncated,
                       "check": self.check if shown else "", "detail": self.detail if shown else ""})

    @classmethod
    def from_dict(cls, data: dict) -> TestResult:
        """Read back the form written by :meth:`to_dict`."""
        return cls(**{**data, "status": Status(data["status"])})

    @property
    def title(self) -> str:
        """The check's name for people: ``test_sigmoid_known_values`` -> ``sigmoid known values``
        (translated: :func:`grader.checks.check_title`)."""
        return check_title(self.check or self.test_id.split("::")[-1])


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise's score for one learner."""

    score: float
    max_points: float
    status: Status
    bonus: bool = False

    @classmethod
    def total(cls, exercise: Exercise, tests: list[TestResult]) -> ExerciseResult:
        """Sum a learner's tests of one exercise.

        The status is ``passed`` (every test passed), ``partial`` (some points), ``failed``
        (no points, some test failed) or the first other status.
        """
        score = sum(test.points for test in tests)
        problems = [test.status for test in tests if test.status is not Status.PASSED]
        if not problems:
            status = Status.PASSED
        elif score > 0:
            status = Status.PARTIAL
        else:
            status = Status.FAILED if Status.FAILED in problems else problems[0]
        return cls(score, exercise.max_points, status, exercise.bonus)

    def to_dict(self) -> dict:
        """The results.json form (see grader/README.md)."""
        data = {"score": self.score, "max_points": self.max_points, "status": self.status}
        return _clean({**data, "bonus": True} if self.bonus else data)

    @classmethod
    def from_dict(cls, data: dict) -> ExerciseResult:
        """Read back the form written by :meth:`to_dict`."""
        return cls(data["score"], data["max_points"], Status(data["status"]),
                   data.get("bonus", False))


@dataclass(frozen=True)
class NotebookEntry(_ValidText):
    """One submitted file: read (with warnings) or unreadable (with a reason), and its use.

    ``use`` is what was done with it: ``graded``, ``duplicate`` (another notebook of its
    chapter was graded; ``note`` says which and why), ``unmatched`` (no exercise of the course
    in it) or ``unreadable``. ``submitted_at`` is the time the layout records, if any;
    ``solution_marked`` says that it holds ``### BEGIN SOLUTION`` markers.
    """

    path: str
    chapter: str | None
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    use: str = "graded"
    note: str = ""
    submitted_at: str | None = None
    solution_marked: bool = False

    @property
    def status(self) -> str:
        """``read`` or ``unreadable``."""
        return "unreadable" if self.reason is not None else "read"

    def to_dict(self) -> dict:
        """The results.json form (see grader/README.md)."""
        data = {"path": self.path, "chapter": self.chapter, "status": self.status,
                "use": self.use, "note": self.note, "submitted_at": self.submitted_at,
                "solution_marked": self.solution_marked}
        data.update({"reason": self.reason} if self.reason is not None
                    else {"warnings": list(self.warnings)})
        return _clean(data)

    @classmethod
    def from_dict(cls, data: dict) -> NotebookEntry:
        """Read back the form written by :meth:`to_dict`."""
        return cls(data["path"], data["chapter"], data.get("reason"),
                   tuple(data.get("warnings", ())), data.get("use", "graded"),
                   data.get("note", ""), data.get("submitted_at"),
                   data.get("solution_marked", False))


def _flag_dict(flag: Flag) -> dict:
    return _clean({"notebook": flag.notebook, "cell": flag.cell, "line": flag.line,
                   "reason": flag.reason})


@dataclass(frozen=True)
class SubmissionResult(_ValidText):
    """One learner's result (a row of ``submissions`` in results.json).

    ``score``/``max_score`` count the regular exercises, ``bonus_score``/``bonus_max`` the
    bonus (challenge) exercises. ``protections`` is what the sandbox reported; ``seconds``,
    ``content_hash`` and ``cached`` say how the row was made.
    """

    name: str
    path: str
    status: SubmissionStatus = SubmissionStatus.GRADED
    reason: str | None = None
    notebooks: tuple[NotebookEntry, ...] = ()
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    tests: tuple[TestResult, ...] = ()
    flags: tuple[Flag, ...] = ()
    protections: dict = field(default_factory=dict)
    seconds: float = 0.0
    content_hash: str = ""
    cached: bool = False
    fingerprints: dict[str, tuple[int, ...]] = field(default_factory=dict)
    learner: dict | None = None
    layout: str = ""
    late: tuple[dict, ...] = ()
    penalty: float = 0.0
    language: str = "en"

    @classmethod
    def not_gradable(cls, name: str, path: str, reason: str, **fields) -> SubmissionResult:
        """A row for a submission that cannot be graded at all; ``reason`` says why."""
        return cls(name, path, SubmissionStatus.NOT_GRADABLE, reason, **fields)

    def _sum(self, bonus: bool, key: str) -> float:
        return float(sum(getattr(result, key) for result in self.exercises.values()
                         if result.bonus == bonus))

    @property
    def score(self) -> float:
        """Points of the regular exercises."""
        return self._sum(False, "score")

    @property
    def max_score(self) -> float:
        """Maximum of the regular exercises."""
        return self._sum(False, "max_points")

    @property
    def bonus_score(self) -> float:
        """Points of the bonus exercises."""
        return self._sum(True, "score")

    @property
    def bonus_max(self) -> float:
        """Maximum of the bonus exercises."""
        return self._sum(True, "max_points")

    @property
    def final_score(self) -> float:
        """``score`` less the late penalty (never below zero)."""
        return max(0.0, self.score - self.penalty)

    def problems(self) -> dict[str, list[str]]:
        """What the instructor should look at, by kind: ``unreadable``, ``duplicate``,
        ``unmatched`` (notebooks with no exercise of the course), ``solution_marked``; each a
        list of notebook paths."""
        found = {"unreadable": [], "duplicate": [], "unmatched": [], "solution_marked": []}
        for entry in self.notebooks:
            if entry.use in found:
                found[entry.use].append(entry.path)
            if entry.solution_marked:
                found["solution_marked"].append(entry.path)
        return found

    def with_chapters(self, chapters: list[str], catalog: Catalog) -> SubmissionResult:
        """This result with every chapter of ``chapters`` (a missing one scores zero), in order.

        A batch grades each submission on the chapters it contains, then asks every graded
        submission for the chapters any learner submitted, so all rows have the same columns.
        """
        if self.status is not SubmissionStatus.GRADED:
            return self
        have = {catalog.exercises[exercise_id].chapter for exercise_id in self.exercises
                if exercise_id in catalog.exercises}
        if have >= set(chapters):
            return self
        exercises, tests = {}, []
        for name in chapters:
            chapter = catalog.chapters[name]
            if name in have:
                ids = {exercise.id for exercise in chapter.exercises}
                exercises.update((key, value) for key, value in self.exercises.items()
                                 if key in ids)
                tests += [test for test in self.tests if test.exercise in ids]
            else:
                for plan in plan_missing_chapter(chapter).exercises:
                    missing = judge_exercise(plan, [])
                    exercises[plan.exercise.id] = missing[0]
                    tests += missing[1]
        return replace(self, exercises=exercises, tests=tuple(tests))

    def to_dict(self, private: bool = False) -> dict:
        """The results.json form (see grader/README.md).

        ``private=True`` (the row store) also keeps what results.json leaves out: hidden checks'
        names and details (see :meth:`TestResult.to_dict`) and the code fingerprints.
        """
        return _clean({
            "name": self.name, "path": self.path, "status": self.status, "reason": self.reason,
            "score": self.score, "max_score": self.max_score, "bonus_score": self.bonus_score,
            "bonus_max": self.bonus_max,
            "notebooks": [entry.to_dict() for entry in self.notebooks],
            "exercises": {key: value.to_dict() for key, value in self.exercises.items()},
            "tests": [test.to_dict(private) for test in self.tests],
            "flags": [_flag_dict(flag) for flag in self.flags],
            "protections": self.protections, "seconds": self.seconds,
            "content_hash": self.content_hash, "cached": self.cached,
            "learner": self.learner, "layout": self.layout, "late": list(self.late),
            "penalty": self.penalty, "final_score": self.final_score, "language": self.language,
            **({"fingerprints": {key: list(value) for key, value in self.fingerprints.items()}}
               if private else {})})

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        """Read back a row written by :meth:`to_dict` (the batch's cache)."""
        return cls(
            data["name"], data["path"], SubmissionStatus(data["status"]), data["reason"],
            tuple(NotebookEntry.from_dict(entry) for entry in data["notebooks"]),
            {key: ExerciseResult.from_dict(value) for key, value in data["exercises"].items()},
            tuple(TestResult.from_dict(test) for test in data["tests"]),
            tuple(Flag(**flag) for flag in data["flags"]), data["protections"],
            data["seconds"], data["content_hash"], data["cached"],
            {key: tuple(value) for key, value in data.get("fingerprints", {}).items()},
            data.get("learner"), data.get("layout", ""), tuple(data.get("late", ())),
            data.get("penalty", 0.0), known_language(data.get("language")))


def judge_exercise(plan: ExercisePlan, outcomes: list[CheckOutcome]
                   ) -> tuple[ExerciseResult, list[TestResult]]:
    """Results of one exercise: its tests (one per check) and their total.

    ``outcomes`` may be empty when the plan has a problem (every check then reports it).
    """
    outcomes = outcomes or [CheckOutcome(spec, plan.problem) for spec in plan.exercise.checks]
    tests = [TestResult.judge(plan.exercise, plan.notebook, outcome) for outcome in outcomes]
    return ExerciseResult.total(plan.exercise, tests), tests


def versions() -> dict:
    """Versions of the grader, Python, numpy and Keras (None when Keras is not installed)."""
    try:
        keras = version("keras")
    except PackageNotFoundError:
        keras = None
    return {"grader": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "keras": keras, "platform": platform.platform()}


@dataclass(frozen=True)
class ExerciseEntry:
    """An exercise of the batch (the ``exercises`` list of results.json)."""

    id: str
    chapter: str
    max_points: float
    bonus: bool = False

    def to_dict(self) -> dict:
        """The results.json form (see grader/README.md)."""
        data = {"id": self.id, "chapter": self.chapter, "max_points": self.max_points}
        return {**data, "bonus": True} if self.bonus else data


@dataclass(frozen=True)
class ClassSettings:
    """The class around the grading: roster, deadlines, late penalty (all optional)."""

    roster: Roster | None = None
    deadlines: Deadlines = field(default_factory=Deadlines)
    penalty: PenaltyPolicy = field(default_factory=PenaltyPolicy)
    assignment: str = "Neural network exercises"
    """The assignment's title in the LMS gradebook exports."""
    language: str = field(default_factory=instructor_language)
    """The instructor's language: the class report and the instructor's pages (the learners'
    pages are in the language of their notebooks)."""

    def to_dict(self) -> dict:
        """As recorded in results.json (``class``)."""
        return {"roster": self.roster.source if self.roster else None,
                "lms_assignment": self.assignment,
                "learners": len(self.roster.learners) if self.roster else None,
                "deadlines": self.deadlines.to_dict(), "late_penalty": str(self.penalty),
                "language": self.language}


def _chapter_notebooks(row: SubmissionResult, exercise_chapter: dict[str, str]) -> dict:
    """Chapter -> the notebook entry graded for it."""
    entries = {entry.path: entry for entry in row.notebooks}
    found = {}
    for test in row.tests:
        chapter = exercise_chapter.get(test.exercise)
        if chapter and test.notebook in entries:
            found.setdefault(chapter, entries[test.notebook])
    return found


def lateness(row: SubmissionResult, source: SubmissionSource, settings: ClassSettings,
             exercise_chapter: dict[str, str], extension: datetime.timedelta
             ) -> tuple[tuple[dict, ...], float]:
    """The late chapters of a graded row (with how late) and the penalty they cost.

    Late means: submitted after the chapter's deadline plus the learner's extension, or marked
    late by the LMS (Canvas's ``LATE``, with or without a deadline given here; by an unknown
    amount).

    A chapter's penalty is the policy's share of the chapter's maximum points, at most what the
    learner scored in it.
    """
    late, penalty = [], 0.0
    scored, possible = {}, {}
    for key, result in row.exercises.items():
        if not result.bonus and key in exercise_chapter:
            chapter = exercise_chapter[key]
            scored[chapter] = scored.get(chapter, 0.0) + result.score
            possible[chapter] = possible.get(chapter, 0.0) + result.max_points
    for chapter, entry in _chapter_notebooks(row, exercise_chapter).items():
        deadline = settings.deadlines.of(chapter)
        due = None if deadline is None else deadline + extension
        seconds = None
        if due is not None and entry.submitted_at:
            seconds = (parse_time(entry.submitted_at) - due).total_seconds()
            if seconds <= 0:
                continue
        elif not source.late_marked:  # the LMS's own late mark counts without --deadline
            continue
        cost = min(scored.get(chapter, 0.0),
                   settings.penalty.penalty(possible.get(chapter, 0.0), seconds))
        late.append({"chapter": chapter, "submitted_at": entry.submitted_at,
                     "deadline": due.isoformat() if due else None, "seconds_late": seconds,
                     "penalty": cost})
        penalty += cost
    return tuple(late), penalty


def enrol(rows: list[SubmissionResult], sources: list[SubmissionSource], catalog: Catalog,
          settings: ClassSettings) -> tuple[list[SubmissionResult], list[str], list[str]]:
    """Rows named after the roster's learners, with lateness and penalties; missing learners.

    Returns
    -------
    tuple of (list of SubmissionResult, list of str, list of str)
        Every row (one ``missing`` row per roster learner without a submission, at the end),
        the ids of the missing learners, and the names of the submissions that match no
        learner of the roster (empty without a roster).
    """
    exercise_chapter = {key: exercise.chapter for key, exercise in catalog.exercises.items()}
    done, unmatched, seen = [], [], {}
    for row, source in zip(rows, sources):
        learner = settings.roster.match(source.name, source.lms_id) if settings.roster else None
        late, penalty = ((), 0.0)
        if row.status is SubmissionStatus.GRADED:
            late, penalty = lateness(row, source, settings, exercise_chapter,
                                     learner.extension if learner else datetime.timedelta())
        name = row.name
        if learner is not None:
            seen[learner.id] = seen.get(learner.id, 0) + 1
            name = learner.id if seen[learner.id] == 1 else f"{learner.id} ({seen[learner.id]})"
        elif settings.roster is not None:
            unmatched.append(row.name)
        done.append(replace(row, name=name, learner=learner.to_dict() if learner else None,
                            layout=source.layout, late=late, penalty=penalty))
    missing = [learner for learner in settings.roster.learners
               if learner.id not in seen] if settings.roster else []
    done += [SubmissionResult(learner.id, "", SubmissionStatus.MISSING, "no submission found",
                              learner=learner.to_dict()) for learner in missing]
    return done, [learner.id for learner in missing], unmatched


@dataclass(frozen=True)
class BatchResults:
    """The whole results.json: every submission, and what they were graded with."""

    chapters: tuple[str, ...]
    exercises: tuple[ExerciseEntry, ...]
    submissions: tuple[SubmissionResult, ...]
    protections: dict
    seconds: float
    versions: dict = field(default_factory=versions)
    generated_at: str = field(default_factory=lambda: datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    fingerprint: str = ""
    extra_tests: tuple[str, ...] = ()
    settings: ClassSettings = field(default_factory=ClassSettings)
    missing: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()

    @classmethod
    def of(cls, chapters: list[str], catalog: Catalog, submissions: list[SubmissionResult],
           seconds: float, **details) -> BatchResults:
        """The batch's results; ``protections`` are the first that a sandbox reported."""
        entries = tuple(ExerciseEntry(exercise.id, exercise.chapter, exercise.max_points,
                                      exercise.bonus)
                        for name in chapters for exercise in catalog.chapters[name].exercises)
        protections = next((row.protections for row in submissions if row.protections), {})
        return cls(tuple(chapters), entries, tuple(submissions), protections, seconds,
                   fingerprint=catalog.fingerprint,
                   extra_tests=tuple(str(path) for path in catalog.extra_files), **details)

    @property
    def max_score(self) -> float:
        """Maximum of the regular exercises."""
        return float(sum(entry.max_points for entry in self.exercises if not entry.bonus))

    @property
    def bonus_max(self) -> float:
        """Maximum of the bonus exercises."""
        return float(sum(entry.max_points for entry in self.exercises if entry.bonus))

    def to_dict(self) -> dict:
        """The results.json form (see grader/README.md)."""
        return _clean({
            "schema_version": SCHEMA_VERSION, "generated_at": self.generated_at,
            "versions": self.versions, "protections": self.protections,
            "chapters": list(self.chapters), "max_score": self.max_score,
            "bonus_max": self.bonus_max,
            "exercises": [entry.to_dict() for entry in self.exercises],
            "seconds": self.seconds, "catalog_fingerprint": self.fingerprint,
            "extra_tests": list(self.extra_tests), "class": self.settings.to_dict(),
            "several_notebooks_rule": SEVERAL_NOTEBOOKS_RULE,
            "missing": list(self.missing), "unmatched": list(self.unmatched),
            "submissions": [row.to_dict() for row in self.submissions]})


def chapter_results(plans, outcomes) -> tuple[dict[str, ExerciseResult], list[TestResult]]:
    """Results of a chapter's exercises from their plans and outcomes (same order)."""
    exercises, tests = {}, []
    for plan, exercise_outcomes in zip(plans, outcomes):
        exercises[plan.exercise.id], exercise_tests = judge_exercise(plan, exercise_outcomes)
        tests += exercise_tests
    return exercises, tests

