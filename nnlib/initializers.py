"""Weight initialisers (taught in chapter 9).

Each initialiser is ``f(shape, rng, dtype=np.float64) -> ndarray`` where
``shape`` is ``(n_in, n_out)`` for a weight matrix (or ``(n_out,)`` for a
bias) and ``rng`` is a :class:`numpy.random.Generator` (or an int seed).
Nothing uses numpy's global random state.

The scaled initialisers follow Keras' definitions, with
``fan_in = n_in`` and ``fan_out = n_out``:

==================  ======================================================
``glorot_uniform``  U(-limit, limit), ``limit = sqrt(6 / (fan_in + fan_out))``
``glorot_normal``   truncated normal, std ``sqrt(2 / (fan_in + fan_out))``
``he_uniform``      U(-limit, limit), ``limit = sqrt(6 / fan_in)``
``he_normal``       truncated normal, std ``sqrt(2 / fan_in)``
==================  ======================================================

Glorot (Xavier) keeps the variance of activations and gradients roughly
constant through tanh/sigmoid layers; He does the same for ReLU layers, which
zero out half of their inputs. The "normal" variants, like Keras', draw from a
normal truncated at two standard deviations, rescaled to have the stated
standard deviation.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import as_rng, check_name

__all__ = [
    "zeros", "ones", "normal", "glorot_uniform", "glorot_normal",
    "he_normal", "he_uniform", "INITIALIZERS", "get_initializer",
]

# Standard deviation of a standard normal truncated to [-2, 2]; dividing by it
# makes the truncated draws have the intended standard deviation (as Keras).
_TRUNCATED_STD = 0.87962566103423978


def _fans(shape):
    """(fan_in, fan_out) of a weight shape (n_in, n_out); a 1-D shape (n,)
    counts as fan_in = fan_out = n, as in Keras."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _truncated_normal(shape, stddev, rng):
    """Normal(0, stddev) samples, redrawing any beyond two standard deviations."""
    x = rng.standard_normal(shape)
    outside = np.abs(x) > 2
    while outside.any():
        x[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(x) > 2
    return x * (stddev / _TRUNCATED_STD)


def zeros(shape, rng=None, dtype=np.float64):
    """All zeros; the usual bias initialiser (chapter 9).

    Zero *weights* are a mistake: every unit in a layer would compute the
    same thing and receive the same gradient, forever.

    Parameters
    ----------
    shape : tuple of int
    rng : ignored (accepted so every initialiser has the same signature)
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray of shape ``shape``
    """
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype=np.float64):
    """All ones (chapter 9). ``rng`` is ignored."""
    return np.ones(shape, dtype=dtype)


def normal(shape, rng, dtype=np.float64, stddev=0.05):
    """Normal(0, ``stddev``) samples, Keras' ``RandomNormal`` default
    (chapter 9).

    Parameters
    ----------
    shape : tuple of int
    rng : numpy.random.Generator or int seed
    dtype : numpy dtype, default float64
    stddev : float, default 0.05

    Returns
    -------
    ndarray of shape ``shape``
    """
    rng = as_rng(rng)
    return (stddev * rng.standard_normal(shape)).astype(dtype)


def glorot_uniform(shape, rng, dtype=np.float64):
    """Glorot (Xavier) uniform: U(-limit, limit) with
    ``limit = sqrt(6 / (fan_in + fan_out))`` (chapter 9). Keras' default
    kernel initialiser.

    Parameters
    ----------
    shape : tuple of int, (n_in, n_out)
    rng : numpy.random.Generator or int seed
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray of shape ``shape``
    """
    rng = as_rng(rng)
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_normal(shape, rng, dtype=np.float64):
    """Glorot (Xavier) normal: truncated normal with standard deviation
    ``sqrt(2 / (fan_in + fan_out))`` (chapter 9).

    Parameters
    ----------
    shape : tuple of int, (n_in, n_out)
    rng : numpy.random.Generator or int seed
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray of shape ``shape``
    """
    rng = as_rng(rng)
    fan_in, fan_out = _fans(shape)
    return _truncated_normal(shape, math.sqrt(2 / (fan_in + fan_out)), rng).astype(dtype)


def he_normal(shape, rng, dtype=np.float64):
    """He normal: truncated normal with standard deviation
    ``sqrt(2 / fan_in)``, for ReLU layers (chapter 9).

    Parameters
    ----------
    shape : tuple of int, (n_in, n_out)
    rng : numpy.random.Generator or int seed
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray of shape ``shape``
    """
    rng = as_rng(rng)
    fan_in, _ = _fans(shape)
    return _truncated_normal(shape, math.sqrt(2 / fan_in), rng).astype(dtype)


def he_uniform(shape, rng, dtype=np.float64):
    """He uniform: U(-limit, limit) with ``limit = sqrt(6 / fan_in)``, for
    ReLU layers (chapter 9).

    Parameters
    ----------
    shape : tuple of int, (n_in, n_out)
    rng : numpy.random.Generator or int seed
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray of shape ``shape``
    """
    rng = as_rng(rng)
    fan_in, _ = _fans(shape)
    limit = math.sqrt(6 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "normal": normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}
"""Name -> initialiser ``f(shape, rng, dtype)``. ``xavier_uniform`` and
``xavier_normal`` are accepted by :func:`get_initializer` as aliases."""

_ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
            "random_normal": "normal"}


def get_initializer(name):
    """Look up an initialiser by name (e.g. ``"he_normal"``).

    Raises
    ------
    ValueError
        For an unknown name, listing the known names and the closest match.
    """
    if isinstance(name, str) and name.strip().lower() in _ALIASES:
        name = _ALIASES[name.strip().lower()]
    return INITIALIZERS[check_name(name, INITIALIZERS, "initializer")]
