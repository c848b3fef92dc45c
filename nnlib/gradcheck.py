"""Gradient checking: compare backpropagation with central differences
(taught in chapter 6).

If ``f`` is a scalar function of an array ``x``, each partial derivative is
approximately

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

with an error of order ``eps**2``. Comparing this with an analytic gradient
catches almost every backpropagation bug (a missing derivative factor, a
transposed matrix, a forgotten ``1/N``). Use float64: in float32 rounding
swamps the comparison.

Three ways in, one report out (:class:`GradCheckReport`):

* ``check_gradients(model, X, y)`` for a :class:`~nnlib.model.Sequential`;
* ``check_gradients(layer, X)`` for a single layer;
* ``check_gradients(f, x, grad=grad_f)`` for any function of an array, or of
  a dict of named arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_float, as_rng, check_finite

__all__ = ["numerical_gradient", "relative_error", "GradCheckRow", "GradCheckReport",
           "check_gradients", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 1e-7
"""Relative error above which a gradient is reported as WRONG."""

_TINY = 1e-300  # avoids 0/0 when both gradients are exactly zero


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference estimate of the gradient of ``f`` at ``x``
    (taught in chapter 6).

    Each entry of ``x`` is nudged by ``+eps`` and ``-eps`` in turn (in place,
    then restored), so ``f`` may read ``x`` either from its argument or from
    wherever ``x`` lives, such as a layer's weight matrix.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray of float64
        The point; modified temporarily, restored on return.
    eps : float, default 1e-6

    Returns
    -------
    ndarray, shape of ``x``
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f(x)
        x[i] = original - eps
        f_minus = f(x)
        x[i] = original  # restore
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """Relative difference ``|a - b| / max(|a| + |b|, tiny)`` (chapter 6).

    For arrays, ``|.|`` is the Euclidean norm of the whole array, so one
    number summarises a gradient; exactly equal arrays (including two zero
    arrays) give 0. Values around 1e-9 or less mean agreement in float64;
    values near 1 mean the gradients are unrelated.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
    """
    a, b = as_float(a), as_float(b)
    if a.shape != b.shape:
        raise ValueError(f"relative_error expects arrays of one shape, got {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), _TINY))


@dataclass
class GradCheckRow:
    """One parameter's comparison.

    Attributes
    ----------
    name : str
        Name of the gradient, e.g. ``"dW2"``.
    rel_error : float
        :func:`relative_error` between ``analytic`` and ``numerical``.
    ok : bool
        ``rel_error <= tol``.
    analytic, numerical : ndarray
        The gradient under test and its central-difference estimate.
    """

    name: str
    rel_error: float
    ok: bool
    analytic: np.ndarray = field(repr=False)
    numerical: np.ndarray = field(repr=False)

    def __str__(self):
        return f"{self.name} {'ok' if self.ok else 'WRONG'} ({self.rel_error:.1e})"


@dataclass
class GradCheckReport:
    """Result of :func:`check_gradients`: one row per parameter.

    ``str(report)`` gives one line per parameter, e.g.::

        dW1 ok (3.1e-10)
        db1 ok (8.2e-11)
        dW2 WRONG (4.2e-01)

    Attributes
    ----------
    rows : list of GradCheckRow
    tol : float
    """

    rows: list
    tol: float = DEFAULT_TOLERANCE

    @property
    def ok(self):
        """True when every gradient is within tolerance."""
        return all(row.ok for row in self.rows)

    @property
    def wrong(self):
        """Names of the gradients that disagree, e.g. ``["dW2"]``."""
        return [row.name for row in self.rows if not row.ok]

    @property
    def max_error(self):
        """Largest relative error over all rows."""
        return max((row.rel_error for row in self.rows), default=0.0)

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no gradient named {name!r}; the report has {[r.name for r in self.rows]}")

    def explain(self):
        """A longer, learner-oriented verdict: the rows, then what to look at."""
        lines = [str(self)]
        if self.ok:
            lines.append(f"All gradients agree with central differences "
                         f"(largest relative error {self.max_error:.1e} <= {self.tol:.0e}).")
        else:
            lines.append(
                f"{', '.join(self.wrong)} disagree(s) with the numerical gradient "
                f"(tolerance {self.tol:.0e}). Check the backward step that produces "
                "them: the activation derivative (is it evaluated at z, or at a?), "
                "transposes, sums over the batch axis and the 1/N factor. (Exception: "
                "with relu, leaky_relu or step, a pre-activation exactly at the kink "
                "z = 0, e.g. an all-zero input row with zero biases, makes the numerical "
                "estimate unreliable there even when backprop is right.)"
            )
        return "\n".join(lines)

    def __str__(self):
        return "\n".join(str(row) for row in self.rows)

    __repr__ = __str__


def _compare(names, analytic, numerical, tol):
    rows = []
    for name, a, n in zip(names, analytic, numerical):
        err = relative_error(a, n)
        rows.append(GradCheckRow(name, err, bool(err <= tol), np.array(a, copy=True), n))
    return GradCheckReport(rows, tol)


def _check_model(model, X, y, loss, eps, tol):
    setup = model._setup(loss)
    X, y = model._check_data(X, y)
    if model.dtype != np.float64:
        raise ValueError(f"gradient checking needs a float64 model, got {model.dtype}; "
                         "build it with dtype=np.float64")
    model._loss_and_backward(X, y, setup)
    grads = {name: g.copy() for name, g in model.grads().items()}
    params = model.params()
    numerical = [numerical_gradient(lambda _: model._loss(X, y, setup)[0], p, eps)
                 for p in params.values()]
    return _compare(["d" + name for name in params], grads.values(), numerical, tol)


def _check_layer(layer, X, seed, eps, tol):
    X = np.array(as_float(X), dtype=np.float64)  # a copy we may perturb
    check_finite(X)
    if layer.params() and layer.W.dtype != np.float64:
        raise ValueError(f"gradient checking needs a float64 layer, got {layer.W.dtype}")
    # Scalar test function L = sum(G * layer(X)) with fixed random weights G,
    # so that dL/dA = G.
    G = as_rng(seed).standard_normal(layer.forward(X).shape)

    def loss(_):
        return float(np.sum(G * layer.forward(X)) + getattr(layer, "regularization_loss",
                                                           lambda: 0.0)())

    layer.forward(X)
    dX = layer.backward(G)
    names, analytic, numerical = [], [], []
    for name, p in layer.params().items():
        names.append("d" + name)
        analytic.append(layer.grads()[name].copy())
        numerical.append(numerical_gradient(loss, p, eps))
    names.append("dX")
    analytic.append(dX)
    numerical.append(numerical_gradient(loss, X, eps))
    return _compare(names, analytic, numerical, tol)


def _check_function(f, x, grad, eps, tol):
    if grad is None:
        raise TypeError("check_gradients(f, x, grad=...) needs the analytic gradient: "
                        "an array (or dict of arrays) or a function of x returning it")
    if isinstance(x, dict):
        x = {k: np.array(v, dtype=np.float64) for k, v in x.items()}
    else:
        x = np.array(as_float(x), dtype=np.float64)
    analytic = grad(x) if callable(grad) else grad
    if isinstance(x, dict):
        if not isinstance(analytic, dict) or set(analytic) != set(x):
            raise ValueError(
                f"grad must give one array per entry of x, i.e. the keys {sorted(x)}, "
                f"got {sorted(analytic) if isinstance(analytic, dict) else type(analytic).__name__}"
            )
        names = list(x)
        analytic = [as_float(analytic[k]) for k in names]
        numerical = [numerical_gradient(lambda _: f(x), x[k], eps) for k in names]
        labels = [k if k.startswith("d") else "d" + k for k in names]
    else:
        analytic, numerical = [as_float(analytic)], [numerical_gradient(f, x, eps)]
        labels = ["dx"]
    for label, a, n in zip(labels, analytic, numerical):
        if a.shape != n.shape:
            raise ValueError(f"{label}: the analytic gradient has shape {a.shape}, "
                             f"but the parameter has shape {n.shape}")
    return _compare(labels, analytic, numerical, tol)


def check_gradients(model_or_fn, X, y=None, *, grad=None, loss=None, eps=1e-6,
                    tol=DEFAULT_TOLERANCE, seed=0):
    """Compare analytic gradients with central differences, parameter by
    parameter (taught in chapter 6).

    Parameters
    ----------
    model_or_fn : Sequential, Dense, Activation or callable
        * a :class:`~nnlib.model.Sequential`: checks ``dW1, db1, dW2, ...`` of
          its loss on ``(X, y)`` (from :meth:`~nnlib.model.Sequential.loss_and_grads`);
        * a layer: checks ``dW``, ``db`` and ``dX`` of the scalar
          ``sum(G * layer.forward(X))`` for a fixed random ``G``;
        * a function ``f(x) -> float``: checks ``grad`` against it at ``x``
          (``x`` may be an array or a dict of named arrays).
    X : array_like or dict
        Input data (model, layer) or the point ``x`` (function).
    y : array_like, optional
        Targets, for a model.
    grad : array, dict or callable, optional
        For a function only: the analytic gradient at ``x``, or a function
        ``grad(x)`` returning it (same shapes/keys as ``x``).
    loss : str, optional
        For a model: loss to use instead of the compiled one.
    eps : float, default 1e-6
        Finite-difference step.
    tol : float, default 1e-7
        Relative error above which a gradient is reported WRONG.
    seed : int, default 0
        Seed for the random output weights ``G`` of the layer check.

    Returns
    -------
    GradCheckReport
        ``report.ok``, ``report.wrong`` (names), ``str(report)`` (one line
        per parameter, e.g. ``"dW2 WRONG (4.2e-01)"``), ``report.explain()``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlib import check_gradients
    >>> report = check_gradients(lambda x: float(np.sum(x**3)), np.array([1.0, 2.0]),
    ...                          grad=lambda x: 3 * x**2)
    >>> print(report)
    dx ok (...)
    """
    from .layers import Activation, Dense
    from .model import Sequential

    if isinstance(model_or_fn, Sequential):
        if y is None:
            raise TypeError("check_gradients(model, X, y) needs the targets y")
        return _check_model(model_or_fn, X, y, loss, eps, tol)
    if isinstance(model_or_fn, (Dense, Activation)):
        return _check_layer(model_or_fn, X, seed, eps, tol)
    if callable(model_or_fn):
        return _check_function(model_or_fn, X, grad, eps, tol)
    raise TypeError(
        "check_gradients expects a Sequential model, a Dense/Activation layer or a "
        f"function f(x) -> float, got {type(model_or_fn).__name__}"
    )
