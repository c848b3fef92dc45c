"""The API check definitions are written with (see grader/README.md, "Checks").

A check is a pytest test function decorated with :func:`check`. It receives ``sub`` (the code
under test) and/or ``ref`` (the reference solution) by name. The same function runs under
pytest (``sub`` = reference), in the notebook self-check (``sub`` = the learner's functions, in
process) and in the grader (``sub`` = proxies into the sandbox).
"""
from __future__ import annotations

import copy
import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np
from nnlib.gradcheck import numerical_gradient, relative_error  # noqa: F401 (re-exported for checks)

# --------------------------------------------------------------------------- failures


class CheckFailed(AssertionError):
    """The learner's answer is wrong. ``kind`` names what is wrong (for hidden feedback)."""

    def __init__(self, message: str, kind: str = "values"):
        super().__init__(message)
        self.kind = kind
        self.message = message


class NotImplementedYet(Exception):
    """The learner's function still raises the stub's NotImplementedError."""


class LearnerError(Exception):
    """The learner's function raised an exception (``etype``: its type name)."""

    def __init__(self, func: str, etype: str, message: str, traceback: str = ""):
        super().__init__("%s raised %s: %s" % (func, etype, message))
        self.func, self.etype, self.emessage, self.traceback = func, etype, message, traceback


class MissingFunction(Exception):
    def __init__(self, name: str, detail: str = ""):
        super().__init__(detail or "function %r not found" % name)
        self.name = name


KIND_TEXT = {
    "none": "returned None", "type": "wrong type", "shape": "wrong shape", "dtype": "wrong dtype",
    "nan": "NaN or infinite values", "values": "wrong values", "mutation": "modified its input",
    "length": "wrong number of items", "keys": "wrong dictionary keys",
}


# --------------------------------------------------------------------------- registration
@dataclass
class CheckSpec:
    func: object
    exercise: str
    points: float
    hidden: bool
    hint: str
    timeout: float | None
    name: str
    source: str = "repo"  # "repo" or "extra" (instructor-only)

    @property
    def chapter_prefix(self) -> str:
        return self.exercise.split(".")[0]


def check(exercise: str, points: float = 1, hidden: bool = False, hint: str = "",
          timeout: float | None = None):
    """Register a test function as a check of ``exercise`` (e.g. ``"ch03.sigmoid"``)."""
    if "." not in exercise:
        raise ValueError("exercise id must look like 'ch03.sigmoid', got %r" % exercise)
    if points < 0:
        raise ValueError("points must be >= 0, got %r" % points)

    def deco(fn):
        if not fn.__name__.startswith("test_"):
            raise ValueError("check %s: the function name must start with 'test_' so pytest "
                             "collects it" % fn.__name__)
        params = set(inspect.signature(fn).parameters)
        unknown = params - {"sub", "ref"}
        if unknown:
            raise ValueError("check %s: unknown arguments %s (only 'sub' and 'ref' exist)"
                             % (fn.__name__, sorted(unknown)))
        fn._nn_check = CheckSpec(fn, exercise, float(points), bool(hidden), hint, timeout,
                                 fn.__name__)
        return fn
    return deco


# --------------------------------------------------------------------------- calling
_last_call: dict = {}


def describe(value, limit: int = 300) -> str:
    """Short description of a value: type, shape, dtype and (small) contents."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=20, edgeitems=3, linewidth=100):
            body = np.array2string(value, separator=", ")
        if len(body) > limit:
            body = body[:limit] + " ..."
        return "array(%s) (shape %s, dtype %s)" % (body, value.shape, value.dtype)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v, limit // 2) for v in value[:5])
        more = ", ..." if len(value) > 5 else ""
        return ("(%s%s)" if isinstance(value, tuple) else "[%s%s]") % (inner, more)
    if isinstance(value, dict):
        inner = ", ".join("%r: %s" % (k, describe(v, limit // 2)) for k, v in list(value.items())[:6])
        return "{%s}" % inner
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + " ..."
    return "%s (%s)" % (text, type(value).__name__)


def _equal_plain(a, b) -> bool:
    """Structural equality for plain data, NaN == NaN; trusted-side only."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal_plain(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal_plain(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(a == b)


def _func_name(fn) -> str:
    return getattr(fn, "__name__", None) or getattr(fn, "name", None) or "function"


def run(fn, *args, **kwargs):
    """Call a learner's function on deep copies of the arguments and return its result.

    Fails with kind ``mutation`` if the function modified an argument in place. Remembers the
    call so that :func:`expect_close` can show the input in its message.
    """
    name = _func_name(fn)
    _last_call.clear()
    _last_call.update(name=name, args=args, kwargs=kwargs)
    if hasattr(fn, "call_detailed"):
        value, args_after, kwargs_after = fn.call_detailed(args, kwargs)
    else:
        a, k = copy.deepcopy(args), copy.deepcopy(kwargs)
        try:
            value = fn(*a, **k)
        except NotImplementedError as exc:
            raise NotImplementedYet(str(exc)) from None
        except (CheckFailed, NotImplementedYet):
            raise
        except Exception as exc:
            raise LearnerError(name, type(exc).__name__, str(exc)) from exc
        args_after, kwargs_after = a, k
    for i, (before, after) in enumerate(zip(args, args_after or ())):
        if not _equal_plain(before, after):
            raise CheckFailed("%s modified its argument %d in place (%s). Work on a copy, e.g. "
                              "`z = z.copy()` or build a new array with np.where."
                              % (name, i + 1, call_text()), kind="mutation")
    for key in kwargs:
        if kwargs_after is not None and not _equal_plain(kwargs[key], kwargs_after.get(key)):
            raise CheckFailed("%s modified its argument %r in place." % (name, key), kind="mutation")
    return value


def call_text() -> str:
    if not _last_call:
        return ""
    parts = [describe(a, 200) for a in _last_call["args"]]
    parts += ["%s=%s" % (k, describe(v, 200)) for k, v in _last_call["kwargs"].items()]
    return "%s(%s)" % (_last_call["name"], ", ".join(parts))


# --------------------------------------------------------------------------- comparing
def _type_name(v) -> str:
    t = type(v)
    if hasattr(v, "type_name"):  # grader._child.Unsupported
        return v.type_name
    return t.__name__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__name__)


def compare(got, expected, rtol: float = 1e-7, atol: float = 1e-12, dtype: str = "exact",
            what: str = "the result", equal_nan: bool = False):
    """Compare plain data. Returns None if equal within tolerance, else (kind, message)."""
    if expected is None:
        if got is not None:
            return "type", "%s should be None, got %s" % (what, describe(got))
        return None
    if got is None:
        return "none", "%s is None: did you forget `return`?" % what
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray) or type(got) is not np.ndarray:
            return "type", "%s should be a numpy array, got %s of type %s" % (
                what, describe(got, 120), _type_name(got))
        if got.shape != expected.shape:
            return "shape", "%s has shape %s, expected %s%s" % (
                what, got.shape, expected.shape, _shape_tip(got.shape, expected.shape))
        if dtype == "exact" and got.dtype != expected.dtype or dtype == "kind" and got.dtype.kind != expected.dtype.kind:
            tip = ""
            if got.dtype.kind in "iub" and expected.dtype.kind == "f":
                tip = " (integer results: use float arithmetic, e.g. 1.0 instead of 1, or .astype(float))"
            return "dtype", "%s has dtype %s, expected %s%s" % (what, got.dtype, expected.dtype, tip)
        if got.dtype.kind in "fc" and expected.dtype.kind in "fciub":
            bad = ~np.isfinite(got) & np.isfinite(expected)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                return "nan", "%s contains %d NaN/inf value(s) where finite values are expected, first at index %s (got %s, expected %r)" % (
                    what, int(bad.sum()), idx, got[idx], expected[idx].item())
        if expected.dtype.kind in "fc" or got.dtype.kind in "fc":
            ok = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
            if not ok.all():
                diff = np.abs(got.astype(complex if got.dtype.kind == "c" else float) - expected)
                diff = np.where(ok, 0, np.nan_to_num(diff, nan=np.inf))
                idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
                idx = tuple(int(i) for i in idx)
                return "values", ("%s is wrong at %d of %d positions; worst at index %s: got %r, "
                                  "expected %r (tolerance rtol=%g, atol=%g)\n  expected: %s\n  got:      %s"
                                  % (what, int((~ok).sum()), ok.size, idx, got[idx].item(),
                                     expected[idx].item(), rtol, atol, describe(expected), describe(got)))
            return None
        if not np.array_equal(got, expected):
            return "values", "%s is wrong\n  expected: %s\n  got:      %s" % (what, describe(expected), describe(got))
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return "type", "%s should be a %s of %d items, got %s" % (
                what, type(expected).__name__, len(expected), _type_name(got))
        if len(got) != len(expected):
            return "length", "%s should have %d items, got %d" % (what, len(expected), len(got))
        for i, (g, e) in enumerate(zip(got, expected)):
            r = compare(g, e, rtol, atol, dtype, "%s[%d]" % (what, i), equal_nan)
            if r:
                return r
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "type", "%s should be a dict, got %s" % (what, _type_name(got))
        if set(got) != set(expected):
            return "keys", "%s has keys %s, expected %s" % (what, sorted(map(str, got)), sorted(map(str, expected)))
        for k in expected:
            r = compare(got[k], expected[k], rtol, atol, dtype, "%s[%r]" % (what, k), equal_nan)
            if r:
                return r
        return None
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return "type", "%s should be a bool, got %s" % (what, _type_name(got))
        return None if bool(got) == bool(expected) else ("values", "%s should be %r, got %r" % (what, bool(expected), bool(got)))
    if isinstance(expected, (int, float, np.integer, np.floating)):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
            if isinstance(got, np.ndarray) and got.shape == ():
                got = got[()]
            else:
                return "type", "%s should be a number, got %s" % (what, describe(got, 120))
        g, e = float(got), float(expected)
        if math.isnan(g) and not math.isnan(e) or math.isinf(g) and not math.isinf(e):
            return "nan", "%s is %r, expected the finite value %r" % (what, g, e)
        if not math.isclose(g, e, rel_tol=rtol, abs_tol=atol) and not (math.isnan(g) and math.isnan(e)):
            return "values", "%s is %r, expected %r (rtol=%g, atol=%g)" % (what, g, e, rtol, atol)
        return None
    if isinstance(expected, str):
        if not isinstance(got, str):
            return "type", "%s should be a str, got %s" % (what, _type_name(got))
        return None if got == expected else ("values", "%s is %r, expected %r" % (what, got[:200], expected[:200]))
    # ``expected`` itself came from learner code (e.g. comparing two of its results)
    return "type", "%s: cannot compare objects of type %s and %s" % (what, _type_name(got), _type_name(expected))


def _shape_tip(got, exp) -> str:
    if len(got) == len(exp) + 1 and got[-1] == 1 and got[:-1] == exp:
        return " (an extra axis of length 1: a column vector where a 1-D array is expected?)"
    if len(exp) == len(got) + 1 and exp[-1] == 1 and exp[:-1] == got:
        return " (a 1-D array where a column of shape (n, 1) is expected: use keepdims=True or reshape(-1, 1))"
    if sorted(got) == sorted(exp):
        return " (transposed?)"
    return ""


def expect_close(got, expected, rtol: float = 1e-7, atol: float = 1e-12, dtype: str = "exact",
                 what: str | None = None, equal_nan: bool = False):
    """Fail unless ``got`` equals ``expected`` within tolerance (None, type, shape, dtype, nan, values)."""
    if what is None:
        what = "the result of %s" % call_text() if _last_call else "the result"
    r = compare(got, expected, rtol=rtol, atol=atol, dtype=dtype, what=what, equal_nan=equal_nan)
    if r:
        raise CheckFailed(r[1], kind=r[0])


def expect_same(fn, ref_fn, *args, rtol: float = 1e-7, atol: float = 1e-12, dtype: str = "exact",
                **kwargs):
    """Run ``fn`` and the reference ``ref_fn`` on the same inputs and compare the results."""
    expected = ref_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    got = run(fn, *args, **kwargs)
    expect_close(got, expected, rtol=rtol, atol=atol, dtype=dtype)
    return got


def expect_true(condition, message: str, kind: str = "values"):
    if not condition:
        raise CheckFailed(message, kind=kind)


def expect_raises(fn, *args, error: str = "ValueError", what: str = "this input"):
    """Run the learner's ``fn`` on bad input and require it to raise ``error`` (a type name).

    ``what`` describes the bad input for the message, e.g. "a column bias of shape (4, 1)".
    """
    try:
        got = run(fn, *args)
    except LearnerError as exc:
        expect_true(exc.etype == error, "%s should raise %s for %s, but it raised %s: %s"
                    % (_func_name(fn), error, what, exc.etype, exc.emessage), kind="values")
        return
    raise CheckFailed("%s should raise %s for %s, but it returned %s"
                      % (_func_name(fn), error, what, "an array of shape %s" % (got.shape,)
                         if isinstance(got, np.ndarray) else type(got).__name__), kind="values")


def expect_gradients(got, expected: dict, tol: float = 1e-6, prefix: str = "d", what: str = "the gradients"):
    """Compare a dict of gradients per parameter; message like 'dW2 wrong (rel. error 4.2e-01), db2 ok'."""
    if got is None:
        raise CheckFailed("%s are None: did you forget `return`?" % what, kind="none")
    if not isinstance(got, dict):
        raise CheckFailed("%s should be a dict with keys %s, got %s" % (what, sorted(expected), _type_name(got)), kind="type")
    missing = [k for k in expected if k not in got]
    if missing:
        raise CheckFailed("%s: missing key(s) %s (expected keys %s)" % (what, missing, sorted(expected)), kind="keys")
    parts, wrong, kinds = [], [], []
    for name, exp in expected.items():
        g = got[name]
        label = prefix + name
        if not isinstance(g, np.ndarray):
            parts.append("%s wrong (not an array: %s)" % (label, _type_name(g)))
            wrong.append(name); kinds.append("type")
        elif g.shape != exp.shape:
            parts.append("%s wrong (shape %s, expected %s)" % (label, g.shape, exp.shape))
            wrong.append(name); kinds.append("shape")
        elif not np.all(np.isfinite(g)):
            parts.append("%s wrong (contains NaN/inf)" % label)
            wrong.append(name); kinds.append("nan")
        else:
            err = relative_error(g, exp)
            if err > tol:
                parts.append("%s wrong (rel. error %.1e)" % (label, err))
                wrong.append(name); kinds.append("values")
            else:
                parts.append("%s ok" % label)
    if wrong:
        raise CheckFailed(", ".join(parts), kind=kinds[0] if len(set(kinds)) == 1 else "values")
