"""The gradient checker itself: it must agree with known derivatives, and it
must flag wrong gradients by name (the backprop chapter and the grader
rely on its report)."""
from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib.activations import sigmoid
from nnlib.data import make_xor
from nnlib.gradcheck import (GradCheckReport, check_gradients, numerical_gradient,
                             relative_error)


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v**3)), x),
                               3 * x**2, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sin(v).sum()), x),
                               np.cos(x), rtol=1e-8)
    # x is restored afterwards
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])


def test_relative_error_values():
    assert relative_error(1.0, 1.0) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(1.0, 3.0) == pytest.approx(0.5)  # |1-3| / (1+3)
    assert relative_error([3.0, 0.0], [0.0, 4.0]) == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


def test_function_check_with_array_and_dict():
    report = check_gradients(lambda x: float(np.sum(x**2)), np.array([1.0, 2.0]),
                             grad=lambda x: 2 * x)
    assert report.ok and str(report).startswith("dx ok (")
    wrong = check_gradients(lambda x: float(np.sum(x**2)), np.array([1.0, 2.0]),
                            grad=np.array([1.0, 2.0]))
    assert not wrong.ok and wrong.wrong == ["dx"]

    params = {"w": np.array([1.0, -1.0]), "b": np.array([0.5])}

    def f(p):
        return float(np.sum(p["w"] ** 2) * p["b"][0])

    good = check_gradients(f, params, grad={"w": 2 * params["w"] * 0.5, "b": np.array([2.0])})
    assert good.ok and [r.name for r in good.rows] == ["dw", "db"]
    bad = check_gradients(f, params, grad={"w": 2 * params["w"], "b": np.array([2.0])})
    assert bad.wrong == ["dw"]
    with pytest.raises(ValueError, match="keys"):
        check_gradients(f, params, grad={"w": params["w"]})
    with pytest.raises(TypeError, match="grad="):
        check_gradients(f, params)


def seeds_buggy_xor_grads(model, X, y):
    """Backprop for a 2-4-1 sigmoid network with half-MSE loss, written the
    way the course's source articles do: sigmoid applied again to outputs that
    are already sigmoid activations."""
    W1, b1, W2, b2 = model.get_weights()
    a1 = sigmoid(X @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)
    n = len(X)
    delta2 = (a2 - y) * sigmoid(a2) * (1 - sigmoid(a2)) / n         # BUG: should be a2 (1 - a2)
    delta1 = (delta2 @ W2.T) * sigmoid(a1) * (1 - sigmoid(a1))      # BUG again
    return {"W1": X.T @ delta1, "b1": delta1.sum(0), "W2": a1.T @ delta2, "b2": delta2.sum(0)}


def test_report_catches_the_sources_double_sigmoid_bug():
    X, y = make_xor()
    model = nnlib.MLP([2, 4, 1], activation="sigmoid", seed=0)

    def loss(params):
        model.set_weights([params[k] for k in ("W1", "b1", "W2", "b2")])
        return model.compute_loss(X, y, loss="half_mse")

    params = model.params()
    params = {k: v.copy() for k, v in params.items()}
    report = check_gradients(loss, params, grad=seeds_buggy_xor_grads(model, X, y))
    assert set(report.wrong) == {"dW1", "db1", "dW2", "db2"}
    assert "dW2 WRONG (" in str(report)
    assert "derivative" in report.explain()
    # the model's own backprop passes the same check
    model.compile("half_mse")
    assert check_gradients(model, X, y).ok


def test_report_lines_and_lookup():
    X, y = make_xor()
    model = nnlib.MLP([2, 3, 1], activation="tanh", seed=1)
    model.compile("binary_crossentropy")
    report = check_gradients(model, X, y)
    assert isinstance(report, GradCheckReport)
    lines = str(report).split("\n")
    assert [line.split()[0] for line in lines] == ["dW1", "db1", "dW2", "db2"]
    assert all(line.split()[1] == "ok" for line in lines)
    assert report["dW2"].analytic.shape == (3, 1)
    assert report.wrong == [] and report.ok
    assert "All gradients agree" in report.explain()
    with pytest.raises(KeyError, match="dW1"):
        report["dW9"]


def test_model_check_flags_only_the_broken_layer(monkeypatch):
    rng = np.random.default_rng(0)
    model = nnlib.MLP([3, 4, 2], seed=0)
    model.compile("categorical_crossentropy")
    X, y = rng.standard_normal((5, 3)), nnlib.one_hot([0, 1, 1, 0, 1])
    layer = model.layers[1]
    original = type(layer).backward_from_z

    def broken(self, dZ, need_dX=True):  # forgets nothing but doubles dW
        dX = original(self, dZ, need_dX)
        self.dW = 2 * self.dW
        return dX

    monkeypatch.setattr(layer, "backward_from_z", broken.__get__(layer))
    report = check_gradients(model, X, y)
    assert report.wrong == ["dW2"]
    assert str(report).split("\n")[2].startswith("dW2 WRONG (")


def test_check_gradients_argument_errors():
    model = nnlib.MLP([2, 2, 1])
    with pytest.raises(TypeError, match="needs the targets y"):
        check_gradients(model, np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="compile"):
        check_gradients(model, np.zeros((1, 2)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="float64"):
        m32 = nnlib.MLP([2, 2, 1], dtype=np.float32)
        check_gradients(m32, np.zeros((1, 2)), np.zeros((1, 1)), loss="mse")
    with pytest.raises(TypeError, match="Sequential model"):
        check_gradients(42, np.zeros(2))


def test_relu_kink_is_explained():
    # XOR's input (0, 0) with zero biases puts relu exactly at its kink z = 0,
    # where central differences straddle the corner
    X, y = make_xor()
    model = nnlib.MLP([2, 3, 1], activation="relu", seed=0)
    model.compile("binary_crossentropy")
    report = check_gradients(model, X, y)
    assert report.wrong == ["db1"]
    assert "kink" in report.explain()
