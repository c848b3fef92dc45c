"""Gradient-descent optimisers (taught in chapter 8).

Two forms of each rule:

* pure functions (:func:`sgd_step`, :func:`momentum_step`, :func:`adam_step`)
  that return new arrays and never modify their arguments: the readable
  version of the maths, used in the book;
* classes (:class:`SGD`, :class:`Adam`, :class:`AdamW`) with ``.step(params, grads)`` that
  update a dict of named parameter arrays *in place* and keep the optimiser
  state (velocities, moments, step count) between calls: what
  :meth:`nnlib.model.Sequential.fit` uses.

Both follow Keras 3's update rules and defaults exactly
(``keras/src/optimizers/sgd.py``, ``adam.py`` and ``adamw.py``; weight decay
as ``base_optimizer.py``'s ``_apply_weight_decay``).
"""
from __future__ import annotations

import math
import re

import numpy as np

from ._validation import check_name, check_number

__all__ = ["sgd_step", "momentum_step", "adam_step", "Optimizer", "SGD", "Adam", "AdamW",
           "OPTIMIZERS", "get_optimizer"]


# --------------------------------------------------------------------------
# Pure update rules
# --------------------------------------------------------------------------

def sgd_step(w, g, lr=0.01):
    """One step of plain gradient descent, ``w <- w - lr * g`` (chapter 8).

    Parameters
    ----------
    w : ndarray
        Parameters (any shape).
    g : ndarray, shape of ``w``
        Gradient of the loss with respect to ``w``.
    lr : float, default 0.01
        Learning rate (step size).

    Returns
    -------
    w_new : ndarray, shape of ``w``
    """
    return w - lr * g


def momentum_step(w, g, velocity, lr=0.01, momentum=0.9):
    """One step of gradient descent with momentum, Keras' form (chapter 8)::

        velocity <- momentum * velocity - lr * g
        w        <- w + velocity

    The velocity is a running, decaying sum of past steps: directions that
    agree from step to step build up speed, oscillating ones cancel out.

    Parameters
    ----------
    w : ndarray
    g : ndarray, shape of ``w``
    velocity : ndarray, shape of ``w``
        Start with zeros.
    lr : float, default 0.01
    momentum : float, default 0.9
        Fraction of the previous velocity kept at each step.

    Returns
    -------
    w_new, velocity_new : ndarray, shape of ``w``
    """
    velocity = momentum * velocity - lr * g
    return w + velocity, velocity


def adam_step(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """One Adam step, exactly as Keras computes it (taught in chapter 8)::

        m     <- beta_1 * m + (1 - beta_1) * g        # mean of gradients
        v     <- beta_2 * v + (1 - beta_2) * g**2     # mean of squared gradients
        alpha <- lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w     <- w - alpha * m / (sqrt(v) + epsilon)

    ``m`` and ``v`` start at zero, so early on they are too small; the
    factors ``1 - beta**t`` correct that bias (folded into ``alpha``). Each
    parameter's step is scaled by its own recent gradient size ``sqrt(v)``.

    Parameters
    ----------
    w : ndarray
    g : ndarray, shape of ``w``
    m, v : ndarray, shape of ``w``
        First and second moment estimates; start with zeros.
    t : int
        Step number, counting from 1.
    lr : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
        Keeps the division finite when ``v`` is 0 (Keras' default).

    Returns
    -------
    w_new, m_new, v_new : ndarray, shape of ``w``
    """
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w = w - alpha * m / (np.sqrt(v) + epsilon)
    return w, m, v


# --------------------------------------------------------------------------
# Stateful optimisers updating parameters in place
# --------------------------------------------------------------------------

_NOTHING = r"(?!)"  # a regular expression that matches no name


class Optimizer:
    """Base class: ``step(params, grads)`` updates each ``params[name]`` in
    place using ``grads[name]`` and counts steps in ``iterations``.

    Hyperparameters are declared once, in the class attribute
    ``_constraints`` (name -> ``(low, high, closed)``, in the spirit of
    scikit-learn's ``_parameter_constraints``), and checked by one helper,
    ``check_number`` of ``nnlib._validation``: any real number type is
    accepted (numpy scalars included), other types and non-finite values
    are refused with a message naming the parameter.

    Decoupled weight decay is applied here, for every optimiser, as in
    Keras' ``_apply_weight_decay``: before each update every parameter
    (unless excluded, see :meth:`exclude_from_weight_decay`) shrinks by
    ``w <- w - learning_rate * weight_decay * w``.

    Parameters
    ----------
    learning_rate : float > 0
    weight_decay : float >= 0, optional
        ``None`` (the default of SGD and Adam): no decay.
    """

    _constraints = {
        "learning_rate": (0, math.inf, "neither"),
        "weight_decay": (0, math.inf, "both"),
    }

    def __init__(self, learning_rate, weight_decay=None):
        self._set_hyperparameters(learning_rate=learning_rate)
        self.weight_decay = None
        if weight_decay is not None:
            self._set_hyperparameters(weight_decay=weight_decay)
        self._no_decay = re.compile(_NOTHING)
        self.iterations = 0
        self._state = {}

    def _set_hyperparameters(self, **values):
        """Check each value against ``_constraints`` and store it as a float."""
        for name, value in values.items():
            low, high, closed = self._constraints[name]
            setattr(self, name, check_number(value, name, low, high, closed))

    def exclude_from_weight_decay(self, names):
        """Exempt parameters from weight decay, e.g. the biases.

        Parameters
        ----------
        names : sequence of str
            Parameter names, with or without their layer number: ``"b"``
            excludes ``b1, b2, ...``, ``"W2"`` only ``W2``; ``["b",
            "gamma", "beta"]`` exempts every bias and batch-normalisation
            parameter, a common choice with AdamW. (Keras' method of the same
            name matches variable names instead.)

        Returns
        -------
        Optimizer
            The optimiser itself.
        """
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"expected parameter names such as 'b' or 'W2', got {name!r}")
        # "b" stands for b1, b2, ...; a name ending in its layer number only for itself
        patterns = [re.escape(name) + ("" if name[-1].isdigit() else r"\d+") for name in names]
        self._no_decay = re.compile("|".join(patterns) or _NOTHING)
        return self

    def step(self, params, grads):
        """Apply one update to every parameter, in place.

        Parameters
        ----------
        params : dict of str -> ndarray
            Named parameter arrays, e.g. ``{"W1": W1, "b1": b1, ...}``; each
            array is modified in place.
        grads : dict of str -> ndarray
            Gradients with the same names and shapes.
        """
        t = self.iterations + 1
        self._apply_weight_decay(params)
        for name, w in params.items():
            self._update(name, w, grads[name], t)
        self.iterations = t

    def _apply_weight_decay(self, params):
        """Decoupled weight decay ``w <- w - lr * weight_decay * w`` (Keras' order:
        before the update, from the current weights)."""
        if self.weight_decay is None:
            return
        rate = self.learning_rate * self.weight_decay
        for name, w in params.items():
            if not self._no_decay.fullmatch(name):
                w -= w * rate

    def reset(self):
        """Forget all state (moments, velocities, step count)."""
        self.iterations = 0
        self._state = {}

    def _slots(self, name, w, n):
        """``n`` zero arrays shaped like ``w``, kept per parameter name."""
        slots = self._state.get(name)
        if slots is None or slots[0].shape != w.shape or slots[0].dtype != w.dtype:
            slots = self._state[name] = [np.zeros_like(w) for _ in range(n)]
        return slots

    def _update(self, name, w, g, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def _decay_repr(self):
        return "" if self.weight_decay is None else f", weight_decay={self.weight_decay}"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (chapter 8).

    Same rule and defaults as ``keras.optimizers.SGD``: without momentum
    ``w <- w - lr * g``; with momentum ``velocity <- momentum * velocity - lr * g``
    then ``w <- w + velocity`` (see :func:`momentum_step`).

    Parameters
    ----------
    learning_rate : float > 0, default 0.01
    momentum : float in [0, 1], default 0.0
    weight_decay : float >= 0, optional
        Decoupled weight decay (see :class:`Optimizer`); ``None``: none.
    """

    _constraints = {**Optimizer._constraints, "momentum": (0, 1, "both")}

    def __init__(self, learning_rate=0.01, momentum=0.0, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self._set_hyperparameters(momentum=momentum)

    def _update(self, name, w, g, t):
        lr = self.learning_rate
        if self.momentum == 0:
            w -= lr * g
            return
        (velocity,) = self._slots(name, w, 1)
        velocity *= self.momentum
        velocity -= lr * g
        w += velocity

    def __repr__(self):
        return (f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum}"
                f"{self._decay_repr()})")


class Adam(Optimizer):
    """Adam (chapter 8), with Keras' update rule and defaults
    (see :func:`adam_step` for the maths).

    Parameters
    ----------
    learning_rate : float > 0, default 0.001
    beta_1 : float in [0, 1), default 0.9
    beta_2 : float in [0, 1), default 0.999
    epsilon : float > 0, default 1e-7
    weight_decay : float >= 0, optional
        Decoupled weight decay (see :class:`Optimizer`); ``None``: none.
        With a value this is :class:`AdamW`.
    """

    _constraints = {**Optimizer._constraints, "beta_1": (0, 1, "left"),
                    "beta_2": (0, 1, "left"), "epsilon": (0, math.inf, "neither")}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self._set_hyperparameters(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)

    def _update(self, name, w, g, t):
        # The maths of adam_step, written with in-place operations and one
        # scratch array so that no new arrays are allocated per step.
        m, v, tmp = self._slots(name, w, 3)
        b1, b2 = self.beta_1, self.beta_2
        alpha = self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
        np.subtract(g, m, out=tmp)        # m += (1 - b1) (g - m)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)        # v += (1 - b2) (g^2 - v)
        tmp -= v
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)               # w -= alpha m / (sqrt(v) + eps)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp

    def __repr__(self):
        return (f"{type(self).__name__}(learning_rate={self.learning_rate}, "
                f"beta_1={self.beta_1}, beta_2={self.beta_2}, epsilon={self.epsilon}"
                f"{self._decay_repr()})")


class AdamW(Adam):
    """Adam with decoupled weight decay (chapter 8), as
    ``keras.optimizers.AdamW`` (Loshchilov and Hutter, "Decoupled Weight
    Decay Regularization", ICLR 2019).

    Each step first shrinks every weight, ``w <- w - lr * weight_decay * w``,
    then takes the ordinary Adam step with the loss's gradient. The decay is
    the optimiser base class's; ``AdamW`` only makes it the default.

    This is not the same as L2 regularisation inside Adam (a penalty
    ``l2 * sum(w**2)`` in the loss, such as ``Dense(..., l2=...)``). There
    the penalty's gradient ``2 * l2 * w`` is added to ``g`` and then goes
    through Adam's scaling by ``1 / (sqrt(v) + epsilon)``: weights whose
    gradients have been large are decayed *less*, and rarely-updated weights
    more, so the effective decay depends on the gradient history. With
    decoupled decay every weight shrinks by the same factor
    ``1 - lr * weight_decay`` per step, whatever its gradients. (For plain
    SGD the two coincide, with ``weight_decay = 2 * l2``.)

    Parameters
    ----------
    learning_rate : float > 0, default 0.001
    weight_decay : float >= 0, default 0.004
        Keras' default.
    beta_1 : float in [0, 1), default 0.9
    beta_2 : float in [0, 1), default 0.999
    epsilon : float > 0, default 1e-7
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7):
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (a number >= 0, default 0.004); "
                             "for no decay use Adam")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay=weight_decay)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}
"""Name -> optimiser class (constructed with its defaults by :func:`get_optimizer`)."""


def get_optimizer(optimizer):
    """Return an optimiser instance: pass one through, or build one with its
    default settings from a name (``"sgd"``, ``"adam"`` or ``"adamw"``)."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    return OPTIMIZERS[check_name(optimizer, OPTIMIZERS, "optimizer")]()
