"""Checks of the chapter 8 exercises (solutions/ch08_gradient_descent.ipynb).

Expected values are computed by hand (written out with plain floats below), from the closed-form
minimum of a quadratic (np.linalg.solve), or from the reference solution (``ref``) in the trusted
process. Convergence is graded by iterating the learner's step function from the trusted side,
with the quadratic's gradient A x - b computed here, so only arrays cross the sandbox boundary.
The optional challenge ``ch08.nesterov_step`` (bonus points) is checked against two steps traced
by hand and against Sutskever et al.'s look-ahead form of Nesterov momentum, iterated here; a
plain test (not a check) compares the reference solution with Keras' ``SGD(nesterov=True)``.
"""
import math

import numpy as np

from grader.checks import CheckFailed, LearnerError, check, expect_close, expect_same, expect_raises, expect_true, run
from grader.i18n import _

NOTEBOOK = "ch08_gradient_descent"

# A small well-conditioned quadratic 1/2 x^T A x - b^T x (eigenvalues about 0.71, 1.65, 3.64).
A3 = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
B3 = np.array([1.0, -2.0, 0.5])


def _spd(seed, d, low=0.5, high=4.0):
    """Random symmetric positive-definite (d, d) matrix with eigenvalues in [low, high]."""
    rng = np.random.default_rng(seed)
    Q, _unused = np.linalg.qr(rng.normal(size=(d, d)))
    return Q @ np.diag(np.linspace(low, high, d)) @ Q.T


def _pair(result, fn_name, names):
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(_("%s should return a tuple %s, got %s")
                          % (fn_name, "(" + ", ".join(names) + ")",
                             type(result).__name__ if not isinstance(result, (tuple, list))
                             else "%d items" % len(result)), kind="type")
    return result




# ----------------------------------------------------------------------------- sgd_step
@check("ch08.sgd_step", points=1, hint="w_new = w - lr * g, element by element.")
def test_sgd_step_by_hand(sub):
    w = np.array([1.0, -2.0, 0.5])
    g = np.array([0.5, -1.0, 0.0])
    expect_close(run(sub.sgd_step, w, g, 0.1), np.array([0.95, -1.9, 0.5]))


@check("ch08.sgd_step", points=1, hint="The default learning rate is lr=0.01 (Keras' SGD default); keep w's shape.")
def test_sgd_step_default_lr_matrix(sub):
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[10.0, -10.0], [0.0, 100.0]])
    expect_close(run(sub.sgd_step, w, g), np.array([[0.9, 2.1], [3.0, 3.0]]))


@check("ch08.sgd_step", points=1,
       hint="Iterating w <- w - lr * (A w - b) with lr below 2 / lambda_max must reach the minimum A^-1 b.")
def test_sgd_step_converges_on_quadratic(sub):
    x = np.zeros(3)
    for _unused in range(150):
        x = run(sub.sgd_step, x, A3 @ x - B3, 0.25)
    expect_close(x, np.linalg.solve(A3, B3), rtol=1e-6, atol=1e-8, what=_("x after 150 steps (the minimum A^-1 b)"))


@check("ch08.sgd_step", points=1, hidden=True)
def test_sgd_step_random(sub, ref):
    rng = np.random.default_rng(71)
    expect_same(sub.sgd_step, ref.sgd_step, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), 0.37)


# ----------------------------------------------------------------------------- momentum_step
@check("ch08.momentum_step", points=1,
       hint="velocity_new = momentum * velocity - lr * g; w_new = w + velocity_new; return (w_new, velocity_new).")
def test_momentum_step_by_hand(sub):
    w, g, v = np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.1, 0.0])
    # v_new = 0.9 * (0.1, 0) - 0.1 * (0.5, -1) = (0.04, 0.1);  w_new = (1.04, -1.9)
    w_new, v_new = _pair(run(sub.momentum_step, w, g, v, 0.1, 0.9), "momentum_step", ("w_new", "velocity_new"))
    expect_close(w_new, np.array([1.04, -1.9]), what=_("w_new"))
    expect_close(v_new, np.array([0.04, 0.1]), what=_("velocity_new"))


@check("ch08.momentum_step", points=1,
       hint="With a constant gradient the steps grow: -lr*g, then -lr*(1 + momentum)*g, ... "
            "Pass the returned velocity back in.")
def test_momentum_step_builds_up_speed(sub):
    w, v, g = np.zeros(2), np.zeros(2), np.array([1.0, -2.0])
    steps = []
    for _unused in range(3):
        w_new, v = _pair(run(sub.momentum_step, w, g, v, 0.1, 0.5), "momentum_step", ("w_new", "velocity_new"))
        steps.append(w_new - w)
        w = w_new
    # steps: -0.1 g, -0.1 (1 + 0.5) g, -0.1 (1 + 0.5 + 0.25) g
    expect_close(np.array(steps), -0.1 * np.outer([1.0, 1.5, 1.75], g), what=_("the first three steps"))


@check("ch08.momentum_step", points=1, hint="Defaults: lr=0.01, momentum=0.9. With momentum=0 it is plain gradient descent.")
def test_momentum_step_defaults_and_zero(sub):
    w, g, v = np.array([[1.0, 2.0]]), np.array([[3.0, -4.0]]), np.array([[0.5, 0.5]])
    w_new, v_new = _pair(run(sub.momentum_step, w, g, v), "momentum_step", ("w_new", "velocity_new"))
    expect_close(v_new, np.array([[0.9 * 0.5 - 0.03, 0.9 * 0.5 + 0.04]]), what=_("velocity_new with the defaults"))
    expect_close(w_new, w + v_new, what=_("w_new with the defaults"))
    w_new, _unused = _pair(run(sub.momentum_step, w, g, np.zeros((1, 2)), 0.1, 0.0), "momentum_step", ("w_new", "velocity_new"))
    expect_close(w_new, w - 0.1 * g, what=_("w_new with momentum=0 (plain gradient descent)"))


@check("ch08.momentum_step", points=1, hint="Iterated on a quadratic's gradient A x - b, momentum must reach A^-1 b.")
def test_momentum_step_converges_on_quadratic(sub):
    x, v = np.zeros(3), np.zeros(3)
    for _unused in range(120):
        x, v = _pair(run(sub.momentum_step, x, A3 @ x - B3, v, 0.1, 0.5), "momentum_step", ("w_new", "velocity_new"))
    expect_close(x, np.linalg.solve(A3, B3), rtol=1e-6, atol=1e-7, what=_("x after 120 steps (the minimum A^-1 b)"))


@check("ch08.momentum_step", points=1, hidden=True)
def test_momentum_step_random(sub, ref):
    rng = np.random.default_rng(72)
    args = (rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), 0.05, 0.8)
    expect_same(sub.momentum_step, ref.momentum_step, *args)


# ----------------------------------------------------------------------------- adam_step
def _adam_by_hand(w, g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-7):
    """Keras' Adam, one parameter at a time with plain floats."""
    out_w, out_m, out_v = [], [], []
    for wi, gi, mi, vi in zip(w, g, m, v):
        mi = b1 * mi + (1 - b1) * gi
        vi = b2 * vi + (1 - b2) * gi * gi
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        out_w.append(wi - alpha * mi / (math.sqrt(vi) + eps))
        out_m.append(mi)
        out_v.append(vi)
    return np.array(out_w), np.array(out_m), np.array(out_v)


@check("ch08.adam_step", points=1,
       hint="At t = 1 with m = v = 0: m = 0.1 g, v = 0.001 g**2, and the bias correction gives "
            "alpha_1 = lr * sqrt(1 - 0.999) / (1 - 0.9), so each parameter moves by about lr; epsilon is "
            "added after the square root: alpha_t * m / (sqrt(v) + epsilon).")
def test_adam_first_step_by_hand(sub):
    w, g = np.array([1.0, -2.0]), np.array([0.5, -0.001])
    # m = (0.05, -1e-4), v = (2.5e-4, 1e-9), alpha_1 = sqrt(0.001) = 0.0316228;
    # steps alpha_1 * m / (sqrt(v) + 1e-7) = (0.1000, -0.0997)
    got = _pair(run(sub.adam_step, w, g, np.zeros(2), np.zeros(2), 1, 0.1), "adam_step", ("w_new", "m_new", "v_new"))
    exp = _adam_by_hand([1.0, -2.0], [0.5, -0.001], [0.0, 0.0], [0.0, 0.0], 1, 0.1)
    for name, a, b in zip(("w_new", "m_new", "v_new"), got, exp):
        expect_close(a, b, rtol=1e-10, what=name)


@check("ch08.adam_step", points=1,
       hint="Update m and v first, then use the NEW m and v; alpha_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t).")
def test_adam_later_step_by_hand(sub):
    w, g = np.array([0.3, -0.7, 2.0]), np.array([0.1, 0.3, -0.2])
    m, v = np.array([0.2, -0.1, 0.0]), np.array([0.04, 0.01, 0.0025])
    got = _pair(run(sub.adam_step, w, g, m, v, 3, 0.01, 0.8, 0.99, 1e-6), "adam_step", ("w_new", "m_new", "v_new"))
    exp = _adam_by_hand(w, g, m, v, 3, 0.01, 0.8, 0.99, 1e-6)
    for name, a, b in zip(("w_new", "m_new", "v_new"), got, exp):
        expect_close(a, b, rtol=1e-10, what=name)


@check("ch08.adam_step", points=1,
       hint="Bias correction: with a constant gradient every step (t = 1, 2, 3, ...) moves each parameter by "
            "about lr, against the gradient's sign. Did you divide by (1 - beta_1**t) and use sqrt(1 - beta_2**t)?")
def test_adam_bias_correction_constant_gradient(sub):
    w, m, v, g = np.zeros(2), np.zeros(2), np.zeros(2), np.array([2.0, -0.5])
    steps = []
    for t in range(1, 6):
        w_new, m, v = _pair(run(sub.adam_step, w, g, m, v, t, 0.01), "adam_step", ("w_new", "m_new", "v_new"))
        steps.append(w_new - w)
        w = w_new
    expect_close(np.array(steps), np.tile([-0.01, 0.01], (5, 1)), rtol=1e-5, what=_("the first five steps"))


@check("ch08.adam_step", points=1,
       hint="Use Keras' form: epsilon is added to sqrt(v) (the uncorrected v), with the correction folded into "
            "alpha_t; not to sqrt(v_hat). For g = 1e-8 the two differ by a factor of about 30.")
def test_adam_epsilon_hat_tiny_gradient(sub):
    got = _pair(run(sub.adam_step, np.ones(1), np.array([1e-8]), np.zeros(1), np.zeros(1), 1, 0.1),
                "adam_step", ("w_new", "m_new", "v_new"))
    step = 0.1 * math.sqrt(1e-3) * 1e-8 / (math.sqrt(1e-3) * 1e-8 + 1e-7)     # about 3.07e-4
    expect_close(got[0], np.array([1.0 - step]), rtol=1e-9, what=_("w_new for g = 1e-8 at t = 1 (lr = 0.1)"))


@check("ch08.adam_step", points=1, hint="Defaults: lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7 (Keras').")
def test_adam_defaults(sub):
    w, g, m, v = np.array([[0.5, -0.5]]), np.array([[0.2, 0.05]]), np.array([[0.01, 0.0]]), np.array([[1e-4, 4e-4]])
    got = _pair(run(sub.adam_step, w, g, m, v, 2), "adam_step", ("w_new", "m_new", "v_new"))
    exp = _adam_by_hand(w[0], g[0], m[0], v[0], 2, 0.001)
    for name, a, b in zip(("w_new", "m_new", "v_new"), got, exp):
        expect_close(a, b[None, :], rtol=1e-10, what=name)


@check("ch08.adam_step", points=1, hint="Iterated on a quadratic's gradient A x - b, Adam must get close to A^-1 b.")
def test_adam_converges_on_quadratic(sub):
    x, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, 201):
        x, m, v = _pair(run(sub.adam_step, x, A3 @ x - B3, m, v, t, 0.05), "adam_step", ("w_new", "m_new", "v_new"))
    expect_close(x, np.linalg.solve(A3, B3), rtol=0, atol=1e-3, what=_("x after 200 Adam steps (the minimum A^-1 b)"))


@check("ch08.adam_step", points=1, hidden=True)
def test_adam_random(sub, ref):
    rng = np.random.default_rng(73)
    args = (rng.normal(size=(2, 4)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4)) * 0.1,
            rng.uniform(0, 0.1, size=(2, 4)), 7, 0.003, 0.85, 0.995, 1e-8)
    expect_same(sub.adam_step, ref.adam_step, *args, rtol=1e-10)


# ----------------------------------------------------------------------------- minibatch_indices
def _batches(got, fn="minibatch_indices"):
    if not isinstance(got, (list, tuple)):
        raise CheckFailed(_("%s should return a list of index arrays, got %s") % (fn, type(got).__name__), kind="type")
    for i, b in enumerate(got):
        if not isinstance(b, np.ndarray) or b.ndim != 1 or b.dtype.kind not in "iu":
            raise CheckFailed(_("batch %d should be a 1-D numpy array of integer indices, got %s")
                              % (i, type(b).__name__ if not isinstance(b, np.ndarray)
                                 else _("an array of shape %s and dtype %s") % (b.shape, b.dtype)), kind="type")
    return got


@check("ch08.minibatch_indices", points=1,
       hint="Cut the shuffled indices into consecutive pieces of batch_size; the last one holds the rest.")
def test_minibatch_sizes_and_coverage(sub):
    got = _batches(run(sub.minibatch_indices, 10, 4, 0))
    expect_true([len(b) for b in got] == [4, 4, 2],
                _("minibatch_indices(10, 4, 0) should give batches of sizes [4, 4, 2], got %s") % [len(b) for b in got])
    expect_true(sorted(int(i) for b in got for i in b) == list(range(10)),
                _("every index 0..9 must appear exactly once; got %s") % sorted(int(i) for b in got for i in b))


@check("ch08.minibatch_indices", points=1,
       hint="rng = np.random.default_rng(seed); order = rng.permutation(n_samples); then slice order.")
def test_minibatch_order_from_seed(sub):
    order = np.random.default_rng(3).permutation(7)
    got = _batches(run(sub.minibatch_indices, 7, 3, 3))
    expect_close(list(got), [order[0:3], order[3:6], order[6:7]], dtype="kind", what=_("minibatch_indices(7, 3, 3)"))


@check("ch08.minibatch_indices", points=1,
       hint="Create the generator inside the function from `seed`; never use np.random.seed or global state.")
def test_minibatch_same_seed_same_batches(sub):
    first = _batches(run(sub.minibatch_indices, 20, 6, 42))
    second = _batches(run(sub.minibatch_indices, 20, 6, 42))
    other = _batches(run(sub.minibatch_indices, 20, 6, 43))
    expect_close(list(second), list(first), dtype="kind", what=_("a second call with the same seed"))
    expect_true(not all(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(first, other)),
                _("seeds 42 and 43 gave identical batches: the shuffle must depend on the seed"))
    expect_true(not np.array_equal(np.concatenate(first), np.arange(20)),
                _("the indices are not shuffled: expected a random order, got 0, 1, 2, ..."))


@check("ch08.minibatch_indices", points=1,
       hint="If batch_size divides n_samples there is no empty last batch; if batch_size >= n_samples there is one batch.")
def test_minibatch_edge_sizes(sub):
    exact = _batches(run(sub.minibatch_indices, 12, 4, 1))
    expect_true([len(b) for b in exact] == [4, 4, 4],
                _("minibatch_indices(12, 4, 1) should give three batches of 4, got sizes %s") % [len(b) for b in exact])
    whole = _batches(run(sub.minibatch_indices, 5, 8, 1))
    expect_true([len(b) for b in whole] == [5],
                _("minibatch_indices(5, 8, 1) should give one batch of 5, got sizes %s") % [len(b) for b in whole])


@check("ch08.minibatch_indices", points=1,
       hint="Raise ValueError with a clear message when batch_size < 1 (e.g. 'batch_size must be >= 1, got 0').")
def test_minibatch_rejects_bad_batch_size(sub):
    expect_raises(sub.minibatch_indices, 10, 0, 0, what=_("batch_size=0"))


@check("ch08.minibatch_indices", points=1, hidden=True)
def test_minibatch_large(sub, ref):
    got = _batches(run(sub.minibatch_indices, 1000, 32, 2024))
    expect_close(list(got), list(ref.minibatch_indices(1000, 32, 2024)), dtype="kind")


# ----------------------------------------------------------------------------- run_gradient_descent
@check("ch08.run_gradient_descent", points=1,
       hint="The gradient of 1/2 x^T A x - b^T x is A x - b. Return all points: x0 first, shape (steps + 1, d).")
def test_run_gd_two_steps_by_hand(sub):
    A, b = np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 4.0])
    # x1 = 0 - 0.1 (A 0 - b) = (0.2, 0.4);  x2 = x1 - 0.1 ((0.4, 1.6) - (2, 4)) = (0.36, 0.64)
    path = run(sub.run_gradient_descent, A, b, np.zeros(2), 0.1, 2)
    expect_true(not (isinstance(path, np.ndarray) and path.ndim == 2 and len(path) > 1
                     and np.all(path == path[-1]) and np.any(path[-1] != 0)),
                _('every row of the path is the same point {path_1_if_len_path_else}: x was updated in place (x -= ...), so the list holds the same array several times; make a new array each step (x = x - ...) or append x.copy()').format(path_1_if_len_path_else=path[-1] if len(path) else ''), kind="values")
    expect_close(path, np.array([[0.0, 0.0], [0.2, 0.4], [0.36, 0.64]]))


@check("ch08.run_gradient_descent", points=1, hint="With lr below 2 / lambda_max the last point is the minimum A^-1 b.")
def test_run_gd_converges(sub):
    path = run(sub.run_gradient_descent, A3, B3, np.array([1.0, 1.0, 1.0]), 0.25, 150)
    expect_true(isinstance(path, np.ndarray) and path.shape == (151, 3),
                _("the path should be an array of shape (151, 3), got %s")
                % (str(path.shape) if isinstance(path, np.ndarray) else type(path).__name__,), kind="shape")
    expect_close(path[-1], np.linalg.solve(A3, B3), rtol=1e-6, atol=1e-8, what=_("the last point (the minimum A^-1 b)"))
    loss = 0.5 * np.einsum("ti,ij,tj->t", path, A3, path) - path @ B3
    expect_true(np.all(np.diff(loss) <= 1e-12), _("the loss should fall at every step for this learning rate"))


@check("ch08.run_gradient_descent", points=1,
       hint="Above lr = 2 / lambda_max gradient descent must diverge: do not clip or normalise the steps.")
def test_run_gd_diverges_above_border(sub):
    lam_max = np.linalg.eigvalsh(A3)[-1]
    path = run(sub.run_gradient_descent, A3, B3, np.zeros(3), 1.05 * 2 / lam_max, 100)
    x_star = np.linalg.solve(A3, B3)
    expect_true(isinstance(path, np.ndarray) and path.ndim == 2, _("the path should be a 2-D array"), kind="type")
    expect_true(np.linalg.norm(path[-1] - x_star) > 10 * np.linalg.norm(path[0] - x_star),
                _("with lr = 1.05 * 2 / lambda_max the distance to the minimum should grow, but it did not"))


@check("ch08.run_gradient_descent", points=1, hidden=True)
def test_run_gd_random(sub, ref):
    rng = np.random.default_rng(74)
    A = _spd(75, 5)
    args = (A, rng.normal(size=5), rng.normal(size=5), 0.3, 40)
    expect_same(sub.run_gradient_descent, ref.run_gradient_descent, *args)


# ----------------------------------------------------------------------- nesterov_step (challenge)
NESTEROV_HINT = ("With phi = theta + momentum * v: velocity_new = momentum * velocity - lr * g (g "
                 "taken at the stored w), then w_new = w + momentum * velocity_new - lr * g.")


def _nesterov(sub, *args):
    return _pair(run(sub.nesterov_step, *args), "nesterov_step", ("w_new", "velocity_new"))


@check("ch08.nesterov_step", points=1, hint="Step 1: v = 0.9 * 0 - 0.1 * 2 = -0.2, "
       "w = 1 + 0.9 * (-0.2) - 0.1 * 2 = 0.62. Step 2 (g = 1): v = 0.9 * (-0.2) - 0.1 = -0.28, "
       "w = 0.62 + 0.9 * (-0.28) - 0.1 = 0.268 (plain momentum, w + v, would give 0.8 at step 1: "
       "the look-ahead adds momentum * v_new - lr * g). " + NESTEROV_HINT)
def test_nesterov_two_steps_by_hand(sub):
    w, v = _nesterov(sub, np.array([1.0]), np.array([2.0]), np.array([0.0]), 0.1, 0.9)
    expect_close(w, np.array([0.62]), what=_("w after step 1"))
    expect_close(v, np.array([-0.2]), what=_("velocity after step 1"))
    w, v = _nesterov(sub, w, np.array([1.0]), v, 0.1, 0.9)
    expect_close(w, np.array([0.268]), what=_("w after step 2"))
    expect_close(v, np.array([-0.28]), what=_("velocity after step 2"))


@check("ch08.nesterov_step", points=2, hint="Your stored weights must be the look-ahead point "
       "phi = theta + momentum * v of the rule that evaluates the gradient at "
       "theta + momentum * v. " + NESTEROV_HINT)
def test_nesterov_equals_the_look_ahead_rule(sub):
    lr, mu = 0.1, 0.8
    theta, v_ref = np.array([2.0, -1.0, 0.5]), np.zeros(3)
    phi, v = theta.copy(), np.zeros(3)
    for t in range(1, 31):
        v_ref = mu * v_ref - lr * (A3 @ (theta + mu * v_ref) - B3)      # Sutskever et al.'s form
        theta = theta + v_ref
        phi, v = _nesterov(sub, phi, A3 @ phi - B3, v, lr, mu)
        if t in (1, 2, 30):
            expect_close(v, v_ref, rtol=1e-9, atol=1e-12, what=_("the velocity after %d steps") % t)
            expect_close(phi, theta + mu * v_ref, rtol=1e-9, atol=1e-12,
                         what=_("w after %d steps (theta + momentum * v of the look-ahead rule)") % t)


@check("ch08.nesterov_step", points=1, hidden=True)
def test_nesterov_converges_in_a_narrow_valley(sub):
    A, b = _spd(73, 4, low=1.0, high=100.0), np.array([1.0, -1.0, 0.5, 2.0])
    x, v = np.zeros(4), np.zeros(4)
    for _unused in range(160):
        x, v = _nesterov(sub, x, A @ x - b, v, 0.01, 0.9)
    expect_close(x, np.linalg.solve(A, b), rtol=1e-4, atol=1e-6, what=_("x after 160 steps"))


@check("ch08.nesterov_step", points=1, hidden=True)
def test_nesterov_defaults_zero_momentum_and_shapes(sub, ref):
    rng = np.random.default_rng(74)
    w, g, v = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    expect_same(sub.nesterov_step, ref.nesterov_step, w, g, v)
    w_new, v_new = _nesterov(sub, w, g, v, 0.3, 0.0)
    expect_close(w_new, w - 0.3 * g, what=_("w_new with momentum=0 (plain gradient descent)"))
    expect_close(v_new, -0.3 * g, what=_("velocity_new with momentum=0"))


def test_nesterov_reference_matches_keras():
    """The reference nesterov_step is Keras' SGD(nesterov=True) (not a check: CI only)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    from grader.catalog import default_catalog

    ref = default_catalog().reference(NOTEBOOK)
    rng = np.random.default_rng(75)
    w0 = rng.normal(size=4)
    variable = keras.Variable(w0.astype("float32"))
    optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
    w, v = w0.copy(), np.zeros(4)
    for _unused in range(5):
        g = rng.normal(size=4)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), variable)])
        w, v = ref.nesterov_step(w, g, v, 0.05, 0.9)
    np.testing.assert_allclose(np.asarray(variable.value, dtype=float), w, rtol=1e-5,
                               atol=1e-6)
