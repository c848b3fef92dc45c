"""Stage 4, execute: run the checks of a plan against learner code in the sandbox.

The only stage that uses :mod:`grader.sandbox`. Each exercise is loaded in a fresh forked worker
of the learner's sandbox (forked after the sandbox imported the modules the chapter's solution
notebook imports); each check runs in this (trusted) process and reaches the learner's
functions through proxies that send plain data. What a check raises is recorded, not judged:
:mod:`grader.verdict` turns it into a status. Sandbox failures are translated into the check
API's exceptions (:class:`~grader.checks.TimedOut`, :class:`~grader.checks.Crashed`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .analyse import ChapterPlan, ExercisePlan
from .catalog import Chapter
from .checks import (CheckFailed, CheckSpec, Crashed, LearnerError, MissingFunction,
                     NotImplementedYet, TimedOut)
from .i18n import _
from .sandbox import SandboxConfig, SandboxError, Session

__all__ = ["MAX_TIMEOUTS_PER_EXERCISE", "SANDBOX_SETTINGS", "LoadFailed", "CheckOutcome",
           "Executor", "chapter_config", "preload_chapter", "SandboxConfig"]

MAX_TIMEOUTS_PER_EXERCISE = 2
"""After this many timeouts in one exercise, its remaining checks are skipped."""

SANDBOX_SETTINGS = ("memory_mb", "cpu_seconds", "nproc", "load_timeout", "call_timeout",
                    "start_timeout", "tmp_mb", "env", "warm_folder", "preload_hidden")
"""Keys a check module may set in its ``SANDBOX`` dict."""

CALL_TIMED_OUT = "timed out: your function did not return in time (endless loop?)"


class LoadFailed(Exception):
    """The learner's exercise module could not be loaded.

    ``kind`` is ``"syntax_error"``, ``"load_error"`` (its top-level code raised), ``"timeout"``
    or ``"crashed"``; ``message`` says what happened.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class CheckOutcome:
    """What happened when one check ran (or why it did not).

    Attributes
    ----------
    spec : CheckSpec
    error : BaseException or None
        What the check raised, or the problem that kept it from running; None if it passed.
    ran : bool
        Whether the check function was called (hidden checks then show only the kind).
    output : str
        What learner code printed during the check (kept part, stdout and stderr merged).
    output_total, output_kept : int
        Bytes printed and bytes kept.
    """

    spec: CheckSpec
    error: BaseException | None = None
    ran: bool = False
    output: str = ""
    output_total: int = 0
    output_kept: int = 0

    @property
    def output_truncated(self) -> bool:
        """Whether learner code printed more than was kept."""
        return self.output_total > self.output_kept


def chapter_config(config: SandboxConfig, chapter: Chapter) -> SandboxConfig:
    """The sandbox settings for one chapter.

    A chapter's check module may declare ``SANDBOX = {"memory_mb": 6144, ...}`` (keys from
    ``SANDBOX_SETTINGS``) when its exercises need more than the defaults, e.g. Keras/JAX, which
    reserves much address space and many threads and imports slowly. Numeric settings can only
    be *raised*: a larger value given on the command line wins. ``"env"`` adds environment
    variables for the child (e.g. ``{"KERAS_BACKEND": "jax"}``; PATH and the grader's own
    variables cannot be changed).

    Returns
    -------
    SandboxConfig
        ``config`` itself when nothing changes.
    """
    wanted: dict = {}
    for exercise in chapter.exercises:
        for spec in exercise.checks:
            declared = getattr(spec.func, "__globals__", {}).get("SANDBOX") or {}
            for key, value in declared.items():
                if key not in SANDBOX_SETTINGS:
                    raise ValueError(f"SANDBOX setting {key!r} of chapter {chapter.name} is not "
                                     f"one of {', '.join(SANDBOX_SETTINGS)}")
                if key == "env":
                    wanted[key] = {**wanted.get(key, {}),
                                   **{str(name): str(text) for name, text in value.items()}}
                elif key == "warm_folder":
                    wanted[key] = str(value)
                elif key == "preload_hidden":
                    wanted[key] = tuple(sorted({*wanted.get(key, ()), *map(str, value)}))
                else:
                    wanted[key] = max(wanted.get(key, value), value)
    named = ("env", "warm_folder", "preload_hidden")  # replaced, not raised
    changes = {key: value for key, value in wanted.items()
               if key not in named and value > getattr(config, key)}
    for key in named[1:]:
        if wanted.get(key, getattr(config, key)) != getattr(config, key):
            changes[key] = wanted[key]
    env = {**wanted.get("env", {}), **config.env}
    if env != config.env:
        changes["env"] = env
    return dataclasses.replace(config, **changes) if changes else config


def _call_failure(exc: SandboxError) -> Exception:
    """The check API's exception for a sandbox failure during a call."""
    if exc.kind == "timeout":
        return TimedOut(CALL_TIMED_OUT)
    if exc.kind == "too_large":
        return CheckFailed(exc.message, kind="too_large")
    return Crashed(exc.message)


class ExerciseRunner:
    """Keeps a loaded worker for one exercise; reloads it in a fresh worker after a crash."""

    def __init__(self, session: Session, parts, timeout: float):
        self.session, self.parts, self.timeout = session, parts, timeout
        self.loaded = False
        self.names: set[str] = set()
        self.load_error: LoadFailed | None = None
        self.timeouts = 0

    def ensure_loaded(self):
        """Load the exercise unless a live worker has it; raises LoadFailed (remembered)."""
        if self.load_error:
            raise self.load_error
        if self.loaded and self.session.alive:
            return
        try:
            header = self.session.load(self.parts)
        except SandboxError as exc:
            if exc.kind == "timeout":
                self.timeouts += 1
                self.load_error = LoadFailed("timeout", (
                    "your cell's top-level code did not finish within "
                    f"{self.session.config.load_timeout:.1f} s (an endless loop outside the "
                    "function?)"))
            else:
                self.load_error = LoadFailed("crashed", exc.message)
            raise self.load_error from None
        if not header.get("ok"):
            error = header.get("error", {})
            kind = header.get("kind", "load_error")
            if kind == "syntax_error":
                message = f"syntax error: {error.get('message')}\n{error.get('traceback', '')}"
            else:
                message = (f"running the cell raised {error.get('type')}: {error.get('message')}\n"
                           f"{error.get('traceback', '')}")
            self.load_error = LoadFailed(kind, message.strip())
            raise self.load_error
        self.names = set(header.get("names", []))
        self.loaded = True

    def call(self, name: str, args: tuple, kwargs: dict):
        """Call a learner function; returns (value, args after, kwargs after)."""
        self.ensure_loaded()
        try:
            ok, value, args_after, kwargs_after = self.session.call(name, args, kwargs,
                                                                    timeout=self.timeout)
        except SandboxError as exc:
            self.loaded = False
            if exc.kind == "timeout":
                self.timeouts += 1
            raise _call_failure(exc) from None
        if not ok:
            error_type = value.get("type", "Exception")
            if error_type == "NotImplementedError":
                raise NotImplementedYet(value.get("message", ""))
            raise LearnerError(name, error_type, value.get("message", ""),
                               value.get("traceback", ""))
        return value, args_after, kwargs_after

    def finish(self):
        """End the worker (it is killed with the session otherwise)."""
        if self.loaded and self.session.alive:
            self.session.end()
        self.loaded = False


class RemoteFunction:
    """A learner function in the sandbox, called like a local one (see :func:`checks.run`)."""

    def __init__(self, runner: ExerciseRunner, name: str):
        self.runner, self.name, self.__name__ = runner, name, name

    def call_detailed(self, args: tuple, kwargs: dict):
        """(value, args after, kwargs after, warnings emitted): :func:`checks.run` needs all."""
        return (*self.runner.call(self.name, args, kwargs), self.runner.session.last_warnings)

    def __call__(self, *args, **kwargs):
        return self.call_detailed(args, kwargs)[0]


class RemoteNamespace:
    """The ``sub`` fixture in the grader: the learner's functions of one exercise."""

    def __init__(self, runner: ExerciseRunner):
        self._runner = runner

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._runner.names:
            raise MissingFunction(name, f"function `{name}` is not defined in your notebook")
        return RemoteFunction(self._runner, name)


def _run_check(session: Session, runner: ExerciseRunner, spec: CheckSpec, reference,
               call_timeout: float) -> CheckOutcome:
    session.reset_output()
    runner.timeout = spec.timeout or call_timeout
    error = None
    try:
        spec.call(RemoteNamespace(runner), reference)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an outcome
        error = exc
    finally:
        runner.timeout = call_timeout
    output, _ = session.output_text()
    return CheckOutcome(spec, error, True, output, session.output_total, len(session.output))


def run_exercise(session: Session, plan: ExercisePlan, reference,
                 config: SandboxConfig) -> list[CheckOutcome]:
    """Run every check of one exercise in ``session``; one outcome per check, in order."""
    checks = plan.exercise.checks
    if plan.problem is not None:
        return [CheckOutcome(spec, plan.problem) for spec in checks]
    runner = ExerciseRunner(session, plan.parts, config.call_timeout)
    try:
        runner.ensure_loaded()
    except LoadFailed:
        pass
    outcomes = []
    for spec in checks:
        if runner.load_error is not None:
            outcomes.append(CheckOutcome(spec, runner.load_error))
        elif runner.timeouts >= MAX_TIMEOUTS_PER_EXERCISE:
            outcomes.append(CheckOutcome(spec, TimedOut(
                _("skipped after {count} timeouts in this exercise").format(
                    count=runner.timeouts))))
        else:
            outcomes.append(_run_check(session, runner, spec, reference, config.call_timeout))
    runner.finish()
    return outcomes


def preload_chapter(session: Session, chapter: Chapter):
    """Import the modules of ``chapter``'s solution notebook in ``session`` once, before it forks
    the exercise workers (trusted names: :attr:`~grader.catalog.Chapter.imports`)."""
    try:
        session.preload(chapter.imports)
    except SandboxError:
        pass  # the sandbox failed to start: the first load reports it for every exercise


class Executor:
    """The sandboxes of one learner: a main one, and one per chapter needing larger limits.

    Parameters
    ----------
    config : SandboxConfig
        The command line's settings (a chapter's ``SANDBOX`` may raise them).
    warm : callable, optional
        ``warm(config, chapter) -> config``: where a chapter's sandbox starts with a warm
        folder, the trusted copy it starts from (:meth:`grader.warm.WarmStarts.config_for`).

    Use as a context manager, or call :meth:`close`: every sandbox process is killed then.
    """

    def __init__(self, config: SandboxConfig, warm=None):
        self.config = config
        self.warm = warm
        self.session = Session(config)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info):
        self.close()

    def start_early(self):
        """Start the main sandbox now; it imports numpy while the notebooks are analysed."""
        try:
            self.session.start(wait=False)
        except Exception:  # noqa: BLE001 - retried (and reported) at the first load
            self.session.kill()

    @property
    def protections(self) -> dict:
        """What the sandbox reported about its protections ({} if it never started)."""
        return self.session.report

    def run_chapter(self, plan: ChapterPlan, reference) -> list[list[CheckOutcome]]:
        """Outcomes of every check of a chapter, per exercise, in order.

        Parameters
        ----------
        plan : ChapterPlan
        reference : SimpleNamespace or None
            The chapter's reference solution (the ``ref`` fixture; None when no check of the
            chapter takes it).
        """
        config = chapter_config(self.config, plan.chapter)
        if config.warm_folder and self.warm is not None:
            config = self.warm(config, plan.chapter)
        session = self.session if config is self.config else Session(config)
        try:
            if any(exercise.problem is None for exercise in plan.exercises):
                preload_chapter(session, plan.chapter)
            return [run_exercise(session, exercise, reference, config)
                    for exercise in plan.exercises]
        finally:
            if session is not self.session:
                if not self.session.report:
                    self.session.report = dict(session.report)
                session.kill()

    def close(self):
        """Kill the main sandbox."""
        self.session.kill()
