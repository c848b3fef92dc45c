"""Property-based tests (hypothesis): invariants that must hold for any
input, not just the examples we thought of."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnlib
from nnlib import losses
from nnlib.activations import sigmoid, softmax

FAST = settings(max_examples=50, deadline=None)
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
rows = st.tuples(st.integers(1, 6), st.integers(1, 6))


@FAST
@given(arrays(np.float64, rows, elements=finite))
def test_softmax_rows_are_probabilities(z):
    p = softmax(z)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


@FAST
@given(arrays(np.float64, rows, elements=st.floats(-50, 50)), st.floats(-500, 500))
def test_softmax_is_shift_invariant(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-9, atol=1e-12)


@FAST
@given(arrays(np.float64, st.integers(1, 20), elements=finite))
def test_sigmoid_symmetry(z):
    np.testing.assert_allclose(sigmoid(-z), 1 - sigmoid(z), atol=1e-15)
    assert np.all((sigmoid(z) >= 0) & (sigmoid(z) <= 1))


@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.just(3)),
              elements=st.sampled_from([0.0, 1.0, 0.5, 1e-12, 1 - 1e-12])),
       st.integers(0, 2**31 - 1))
def test_losses_finite_at_probabilities_0_and_1(p, seed):
    rng = np.random.default_rng(seed)
    y_bin = rng.integers(0, 2, p.shape).astype(float)
    y_cat = np.eye(3)[rng.integers(0, 3, len(p))]
    for value in (losses.binary_cross_entropy(y_bin, p),
                  losses.categorical_cross_entropy(y_cat, p)):
        assert np.isfinite(value) and value >= 0
    for grad in (losses.binary_cross_entropy_grad(y_bin, p),
                 losses.categorical_cross_entropy_grad(y_cat, p)):
        assert np.all(np.isfinite(grad))


@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=finite),
       st.integers(0, 2**31 - 1))
def test_logit_losses_finite_for_any_logits(z, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, z.shape).astype(float)
    assert np.isfinite(losses.binary_cross_entropy_from_logits(y, z))
    onehot = np.eye(z.shape[1])[rng.integers(0, z.shape[1], len(z))]
    assert np.isfinite(losses.softmax_cross_entropy(onehot, z))
    assert np.all(np.isfinite(losses.softmax_cross_entropy_grad(onehot, z)))


@FAST
@given(st.integers(1, 40), st.lists(st.integers(1, 6), min_size=2, max_size=4),
       st.sampled_from([np.float32, np.float64]))
def test_output_shapes_for_any_batch_size(n, sizes, dtype):
    model = nnlib.MLP(sizes, activation="tanh", seed=0, dtype=dtype)
    X = np.random.default_rng(n).standard_normal((n, sizes[0]))
    out = model.predict(X)
    assert out.shape == (n, sizes[-1]) and out.dtype == dtype
    model.compile("mse")
    _, grads = model.loss_and_grads(X, np.zeros((n, sizes[-1])))
    for name, p in model.params().items():
        assert grads[name].shape == p.shape and grads[name].dtype == dtype
    layer = nnlib.Dense(sizes[0], 3, activation="relu", rng=0, dtype=dtype)
    assert layer.forward(X).shape == (n, 3)
    assert layer.backward(np.ones((n, 3), dtype=dtype)).shape == (n, sizes[0])
