"""Activation functions and their derivatives (taught in chapter 3).

Every function takes the pre-activation ``z`` (any shape, usually
``(n_samples, n_units)``) and returns an array of the same shape and dtype
(float32 stays float32; integers and lists become float64).

Each derivative is ``d a / d z`` evaluated at ``z``, element by element, so
backpropagation through an activation is ``dZ = dA * derivative(Z)``.
Softmax is the exception: each output depends on the whole row, so it has a
Jacobian matrix per sample (:func:`softmax_jacobian`) and a vector-Jacobian
product (:func:`softmax_backward`) instead of an element-wise derivative.

The registries ``ACTIVATIONS`` and ``DERIVATIVES`` map names to functions,
in the style of scikit-learn's ``neural_network/_base.py``.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_float, check_name

__all__ = [
    "linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax",
    "linear_derivative", "step_derivative", "sigmoid_derivative",
    "tanh_derivative", "relu_derivative", "leaky_relu_derivative",
    "softmax_jacobian", "softmax_backward",
    "ACTIVATIONS", "DERIVATIVES", "get_activation", "get_derivative",
]


# --------------------------------------------------------------------------
# Activations a = f(z)
# --------------------------------------------------------------------------

def linear(z):
    """Identity activation, ``a = z`` (taught in chapter 3).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    return as_float(z)


def step(z):
    """Heaviside step, ``a = 1 if z >= 0 else 0`` (taught in chapters 2 and 3).

    The perceptron's activation. Its derivative is 0 almost everywhere, which
    is why gradient descent cannot train it.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray of 0.0 and 1.0, same shape as ``z``
    """
    z = as_float(z)
    return (z >= 0).astype(z.dtype)


def sigmoid(z):
    """Logistic sigmoid, ``a = 1 / (1 + exp(-z))`` (taught in chapter 3).

    Output range (0, 1). Computed without overflow for any ``z``: with
    ``e = exp(-|z|)``, which always lies in (0, 1],

    * for ``z >= 0``: ``1 / (1 + exp(-z)) = 1 / (1 + e)``
    * for ``z < 0``:  ``exp(z) / (1 + exp(z)) = e / (1 + e)``

    so ``exp`` is never asked for ``exp(1000)``.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``, values in [0, 1]
    """
    z = as_float(z)
    e = np.exp(-np.abs(z))  # never overflows: -|z| <= 0
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z):
    """Hyperbolic tangent, ``a = (e^z - e^-z) / (e^z + e^-z)`` (chapter 3).

    Output range (-1, 1), zero-centred; ``tanh(z) = 2 * sigmoid(2 z) - 1``.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z)
    return np.tanh(z)


def relu(z):
    """Rectified linear unit, ``a = max(0, z)`` (taught in chapter 3).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z)
    return np.maximum(z, 0)


def leaky_relu(z, alpha=0.01):
    """Leaky ReLU, ``a = z if z > 0 else alpha * z`` (taught in chapter 3).

    The small slope ``alpha`` for negative ``z`` keeps a gradient flowing,
    so units cannot "die" the way plain ReLU units can.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01
        Slope for negative inputs.

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z)
    return np.where(z > 0, z, alpha * z)


def softmax(z, axis=-1):
    """Softmax, ``a_i = exp(z_i) / sum_j exp(z_j)`` along ``axis`` (chapter 3).

    Turns a row of scores (logits) into probabilities that sum to 1.
    Subtracting the row maximum first does not change the result (the factor
    ``exp(-max)`` cancels) but makes the largest exponent ``exp(0) = 1``, so
    nothing overflows even for scores like 1000.

    Parameters
    ----------
    z : array_like, shape (n_samples, n_classes) (or any shape)
    axis : int, default -1
        Axis along which the probabilities sum to 1.

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z)
    shifted = z - z.max(axis=axis, keepdims=True)  # largest entry becomes 0
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------
# Derivatives d a / d z, evaluated at z
# --------------------------------------------------------------------------

def linear_derivative(z):
    """Derivative of :func:`linear`: 1 everywhere (chapter 3).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray of ones, same shape as ``z``
    """
    z = as_float(z)
    return np.ones_like(z)


def step_derivative(z):
    """Derivative of :func:`step`: 0 everywhere except at 0, where it is
    undefined; we return 0 there too (chapter 3).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray of zeros, same shape as ``z``
    """
    z = as_float(z)
    return np.zeros_like(z)


def sigmoid_derivative(z):
    """Derivative of :func:`sigmoid`: ``s * (1 - s)`` with ``s = sigmoid(z)``
    (taught in chapter 3). At most 0.25, at ``z = 0``.

    Note the argument is ``z``. If you already hold the activation
    ``a = sigmoid(z)``, the derivative is ``a * (1 - a)``; applying sigmoid
    to ``a`` again is a classic bug (see the errata appendix).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    s = sigmoid(z)
    return s * (1 - s)


def tanh_derivative(z):
    """Derivative of :func:`tanh`: ``1 - tanh(z)**2`` (chapter 3).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    t = tanh(z)
    return 1 - t**2


def relu_derivative(z):
    """Derivative of :func:`relu`: 1 for ``z > 0``, else 0 (chapter 3).

    The derivative at exactly 0 is undefined; like Keras and PyTorch we use 0.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray of 0.0 and 1.0, same shape as ``z``
    """
    z = as_float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu_derivative(z, alpha=0.01):
    """Derivative of :func:`leaky_relu`: 1 for ``z > 0``, else ``alpha``
    (chapter 3).

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z)
    return np.where(z > 0, 1, alpha).astype(z.dtype)


def softmax_jacobian(z):
    """Jacobian of :func:`softmax` for each sample (taught in chapter 3).

    For one sample with ``s = softmax(z)``:
    ``J[i, j] = d s_i / d z_j = s_i * (delta_ij - s_j)``,
    i.e. ``J = diag(s) - s s^T``.

    Parameters
    ----------
    z : array_like, shape (n_samples, n_classes)

    Returns
    -------
    ndarray, shape (n_samples, n_classes, n_classes)
    """
    s = softmax(z)
    return s[:, :, None] * np.eye(s.shape[1], dtype=s.dtype) - s[:, :, None] * s[:, None, :]


def softmax_backward(s, grad_s):
    """Backpropagate through softmax without building the Jacobian
    (taught in chapters 3 and 6).

    Multiplying ``grad_s`` by ``J = diag(s) - s s^T`` row by row simplifies to
    ``grad_z = s * (grad_s - sum_j grad_s_j * s_j)``.

    Parameters
    ----------
    s : ndarray, shape (n_samples, n_classes)
        Softmax output (probabilities) of the forward pass.
    grad_s : ndarray, shape (n_samples, n_classes)
        Gradient of the loss with respect to ``s``.

    Returns
    -------
    grad_z : ndarray, shape (n_samples, n_classes)
        Gradient of the loss with respect to the logits ``z``.
    """
    return s * (grad_s - np.sum(grad_s * s, axis=-1, keepdims=True))


ACTIVATIONS = {
    "linear": linear,
    "step": step,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "softmax": softmax,
}
"""Name -> activation function ``f(z)``."""

DERIVATIVES = {
    "linear": linear_derivative,
    "step": step_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
}
"""Name -> element-wise derivative ``f'(z)``. Softmax is not element-wise and
has no entry: use :func:`softmax_jacobian` or :func:`softmax_backward`."""


def get_activation(name):
    """Look up an activation function by name (``None`` means ``"linear"``).

    Raises
    ------
    ValueError
        For an unknown name, listing the known names and the closest match.
    """
    if name is None:
        return linear
    return ACTIVATIONS[check_name(name, ACTIVATIONS, "activation")]


def get_derivative(name):
    """Look up the element-wise derivative of an activation by name."""
    if name is None:
        return linear_derivative
    key = check_name(name, ACTIVATIONS, "activation")
    if key not in DERIVATIVES:
        raise ValueError(
            f"activation {key!r} has no element-wise derivative; "
            "use softmax_jacobian(z) or softmax_backward(s, grad_s) instead"
        )
    return DERIVATIVES[key]
