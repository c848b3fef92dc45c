"""Activation functions: hand-computed values, derivatives against central
differences, numerical stability and dtype handling."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nnlib import activations as act
from nnlib.gradcheck import numerical_gradient, relative_error

ELEMENTWISE = ["linear", "step", "sigmoid", "tanh", "relu", "leaky_relu"]
SHAPES = [(1, 1), (3, 4), (7, 2), (16, 5)]
SEEDS = [0, 1, 2]


def points_away_from_kinks(shape, seed):
    """Random z with |z| >= 0.1, so step/relu/leaky_relu are smooth nearby."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.1, 3.0, size=shape)
    return z * rng.choice([-1.0, 1.0], size=shape)


def test_hand_computed_values():
    assert act.sigmoid(0.0) == 0.5
    assert act.sigmoid(np.log(3.0)) == pytest.approx(0.75)  # 1 / (1 + 1/3)
    assert act.tanh(0.0) == 0.0
    assert act.tanh(1.0) == pytest.approx((math.e - 1 / math.e) / (math.e + 1 / math.e))
    np.testing.assert_array_equal(act.relu([-2.0, 0.0, 3.0]), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(act.leaky_relu([-2.0, 3.0]), [-0.02, 3.0])
    np.testing.assert_array_equal(act.leaky_relu([-2.0], alpha=0.5), [-1.0])
    np.testing.assert_array_equal(act.step([-0.5, 0.0, 0.5]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(act.linear([-1.5, 2.0]), [-1.5, 2.0])
    # softmax of (0, ln 2, ln 3) is (1, 2, 3) / 6
    np.testing.assert_allclose(act.softmax(np.log([[1.0, 2.0, 3.0]])), [[1 / 6, 2 / 6, 3 / 6]])


def test_hand_computed_derivatives():
    assert act.sigmoid_derivative(0.0) == 0.25
    assert act.tanh_derivative(0.0) == 1.0
    np.testing.assert_array_equal(act.relu_derivative([-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.leaky_relu_derivative([-1.0, 2.0], alpha=0.1), [0.1, 1.0])
    np.testing.assert_array_equal(act.step_derivative([-1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(act.linear_derivative([-1.0, 2.0]), [1.0, 1.0])


def test_tanh_is_a_rescaled_sigmoid():
    z = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_derivative_matches_central_differences(name, shape, seed):
    f, df = act.ACTIVATIONS[name], act.DERIVATIVES[name]
    z = points_away_from_kinks(shape, seed)
    weights = np.random.default_rng(seed + 100).standard_normal(shape)
    # d/dz of sum(weights * f(z)) is weights * f'(z), element by element
    numerical = numerical_gradient(lambda x: float(np.sum(weights * f(x))), z)
    analytic = weights * df(z)
    assert relative_error(analytic, numerical) < 1e-7


@pytest.mark.parametrize("shape", [(1, 2), (3, 4), (5, 10)])
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_jacobian_and_backward_match_central_differences(shape, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) * 2
    grad_s = rng.standard_normal(shape)
    numerical = numerical_gradient(lambda x: float(np.sum(grad_s * act.softmax(x))), z)
    via_backward = act.softmax_backward(act.softmax(z), grad_s)
    via_jacobian = np.einsum("ni,nij->nj", grad_s, act.softmax_jacobian(z))
    assert relative_error(via_backward, numerical) < 1e-7
    assert relative_error(via_jacobian, numerical) < 1e-7
    assert act.softmax_jacobian(z).shape == (shape[0], shape[1], shape[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softmax_are_stable_at_1000(dtype):
    z = np.array([[-1000.0, -1.0, 0.0, 1.0, 1000.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = act.sigmoid(z)
        p = act.softmax(z)
        p_neg = act.softmax(-z)
        ds = act.sigmoid_derivative(z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(p)) and np.all(np.isfinite(ds))
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    np.testing.assert_allclose(p, [[0, 0, 0, 0, 1]], atol=1e-30)
    np.testing.assert_allclose(p_neg, [[1, 0, 0, 0, 0]], atol=1e-30)


def test_naive_sigmoid_would_overflow():
    # the reason for the split-by-sign form: the textbook formula warns
    with pytest.warns(RuntimeWarning):
        1 / (1 + np.exp(-np.array([-1000.0])))


@pytest.mark.parametrize("name", list(act.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shape_are_preserved(name, dtype):
    z = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    a = act.ACTIVATIONS[name](z)
    assert a.dtype == dtype and a.shape == z.shape
    if name in act.DERIVATIVES:
        d = act.DERIVATIVES[name](z)
        assert d.dtype == dtype and d.shape == z.shape


def test_integer_and_list_inputs_become_float64():
    assert act.relu([1, -2]).dtype == np.float64
    assert act.sigmoid(np.array([0, 1])).dtype == np.float64
    assert act.relu_derivative(np.array([3, -3])).dtype == np.float64


def test_get_activation_and_unknown_names():
    assert act.get_activation("ReLU") is act.relu
    assert act.get_activation(None) is act.linear
    assert act.get_derivative("tanh") is act.tanh_derivative
    with pytest.raises(ValueError) as info:
        act.get_activation("sigmod")
    message = str(info.value)
    assert "'sigmod'" in message and "did you mean 'sigmoid'" in message
    assert "relu" in message and "tanh" in message  # lists the choices
    with pytest.raises(ValueError, match="softmax_jacobian"):
        act.get_derivative("softmax")
    with pytest.raises(TypeError, match="got int 3"):
        act.get_activation(3)
