"""Dense and Activation layers, and the initialisers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib import initializers as init
from nnlib.gradcheck import check_gradients, relative_error
from nnlib.layers import Activation, Dense, dense_backward, dense_forward

ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]
SHAPES = [(1, 1, 1), (3, 4, 2), (8, 5, 3), (2, 7, 6)]  # (n_samples, n_in, n_out)
SEEDS = [0, 1, 2]


def test_dense_forward_by_hand():
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    W = np.array([[0.5, -1.0], [2.0, 0.25]])
    b = np.array([0.1, -0.2])
    # row 1: [1*0.5 + 2*2 + 0.1, 1*(-1) + 2*0.25 - 0.2] = [4.6, -0.7]
    # row 2: [3*0.5 - 1*2 + 0.1, 3*(-1) - 1*0.25 - 0.2] = [-0.4, -3.45]
    np.testing.assert_allclose(dense_forward(X, W, b), [[4.6, -0.7], [-0.4, -3.45]])
    layer = Dense(2, 2, activation="relu")
    layer.W[...], layer.b[...] = W, b
    np.testing.assert_allclose(layer.forward(X), [[4.6, 0.0], [0.0, 0.0]])


def test_dense_backward_by_hand():
    X = np.array([[1.0, 2.0]])
    W = np.array([[3.0], [4.0]])
    dZ = np.array([[0.5]])
    dX, dW, db = dense_backward(dZ, X, W)
    np.testing.assert_allclose(dW, [[0.5], [1.0]])  # x_i * dz
    np.testing.assert_allclose(db, [0.5])
    np.testing.assert_allclose(dX, [[1.5, 2.0]])  # w_i * dz


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_dense_gradients_match_central_differences(activation, shape, seed):
    n, n_in, n_out = shape
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, activation=activation, bias_initializer="normal", rng=rng)
    X = rng.standard_normal((n, n_in))
    report = check_gradients(layer, X, seed=seed)
    assert [row.name for row in report.rows] == ["dW", "db", "dX"]
    assert report.ok, str(report)
    assert report.max_error < 1e-7


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_l2_gradient(seed):
    rng = np.random.default_rng(seed)
    layer = Dense(4, 3, activation="tanh", l2=0.1, rng=rng)
    X = rng.standard_normal((5, 4))
    assert layer.regularization_loss() == pytest.approx(0.1 * np.sum(layer.W**2))
    assert check_gradients(layer, X).max_error < 1e-7


@pytest.mark.parametrize("name", ["sigmoid", "relu", "softmax", "tanh"])
def test_activation_layer_gradients(name):
    rng = np.random.default_rng(0)
    Z = rng.uniform(0.2, 2, (4, 3)) * rng.choice([-1, 1], (4, 3))
    report = check_gradients(Activation(name), Z)
    assert [row.name for row in report.rows] == ["dX"]
    assert report.max_error < 1e-7


def test_forward_caches_what_backward_needs():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, activation="sigmoid", rng=rng)
    X = rng.standard_normal((4, 3))
    A = layer.forward(X)
    assert layer.X is X
    np.testing.assert_allclose(layer.Z, X @ layer.W + layer.b)
    assert layer.A is A
    dA = rng.standard_normal((4, 2))
    dX = layer.backward(dA)
    dZ = dA * A * (1 - A)  # sigmoid'(z) = a (1 - a)
    np.testing.assert_allclose(layer.dW, X.T @ dZ)
    np.testing.assert_allclose(layer.db, dZ.sum(axis=0))
    np.testing.assert_allclose(dX, dZ @ layer.W.T)
    assert layer.params()["W"] is layer.W and layer.grads()["W"] is layer.dW
    assert layer.count_params() == 3 * 2 + 2


def test_float32_layer_stays_float32():
    layer = Dense(3, 4, activation="relu", rng=0, dtype=np.float32)
    X = np.ones((5, 3))  # float64 input is cast to the layer's dtype
    A = layer.forward(X)
    assert layer.W.dtype == np.float32 and A.dtype == np.float32
    layer.backward(np.ones((5, 4), dtype=np.float32))
    assert layer.dW.dtype == np.float32 and layer.db.dtype == np.float32


def test_wrong_input_shape_names_layer_expected_and_given():
    layer = Dense(4, 2)
    layer.index = 2
    with pytest.raises(ValueError) as info:
        layer.forward(np.zeros((3, 5)))
    assert str(info.value) == ("Dense layer 2 expects X with 4 features "
                               "(shape (n_samples, 4)), got shape (3, 5)")
    with pytest.raises(ValueError, match=r"got shape \(4,\)"):
        Dense(4, 2).forward(np.zeros(4))
    with pytest.raises(RuntimeError, match="forward"):
        Dense(4, 2).backward(np.zeros((1, 2)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_in to be a positive integer, got 0"):
        Dense(0, 3)
    with pytest.raises(ValueError, match="did you mean 'relu'"):
        Dense(2, 3, activation="rellu")
    with pytest.raises(ValueError, match="did you mean 'he_normal'"):
        Dense(2, 3, kernel_initializer="he_norml")
    with pytest.raises(ValueError, match="float32 or float64"):
        Dense(2, 3, dtype=np.int32)


# --------------------------------------------------------------------------
# Initialisers
# --------------------------------------------------------------------------

def test_uniform_initializers_respect_their_limits():
    rng = np.random.default_rng(0)
    W = init.glorot_uniform((300, 200), rng)
    limit = math.sqrt(6 / 500)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
    W = init.he_uniform((300, 200), rng)
    limit = math.sqrt(6 / 300)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", math.sqrt(2 / (400 + 300))),
    ("he_normal", math.sqrt(2 / 400)),
    ("normal", 0.05),
    ("glorot_uniform", math.sqrt(2 / (400 + 300))),  # Var U(-a, a) = a^2 / 3
    ("he_uniform", math.sqrt(2 / 400)),
])
def test_initializer_standard_deviations(name, std):
    W = init.get_initializer(name)((400, 300), np.random.default_rng(1))
    assert W.shape == (400, 300) and W.dtype == np.float64
    assert abs(W.mean()) < 0.05 * std
    assert W.std() == pytest.approx(std, rel=0.02)


def test_truncated_normals_stay_within_two_standard_deviations():
    std = math.sqrt(2 / 100)
    W = init.he_normal((100, 1000), np.random.default_rng(2))
    assert np.abs(W).max() <= 2 * std / 0.87962566103423978 + 1e-12


def test_initializers_are_seeded_and_typed():
    a = init.glorot_uniform((3, 4), np.random.default_rng(7))
    b = init.glorot_uniform((3, 4), 7)
    c = init.glorot_uniform((3, 4), 8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert init.he_normal((3, 4), 0, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.zeros((2,)), [0.0, 0.0])
    np.testing.assert_array_equal(init.ones((2,)), [1.0, 1.0])
    assert init.get_initializer("xavier_uniform") is init.glorot_uniform
    with pytest.raises(ValueError, match="choose one of: zeros, ones"):
        init.get_initializer("uniform_random")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.glorot_uniform((2, 2), rng="seed")


def test_relative_error_of_layers_is_not_trivially_zero():
    # a deliberately wrong backward must be caught by the layer check
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, activation="sigmoid", rng=rng)
    X = rng.standard_normal((4, 3))
    layer.backward_from_z = lambda dZ, need_dX=True: Dense.backward_from_z(layer, 2 * dZ, need_dX)
    report = check_gradients(layer, X)
    assert not report.ok and set(report.wrong) == {"dW", "db", "dX"}
    assert relative_error([1.0], [1.0]) == 0.0
