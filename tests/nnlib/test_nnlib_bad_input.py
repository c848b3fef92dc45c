"""Bad input gets an error that says what was expected and what was given."""
from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense
from nnlib.model import MLP, Sequential


@pytest.fixture
def model():
    m = MLP([4, 3, 2], seed=0)
    m.compile("categorical_crossentropy", "adam")
    return m


def test_wrong_number_of_features(model):
    with pytest.raises(ValueError) as info:
        model.predict(np.zeros((3, 5)))
    assert str(info.value) == ("this model expects X with 4 features (shape (n_samples, 4)), "
                               "got shape (3, 5)")


def test_1d_input_suggests_reshape(model):
    with pytest.raises(ValueError) as info:
        model.predict(np.zeros(4))
    message = str(info.value)
    assert "2-D array of shape (n_samples, 4)" in message and "(4,)" in message
    assert "reshape(1, -1)" in message


def test_mismatched_sample_counts(model):
    with pytest.raises(ValueError) as info:
        model.fit(np.zeros((10, 4)), np.zeros((9, 2)), verbose=0)
    message = str(info.value)
    assert "X with 10" in message and "y with 9" in message and "same number of samples" in message


def test_integer_labels_for_a_softmax_output_suggest_one_hot(model):
    with pytest.raises(ValueError) as info:
        model.evaluate(np.zeros((5, 4)), np.array([0, 1, 1, 0, 1]))
    message = str(info.value)
    assert "(n_samples, 2)" in message and "(5,)" in message and "one_hot(y, 2)" in message
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\), got shape \(5, 3\)"):
        model.evaluate(np.zeros((5, 4)), np.zeros((5, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(model, bad):
    X = np.zeros((3, 4))
    X[1, 2] = bad
    with pytest.raises(ValueError) as info:
        model.predict(X)
    message = str(info.value)
    assert "finite" in message and "index (1, 2)" in message and "1 nan/inf" in message
    y = np.zeros((3, 2))
    y[0, 0] = bad
    with pytest.raises(ValueError, match=r"expected y to contain only finite numbers.*\(0, 0\)"):
        model.fit(np.zeros((3, 4)), y, verbose=0)


def test_validation_data_is_checked_too(model):
    with pytest.raises(ValueError, match=r"X_val with 4 features .* got shape \(2, 3\)"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 2)), validation_data=(np.zeros((2, 3)),
                                                                        np.zeros((2, 2))),
                  verbose=0)
    with pytest.raises(ValueError, match=r"tuple \(X_val, y_val\)"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 2)), validation_data=np.zeros((2, 4)),
                  verbose=0)


def test_unknown_names():
    with pytest.raises(ValueError) as info:
        Dense(2, 2, activation="sigmod")
    assert str(info.value).startswith("unknown activation 'sigmod'; choose one of: linear, step, "
                                      "sigmoid")
    assert str(info.value).endswith("(did you mean 'sigmoid'?)")
    m = MLP([2, 2, 1])
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'; choose one of: mse, "
                                         "half_mse, binary_crossentropy"):
        m.compile("crossentropy")
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; choose one of: sgd, adam"):
        m.compile("mse", "adamax")
    with pytest.raises(ValueError, match="unknown metric 'precision'; choose one of: accuracy"):
        m.compile("mse", metrics=["precision"])
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        Dense(2, 2, kernel_initializer="glorot")


def test_bad_fit_arguments(model):
    X, y = np.zeros((4, 4)), np.zeros((4, 2))
    with pytest.raises(ValueError, match="batch_size to be a positive integer, got 0"):
        model.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="epochs to be a non-negative integer, got 2.5"):
        model.fit(X, y, epochs=2.5)
    with pytest.raises(ValueError, match="verbose to be 0, 1 or 2, got 3"):
        model.fit(X, y, verbose=3)


def test_fit_before_compile_and_without_optimizer():
    m = MLP([2, 2, 1])
    with pytest.raises(RuntimeError, match=r"call model.compile\(loss=\.\.\."):
        m.fit(np.zeros((2, 2)), np.zeros((2, 1)))
    m.compile("mse")
    with pytest.raises(RuntimeError, match="fit needs an optimizer"):
        m.fit(np.zeros((2, 2)), np.zeros((2, 1)))


def test_building_inconsistent_models():
    with pytest.raises(ValueError) as info:
        Sequential([Dense(4, 3), Dense(2, 1)])
    assert str(info.value) == ("Dense layer 2 expects 2 inputs, but the layer before it has 3 "
                               "outputs; use Dense(3, 1, ...)")
    with pytest.raises(ValueError, match="share one dtype"):
        Sequential([Dense(4, 3), Dense(3, 1, dtype=np.float32)])
    with pytest.raises(TypeError, match="got str at position 1"):
        Sequential([Dense(4, 3), "relu"])
    with pytest.raises(ValueError, match="non-empty"):
        Sequential([])
    with pytest.raises(ValueError, match="at least two numbers, got \\[3\\]"):
        MLP([3])


def test_set_weights_errors(model):
    with pytest.raises(ValueError, match=r"expects 4 arrays \(W1, b1, W2, b2\), got 2"):
        model.set_weights(model.get_weights()[:2])
    weights = model.get_weights()
    weights[2] = weights[2].T
    with pytest.raises(ValueError, match=r"W2 must have shape \(3, 2\), got \(2, 3\)"):
        model.set_weights(weights)


def test_dense_layer_in_a_model_names_its_position():
    m = Sequential([Dense(4, 3), Dense(3, 2)])
    with pytest.raises(ValueError) as info:
        m.layers[1].forward(np.zeros((3, 5)))
    assert str(info.value) == ("Dense layer 2 expects X with 3 features (shape (n_samples, 3)), "
                               "got shape (3, 5)")
    assert nnlib.layers.Dense(3, 2).forward(np.zeros((1, 3))).shape == (1, 2)
