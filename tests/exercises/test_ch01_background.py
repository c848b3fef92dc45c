"""Checks for exercises/ch01_background.ipynb (chapter 1, the one-neuron linear model).

Expected values come from hand calculations written out below, from exact data (points that lie
on a known line or plane), from the optimality condition of least squares (the normal
equations), and from independent references computed here in the trusted process:
``np.linalg.solve`` on the normal equations, ``np.linalg.lstsq`` (SVD) on the centred data,
``nnlib.losses.mean_squared_error`` and ``nnlib.MLP(...).count_params()``. The optional challenge
``ch01.fit_ridge`` (bonus points) is checked against a hand-computed fit, the zero gradient of the
ridge objective and ``np.linalg.lstsq`` on the centred data stacked on sqrt(alpha) I (what
scikit-learn's ``Ridge`` solves, without importing it: grading stays light). Hidden checks use
other shapes and seeds than the public ones.
"""
import functools

import numpy as np

from grader.checks import (check, describe, expect_close, expect_raises, expect_same, expect_true,
                           run)
from grader.i18n import _

NOTEBOOK = "ch01_background"

DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


# ------------------------------------------------------------------ helpers (trusted side)

@functools.lru_cache(maxsize=1)
def _diabetes_standardised():
    """The diabetes data with every feature standardised (mean 0, std 1), as in chapter 1."""
    from nnlib.data import load_diabetes      # scikit-learn's bundled copy, no download

    X, y = load_diabetes()
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    return Xs, y


def _lstsq_solution(X, y, alpha=0.0):
    """(w, b) minimising ||X w + b - y||^2 + alpha ||w||^2 (b not penalised), from
    np.linalg.lstsq (SVD) on the centred data stacked on sqrt(alpha) I: an independent reference
    that never forms the normal equations (scikit-learn's LinearRegression and Ridge centre the
    data the same way)."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    n_features = X.shape[1]
    A = np.vstack([X - x_mean, np.sqrt(alpha) * np.eye(n_features)])
    targets = np.concatenate([y - y_mean, np.zeros(n_features)])
    w = np.linalg.lstsq(A, targets, rcond=None)[0]
    return w, float(y_mean - x_mean @ w)


def _normal_equations_solution(X, y):
    """(w, b) from the normal equations, solved with np.linalg.solve (independent reference)."""
    Xt = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(Xt.T @ Xt, Xt.T @ y)
    return theta[:-1], float(theta[-1])


def _unpack_fit(result, function="fit_least_squares"):
    """Check the (w, b) structure of a fitting function's result and return w, b as numbers."""
    expect_true(isinstance(result, (tuple, list)) and len(result) == 2,
                _("%s should return a pair (w, b), got %r") % (function, type(result).__name__),
                kind="type")
    w, b = result
    expect_true(isinstance(w, np.ndarray), _("w should be a numpy array of shape (d,), got %s")
                % type(w).__name__, kind="type")
    b_arr = np.asarray(b)
    expect_true(b_arr.shape == () and b_arr.dtype.kind == "f",
                _("b should be a float (a single number), got %s: e.g. float(theta[-1])")
                % describe(b), kind="type")
    return w, float(b_arr)


# ------------------------------------------------------------------ ch01.predict
PREDICT_HINT = ("One matrix-vector product for the whole batch: X @ w has shape (n,), then add "
                "the scalar b to every entry. No loop needed.")


@check("ch01.predict", points=1, hint="Row 1: 0.5*1 + (-1)*2 + 3 = 1.5. Row 2: 0.5*4 + (-1)*0 + 3 = 5.")
def test_predict_hand_values(sub):
    X = np.array([[1.0, 2.0],
                  [4.0, 0.0]])
    w = np.array([0.5, -1.0])
    got = run(sub.predict, X, w, 3.0)
    expect_close(got, np.array([1.5, 5.0]))


@check("ch01.predict", points=1, hint="The result must be 1-D, shape (n,), for any n (also n = 1). "
       "If you get (n, 1), you used a column vector for w; keep w of shape (d,). " + PREDICT_HINT)
def test_predict_shapes(sub):
    w = np.array([1.0, 0.0, -2.0, 0.5])
    for n in (1, 3, 7):
        X = np.arange(n * 4, dtype=float).reshape(n, 4) / 10
        expected = np.array([X[i, 0] - 2 * X[i, 2] + 0.5 * X[i, 3] - 1.0 for i in range(n)])
        got = run(sub.predict, X, w, -1.0)
        expect_close(got, expected)


@check("ch01.predict", points=1, hidden=True)
def test_predict_matches_reference(sub, ref):
    rng = np.random.default_rng(11)
    for n, d in ((13, 6), (5, 1), (2, 10)):
        X = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        b = float(rng.normal())
        got = expect_same(sub.predict, ref.predict, X, w, b)
        expect_close(got, X @ w + b, rtol=1e-10)


# ------------------------------------------------------------------ ch01.mse
@check("ch01.mse", points=1, hint="Errors 0.5, -1, 0; squares 0.25, 1, 0; their mean is 1.25 / 3.")
def test_mse_hand_value(sub):
    got = run(sub.mse, np.array([3.0, -1.0, 2.0]), np.array([2.5, 0.0, 2.0]))
    expect_close(got, 1.25 / 3)


@check("ch01.mse", points=1, hint="Divide by N (the number of samples), not by 2N: this exercise uses "
       "the plain mean, like Keras' 'mse'. A perfect prediction gives exactly 0.")
def test_mse_simple_cases(sub):
    y = np.array([1.0, 2.0, 3.0, 4.0])
    expect_close(run(sub.mse, y, y.copy()), 0.0)
    # every prediction off by 2 -> every squared error is 4 -> mean 4
    expect_close(run(sub.mse, y, y + 2.0), 4.0)
    # one sample
    expect_close(run(sub.mse, np.array([10.0]), np.array([7.0])), 9.0)


@check("ch01.mse", points=1, hidden=True)
def test_mse_matches_reference(sub, ref):
    from nnlib.losses import mean_squared_error

    rng = np.random.default_rng(5)
    for n in (9, 50):
        y = rng.normal(size=n) * 30 + 150
        y_hat = y + rng.normal(size=n) * 10
        expected = mean_squared_error(y, y_hat)
        got = expect_same(sub.mse, ref.mse, y, y_hat)
        expect_close(got, expected, rtol=1e-10)


# ------------------------------------------------------------------ ch01.fit_least_squares
FIT_HINT = ("Append a column of ones to X (X1 = np.column_stack([X, np.ones(len(X))])), solve the "
            "least-squares problem with np.linalg.lstsq(X1, y, rcond=None)[0], then split the "
            "solution: the first d numbers are w, the last one is b.")


@check("ch01.fit_least_squares", points=1, hint="The four points lie exactly on y = 2x + 1, so the "
       "fit must recover w = [2.0] and b = 1.0. " + FIT_HINT)
def test_fit_exact_line(sub):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = 2 * X[:, 0] + 1
    w, b = _unpack_fit(run(sub.fit_least_squares, X, y))
    expect_close(w, np.array([2.0]), rtol=1e-8, atol=1e-8, what=_("w"))
    expect_close(b, 1.0, rtol=1e-8, atol=1e-8, what=_("b"))


@check("ch01.fit_least_squares", points=1, hint="These points lie exactly on the plane "
       "y = 3*x1 - 2*x2 + 0.5, so w must be [3, -2] and b must be 0.5. w has one entry per column "
       "of X and b is a single number. " + FIT_HINT)
def test_fit_exact_plane(sub):
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
    y = 3 * X[:, 0] - 2 * X[:, 1] + 0.5
    w, b = _unpack_fit(run(sub.fit_least_squares, X, y))
    expect_close(w, np.array([3.0, -2.0]), rtol=1e-8, atol=1e-8, what=_("w"))
    expect_close(b, 0.5, rtol=1e-8, atol=1e-8, what=_("b"))


@check("ch01.fit_least_squares", points=1, hint="At the least-squares solution the residuals "
       "r = y - (X @ w + b) sum to zero and are orthogonal to every feature column (X.T @ r = 0): "
       "these are the normal equations. If they fail, the fit is not the minimiser of the MSE. "
       + FIT_HINT)
def test_fit_satisfies_normal_equations(sub):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -0.5, 2.0]) + 4.0 + rng.normal(size=30)      # noisy: no exact fit
    w, b = _unpack_fit(run(sub.fit_least_squares, X, y))
    expect_true(w.shape == (3,), _("w should have shape (3,) for 3 features, got %s") % (w.shape,),
                kind="shape")
    r = y - (X @ w + b)
    expect_true(abs(r.sum()) < 1e-8 * len(y) * max(1.0, np.abs(y).max()),
                _("the residuals y - (X @ w + b) should sum to 0 at the best fit, but they sum to %.3g; "
                "is the bias fitted (a column of ones)?") % r.sum())
    expect_true(np.allclose(X.T @ r, 0, atol=1e-8 * len(y) * max(1.0, np.abs(y).max())),
                _("the residuals should be orthogonal to every feature column (X.T @ r = 0), got "
                "X.T @ r = %s") % np.array2string(X.T @ r, precision=3))


@check("ch01.fit_least_squares", points=1, hidden=True)
def test_fit_matches_normal_equations_several_shapes(sub, ref):
    rng = np.random.default_rng(21)
    for n, d in ((20, 3), (50, 5), (7, 1)):
        X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d)
        y = X @ rng.normal(size=d) - 2.0 + 0.3 * rng.normal(size=n)
        w_exp, b_exp = _normal_equations_solution(X, y)
        w, b = _unpack_fit(run(sub.fit_least_squares, X, y))
        expect_close(w, w_exp, rtol=1e-6, atol=1e-8, what=_("w"))
        expect_close(b, b_exp, rtol=1e-6, atol=1e-8, what=_("b"))
        w_ref, b_ref = ref.fit_least_squares(X, y)
        expect_close(w_ref, w_exp, rtol=1e-6, atol=1e-8, what=_("the reference solution's w"))


@check("ch01.fit_least_squares", points=1, hidden=True)
def test_fit_diabetes_matches_lstsq(sub):
    Xs, y = _diabetes_standardised()
    w_expected, b_expected = _lstsq_solution(Xs, y)
    w, b = _unpack_fit(run(sub.fit_least_squares, Xs, y))
    expect_close(w, w_expected, rtol=1e-6, atol=1e-6, what=_("w on the standardised diabetes data"))
    expect_close(b, b_expected, rtol=1e-8, atol=1e-6,
                 what=_("b on the standardised diabetes data"))


# ------------------------------------------------------------------ ch01.most_influential_feature
@check("ch01.most_influential_feature", points=1, hint="Compare the sizes |w| (np.abs), not the "
       "signed values: -3.0 is a bigger effect than 2.0. Return the name, e.g. feature_names[i] "
       "with i = np.argmax(np.abs(w)).")
def test_most_influential_hand(sub):
    got = run(sub.most_influential_feature, np.array([0.5, -3.0, 2.0]), ["a", "b", "c"])
    expect_close(got, "b")
    got = run(sub.most_influential_feature, np.array([0.1, 0.2, 7.0, -6.5]), ["w", "x", "y", "z"])
    expect_close(got, "y")


@check("ch01.most_influential_feature", points=1, hidden=True)
def test_most_influential_diabetes(sub, ref):
    Xs, y = _diabetes_standardised()
    w, _ = _lstsq_solution(Xs, y)
    expected = DIABETES_FEATURES[int(np.argmax(np.abs(w)))]
    got = run(sub.most_influential_feature, w, list(DIABETES_FEATURES))
    expect_close(got, expected)
    expect_same(sub.most_influential_feature, ref.most_influential_feature,
                np.random.default_rng(2).normal(size=12), ["f%d" % i for i in range(12)])


# ------------------------------------------------------------------ ch01.count_parameters
COUNT_HINT = ("Each dense layer from n_in inputs to n_out units has n_in * n_out weights plus n_out "
              "biases; add that up over consecutive pairs (layer_sizes[i], layer_sizes[i + 1]).")


@check("ch01.count_parameters", points=1, hint="[10, 1]: 10 weights + 1 bias = 11. "
       "[2, 4, 1]: (2+1)*4 + (4+1)*1 = 17. " + COUNT_HINT)
def test_count_small(sub):
    expect_close(run(sub.count_parameters, [10, 1]), 11)
    expect_close(run(sub.count_parameters, [2, 4, 1]), 17)


@check("ch01.count_parameters", points=1, hint="(784+1)*100 + (100+1)*10 = 78500 + 1010 = 79510. "
       + COUNT_HINT)
def test_count_mnist_sized(sub):
    expect_close(run(sub.count_parameters, [784, 100, 10]), 79510)


@check("ch01.count_parameters", points=1, hidden=True)
def test_count_matches_nnlib(sub, ref):
    import nnlib

    for sizes in ([3, 5], [10, 64, 32, 1], [64, 128, 64, 10], [1, 1, 1, 1, 1]):
        expected = nnlib.MLP(sizes, seed=0).count_params()
        expect_close(run(sub.count_parameters, list(sizes)), expected)
        expect_close(ref.count_parameters(list(sizes)), expected,
                     what=_("the reference solution's count"))


# ------------------------------------------------------------------ ch01.fit_ridge (challenge)
RIDGE_HINT = ("Setting dJ/db = 0 gives b = mean(y) - mean(X, axis=0) @ w. Substituted into "
              "dJ/dw = 0 it leaves (Xc^T Xc + alpha I) w = Xc^T yc for the centred data "
              "Xc = X - mean(X, axis=0), yc = y - mean(y): the bias is not penalised.")


def _ridge_gradient(X, y, w, b, alpha):
    """Gradient of sum((y - X w - b)^2) + alpha |w|^2 with respect to (w, b), by hand."""
    residual = y - X @ w - b
    return -2.0 * X.T @ residual + 2.0 * alpha * w, -2.0 * residual.sum()


@check("ch01.fit_ridge", points=1, hint="Centred: x = (-1, 0, 1), y - 2 = (-2, -1, 3); "
       "w = (x . yc) / (x . x + alpha) = 5 / (2 + 3) = 1 and b = mean(y) - mean(x) * w = 2. "
       + RIDGE_HINT)
def test_ridge_hand_example(sub):
    w, b = _unpack_fit(run(sub.fit_ridge, np.array([[-1.0], [0.0], [1.0]]),
                           np.array([0.0, 1.0, 5.0]), 3.0), "fit_ridge")
    expect_close(w, np.array([1.0]), what=_("w"))
    expect_close(b, 2.0, what=_("b"))


@check("ch01.fit_ridge", points=1, hint="At the minimum both partial derivatives of J vanish: "
       "-2 X^T r + 2 alpha w = 0 and -2 sum(r) = 0 for the residuals r = y - X w - b. "
       + RIDGE_HINT)
def test_ridge_gradient_is_zero(sub):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(20, 3)) + np.array([2.0, -1.0, 0.5])       # features with non-zero means
    y = X @ np.array([1.5, -2.0, 0.3]) + 4.0 + rng.normal(scale=0.1, size=20)
    w, b = _unpack_fit(run(sub.fit_ridge, X, y, 5.0), "fit_ridge")
    expect_true(w.shape == (3,), _("w should have shape (3,), got %s") % (w.shape,), kind="shape")
    grad_w, grad_b = _ridge_gradient(X, y, w, b, 5.0)
    expect_close(grad_w, np.zeros(3), atol=1e-8, what=_("dJ/dw at your (w, b)"))
    expect_close(grad_b, 0.0, atol=1e-8, what=_("dJ/db at your (w, b)"))


@check("ch01.fit_ridge", points=1, hint="Raise ValueError when alpha < 0; alpha = 0 is allowed and "
       "gives the least-squares fit.")
def test_ridge_rejects_negative_alpha(sub):
    expect_raises(sub.fit_ridge, np.eye(3), np.ones(3), -1.0, what=_("alpha = -1"))


@check("ch01.fit_ridge", points=1, hidden=True)
def test_ridge_matches_lstsq(sub):
    X, y = _diabetes_standardised()
    for alpha in (0.5, 30.0):
        w_expected, b_expected = _lstsq_solution(X, y, alpha)
        w, b = _unpack_fit(run(sub.fit_ridge, X, y, alpha), "fit_ridge")
        expect_close(w, w_expected, rtol=1e-6, atol=1e-8, what=_("w for alpha = %g") % alpha)
        expect_close(b, b_expected, rtol=1e-9, what=_("b for alpha = %g") % alpha)
    rng = np.random.default_rng(12)
    X = rng.normal(size=(15, 4))
    y = rng.normal(size=15)
    theta = np.linalg.lstsq(np.column_stack([X, np.ones(15)]), y, rcond=None)[0]
    w, b = _unpack_fit(run(sub.fit_ridge, X, y, 0.0), "fit_ridge")
    expect_close(w, theta[:-1], rtol=1e-7, atol=1e-10, what=_("w for alpha = 0 (least squares)"))


@check("ch01.fit_ridge", points=1, hidden=True)
def test_ridge_bias_is_not_penalised(sub):
    rng = np.random.default_rng(13)
    X = rng.normal(size=(6, 8)) + 3.0    # fewer samples than features: alpha makes it solvable
    y = rng.normal(size=6)
    w, b = _unpack_fit(run(sub.fit_ridge, X, y, 2.0), "fit_ridge")
    w_shift, b_shift = _unpack_fit(run(sub.fit_ridge, X, y + 100.0, 2.0), "fit_ridge")
    expect_close(w_shift, w, rtol=1e-7, atol=1e-9, what=_("w after adding 100 to every target"))
    expect_close(b_shift, b + 100.0, rtol=1e-9, what=_("b after adding 100 to every target"))
    w_big, b_big = _unpack_fit(run(sub.fit_ridge, X, y, 1e12), "fit_ridge")
    expect_close(w_big, np.zeros(8), atol=1e-9, what=_("w for a huge alpha"))
    expect_close(b_big, float(y.mean()), rtol=1e-6, what=_("b for a huge alpha (the mean target)"))


def test_lstsq_reference_matches_scikit_learn():
    """The checks' least-squares and ridge reference agrees with scikit-learn's LinearRegression
    and Ridge (shown once per test run; grading does not import scikit-learn)."""
    from sklearn.linear_model import LinearRegression, Ridge

    X, y = _diabetes_standardised()
    for alpha, model in [(0.0, LinearRegression()), (0.5, Ridge(alpha=0.5)),
                         (30.0, Ridge(alpha=30.0))]:
        model.fit(X, y)
        w, b = _lstsq_solution(X, y, alpha)
        np.testing.assert_allclose(w, model.coef_, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(b, model.intercept_, rtol=1e-12)
