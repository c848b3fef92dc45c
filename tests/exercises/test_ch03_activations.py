"""Checks of the chapter 3 exercises (solutions/ch03_activations.ipynb).

Public checks show their inputs in the learner's feedback; hidden ones use other shapes and seeds.
Expected values come from hand computation, identities and finite differences, or from the
reference solution (``ref``) run in the trusted process. The optional challenge ``ch03.softplus``
(bonus points) is checked against hand values, Taylor expansions in the tails (relative accuracy
1e-12) and numpy's ``logaddexp`` (log(e^a + e^b) without overflow; the same values as
``scipy.special``'s ``log_expit`` and ``expit``, shown by a plain test, without importing SciPy).
"""
import numpy as np

from grader.checks import check, expect_close, expect_no_warnings, expect_same, expect_true, run
from grader.i18n import _

NOTEBOOK = "ch03_activations"

PLOTS = {"ch03.sigmoid": (-6.0, 6.0), "ch03.sigmoid_derivative": (-6.0, 6.0),
         "ch03.relu": (-3.0, 3.0), "ch03.relu_derivative": (-3.0, 3.0)}
"""Element-wise exercises whose self-check plots the learner's function over this x range."""


# ----------------------------------------------------------------------------- sigmoid
@check("ch03.sigmoid", points=1, hint="sigmoid(z) = 1 / (1 + exp(-z)); sigmoid(0) = 0.5.")
def test_sigmoid_known_values(sub):
    z = np.array([0.0, np.log(3.0), -np.log(3.0)])
    expect_close(run(sub.sigmoid, z), np.array([0.5, 0.75, 0.25]))


@check("ch03.sigmoid", points=1, hint="Work element-wise with numpy; keep the input's shape.")
def test_sigmoid_keeps_shape(sub):
    z = np.array([[-1.0, 0.0, 1.0], [2.0, -2.0, 0.5]])
    expected = 1.0 / (1.0 + np.exp(-z))
    expect_close(run(sub.sigmoid, z), expected)


@check("ch03.sigmoid", points=1,
       hint="1 / (1 + exp(-z)) overflows for z = -1000 (exp(1000) is inf, numpy warns). For z < 0 "
            "use exp(z) / (1 + exp(z)), so exp never gets a large positive argument.")
def test_sigmoid_stable_at_1000(sub):
    z = np.array([-1000.0, -40.0, 40.0, 1000.0])
    got = run(sub.sigmoid, z)
    expect_no_warnings(_("the exercise requires sigmoid to work without warnings (numerically "
                       "stable) for large |z|"))
    tail = np.exp(-40.0) / (1 + np.exp(-40.0))
    expect_close(got, np.array([0.0, tail, 1.0 - tail, 1.0]), rtol=1e-9, atol=1e-300)


@check("ch03.sigmoid", points=1, hidden=True)
def test_sigmoid_random_matrix(sub, ref):
    z = np.random.default_rng(31).normal(scale=6.0, size=(7, 4))
    expect_same(sub.sigmoid, ref.sigmoid, z)


@check("ch03.sigmoid", points=1, hidden=True)
def test_sigmoid_symmetry_float32(sub):
    z = np.linspace(-8, 8, 15).astype(np.float32).reshape(3, 5)
    s, s_neg = run(sub.sigmoid, z), run(sub.sigmoid, -z)
    expect_true(isinstance(s, np.ndarray) and s.dtype == np.float32, _("float32 input must give float32 output"), "dtype")
    expect_close(s + s_neg, np.ones_like(z), rtol=1e-6, atol=1e-6, what=_("sigmoid(z) + sigmoid(-z)"))


# ----------------------------------------------------------------------------- sigmoid'
@check("ch03.sigmoid_derivative", points=1,
       hint="sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)) with z the pre-activation: call sigmoid once, "
            "not twice; the maximum is 0.25 at z = 0.")
def test_sigmoid_derivative_known_values(sub):
    z = np.array([0.0, np.log(3.0)])
    expect_close(run(sub.sigmoid_derivative, z), np.array([0.25, 0.75 * 0.25]))


@check("ch03.sigmoid_derivative", points=1,
       hint="The argument is z (pre-activation), not sigmoid(z): do not apply the sigmoid twice.")
def test_sigmoid_derivative_matches_finite_differences(sub, ref):
    z = np.array([[-3.0, -0.5, 0.0], [0.7, 2.0, 4.0]])
    eps = 1e-6
    numeric = (ref.sigmoid(z + eps) - ref.sigmoid(z - eps)) / (2 * eps)
    expect_close(run(sub.sigmoid_derivative, z), numeric, rtol=1e-6, atol=1e-9)


@check("ch03.sigmoid_derivative", points=1, hidden=True)
def test_sigmoid_derivative_random_and_saturated(sub, ref):
    z = np.concatenate([np.random.default_rng(32).normal(scale=4.0, size=9), [-1000.0, 1000.0]]).reshape(1, 11)
    expect_same(sub.sigmoid_derivative, ref.sigmoid_derivative, z, atol=1e-300)
    expect_no_warnings(_("use your stable sigmoid: the derivative must not overflow either"))


# ----------------------------------------------------------------------------- relu
@check("ch03.relu", points=1, hint="np.maximum(z, 0) works element-wise.")
def test_relu_known_values(sub):
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    expect_close(run(sub.relu, z), np.array([0.0, 0.0, 0.0, 0.5, 3.0]))


@check("ch03.relu", points=1, hint="Build a new array (np.maximum or np.where); z[z < 0] = 0 changes the caller's array.")
def test_relu_does_not_modify_input(sub):
    z = np.array([[-1.0, 2.0], [3.0, -4.0]])
    expect_close(run(sub.relu, z), np.array([[0.0, 2.0], [3.0, 0.0]]))


@check("ch03.relu", points=1, hidden=True)
def test_relu_random_and_float32(sub, ref):
    rng = np.random.default_rng(33)
    expect_same(sub.relu, ref.relu, rng.normal(size=(6, 3)))
    expect_same(sub.relu, ref.relu, rng.normal(size=(2, 5)).astype(np.float32))


# ----------------------------------------------------------------------------- relu'
@check("ch03.relu_derivative", points=1,
       hint="1.0 where z > 0, else 0.0 (also at z = 0); return floats, e.g. (z > 0).astype(z.dtype).")
def test_relu_derivative_known_values(sub):
    z = np.array([-2.0, 0.0, 1e-9, 3.0])
    expect_close(run(sub.relu_derivative, z), np.array([0.0, 0.0, 1.0, 1.0]))


@check("ch03.relu_derivative", points=1, hidden=True)
def test_relu_derivative_matches_finite_differences(sub, ref):
    z = np.random.default_rng(34).normal(size=(4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # stay away from the kink
    eps = 1e-6
    numeric = (ref.relu(z + eps) - ref.relu(z - eps)) / (2 * eps)
    expect_close(run(sub.relu_derivative, z), numeric, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- softmax
@check("ch03.softmax", points=1, hint="Work along the last axis: np.sum(e, axis=-1, keepdims=True).")
def test_softmax_known_values(sub):
    z = np.array([[0.0, np.log(2.0), np.log(3.0)], [1.0, 1.0, 1.0]])
    expect_close(run(sub.softmax, z), np.array([[1 / 6, 2 / 6, 3 / 6], [1 / 3, 1 / 3, 1 / 3]]))


@check("ch03.softmax", points=1,
       hint="Subtract each row's maximum before np.exp: softmax(z) = softmax(z - max(z)), and exp never overflows.")
def test_softmax_stable_at_1000(sub):
    z = np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0]])
    row = np.array([1.0, 1.0, np.exp(-1.0)]) / (2.0 + np.exp(-1.0))
    expect_close(run(sub.softmax, z), np.array([row, row]), rtol=1e-12)


@check("ch03.softmax", points=1, hidden=True)
def test_softmax_random_rows_sum_to_one(sub, ref):
    z = np.random.default_rng(35).normal(scale=3.0, size=(6, 5))
    got = expect_same(sub.softmax, ref.softmax, z)
    expect_close(got.sum(axis=1), np.ones(6), rtol=1e-12, what=_("the row sums"))


@check("ch03.softmax", points=1, hidden=True)
def test_softmax_shift_invariant(sub):
    z = np.random.default_rng(36).normal(size=(3, 4))
    expect_close(run(sub.softmax, z + 500.0), run(sub.softmax, z), rtol=1e-9)


# ----------------------------------------------------------------------------- softplus (challenge)
SOFTPLUS_HINT = ("log(1 + e^z) = max(z, 0) + log1p(e^-|z|): exp never sees a positive argument, "
                 "and log1p keeps the digits of a tiny log(1 + u). log sigmoid(z) = -softplus(-z), "
                 "and its derivative sigmoid(-z) needs the sign split of the stable sigmoid, not "
                 "1 - sigmoid(z).")


@check("ch03.softplus", points=1, hint="softplus(0) = ln 2, softplus(ln 3) = ln 4; "
       "log sigmoid(ln 3) = ln(3/4); the derivative at ln 3 is sigmoid(-ln 3) = 1/4. "
       + SOFTPLUS_HINT)
def test_softplus_known_values(sub):
    z = np.array([0.0, np.log(3.0)])
    expect_close(run(sub.softplus, z), np.array([np.log(2.0), np.log(4.0)]), rtol=1e-12)
    expect_close(run(sub.log_sigmoid, z), np.array([-np.log(2.0), np.log(0.75)]), rtol=1e-12)
    expect_close(run(sub.log_sigmoid_derivative, z), np.array([0.5, 0.25]), rtol=1e-12)


@check("ch03.softplus", points=1, hint="At z = 1000, exp(z) overflows: softplus(1000) is 1000 and "
       "log sigmoid(-1000) is -1000. " + SOFTPLUS_HINT)
def test_softplus_no_overflow(sub):
    z = np.array([[-1000.0, 1000.0], [-750.0, 750.0]])
    expect_close(run(sub.softplus, z), np.array([[0.0, 1000.0], [0.0, 750.0]]), atol=1e-300)
    expect_close(run(sub.log_sigmoid, z), np.array([[-1000.0, 0.0], [-750.0, 0.0]]), atol=1e-300)
    expect_close(run(sub.log_sigmoid_derivative, z), np.array([[1.0, 0.0], [1.0, 0.0]]),
                 atol=1e-300)


@check("ch03.softplus", points=1, hint="For u = e^-40, log(1 + u) = u - u^2/2 + ... is about "
       "4.248e-18, but 1 + u rounds to 1 in float64: use np.log1p(u). Likewise 1 - sigmoid(40) "
       "rounds to 0; compute sigmoid(-40) = e^-40 / (1 + e^-40) directly. " + SOFTPLUS_HINT)
def test_softplus_tiny_values_are_accurate(sub):
    u = np.exp(-40.0)
    log1p_u = u - u * u / 2.0                     # Taylor series; the next term is below 1e-52
    expect_close(run(sub.softplus, np.array([-40.0])), np.array([log1p_u]), rtol=1e-12, atol=0)
    expect_close(run(sub.log_sigmoid, np.array([40.0, -40.0])),
                 np.array([-log1p_u, -40.0 - log1p_u]), rtol=1e-12, atol=0)
    expect_close(run(sub.log_sigmoid_derivative, np.array([40.0, -40.0])),
                 np.array([u / (1.0 + u), 1.0 / (1.0 + u)]), rtol=1e-12, atol=0)


_SOFTPLUS_CASE = np.random.default_rng(37).normal(scale=25.0, size=(5, 6))
_SOFTPLUS_CASE[0, :3] = [-700.0, 36.5, -36.5]


@check("ch03.softplus", points=1, hidden=True)
def test_softplus_matches_logaddexp(sub):
    z = _SOFTPLUS_CASE
    expect_close(run(sub.softplus, z), np.logaddexp(0.0, z), rtol=1e-12, atol=0)
    expect_close(run(sub.log_sigmoid, z), -np.logaddexp(0.0, -z), rtol=1e-12, atol=0)
    expect_close(run(sub.log_sigmoid_derivative, z), np.exp(-np.logaddexp(0.0, z)), rtol=1e-12,
                 atol=0)


@check("ch03.softplus", points=1, hidden=True)
def test_softplus_identities_and_derivative(sub):
    z = np.random.default_rng(38).uniform(-12.0, 12.0, size=(4, 5))
    expect_close(run(sub.softplus, z) - run(sub.softplus, -z), z, rtol=1e-9, atol=1e-12,
                 what=_("softplus(z) - softplus(-z), which equals z"))
    eps = 1e-6
    numeric = (run(sub.log_sigmoid, z + eps) - run(sub.log_sigmoid, z - eps)) / (2 * eps)
    expect_close(run(sub.log_sigmoid_derivative, z), numeric, rtol=1e-6, atol=1e-9,
                 what=_("log_sigmoid_derivative compared with central differences of log_sigmoid"))


def test_logaddexp_reference_matches_scipy():
    """The softplus check's numpy reference agrees with scipy.special (shown once per test run;
    grading does not import SciPy)."""
    from scipy import special

    z = _SOFTPLUS_CASE
    np.testing.assert_allclose(np.logaddexp(0.0, z), -special.log_expit(-z), rtol=1e-14, atol=0)
    np.testing.assert_allclose(-np.logaddexp(0.0, -z), special.log_expit(z), rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.exp(-np.logaddexp(0.0, z)), special.expit(-z), rtol=1e-13,
                               atol=0)
