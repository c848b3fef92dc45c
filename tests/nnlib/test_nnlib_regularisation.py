"""Dropout, batch normalisation and AdamW (issue 11, section 3): hand-computed
values, gradient checks by central differences in both modes, and their
behaviour inside Sequential/MLP with fit, predict, evaluate and
check_gradients. (Keras parity: test_keras_parity_regularisation.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.data import make_moons, one_hot
from nnlib.gradcheck import check_gradients
from nnlib.layers import BatchNormalization, Dense, Dropout
from nnlib.model import MLP, Sequential
from nnlib.optimizers import SGD, Adam, AdamW, adam_step, get_optimizer

SHAPES = [(2, 3), (5, 4), (16, 1)]  # (n_samples, n_features)


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def test_dropout_is_the_identity_at_inference():
    X = np.random.default_rng(0).standard_normal((4, 3))
    layer = Dropout(0.5, rng=0)
    np.testing.assert_array_equal(layer.forward(X), X)
    np.testing.assert_array_equal(layer.forward(X, training=False), X)
    np.testing.assert_array_equal(layer.backward(2 * X), 2 * X)


def test_dropout_keeps_inputs_scaled_or_zeroes_them():
    X = np.random.default_rng(0).uniform(1, 2, (400, 250))
    layer = Dropout(0.3, rng=1)  # not seed 0: the mask must not reuse X's random numbers
    A = layer.forward(X, training=True)
    kept = layer.mask
    np.testing.assert_allclose(A[kept], X[kept] / 0.7, rtol=1e-15)
    assert np.all(A[~kept] == 0)
    # kept ~ Binomial(100000, 0.7): within 5 standard deviations (~145)
    assert abs(kept.sum() - 70_000) < 5 * math.sqrt(100_000 * 0.7 * 0.3)
    # inverted dropout: the mean output equals the mean input
    assert A.mean() == pytest.approx(X.mean(), rel=0.01)
    dA = np.ones_like(X)
    np.testing.assert_array_equal(layer.backward(dA), np.where(kept, 1 / 0.7, 0))


def test_dropout_masks_are_seeded_and_fresh_per_pass():
    X = np.ones((6, 5))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    first = a.forward(X, training=True)
    np.testing.assert_array_equal(first, b.forward(X, training=True))
    assert not np.array_equal(first, a.forward(X, training=True))  # a new mask each pass
    assert not np.array_equal(first, Dropout(0.5, rng=8).forward(X, training=True))
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(X, training=True), X)


def test_dropout_mask_can_be_fixed_and_released():
    X = np.arange(6.0).reshape(2, 3) + 1
    layer = Dropout(0.5, rng=0).fix_mask([[1, 0, 1], [0, 1, 1]])
    for _ in range(3):
        np.testing.assert_array_equal(layer.forward(X, training=True),
                                      [[2.0, 0.0, 6.0], [0.0, 10.0, 12.0]])
    with pytest.raises(ValueError, match=r"fixed mask has shape \(2, 3\).*shape \(4, 3\)"):
        layer.forward(np.ones((4, 3)), training=True)
    layer.release_mask()
    masks = {layer.forward(np.ones((8, 8)), training=True).tobytes() for _ in range(3)}
    assert len(masks) == 3
    with pytest.raises(ValueError, match="True/False"):
        Dropout(0.5).fix_mask([[0, 2]])


def test_fixed_noise_holds_the_mask_within_the_block_only():
    X = np.ones((5, 4))
    layer = Dropout(0.5, rng=1)
    with layer.fixed_noise():
        first = layer.forward(X, training=True)
        np.testing.assert_array_equal(layer.forward(X, training=True), first)
    assert not np.array_equal(layer.forward(X, training=True), first)
    held = Dropout(0.5, rng=1).fix_mask(np.eye(5, 4))
    with held.fixed_noise():  # an explicitly fixed mask stays fixed, also afterwards
        pass
    np.testing.assert_array_equal(held.forward(X, training=True), 2 * np.eye(5, 4))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_dropout_gradients_match_central_differences(shape, training):
    X = np.random.default_rng(shape[0]).standard_normal(shape)
    report = check_gradients(Dropout(0.4, rng=2), X, training=training)
    assert [row.name for row in report.rows] == ["dX"]
    assert report.ok, str(report)


def test_bad_dropout_arguments():
    for rate in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"rate to be a number in \[0, 1\)"):
            Dropout(rate)
    with pytest.raises(TypeError, match="expected rate"):
        Dropout("0.5")
    with pytest.raises(RuntimeError, match="forward"):
        Dropout(0.5).backward(np.ones((1, 1)))


# --------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------

def bn_by_hand(X, gamma, beta, mean, var, eps=1e-3):
    return gamma * (X - mean) / np.sqrt(var + eps) + beta


def test_batchnorm_training_pass_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    layer = BatchNormalization(2, momentum=0.9)
    layer.gamma[...], layer.beta[...] = [2.0, 1.0], [0.5, -1.0]
    A = layer.forward(X, training=True)
    mean, var = np.array([3.0, 12.0]), np.array([8 / 3, 8.0])  # biased variances
    np.testing.assert_allclose(A, bn_by_hand(X, [2.0, 1.0], [0.5, -1.0], mean, var),
                               rtol=1e-14)
    # moving <- 0.9 moving + 0.1 batch, from mean 0 and variance 1
    np.testing.assert_allclose(layer.moving_mean, 0.1 * mean, rtol=1e-14)
    np.testing.assert_allclose(layer.moving_variance, 0.9 + 0.1 * var, rtol=1e-14)
    layer.forward(X, training=True)
    np.testing.assert_allclose(layer.moving_mean, 0.19 * mean, rtol=1e-14)


def test_batchnorm_inference_uses_the_moving_statistics():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    layer = BatchNormalization(3)
    layer.moving_mean[...], layer.moving_variance[...] = [1.0, -1.0, 0.0], [4.0, 0.25, 1.0]
    A = layer.forward(X)
    np.testing.assert_allclose(A, bn_by_hand(X, 1, 0, layer.moving_mean,
                                             layer.moving_variance), rtol=1e-14)
    np.testing.assert_allclose(layer.forward(X[:1]), A[:1])  # a row alone: same output
    np.testing.assert_array_equal(layer.moving_mean, [1.0, -1.0, 0.0])  # not updated


@pytest.mark.parametrize("shape", SHAPES + [(1, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_batchnorm_gradients_match_central_differences(shape, training, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNormalization(shape[1], epsilon=1e-2)
    layer.gamma[...] = rng.uniform(0.5, 2, shape[1])
    layer.beta[...] = rng.standard_normal(shape[1])
    layer.moving_mean[...] = rng.standard_normal(shape[1])
    layer.moving_variance[...] = rng.uniform(0.5, 2, shape[1])
    before = [a.copy() for a in layer.state().values()]
    X = 2 * rng.standard_normal(shape) + 1
    report = check_gradients(layer, X, training=training, seed=seed)
    assert [row.name for row in report.rows] == ["dgamma", "dbeta", "dX"]
    assert report.ok, str(report)
    for a, b in zip(before, layer.state().values()):  # the check leaves the state as it was
        np.testing.assert_array_equal(a, b)


def test_batchnorm_float32_stays_float32():
    layer = BatchNormalization(3, dtype=np.float32)
    A = layer.forward(np.ones((4, 3)), training=True)
    assert A.dtype == np.float32 and layer.moving_mean.dtype == np.float32
    layer.backward(np.ones((4, 3), dtype=np.float32))
    assert layer.dgamma.dtype == np.float32


def test_bad_batchnorm_arguments():
    with pytest.raises(ValueError, match="n_features to be a positive integer, got 0"):
        BatchNormalization(0)
    with pytest.raises(ValueError, match=r"momentum to be a number in \[0, 1\], got 1.5"):
        BatchNormalization(3, momentum=1.5)
    with pytest.raises(ValueError, match="epsilon to be a positive number, got 0"):
        BatchNormalization(3, epsilon=0)
    with pytest.raises(ValueError, match=r"BatchNormalization layer expects X with 3 features"):
        BatchNormalization(3).forward(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match="forward"):
        BatchNormalization(3).backward(np.ones((2, 3)))


# --------------------------------------------------------------------------
# Inside Sequential / MLP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("loss, k", [("categorical_crossentropy", 3), ("mse", 2)])
def test_mlp_with_dropout_and_batchnorm_gradients(training, loss, k):
    rng = np.random.default_rng(4)
    model = MLP([4, 6, 5, k], activation="tanh", batch_norm=True, dropout=0.3, seed=4,
                output_activation="softmax" if k == 3 else "linear")
    X = rng.standard_normal((7, 4))
    y = one_hot(rng.integers(0, k, 7), k) if k == 3 else rng.standard_normal((7, k))
    model.compile(loss)
    state = [a.copy() for a in model.get_weights()]
    report = check_gradients(model, X, y, training=training)
    assert report.ok, report.explain()
    assert [row.name for row in report.rows][:4] == ["dW1", "db1", "dgamma1", "dbeta1"]
    if training:  # the bias before batch normalisation has no effect: gradient 0
        np.testing.assert_allclose(report["db1"].analytic, 0, atol=1e-14)
        assert report["db1"].floor_applied
    for a, b in zip(state, model.get_weights()):  # nothing moved
        np.testing.assert_array_equal(a, b)


def test_fit_predict_evaluate_with_dropout_and_batchnorm():
    X, y = make_moons(300, noise=0.15, seed=0)
    X_val, y_val = make_moons(200, noise=0.15, seed=1)
    model = MLP([2, 32, 32, 1], batch_norm=True, dropout=0.1, seed=0)
    model.compile("binary_crossentropy", Adam(0.01))
    moving = model.layers[1].moving_mean.copy()
    history = model.fit(X, y, epochs=30, batch_size=32, seed=0, verbose=0,
                        validation_data=(X_val, y_val))
    assert not np.array_equal(model.layers[1].moving_mean, moving)  # updated by training
    state = {k: v.copy() for k, v in model.state().items()}
    p = model.predict(X_val)
    np.testing.assert_array_equal(model.predict(X_val), p)  # inference is deterministic
    loss, accuracy = model.evaluate(X_val, y_val)
    assert accuracy >= 0.95 and history.history["val_accuracy"][-1] == accuracy
    assert loss == pytest.approx(history.history["val_loss"][-1])
    for name, value in model.state().items():  # inference does not touch the state
        np.testing.assert_array_equal(value, state[name])


# --------------------------------------------------------------------------
# AdamW and weight decay
# --------------------------------------------------------------------------

def test_adamw_first_step_by_hand():
    w, g = np.array([1.0, -3.0]), np.array([0.5, 2.0])
    params = {"W1": w.copy()}
    AdamW(learning_rate=0.01, weight_decay=0.1).step(params, {"W1": g})
    decayed = w - 0.01 * 0.1 * w  # first shrink, then the plain Adam step
    expected, _, _ = adam_step(decayed, g, np.zeros(2), np.zeros(2), 1, lr=0.01)
    np.testing.assert_allclose(params["W1"], expected, rtol=1e-15)


def test_adamw_is_adam_with_weight_decay():
    rng = np.random.default_rng(0)
    a = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(2)}
    b = {k: v.copy() for k, v in a.items()}
    ours, same = AdamW(0.01, weight_decay=0.2), Adam(0.01, weight_decay=0.2)
    for _ in range(4):
        grads = {k: rng.standard_normal(v.shape) for k, v in a.items()}
        ours.step(a, grads)
        same.step(b, grads)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert get_optimizer("adamw").weight_decay == 0.004  # Keras' default


def test_decoupled_decay_is_not_l2_inside_adam():
    # a weight whose loss gradient is 0: decoupled decay shrinks it by exactly
    # 1 - lr * wd per step; an L2 penalty's gradient goes through Adam's
    # normalisation instead and moves it by about lr per step
    lr, wd, w0 = 0.01, 0.1, np.array([1.0])
    decoupled = {"w": w0.copy()}
    opt = AdamW(lr, weight_decay=wd)
    for _ in range(3):
        opt.step(decoupled, {"w": np.zeros(1)})
    np.testing.assert_allclose(decoupled["w"], w0 * (1 - lr * wd) ** 3, rtol=1e-14)
    coupled = {"w": w0.copy()}
    adam = Adam(lr)
    for _ in range(3):
        adam.step(coupled, {"w": wd * coupled["w"]})  # gradient of (wd / 2) w**2
    assert coupled["w"][0] == pytest.approx(w0[0] - 3 * lr, rel=1e-4)
    assert abs(coupled["w"][0] - decoupled["w"][0]) > 0.02


def test_weight_decay_exclusions():
    params = {name: np.ones(2) for name in ("W1", "b1", "gamma1", "beta1", "W2", "W21")}
    opt = SGD(0.1, weight_decay=1.0).exclude_from_weight_decay(["b", "gamma", "W2"])
    opt.step(params, {name: np.zeros(2) for name in params})
    decayed = {name for name, p in params.items() if p[0] != 1.0}
    assert decayed == {"W1", "beta1", "W21"}
    with pytest.raises(TypeError, match="parameter names"):
        opt.exclude_from_weight_decay([3])


def test_bad_adamw_arguments():
    with pytest.raises(ValueError, match="needs a weight_decay"):
        AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="weight_decay to be a number >= 0, got -1"):
        AdamW(weight_decay=-1)


def test_adamw_trains_a_model_and_shrinks_its_weights():
    X, y = make_moons(200, noise=0.1, seed=0)
    norms = {}
    for name, optimizer in [("adam", Adam(0.01)), ("adamw", AdamW(0.01, weight_decay=0.5))]:
        model = MLP([2, 16, 1], seed=0).compile("binary_crossentropy", optimizer)
        model.fit(X, y, epochs=40, batch_size=20, seed=0, verbose=0)
        assert model.evaluate(X, y)[1] > 0.85, name
        norms[name] = np.linalg.norm(model.layers[0].W)
    assert norms["adamw"] < 0.9 * norms["adam"]


def test_sequential_of_the_new_layers_by_hand():
    model = Sequential([Dense(2, 3, rng=0), BatchNormalization(3), Dropout(0.5, rng=0),
                        Dense(3, 1, activation="sigmoid", rng=1)])
    assert list(model.params()) == ["W1", "b1", "gamma1", "beta1", "W2", "b2"]
    assert repr(model).count("\n") == 5 and "Dropout(0.5)" in repr(model)
