"""Checks of the chapter 6 exercises (solutions/ch06_backprop.ipynb).

Gradients are checked against central differences computed in the trusted process with the
reference forward pass, parameter by parameter ("dW2 wrong (rel. error 4.2e-01), db2 ok"). The
optional challenge ``ch06.layer_norm_backward`` (bonus points) is checked the same way, with a
layer-normalisation forward pass written in this module, and against two invariances of the layer
(to shifting a row, and with eps = 0 to scaling it).
"""
import numpy as np

from grader.checks import (CheckFailed, check, expect_close, expect_gradients, expect_no_warnings,
                           expect_true, numerical_gradient, run)
from grader.i18n import _

NOTEBOOK = "ch06_backprop"


# ----------------------------------------------------------------------------- dense_backward
def _dense_case(seed, n, n_in, n_out):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_out)), rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)


def _dense_numeric(dZ, X, W, b):
    """Gradients of L = sum(dZ * (X @ W + b)), whose dL/dZ is dZ, by central differences."""
    def loss_of(name):
        def f(v):
            args = {"X": X, "W": W, "b": b, name: v}
            return float(np.sum(dZ * (args["X"] @ args["W"] + args["b"])))
        return f
    return {k: numerical_gradient(loss_of(k), v.copy()) for k, v in (("X", X), ("W", W), ("b", b))}


def _as_grad_dict(got, function="dense_backward", names=("X", "W", "b")):
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        found = ("%d items" % len(got) if isinstance(got, (tuple, list))
                 else type(got).__name__)
        raise CheckFailed(_("%s should return a tuple (%s), got %s")
                          % (function, ", ".join("d" + name for name in names), found),
                          kind="type")
    return dict(zip(names, got))


@check("ch06.dense_backward", points=2,
       hint="dW = X.T @ dZ, db = dZ.sum(axis=0), dX = dZ @ W.T; each gradient has its variable's shape.")
def test_dense_backward_gradient_check(sub):
    dZ, X, W, b = _dense_case(61, 4, 3, 2)
    got = _as_grad_dict(run(sub.dense_backward, dZ, X, W))
    expect_gradients(got, _dense_numeric(dZ, X, W, b), tol=1e-7)


@check("ch06.dense_backward", points=1, hint="db sums over the batch axis: shape (n_out,), not (1, n_out).")
def test_dense_backward_shapes(sub):
    dZ, X, W, _unused = _dense_case(62, 2, 3, 4)
    dX, dW, db = _as_grad_dict(run(sub.dense_backward, dZ, X, W)).values()
    expect_close(dX, dZ @ W.T, what=_("dX"))
    expect_close(dW, X.T @ dZ, what=_("dW"))
    expect_close(db, dZ.sum(axis=0), what=_("db"))


@check("ch06.dense_backward", points=2, hidden=True)
def test_dense_backward_other_shapes(sub, ref):
    dZ, X, W, b = _dense_case(63, 7, 5, 3)
    got = _as_grad_dict(run(sub.dense_backward, dZ, X, W))
    expect_gradients(got, dict(zip(("X", "W", "b"), ref.dense_backward(dZ, X, W))), tol=1e-9)


# ----------------------------------------------------------------------------- mlp_backward
def _mlp_case(ref, seed, n, d, h, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    params = ref.init_params(d, h, k, seed=seed)
    params["b1"] = rng.normal(scale=0.1, size=h)
    params["b2"] = rng.normal(scale=0.1, size=k)
    _unused, cache = ref.mlp_forward(X, params)
    return X, Y, params, cache


def _mlp_numeric(ref, X, Y, params):
    out = {}
    for name in ("W1", "b1", "W2", "b2"):
        p = {k: v.copy() for k, v in params.items()}

        def f(v, name=name, p=p):
            p[name] = v
            return ref.cross_entropy(ref.mlp_forward(X, p)[0], Y)
        out[name] = numerical_gradient(f, params[name].copy())
    return out


def _mlp_grads(sub, cache, params, Y):
    return run(sub.mlp_backward, cache, params, Y)


@check("ch06.mlp_backward", points=2, hint="Start from dZ2 = (P - Y) / n; then dW2 = A1.T @ dZ2 and db2 = dZ2.sum(axis=0).")
def test_mlp_backward_output_layer(sub, ref):
    X, Y, params, cache = _mlp_case(ref, 64, 4, 3, 5, 3)
    got = _mlp_grads(sub, cache, params, Y)
    num = _mlp_numeric(ref, X, Y, params)
    expect_gradients(got, {"W2": num["W2"], "b2": num["b2"]}, tol=1e-6)


@check("ch06.mlp_backward", points=2,
       hint="dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1): A1 is already sigmoid(Z1), do not apply the sigmoid again.")
def test_mlp_backward_hidden_layer(sub, ref):
    X, Y, params, cache = _mlp_case(ref, 65, 4, 3, 5, 3)
    got = _mlp_grads(sub, cache, params, Y)
    num = _mlp_numeric(ref, X, Y, params)
    expect_gradients(got, {"W1": num["W1"], "b1": num["b1"]}, tol=1e-6)


@check("ch06.mlp_backward", points=1,
       hint="Return a dict with exactly the keys W1, b1, W2, b2, each gradient shaped like its parameter.")
def test_mlp_backward_keys_and_shapes(sub, ref):
    X, Y, params, cache = _mlp_case(ref, 66, 3, 2, 4, 2)
    got = _mlp_grads(sub, cache, params, Y)
    expect_true(isinstance(got, dict), _("mlp_backward should return a dict of gradients, got %s")
                % type(got).__name__, kind="type")
    expect_true(set(got) == set(params), _("the gradients dict has keys %s, expected %s")
                % (sorted(map(str, got)), sorted(params)), kind="keys")
    for name, value in params.items():
        shape = getattr(got[name], "shape", None)
        expect_true(shape == value.shape, _("d%s has shape %s, expected %s (the shape of %s)")
                    % (name, shape, value.shape, name), kind="shape")


@check("ch06.mlp_backward", points=2, hidden=True)
def test_mlp_backward_gradient_check_other_shapes(sub, ref):
    X, Y, params, cache = _mlp_case(ref, 67, 9, 4, 6, 2)
    got = _mlp_grads(sub, cache, params, Y)
    expect_gradients(got, _mlp_numeric(ref, X, Y, params), tol=1e-6)


# ----------------------------------------------------------------------------- softplus_dense_backward
def _softplus_numeric(dA, X, W, b):
    """Gradients of L = sum(dA * softplus(X @ W + b)), whose dL/dA is dA, by central differences
    (softplus as np.logaddexp(0, z): an independent, stable forward pass)."""
    def loss_of(name):
        def f(v):
            args = {"X": X, "W": W, "b": b, name: v}
            return float(np.sum(dA * np.logaddexp(0.0, args["X"] @ args["W"] + args["b"])))
        return f
    return {k: numerical_gradient(loss_of(k), v.copy()) for k, v in (("X", X), ("W", W), ("b", b))}


def _softplus_case(seed, n, n_in, n_out, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, n_out)), rng.normal(size=(n, n_in)) * scale,
            rng.normal(size=(n_in, n_out)), rng.normal(size=n_out))


SOFTPLUS_HINT = ("d/dz log(1 + e^z) = e^z / (1 + e^z): a function you wrote in chapter 3. Then "
                 "dZ = dA * (that function of Z) and the dense layer's rules give dX, dW, db.")


@check("ch06.softplus_dense_backward", points=1, hint=SOFTPLUS_HINT)
def test_softplus_backward_slope_one_half_at_zero(sub):
    # X = 0 and b = 0 make Z = 0, where softplus has slope 1/2: dZ = dA / 2 by hand
    dA = np.array([[1.0, -2.0], [4.0, 0.5]])
    X, W, b = np.zeros((2, 3)), np.arange(6.0).reshape(3, 2), np.zeros(2)
    got = _as_grad_dict(run(sub.softplus_dense_backward, dA, X, W, b))
    expect_close(got["b"], np.array([2.5, -0.75]), what=_("db (= sum over rows of dA / 2)"))
    expect_close(got["W"], np.zeros((3, 2)), what=_("dW (X is zero)"))
    expect_close(got["X"], (dA / 2) @ W.T, what=_("dX"))


@check("ch06.softplus_dense_backward", points=2, hint=SOFTPLUS_HINT)
def test_softplus_backward_gradient_check(sub):
    dA, X, W, b = _softplus_case(68, 4, 3, 2)
    got = _as_grad_dict(run(sub.softplus_dense_backward, dA, X, W, b))
    expect_gradients(got, _softplus_numeric(dA, X, W, b), tol=1e-7)


@check("ch06.softplus_dense_backward", points=1, hidden=True)
def test_softplus_backward_hidden_shapes(sub):
    dA, X, W, b = _softplus_case(69, 9, 6, 5)
    got = _as_grad_dict(run(sub.softplus_dense_backward, dA, X, W, b))
    expect_gradients(got, _softplus_numeric(dA, X, W, b), tol=1e-7)


@check("ch06.softplus_dense_backward", points=1, hidden=True)
def test_softplus_backward_saturated_is_stable(sub):
    # |Z| about 1000: the slope is exactly 0 or 1 in float64, and nothing may overflow
    dA = np.ones((2, 2))
    X, W, b = np.array([[1000.0], [-1000.0]]), np.array([[1.0, -1.0]]), np.zeros(2)
    got = _as_grad_dict(run(sub.softplus_dense_backward, dA, X, W, b))
    expect_no_warnings(_("the derivative must stay finite without overflow for |z| = 1000"))
    expect_close(got["W"], np.array([[1000.0, -1000.0]]), what=_("dW at |z| = 1000"))
    expect_close(got["b"], np.array([1.0, 1.0]), what=_("db at |z| = 1000"))


# ----------------------------------------------------------------- layer_norm_backward (challenge)
LN_NAMES = ("X", "gamma", "beta")
LN_HINT = ("dbeta = dY.sum(axis=0), dgamma = (dY * X_hat).sum(axis=0). With g = dY * gamma and "
           "std = sqrt(var + eps) per row: dX = (g - mean(g) - X_hat * mean(g * X_hat)) / std, the "
           "means taken over each row (axis=1, keepdims=True).")


def _layer_norm(X, gamma, beta, eps):
    """Layer normalisation, written here independently of the notebook."""
    centred = X - X.mean(axis=1, keepdims=True)
    return gamma * centred / np.sqrt(np.mean(centred ** 2, axis=1, keepdims=True) + eps) + beta


def _layer_norm_case(seed, n, d, offset=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)), offset + scale * rng.normal(size=(n, d)),
            rng.normal(size=d), rng.normal(size=d))


def _layer_norm_numeric(dY, X, gamma, beta, eps):
    """Gradients of L = sum(dY * layer_norm(X)), whose dL/dY is dY, by central differences."""
    arrays = {"X": X, "gamma": gamma, "beta": beta}

    def loss_of(name):
        def f(value):
            args = {**arrays, name: value}
            return float(np.sum(dY * _layer_norm(args["X"], args["gamma"], args["beta"], eps)))
        return f
    return {name: numerical_gradient(loss_of(name), arrays[name].copy()) for name in LN_NAMES}


def _layer_norm_grads(sub, dY, X, gamma, *eps):
    return _as_grad_dict(run(sub.layer_norm_backward, dY, X, gamma, *eps), "layer_norm_backward",
                         LN_NAMES)


@check("ch06.layer_norm_backward", points=2, hint=LN_HINT)
def test_layer_norm_gradient_check(sub):
    dY, X, gamma, beta = _layer_norm_case(64, 3, 4)
    expect_gradients(_layer_norm_grads(sub, dY, X, gamma),
                     _layer_norm_numeric(dY, X, gamma, beta, 1e-5), tol=1e-6)


@check("ch06.layer_norm_backward", points=1, hint="Adding a constant to a row of X changes neither "
       "X - mean nor the variance, so Y does not change and the gradient has no component along "
       "(1, 1, ..., 1): every row of dX sums to 0. The mean(g) term makes that happen. " + LN_HINT)
def test_layer_norm_rows_of_dX_sum_to_zero(sub):
    dY, X, gamma, _unused = _layer_norm_case(65, 5, 6, offset=3.0, scale=2.0)
    dX = _layer_norm_grads(sub, dY, X, gamma)["X"]
    expect_true(isinstance(dX, np.ndarray) and dX.shape == X.shape,
                _("dX should be an array of shape %s") % (X.shape,), kind="shape")
    expect_close(dX.sum(axis=1), np.zeros(5), atol=1e-10, what=_("the row sums of dX"))


@check("ch06.layer_norm_backward", points=1, hidden=True)
def test_layer_norm_other_shapes_and_eps(sub):
    dY, X, gamma, beta = _layer_norm_case(66, 7, 3, offset=50.0, scale=20.0)
    expect_gradients(_layer_norm_grads(sub, dY, X, gamma, 1e-3),
                     _layer_norm_numeric(dY, X, gamma, beta, 1e-3), tol=1e-6)


@check("ch06.layer_norm_backward", points=1, hidden=True)
def test_layer_norm_scale_invariance_without_eps(sub):
    dY, X, gamma, _unused = _layer_norm_case(67, 4, 5, offset=-1.0, scale=0.5)
    dX = _layer_norm_grads(sub, dY, X, gamma, 0.0)["X"]
    centred = X - X.mean(axis=1, keepdims=True)
    expect_close(np.sum(dX * centred, axis=1), np.zeros(4), atol=1e-10,
                 what=_("the component of each row of dX along X - mean (0 when eps = 0)"))
