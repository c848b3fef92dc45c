"""Dense (fully connected) layers and stand-alone activation layers
(forward pass taught in chapter 4, backward pass in chapter 6).

Shapes follow Keras and scikit-learn: inputs ``X`` are
``(n_samples, n_in)``, weights ``W`` are ``(n_in, n_out)``, biases ``b`` are
``(n_out,)`` and outputs are ``(n_samples, n_out)``. One row per sample, so a
whole mini-batch goes through a layer in a single matrix product.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import as_float, as_rng, check_n_features, check_name
from .activations import ACTIVATIONS, DERIVATIVES, softmax_backward
from .initializers import get_initializer

__all__ = ["dense_forward", "dense_backward", "Dense", "Activation"]


def dense_forward(X, W, b):
    """Affine map of a dense layer, ``Z = X @ W + b`` (taught in chapter 4).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_in)
        One input row per sample.
    W : ndarray, shape (n_in, n_out)
        ``W[i, j]`` is the weight from input ``i`` to unit ``j``.
    b : ndarray, shape (n_out,)
        One bias per unit, broadcast over the rows.

    Returns
    -------
    Z : ndarray, shape (n_samples, n_out)
        Pre-activations.
    """
    return X @ W + b


def dense_backward(dZ, X, W):
    """Gradients of a dense layer ``Z = X @ W + b`` (taught in chapter 6).

    Given ``dZ = dL/dZ``, the chain rule gives

    * ``dW = X.T @ dZ``  (each weight's gradient summed over the batch)
    * ``db = dZ.sum(axis=0)``  (the bias is added to every row)
    * ``dX = dZ @ W.T``  (passed back to the previous layer)

    Parameters
    ----------
    dZ : ndarray, shape (n_samples, n_out)
        Gradient of the loss with respect to this layer's pre-activations.
    X : ndarray, shape (n_samples, n_in)
        The layer's input from the forward pass.
    W : ndarray, shape (n_in, n_out)

    Returns
    -------
    dX : ndarray, shape (n_samples, n_in)
    dW : ndarray, shape (n_in, n_out)
    db : ndarray, shape (n_out,)
    """
    dW = X.T @ dZ
    db = dZ.sum(axis=0)
    dX = dZ @ W.T
    return dX, dW, db


def _activation_backward(name, dA, Z, A):
    """dL/dZ from dL/dA for the activation ``name`` (shared by both layers)."""
    if name == "softmax":
        return softmax_backward(A, dA)
    if name == "linear":
        return dA
    return dA * DERIVATIVES[name](Z)


class Dense:
    """A fully connected layer ``A = f(X @ W + b)`` (forward pass taught in
    chapter 4, backward pass in chapter 6, initialisation in chapter 8).

    Parameters
    ----------
    n_in : int
        Number of inputs (features) per sample.
    n_out : int
        Number of units (outputs) per sample.
    activation : str or None, default None
        Name of the activation ``f`` (see :data:`nnlib.activations.ACTIVATIONS`);
        ``None`` means linear.
    kernel_initializer : str, default "glorot_uniform"
        Initialiser for ``W`` (see :data:`nnlib.initializers.INITIALIZERS`).
    bias_initializer : str, default "zeros"
        Initialiser for ``b``.
    rng : numpy.random.Generator or int seed, optional
        Source of randomness for the initial weights.
    dtype : numpy dtype, default np.float64
        float64 or float32; inputs are cast to it, so outputs and gradients
        all have this dtype.
    l2 : float, default 0.0
        L2 penalty ``l2 * sum(W**2)`` added to the loss (as Keras'
        ``kernel_regularizer=L2(l2)``); its gradient ``2 * l2 * W`` is added
        to ``dW``. The bias is not penalised.
    name : str, optional

    Attributes
    ----------
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)
    X, Z, A : ndarray or None
        Input, pre-activation and activation of the last forward pass.
    dW, db : ndarray
        Gradients from the last backward pass.
    """

    def __init__(self, n_in, n_out, activation=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", rng=None, dtype=np.float64, l2=0.0, name=None):
        for value, label in ((n_in, "n_in"), (n_out, "n_out")):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"Dense expects {label} to be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"Dense supports dtype float32 or float64, got {dtype}")
        if not l2 >= 0:
            raise ValueError(f"Dense expects l2 >= 0, got {l2!r}")
        rng = as_rng(rng)
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.activation = "linear" if activation is None else check_name(
            activation, ACTIVATIONS, "activation")
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.l2 = float(l2)
        self.name = name
        self.index = None  # position among the Dense layers of a Sequential (1-based)
        self.W = get_initializer(kernel_initializer)((self.n_in, self.n_out), rng, dtype)
        self.b = get_initializer(bias_initializer)((self.n_out,), rng, dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.X = self.Z = self.A = None
        self._f = ACTIVATIONS[self.activation]

    @property
    def dtype(self):
        """The dtype of the weights (and of everything the layer computes)."""
        return self.W.dtype

    def _label(self):
        if self.index is not None:
            return f"Dense layer {self.index}"
        return f"Dense layer {self.name!r}" if self.name else "Dense layer"

    def forward(self, X):
        """Compute ``A = f(X @ W + b)``, remembering ``X``, ``Z`` and ``A``
        for :meth:`backward` (chapter 4).

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_in)

        Returns
        -------
        A : ndarray, shape (n_samples, n_out)
        """
        X = np.asarray(X, dtype=self.W.dtype)
        check_n_features(X, self.n_in, self._label())
        self.X = X
        self.Z = dense_forward(X, self.W, self.b)
        self.A = self._f(self.Z)
        return self.A

    def backward(self, dA, need_dX=True):
        """Backpropagate ``dA = dL/dA`` through the layer (chapter 6).

        Sets ``self.dW`` and ``self.db`` and returns ``dX = dL/dX`` for the
        previous layer. Uses the ``X``, ``Z``, ``A`` kept by :meth:`forward`.

        Parameters
        ----------
        dA : ndarray, shape (n_samples, n_out)
        need_dX : bool, default True
            If False, skip computing ``dX`` and return None.

        Returns
        -------
        dX : ndarray, shape (n_samples, n_in), or None
        """
        if self.X is None:
            raise RuntimeError(f"{self._label()}: call forward() before backward()")
        # Through the activation: dZ = dA * f'(Z) (softmax: Jacobian product).
        dZ = _activation_backward(self.activation, dA, self.Z, self.A)
        # Through the affine map Z = X W + b.
        return self.backward_from_z(dZ, need_dX)

    def backward_from_z(self, dZ, need_dX=True):
        """Backpropagate from ``dZ = dL/dZ`` (skipping the activation), as
        used when a loss is fused with the output activation (chapter 6).

        Parameters
        ----------
        dZ : ndarray, shape (n_samples, n_out)
        need_dX : bool, default True
            If False, skip computing ``dX`` (the first layer of a network
            does not need it) and return None.

        Returns
        -------
        dX : ndarray, shape (n_samples, n_in), or None
        """
        if need_dX:
            dX, self.dW, self.db = dense_backward(dZ, self.X, self.W)
        else:  # first layer: its input is data, so skip the dX product
            dX, self.dW, self.db = None, self.X.T @ dZ, dZ.sum(axis=0)
        if self.l2:
            self.dW += (2 * self.l2) * self.W  # gradient of l2 * sum(W**2)
        return dX

    def regularization_loss(self):
        """The L2 penalty ``l2 * sum(W**2)`` (0.0 without regularisation)."""
        return self.l2 * float(np.sum(self.W * self.W)) if self.l2 else 0.0

    def params(self):
        """The trainable arrays, ``{"W": W, "b": b}`` (the live arrays, not copies)."""
        return {"W": self.W, "b": self.b}

    def grads(self):
        """Gradients from the last backward pass, ``{"W": dW, "b": db}``."""
        return {"W": self.dW, "b": self.db}

    def count_params(self):
        """Number of trainable numbers, ``n_in * n_out + n_out``."""
        return self.W.size + self.b.size

    def __repr__(self):
        return (f"Dense({self.n_in}, {self.n_out}, activation={self.activation!r}"
                f"{', dtype=float32' if self.W.dtype == np.float32 else ''})")


class Activation:
    """A stand-alone activation layer ``A = f(Z)`` with no parameters
    (like ``keras.layers.Activation``; chapters 3 and 6).

    Parameters
    ----------
    name : str
        Name of the activation (see :data:`nnlib.activations.ACTIVATIONS`).
    """

    def __init__(self, name):
        self.activation = check_name(name, ACTIVATIONS, "activation")
        self._f = ACTIVATIONS[self.activation]
        self.Z = self.A = None

    def forward(self, Z):
        """Apply the activation, remembering ``Z`` and ``A`` for backward.

        Parameters
        ----------
        Z : ndarray, shape (n_samples, n_units)

        Returns
        -------
        A : ndarray, shape (n_samples, n_units)
        """
        self.Z = as_float(Z)
        self.A = self._f(self.Z)
        return self.A

    def backward(self, dA):
        """Return ``dZ = dL/dZ`` given ``dA = dL/dA`` (chapter 6)."""
        if self.Z is None:
            raise RuntimeError("Activation: call forward() before backward()")
        return _activation_backward(self.activation, dA, self.Z, self.A)

    def params(self):
        """No trainable parameters: ``{}``."""
        return {}

    def grads(self):
        """No trainable parameters: ``{}``."""
        return {}

    def count_params(self):
        """0: an activation layer has no parameters."""
        return 0

    def __repr__(self):
        return f"Activation({self.activation!r})"
