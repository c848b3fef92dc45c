"""Layers: the protocol every layer follows, dense (fully connected) layers,
stand-alone activations, dropout and batch normalisation (forward pass
taught in chapter 4, backward pass in chapter 6, dropout and batch
normalisation in chapter 9).

Shapes follow Keras and scikit-learn: inputs ``X`` are
``(n_samples, n_in)``, weights ``W`` are ``(n_in, n_out)``, biases ``b`` are
``(n_out,)`` and outputs are ``(n_samples, n_out)``. One row per sample, so a
whole mini-batch goes through a layer in a single matrix product.

Every layer is a :class:`Layer`: ``forward(X, training=False)``,
``backward(dA)``, ``params()``, ``grads()``, ``state()`` and
``count_params()``. :class:`~nnlib.model.Sequential` uses nothing else, so a
new layer only has to implement that protocol.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ._validation import (as_float, as_rng, check_int, check_n_features, check_name,
                          check_number)
from .activations import ACTIVATIONS, DERIVATIVES, softmax_backward
from .initializers import get_initializer

__all__ = ["dense_forward", "dense_backward", "Layer", "Dense", "Activation", "Dropout",
           "BatchNormalization"]


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


def _check_dtype(dtype, where):
    """Return ``dtype`` as a numpy dtype if it is float32 or float64, else raise."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{where} supports dtype float32 or float64, got {dtype}")
    return dtype


class Layer:
    """The layer protocol (the base class of every nnlib layer).

    A layer maps a batch ``X`` of shape ``(n_samples, n_in)`` to ``A`` of
    shape ``(n_samples, n_out)`` and back-propagates gradients. Containers
    such as :class:`~nnlib.model.Sequential` use only the methods below, in
    the spirit of micrograd's ``Module.parameters()`` and Keras'
    ``call(inputs, training=...)``.

    Subclasses implement :meth:`forward` and :meth:`backward` and, if they
    hold arrays, :meth:`params`, :meth:`grads` and :meth:`state`. The class
    attributes below describe the layer to its container.

    Parameters
    ----------
    name : str, optional

    Attributes
    ----------
    n_in, n_out : int or None
        Number of input and output features; ``None`` for a layer that
        accepts any width and keeps it (an activation, dropout).
    activation : str or None
        Name of the activation the layer applies last, if any. A layer with
        an activation keeps its pre-activation ``Z`` from the last forward
        pass, so that a loss can be fused with it (see
        :meth:`backward_from_z`).
    dtype : numpy dtype or None
        dtype of the layer's arrays; ``None`` for a layer without any.
    index : int or None
        Position among the layers of its type in a Sequential (1-based), set
        by the Sequential: parameters are named after it (``W1``,
        ``gamma2``), and so are error messages.
    """

    n_in = None
    n_out = None
    activation = None
    dtype = None

    def __init__(self, name=None):
        self.name = name
        self.index = None

    def forward(self, X, training=False):
        """Compute the layer's output, remembering what :meth:`backward` needs.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_in)
        training : bool, default False
            True in a training step, False for inference (``predict``,
            ``evaluate``, validation). Dropout and batch normalisation
            behave differently in the two modes.

        Returns
        -------
        A : ndarray, shape (n_samples, n_out)
        """
        raise NotImplementedError

    def backward(self, dA, need_dX=True):
        """Back-propagate ``dA = dL/dA`` through the last forward pass: store
        the gradients of the parameters (see :meth:`grads`) and return
        ``dX = dL/dX``.

        Parameters
        ----------
        dA : ndarray, shape (n_samples, n_out)
        need_dX : bool, default True
            If False the layer may skip computing ``dX`` (the first layer of
            a network does not need it) and return None.

        Returns
        -------
        dX : ndarray, shape (n_samples, n_in), or None
        """
        raise NotImplementedError

    def backward_from_z(self, dZ, need_dX=True):
        """Back-propagate from ``dZ = dL/dZ``, the gradient with respect to
        the pre-activation, skipping the activation (for a loss fused with
        it). Without an activation ``Z`` is ``A``, so this is
        :meth:`backward`."""
        return self.backward(dZ, need_dX)

    def params(self):
        """The trainable arrays by name, e.g. ``{"W": W, "b": b}`` (live
        arrays, updated in place by the optimiser); ``{}`` if none."""
        return {}

    def grads(self):
        """Gradients from the last backward pass, named like :meth:`params`."""
        return {}

    def state(self):
        """Non-trainable arrays by name (live arrays), such as batch
        normalisation's moving statistics; ``{}`` if none."""
        return {}

    def count_params(self):
        """Number of numbers in :meth:`params` and :meth:`state` (Keras
        counts non-trainable weights too)."""
        arrays = [*self.params().values(), *self.state().values()]
        return sum(a.size for a in arrays)

    def regularization_loss(self):
        """Penalty this layer adds to the loss (0.0 without regularisation)."""
        return 0.0

    def fixed_noise(self):
        """A context manager within which any randomness of the training
        pass is drawn once and then reused, so that repeated forward passes
        compute the same function (a gradient check needs that). A no-op
        for a deterministic layer; see :meth:`Dropout.fixed_noise`."""
        return contextlib.nullcontext()

    def _label(self):
        kind = type(self).__name__
        if self.index is not None:
            return f"{kind} layer {self.index}"
        return f"{kind} layer {self.name!r}" if self.name else f"{kind} layer"

    def _built_for(self, n_in):
        """How to build this kind of layer for ``n_in`` inputs (for messages)."""
        return f"{type(self).__name__}({n_in}, ...)"


class Dense(Layer):
    """A fully connected layer ``A = f(X @ W + b)`` (forward pass taught in
    chapter 4, backward pass in chapter 6, initialisation in chapter 9).

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
        super().__init__(name)
        self.n_in, self.n_out = check_int(n_in, "n_in"), check_int(n_out, "n_out")
        dtype = _check_dtype(dtype, "Dense")
        self.l2 = check_number(l2, "l2", low=0)
        rng = as_rng(rng)
        self.activation = "linear" if activation is None else check_name(
            activation, ACTIVATIONS, "activation")
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
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

    def forward(self, X, training=False):
        """Compute ``A = f(X @ W + b)``, remembering ``X``, ``Z`` and ``A``
        for :meth:`backward` (chapter 4).

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_in)
        training : bool, default False
            Ignored: a dense layer computes the same in both modes.

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

    def _built_for(self, n_in):
        return f"Dense({n_in}, {self.n_out}, ...)"

    def __repr__(self):
        return (f"Dense({self.n_in}, {self.n_out}, activation={self.activation!r}"
                f"{', dtype=float32' if self.W.dtype == np.float32 else ''})")


class Activation(Layer):
    """A stand-alone activation layer ``A = f(Z)`` with no parameters
    (like ``keras.layers.Activation``; chapters 3 and 6).

    Parameters
    ----------
    name : str
        Name of the activation (see :data:`nnlib.activations.ACTIVATIONS`).
    """

    def __init__(self, name):
        super().__init__()
        self.activation = check_name(name, ACTIVATIONS, "activation")
        self._f = ACTIVATIONS[self.activation]
        self.Z = self.A = None

    def forward(self, Z, training=False):
        """Apply the activation, remembering ``Z`` and ``A`` for backward.

        Parameters
        ----------
        Z : ndarray, shape (n_samples, n_units)
        training : bool, default False
            Ignored: an activation computes the same in both modes.

        Returns
        -------
        A : ndarray, shape (n_samples, n_units)
        """
        self.Z = as_float(Z)
        self.A = self._f(self.Z)
        return self.A

    def backward(self, dA, need_dX=True):
        """Return ``dZ = dL/dZ`` given ``dA = dL/dA`` (chapter 6).

        Parameters
        ----------
        dA : ndarray, shape (n_samples, n_units)
        need_dX : bool, default True
            Ignored (the result is cheap).

        Returns
        -------
        dZ : ndarray, shape (n_samples, n_units)
        """
        if self.Z is None:
            raise RuntimeError("Activation: call forward() before backward()")
        return _activation_backward(self.activation, dA, self.Z, self.A)

    def backward_from_z(self, dZ, need_dX=True):
        """``dZ`` is already the gradient of this layer's input: return it."""
        return dZ

    def __repr__(self):
        return f"Activation({self.activation!r})"


class Dropout(Layer):
    """Inverted dropout (taught in chapter 9), like ``keras.layers.Dropout``.

    In training each input is kept with probability ``1 - rate`` and then
    divided by ``1 - rate``, or set to 0; so every output's expected value
    equals its input and, at inference, the layer is the identity::

        A = where(mask, X / (1 - rate), 0),  mask ~ Bernoulli(1 - rate)

    The backward pass uses the same mask: ``dX = where(mask, dA / (1 - rate), 0)``.
    A new mask is drawn for every training pass, unless one is held fixed
    (:meth:`fix_mask`, :meth:`fixed_noise`), as a gradient check needs.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of the inputs to drop in training.
    rng : numpy.random.Generator or int seed, optional
        Source of the masks; the same seed gives the same masks.
    name : str, optional

    Attributes
    ----------
    mask : ndarray of bool, shape (n_samples, n_units), or None
        The keep-mask of the last training pass (True = kept).
    """

    def __init__(self, rate, rng=None, name=None):
        super().__init__(name)
        self.rate = check_number(rate, "rate", 0, 1, closed="left")
        self.rng = as_rng(rng)
        self.mask = None
        self._mask_held = False
        self._dropping = None  # whether the last forward pass dropped (None: no pass yet)

    def forward(self, X, training=False):
        """Drop and rescale in training; return ``X`` unchanged at inference.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_units)
        training : bool, default False

        Returns
        -------
        A : ndarray, shape (n_samples, n_units)
        """
        X = as_float(X)
        self._dropping = bool(training) and self.rate > 0
        if not self._dropping:
            return X
        if not self._mask_held or self.mask is None:
            self.mask = self.rng.random(X.shape) >= self.rate  # keep with probability 1 - rate
        elif self.mask.shape != X.shape:
            raise ValueError(
                f"{self._label()}: the fixed mask has shape {self.mask.shape}, but the input "
                f"has shape {X.shape}; fix a mask of the input's shape, or call release_mask()"
            )
        return np.where(self.mask, X / (1 - self.rate), 0)

    def backward(self, dA, need_dX=True):
        """Return ``dX = dL/dX``: ``dA`` through the mask of the last
        training pass, or ``dA`` itself after an inference pass.

        Parameters
        ----------
        dA : ndarray, shape (n_samples, n_units)
        need_dX : bool, default True
            Ignored.

        Returns
        -------
        dX : ndarray, shape (n_samples, n_units)
        """
        if self._dropping is None:
            raise RuntimeError(f"{self._label()}: call forward() before backward()")
        if not self._dropping:
            return dA
        return np.where(self.mask, dA / (1 - self.rate), 0)

    def fix_mask(self, mask=None):
        """Reuse one mask in every training pass until :meth:`release_mask`.

        Parameters
        ----------
        mask : array_like of bool or 0/1, shape (n_samples, n_units), optional
            The keep-mask to use (True or 1 = kept). Without it the current
            mask is held, or, if there is none yet, the next one drawn.

        Returns
        -------
        Dropout
            The layer itself.
        """
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim != 2 or not np.isin(mask, (0, 1)).all():
                raise ValueError(
                    f"expected mask as a 2-D array of True/False (or 1/0) of shape "
                    f"(n_samples, n_units), got shape {mask.shape} with values "
                    f"{np.unique(mask)[:5]}"
                )
            self.mask = mask.astype(bool)
        self._mask_held = True
        return self

    def release_mask(self):
        """Draw a new mask for every training pass again (the default)."""
        self._mask_held = False

    @contextlib.contextmanager
    def fixed_noise(self):
        """Within the ``with`` block, the first training pass draws a mask
        and later ones reuse it (a mask already held stays as it is)."""
        if self._mask_held:
            yield
            return
        self.mask = None
        self.fix_mask()
        try:
            yield
        finally:
            self.release_mask()

    def __repr__(self):
        return f"Dropout({self.rate:g})"


class BatchNormalization(Layer):
    """Batch normalisation (taught in chapter 9), like
    ``keras.layers.BatchNormalization`` with its defaults.

    Each feature is standardised and then scaled and shifted by the
    trainable ``gamma`` and ``beta``::

        A = gamma * (X - mean) / sqrt(var + epsilon) + beta

    In training, ``mean`` and ``var`` are the batch's own (the biased
    variance, dividing by ``n_samples``), and the moving averages are
    updated with Keras' convention::

        moving_mean     <- momentum * moving_mean + (1 - momentum) * mean
        moving_variance <- momentum * moving_variance + (1 - momentum) * var

    At inference the moving averages are used instead, so a prediction does
    not depend on the other rows of the batch.

    Parameters
    ----------
    n_features : int
        Number of features (columns) to normalise.
    momentum : float in [0, 1], default 0.99
        Weight of the old value in the moving averages.
    epsilon : float > 0, default 1e-3
        Added to the variance before the square root.
    dtype : numpy dtype, default np.float64
    name : str, optional

    Attributes
    ----------
    gamma, beta : ndarray, shape (n_features,)
        Trainable scale (starts at 1) and shift (starts at 0).
    moving_mean, moving_variance : ndarray, shape (n_features,)
        Non-trainable state (start at 0 and 1), see :meth:`state`.
    dgamma, dbeta : ndarray, shape (n_features,)
        Gradients from the last backward pass.
    """

    def __init__(self, n_features, momentum=0.99, epsilon=1e-3, dtype=np.float64, name=None):
        super().__init__(name)
        self.n_in = self.n_out = check_int(n_features, "n_features")
        self.momentum = check_number(momentum, "momentum", 0, 1)
        self.epsilon = check_number(epsilon, "epsilon", 0, closed="neither")
        dtype = _check_dtype(dtype, "BatchNormalization")
        self.gamma = np.ones(self.n_in, dtype=dtype)
        self.beta = np.zeros(self.n_in, dtype=dtype)
        self.moving_mean = np.zeros(self.n_in, dtype=dtype)
        self.moving_variance = np.ones(self.n_in, dtype=dtype)
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.X_hat = self.inv_std = None
        self._training = None  # mode of the last forward pass (None: no pass yet)

    @property
    def dtype(self):
        """The dtype of ``gamma`` (and of everything the layer computes)."""
        return self.gamma.dtype

    def forward(self, X, training=False):
        """Normalise with the batch's statistics (training, also updating the
        moving averages) or with the moving averages (inference).

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_features)
        training : bool, default False

        Returns
        -------
        A : ndarray, shape (n_samples, n_features)
        """
        X = np.asarray(X, dtype=self.dtype)
        check_n_features(X, self.n_in, self._label())
        self._training = bool(training)
        if self._training:
            mean, variance = X.mean(axis=0), X.var(axis=0)
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                moving *= self.momentum
                moving += batch * (1 - self.momentum)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        self.inv_std = 1 / np.sqrt(variance + self.epsilon)
        self.X_hat = (X - mean) * self.inv_std
        return self.gamma * self.X_hat + self.beta

    def backward(self, dA, need_dX=True):
        """Gradients of ``gamma`` and ``beta``, and ``dX``.

        With ``X_hat`` the normalised input and ``g = dA * gamma``:
        ``dgamma = sum(dA * X_hat)`` and ``dbeta = sum(dA)`` over the batch.
        After a training pass the batch mean and variance depend on every
        row, which gives ``dX = (g - mean(g) - X_hat * mean(g * X_hat)) /
        sqrt(var + epsilon)`` (means over the batch); after an inference
        pass the statistics are constants and ``dX = g / sqrt(var + epsilon)``.

        Parameters
        ----------
        dA : ndarray, shape (n_samples, n_features)
        need_dX : bool, default True
            If False, skip computing ``dX`` and return None.

        Returns
        -------
        dX : ndarray, shape (n_samples, n_features), or None
        """
        if self._training is None:
            raise RuntimeError(f"{self._label()}: call forward() before backward()")
        self.dbeta = dA.sum(axis=0)
        self.dgamma = (dA * self.X_hat).sum(axis=0)
        if not need_dX:
            return None
        g = dA * self.gamma
        if self._training:
            g = g - g.mean(axis=0) - self.X_hat * (g * self.X_hat).mean(axis=0)
        return g * self.inv_std

    def params(self):
        """The trainable arrays, ``{"gamma": gamma, "beta": beta}`` (live arrays)."""
        return {"gamma": self.gamma, "beta": self.beta}

    def grads(self):
        """Gradients from the last backward pass, ``{"gamma": dgamma, "beta": dbeta}``."""
        return {"gamma": self.dgamma, "beta": self.dbeta}

    def state(self):
        """The moving statistics, ``{"moving_mean": ..., "moving_variance": ...}``
        (live arrays; not trained, updated by training passes)."""
        return {"moving_mean": self.moving_mean, "moving_variance": self.moving_variance}

    def __repr__(self):
        return (f"BatchNormalization({self.n_in}, momentum={self.momentum:g}, "
                f"epsilon={self.epsilon:g}"
                f"{', dtype=float32' if self.dtype == np.float32 else ''})")
