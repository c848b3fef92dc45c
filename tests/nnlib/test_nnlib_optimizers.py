"""Optimisers: hand-computed steps, purity of the functional forms, and the
in-place classes agreeing with them."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.optimizers import SGD, Adam, adam_step, get_optimizer, momentum_step, sgd_step


def test_sgd_step_by_hand():
    w, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    np.testing.assert_allclose(sgd_step(w, g, lr=0.1), [0.95, -2.4])


def test_momentum_steps_by_hand():
    w, v = np.array([1.0]), np.zeros(1)
    w, v = momentum_step(w, np.array([2.0]), v, lr=0.1, momentum=0.9)
    assert v[0] == pytest.approx(-0.2) and w[0] == pytest.approx(0.8)
    # velocity = 0.9 * (-0.2) - 0.1 * 2 = -0.38; w = 0.8 - 0.38
    w, v = momentum_step(w, np.array([2.0]), v, lr=0.1, momentum=0.9)
    assert v[0] == pytest.approx(-0.38) and w[0] == pytest.approx(0.42)


def test_adam_first_step_by_hand():
    w, g = np.array([1.0]), np.array([2.0])
    w1, m1, v1 = adam_step(w, g, np.zeros(1), np.zeros(1), t=1)
    assert m1[0] == pytest.approx(0.2)  # (1 - 0.9) * 2
    assert v1[0] == pytest.approx(0.004)  # (1 - 0.999) * 4
    alpha = 0.001 * math.sqrt(1 - 0.999) / (1 - 0.9)
    expected = 1.0 - alpha * 0.2 / (math.sqrt(0.004) + 1e-7)
    assert w1[0] == pytest.approx(expected, rel=1e-14)
    # the first Adam step has size ~ lr whatever the gradient's scale
    assert 1.0 - w1[0] == pytest.approx(0.001, rel=1e-5)


def test_functional_forms_are_pure():
    w, g, m, v = (np.arange(3.0) + k for k in range(4))
    copies = [a.copy() for a in (w, g, m, v)]
    sgd_step(w, g, 0.1)
    momentum_step(w, g, m, 0.1, 0.9)
    adam_step(w, g, m, v, 3)
    for a, c in zip((w, g, m, v), copies):
        np.testing.assert_array_equal(a, c)


def random_params(rng, dtype=np.float64):
    return {"W1": rng.standard_normal((3, 4)).astype(dtype),
            "b1": rng.standard_normal(4).astype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_class_matches_adam_step_in_place(dtype):
    rng = np.random.default_rng(0)
    params = random_params(rng, dtype)
    ref = {k: (p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape))
           for k, p in params.items()}
    ids = {k: id(p) for k, p in params.items()}
    opt = Adam(learning_rate=0.01)
    for t in range(1, 6):
        grads = {k: rng.standard_normal(p.shape).astype(dtype) for k, p in params.items()}
        opt.step(params, grads)
        ref = {k: adam_step(*ref[k][:1], grads[k].astype(np.float64), *ref[k][1:], t=t, lr=0.01)
               for k in ref}
    assert opt.iterations == 5
    for k, p in params.items():
        assert id(p) == ids[k] and p.dtype == dtype  # updated in place, no upcast
        np.testing.assert_allclose(p, ref[k][0], rtol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_class_matches_functional_forms(momentum):
    rng = np.random.default_rng(1)
    params = random_params(rng)
    ref = {k: (p.copy(), np.zeros(p.shape)) for k, p in params.items()}
    opt = SGD(learning_rate=0.05, momentum=momentum)
    for _ in range(4):
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        opt.step(params, grads)
        if momentum:
            ref = {k: momentum_step(ref[k][0], grads[k], ref[k][1], 0.05, momentum) for k in ref}
        else:
            ref = {k: (sgd_step(ref[k][0], grads[k], 0.05), None) for k in ref}
    for k, p in params.items():
        np.testing.assert_allclose(p, ref[k][0], rtol=1e-14)


@pytest.mark.parametrize("optimizer", [SGD(0.1), SGD(0.05, momentum=0.9), Adam(0.1)])
def test_optimizers_minimise_a_quadratic(optimizer):
    # f(w) = 0.5 * sum(c * w^2) with different curvatures c, minimum at 0
    c = np.array([1.0, 5.0])
    params = {"w": np.array([3.0, -2.0])}
    for _ in range(300):
        optimizer.step(params, {"w": c * params["w"]})
    assert np.abs(params["w"]).max() < 1e-2


def test_reset_and_defaults_match_keras():
    adam = Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999,
                                                                          1e-7)
    sgd = SGD()
    assert (sgd.learning_rate, sgd.momentum) == (0.01, 0.0)
    params = {"w": np.ones(2)}
    adam.step(params, {"w": np.ones(2)})
    adam.reset()
    assert adam.iterations == 0
    assert isinstance(get_optimizer("Adam"), Adam) and get_optimizer(sgd) is sgd


def test_bad_optimizer_arguments():
    with pytest.raises(ValueError, match="learning_rate to be a positive number, got -0.1"):
        SGD(learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"momentum to be a number in \[0, 1\], got 1.5"):
        SGD(momentum=1.5)
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        get_optimizer("adma")
