"""nnlib against Keras 3 (JAX backend) on the same weights: predictions,
losses, activations, optimiser steps and a few whole training steps.

Keras is imported inside the fixtures (after conftest.py has set
KERAS_BACKEND=jax). For float64, JAX's 64-bit mode is switched on for this
module, and Keras' default float type is set to float64 where a test needs
Keras' own data pipeline (predict/evaluate/fit); both are restored afterwards.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import nnlib
from nnlib import activations as act
from nnlib import losses
from nnlib.data import one_hot

os.environ.setdefault("KERAS_BACKEND", "jax")

# Keras' Variable.__array__ predates numpy 2's copy keyword (not our concern).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

# (output activation, nnlib/Keras loss name)
HEADS = [("linear", "mse"), ("sigmoid", "binary_crossentropy"),
         ("softmax", "categorical_crossentropy")]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def twin_models(keras, output, n_out, dtype, seed=0, hidden=(5, 6)):
    """An nnlib MLP and the same network in Keras, with identical weights."""
    name = np.dtype(dtype).name
    sizes = [4, *hidden, n_out]
    ours = nnlib.MLP(sizes, activation="relu", output_activation=output, seed=seed,
                     bias_initializer="normal", dtype=dtype)
    theirs = keras.Sequential(
        [keras.Input(shape=(4,), dtype=name)]
        + [keras.layers.Dense(h, activation="relu", dtype=name) for h in hidden]
        + [keras.layers.Dense(n_out, activation=output, dtype=name)]
    )
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def data_for(loss, n, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(dtype)
    if loss == "categorical_crossentropy":
        y = one_hot(rng.integers(0, k, n), k, dtype=dtype)
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (n, k)).astype(dtype)
    else:
        y = rng.standard_normal((n, k)).astype(dtype)
    return X, y


def loss_tolerance(loss, dtype):
    """Keras 3 averages over the last axis with keras.ops.mean, which works in
    float32 precision even on float64 tensors; so in float64, mse and binary
    cross-entropy (means over the outputs) agree only to ~1e-8, while
    categorical cross-entropy (a sum over the classes) agrees to ~1e-16."""
    if dtype == np.float64 and loss != "categorical_crossentropy":
        return dict(rtol=3e-7, atol=1e-9)
    return TOL[dtype]


@pytest.mark.parametrize("output, loss", HEADS)
def test_same_weights_same_predictions_and_loss(keras, output, loss, dtype):
    k = 1 if output == "sigmoid" else 3
    ours, theirs = twin_models(keras, output, k, dtype)
    X, y = data_for(loss, 16, k, dtype)
    p_keras = np.asarray(theirs(X))
    p_ours = ours.predict(X)
    assert p_ours.dtype == dtype and p_keras.dtype == dtype
    np.testing.assert_allclose(p_ours, p_keras, **TOL[dtype])
    loss_keras = float(np.mean(keras.losses.get(loss)(y, p_keras)))
    ours.compile(loss)
    np.testing.assert_allclose(ours.evaluate(X, y)[0], loss_keras, **loss_tolerance(loss, dtype))
    np.testing.assert_allclose(losses.get_loss(loss)(y, p_keras), loss_keras,
                               **loss_tolerance(loss, dtype))


def test_keras_evaluate_and_predict_pipeline_float64(keras, floatx64):
    ours, theirs = twin_models(keras, "softmax", 3, np.float64, seed=1)
    X, y = data_for("categorical_crossentropy", 20, 3, np.float64, seed=1)
    theirs.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    ours.compile("categorical_crossentropy")
    loss_keras, accuracy_keras = theirs.evaluate(X, y, verbose=0, batch_size=20)
    loss_ours, accuracy_ours = ours.evaluate(X, y)
    np.testing.assert_allclose(loss_ours, loss_keras, rtol=1e-10)
    assert accuracy_ours == pytest.approx(accuracy_keras)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X, verbose=0), rtol=1e-10,
                               atol=1e-14)


def test_keras_evaluate_float32(keras):
    ours, theirs = twin_models(keras, "sigmoid", 1, np.float32, seed=2)
    X, y = data_for("binary_crossentropy", 24, 1, np.float32, seed=2)
    theirs.compile(loss="binary_crossentropy", metrics=["accuracy"])
    ours.compile("binary_crossentropy")
    loss_keras, accuracy_keras = theirs.evaluate(X, y, verbose=0, batch_size=24)
    loss_ours, accuracy_ours = ours.evaluate(X, y)
    np.testing.assert_allclose(loss_ours, loss_keras, rtol=1e-5)
    assert accuracy_ours == pytest.approx(accuracy_keras)


def test_training_steps_match_keras_fit_float64(keras, floatx64):
    # three full-batch Adam steps, no shuffling: the weights must agree
    ours, theirs = twin_models(keras, "softmax", 3, np.float64, seed=3)
    X, y = data_for("categorical_crossentropy", 12, 3, np.float64, seed=3)
    theirs.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                   loss="categorical_crossentropy")
    ours.compile("categorical_crossentropy", nnlib.Adam(learning_rate=0.01))
    h_keras = theirs.fit(X, y, epochs=3, batch_size=12, shuffle=False, verbose=0)
    h_ours = ours.fit(X, y, epochs=3, batch_size=12, shuffle=False, verbose=0)
    for w_ours, w_keras in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w_ours, w_keras, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h_ours.history["loss"], h_keras.history["loss"], rtol=1e-10)


def test_activations_match_keras(keras, dtype):
    z = np.linspace(-8, 8, 24, dtype=dtype).reshape(4, 6)
    for name in ["linear", "sigmoid", "tanh", "relu", "softmax"]:
        ours = act.ACTIVATIONS[name](z)
        theirs = np.asarray(keras.activations.get(name)(z))
        assert ours.dtype == dtype
        tol = TOL[dtype]
        if name == "tanh" and theirs.dtype == np.float32:
            tol = TOL[np.float32]  # Keras 3.15 computes tanh in float32 even for float64 input
        np.testing.assert_allclose(ours, theirs, **tol, err_msg=name)


def test_leaky_relu_matches_keras(keras):
    z = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(act.leaky_relu(z, alpha=0.2),
                               np.asarray(keras.activations.leaky_relu(z, negative_slope=0.2)),
                               rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda keras: (nnlib.Adam(), keras.optimizers.Adam()),
    lambda keras: (nnlib.Adam(0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
                   keras.optimizers.Adam(0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-5)),
    lambda keras: (nnlib.SGD(0.1, momentum=0.9), keras.optimizers.SGD(0.1, momentum=0.9)),
], ids=["adam-defaults", "adam-custom", "sgd-momentum"])
def test_optimizer_steps_match_keras(keras, make, dtype):
    ours, theirs = make(keras)
    rng = np.random.default_rng(0)
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    variables = [keras.Variable(p.copy(), dtype=np.dtype(dtype).name) for p in params.values()]
    for _ in range(3):  # several steps: exercises bias correction and velocities
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        ours.step(params, grads)
        theirs.apply(list(grads.values()), variables)
    for p, v in zip(params.values(), variables):
        assert p.dtype == dtype
        np.testing.assert_allclose(p, np.asarray(v.value), **TOL[dtype])
