"""Gradient checking: compare backpropagation with central differences
(taught in chapter 6).

If ``f`` is a scalar function of an array ``x``, each partial derivative is
approximately

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

with an error of order ``eps**2``. Comparing this with an analytic gradient
catches almost every backpropagation bug (a missing derivative factor, a
transposed matrix, a forgotten ``1/N``). Use float64: in float32 rounding
swamps the comparison.

Rounding sets a limit too: ``f`` is only known to about
``machine epsilon * |f|``, so the estimate carries noise of about that
divided by ``eps``. Gradients smaller than this *noise floor* (a correct
zero gradient, say) cannot be told apart from it, so the check compares
them in absolute terms and says so in its report.

Three ways in, one report out (:class:`GradCheckReport`):

* ``check_gradients(model, X, y)`` for a :class:`~nnlib.model.Sequential`;
* ``check_gradients(layer, X)`` for a single :class:`~nnlib.layers.Layer`;
* ``check_gradients(f, x, grad=grad_f)`` for any function of an array, or of
  a dict of named arrays.

Models and layers are checked through their public interface only
(``loss_and_grads``, ``compute_loss``, ``forward``, ``backward``,
``params``, ``grads``, ``state``), so every layer that follows the protocol
can be checked.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_float, as_rng, check_finite, check_number
from .layers import Layer
from .model import Sequential

__all__ = ["numerical_gradient", "relative_error", "noise_floor", "GradCheckRow",
           "GradCheckReport", "check_gradients", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 1e-7
"""Relative error above which a gradient is reported as WRONG."""

_TINY = 1e-300  # avoids 0/0 when both gradients are exactly zero

_ROUNDING_FACTOR = 10
"""How many float64 roundings of ``f`` the noise floor allows for: a loss is
the result of many operations, each rounding once."""

_KINKED = ("relu", "leaky_relu", "step")


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


def relative_error(a, b, *, floor=0.0):
    """Relative difference ``|a - b| / max(|a| + |b|, floor)`` (chapter 6).

    For arrays, ``|.|`` is the Euclidean norm of the whole array, so one
    number summarises a gradient; exactly equal arrays (including two zero
    arrays) give 0. Values around 1e-9 or less mean agreement in float64;
    two unrelated gradients of equal length give about 0.7, opposite ones 1.

    Parameters
    ----------
    a, b : array_like, same shape
    floor : float, default 0.0
        Smallest denominator. When both norms are tiny (below the noise of
        a numerical estimate, say), the difference is measured against
        ``floor`` instead of against their sum, so noise of size ``n``
        gives ``n / floor`` rather than about 1. :func:`check_gradients`
        passes ``noise_floor(...) / tol``.

    Returns
    -------
    float
    """
    a, b = as_float(a), as_float(b)
    if a.shape != b.shape:
        raise ValueError(f"relative_error expects arrays of one shape, got {a.shape} and {b.shape}")
    floor = check_number(floor, "floor", low=0)
    scale = max(np.linalg.norm(a) + np.linalg.norm(b), floor, _TINY)
    return float(np.linalg.norm(a - b) / scale)


def noise_floor(loss_scale, eps, size):
    """How large a difference between an analytic gradient and its central
    difference estimate rounding alone can cause (the norm over ``size``
    entries).

    The loss is known to about ``10 * machine_epsilon * max(|loss|, 1)``
    (``max(..., 1)``: the quantities inside a loss are of order 1 even
    where the loss itself is 0); a central difference divides that by
    ``eps``, independently for each entry.

    Parameters
    ----------
    loss_scale : float
        The loss (or function value) at the point checked.
    eps : float
        The finite-difference step.
    size : int
        Number of entries of the gradient.

    Returns
    -------
    float
    """
    per_entry = _ROUNDING_FACTOR * np.finfo(np.float64).eps * max(abs(loss_scale), 1.0) / eps
    return per_entry * math.sqrt(size)


@dataclass
class GradCheckRow:
    """One parameter's comparison.

    Attributes
    ----------
    name : str
        Name of the gradient, e.g. ``"dW2"``.
    rel_error : float
        :func:`relative_error` between ``analytic`` and ``numerical``, with
        the noise floor (divided by the tolerance) as smallest denominator.
    ok : bool
        ``rel_error <= tol``.
    analytic, numerical : ndarray
        The gradient under test and its central-difference estimate.
    floor_applied : bool
        True when the row passes only thanks to the noise floor: both
        gradients are so small that, measured against their own size, two
        specks of rounding noise would have looked unrelated.
    """

    name: str
    rel_error: float
    ok: bool
    analytic: np.ndarray = field(repr=False)
    numerical: np.ndarray = field(repr=False)
    floor_applied: bool = False

    def __str__(self):
        note = ", within the noise floor" if self.floor_applied else ""
        return f"{self.name} {'ok' if self.ok else 'WRONG'} ({self.rel_error:.1e}{note})"


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
    kinked : tuple of str
        Activations with a kink (``relu``, ``leaky_relu``, ``step``) in the
        checked model or layer, which :meth:`explain` mentions when a check
        fails.
    """

    rows: list
    tol: float = DEFAULT_TOLERANCE
    kinked: tuple = ()

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
                "transposes, sums over the batch axis and the 1/N factor."
            )
            if self.kinked:
                lines.append(
                    f"(Exception: this network uses {', '.join(self.kinked)}; a "
                    "pre-activation exactly at the kink z = 0, e.g. an all-zero input row "
                    "with zero biases, makes the numerical estimate unreliable there even "
                    "when backprop is right.)"
                )
        small = [row.name for row in self.rows if row.floor_applied]
        if small:
            lines.append(
                f"{', '.join(small)}: both gradients are about as small as the noise of "
                "central differences (rounding in the loss, divided by the step eps), so "
                "their difference was measured against that noise floor instead of against "
                "their size: a zero gradient passes when the estimate is only noise."
            )
        return "\n".join(lines)

    def __str__(self):
        return "\n".join(str(row) for row in self.rows)

    __repr__ = __str__


def _compare(names, analytic, numerical, tol, loss_scale, eps, atol):
    """One row per gradient; ``atol`` None means the automatic noise floor."""
    rows = []
    for name, a, n in zip(names, analytic, numerical):
        floor = noise_floor(loss_scale, eps, n.size) if atol is None else atol
        err = relative_error(a, n, floor=floor / tol)
        ok = bool(err <= tol)
        rows.append(GradCheckRow(name, err, ok, np.array(a, copy=True), n,
                                 floor_applied=ok and relative_error(a, n) > tol))
    return rows


@contextlib.contextmanager
def _restoring(arrays):
    """Put the values of ``arrays`` (a dict of live arrays, such as
    ``model.state()``) back on exit: checking must not move the moving averages."""
    saved = {name: a.copy() for name, a in arrays.items()}
    try:
        yield
    finally:
        for name, a in arrays.items():
            a[...] = saved[name]


def _kinked(layers):
    return tuple(sorted({layer.activation for layer in layers} & set(_KINKED)))


def _check_model(model, X, y, loss, training, eps, tol, atol):
    if model.dtype != np.float64:
        raise ValueError(f"gradient checking needs a float64 model, got {model.dtype}; "
                         "build it with dtype=np.float64")
    params = model.params()
    with _restoring(model.state()), model.fixed_noise():
        loss_value, grads = model.loss_and_grads(X, y, loss=loss, training=training)
        grads = {name: g.copy() for name, g in grads.items()}
        numerical = [numerical_gradient(
            lambda _: model.compute_loss(X, y, loss=loss, training=training), p, eps)
            for p in params.values()]
    rows = _compare(["d" + name for name in params], grads.values(), numerical, tol,
                    loss_value, eps, atol)
    return GradCheckReport(rows, tol, _kinked(model.layers))


def _check_layer(layer, X, training, seed, eps, tol, atol):
    X = np.array(as_float(X), dtype=np.float64)  # a copy we may perturb
    check_finite(X)
    if layer.dtype not in (None, np.float64):
        raise ValueError(f"gradient checking needs a float64 layer, got {layer.dtype}")
    with _restoring(layer.state()), layer.fixed_noise():
        # Scalar test function L = sum(G * layer(X)) + penalty with fixed random
        # weights G, so that dL/dA = G.
        G = as_rng(seed).standard_normal(layer.forward(X, training=training).shape)

        def loss(_):
            A = layer.forward(X, training=training)
            return float(np.sum(G * A)) + layer.regularization_loss()

        loss_value = loss(X)
        dX = layer.backward(G)
        names = [f"d{name}" for name in layer.params()] + ["dX"]
        analytic = [g.copy() for g in layer.grads().values()] + [dX]
        numerical = [numerical_gradient(loss, p, eps) for p in layer.params().values()]
        numerical.append(numerical_gradient(loss, X, eps))
    return GradCheckReport(_compare(names, analytic, numerical, tol, loss_value, eps, atol),
                           tol, _kinked([layer]))


def _check_function(f, x, grad, eps, tol, atol):
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
    return GradCheckReport(_compare(labels, analytic, numerical, tol, f(x), eps, atol), tol)


def check_gradients(model_or_fn, X, y=None, *, grad=None, loss=None, training=True, eps=1e-6,
                    tol=DEFAULT_TOLERANCE, atol=None, seed=0):
    """Compare analytic gradients with central differences, parameter by
    parameter (taught in chapter 6).

    Parameters
    ----------
    model_or_fn : Sequential, Layer or callable
        * a :class:`~nnlib.model.Sequential`: checks ``dW1, db1, dW2, ...`` of
          its loss on ``(X, y)`` (from :meth:`~nnlib.model.Sequential.loss_and_grads`);
        * a :class:`~nnlib.layers.Layer`: checks the gradients of its
          parameters and ``dX`` for the scalar ``sum(G * layer.forward(X))``
          with a fixed random ``G``;
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
    training : bool, default True
        For a model or layer: check the training-mode computation (what
        ``fit`` differentiates), or the inference one. Dropout masks are held
        fixed during the check, and batch normalisation's moving averages
        are restored afterwards.
    eps : float, default 1e-6
        Finite-difference step.
    tol : float, default 1e-7
        Relative error above which a gradient is reported WRONG.
    atol : float, optional
        Noise floor: gradients differing by less than this (Euclidean norm)
        always pass. By default :func:`noise_floor` of the loss at the point,
        ``eps`` and the gradient's size; the report says where it applied.
        ``atol=0`` turns it off (a function whose values are far below 1 may
        need that, or rescaling).
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
    if atol is not None:
        atol = check_number(atol, "atol", low=0)
    if isinstance(model_or_fn, Sequential):
        if y is None:
            raise TypeError("check_gradients(model, X, y) needs the targets y")
        return _check_model(model_or_fn, X, y, loss, training, eps, tol, atol)
    if isinstance(model_or_fn, Layer):
        return _check_layer(model_or_fn, X, training, seed, eps, tol, atol)
    if callable(model_or_fn):
        return _check_function(model_or_fn, X, grad, eps, tol, atol)
    raise TypeError(
        "check_gradients expects a Sequential model, an nnlib layer or a "
        f"function f(x) -> float, got {type(model_or_fn).__name__}"
    )
