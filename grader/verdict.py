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
from .i18n import N_, _


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
        return Verdict(Status.MEMORY_LIMIT,
                       _("{function} ran out of memory (limit reached): {error}").format(
                           function=exc.func, error=exc.emessage[:300]),
                       _("ran out of memory"))
    if exc.etype == "EOFError":
        return Verdict(Status.ERROR, _("{function} called input(), which is not available while "
                                       "grading").format(function=exc.func), _("error"))
    where = f"\n{exc.traceback}" if exc.traceback else ""
    message = _("{function} raised {error_type}: {error}").format(
        function=exc.func, error_type=exc.etype, error=exc.emessage[:500]) + where
    found = next((diagnosis for etype, words, diagnosis in ERROR_DIAGNOSES
                  if exc.etype == etype and any(word in exc.emessage for word in words)), None)
    if found is None:
        return Verdict(Status.ERROR, message,
                       _("your code raised {error_type}").format(error_type=exc.etype))
    found = Diagnosis(_(found.label), _(found.text))
    return Verdict(Status.ERROR, message, _("your code raised {error_type} ({mistake}?)").format(
        error_type=exc.etype, mistake=found.label), found)


ERROR_DIAGNOSES = (
    ("TypeError", ("only 0-dimensional arrays", "only length-1 arrays", "only size-1 arrays"),
     Diagnosis(N_("a math function on an array"), N_(
         "a function of the math module (math.exp, math.log, ...) got an array: it takes one "
         "number only. Use numpy's (np.exp, np.log, np.tanh, ...), which work on numbers and, "
         "entry by entry, on arrays"))),
)
"""(exception type, words of its message, diagnosis): errors that name a common mistake (the
texts are translated where they are used)."""


STATUS_TEXT = {
    "passed": N_("passed"), "failed": N_("failed"), "error": N_("error"),
    "not_implemented": N_("not implemented"), "missing": N_("missing"),
    "syntax_error": N_("syntax error"), "load_error": N_("load error"),
    "timeout": N_("timeout"), "crashed": N_("crashed"), "memory_limit": N_("memory limit"),
    "grader_error": N_("grader error"), "partial": N_("partial"),
    "graded": N_("graded"), "not_gradable": N_("not gradable"),
}
"""Each :class:`Status` (and a submission's status) in words, translated by
:func:`status_text`."""


def status_text(value: str) -> str:
    """A status value (``"not_implemented"``) in words, in the language in force."""
    return _(STATUS_TEXT.get(value, value.replace("_", " ")))


def _load_failed(exc: LoadFailed) -> Verdict:
    return Verdict(Status(exc.kind), exc.message, status_text(exc.kind))


KIND_DIAGNOSES = {"mutation": Diagnosis(N_("modified its input"), "")}
"""Mistakes named by the kind of failure alone (the message already says how to fix them)."""


def _check_failed(exc: CheckFailed) -> Verdict:
    found = diagnose(exc.got, exc.expected, exc.inputs) if exc.compared else None
    if found is None and exc.kind in KIND_DIAGNOSES:
        found = Diagnosis(_(KIND_DIAGNOSES[exc.kind].label), "")
    hidden = _(KIND_TEXT.get(exc.kind, N_("wrong answer")))
    if found is not None and found.label not in hidden:
        hidden = _("{problem} ({mistake}?)").format(problem=hidden, mistake=found.label)
    return Verdict(Status.FAILED, exc.message, hidden, found)


VERDICTS = (
    (CheckFailed, _check_failed),
    (NotImplementedYet, lambda exc: Verdict(
        Status.NOT_IMPLEMENTED,
        _("not implemented yet (the function still raises NotImplementedError)"),
        _("not implemented"))),
    (MissingFunction, lambda exc: Verdict(Status.MISSING, str(exc), _("function missing"))),
    (LearnerError, _learner_error),
    (TimedOut, lambda exc: Verdict(Status.TIMEOUT, exc.message, _("timed out"))),
    (Crashed, lambda exc: Verdict(Status.CRASHED, exc.message, _("crashed"))),
    (LoadFailed, _load_failed),
    (CellSyntaxError, lambda exc: Verdict(Status.SYNTAX_ERROR, exc.message, _("syntax error"))),
    (AssertionError, lambda exc: Verdict(Status.FAILED, str(exc) or _("assertion failed"),
                                         _("wrong answer"))),
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
    return Verdict(Status.GRADER_ERROR, _(
        "the check itself failed ({error_type}: {error}); please report this to the course "
        "maintainers").format(error_type=type(error).__name__, error=str(error)[:300]),
        _("grader error"))


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
        return _("hidden test {number} failed: {problem}").format(number=hidden_number,
                                                                  problem=verdict.hidden_text)
    if verdict.diagnosis is not None:
        text = verdict.diagnosis.text
        return f"{verdict.message}\n{likely_mistake_prefix()} {text}" if text else verdict.message
    if hint and verdict.status in (Status.FAILED, Status.ERROR):
        return f"{verdict.message}\n{_('hint:')} {_(hint)}"
    return verdict.message


def likely_mistake_prefix() -> str:
    """The words that introduce a recognised mistake in a message (translated)."""
    return _("likely mistake:")
