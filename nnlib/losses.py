"""Loss functions and their gradients (taught in chapter 5).

Conventions (the same as Keras):

* Arguments are ``(y_true, y_pred)``, both of shape ``(n_samples, n_outputs)``
  (or the same 1-D shape). For categorical losses ``y_true`` is one-hot.
* A loss returns a Python float: the mean over the samples.
* ``<loss>_grad`` returns ``dL / d y_pred`` with ``y_pred``'s shape and dtype,
  already divided by the number of samples, so it can be fed straight into
  backpropagation. It is the true derivative of the loss as computed,
  clipping included: where a probability is clipped the loss is flat, and
  the derivative is 0 (as automatic differentiation in Keras/JAX gives).
* Cross-entropies need targets in [0, 1] (class labels 0/1, one-hot rows or
  probabilities); other values are refused, since they would give
  meaningless, even negative, losses.

``LOSSES`` and ``LOSS_GRADIENTS`` map the Keras-style names (``"mse"``,
``"binary_crossentropy"``, ...) to these functions; ``FROM_LOGITS`` maps a
(loss, output activation) pair to the same loss computed from the logits.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_float, check_name, check_same_shape
from .activations import sigmoid, softmax

__all__ = [
    "mean_squared_error", "mean_squared_error_grad",
    "half_mean_squared_error", "half_mean_squared_error_grad",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_from_logits", "binary_cross_entropy_from_logits_grad",
    "categorical_cross_entropy", "categorical_cross_entropy_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "EPSILON", "LOSSES", "LOSS_GRADIENTS", "FROM_LOGITS", "output_problem",
    "get_loss", "get_loss_gradient",
]

EPSILON = 1e-7
"""Probabilities are clipped to [EPSILON, 1 - EPSILON] before taking logs
(the value of Keras' ``backend.epsilon()``)."""


def _prepare(y_true, y_pred, where, targets_in_01=False):
    """Return (y_true, y_pred) as float arrays of y_pred's dtype and check that
    their shapes match (and, for a cross-entropy, that y_true is in [0, 1])."""
    y_pred = as_float(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    check_same_shape(y_true, y_pred, where)
    if targets_in_01 and y_true.size and not (y_true.min() >= 0 and y_true.max() <= 1):
        raise ValueError(
            f"{where} expects y_true in [0, 1] (class labels 0/1, one-hot rows or "
            f"probabilities), got values from {y_true.min():g} to {y_true.max():g}; "
            "map labels such as -1/+1 to 0/1 with (y + 1) / 2, and one-hot encode class "
            "numbers with nnlib.data.one_hot"
        )
    return y_true, y_pred


def _inside_clip(p, eps):
    """1 where ``p`` is within [eps, 1 - eps] (the loss is not flat there), else 0."""
    return ((p >= eps) & (p <= 1 - eps)).astype(p.dtype)


def _n_samples(y):
    """Number of samples: the length of the first axis (1 for a scalar)."""
    return y.shape[0] if y.ndim > 0 else 1


# --------------------------------------------------------------------------
# Mean squared error
# --------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """Mean squared error, ``mean((y_true - y_pred)**2)`` over all elements
    (taught in chapter 5). This is Keras' ``"mse"``.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples, n_outputs)

    Returns
    -------
    float
    """
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    return float(np.mean((y_true - y_pred) ** 2))


def mean_squared_error_grad(y_true, y_pred):
    """Gradient of :func:`mean_squared_error` with respect to ``y_pred``:
    ``2 (y_pred - y_true) / size`` (chapter 5).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples, n_outputs)

    Returns
    -------
    ndarray, shape of ``y_pred``
    """
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error_grad")
    return 2 * (y_pred - y_true) / y_pred.size


def half_mean_squared_error(y_true, y_pred):
    """Half mean squared error, ``1/(2N) * sum((y_true - y_pred)**2)`` with
    ``N`` the number of samples (taught in chapter 5).

    The factor 1/2 cancels the 2 of the derivative, which is why many texts
    (and the course's source articles) use this form. For one output unit it
    is exactly half of :func:`mean_squared_error`.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples, n_outputs)

    Returns
    -------
    float
    """
    y_true, y_pred = _prepare(y_true, y_pred, "half_mean_squared_error")
    return float(np.sum((y_true - y_pred) ** 2) / (2 * _n_samples(y_pred)))


def half_mean_squared_error_grad(y_true, y_pred):
    """Gradient of :func:`half_mean_squared_error`: ``(y_pred - y_true) / N``
    (chapter 5).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples, n_outputs)

    Returns
    -------
    ndarray, shape of ``y_pred``
    """
    y_true, y_pred = _prepare(y_true, y_pred, "half_mean_squared_error_grad")
    return (y_pred - y_true) / _n_samples(y_pred)


# --------------------------------------------------------------------------
# Binary cross-entropy
# --------------------------------------------------------------------------

def binary_cross_entropy(y_true, p, eps=EPSILON):
    """Binary cross-entropy from probabilities (taught in chapter 5):
    ``-mean(y log p + (1 - y) log(1 - p))`` over all elements.

    ``p`` is clipped to ``[eps, 1 - eps]`` first, as Keras does, so that
    ``log(0)`` never happens: a confident wrong prediction costs
    ``-log(1e-7) ~ 16.1`` instead of infinity.

    Parameters
    ----------
    y_true : array_like, shape (n_samples, n_outputs)
        Targets in {0, 1} (or in [0, 1]).
    p : array_like, shape (n_samples, n_outputs)
        Predicted probabilities, e.g. a sigmoid output.
    eps : float, default 1e-7

    Returns
    -------
    float
    """
    y, p = _prepare(y_true, p, "binary_cross_entropy", targets_in_01=True)
    p = np.clip(p, eps, 1 - eps)  # keep log() finite
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def binary_cross_entropy_grad(y_true, p, eps=EPSILON):
    """Gradient of :func:`binary_cross_entropy` with respect to ``p``:
    ``(p - y) / (p (1 - p)) / size`` for ``p`` in ``[eps, 1 - eps]``, and 0
    outside, where the clipped loss is flat (chapter 5).

    So it is finite everywhere, and it is the derivative of the loss that
    :func:`binary_cross_entropy` reports (as Keras' automatic
    differentiation gives); a prediction beyond the clip gets no push at
    all. Through a sigmoid, the factor ``p (1 - p)`` cancels with the
    sigmoid's derivative and the gradient with respect to the logit is
    simply ``(p - y) / size`` (see :func:`binary_cross_entropy_from_logits_grad`).

    Parameters
    ----------
    y_true, p : array_like, shape (n_samples, n_outputs)
    eps : float, default 1e-7

    Returns
    -------
    ndarray, shape of ``p``
    """
    y, p = _prepare(y_true, p, "binary_cross_entropy_grad", targets_in_01=True)
    clipped = np.clip(p, eps, 1 - eps)  # the formula stays finite; the mask zeroes it outside
    return _inside_clip(p, eps) * (clipped - y) / (clipped * (1 - clipped)) / p.size


def binary_cross_entropy_from_logits(y_true, z):
    """Binary cross-entropy computed from logits ``z`` (pre-sigmoid scores),
    without forming ``sigmoid(z)`` (taught in chapter 5).

    Per element the loss is ``-y log s(z) - (1 - y) log(1 - s(z))``, which
    simplifies to ``max(z, 0) - z y + log(1 + exp(-|z|))``: ``exp`` only sees
    non-positive numbers and ``log1p`` stays accurate when ``exp(-|z|)`` is
    tiny, so this is exact and finite for any ``z``.

    Parameters
    ----------
    y_true : array_like, shape (n_samples, n_outputs)
    z : array_like, shape (n_samples, n_outputs)
        Logits.

    Returns
    -------
    float
    """
    y, z = _prepare(y_true, z, "binary_cross_entropy_from_logits", targets_in_01=True)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_from_logits_grad(y_true, z, p=None):
    """Gradient of :func:`binary_cross_entropy_from_logits` with respect to
    the logits: ``(sigmoid(z) - y) / size`` (chapter 5).

    Parameters
    ----------
    y_true, z : array_like, shape (n_samples, n_outputs)
    p : ndarray, shape of ``z``, optional
        ``sigmoid(z)``, if a forward pass has already computed it (it is
        then not computed again).

    Returns
    -------
    ndarray, shape of ``z``
    """
    y, z = _prepare(y_true, z, "binary_cross_entropy_from_logits_grad", targets_in_01=True)
    return ((sigmoid(z) if p is None else p) - y) / z.size


# --------------------------------------------------------------------------
# Categorical cross-entropy
# --------------------------------------------------------------------------

def categorical_cross_entropy(y_onehot, p, eps=EPSILON):
    """Categorical cross-entropy from probabilities (taught in chapter 5):
    ``-mean over samples of sum_k y_k log p_k``.

    ``p`` is clipped to ``[eps, 1 - eps]`` as in Keras. (Keras also rescales
    each row of ``p`` to sum to 1; softmax outputs already do.)

    Parameters
    ----------
    y_onehot : array_like, shape (n_samples, n_classes)
        One-hot targets (see :func:`nnlib.data.one_hot`).
    p : array_like, shape (n_samples, n_classes)
        Predicted class probabilities, e.g. a softmax output.
    eps : float, default 1e-7

    Returns
    -------
    float
    """
    y, p = _prepare(y_onehot, p, "categorical_cross_entropy", targets_in_01=True)
    p = np.clip(p, eps, 1 - eps)  # keep log() finite
    return float(-np.sum(y * np.log(p)) / _n_samples(p))


def categorical_cross_entropy_grad(y_onehot, p, eps=EPSILON):
    """Gradient of :func:`categorical_cross_entropy` with respect to ``p``:
    ``-y / p / N`` for ``p`` in ``[eps, 1 - eps]``, and 0 outside, where the
    clipped loss is flat (chapter 5).

    Through a softmax this combines into ``(p - y) / N`` with respect to the
    logits when nothing is clipped (see :func:`softmax_cross_entropy_grad`).

    Parameters
    ----------
    y_onehot, p : array_like, shape (n_samples, n_classes)
    eps : float, default 1e-7

    Returns
    -------
    ndarray, shape of ``p``
    """
    y, p = _prepare(y_onehot, p, "categorical_cross_entropy_grad", targets_in_01=True)
    return -_inside_clip(p, eps) * y / np.clip(p, eps, 1 - eps) / _n_samples(p)


def softmax_cross_entropy(y_onehot, logits):
    """Categorical cross-entropy computed from logits via log-sum-exp
    (taught in chapter 5).

    ``log softmax(z)_k = z_k - log sum_j exp(z_j)``; subtracting the row
    maximum ``m`` first (``log sum_j exp(z_j) = m + log sum_j exp(z_j - m)``)
    keeps every exponent <= 0, so nothing overflows and no probability is
    rounded to 0 before the log.

    Parameters
    ----------
    y_onehot : array_like, shape (n_samples, n_classes)
    logits : array_like, shape (n_samples, n_classes)

    Returns
    -------
    float
    """
    y, z = _prepare(y_onehot, logits, "softmax_cross_entropy", targets_in_01=True)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(-np.sum(y * log_p) / _n_samples(z))


def softmax_cross_entropy_grad(y_onehot, logits, p=None):
    """Gradient of :func:`softmax_cross_entropy` with respect to the logits:
    ``(softmax(z) - y) / N`` (chapter 5).

    Parameters
    ----------
    y_onehot, logits : array_like, shape (n_samples, n_classes)
    p : ndarray, shape of ``logits``, optional
        ``softmax(logits)``, if a forward pass has already computed it (it
        is then not computed again).

    Returns
    -------
    ndarray, shape of ``logits``
    """
    y, z = _prepare(y_onehot, logits, "softmax_cross_entropy_grad", targets_in_01=True)
    return ((softmax(z) if p is None else p) - y) / _n_samples(z)


LOSSES = {
    "mse": mean_squared_error,
    "half_mse": half_mean_squared_error,
    "binary_crossentropy": binary_cross_entropy,
    "categorical_crossentropy": categorical_cross_entropy,
}
"""Name -> loss ``L(y_true, y_pred)`` on probabilities/outputs, Keras names."""

LOSS_GRADIENTS = {
    "mse": mean_squared_error_grad,
    "half_mse": half_mean_squared_error_grad,
    "binary_crossentropy": binary_cross_entropy_grad,
    "categorical_crossentropy": categorical_cross_entropy_grad,
}
"""Name -> gradient ``dL/dy_pred(y_true, y_pred)``."""

FROM_LOGITS = {
    ("binary_crossentropy", "sigmoid"): (binary_cross_entropy_from_logits,
                                         binary_cross_entropy_from_logits_grad),
    ("categorical_crossentropy", "softmax"): (softmax_cross_entropy,
                                              softmax_cross_entropy_grad),
}
"""(loss name, output activation) -> (loss, gradient) of the same loss
computed from the logits ``z`` that the activation turns into probabilities:
exact for any logit, with the gradient ``(activation(z) - y) / n`` (which
takes the already computed ``activation(z)`` as ``p=``). A
:class:`~nnlib.model.Sequential` with such an output uses these (the loss is
*fused* with the activation)."""

_PROBABILITY_OUTPUTS = {
    "binary_crossentropy": (("sigmoid", "softmax"), "values in [0, 1]", "sigmoid"),
    "categorical_crossentropy": (("softmax",), "rows of probabilities that sum to 1",
                                 "softmax"),
}


def output_problem(loss, output_activation):
    """Why the output activation cannot feed the loss, or ``""`` if it can.

    The cross-entropies need probabilities: binary cross-entropy values in
    [0, 1] (a sigmoid, or a softmax, output), categorical cross-entropy rows
    that sum to 1 (a softmax output). Any other output is clipped to
    [1e-7, 1 - 1e-7] and the loss is flat wherever the clip applies.

    Parameters
    ----------
    loss : str
        A loss name (see :data:`LOSSES`).
    output_activation : str
        Name of the model's last activation.

    Returns
    -------
    str
    """
    name = _canonical(loss)
    if name not in _PROBABILITY_OUTPUTS:
        return ""
    allowed, needs, suggestion = _PROBABILITY_OUTPUTS[name]
    if output_activation in allowed:
        return ""
    return (f"{name} expects probabilities ({needs}), but a {output_activation!r} output "
            f"does not give them, and the loss is flat where its outputs are clipped; use a "
            f"{suggestion} output (e.g. MLP(..., output_activation={suggestion!r})) or a loss "
            f"for unbounded outputs such as 'mse'")


_ALIASES = {
    "mean_squared_error": "mse",
    "half_mean_squared_error": "half_mse",
    "binary_cross_entropy": "binary_crossentropy",
    "categorical_cross_entropy": "categorical_crossentropy",
}


def _canonical(name):
    if isinstance(name, str) and name.strip().lower() in _ALIASES:
        return _ALIASES[name.strip().lower()]
    return check_name(name, LOSSES, "loss")


def get_loss(name):
    """Look up a loss function by name (``"mse"``, ``"half_mse"``,
    ``"binary_crossentropy"``, ``"categorical_crossentropy"``; the long
    forms such as ``"mean_squared_error"`` are accepted too)."""
    return LOSSES[_canonical(name)]


def get_loss_gradient(name):
    """Look up the gradient ``dL/dy_pred`` of a loss by name."""
    return LOSS_GRADIENTS[_canonical(name)]
