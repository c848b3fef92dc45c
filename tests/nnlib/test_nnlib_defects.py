"""The nnlib defects D1-D4 of the expert review (issue 18), one reproduction
each; every test here failed on the code before the fix."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nnlib
from nnlib import losses as L
from nnlib.gradcheck import check_gradients, numerical_gradient, relative_error
from nnlib.layers import Dense
from nnlib.model import MLP
from nnlib.optimizers import SGD, Adam


def _data(rng, n=6, n_in=3):
    return rng.standard_normal((n, n_in))


# --------------------------------------------------------------------------
# D1: the gradients of the clipped probability losses are their derivatives
# --------------------------------------------------------------------------

@pytest.mark.parametrize("y, p", [([[1.0]], [[1.5]]), ([[0.0]], [[-0.2]]), ([[1.0]], [[1.0]]),
                                  ([[0.0]], [[1e-9]]), ([[0.3]], [[2.0]])])
def test_d1_bce_grad_is_zero_where_the_clipped_loss_is_flat(y, p):
    y, p = np.array(y), np.array(p)
    numerical = numerical_gradient(lambda q: L.binary_cross_entropy(y, q), p.copy(), eps=1e-9)
    np.testing.assert_array_equal(numerical, 0.0)  # the loss is flat there ...
    np.testing.assert_array_equal(L.binary_cross_entropy_grad(y, p), 0.0)  # ... so is this


def test_d1_cce_grad_is_zero_where_the_clipped_loss_is_flat():
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.3, 1e-12, 0.7], [1.0, 0.0, 0.0]])  # true class clipped from below / above
    numerical = numerical_gradient(lambda q: L.categorical_cross_entropy(y, q), p.copy(),
                                   eps=1e-9)
    analytic = L.categorical_cross_entropy_grad(y, p)
    np.testing.assert_array_equal(numerical, 0.0)
    np.testing.assert_array_equal(analytic, 0.0)


def test_d1_probability_gradients_agree_with_central_differences_across_the_clip():
    # predictions spread over [-0.5, 1.5]: inside, at and beyond the clip
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (40, 1)).astype(float)
    p = rng.uniform(-0.5, 1.5, (40, 1))
    numerical = numerical_gradient(lambda q: L.binary_cross_entropy(y, q), p.copy(), eps=1e-9)
    assert relative_error(L.binary_cross_entropy_grad(y, p), numerical) < 1e-6


def test_d1_linear_output_with_binary_crossentropy_checks_out_and_warns():
    rng = np.random.default_rng(0)
    X, Y = _data(rng), rng.integers(0, 2, (6, 2)).astype(float)
    model = MLP([3, 2], output_activation="linear", seed=0)
    model.set_weights([3 * w for w in model.get_weights()])  # outputs well outside [0, 1]
    assert np.any((model.predict(X) < 0) | (model.predict(X) > 1))
    with pytest.warns(UserWarning, match="binary_crossentropy expects probabilities"):
        report = check_gradients(model, X, Y, loss="binary_crossentropy")
    assert report.ok, str(report)


@pytest.mark.parametrize("output, loss", [("linear", "binary_crossentropy"),
                                          ("relu", "binary_crossentropy"),
                                          ("tanh", "categorical_crossentropy"),
                                          ("sigmoid", "categorical_crossentropy")])
def test_d1_compile_warns_for_a_probability_loss_on_other_outputs(output, loss):
    model = MLP([3, 4, 2], output_activation=output, seed=0)
    with pytest.warns(UserWarning, match=f"{loss} expects probabilities.*{output!r} output"):
        model.compile(loss)


@pytest.mark.parametrize("output, loss", [("sigmoid", "binary_crossentropy"),
                                          ("softmax", "binary_crossentropy"),
                                          ("softmax", "categorical_crossentropy"),
                                          ("linear", "mse"), ("relu", "half_mse")])
def test_d1_no_warning_for_matching_outputs(output, loss):
    model = MLP([3, 4, 2], output_activation=output, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(loss)


# --------------------------------------------------------------------------
# D2: a correct zero gradient is not WRONG; the report says a floor applied
# --------------------------------------------------------------------------

def test_d2_a_correct_zero_gradient_is_not_wrong():
    rng = np.random.default_rng(0)
    X = _data(rng, 8, 2)
    model = MLP([2, 1], output_activation="linear", seed=0)
    model.compile("mse")
    Y = model.predict(X)  # at the minimum: every gradient is exactly zero
    _, grads = model.loss_and_grads(X, Y)
    assert all(np.all(g == 0) for g in grads.values())
    report = check_gradients(model, X, Y)
    assert report.ok, str(report)
    assert report["dW1"].floor_applied  # its estimate is rounding noise, about 1e-17
    assert "within the noise floor" in str(report)
    explanation = report.explain()
    assert "noise floor" in explanation and "kink" not in explanation


def test_d2_the_floor_does_not_hide_a_wrong_small_gradient():
    # gradients of size ~1e-3 (well above the noise, below the old scale)
    def f(x):
        return float(1e-3 * np.sum(np.sin(x)))

    x = np.array([0.3, -1.2, 2.0])
    good = check_gradients(f, x, grad=lambda v: 1e-3 * np.cos(v))
    assert good.ok and not good["dx"].floor_applied
    bad = check_gradients(f, x, grad=lambda v: 2e-3 * np.cos(v))
    assert bad.wrong == ["dx"]
    zero = check_gradients(f, x, grad=np.zeros(3))  # a zero where the true gradient is not
    assert zero.wrong == ["dx"]


def test_d2_relative_error_floor_is_keyword_only_and_backwards_compatible():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(1.0, 3.0) == pytest.approx(0.5)
    assert relative_error(0.0, 1.6e-17) == 1.0  # no floor: two specks of noise look unrelated
    assert relative_error(0.0, 1.6e-17, floor=1e-3) == pytest.approx(1.6e-14)
    assert relative_error(1.0, 3.0, floor=1e-3) == pytest.approx(0.5)  # floor below the norms
    with pytest.raises(TypeError):
        relative_error(0.0, 1.0, 1e-3)  # noqa: the floor is keyword-only


def test_d2_floor_scales_with_step_and_loss():
    floor = nnlib.gradcheck.noise_floor
    assert floor(0.0, 1e-6, 4) == pytest.approx(floor(1.0, 1e-6, 4))
    assert floor(100.0, 1e-6, 4) == pytest.approx(100 * floor(1.0, 1e-6, 4))
    assert floor(1.0, 1e-4, 4) == pytest.approx(floor(1.0, 1e-6, 4) / 100)
    assert floor(1.0, 1e-6, 16) == pytest.approx(2 * floor(1.0, 1e-6, 4))


# --------------------------------------------------------------------------
# D3: the fused path's loss and gradient describe one function
# --------------------------------------------------------------------------

def _saturated(output, loss, k):
    rng = np.random.default_rng(3)
    X = _data(rng, 5)
    model = MLP([3, k], output_activation=output, seed=3)
    model.set_weights([60 * w for w in model.get_weights()])
    logits = X @ model.layers[0].W + model.layers[0].b
    if loss == "categorical_crossentropy":  # every sample labelled with its least likely class
        Y = nnlib.one_hot(logits.argmin(axis=1), k)
    else:
        Y = (logits < 0).astype(float)
    return model.compile(loss), X, Y, logits


@pytest.mark.parametrize("output, loss, k", [("softmax", "categorical_crossentropy", 3),
                                             ("sigmoid", "binary_crossentropy", 2)])
def test_d3_fused_loss_and_gradient_describe_one_function(output, loss, k):
    model, X, Y, logits = _saturated(output, loss, k)
    assert np.abs(logits).max() > 50  # saturated: the probabilities are clipped
    report = check_gradients(model, X, Y)
    assert report.ok, str(report)


def test_d3_fused_loss_is_the_exact_loss_of_the_logits():
    model, X, Y, logits = _saturated("softmax", "categorical_crossentropy", 3)
    # by hand: -log softmax(z)_true = logsumexp(z) - z_true, per sample
    top = logits.max(axis=1)
    exact = np.mean(top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
                    - (Y * logits).sum(axis=1))
    assert exact > 10 * -math.log(L.EPSILON)  # far beyond what clipping allows
    assert model.compute_loss(X, Y) == pytest.approx(exact, rel=1e-12)
    assert model.evaluate(X, Y)[0] == pytest.approx(exact, rel=1e-12)


# --------------------------------------------------------------------------
# D4: bad input gets clear errors; any real number type is accepted
# --------------------------------------------------------------------------

def test_d4_numpy_scalars_are_accepted():
    sgd = SGD(np.float32(0.01), momentum=np.int64(1))
    assert (sgd.learning_rate, sgd.momentum) == (pytest.approx(0.01), 1.0)
    adam = Adam(np.float64(1e-3), beta_1=np.float32(0.5), beta_2=np.float16(0.5),
                epsilon=np.float32(1e-6))
    assert adam.beta_1 == 0.5 and adam.beta_2 == 0.5
    assert Dense(2, 3, l2=np.float32(0.5)).l2 == 0.5
    assert Dense(np.int64(2), np.int32(3)).W.shape == (2, 3)


@pytest.mark.parametrize("make, name", [
    (lambda: SGD(learning_rate=math.inf), "learning_rate"),
    (lambda: SGD(learning_rate=np.float32("nan")), "learning_rate"),
    (lambda: SGD(momentum=np.inf), "momentum"),
    (lambda: Adam(epsilon=math.inf), "epsilon"),
    (lambda: Dense(2, 2, l2=math.inf), "l2"),
])
def test_d4_non_finite_hyperparameters_are_refused(make, name):
    with pytest.raises(ValueError, match=f"expected {name} to be .*not finite"):
        make()


@pytest.mark.parametrize("make, name", [
    (lambda: Adam(beta_1="0.9"), "beta_1"),
    (lambda: Adam(beta_2=[0.999]), "beta_2"),
    (lambda: SGD(learning_rate="0.1"), "learning_rate"),
    (lambda: SGD(momentum=True), "momentum"),
    (lambda: Dense(2, 2, l2="0"), "l2"),
])
def test_d4_wrong_types_get_a_clear_message(make, name):
    with pytest.raises(TypeError) as info:  # a ValueError too, as scikit-learn's
        make()
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(f"expected {name} to be ") and "got " in message


def test_d4_numpy_scalars_elsewhere():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    for test_size in (np.float32(0.25), np.int64(5)):
        X_train, X_test, _, _ = nnlib.data.train_test_split(X, y, test_size=test_size, seed=0)
        assert X_test.shape == (5, 2) and X_train.shape == (15, 2)
    model = MLP([2, 1], seed=np.int64(0)).compile("binary_crossentropy", "sgd")
    history = model.fit(X, y, epochs=np.int64(2), batch_size=np.int32(8), verbose=0,
                        min_delta=np.float32(0.0), patience=np.int64(3), monitor="loss")
    assert len(history.epoch) == 2


def test_d4_fit_on_empty_data_is_an_error():
    model = MLP([3, 2], seed=0).compile("categorical_crossentropy", "adam")
    for method in (lambda X, y: model.fit(X, y, verbose=0), model.evaluate):
        with pytest.raises(ValueError, match=r"at least one sample.*shape \(0, 3\)"):
            method(np.zeros((0, 3)), np.zeros((0, 2)))


@pytest.mark.parametrize("labels", [[[1.0], [-1.0]], [[2.0], [0.0]]])
def test_d4_cross_entropy_labels_outside_0_1_are_an_error(labels):
    y, p = np.array(labels), np.array([[0.7], [0.2]])
    with pytest.raises(ValueError, match=r"y_true in \[0, 1\].*\(y \+ 1\) / 2"):
        L.binary_cross_entropy(y, p)
    with pytest.raises(ValueError, match=r"y_true in \[0, 1\]"):
        L.binary_cross_entropy_from_logits(y, p)
    model = MLP([3, 1], seed=0).compile("binary_crossentropy", "sgd")
    with pytest.raises(ValueError, match=r"y_true in \[0, 1\]"):
        model.fit(np.ones((2, 3)), y, verbose=0)
