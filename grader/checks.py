"""The API check definitions are written with (see grader/README.md, "Checks").

A check is a pytest test function decorated with :func:`check`. It receives ``sub`` (the code
under test) and/or ``ref`` (the reference solution) by name. The same function runs under
pytest (``sub`` = reference), in the notebook self-check (``sub`` = the learner's functions, in
process) and in the grader (``sub`` = proxies into the sandbox).

This module also names what can go wrong while a check calls learner code (the exceptions
below); :mod:`grader.verdict` turns each into a status and a message.
"""
from __future__ import annotations

import contextvars
import copy
import inspect
import math
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from nnlib.gradcheck import numerical_gradient, relative_error

from .i18n import N_, _

__all__ = [
    "CheckFailed", "NotImplementedYet", "LearnerError", "MissingFunction", "TimedOut", "Crashed",
    "KIND_TEXT", "CheckSpec", "check", "check_title", "run", "describe", "call_text", "compare",
    "expect_close", "expect_same", "expect_true", "expect_no_warnings", "expect_raises",
    "expect_gradients", "numerical_gradient", "relative_error",
]


# --------------------------------------------------------------------------- failures
class CheckFailed(AssertionError):
    """The learner's answer is wrong. ``kind`` names what is wrong (for hidden feedback).

    A failed comparison also keeps what it compared, for :mod:`grader.diagnosis` and the
    side-by-side feedback: ``got``, ``expected`` (None when not known), and ``inputs``, the
    arguments of the learner's call (``()`` when not known).
    """

    def __init__(self, message: str, kind: str = "values", got=None, expected=None,
                 inputs: tuple = (), compared: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.got, self.expected, self.inputs = got, expected, tuple(inputs)
        self.compared = compared  # got and expected are the values compared


class NotImplementedYet(Exception):
    """The learner's function still raises the stub's NotImplementedError."""


class LearnerError(Exception):
    """The learner's function raised an exception.

    Attributes
    ----------
    func : str
        Name of the learner's function.
    etype, emessage : str
        Type name and message of the exception it raised.
    traceback : str
        The learner's own frames, one ``line N, in f: code`` line each (may be empty).
    """

    def __init__(self, func: str, etype: str, message: str, traceback: str = ""):
        super().__init__(_("{function} raised {error_type}: {error}").format(
            function=func, error_type=etype, error=message))
        self.func, self.etype, self.emessage, self.traceback = func, etype, message, traceback


class MissingFunction(Exception):
    """A function the check needs is not defined (``detail`` says where it was looked for)."""

    def __init__(self, name: str, detail: str = ""):
        super().__init__(detail or _("function {name!r} not found").format(name=name))
        self.name = name


class TimedOut(Exception):
    """Learner code did not return in time; ``message`` says what timed out."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Crashed(Exception):
    """The process running learner code ended or broke the protocol; ``message`` says how."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


KIND_TEXT = {
    "none": N_("returned None"), "type": N_("wrong type"), "shape": N_("wrong shape"),
    "dtype": N_("wrong dtype"), "nan": N_("NaN or infinite values"),
    "values": N_("wrong values"), "mutation": N_("modified its input"),
    "length": N_("wrong number of items"), "keys": N_("wrong dictionary keys"),
    "too_large": N_("result too large"), "warning": N_("emitted a warning (e.g. overflow)"),
    "raises": N_("bad input not rejected with the required error"),
}
"""What a hidden check says about each kind of :class:`CheckFailed` (translated where shown)."""


def check_title(name: str) -> str:
    """A check's name for people, in the language in force: ``test_sigmoid_known_values`` ->
    ``sigmoid known values`` (a message of the chapter's catalog, :mod:`grader.i18n`)."""
    return _(name.removeprefix("test_").replace("_", " "))


# --------------------------------------------------------------------------- registration
@dataclass(frozen=True)
class CheckSpec:
    """A registered check.

    Attributes
    ----------
    func : callable
        The test function; its parameters are a subset of ``sub`` and ``ref``.
    exercise : str
        The exercise id, e.g. ``"ch03.sigmoid"``.
    points : float
    hidden : bool
        Hidden checks run only in the grader; their feedback names only the kind of problem.
    hint : str
        Shown with a failure of a public check.
    timeout : float or None
        Seconds per call of learner code, when the default is too short.
    name : str
        The function's name.
    """

    func: Callable
    exercise: str
    points: float
    hidden: bool
    hint: str
    timeout: float | None
    name: str

    @property
    def uses_reference(self) -> bool:
        """Whether the check takes the ``ref`` fixture (the chapter's reference solution)."""
        return "ref" in inspect.signature(self.func).parameters

    def call(self, sub=None, ref=None):
        """Run the check with the fixtures it asks for, in a fresh context (no earlier call)."""
        wanted = inspect.signature(self.func).parameters
        fixtures = {key: value for key, value in (("sub", sub), ("ref", ref)) if key in wanted}
        return contextvars.copy_context().run(_run_fresh, self.func, fixtures)


def _run_fresh(func: Callable, fixtures: dict):
    _LAST_CALL.set(None)
    _LAST_WARNINGS.set(())
    return func(**fixtures)


def check(exercise: str, points: float = 1, hidden: bool = False, hint: str = "",
          timeout: float | None = None):
    """Register a test function as a check of ``exercise``.

    Parameters
    ----------
    exercise : str
        The exercise id, e.g. ``"ch03.sigmoid"``.
    points : float, default 1
    hidden : bool, default False
    hint : str, default ""
    timeout : float or None, default None
        Seconds per call of learner code (the grader's default otherwise).

    Returns
    -------
    callable
        A decorator that returns the function unchanged, with its :class:`CheckSpec` attached
        as ``_nn_check``.
    """
    if "." not in exercise:
        raise ValueError(f"exercise id must look like 'ch03.sigmoid', got {exercise!r}")
    if points < 0:
        raise ValueError(f"points must be >= 0, got {points!r}")

    def register(func):
        if not func.__name__.startswith("test_"):
            raise ValueError(f"check {func.__name__}: the function name must start with 'test_' "
                             "so pytest collects it")
        unknown = set(inspect.signature(func).parameters) - {"sub", "ref"}
        if unknown:
            raise ValueError(f"check {func.__name__}: unknown arguments {sorted(unknown)} "
                             "(only 'sub' and 'ref' exist)")
        func._nn_check = CheckSpec(func, exercise, float(points), bool(hidden), hint, timeout,
                                   func.__name__)
        return func
    return register


# --------------------------------------------------------------------------- calling
@dataclass(frozen=True)
class Call:
    """The last call :func:`run` made in this check: shown in the messages of expect_close."""

    name: str
    args: tuple
    kwargs: dict

    def text(self) -> str:
        """The call as text, e.g. ``softmax(array([1., 2.]) (shape (2,), dtype float64))``."""
        parts = [describe(arg, 200) for arg in self.args]
        parts += [f"{key}={describe(value, 200)}" for key, value in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


_LAST_CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("grader_last_call",
                                                                       default=None)
_LAST_WARNINGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "grader_last_warnings", default=())


def describe(value, limit: int = 300, precision: int = 6) -> str:
    """Short description of a value: type, shape, dtype and (small) contents.

    Parameters
    ----------
    value : object
    limit : int, default 300
        Characters of contents kept (nested values get half as many each).
    precision : int, default 6
        Digits of array entries shown.

    Returns
    -------
    str
    """
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=precision, threshold=20, edgeitems=3, linewidth=100):
            body = np.array2string(value, separator=", ")
        if len(body) > limit:
            body = body[:limit] + " ..."
        return f"array({body}) (shape {value.shape}, dtype {value.dtype})"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(item, limit // 2) for item in value[:5])
        more = ", ..." if len(value) > 5 else ""
        return f"({inner}{more})" if isinstance(value, tuple) else f"[{inner}{more}]"
    if isinstance(value, dict):
        inner = ", ".join(f"{key!r}: {describe(item, limit // 2)}"
                          for key, item in list(value.items())[:6])
        return f"{{{inner}}}"
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + " ..."
    return f"{text} ({type(value).__name__})"


def _equal_plain(first, second) -> bool:
    """Structural equality for plain data, NaN == NaN; trusted-side only."""
    if type(first) is not type(second):
        return False
    if isinstance(first, np.ndarray):
        if first.shape != second.shape or first.dtype != second.dtype:
            return False
        if first.dtype.kind in "fc":
            return bool(np.array_equal(first, second, equal_nan=True))
        return bool(np.array_equal(first, second))
    if isinstance(first, (list, tuple)):
        return len(first) == len(second) and all(map(_equal_plain, first, second))
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(_equal_plain(first[key], second[key])
                                                      for key in first)
    if isinstance(first, float) and math.isnan(first):
        return isinstance(second, float) and math.isnan(second)
    return bool(first == second)


def _func_name(func) -> str:
    return getattr(func, "__name__", None) or getattr(func, "name", None) or "function"


_LIBRARY_PREFIXES = tuple(str(Path(prefix).resolve())
                          for prefix in {sys.prefix, sys.base_prefix, Path(__file__).parent})


def _learner_frames(exc: BaseException) -> str:
    """The frames of an in-process learner error below :func:`run`, without library code."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)[1:]
              if not str(Path(frame.filename).resolve()).startswith(_LIBRARY_PREFIXES)]
    return "\n".join(_("  line {line}, in {function}: {code}").format(
        line=frame.lineno, function=frame.name, code=(frame.line or "").strip())
        for frame in frames[-5:])


def _call_in_process(func, name: str, args: tuple, kwargs: dict):
    """Call ``func`` on deep copies; returns (value, args after, kwargs after, warnings)."""
    args_copy, kwargs_copy = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func(*args_copy, **kwargs_copy)
    except NotImplementedError as exc:
        raise NotImplementedYet(str(exc)) from None
    except (CheckFailed, NotImplementedYet, TimedOut):
        raise
    except Exception as exc:
        raise LearnerError(name, type(exc).__name__, str(exc), _learner_frames(exc)) from exc
    texts = tuple(f"{item.category.__name__}: {str(item.message)[:300]}" for item in caught[:5])
    return value, args_copy, kwargs_copy, texts


def run(fn, *args, **kwargs):
    """Call a learner's function on deep copies of the arguments and return its result.

    Fails with kind ``mutation`` if the function modified an argument in place. Remembers the
    call so that :func:`expect_close` can show the input in its message, and the warnings it
    emitted for :func:`expect_no_warnings`. A function with a
    ``call_detailed(args, kwargs)`` method (the grader's sandbox proxy) is called through it.

    Returns
    -------
    object
        What the function returned.
    """
    name = _func_name(fn)
    _LAST_CALL.set(Call(name, args, kwargs))
    _LAST_WARNINGS.set(())
    if hasattr(fn, "call_detailed"):
        value, args_after, kwargs_after, emitted = fn.call_detailed(args, kwargs)
    else:
        value, args_after, kwargs_after, emitted = _call_in_process(fn, name, args, kwargs)
    _LAST_WARNINGS.set(tuple(emitted))
    for position, (before, after) in enumerate(zip(args, args_after or ())):
        if not _equal_plain(before, after):
            raise CheckFailed(_("{function} modified its argument {position} in place ({call}). "
                                "Work on a copy, e.g. `z = z.copy()` or build a new array with "
                                "np.where.").format(function=name, position=position + 1,
                                                    call=call_text()), kind="mutation")
    for key in kwargs:
        if kwargs_after is not None and not _equal_plain(kwargs[key], kwargs_after.get(key)):
            raise CheckFailed(_("{function} modified its argument {name!r} in place.").format(
                function=name, name=key), kind="mutation")
    return value


def call_text() -> str:
    """The last call of :func:`run` in this check, e.g. ``softmax(array([...]) ...)``."""
    call = _LAST_CALL.get()
    return call.text() if call is not None else ""


# --------------------------------------------------------------------------- comparing
def _type_name(value) -> str:
    if hasattr(value, "type_name"):  # grader._child.Unsupported
        return value.type_name
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _shape_tip(got: tuple, expected: tuple) -> str:
    if len(got) == len(expected) + 1 and got[-1] == 1 and got[:-1] == expected:
        return _(" (an extra axis of length 1: a column vector where a 1-D array is expected?)")
    if len(expected) == len(got) + 1 and expected[-1] == 1 and expected[:-1] == got:
        return _(" (a 1-D array where a column of shape (n, 1) is expected: use keepdims=True "
                 "or reshape(-1, 1))")
    if sorted(got) == sorted(expected):
        return _(" (transposed?)")
    return ""


NEAR_MISS = 10.0
"""A miss within this many tolerances of passing shows the tolerance; larger misses do not."""


def tolerance_note(distance: float, allowed: float, rtol: float, atol: float) -> str:
    """`` (tolerance ...)`` for a near miss (rounding matters there), else ``""``."""
    if not math.isfinite(distance) or distance > NEAR_MISS * allowed:
        return ""
    return _(" (off by {distance:.2g}, {times:.1f} times the tolerance rtol={rtol:g}, "
             "atol={atol:g}: nearly right; look for float32, a rounded constant or an "
             "epsilon)").format(distance=distance, times=distance / allowed, rtol=rtol, atol=atol)


def digits_to_tell_apart(distance: float, magnitude: float) -> int:
    """Digits an array print needs so that values ``distance`` apart look different (6-16)."""
    if not math.isfinite(distance) or distance <= 0:
        return 6
    relative = distance / max(magnitude, 1e-300)
    return int(min(16, max(6, math.ceil(-math.log10(relative)) + 2)))


def _array_values_problem(got, expected, rtol, atol, what):
    """Values of two arrays of equal shape and acceptable dtype; None or (kind, message)."""
    if got.dtype.kind in "fc" and expected.dtype.kind in "fciub":
        bad = ~np.isfinite(got) & np.isfinite(expected)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            return "nan", _("{what} contains {count} NaN/inf value(s) where finite values are "
                            "expected, first at index {index} (got {got}, expected "
                            "{expected!r})").format(what=what, count=int(bad.sum()), index=index,
                                                    got=got[index], expected=expected[index].item())
    if expected.dtype.kind in "fc" or got.dtype.kind in "fc":
        close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return None
        distance = np.abs(got.astype(complex if got.dtype.kind == "c" else float) - expected)
        distance = np.where(close, 0, np.nan_to_num(distance, nan=np.inf))
        worst = np.unravel_index(int(np.argmax(distance)), distance.shape) if distance.ndim else ()
        worst = tuple(int(i) for i in worst)
        allowed = atol + rtol * abs(expected[worst].item())
        digits = digits_to_tell_apart(distance[worst], abs(expected[worst].item()))
        note = tolerance_note(distance[worst], allowed, rtol, atol)
        return "values", (_("{what} is wrong at {wrong} of {size} positions; worst at index "
                            "{index}: got {got!r}, expected {expected!r}").format(
            what=what, wrong=int((~close).sum()), size=close.size, index=worst,
            got=got[worst].item(), expected=expected[worst].item()) + note + "\n"
            + _expected_and_got(describe(expected, precision=digits),
                                describe(got, precision=digits)))
    if not np.array_equal(got, expected):
        return "values", (_("{what} is wrong").format(what=what) + "\n"
                          + _expected_and_got(describe(expected), describe(got)))
    return None


def _expected_and_got(expected: str, got: str) -> str:
    """The two values, one a line, labelled and aligned."""
    labels = [_("expected:"), _("got:")]
    width = max(map(len, labels))
    return (f"  {labels[0]:<{width}} {expected}\n"
            f"  {labels[1]:<{width}} {got}")


def _compare_array(got, expected, rtol, atol, dtype, what, equal_nan):
    if not isinstance(got, np.ndarray) or type(got) is not np.ndarray:
        return "type", _("{what} should be a numpy array, got {got} of type {type}").format(
            what=what, got=describe(got, 120), type=_type_name(got))
    if got.shape != expected.shape:
        return "shape", _("{what} has shape {got}, expected {expected}").format(
            what=what, got=got.shape, expected=expected.shape) + _shape_tip(got.shape,
                                                                          expected.shape)
    if (dtype == "exact" and got.dtype != expected.dtype
            or dtype == "kind" and got.dtype.kind != expected.dtype.kind):
        tip = ""
        if got.dtype.kind in "iub" and expected.dtype.kind == "f":
            tip = _(" (integer results: use float arithmetic, e.g. 1.0 instead of 1, or "
                    ".astype(float))")
        return "dtype", _("{what} has dtype {got}, expected {expected}").format(
            what=what, got=got.dtype, expected=expected.dtype) + tip
    return _array_values_problem(got, expected, rtol, atol, what)


def _compare_sequence(got, expected, rtol, atol, dtype, what, equal_nan):
    if not isinstance(got, (tuple, list)):
        return "type", _("{what} should be a {type} of {count} items, got {got}").format(
            what=what, type=type(expected).__name__, count=len(expected), got=_type_name(got))
    if len(got) != len(expected):
        return "length", _("{what} should have {expected} items, got {got}").format(
            what=what, expected=len(expected), got=len(got))
    for position, (got_item, expected_item) in enumerate(zip(got, expected)):
        problem = compare(got_item, expected_item, rtol, atol, dtype, f"{what}[{position}]",
                          equal_nan)
        if problem:
            return problem
    return None


def _compare_dict(got, expected, rtol, atol, dtype, what, equal_nan):
    if not isinstance(got, dict):
        return "type", _("{what} should be a dict, got {got}").format(what=what,
                                                                      got=_type_name(got))
    if set(got) != set(expected):
        return "keys", _("{what} has keys {got}, expected {expected}").format(
            what=what, got=sorted(map(str, got)), expected=sorted(map(str, expected)))
    for key in expected:
        problem = compare(got[key], expected[key], rtol, atol, dtype, f"{what}[{key!r}]",
                          equal_nan)
        if problem:
            return problem
    return None


def _compare_bool(got, expected, rtol, atol, dtype, what, equal_nan):
    if not isinstance(got, (bool, np.bool_)):
        return "type", _("{what} should be a bool, got {got}").format(what=what,
                                                                      got=_type_name(got))
    if bool(got) != bool(expected):
        return "values", _("{what} should be {expected!r}, got {got!r}").format(
            what=what, expected=bool(expected), got=bool(got))
    if dtype == "exact" and isinstance(expected, bool) and not isinstance(got, bool):
        return "type", _("{what} is numpy's {type}, expected a Python bool: wrap the result in "
                         "bool(...)").format(what=what, type=_type_name(got))
    return None


def _compare_number(got, expected, rtol, atol, dtype, what, equal_nan):
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, NUMBER_TYPES):
        if not (isinstance(got, np.ndarray) and got.shape == ()):
            return "type", _("{what} should be a number, got {got}").format(
                what=what, got=describe(got, 120))
        got = got[()]
    if dtype == "exact":
        if isinstance(got, np.float32 | np.float16) and not isinstance(expected,
                                                                         np.float32 | np.float16):
            return "dtype", _("{what} is a {type} number, expected a float64 one (float32 "
                              "arithmetic somewhere, e.g. .astype(np.float32)?)").format(
                what=what, type=type(got).__name__)
        if (isinstance(expected, int | np.integer) and not isinstance(expected, bool)
                and isinstance(got, float | np.floating)):
            return "dtype", _("{what} is {got!r}, a float; expected the integer {expected!r} (a "
                              "count: use integer arithmetic, e.g. // instead of /, or "
                              "int())").format(what=what, got=got, expected=expected)
    got_value, expected_value = float(got), float(expected)
    if (math.isnan(got_value) and not math.isnan(expected_value)
            or math.isinf(got_value) and not math.isinf(expected_value)):
        return "nan", _("{what} is {got!r}, expected the finite value {expected!r}").format(
            what=what, got=got_value, expected=expected_value)
    if (not math.isclose(got_value, expected_value, rel_tol=rtol, abs_tol=atol)
            and not (math.isnan(got_value) and math.isnan(expected_value))):
        allowed = atol + rtol * abs(expected_value)
        note = tolerance_note(abs(got_value - expected_value), allowed, rtol, atol)
        return "values", _("{what} is {got!r}, expected {expected!r}").format(
            what=what, got=got_value, expected=expected_value) + note
    return None


def _compare_str(got, expected, rtol, atol, dtype, what, equal_nan):
    if not isinstance(got, str):
        return "type", _("{what} should be a str, got {got}").format(what=what,
                                                                     got=_type_name(got))
    if got == expected:
        return None
    return "values", _("{what} is {got!r}, expected {expected!r}").format(
        what=what, got=got[:200], expected=expected[:200])


NUMBER_TYPES = (int, float, np.integer, np.floating)

COMPARERS = (
    (np.ndarray, _compare_array),
    ((tuple, list), _compare_sequence),
    (dict, _compare_dict),
    ((bool, np.bool_), _compare_bool),   # before numbers: a bool is an int
    (NUMBER_TYPES, _compare_number),
    (str, _compare_str),
)
"""How to compare with an expected value of each type, tried in this order."""


def compare(got, expected, rtol: float = 1e-7, atol: float = 1e-12, dtype: str = "exact",
            what: str = "the result", equal_nan: bool = False):
    """Compare plain data: None, type, shape, dtype, NaN/inf, then values.

    Parameters
    ----------
    got : object
        The learner's value (plain data).
    expected : object
        The reference value.
    rtol, atol : float
        Tolerances for floating-point values.
    dtype : {"exact", "kind", "any"}
        How strictly array dtypes must match.
    what : str
        How the messages name the value, e.g. ``"the result of f(x)"``.
    equal_nan : bool
        Passed on to nested comparisons.

    Returns
    -------
    None or tuple of (str, str)
        None if equal within tolerance, else (kind, message).
    """
    if expected is None:
        return None if got is None else ("type", _("{what} should be None, got {got}").format(
            what=what, got=describe(got)))
    if got is None:
        return "none", _("{what} is None: did you forget `return`?").format(what=what)
    for types, comparer in COMPARERS:
        if isinstance(expected, types):
            return comparer(got, expected, rtol, atol, dtype, what, equal_nan)
    # ``expected`` itself came from learner code (e.g. comparing two of its results)
    return "type", _("{what}: cannot compare objects of type {got} and {expected}").format(
        what=what, got=_type_name(got), expected=_type_name(expected))


def expect_close(got, expected, rtol: float = 1e-7, atol: float = 1e-12, dtype: str = "exact",
                 what: str | None = None, equal_nan: bool = False):
    """Fail unless ``got`` equals ``expected`` within tolerance (see :func:`compare`).

    Raises
    ------
    CheckFailed
        With the first problem found: None, type, shape, dtype, NaN/inf or values.
    """
    if what is None:
        call = _LAST_CALL.get()
        what = (_("the result of {call}").format(call=call.text()) if call is not None
                else _("the result"))
    problem = compare(got, expected, rtol=rtol, atol=atol, dtype=dtype, what=what,
                      equal_nan=equal_nan)
    if problem:
        call = _LAST_CALL.get()
        raise CheckFailed(problem[1], kind=problem[0], got=got, expected=expected,
                          inputs=call.args if call is not None else (), compared=True)


def expect_same(fn, ref_fn, *args, rtol: float = 1e-7, atol: float = 1e-12,
                dtype: str = "exact", **kwargs):
    """Run ``fn`` and the reference ``ref_fn`` on the same inputs and compare the results.

    Returns
    -------
    object
        What ``fn`` returned.
    """
    expected = ref_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    got = run(fn, *args, **kwargs)
    expect_close(got, expected, rtol=rtol, atol=atol, dtype=dtype)
    return got


def expect_true(condition, message: str, kind: str = "values"):
    """Fail with ``message`` (``kind`` for hidden feedback) unless ``condition`` holds.

    A message is written for the learner: mark it for translation, ``_("...")`` (with its
    values filled in after translating: ``_("got {n} rows").format(n=n)``).
    """
    if not condition:
        raise CheckFailed(message, kind=kind)


def expect_no_warnings(requirement: str | None = None,
                       matching: str = ""):
    """Fail (kind ``warning``) if the last :func:`run` call emitted a warning.

    For the checks of a requirement the exercise states, e.g. "without warnings" for a
    numerically stable formula: elsewhere warnings never cost points.

    Parameters
    ----------
    requirement : str
        What the exercise requires, added to the message.
    matching : str, default ""
        Only warnings whose text contains this count (e.g. Keras's ``input_dim`` warning).
    """
    emitted = [text for text in _LAST_WARNINGS.get() if matching in text]
    if emitted:
        more = _(" (and {count} more)").format(count=len(emitted) - 1) if len(emitted) > 1 else ""
        raise CheckFailed(_("{call} emitted {warning}{more}; {requirement}").format(
            call=call_text(), warning=emitted[0], more=more,
            requirement=requirement or _("the exercise requires no warnings")),
            kind="warning")


def expect_raises(fn, *args, error: str = "ValueError", what: str | None = None,
                  naming: tuple[str, ...] = ()):
    """Run the learner's ``fn`` on bad input and require it to raise ``error`` (a type name).

    ``what`` describes the bad input for the message, e.g. "a column bias of shape (4, 1)";
    ``naming`` lists words the error's message must contain (e.g. the two numbers that
    disagree), when the exercise asks for a message that names them.
    """
    name, what = _func_name(fn), what or _("this input")
    try:
        got = run(fn, *args)
    except LearnerError as exc:
        if exc.etype != error:
            raise CheckFailed(_("{function} should raise {error} for {what}, but it raised "
                                "{error_type}: {message}").format(
                function=name, error=error, what=what, error_type=exc.etype,
                message=exc.emessage), kind="raises") from None
        missing = [word for word in naming if word not in exc.emessage]
        if missing:
            raise CheckFailed(_("{function} raised {error} for {what}, but its message "
                                "{message!r} does not name {missing}: say what is wrong and "
                                "which values disagree").format(
                function=name, error=error, what=what, message=exc.emessage[:200],
                missing=", ".join(missing)), kind="raises") from None
        return
    returned = (_("an array of shape {shape}").format(shape=got.shape)
                if isinstance(got, np.ndarray) else type(got).__name__)
    raise CheckFailed(_("{function} should raise {error} for {what}, but it returned "
                        "{returned}").format(function=name, error=error, what=what,
                                             returned=returned), kind="raises")


def _gradient_problem(label: str, got, expected, tol: float) -> tuple[str, str] | None:
    """(kind, text) when one gradient is wrong, None when it is within ``tol``."""
    if not isinstance(got, np.ndarray):
        return "type", _("{label} wrong (not an array: {type})").format(label=label,
                                                                        type=_type_name(got))
    if got.shape != expected.shape:
        return "shape", _("{label} wrong (shape {got}, expected {expected})").format(
            label=label, got=got.shape, expected=expected.shape)
    if not np.all(np.isfinite(got)):
        return "nan", _("{label} wrong (contains NaN/inf)").format(label=label)
    error = relative_error(got, expected, floor=1e-12)
    if error > tol:
        return "values", _("{label} wrong (rel. error {error:.1e})").format(label=label,
                                                                            error=error)
    return None


def expect_gradients(got, expected: dict, tol: float = 1e-6, prefix: str = "d",
                     what: str | None = None):
    """Compare a dict of gradients parameter by parameter.

    The message names each parameter, e.g. ``dW2 wrong (rel. error 4.2e-01), db2 ok``.

    Parameters
    ----------
    got : object
        The learner's gradients, expected to be a dict of arrays.
    expected : dict of str to ndarray
        The reference gradients (e.g. central differences), by parameter name.
    tol : float, default 1e-6
        Largest relative error (:func:`nnlib.gradcheck.relative_error`) accepted.
    prefix : str, default "d"
        Prefixed to parameter names in the message.
    what : str
        How the messages name the gradients.
    """
    what = what or _("the gradients")
    if got is None:
        raise CheckFailed(_("{what} are None: did you forget `return`?").format(what=what),
                          kind="none")
    if not isinstance(got, dict):
        raise CheckFailed(_("{what} should be a dict with keys {keys}, got {got}").format(
            what=what, keys=sorted(expected), got=_type_name(got)), kind="type")
    missing = [key for key in expected if key not in got]
    if missing:
        raise CheckFailed(_("{what}: missing key(s) {missing} (expected keys {keys})").format(
            what=what, missing=missing, keys=sorted(expected)), kind="keys")
    parts, kinds = [], []
    for name, expected_gradient in expected.items():
        problem = _gradient_problem(prefix + name, got[name], expected_gradient, tol)
        if problem is None:
            parts.append(_("{label} ok").format(label=prefix + name))
        else:
            kinds.append(problem[0])
            parts.append(problem[1])
    if kinds:
        raise CheckFailed(", ".join(parts), kind=kinds[0] if len(set(kinds)) == 1 else "values",
                          got={name: got[name] for name in expected}, expected=expected,
                          compared=True)
