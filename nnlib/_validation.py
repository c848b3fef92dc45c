"""Shared input checks for nnlib, with error messages that say what was
expected, what was given, and how to fix it.

These checks run at the public entry points (``fit``, ``predict``,
``evaluate``, the data helpers, name look-ups), not inside the per-batch hot
loop, so they can afford to look at the whole array once.
"""
from __future__ import annotations

import difflib
import math
import numbers

import numpy as np

__all__ = [
    "InvalidParameterError",
    "as_float",
    "as_rng",
    "check_name",
    "check_2d",
    "check_finite",
    "check_n_features",
    "check_not_empty",
    "check_same_n_samples",
    "check_same_shape",
    "check_number",
    "check_int",
]


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter of the wrong type or outside its allowed range.

    A subclass of both ValueError and TypeError (as scikit-learn's error of
    the same name), so ``except ValueError`` and ``except TypeError`` both
    catch it.
    """


def as_float(a):
    """Return ``a`` as a floating-point numpy array.

    float32 and float64 arrays are returned unchanged (no copy, no upcast);
    anything else (lists, Python numbers, integer arrays) becomes float64.
    """
    a = np.asarray(a)
    if a.dtype == np.float64 or a.dtype == np.float32:
        return a
    return a.astype(np.float64)


def as_rng(rng=None):
    """Turn ``rng`` into a :class:`numpy.random.Generator`.

    Accepts a Generator (returned as is), an int seed, or ``None`` (a fresh,
    unseeded generator: results then differ from run to run).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    raise TypeError(
        "expected rng to be a numpy.random.Generator, an int seed or None, "
        f"got {type(rng).__name__} {rng!r}; for example pass "
        "rng=np.random.default_rng(0)"
    )


def check_name(name, choices, kind):
    """Return the canonical (lower-case) form of ``name`` if it is one of
    ``choices``; otherwise raise an error listing the choices and suggesting
    the closest match.

    >>> check_name("sigmod", ["linear", "sigmoid"], "activation")
    Traceback (most recent call last):
    ...
    ValueError: unknown activation 'sigmod'; choose one of: linear, sigmoid (did you mean 'sigmoid'?)
    """
    choices = list(choices)
    if not isinstance(name, str):
        raise TypeError(
            f"expected the {kind} as a name (a string, one of: {', '.join(choices)}), "
            f"got {type(name).__name__} {name!r}"
        )
    key = name.strip().lower()
    if key in choices:
        return key
    message = f"unknown {kind} {name!r}; choose one of: {', '.join(choices)}"
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    raise ValueError(message)


def check_2d(X, name="X", what="(n_samples, n_features)"):
    """Return ``X`` as a 2-D float array or raise a ValueError naming the shape
    that was expected (``what``) and the shape that was given."""
    X = as_float(X)
    if X.ndim != 2:
        hint = ""
        if X.ndim == 1:
            hint = (f"; for a single sample use {name}.reshape(1, -1), "
                    f"for a single feature use {name}.reshape(-1, 1)")
        raise ValueError(
            f"expected {name} as a 2-D array of shape {what}, "
            f"got a {X.ndim}-D array of shape {X.shape}{hint}"
        )
    return X


def check_finite(X, name="X"):
    """Raise a ValueError if ``X`` contains nan or inf (one pass over ``X``)."""
    X = np.asarray(X)
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"expected {name} to contain only finite numbers, but it has "
            f"{len(bad)} nan/inf value(s), the first at index {first} "
            f"(value {X[first]}); remove or replace them before calling nnlib"
        )
    return X


def check_n_features(X, n_features, where, name="X"):
    """Raise a ValueError unless ``X`` has shape (n_samples, n_features)."""
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(
            f"{where} expects {name} with {n_features} features "
            f"(shape (n_samples, {n_features})), got shape {X.shape}"
        )


def check_same_n_samples(X, y, x_name="X", y_name="y"):
    """Raise a ValueError if ``X`` and ``y`` have different numbers of rows."""
    if len(X) != len(y):
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples "
            f"(rows), got {x_name} with {len(X)} (shape {np.shape(X)}) and "
            f"{y_name} with {len(y)} (shape {np.shape(y)})"
        )


def check_same_shape(y_true, y_pred, where):
    """Raise a ValueError if ``y_true`` and ``y_pred`` differ in shape."""
    if y_true.shape != y_pred.shape:
        hint = ""
        if y_true.ndim == 1 and y_pred.ndim == 2:
            hint = (f"; reshape y_true with y_true.reshape(-1, {y_pred.shape[1]})"
                    if y_pred.shape[1] == 1 else
                    "; for class labels use nnlib.data.one_hot(y_true)")
        raise ValueError(
            f"{where} expects y_true and y_pred of the same shape, got "
            f"y_true {y_true.shape} and y_pred {y_pred.shape}{hint}"
        )


def check_not_empty(X, name="X"):
    """Raise a ValueError if ``X`` has no rows (as scikit-learn requires at
    least one sample)."""
    if len(X) == 0:
        raise ValueError(
            f"expected {name} with at least one sample, got an empty array of shape "
            f"{np.shape(X)}; check how {name} was selected or loaded"
        )
    return X


_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


def _describe_interval(low, high, closed):
    """Words for the interval, e.g. 'a positive number', 'a number in [0, 1)'."""
    left, right = _BRACKETS[closed]
    if low == -math.inf and high == math.inf:
        return "a real number"
    if high == math.inf:
        if low == 0 and left == "(":
            return "a positive number"
        return f"a number {'>=' if left == '[' else '>'} {low:g}"
    if low == -math.inf:
        return f"a number {'<=' if right == ']' else '<'} {high:g}"
    return f"a number in {left}{low:g}, {high:g}{right}"


def check_number(value, name, low=-math.inf, high=math.inf, closed="both"):
    """Return ``value`` as a float if it is a finite real number in the
    interval from ``low`` to ``high``; otherwise raise
    :class:`InvalidParameterError` saying what was expected and what was given.

    Any real number type is accepted (``int``, ``float``, numpy scalars such
    as ``np.float32(0.01)`` or ``np.int64(1)``); ``bool``, strings, arrays,
    ``nan`` and ``inf`` are not. One declaration per hyperparameter, in the
    spirit of scikit-learn's ``_parameter_constraints``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The parameter's name, used in the message.
    low, high : float, default -inf and inf
        The bounds of the interval.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.

    Returns
    -------
    float

    Examples
    --------
    >>> check_number(np.float32(0.5), "momentum", 0, 1)
    0.5
    >>> check_number(1.5, "momentum", 0, 1)
    Traceback (most recent call last):
    ...
    nnlib._validation.InvalidParameterError: expected momentum to be a number in [0, 1], got 1.5
    """
    what = _describe_interval(low, high, closed)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        hint = " (a string, not a number: drop the quotes)" if isinstance(value, str) else ""
        raise InvalidParameterError(
            f"expected {name} to be {what}, got {type(value).__name__} {value!r}{hint}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameterError(f"expected {name} to be {what}, got {value!r} (not finite)")
    left, right = _BRACKETS[closed]
    inside_low = number >= low if left == "[" else number > low
    inside_high = number <= high if right == "]" else number < high
    if not (inside_low and inside_high):
        raise InvalidParameterError(f"expected {name} to be {what}, got {value!r}")
    return number


def check_int(value, name, low=1):
    """Return ``value`` as an int if it is an integer ``>= low`` (Python or
    numpy integer, not ``bool``), else raise :class:`InvalidParameterError`.

    >>> check_int(0, "batch_size")
    Traceback (most recent call last):
    ...
    nnlib._validation.InvalidParameterError: expected batch_size to be a positive integer, got 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < low:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}")
        raise InvalidParameterError(f"expected {name} to be {what}, got {value!r}")
    return int(value)
