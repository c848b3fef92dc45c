"""Gradient-descent optimisers (taught in chapter 7).

Two forms of each rule:

* pure functions (:func:`sgd_step`, :func:`momentum_step`, :func:`adam_step`)
  that return new arrays and never modify their arguments: the readable
  version of the maths, used in the book;
* classes (:class:`SGD`, :class:`Adam`) with ``.step(params, grads)`` that
  update a dict of named parameter arrays *in place* and keep the optimiser
  state (velocities, moments, step count) between calls: what
  :meth:`nnlib.model.Sequential.fit` uses.

Both follow Keras 3's update rules and defaults exactly
(``keras/src/optimizers/sgd.py`` and ``adam.py``).
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import check_name

__all__ = ["sgd_step", "momentum_step", "adam_step", "Optimizer", "SGD", "Adam",
           "OPTIMIZERS", "get_optimizer"]


# --------------------------------------------------------------------------
# Pure update rules
# --------------------------------------------------------------------------

def sgd_step(w, g, lr=0.01):
    """One step of plain gradient descent, ``w <- w - lr * g`` (chapter 7).

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
    """One step of gradient descent with momentum, Keras' form (chapter 7)::

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
    """One Adam step, exactly as Keras computes it (taught in chapter 7)::

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

def _check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"expected {name} to be a positive number, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: ``step(params, grads)`` updates each ``params[name]`` in
    place using ``grads[name]`` and counts steps in ``iterations``."""

    def __init__(self, learning_rate):
        self.learning_rate = _check_rate(learning_rate, "learning_rate")
        self.iterations = 0
        self._state = {}

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
        for name, w in params.items():
            self._update(name, w, grads[name], t)
        self.iterations = t

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


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (chapter 7).

    Same rule and defaults as ``keras.optimizers.SGD``: without momentum
    ``w <- w - lr * g``; with momentum ``velocity <- momentum * velocity - lr * g``
    then ``w <- w + velocity`` (see :func:`momentum_step`).

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float in [0, 1], default 0.0
    """

    def __init__(self, learning_rate=0.01, momentum=0.0):
        super().__init__(learning_rate)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) \
                or not 0 <= momentum <= 1:
            raise ValueError(f"expected momentum to be a number in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)

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
        return f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum})"


class Adam(Optimizer):
    """Adam (chapter 7), with Keras' update rule and defaults
    (see :func:`adam_step` for the maths).

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        for value, label in ((beta_1, "beta_1"), (beta_2, "beta_2")):
            if not 0 <= value < 1:
                raise ValueError(f"expected {label} in [0, 1), got {value!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _check_rate(epsilon, "epsilon")

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
        return (f"Adam(learning_rate={self.learning_rate}, beta_1={self.beta_1}, "
                f"beta_2={self.beta_2}, epsilon={self.epsilon})")


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
"""Name -> optimiser class (constructed with its defaults by :func:`get_optimizer`)."""


def get_optimizer(optimizer):
    """Return an optimiser instance: pass one through, or build one with its
    default settings from a name (``"sgd"`` or ``"adam"``)."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    return OPTIMIZERS[check_name(optimizer, OPTIMIZERS, "optimizer")]()
