"""In-notebook self-check: ``check("ch03.sigmoid", sigmoid)``.

Runs the exercise's public checks in the learner's own kernel (fine for feedback: this is not
grading) and shows which check failed, on which input, expected versus got, and a hint. Each
failure is put into words by :mod:`grader.verdict`, exactly as the grader does, in the
notebook's language: a translated exercise notebook's setup cell calls :func:`set_language`
with the language of its metadata (``metadata.grader.language``).
"""
from __future__ import annotations

import html
import os
import signal
import sys
import threading
import time
import types
from contextlib import contextmanager

from .catalog import Catalog, default_catalog
from .checks import CheckFailed, CheckSpec, NotImplementedYet, TimedOut, check_title
from .feedback import NEUTRAL_COLOUR, Row, function_plot, html_report, text_report
from .i18n import DEFAULT as DEFAULT_LANGUAGE
from .i18n import N_, _, known_language, use_language
from .verdict import classify, learner_message

TIME_LIMIT = 5.0
"""Seconds a public check may take in the learner's kernel (a check's ``timeout`` if longer)."""

NOT_IMPLEMENTED = N_("not implemented yet (replace the {line} line with your code)")
STUB_LINE = "raise NotImplementedError(...)"
NOTEBOOK_LANGUAGE = "NN_NOTEBOOK_LANGUAGE"
"""The environment variable holding the language of the notebook this kernel runs: process
state, as the kernel is one notebook's (IPython runs each cell in a context of its own, so a
context variable would not outlive the setup cell)."""


def set_language(language: str) -> str:
    """Give the self-checks' feedback in ``language`` (``"zh_CN"``; English when the language
    is not one the grader speaks) in this kernel from now on; returns the language in force.

    A translated exercise notebook's setup cell calls it with the notebook's language.
    """
    os.environ[NOTEBOOK_LANGUAGE] = known_language(language)
    return os.environ[NOTEBOOK_LANGUAGE]


def notebook_language() -> str:
    """The language :func:`set_language` gave this kernel (English by default)."""
    return known_language(os.environ.get(NOTEBOOK_LANGUAGE, DEFAULT_LANGUAGE))


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - IPython half imported or shut down
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Report:
    """The public checks of one exercise: one :class:`~grader.feedback.Row` per check."""

    def __init__(self, exercise: str):
        self.exercise = exercise
        self.rows: list[Row] = []
        self.not_implemented = False
        self.points = self.max_points = 0.0
        self.seconds = 0.0
        self.plot = ""  # inline SVG of an element-wise function against the reference

    @property
    def passed(self) -> bool:
        """Whether every public check passed."""
        return bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def n_passed(self) -> int:
        """Number of public checks that passed."""
        return sum(row.passed for row in self.rows)

    def text(self) -> str:
        """The report as plain text (printed outside Jupyter, and Jupyter's text fallback)."""
        if self.not_implemented:
            return f"{self.exercise}: " + _(NOT_IMPLEMENTED).format(line=f"`{STUB_LINE}`")
        return text_report(self.exercise, self.rows)

    def html(self) -> str:
        """The report as HTML (shown in Jupyter); every learner-controlled text is escaped."""
        escape = html.escape
        if self.not_implemented:
            text = escape(_(NOT_IMPLEMENTED)).format(line=f"<code>{escape(STUB_LINE)}</code>")
            return (f'<div style="border-left:4px solid {NEUTRAL_COLOUR};padding:4px 8px">'
                    f"<b>{escape(self.exercise)}</b>: {text}</div>")
        return html_report(self.exercise, self.rows, self.plot)

    def _repr_pretty_(self, printer, cycle):  # pragma: no cover - IPython display
        printer.text(self.text())


@contextmanager
def _time_limit(seconds: float):
    """Raise TimedOut in the main thread after ``seconds`` (no limit in other threads)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal,
                                                                                 "setitimer"):
        yield
        return

    def alarm(signum, frame):
        raise TimedOut(_("took longer than {seconds:.0f} s (endless loop?)").format(
            seconds=seconds))

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_one(spec: CheckSpec, sub, ref) -> BaseException | None:
    """Run one check in process; what it raised, or None if it passed."""
    try:
        with _time_limit(max(TIME_LIMIT, spec.timeout or 0)):
            spec.call(sub, ref)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, by verdict.classify
        return exc
    return None


def run_checks(exercise: str, *funcs, catalog: Catalog | None = None, **named) -> Report:
    """Run the public checks of ``exercise`` on the learner's functions, in process.

    Parameters
    ----------
    exercise : str
        E.g. ``"ch03.sigmoid"``.
    *funcs : callable
        The exercise's functions, in the order its graded cell defines them.
    catalog : Catalog, optional
        Default: the course repository's.
    **named : callable
        Functions by name (instead of, or in addition to, ``funcs``).

    Returns
    -------
    Report
    """
    catalog = catalog or default_catalog()
    found = catalog.exercises.get(exercise)
    if found is None:
        raise ValueError(f"unknown exercise {exercise!r}; known: "
                         f"{', '.join(sorted(catalog.exercises))}")
    if len(funcs) > len(found.functions):
        raise TypeError(f"check({exercise!r}, ...) takes at most {len(found.functions)} "
                        f"function(s): {', '.join(found.functions)}")
    sub = types.SimpleNamespace(**{**dict(zip(found.functions, funcs)), **named})
    ref = catalog.reference(found.chapter)
    report = Report(exercise)
    for spec in found.checks:
        if spec.hidden:
            continue
        report.max_points += spec.points
        error = run_one(spec, sub, ref)
        verdict = classify(error)
        report.rows.append(Row(verdict.status, check_title(spec.name),
                               learner_message(verdict, hint=spec.hint), verdict.diagnosis,
                               error if isinstance(error, CheckFailed) else None,
                               verdict.hidden_text))
        if isinstance(error, NotImplementedYet):
            report.not_implemented = True
            break
        if error is None:
            report.points += spec.points
    x_range = _plot_range(found)
    if x_range is not None and not report.not_implemented and hasattr(sub, found.main):
        report.plot = function_plot(found.main, getattr(sub, found.main),
                                    getattr(ref, found.main), x_range)
    return report


def _plot_range(exercise) -> tuple[float, float] | None:
    """The x range a check module's ``PLOTS`` dict gives an element-wise exercise, if any."""
    for spec in exercise.checks:
        ranges = getattr(spec.func, "__globals__", {}).get("PLOTS") or {}
        if exercise.id in ranges:
            return tuple(ranges[exercise.id])
    return None


def check(exercise: str, *funcs, **named):
    """Run the public checks of ``exercise`` on the given function(s) and show the feedback.

    Under nbgrader (``NBGRADER_EXECUTION`` set to ``autograde`` or ``validate``) a failing
    check raises AssertionError, so nbgrader scores the same checks.
    """
    with use_language(notebook_language()):
        started = time.perf_counter()
        report = run_checks(exercise, *funcs, **named)
        report.seconds = time.perf_counter() - started
        if _in_notebook():
            from IPython.display import display  # only ever imported inside Jupyter
            display({"text/plain": report.text(), "text/html": report.html()}, raw=True)
        else:
            print(report.text())
        if (os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")
                and not report.passed):
            raise AssertionError(report.text())
