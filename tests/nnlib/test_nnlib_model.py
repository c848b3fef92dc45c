"""Sequential / MLP: whole-network gradient checks, learning XOR and the
digits, determinism, the Keras-like training interface."""
from __future__ import annotations

import time

import numpy as np
import pytest

import nnlib
from nnlib import losses
from nnlib.data import StandardScaler, load_digits, make_xor, one_hot, train_test_split
from nnlib.gradcheck import check_gradients, relative_error
from nnlib.layers import Activation, Dense
from nnlib.model import MLP, Sequential

# (hidden activation, output activation, loss, n_outputs)
NETWORKS = [
    ("relu", "softmax", "categorical_crossentropy", 3),
    ("tanh", "sigmoid", "binary_crossentropy", 1),
    ("sigmoid", "sigmoid", "binary_crossentropy", 2),   # multi-label
    ("leaky_relu", "linear", "mse", 2),
    ("sigmoid", "linear", "half_mse", 1),
    ("tanh", "softmax", "mse", 3),                      # not fused: goes through the Jacobian
]
SEEDS = [0, 1, 2]


def targets(loss, n, k, rng):
    if loss == "categorical_crossentropy":
        return one_hot(rng.integers(0, k, n), k)
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.standard_normal((n, k))


@pytest.mark.parametrize("hidden, output, loss, k", NETWORKS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, sizes", [(5, [4, 6, 5]), (12, [3, 8, 4]), (1, [2, 3, 3])])
def test_three_layer_mlp_gradients_match_central_differences(hidden, output, loss, k, seed,
                                                             n, sizes):
    rng = np.random.default_rng(seed)
    model = MLP(sizes + [k], activation=hidden, output_activation=output, seed=seed,
                bias_initializer="normal")
    model.compile(loss=loss)
    X = rng.standard_normal((n, sizes[0]))
    report = check_gradients(model, X, targets(loss, n, k, rng))
    assert [row.name for row in report.rows] == ["dW1", "db1", "dW2", "db2", "dW3", "db3"]
    assert report.ok, str(report)
    assert report.max_error < 1e-7


@pytest.mark.parametrize("seed", SEEDS)
def test_l2_regularisation_is_in_loss_and_gradients(seed):
    rng = np.random.default_rng(seed)
    model = MLP([4, 5, 3, 2], activation="tanh", seed=seed, l2=0.05)
    model.compile(loss="categorical_crossentropy")
    X, y = rng.standard_normal((6, 4)), one_hot(rng.integers(0, 2, 6), 2)
    assert check_gradients(model, X, y).max_error < 1e-7
    plain = losses.categorical_cross_entropy(y, model.predict(X))
    penalty = 0.05 * sum(np.sum(layer.W**2) for layer in model.layers)
    assert model.compute_loss(X, y) == pytest.approx(plain + penalty, rel=1e-12)


@pytest.mark.parametrize("output, loss", [("softmax", "categorical_crossentropy"),
                                          ("sigmoid", "binary_crossentropy")])
def test_fused_output_gradient_equals_the_chain_rule(output, loss):
    rng = np.random.default_rng(3)
    model = MLP([3, 4, 3], activation="tanh", output_activation=output, seed=3)
    model.compile(loss=loss)
    X = rng.standard_normal((5, 3))
    y = targets(loss, 5, 3, rng)
    _, fused = model.loss_and_grads(X, y)
    fused = {k: g.copy() for k, g in fused.items()}
    # unfused: dL/dp from the loss, then back through the output activation
    p = model.forward(X)
    model.backward(losses.get_loss_gradient(loss)(y, p))
    for name, g in model.grads().items():
        assert relative_error(g, fused[name]) < 1e-10, name


def test_activation_layers_equal_fused_dense_activations():
    fused = MLP([3, 4, 2], activation="relu", output_activation="softmax", seed=5)
    split = Sequential([Dense(3, 4), Activation("relu"), Dense(4, 2), Activation("softmax")])
    split.set_weights(fused.get_weights())
    X = np.random.default_rng(0).standard_normal((6, 3))
    y = one_hot([0, 1, 1, 0, 1, 0])
    np.testing.assert_allclose(split.predict(X), fused.predict(X), rtol=1e-14)
    for m in (fused, split):
        m.compile("categorical_crossentropy")
    _, g1 = fused.loss_and_grads(X, y)
    g1 = {k: v.copy() for k, v in g1.items()}
    _, g2 = split.loss_and_grads(X, y)
    for k in g1:
        np.testing.assert_allclose(g2[k], g1[k], rtol=1e-12, atol=1e-15)


def test_forward_by_hand_two_layers():
    model = Sequential([Dense(2, 2, activation="relu"), Dense(2, 1)])
    model.set_weights([np.array([[1.0, -1.0], [2.0, 1.0]]), np.array([0.0, 0.5]),
                       np.array([[3.0], [-2.0]]), np.array([1.0])])
    # x = (1, 1): hidden z = (3, 0.5) -> relu (3, 0.5) -> 3*3 - 2*0.5 + 1 = 9
    # x = (1, -1): hidden z = (-1, -1.5) -> relu (0, 0) -> output 1
    np.testing.assert_allclose(model.predict([[1.0, 1.0], [1.0, -1.0]]), [[9.0], [1.0]])


def test_xor_is_solved_by_a_2_4_1_sigmoid_network():
    X, y = make_xor()
    model = MLP([2, 4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    model.compile(loss="binary_crossentropy", optimizer=nnlib.SGD(0.5, momentum=0.9))
    start = time.perf_counter()
    history = model.fit(X, y, epochs=500, batch_size=4, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    p = model.predict(X)
    print(f"\nXOR: predictions {p.ravel().round(3)}, {seconds:.2f} s")
    np.testing.assert_array_equal(p > 0.5, y > 0.5)
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.1 < history.history["loss"][0]


def test_xor_is_solved_from_several_seeds():
    X, y = make_xor()
    for seed in range(5):
        model = MLP([2, 4, 1], activation="sigmoid", seed=seed)
        model.compile(loss="binary_crossentropy", optimizer=nnlib.SGD(0.5, momentum=0.9))
        model.fit(X, y, epochs=500, batch_size=4, seed=seed, verbose=0)
        assert model.evaluate(X, y)[1] == 1.0, seed


def test_digits_reach_95_percent_test_accuracy():
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = MLP([64, 128, 10], activation="relu", output_activation="softmax", seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    start = time.perf_counter()
    history = model.fit(X_train, one_hot(y_train, 10), epochs=20, batch_size=32, seed=0,
                        validation_data=(X_test, one_hot(y_test, 10)), verbose=0)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(X_test, one_hot(y_test, 10))
    # independent check of the accuracy: count the argmax hits directly
    hits = np.mean(model.predict(X_test).argmax(axis=1) == y_test)
    print(f"\ndigits: test accuracy {accuracy:.4f}, loss {loss:.4f}, training {seconds:.2f} s")
    assert accuracy == pytest.approx(hits)
    assert accuracy >= 0.95
    assert history.history["val_accuracy"][-1] == pytest.approx(accuracy)
    assert history.history["loss"][-1] < history.history["loss"][0]


def train_small(seed_init, seed_fit, dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = one_hot((X[:, 0] > 0).astype(int), 2)
    model = MLP([3, 8, 2], seed=seed_init, dtype=dtype)
    model.compile("categorical_crossentropy", "adam")
    model.fit(X, y, epochs=3, batch_size=8, seed=seed_fit, verbose=0)
    return model.get_weights()


def test_same_seeds_give_identical_weights():
    for a, b in zip(train_small(1, 2), train_small(1, 2)):
        np.testing.assert_array_equal(a, b)
    # and the seeds matter: a different shuffling seed changes the result
    assert not all(np.array_equal(a, b) for a, b in zip(train_small(1, 2), train_small(1, 3)))
    assert not all(np.array_equal(a, b) for a, b in zip(train_small(1, 2), train_small(4, 2)))


def test_float32_model_computes_in_float32():
    weights = train_small(1, 2, dtype=np.float32)
    assert all(w.dtype == np.float32 for w in weights)
    model = MLP([3, 8, 2], seed=1, dtype=np.float32)
    model.compile("categorical_crossentropy", "sgd")
    X = np.random.default_rng(0).standard_normal((5, 3))  # float64 in
    assert model.predict(X).dtype == np.float32
    _, grads = model.loss_and_grads(X, one_hot([0, 1, 0, 1, 1]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_history_and_verbose_modes(capsys):
    X, y = make_xor()
    model = MLP([2, 3, 1], activation="tanh", seed=0)
    model.compile("binary_crossentropy", "adam")
    history = model.fit(X, y, epochs=3, batch_size=2, validation_data=(X, y), verbose=0)
    assert capsys.readouterr().out == ""
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2] and len(history.epoch_times) == 3
    assert history.params == {"epochs": 3, "steps": 2, "batch_size": 2}

    model.fit(X, y, epochs=3, batch_size=2, verbose=2)
    lines = capsys.readouterr().out.strip("\n").split("\n")
    assert len(lines) == 3 and lines[0].lstrip("\r").startswith("Epoch 1/3")
    assert "loss: " in lines[2] and "accuracy: " in lines[2]

    model.fit(X, y, epochs=2, batch_size=1, verbose=1)
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "\r" in out and "4/4 [" in out and "ms/step" in out


def test_evaluate_matches_the_loss_function_and_metrics_can_be_dropped():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), one_hot(rng.integers(0, 3, 10), 3)
    model = MLP([3, 4, 3], seed=0)
    model.compile("categorical_crossentropy")
    loss, accuracy = model.evaluate(X, y)
    p = model.predict(X)
    assert loss == pytest.approx(-np.mean(np.sum(y * np.log(p), axis=1)), rel=1e-12)
    assert accuracy == np.mean(p.argmax(1) == y.argmax(1))
    model.compile("categorical_crossentropy", metrics=[])
    assert isinstance(model.evaluate(X, y), float)


def test_one_output_accepts_1d_targets():
    X, y = make_xor()
    model = MLP([2, 3, 1], seed=0)
    model.compile("binary_crossentropy", "sgd")
    assert model.evaluate(X, y.ravel()) == model.evaluate(X, y)


def test_get_set_weights_and_summary(capsys):
    model = MLP([4, 5, 2], seed=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 5), (5,), (5, 2), (2,)]
    weights[0][...] = 0  # copies: changing them does not touch the model
    assert np.any(model.get_weights()[0] != 0)
    model.set_weights([np.full(w.shape, 0.5) for w in weights])
    assert np.all(model.layers[0].W == 0.5)
    assert list(model.params()) == ["W1", "b1", "W2", "b2"]
    assert model.count_params() == 4 * 5 + 5 + 5 * 2 + 2
    model.summary()
    assert "Total params: 37" in capsys.readouterr().out


def test_mlp_output_activation_auto():
    assert MLP([2, 3, 1]).output_activation == "sigmoid"
    assert MLP([2, 3, 4]).output_activation == "softmax"
    assert MLP([2, 3, 1], output_activation="linear").output_activation == "linear"
