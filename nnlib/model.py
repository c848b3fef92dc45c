"""Sequential models: a stack of layers trained with mini-batch gradient
descent (taught in chapter 9; forward pass in chapter 4, backward pass in
chapter 6, the Keras comparison in chapter 10).

The interface mirrors Keras: build a :class:`Sequential` (or use :func:`MLP`),
``compile`` it with a loss and an optimiser, ``fit`` it, then ``evaluate``
and ``predict``. Arrays are named after the layer they belong to, by type and
number (``"W1", "b1", "W2", "b2", ...`` for Dense layers, ``"gamma1"``,
``"moving_mean1"``, ... for batch normalisation), and ``get_weights`` /
``set_weights`` use Keras' order ``[W1, b1, W2, b2, ...]``, so weights can be
copied between nnlib and Keras.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
import warnings
from typing import Callable, NamedTuple

import numpy as np

from . import losses as _losses
from ._validation import (as_float, as_rng, check_2d, check_finite, check_int, check_name,
                          check_n_features, check_not_empty, check_number,
                          check_same_n_samples)
from .layers import Activation, BatchNormalization, Dense, Dropout, Layer
from .optimizers import get_optimizer

__all__ = ["History", "Sequential", "MLP"]

_METRICS = ("accuracy",)

# Below this many multiply-adds per matrix product, fit() runs numpy's BLAS
# single-threaded: splitting a small product over threads costs more than it
# saves, and becomes very slow when other programs compete for the CPU.
_SMALL_MATMUL = 2**24


def _blas_threads_for(n_multiply_adds):
    """A context manager limiting BLAS to one thread for small products
    (a no-op for large ones, or when threadpoolctl is not installed)."""
    if n_multiply_adds >= _SMALL_MATMUL:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class History:
    """What :meth:`Sequential.fit` returns, shaped like Keras' ``History``.

    Attributes
    ----------
    history : dict of str -> list of float
        One value per epoch for ``"loss"`` and, when tracked, ``"accuracy"``,
        ``"val_loss"`` and ``"val_accuracy"``.
    epoch : list of int
        Epoch numbers, counting from 0 (as Keras).
    epoch_times : list of float
        Wall-clock seconds per epoch (training plus validation).
    params : dict
        ``epochs``, ``steps`` (mini-batches per epoch) and ``batch_size``.
    stopped_epoch : int or None
        With early stopping (``fit(..., patience=...)``): the epoch (counting
        from 0) after which training stopped early; ``None`` if it ran all
        its epochs.
    best_epoch : int or None
        With early stopping or ``restore_best_weights``: the epoch with the
        best value of the monitored quantity; ``None`` otherwise.
    """

    def __init__(self, params=None):
        self.history = {}
        self.epoch = []
        self.epoch_times = []
        self.params = dict(params or {})
        self.stopped_epoch = None
        self.best_epoch = None

    def _append(self, epoch, logs, seconds):
        self.epoch.append(epoch)
        self.epoch_times.append(seconds)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items())
        return f"History(epochs={len(self.epoch)}{', ' if last else ''}{last})"


def _accuracy(y, y_pred):
    """Fraction of correct predictions: for one output unit, ``y_pred > 0.5``
    versus ``y > 0.5``; for several, ``argmax`` of ``y_pred`` versus ``argmax``
    of the one-hot ``y`` (Keras' binary and categorical accuracy)."""
    if y_pred.shape[1] == 1:
        return float(np.mean((y_pred > 0.5) == (y > 0.5)))
    return float(np.mean(y_pred.argmax(axis=1) == y.argmax(axis=1)))


class _Progress:
    """Keras-like progress display: ``verbose=1`` keeps one line per epoch,
    rewritten in place with ``\\r`` (at most every 0.1 s); ``verbose=2``
    prints the line once at the end of each epoch; ``verbose=0`` is silent."""

    def __init__(self, verbose, epochs, steps, stream=None):
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.stream = stream if stream is not None else sys.stdout
        self._width = 0

    def _write(self, text, end=""):
        pad = " " * max(0, self._width - len(text))
        self._width = len(text) if not end else 0
        self.stream.write("\r" + text + pad + end)
        self.stream.flush()

    def start_epoch(self, epoch):
        self.epoch, self.t0, self._last = epoch, time.perf_counter(), 0.0

    @staticmethod
    def _logs(logs):
        return "".join(f" - {k}: {v:.4f}" for k, v in logs.items())

    def _line(self, step, logs):
        elapsed = time.perf_counter() - self.t0
        head = f"Epoch {self.epoch + 1}/{self.epochs}"
        per_step = f"{1000 * elapsed / max(step, 1):.1f}ms/step"
        if self.verbose == 2:
            return f"{head} - {elapsed:.2f}s {per_step}{self._logs(logs)}"
        done = int(20 * step / self.steps)
        bar = "=" * done + (">" if done < 20 else "") + "." * max(0, 19 - done)
        return f"{head} {step}/{self.steps} [{bar}] {elapsed:.2f}s {per_step}{self._logs(logs)}"

    def update(self, step, logs_fn):
        if self.verbose != 1:
            return
        now = time.perf_counter()
        if now - self._last >= 0.1:
            self._last = now
            self._write(self._line(step, logs_fn()))

    def end_epoch(self, logs):
        if self.verbose:
            self._write(self._line(self.steps, logs), end="\n")


_MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


class _EarlyStopping:
    """The bookkeeping of early stopping (chapter 9), like Keras' ``EarlyStopping``
    callback: remember the best value of ``monitor`` (lowest for a loss,
    highest for an accuracy), count the epochs since it last improved by more
    than ``min_delta``, and ask to stop once that count reaches ``patience``."""

    def __init__(self, monitor, patience, min_delta, restore_best_weights):
        self.monitor, self.patience = monitor, patience
        self.min_delta, self.restore_best_weights = min_delta, restore_best_weights
        self.sign = 1.0 if monitor.endswith("loss") else -1.0  # minimise losses, maximise the rest
        self.best, self.best_epoch, self.best_weights, self.wait = math.inf, None, None, 0

    def update(self, epoch, logs, model):
        """Record the end of ``epoch``; return True when training should stop."""
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = model.get_weights()
            return False
        self.wait += 1
        return self.patience is not None and self.wait >= self.patience


def _check_early_stopping(patience, restore_best_weights, monitor, min_delta,
                          has_validation, metrics):
    """Validate fit()'s early-stopping arguments; return an _EarlyStopping or None."""
    if patience is not None:
        patience = check_int(patience, "patience")
    if not isinstance(restore_best_weights, (bool, np.bool_)):
        raise ValueError(
            f"expected restore_best_weights to be True or False, got {restore_best_weights!r}"
        )
    if patience is None and not restore_best_weights:
        return None
    monitor = check_name(monitor, _MONITORS, "monitor")
    if monitor.startswith("val_") and not has_validation:
        raise ValueError(
            f"early stopping monitors {monitor!r}, which needs validation data: pass "
            f"validation_data=(X_val, y_val), or monitor='loss'"
        )
    if monitor.endswith("accuracy") and "accuracy" not in metrics:
        raise ValueError(
            f"early stopping monitors {monitor!r}, but the model does not track accuracy: "
            f"compile with metrics=['accuracy'], or monitor a loss"
        )
    min_delta = check_number(min_delta, "min_delta", low=0)
    return _EarlyStopping(monitor, patience, min_delta, bool(restore_best_weights))


class _LossSetup(NamedTuple):
    """A loss as a model uses it: its name, ``loss(y, scores)`` and its
    gradient with respect to ``scores``, which are the model's outputs or,
    if ``from_logits`` (the loss is fused with the output activation), the
    last layer's pre-activation ``Z``."""

    name: str
    loss: Callable
    gradient: Callable
    from_logits: bool


class Sequential:
    """A linear stack of layers (chapters 4, 6 and 9), like ``keras.Sequential``.

    The model knows its layers only through the :class:`~nnlib.layers.Layer`
    protocol (``forward``, ``backward``, ``params``, ``grads``, ``state``),
    so any layer that implements it can be stacked.

    Parameters
    ----------
    layers : list of :class:`~nnlib.layers.Layer`
        In order from input to output, e.g. :class:`~nnlib.layers.Dense`,
        :class:`~nnlib.layers.Activation`, :class:`~nnlib.layers.Dropout`,
        :class:`~nnlib.layers.BatchNormalization`. Consecutive layers must
        fit together (``n_out`` of one equals ``n_in`` of the next) and
        layers with arrays must share a dtype.

    Attributes
    ----------
    layers : list
    loss : str or None
        The loss name given to :meth:`compile`.
    optimizer : Optimizer or None
    metrics : list of str

    Notes
    -----
    Each layer is numbered among the layers of its type (``layer.index``,
    from 1), and its arrays are named after it: ``W1, b1`` for the first
    Dense layer, ``gamma1, beta1`` (trainable) and ``moving_mean1,
    moving_variance1`` (state) for the first BatchNormalization layer.
    """

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential expects a non-empty list of layers, got []")
        for position, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential expects nnlib layers (subclasses of nnlib.layers.Layer, such "
                    f"as Dense or Activation), got {type(layer).__name__} at position {position}"
                )
        self.layers = layers
        self._number_and_check_layers()
        self.loss = None
        self.optimizer = None
        self.metrics = []
        self._loss_setup = None
        self._loss_setups = {}

    def _number_and_check_layers(self):
        """Number each layer among those of its type; check that widths and
        dtypes fit together and that the array names are unique."""
        counts, width, dtype = {}, None, None
        for layer in self.layers:
            kind = type(layer).__name__
            counts[kind] = layer.index = counts.get(kind, 0) + 1
            if layer.n_in is not None and width is not None and layer.n_in != width:
                raise ValueError(
                    f"{layer._label()} expects {layer.n_in} inputs, but the layer before it "
                    f"has {width} outputs; use {layer._built_for(width)}"
                )
            if layer.dtype is not None and dtype is not None and layer.dtype != dtype:
                raise ValueError(
                    f"all layers must share one dtype; {layer._label()} has {layer.dtype}, "
                    f"the earlier ones {dtype}"
                )
            width = width if layer.n_out is None else layer.n_out
            dtype = dtype if layer.dtype is None else layer.dtype
        if width is None:
            raise ValueError("Sequential needs at least one layer with a fixed number of "
                             "inputs, such as Dense(n_in, n_out)")
        names = [f"{key}{layer.index}" for layer in self.layers
                 for key in (*layer.params(), *layer.state())]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"two layers name an array {', '.join(repeated)}; give the layer "
                             f"types different array names")

    # ------------------------------------------------------------------
    # Structure
    # ------------------------------------------------------------------

    @property
    def dtype(self):
        """dtype of the parameters (float64 or float32)."""
        return next(layer.dtype for layer in self.layers if layer.dtype is not None)

    @property
    def n_inputs(self):
        """Number of input features the model expects."""
        return next(layer.n_in for layer in self.layers if layer.n_in is not None)

    @property
    def n_outputs(self):
        """Number of output units."""
        return next(layer.n_out for layer in reversed(self.layers) if layer.n_out is not None)

    @property
    def output_activation(self):
        """Name of the activation applied last (``"linear"`` if the last
        layer has none)."""
        return self.layers[-1].activation or "linear"

    def _named(self, *methods):
        """``{key + index: array}`` over the layers, e.g. ``W1, b1, gamma1``,
        from the dicts that the layer ``methods`` (such as "params") return."""
        return {f"{key}{layer.index}": array for layer in self.layers
                for method in methods for key, array in getattr(layer, method)().items()}

    def params(self):
        """Named trainable arrays ``{"W1": W1, "b1": b1, ...}`` (live arrays)."""
        return self._named("params")

    def grads(self):
        """Gradients from the last backward pass, named like :meth:`params`."""
        return self._named("grads")

    def state(self):
        """Named non-trainable arrays, e.g. ``{"moving_mean1": ..., ...}``
        (live arrays; ``{}`` for a model without such layers)."""
        return self._named("state")

    def _weights(self):
        """Every array in Keras' order: layer by layer, trainable then state."""
        return self._named("params", "state")

    def get_weights(self):
        """Copies of all arrays in Keras order, layer by layer, trainable
        before non-trainable: ``[W1, b1, W2, b2, ...]``, or with batch
        normalisation ``[W1, b1, gamma1, beta1, moving_mean1,
        moving_variance1, W2, b2]``, as ``keras_model.get_weights()``."""
        return [array.copy() for array in self._weights().values()]

    def set_weights(self, weights):
        """Overwrite all arrays (in place) from a list in the order of
        :meth:`get_weights`, e.g. from ``keras_model.get_weights()``."""
        targets = self._weights()
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(
                f"set_weights expects {len(targets)} arrays ({', '.join(targets)}), "
                f"got {len(weights)}"
            )
        for (name, target), w in zip(targets.items(), weights):
            w = np.asarray(w)
            if w.shape != target.shape:
                raise ValueError(
                    f"set_weights: {name} must have shape {target.shape}, got {w.shape}")
            target[...] = w

    def count_params(self):
        """Number of numbers in all arrays, trainable or not (as Keras)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print one row per layer (output shape, parameter count), like Keras."""
        rows, width = [], self.n_inputs
        for layer in self.layers:
            width = width if layer.n_out is None else layer.n_out
            activation = f" ({layer.activation})" if layer.activation else ""
            label = f"{type(layer).__name__} {layer.index}{activation}"
            rows.append((label, f"(None, {width})", layer.count_params()))
        lines = [f"{'Layer':<32}{'Output shape':<16}{'Params':>8}", "-" * 56]
        lines += [f"{a:<32}{b:<16}{c:>8}" for a, b, c in rows]
        lines += ["-" * 56, f"Total params: {self.count_params()}"]
        n_state = sum(array.size for array in self.state().values())
        if n_state:
            lines += [f"Trainable params: {self.count_params() - n_state}",
                      f"Non-trainable params: {n_state}"]
        print_fn("\n".join(lines))

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"

    # ------------------------------------------------------------------
    # Forward and backward
    # ------------------------------------------------------------------

    def forward(self, X, training=False):
        """Run ``X`` through every layer in turn (chapter 4).

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_inputs)
        training : bool, default False
            True in a training step (dropout drops, batch normalisation uses
            and updates batch statistics), False for inference.

        Returns
        -------
        ndarray, shape (n_samples, n_outputs)
        """
        A = X
        for layer in self.layers:
            A = layer.forward(A, training=training)
        return A

    def backward(self, grad_out):
        """Backpropagate ``grad_out = dL/dA`` of the output through every layer,
        last to first (chapter 6). Each layer stores the gradients of its
        parameters; see :meth:`grads`.

        Parameters
        ----------
        grad_out : ndarray, shape (n_samples, n_outputs)

        Returns
        -------
        ndarray, shape (n_samples, n_inputs)
            ``dL/dX``, the gradient with respect to the input.
        """
        grad = grad_out
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def _backprop(self, grad, fused):
        """Backpropagate from the output for training: ``grad`` is dL/dA of
        the output, or, when ``fused``, dL/dZ of the last layer's
        pre-activation. The first layer skips computing dL/dX, which
        training never needs."""
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            layer = self.layers[i]
            step = layer.backward_from_z if fused and i == last else layer.backward
            grad = step(grad, need_dX=i > 0)

    @contextlib.contextmanager
    def fixed_noise(self):
        """A context manager within which every layer's randomness (dropout
        masks) is drawn once and then reused, so that repeated training
        passes compute the same function; gradient checks use it."""
        with contextlib.ExitStack() as stack:
            for layer in self.layers:
                stack.enter_context(layer.fixed_noise())
            yield

    # ------------------------------------------------------------------
    # Loss
    # ------------------------------------------------------------------

    def compile(self, loss, optimizer=None, metrics=("accuracy",)):
        """Choose the loss, the optimiser and the metrics (chapter 9).

        Parameters
        ----------
        loss : str
            ``"mse"``, ``"half_mse"``, ``"binary_crossentropy"`` or
            ``"categorical_crossentropy"`` (long forms such as
            ``"mean_squared_error"`` are accepted).
        optimizer : str or Optimizer, optional
            ``"sgd"``, ``"adam"``, ``"adamw"`` or an instance such as
            ``Adam(1e-3)``. Needed by :meth:`fit`, not by :meth:`evaluate`
            or the gradient checks.
        metrics : sequence of str, default ("accuracy",)
            ``"accuracy"`` or nothing (``[]``).

        Returns
        -------
        Sequential
            The model itself.

        Warns
        -----
        UserWarning
            When a cross-entropy, which needs probabilities, is paired with
            an output that does not produce them (e.g. binary cross-entropy
            after a linear output): the loss is then flat wherever the
            output leaves [1e-7, 1 - 1e-7], and training stalls there.

        Notes
        -----
        Sigmoid output + binary cross-entropy and softmax output + categorical
        cross-entropy are *fused*: the loss is computed from the output
        layer's pre-activation ``Z`` (the logits) with
        :func:`~nnlib.losses.binary_cross_entropy_from_logits` or
        :func:`~nnlib.losses.softmax_cross_entropy`, and backpropagation
        starts from its gradient ``dL/dZ = (p - y) / n``, rather than
        multiplying ``dL/dp`` by the activation's derivative. Both ways give
        the same loss and gradient as long as no probability is clipped to
        [1e-7, 1 - 1e-7]; beyond that, the fused loss keeps growing as the
        logit gets more wrong (the clipped one would stop at 16.1) and the
        gradient is its exact derivative, so a confidently wrong prediction
        still gets pushed back.
        """
        self._loss_setup = self._setup(loss)
        self.loss = self._loss_setup.name
        self.optimizer = None if optimizer is None else get_optimizer(optimizer)
        if isinstance(metrics, str):
            metrics = [metrics]
        self.metrics = [
            "accuracy" if m == "acc" else check_name(m, _METRICS, "metric")
            for m in (metrics or [])
        ]
        return self

    def _setup(self, loss):
        """The _LossSetup for ``loss`` (a name), or the compiled one for None.
        Built once per loss name, warning then if the output activation does
        not produce what the loss expects."""
        if loss is None:
            if self._loss_setup is None:
                raise RuntimeError(
                    "this model has no loss yet: call model.compile(loss=..., "
                    "optimizer=...) first (or pass loss=...)"
                )
            return self._loss_setup
        name = _losses._canonical(loss)
        if name not in self._loss_setups:
            output = self.output_activation
            problem = _losses.output_problem(name, output)
            if problem:
                warnings.warn(problem, UserWarning, stacklevel=3)
            fused = _losses.FROM_LOGITS.get((name, output))
            self._loss_setups[name] = (
                _LossSetup(name, *fused, from_logits=True) if fused else
                _LossSetup(name, _losses.LOSSES[name], _losses.LOSS_GRADIENTS[name], False))
        return self._loss_setups[name]

    def regularization_loss(self):
        """Sum of the layers' penalties, such as Dense's L2 (0.0 without)."""
        return sum(layer.regularization_loss() for layer in self.layers)

    def _loss(self, X, y, setup, training):
        """Forward pass and loss: (loss, y_pred, scores), where ``scores`` is
        what the loss was computed from (the output, or the logits)."""
        y_pred = self.forward(X, training=training)
        scores = self.layers[-1].Z if setup.from_logits else y_pred
        return setup.loss(y, scores) + self.regularization_loss(), y_pred, scores

    def _loss_and_backward(self, X, y, setup, training):
        """Forward, loss and backward on one batch (no input checks)."""
        loss, y_pred, scores = self._loss(X, y, setup, training)
        if setup.from_logits:  # fused: dL/dZ = (p - y) / n of the output layer, p = y_pred
            grad = setup.gradient(y, scores, p=y_pred)
        else:
            grad = setup.gradient(y, y_pred)
        self._backprop(grad, fused=setup.from_logits)
        return loss, y_pred

    def compute_loss(self, X, y, loss=None, training=False):
        """The loss (plus any L2 penalty) on ``(X, y)``, as a float.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        y : array_like, shape (n_samples, n_outputs) or (n_samples,) for one output
        loss : str, optional
            Overrides the compiled loss.
        training : bool, default False
            Compute it as a training step would (dropout on, batch
            statistics; this also updates batch normalisation's moving
            averages) instead of as inference.
        """
        setup = self._setup(loss)
        X, y = self._check_data(X, y)
        return self._loss(X, y, setup, training)[0]

    def loss_and_grads(self, X, y, loss=None, training=True):
        """Loss and gradients of every parameter on ``(X, y)`` (chapter 6).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        y : array_like, shape (n_samples, n_outputs) or (n_samples,) for one output
        loss : str, optional
            Overrides the compiled loss.
        training : bool, default True
            As in a training step (the default), or as inference.

        Returns
        -------
        loss : float
        grads : dict of str -> ndarray
            ``{"W1": dL/dW1, "b1": dL/db1, ...}``, shaped like :meth:`params`
            (the live gradient arrays: copy them to keep them).
        """
        setup = self._setup(loss)
        X, y = self._check_data(X, y)
        loss_value, _ = self._loss_and_backward(X, y, setup, training)
        return loss_value, self.grads()

    # ------------------------------------------------------------------
    # Input checks (at the public entry points only, never per batch)
    # ------------------------------------------------------------------

    def _check_X(self, X, name="X"):
        X = check_2d(X, name, f"(n_samples, {self.n_inputs})")
        check_n_features(X, self.n_inputs, "this model", name)
        check_not_empty(X, name)
        check_finite(X, name)
        return np.asarray(X, dtype=self.dtype)

    def _check_y(self, y, name="y"):
        y = as_float(y)
        k = self.n_outputs
        if y.ndim == 1 and k == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != k:
            hint = ""
            if y.ndim == 1:
                hint = (f"; if {name} holds class labels, one-hot encode it with "
                        f"nnlib.data.one_hot({name}, {k})")
            raise ValueError(
                f"this model has {k} output unit(s), so {name} must have shape "
                f"(n_samples, {k}), got shape {y.shape}{hint}"
            )
        check_finite(y, name)
        return np.asarray(y, dtype=self.dtype)

    def _check_data(self, X, y, names=("X", "y")):
        X, y = self._check_X(X, names[0]), self._check_y(y, names[1])
        check_same_n_samples(X, y, *names)
        return X, y

    # ------------------------------------------------------------------
    # Keras-style training interface
    # ------------------------------------------------------------------

    def predict(self, X):
        """Model output for each row of ``X``, in inference mode (chapter 4).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)

        Returns
        -------
        ndarray, shape (n_samples, n_outputs), dtype of the model
        """
        return self.forward(self._check_X(X), training=False)

    def _evaluate_arrays(self, X, y, setup):
        loss, y_pred, _ = self._loss(X, y, setup, training=False)
        accuracy = _accuracy(y, y_pred) if "accuracy" in self.metrics else None
        return loss, accuracy

    def evaluate(self, X, y):
        """Loss (including any L2 penalty) and accuracy on ``(X, y)``, in
        inference mode.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        y : array_like, shape (n_samples, n_outputs) or (n_samples,) for one output

        Returns
        -------
        (loss, accuracy) : tuple of float
            When compiled with ``metrics=["accuracy"]`` (the default);
            otherwise just the loss, as Keras does.
        """
        setup = self._setup(None)
        X, y = self._check_data(X, y)
        loss, accuracy = self._evaluate_arrays(X, y, setup)
        return loss if accuracy is None else (loss, accuracy)

    def fit(self, X, y, epochs=1, batch_size=32, validation_data=None, shuffle=True,
            seed=None, verbose=1, patience=None, restore_best_weights=False,
            monitor="val_loss", min_delta=0.0):
        """Train with mini-batch gradient descent (taught in chapter 9).

        Each epoch shuffles the training rows (if ``shuffle``), cuts them into
        mini-batches of ``batch_size`` rows and, for each batch, runs forward
        (in training mode), loss, backward and one optimiser step.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        y : array_like, shape (n_samples, n_outputs) or (n_samples,) for one output
            One-hot rows for a softmax output.
        epochs : int, default 1
            Passes over the training data.
        batch_size : int, default 32
            Rows per mini-batch (the last batch may be smaller).
            ``batch_size >= n_samples`` is full-batch gradient descent.
        validation_data : tuple (X_val, y_val), optional
            Evaluated in inference mode at the end of each epoch
            (``val_loss``, ``val_accuracy``).
        shuffle : bool, default True
        seed : int or numpy.random.Generator, optional
            Seed for the shuffling. The same seed and the same initial weights
            give exactly the same training run. ``None``: differs per run.
        verbose : {0, 1, 2}, default 1
            0 silent; 1 one progress line per epoch, updated in place;
            2 one line per epoch, printed when the epoch ends.
        patience : int, optional
            Early stopping (chapter 9), as Keras' ``EarlyStopping`` callback:
            stop when ``monitor`` has not improved for ``patience`` epochs in
            a row. ``None`` (default): always run all ``epochs``.
        restore_best_weights : bool, default False
            At the end of training, put back the weights of the epoch with
            the best ``monitor`` value (otherwise the model keeps the weights
            of the last epoch run). Works with or without ``patience``.
        monitor : {"val_loss", "val_accuracy", "loss", "accuracy"}, default "val_loss"
            What early stopping watches; losses must fall, accuracies rise.
            ``val_*`` needs ``validation_data``.
        min_delta : float, default 0.0
            An epoch counts as an improvement only if it beats the best value
            so far by more than ``min_delta``.

        Returns
        -------
        History
            ``history.history["loss"]`` etc.: one value per epoch. The
            training loss/accuracy of an epoch is the average over its
            batches (as in Keras), measured while the weights change.
            With early stopping, ``history.stopped_epoch`` is the epoch
            (from 0) after which training stopped, or ``None``, and
            ``history.best_epoch`` the epoch with the best ``monitor`` value.

        Notes
        -----
        For small networks (matrix products under about 16 million
        multiply-adds per batch) the loop runs numpy's BLAS on one thread
        (through threadpoolctl, installed with scikit-learn): threads do not
        pay off for small products and slow down badly when other programs
        share the CPU. Results are the same either way.
        """
        setup = self._setup(None)
        if self.optimizer is None:
            raise RuntimeError(
                "fit needs an optimizer: call model.compile(loss=..., optimizer='adam') "
                "(or 'sgd', or an instance such as nnlib.Adam(learning_rate=1e-3))"
            )
        X, y = self._check_data(X, y)
        epochs = check_int(epochs, "epochs", low=0)
        batch_size = check_int(batch_size, "batch_size")
        if verbose not in (0, 1, 2):
            raise ValueError(f"expected verbose to be 0, 1 or 2, got {verbose!r}")
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("expected validation_data as a tuple (X_val, y_val)")
            validation = self._check_data(*validation_data, names=("X_val", "y_val"))
        early = _check_early_stopping(patience, restore_best_weights, monitor, min_delta,
                                      validation is not None, self.metrics)

        steps = math.ceil(len(X) / batch_size)
        history = History({"epochs": epochs, "steps": steps, "batch_size": batch_size})
        largest = min(batch_size, len(X)) * max(p.size for p in self.params().values())
        with _blas_threads_for(largest):
            self._fit_epochs(X, y, epochs, batch_size, validation, shuffle, as_rng(seed), setup,
                             history, _Progress(verbose, epochs, steps), early)
        if early is not None:
            history.best_epoch = early.best_epoch
            if early.restore_best_weights and early.best_weights is not None:
                self.set_weights(early.best_weights)
        return history

    def _fit_epochs(self, X, y, epochs, batch_size, validation, shuffle, rng, setup,
                    history, progress, early=None):
        """The training loop of :meth:`fit` (inputs already checked)."""
        n = len(X)
        steps = history.params["steps"]
        track_accuracy = "accuracy" in self.metrics
        for epoch in range(epochs):
            progress.start_epoch(epoch)
            t0 = time.perf_counter()
            if shuffle:
                order = rng.permutation(n)
                X_epoch, y_epoch = X[order], y[order]  # one copy per epoch; batches are views
            else:
                X_epoch, y_epoch = X, y
            loss_sum = correct_sum = 0.0
            seen = 0
            for step in range(steps):
                X_batch = X_epoch[step * batch_size:(step + 1) * batch_size]
                y_batch = y_epoch[step * batch_size:(step + 1) * batch_size]
                loss, y_pred = self._loss_and_backward(X_batch, y_batch, setup, training=True)
                self.optimizer.step(self.params(), self.grads())
                m = len(X_batch)
                seen += m
                loss_sum += loss * m
                if track_accuracy:
                    correct_sum += _accuracy(y_batch, y_pred) * m
                progress.update(step + 1, lambda: self._logs(loss_sum, correct_sum, seen))
            logs = self._logs(loss_sum, correct_sum, seen)
            if validation is not None:
                val_loss, val_accuracy = self._evaluate_arrays(*validation, setup)
                logs["val_loss"] = val_loss
                if track_accuracy:
                    logs["val_accuracy"] = val_accuracy
            history._append(epoch, logs, time.perf_counter() - t0)
            progress.end_epoch(logs)
            if early is not None and early.update(epoch, logs, self):
                history.stopped_epoch = epoch
                break

    def _logs(self, loss_sum, correct_sum, seen):
        logs = {"loss": loss_sum / seen}
        if "accuracy" in self.metrics:
            logs["accuracy"] = correct_sum / seen
        return logs


def MLP(sizes, activation="relu", output_activation="auto", seed=0,
        kernel_initializer="glorot_uniform", bias_initializer="zeros",
        dtype=np.float64, l2=0.0, dropout=0.0, batch_norm=False):
    """Build a multi-layer perceptron: Dense layers of the given sizes
    (chapters 4 and 9).

    ``MLP([2, 4, 1], activation="sigmoid")`` is the 2-4-1 XOR network;
    ``MLP([64, 128, 10])`` is a digits classifier.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_inputs, hidden_1, ..., n_outputs]``, at least two numbers.
    activation : str, default "relu"
        Activation of every hidden layer.
    output_activation : str, default "auto"
        Activation of the output layer; ``"auto"`` means ``"sigmoid"`` for
        one output unit and ``"softmax"`` for several (use ``"linear"`` for
        regression).
    seed : int or numpy.random.Generator, default 0
        Seed for the initial weights and the dropout masks: the same seed
        gives the same network.
    kernel_initializer, bias_initializer : str
        See :mod:`nnlib.initializers`.
    dtype : numpy dtype, default np.float64
    l2 : float, default 0.0
        L2 penalty on every weight matrix (see :class:`~nnlib.layers.Dense`).
    dropout : float in [0, 1), default 0.0
        If positive, a :class:`~nnlib.layers.Dropout` layer with this rate
        follows every hidden layer.
    batch_norm : bool, default False
        If True, every hidden layer is ``Dense`` (linear) followed by
        :class:`~nnlib.layers.BatchNormalization` and then the activation,
        the placement of Ioffe and Szegedy (2015).

    Returns
    -------
    Sequential
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"MLP expects sizes [n_inputs, ..., n_outputs] with at least two numbers, got {sizes}"
        )
    dropout = check_number(dropout, "dropout", 0, 1, closed="left")
    if not isinstance(batch_norm, (bool, np.bool_)):
        raise ValueError(f"expected batch_norm to be True or False, got {batch_norm!r}")
    if output_activation == "auto":
        output_activation = "sigmoid" if sizes[-1] == 1 else "softmax"
    rng = as_rng(seed)
    options = dict(kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                   rng=rng, dtype=dtype, l2=l2)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):  # hidden layers
        if batch_norm:
            layers += [Dense(n_in, n_out, **options), BatchNormalization(n_out, dtype=dtype),
                       Activation(activation)]
        else:
            layers.append(Dense(n_in, n_out, activation=activation, **options))
        if dropout:
            # spawn: an independent stream that leaves the weights' stream as it is
            layers.append(Dropout(dropout, rng=rng.spawn(1)[0]))
    layers.append(Dense(sizes[-2], sizes[-1], activation=output_activation, **options))
    return Sequential(layers)
