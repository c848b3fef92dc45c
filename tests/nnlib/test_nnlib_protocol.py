"""The layer protocol (issue 14): Sequential knows layers only through
forward/backward/params/grads/state, the training flag reaches every layer
as it should, gradient checking uses the public interface only, and
hyperparameters are checked in one place."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import model as model_module
from nnlib.data import make_xor, one_hot
from nnlib.gradcheck import check_gradients
from nnlib.layers import Activation, BatchNormalization, Dense, Dropout, Layer
from nnlib.model import MLP, Sequential
from nnlib.optimizers import OPTIMIZERS, SGD, Adam, AdamW

NNLIB = Path(nnlib.__file__).parent
CONCRETE_LAYERS = {"Dense", "Activation", "Dropout", "BatchNormalization"}


class Scale(Layer):
    """A layer written only against the protocol: ``A = X * s``, one
    trainable factor per feature."""

    def __init__(self, n):
        super().__init__()
        self.n_in = self.n_out = n
        self.s = np.linspace(0.5, 1.5, n)
        self.ds = np.zeros(n)
        self.X = None

    @property
    def dtype(self):
        return self.s.dtype

    def forward(self, X, training=False):
        self.X = X
        return X * self.s

    def backward(self, dA, need_dX=True):
        self.ds = (dA * self.X).sum(axis=0)
        return dA * self.s

    def params(self):
        return {"s": self.s}

    def grads(self):
        return {"s": self.ds}


class Spy(Layer):
    """The identity, recording the ``training`` flag of every forward pass."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, X, training=False):
        self.calls.append(training)
        return X

    def backward(self, dA, need_dX=True):
        return dA


def test_a_new_layer_needs_only_the_protocol():
    rng = np.random.default_rng(0)
    model = Sequential([Dense(3, 4, activation="tanh", rng=0), Scale(4),
                        Dense(4, 2, activation="softmax", rng=1)])
    assert list(model.params()) == ["W1", "b1", "s1", "W2", "b2"]
    assert model.count_params() == 3 * 4 + 4 + 4 + 4 * 2 + 2
    X, y = rng.standard_normal((20, 3)), one_hot(rng.integers(0, 2, 20), 2)
    model.compile("categorical_crossentropy", Adam(0.05))
    report = check_gradients(model, X, y)
    assert report.ok and "ds1" in [row.name for row in report.rows], str(report)
    history = model.fit(X, y, epochs=30, batch_size=5, seed=0, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert not np.allclose(model.layers[1].s, np.linspace(0.5, 1.5, 4))  # it was trained


def test_sequential_has_no_branches_on_layer_types():
    tree = ast.parse(inspect.getsource(model_module))
    sequential = next(node for node in ast.walk(tree)
                      if isinstance(node, ast.ClassDef) and node.name == "Sequential")
    named = {node.id for node in ast.walk(sequential) if isinstance(node, ast.Name)}
    assert not named & CONCRETE_LAYERS
    on_layers = [ast.unparse(call.args[1]) for call in ast.walk(sequential)
                 if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "isinstance"
                 and "layer" in ast.unparse(call.args[0])]
    assert on_layers == ["Layer"]  # only: is this a layer at all?


def test_gradcheck_uses_no_private_attributes():
    tree = ast.parse((NNLIB / "gradcheck.py").read_text())
    private = sorted({node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                      and node.attr.startswith("_") and not node.attr.endswith("__")})
    assert private == []


def test_training_flag_reaches_every_layer():
    X, y = make_xor()
    spy = Spy()
    model = Sequential([Dense(2, 3, activation="tanh", rng=0), spy,
                        Dense(3, 1, activation="sigmoid", rng=1)])
    model.compile("binary_crossentropy", "sgd")
    model.fit(X, y, epochs=2, batch_size=2, validation_data=(X, y), verbose=0)
    assert spy.calls == [True, True, False] * 2  # two batches, then validation, per epoch
    for call, expected in [(lambda: model.predict(X), False),
                           (lambda: model.evaluate(X, y), False),
                           (lambda: model.compute_loss(X, y), False),
                           (lambda: model.compute_loss(X, y, training=True), True),
                           (lambda: model.loss_and_grads(X, y), True),
                           (lambda: model.loss_and_grads(X, y, training=False), False),
                           (lambda: model.forward(X), False)]:
        spy.calls.clear()
        call()
        assert spy.calls == [expected]


def test_names_and_keras_weight_order_with_batch_normalization():
    model = MLP([3, 4, 5, 2], batch_norm=True, dropout=0.25, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dropout"] * 2 + ["Dense"]
    assert list(model.params()) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2",
                                    "beta2", "W3", "b3"]
    assert list(model.state()) == ["moving_mean1", "moving_variance1", "moving_mean2",
                                   "moving_variance2"]
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4,), (4,), (4,), (4,),  # W1 b1 gamma1 beta1 mean1 var1
                      (4, 5), (5,), (5,), (5,), (5,), (5,), (5, 2), (2,)]
    assert model.count_params() == sum(w.size for w in model.get_weights())
    new = [np.full(s, float(i)) for i, s in enumerate(shapes)]
    model.set_weights(new)
    np.testing.assert_array_equal(model.layers[1].moving_variance, 5.0)
    with pytest.raises(ValueError, match=r"expects 14 arrays \(W1, b1, gamma1, beta1, "
                                         r"moving_mean1, moving_variance1, W2"):
        model.set_weights(new[:4])


def test_mlp_without_extras_is_unchanged():
    plain = MLP([4, 5, 2], seed=3)
    assert [type(layer).__name__ for layer in plain.layers] == ["Dense", "Dense"]
    # dropout masks draw from a spawned stream: the initial weights do not change
    with_dropout = MLP([4, 5, 2], seed=3, dropout=0.5)
    for a, b in zip(plain.get_weights(), with_dropout.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_summary_counts_non_trainable_state(capsys):
    MLP([3, 4, 2], batch_norm=True).summary()
    out = capsys.readouterr().out
    assert "BatchNormalization 1" in out and "Total params: 42" in out
    assert "Trainable params: 34" in out and "Non-trainable params: 8" in out


def test_sequential_construction_errors():
    with pytest.raises(ValueError) as info:
        Sequential([Dense(4, 3), BatchNormalization(2)])
    assert str(info.value) == ("BatchNormalization layer 1 expects 2 inputs, but the layer "
                               "before it has 3 outputs; use BatchNormalization(3, ...)")
    with pytest.raises(ValueError, match="BatchNormalization layer 1 has float32"):
        Sequential([Dense(4, 3), BatchNormalization(3, dtype=np.float32)])
    with pytest.raises(ValueError, match="at least one layer with a fixed number of inputs"):
        Sequential([Activation("relu"), Dropout(0.5)])
    with pytest.raises(ValueError, match="two layers name an array s1"):
        Sequential([Dense(2, 2), Scale(2), type("Scale2", (Scale,), {})(2)])
    with pytest.raises(TypeError, match="subclasses of nnlib.layers.Layer.*got Spy"):
        Sequential([Dense(2, 2), type("Spy", (), {})()])


def test_every_optimizer_checks_its_hyperparameters_in_one_place():
    for name, cls in OPTIMIZERS.items():
        arguments = [p for p in inspect.signature(cls).parameters]
        assert set(arguments) <= set(cls._constraints), name  # each one declared
        for argument in arguments:
            with pytest.raises(ValueError, match=f"expected {argument} to be"):
                cls(**{argument: "1"})
            with pytest.raises(ValueError, match=f"expected {argument} to be .*not finite"):
                cls(**{argument: float("nan")})


def test_weight_decay_lives_in_the_base_class():
    assert "_apply_weight_decay" not in {**vars(SGD), **vars(Adam), **vars(AdamW)}
    assert set(vars(AdamW)) <= {"__init__", "__doc__", "__module__", "__qualname__"}
    params = {"w": np.array([2.0, -4.0])}
    SGD(0.1, weight_decay=0.5).step(params, {"w": np.zeros(2)})  # decay only: w (1 - 0.05)
    np.testing.assert_allclose(params["w"], [1.9, -3.8], rtol=1e-15)
