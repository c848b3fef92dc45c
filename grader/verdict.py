"""Stage 5, verdict: what a check's exception means for the learner. Pure.

One mapping, :func:`classify`, from whatever a check raised (or the problem that kept it from
running) to a :class:`Status`, the message a public check shows and the words a hidden check
shows. The grader and the in-notebook self-check (:mod:`grader.selfcheck`) both use it, so a
learner sees the same words in both.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from .analyse import CellSyntaxError
from .checks import (KIND_TEXT, CheckFailed, Crashed, LearnerError, MissingFunction,
                     NotImplementedYet, TimedOut)
from .diagnosis import Diagnosis, diagnose
from .execute import LoadFailed


class Status(str, enum.Enum):
    """The status of one test (and, with ``PARTIAL``, of one exercise)."""

    PASSED = "passed"
    FAILED = "failed"                    # wrong answer; the message says what
    NOT_IMPLEMENTED = "not_implemented"  # the stub's NotImplementedError
    ERROR = "error"                      # the learner's code raised
    MISSING = "missing"                  # function or notebook not found
    SYNTAX_ERROR = "syntax_error"
    LOAD_ERROR = "load_error"            # the graded cell's top-level code raised
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    MEMORY_LIMIT = "memory_limit"
    GRADER_ERROR = "grader_error"        # a bug in a check: tell the course maintainers
    PARTIAL = "partial"                  # exercises only: some points, not all

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Verdict:
    """What one check's outcome means.

    Attributes
    ----------
    status : Status
    message : str
        What a public check shows: what is wrong, with the input and values when known.
    hidden_text : str
        All a hidden check reveals: the kind of problem, e.g. ``"wrong shape"``, and the
        mistake when one is recognised (``"wrong values (sign error?)"``).
    diagnosis : Diagnosis or None
        The mistake :func:`grader.diagnosis.diagnose` recognised; its text replaces the check's
        generic hint.
    """

    status: Status
    message: str = ""
    hidden_text: str = ""
    diagnosis: Diagnosis | None = None


PASSED = Verdict(Status.PASSED)


def _learner_error(exc: LearnerError) -> Verdict:
    if exc.etype == "MemoryError":
        return Verdict(Status.MEMORY_LIMIT, f"{exc.func} ran out of memory (limit reached): "
                                            f"{exc.emessage[:300]}", "ran out of memory")
    if exc.etype == "EOFError":
        return Verdict(Status.ERROR, f"{exc.func} called input(), which is not available while "
                                     "grading", "error")
    where = f"\n{exc.traceback}" if exc.traceback else ""
    message = f"{exc.func} raised {exc.etype}: {exc.emessage[:500]}{where}"
    found = next((diagnosis for etype, words, diagnosis in ERROR_DIAGNOSES
                  if exc.etype == etype and any(word in exc.emessage for word in words)), None)
    if found is None:
        return Verdict(Status.ERROR, message, f"your code raised {exc.etype}")
    return Verdict(Status.ERROR, message, f"your code raised {exc.etype} ({found.label}?)", found)


ERROR_DIAGNOSES = (
    ("TypeError", ("only 0-dimensional arrays", "only length-1 arrays", "only size-1 arrays"),
     Diagnosis("a math function on an array", (
         "a function of the math module (math.exp, math.log, ...) got an array: it takes one "
         "number only. Use numpy's (np.exp, np.log, np.tanh, ...), which work on numbers and, "
         "entry by entry, on arrays"))),
)
"""(exception type, words of its message, diagnosis): errors that name a common mistake."""


def _load_failed(exc: LoadFailed) -> Verdict:
    return Verdict(Status(exc.kind), exc.message, exc.kind.replace("_", " "))


KIND_DIAGNOSES = {"mutation": Diagnosis("modified its input", "")}
"""Mistakes named by the kind of failure alone (the message already says how to fix them)."""


def _check_failed(exc: CheckFailed) -> Verdict:
    found = diagnose(exc.got, exc.expected, exc.inputs) if exc.compared else None
    found = found or KIND_DIAGNOSES.get(exc.kind)
    hidden = KIND_TEXT.get(exc.kind, "wrong answer")
    if found is not None and found.label not in hidden:
        hidden = f"{hidden} ({found.label}?)"
    return Verdict(Status.FAILED, exc.message, hidden, found)


VERDICTS = (
    (CheckFailed, _check_failed),
    (NotImplementedYet, lambda exc: Verdict(
        Status.NOT_IMPLEMENTED,
        "not implemented yet (the function still raises NotImplementedError)", "not implemented")),
    (MissingFunction, lambda exc: Verdict(Status.MISSING, str(exc), "function missing")),
    (LearnerError, _learner_error),
    (TimedOut, lambda exc: Verdict(Status.TIMEOUT, exc.message, "timed out")),
    (Crashed, lambda exc: Verdict(Status.CRASHED, exc.message, "crashed")),
    (LoadFailed, _load_failed),
    (CellSyntaxError, lambda exc: Verdict(Status.SYNTAX_ERROR, exc.message, "syntax error")),
    (AssertionError, lambda exc: Verdict(Status.FAILED, str(exc) or "assertion failed",
                                         "wrong answer")),
)
"""Exception type to verdict, tried in this order (CheckFailed is an AssertionError)."""


def classify(error: BaseException | None) -> Verdict:
    """The verdict for what a check raised.

    Parameters
    ----------
    error : BaseException or None
        The exception, or None when the check passed.

    Returns
    -------
    Verdict
        Anything not listed in :data:`VERDICTS` is a bug in the check (``grader_error``).
    """
    if error is None:
        return PASSED
    for error_type, verdict in VERDICTS:
        if isinstance(error, error_type):
            return verdict(error)
    return Verdict(Status.GRADER_ERROR, (
        f"the check itself failed ({type(error).__name__}: {str(error)[:300]}); please report "
        "this to the course maintainers"), "grader error")


def learner_message(verdict: Verdict, *, hint: str = "", hidden_number: int | None = None,
                    ran: bool = True) -> str:
    """The message a learner reads for one check.

    Parameters
    ----------
    verdict : Verdict
    hint : str
        The check's hint, added to a failure or error of a public check unless the verdict
        names a recognised mistake (its diagnosis is shown instead).
    hidden_number : int or None
        For a hidden check, its number within the exercise: the message then names only the
        kind of problem (``hidden test 2 failed: wrong shape``).
    ran : bool
        False when the check did not run (code missing or not loadable): the message is the
        problem's, for hidden checks too, as it reveals nothing about the check.
    """
    if verdict.status is Status.PASSED:
        return ""
    if not ran:
        return verdict.message
    if hidden_number is not None:
        return f"hidden test {hidden_number} failed: {verdict.hidden_text}"
    if verdict.diagnosis is not None:
        text = verdict.diagnosis.text
        return f"{verdict.message}\nlikely mistake: {text}" if text else verdict.message
    if hint and verdict.status in (Status.FAILED, Status.ERROR):
        return f"{verdict.message}\nhint: {hint}"
    return verdict.message
