"""Loss functions: hand-computed values, gradients against central
differences, stability, and the agreement of the from-logits forms."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nnlib import losses as L
from nnlib.activations import sigmoid, softmax
from nnlib.gradcheck import numerical_gradient, relative_error

SHAPES = [(1, 1), (4, 1), (5, 3), (16, 4)]
SEEDS = [0, 1, 2]


def make_targets(kind, shape, rng):
    """Targets and a valid prediction (probabilities away from 0/1, or logits)."""
    n, k = shape
    if kind == "regression":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "binary":
        return rng.integers(0, 2, shape).astype(float), rng.uniform(0.05, 0.95, shape)
    if kind == "binary_logits":
        return rng.integers(0, 2, shape).astype(float), 3 * rng.standard_normal(shape)
    k = max(k, 2)  # a single class would make every probability 1
    y = np.eye(k)[rng.integers(0, k, n)]
    if kind == "categorical":
        return y, softmax(rng.standard_normal((n, k)))
    return y, 3 * rng.standard_normal((n, k))  # logits


CASES = [
    (L.mean_squared_error, L.mean_squared_error_grad, "regression"),
    (L.half_mean_squared_error, L.half_mean_squared_error_grad, "regression"),
    (L.binary_cross_entropy, L.binary_cross_entropy_grad, "binary"),
    (L.binary_cross_entropy_from_logits, L.binary_cross_entropy_from_logits_grad,
     "binary_logits"),
    (L.categorical_cross_entropy, L.categorical_cross_entropy_grad, "categorical"),
    (L.softmax_cross_entropy, L.softmax_cross_entropy_grad, "logits"),
]


@pytest.mark.parametrize("loss, grad, kind", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_matches_central_differences(loss, grad, kind, shape, seed):
    y, y_pred = make_targets(kind, shape, np.random.default_rng(seed))
    numerical = numerical_gradient(lambda p: loss(y, p), y_pred.copy())
    analytic = grad(y, y_pred)
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numerical) < 1e-7


def test_hand_computed_values():
    # mean over all elements of the squared errors 1, 4 -> 2.5
    assert L.mean_squared_error([[1.0], [2.0]], [[0.0], [0.0]]) == 2.5
    # 1/(2N) sum: (1 + 4) / (2 * 2)
    assert L.half_mean_squared_error([[1.0], [2.0]], [[0.0], [0.0]]) == 1.25
    assert L.binary_cross_entropy([[1.0]], [[0.8]]) == pytest.approx(-math.log(0.8))
    assert L.binary_cross_entropy([[0.0]], [[0.8]]) == pytest.approx(-math.log(0.2))
    assert L.categorical_cross_entropy([[0, 1, 0]], [[0.2, 0.7, 0.1]]) == pytest.approx(
        -math.log(0.7))
    # logit 0 means p = 0.5: loss ln 2 whatever the label
    assert L.binary_cross_entropy_from_logits([[1.0], [0.0]], [[0.0], [0.0]]) == pytest.approx(
        math.log(2))
    # equal logits over 4 classes: p = 1/4
    assert L.softmax_cross_entropy([[0, 0, 1, 0]], [[5.0, 5.0, 5.0, 5.0]]) == pytest.approx(
        math.log(4))
    # gradients: MSE 2 (p - y) / size, half-MSE (p - y) / N
    np.testing.assert_allclose(L.mean_squared_error_grad([[1.0], [2.0]], [[0.0], [0.0]]),
                               [[-1.0], [-2.0]])
    np.testing.assert_allclose(L.half_mean_squared_error_grad([[1.0], [2.0]], [[0.0], [0.0]]),
                               [[-0.5], [-1.0]])
    np.testing.assert_allclose(L.binary_cross_entropy_grad([[1.0]], [[0.8]]), [[-1 / 0.8]])


def test_half_mse_is_half_of_mse_for_one_output():
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((9, 1)), rng.standard_normal((9, 1))
    assert L.half_mean_squared_error(y, p) == pytest.approx(L.mean_squared_error(y, p) / 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_from_logits_agrees_with_probabilities(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((6, 1)) * 2
    y = rng.integers(0, 2, (6, 1)).astype(float)
    assert L.binary_cross_entropy_from_logits(y, z) == pytest.approx(
        L.binary_cross_entropy(y, sigmoid(z)), rel=1e-9)
    logits = rng.standard_normal((6, 4)) * 2
    onehot = np.eye(4)[rng.integers(0, 4, 6)]
    assert L.softmax_cross_entropy(onehot, logits) == pytest.approx(
        L.categorical_cross_entropy(onehot, softmax(logits)), rel=1e-9)


def test_clipping_matches_keras_epsilon():
    # a confident wrong answer costs -log(1e-7), not infinity
    assert L.binary_cross_entropy([[1.0]], [[0.0]]) == pytest.approx(-math.log(1e-7), rel=1e-6)
    assert L.categorical_cross_entropy([[1.0, 0.0]], [[0.0, 1.0]]) == pytest.approx(
        -math.log(1e-7), rel=1e-6)
    assert L.EPSILON == 1e-7


def test_from_logits_is_exact_for_huge_logits():
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        # wrong by a margin of 1000: the exact loss is 1000 (+ log1p(e^-1000))
        assert L.binary_cross_entropy_from_logits([[1.0]], [[-1000.0]]) == pytest.approx(1000)
        assert L.binary_cross_entropy_from_logits([[1.0]], [[1000.0]]) == 0.0
        assert L.softmax_cross_entropy([[1.0, 0.0]], [[-1000.0, 1000.0]]) == pytest.approx(2000)
        g = L.softmax_cross_entropy_grad([[1.0, 0.0]], [[-1000.0, 1000.0]])
    np.testing.assert_allclose(g, [[-1.0, 1.0]])


@pytest.mark.parametrize("loss", [L.binary_cross_entropy, L.categorical_cross_entropy])
def test_probability_losses_are_finite_at_0_and_1(loss):
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.isfinite(loss(y, p))
        assert np.isfinite(loss(y, y))
        assert loss(y, y) < 1e-6


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_float32_gradients_stay_float32(name):
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    p = np.array([[0.7, 0.3], [0.4, 0.6]], dtype=np.float32)
    g = L.get_loss_gradient(name)(y.astype(np.int64), p)
    assert g.dtype == np.float32
    assert isinstance(L.get_loss(name)(y, p), float)


def test_shape_mismatch_is_reported_with_both_shapes():
    with pytest.raises(ValueError) as info:
        L.binary_cross_entropy(np.zeros(5), np.full((5, 1), 0.5))
    message = str(info.value)
    assert "(5,)" in message and "(5, 1)" in message and "reshape" in message
    with pytest.raises(ValueError, match="one_hot"):
        L.categorical_cross_entropy(np.zeros(3), np.full((3, 4), 0.25))


def test_loss_names():
    assert L.get_loss("mse") is L.mean_squared_error
    assert L.get_loss("mean_squared_error") is L.mean_squared_error
    assert L.get_loss_gradient("categorical_crossentropy") is L.categorical_cross_entropy_grad
    with pytest.raises(ValueError) as info:
        L.get_loss("binary_crosentropy")
    assert "did you mean 'binary_crossentropy'" in str(info.value)
    assert "half_mse" in str(info.value)


def test_from_logits_gradients_reuse_given_probabilities():
    rng = np.random.default_rng(0)
    z, y = 3 * rng.standard_normal((5, 4)), np.eye(4)[rng.integers(0, 4, 5)]
    np.testing.assert_array_equal(L.softmax_cross_entropy_grad(y, z, p=softmax(z)),
                                  L.softmax_cross_entropy_grad(y, z))
    np.testing.assert_array_equal(L.binary_cross_entropy_from_logits_grad(y, z, p=sigmoid(z)),
                                  L.binary_cross_entropy_from_logits_grad(y, z))
    # the given probabilities are used as they are, not recomputed
    np.testing.assert_array_equal(L.softmax_cross_entropy_grad(y, z, p=y), 0.0)
