"""Shared input checks for nnlib, with error messages that say what was
expected, what was given, and how to fix it.

These checks run at the public entry points (``fit``, ``predict``,
``evaluate``, the data helpers, name look-ups), not inside the per-batch hot
loop, so they can afford to look at the whole array once.
"""
from __future__ import annotations

import difflib
import numbers

import numpy as np

__all__ = [
    "as_float",
    "as_rng",
    "check_name",
    "check_2d",
    "check_finite",
    "check_n_features",
    "check_same_n_samples",
    "check_same_shape",
    "check_positive_int",
]


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


def check_positive_int(value, name):
    """Return ``value`` as an int if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"expected {name} to be a positive integer, got {value!r}")
    return int(value)
