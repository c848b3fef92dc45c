"""Dropout, BatchNormalization, AdamW and weight decay against Keras 3 (JAX
backend) on the same weights: forward passes in both modes, the moving
statistics, optimiser steps and whole training steps.

Each comparison prints its largest absolute difference (``pytest -s``).
Dropout's random masks cannot be drawn alike, so Keras' mask is read off
and held fixed in nnlib (``Dropout.fix_mask``).
"""
from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib.data import one_hot
from nnlib.layers import Activation, BatchNormalization, Dense, Dropout
from nnlib.model import Sequential

# Keras' Variable.__array__ predates numpy 2's copy keyword (not our concern).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
# Keras 3.15 computes BatchNormalization in float32 even for float64 inputs (its
# backend.result_type(float64, "float32") is float32), so there the two agree to float32
# precision only, whatever the dtype.
BN_TOL = TOL[np.float32]


def assert_close(what, ours, theirs, **tol):
    """assert_allclose over lists of arrays, printing the largest absolute difference."""
    ours, theirs = [np.asarray(a) for a in ours], [np.asarray(b) for b in theirs]
    assert len(ours) == len(theirs)
    largest = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    print(f"\n{what}: max abs difference {largest:.1e}")
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **tol, err_msg=what)


def random_batchnorm(rng, n, dtype, momentum=0.99, epsilon=1e-3):
    """An nnlib BatchNormalization with random gamma, beta and moving statistics."""
    layer = BatchNormalization(n, momentum=momentum, epsilon=epsilon, dtype=dtype)
    layer.set = [rng.uniform(0.5, 2, n), rng.standard_normal(n), rng.standard_normal(n),
                 rng.uniform(0.5, 2, n)]
    for target, value in zip((layer.gamma, layer.beta, layer.moving_mean,
                              layer.moving_variance), layer.set):
        target[...] = value
    return layer


@pytest.mark.parametrize("momentum, epsilon", [(0.99, 1e-3), (0.8, 0.05)])
def test_batchnorm_layer_matches_keras(keras, dtype, momentum, epsilon):
    rng = np.random.default_rng(0)
    ours = random_batchnorm(rng, 4, dtype, momentum, epsilon)
    theirs = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon,
                                             dtype=np.dtype(dtype).name)
    theirs.build((None, 4))
    theirs.set_weights(ours.set)
    X = (3 * rng.standard_normal((8, 4)) + 2).astype(dtype)
    name = f"BatchNormalization {np.dtype(dtype).name} momentum={momentum}"
    assert_close(f"{name}, inference", [ours.forward(X)], [theirs(X, training=False)],
                 **BN_TOL)
    for step in (1, 2):  # each training pass updates the moving statistics
        assert_close(f"{name}, training pass {step}", [ours.forward(X, training=True)],
                     [theirs(X, training=True)], **BN_TOL)
        assert_close(f"{name}, moving statistics after pass {step}",
                     ours.state().values(), [theirs.moving_mean, theirs.moving_variance],
                     **BN_TOL)
    assert_close(f"{name}, inference after training", [ours.forward(X)],
                 [theirs(X, training=False)], **BN_TOL)


def batchnorm_twins(keras, seed=0):
    ours = Sequential([Dense(4, 6, bias_initializer="normal", rng=seed), BatchNormalization(6),
                       Activation("relu"), Dense(6, 3, activation="softmax", rng=seed + 1)])
    f64 = dict(dtype="float64")  # explicit: Keras' default dtype policy may lag behind floatx
    theirs = keras.Sequential([keras.Input(shape=(4,), **f64), keras.layers.Dense(6, **f64),
                               keras.layers.BatchNormalization(**f64),
                               keras.layers.Activation("relu", **f64),
                               keras.layers.Dense(3, activation="softmax", **f64)])
    rng = np.random.default_rng(seed)
    ours.layers[1].gamma[...] = rng.uniform(0.5, 2, 6)
    ours.layers[1].moving_variance[...] = rng.uniform(0.5, 2, 6)
    theirs.set_weights(ours.get_weights())  # Keras' order: W1 b1 gamma beta mean var W2 b2
    return ours, theirs


@pytest.mark.parametrize("batch_size", [12, 4])
def test_batchnorm_training_steps_match_keras_fit(keras, floatx64, batch_size):
    # SGD with momentum: Adam would turn the rounding noise in the gradient of b1 (exactly
    # 0 in exact arithmetic: batch normalisation removes any shift) into steps of size lr
    ours, theirs = batchnorm_twins(keras)
    rng = np.random.default_rng(1)
    X, y = 2 * rng.standard_normal((12, 4)) + 1, one_hot(rng.integers(0, 3, 12), 3)
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                   loss="categorical_crossentropy")
    ours.compile("categorical_crossentropy", nnlib.SGD(learning_rate=0.1, momentum=0.9))
    h_keras = theirs.fit(X, y, epochs=3, batch_size=batch_size, shuffle=False, verbose=0)
    h_ours = ours.fit(X, y, epochs=3, batch_size=batch_size, shuffle=False, verbose=0)
    what = f"BatchNormalization in a model, 3 epochs of batch {batch_size}"
    assert_close(f"{what}: all weights (moving statistics included)", ours.get_weights(),
                 theirs.get_weights(), **BN_TOL)
    assert_close(f"{what}: training losses", [h_ours.history["loss"]],
                 [h_keras.history["loss"]], **BN_TOL)
    assert_close(f"{what}: predictions (inference)", [ours.predict(X)],
                 [theirs.predict(X, verbose=0)], **BN_TOL)


def test_dropout_layer_matches_keras(keras, dtype):
    X = np.random.default_rng(2).uniform(0.5, 1.5, (6, 5)).astype(dtype)
    theirs = keras.layers.Dropout(0.4, seed=3, dtype=np.dtype(dtype).name)
    ours = Dropout(0.4)
    assert_close(f"Dropout {np.dtype(dtype).name}, inference", [ours.forward(X)],
                 [theirs(X, training=False)], rtol=0, atol=0)
    from_keras = np.asarray(theirs(X, training=True))
    mask = from_keras != 0  # X > 0: every zero was dropped
    assert 0 < mask.sum() < mask.size
    ours.fix_mask(mask)
    assert_close(f"Dropout {np.dtype(dtype).name}, training (Keras' mask)",
                 [ours.forward(X, training=True)], [from_keras], **TOL[dtype])


def test_dropout_training_step_matches_keras(keras, floatx64):
    n = 10
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((n, 4)), one_hot(rng.integers(0, 3, n), 3)
    ours = Sequential([Dense(4, 6, activation="relu", bias_initializer="normal", rng=0),
                       Dropout(0.5), Dense(6, 3, activation="softmax", rng=1)])
    f64 = dict(dtype="float64")
    dropout = keras.layers.Dropout(0.5, seed=5, **f64)
    theirs = keras.Sequential([keras.Input(shape=(4,), **f64),
                               keras.layers.Dense(6, activation="relu", **f64), dropout,
                               keras.layers.Dense(3, activation="softmax", **f64)])
    theirs.set_weights(ours.get_weights())
    # the mask Keras will draw in its training step: draw it once, then rewind the seed
    state = dropout.seed_generator.state
    saved = np.asarray(state.value).copy()
    mask = np.asarray(dropout(np.ones((n, 6)), training=True)) != 0
    state.assign(saved)
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                   loss="categorical_crossentropy")
    h_keras = theirs.fit(X, y, epochs=1, batch_size=n, shuffle=False, verbose=0)
    ours.layers[1].fix_mask(mask)
    ours.compile("categorical_crossentropy", nnlib.SGD(learning_rate=0.5))
    h_ours = ours.fit(X, y, epochs=1, batch_size=n, shuffle=False, verbose=0)
    assert_close("Dropout in a model, one SGD step with Keras' mask: weights",
                 ours.get_weights(), theirs.get_weights(), rtol=1e-10, atol=1e-12)
    assert_close("Dropout in a model, one SGD step: training loss", [h_ours.history["loss"]],
                 [h_keras.history["loss"]], rtol=1e-10)
    assert_close("Dropout in a model: predictions (inference)", [ours.predict(X)],
                 [theirs.predict(X, verbose=0)], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make, exclude", [
    (lambda keras: (nnlib.AdamW(), keras.optimizers.AdamW()), False),
    (lambda keras: (nnlib.AdamW(0.05, weight_decay=0.1, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
                    keras.optimizers.AdamW(0.05, weight_decay=0.1, beta_1=0.8, beta_2=0.99,
                                           epsilon=1e-5)), False),
    (lambda keras: (nnlib.AdamW(0.05, weight_decay=0.1),
                    keras.optimizers.AdamW(0.05, weight_decay=0.1)), True),
    (lambda keras: (nnlib.SGD(0.1, momentum=0.9, weight_decay=0.05),
                    keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.05)), False),
], ids=["adamw-defaults", "adamw-custom", "adamw-biases-excluded", "sgd-weight-decay"])
def test_weight_decay_steps_match_keras(keras, dtype, make, exclude):
    ours, theirs = make(keras)
    if exclude:
        ours.exclude_from_weight_decay(["b"])
        theirs.exclude_from_weight_decay(var_names=["bias"])
    rng = np.random.default_rng(0)
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    variables = [keras.Variable(p.copy(), dtype=np.dtype(dtype).name,
                                name="kernel" if k.startswith("W") else "bias")
                 for k, p in params.items()]
    for _ in range(3):
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        ours.step(params, grads)
        theirs.apply(list(grads.values()), variables)
    assert_close(f"{ours!r} {np.dtype(dtype).name}, 3 steps", params.values(),
                 [v.value for v in variables], **BN_TOL)
