"""Checks for exercises/ch02_neuron.ipynb (chapter 2, the neuron).

Expected values are written out by hand below (weighted sums of small numbers, truth tables of
logic gates, the results of the grid search argued in chapter 2) or computed here independently of
the notebook (explicit loops over samples and neurons), so the checks also test the reference
solution. The perceptron convention is the book's: output 1.0 where w . x + b >= 0, else 0.0.
The optional challenge ``ch02.train_perceptron`` (bonus points) is checked against a learning run
traced by hand, Novikoff's bound computed by hand and here, and the theorem itself on separable
data with a known margin.
"""
import itertools

import numpy as np

from grader.checks import check, expect_close, expect_raises, expect_true, run
from grader.i18n import _

NOTEBOOK = "ch02_neuron"

CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TABLES = {                       # outputs for the inputs (0,0), (0,1), (1,0), (1,1)
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
}
MIN_MARGIN = 0.1


# ------------------------------------------------------------------ independent references
def _step_loops(X, w, b):
    """Perceptron outputs computed with explicit loops (independent of the notebook)."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        z = sum(float(x_k) * float(w_k) for x_k, w_k in zip(x, w)) + float(b)
        out[i] = 1.0 if z >= 0 else 0.0
    return out


def _dense_loops(X, W, b):
    """Z[i, j] = sum_k X[i, k] W[k, j] + b[j], one sample and one neuron at a time."""
    n, d = X.shape
    n_out = W.shape[1]
    Z = np.zeros((n, n_out))
    for i in range(n):
        for j in range(n_out):
            Z[i, j] = sum(X[i, k] * W[k, j] for k in range(d)) + b[j]
    return Z


def _brute_force_can_compute(table, grid):
    """Exhaustive search with Python loops (independent of the notebook)."""
    for w1, w2, b in itertools.product(grid, repeat=3):
        if all((1 if w1 * x1 + w2 * x2 + b >= 0 else 0) == t
               for (x1, x2), t in zip(CORNERS, table)):
            return True
    return False


# ------------------------------------------------------------------ ch02.perceptron
def _as_number(got):
    """Let a float, a numpy float scalar and a 0-d float array all count as one float.

    The exercise asks for "a single float": an integer (a Python int, a numpy integer, a 0-d
    integer array) fails as a wrong dtype. Any other shape (e.g. an array of shape (1,)) is passed
    through and fails with a clear message from expect_close.
    """
    value = got[()] if isinstance(got, np.ndarray) and got.shape == () else got
    is_integer = (isinstance(value, (int, np.integer, np.bool_))
                  or isinstance(value, np.ndarray) and value.dtype.kind in "iub")
    kind = (_("an array of dtype {dtype}").format(dtype=got.dtype) if isinstance(got, np.ndarray)
            else type(got).__name__)
    expect_true(not is_integer, _("for one sample the result should be a single float (1.0 or "
                                  "0.0), got the integer {value!r} ({kind}): return float(...) or "
                                  "use float arithmetic").format(value=value, kind=kind),
                kind="dtype")
    return float(value) if isinstance(value, np.floating) else got


PERCEPTRON_HINT = ("Compute z = x @ w + b (np.dot works for one sample of shape (d,) and for a "
                   "batch of shape (n, d)), then return 1.0 where z >= 0 and 0.0 elsewhere, as "
                   "floats, e.g. np.where(z >= 0, 1.0, 0.0).")


@check("ch02.perceptron", points=1, hint="z = 0.4*2 + 0.3*(-1) + (-1.0)*0.5 + b = b, so b = 0.1 "
       "gives z = 0.1 (output 1.0) and b = -0.1 gives z = -0.1 (output 0.0). For one sample, "
       "return a single number, not an array of shape (1,).")
def test_perceptron_one_sample(sub):
    x = np.array([2.0, -1.0, 0.5])
    w = np.array([0.4, 0.3, -1.0])
    expect_close(_as_number(run(sub.perceptron, x, w, 0.1)), 1.0)
    expect_close(_as_number(run(sub.perceptron, x, w, -0.1)), 0.0)


@check("ch02.perceptron", points=1, hint="With w = (1, 1) and b = -1.5 the weighted sums of the "
       "four rows are -1.5, -0.5, -0.5, 0.5: only the last is >= 0. For a batch of shape (n, d) "
       "return one float per row, shape (n,).")
def test_perceptron_batch_and_gate(sub):
    got = run(sub.perceptron, CORNERS, np.array([1.0, 1.0]), -1.5)
    expect_close(got, np.array([0.0, 0.0, 0.0, 1.0]))


@check("ch02.perceptron", points=1, hint="The book's step counts z = 0 as 1 (step(0) = 1, like "
       "nnlib.activations.step): use z >= 0, not z > 0.")
def test_perceptron_z_exactly_zero(sub):
    # z = 1*1 + 1*(-1) + 0 = 0 for the first row, -1 for the second
    got = run(sub.perceptron, np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([1.0, -1.0]), 0.0)
    expect_close(got, np.array([1.0, 0.0]))


@check("ch02.perceptron", points=1, hidden=True, hint=PERCEPTRON_HINT)
def test_perceptron_random_batch(sub):
    rng = np.random.default_rng(20)
    X = rng.normal(size=(9, 5))
    w = rng.normal(size=5)
    b = 0.3
    expect_close(run(sub.perceptron, X, w, b), _step_loops(X, w, b))


@check("ch02.perceptron", points=1, hidden=True, hint="Integer inputs must still give float "
       "outputs 1.0 and 0.0 (dtype float64).")
def test_perceptron_integer_inputs(sub):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [2, 3]])      # integer dtype
    w = np.array([-1, 1])
    expect_close(run(sub.perceptron, X, w, 0), np.array([1.0, 1.0, 0.0, 1.0, 1.0]))


# ------------------------------------------------------------------ ch02.gates
def _gate_z(pair, name):
    """Check the form of (w, b) and return the four weighted sums on the corners."""
    expect_true(isinstance(pair, (tuple, list)) and len(pair) == 2,
                _("%s_weights() should return a pair (w, b), got %r") % (name.lower(), pair), kind="type")
    w, b = pair
    w = np.asarray(w, dtype=float)
    expect_true(w.shape == (2,), _("%s_weights(): w should have shape (2,) (one weight per input), "
                "got shape %s") % (name.lower(), w.shape), kind="shape")
    expect_true(np.ndim(b) == 0, _("%s_weights(): b should be a single number, got %r")
                % (name.lower(), b), kind="type")
    expect_true(np.all(np.isfinite(w)) and np.isfinite(float(b)),
                _("%s_weights(): w and b must be finite numbers") % name.lower(), kind="nan")
    return w, float(b), CORNERS @ w + float(b)


def _check_truth_table(fn, name):
    w, b, z = _gate_z(run(fn), name)
    got = (z >= 0).astype(float)
    expected = np.array(TABLES[name], dtype=float)
    expect_close(got, expected, what=_("the truth table of %s with w = %s, b = %g (weighted sums z = %s)")
                 % (name, w, b, z))


@check("ch02.gates", points=1, hint="AND fires only when both inputs are 1: with w = (1, 1), put "
       "the threshold between a sum of 1 and a sum of 2.")
def test_and_truth_table(sub):
    _check_truth_table(sub.and_weights, "AND")


@check("ch02.gates", points=1, hint="OR fires when at least one input is 1: with w = (1, 1), put "
       "the threshold between a sum of 0 and a sum of 1.")
def test_or_truth_table(sub):
    _check_truth_table(sub.or_weights, "OR")


@check("ch02.gates", points=1, hint="NAND is NOT AND: negate both the weights and the bias of "
       "your AND perceptron.")
def test_nand_truth_table(sub):
    _check_truth_table(sub.nand_weights, "NAND")


@check("ch02.gates", points=1, hint="The margin min |z| / ||w|| is the distance from the decision "
       "line to the nearest corner. Put the threshold halfway between the classes (e.g. -1.5 for "
       "AND with w = (1, 1)) to make it large.")
def test_gates_margin(sub):
    for name, fn in [("AND", sub.and_weights), ("OR", sub.or_weights), ("NAND", sub.nand_weights)]:
        w, b, z = _gate_z(run(fn), name)
        expect_true(np.array_equal((z >= 0).astype(int), TABLES[name]),
                    _("%s: fix the truth table first (see the check above)") % name)
        m = np.min(np.abs(z)) / np.linalg.norm(w)
        expect_true(m >= MIN_MARGIN,
                    _("%s: the decision line passes only %.3g from a corner (margin min|z|/||w||), "
                    "at least %.2g is required so that slightly noisy inputs are still classified "
                    "correctly; w = %s, b = %g") % (name, m, MIN_MARGIN, w, b))


@check("ch02.gates", points=1, hidden=True, hint="Choose weights whose decision line stays well "
       "away from all four corners.")
def test_gates_noisy_inputs(sub):
    rng = np.random.default_rng(21)
    noise = rng.uniform(-0.07, 0.07, size=(300, 4, 2))          # length < 0.1 = MIN_MARGIN
    for name, fn in [("AND", sub.and_weights), ("OR", sub.or_weights), ("NAND", sub.nand_weights)]:
        w, b, _unused = _gate_z(run(fn), name)
        got = ((CORNERS + noise) @ w + b >= 0).astype(float)
        expected = np.broadcast_to(np.array(TABLES[name], dtype=float), got.shape)
        expect_true(np.array_equal(got, expected),
                    _("%s is wrong on %d of %d slightly noisy inputs") % (name, int((got != expected).sum()), got.size))


# ------------------------------------------------------------------ ch02.layer_forward
LAYER_HINT = "Z = X @ W + b: X (n, d) times W (d, n_out) gives (n, n_out); b (n_out,) is broadcast to every row."


@check("ch02.layer_forward", points=1, hint="Row 0 by hand: (1*0.5 + 2*1 + 0, 1*(-1) + 2*0 + 1, "
       "1*2 + 2*(-0.5) - 1) = (2.5, 0, 0). " + LAYER_HINT)
def test_layer_hand_values(sub):
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5], [2.0, 2.0]])
    W = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    b = np.array([0.0, 1.0, -1.0])
    expected = np.array([[2.5, 0.0, 0.0],
                         [-1.0, 1.0, -0.5],
                         [2.0, -2.0, 4.75],
                         [3.0, -1.0, 2.0]])
    expect_close(run(sub.layer_forward, X, W, b), expected)


@check("ch02.layer_forward", points=1, hint="The XOR hidden layer: column 0 holds the OR weights "
       "(1, 1) with bias -0.5, column 1 the NAND weights (-1, -1) with bias 1.5. " + LAYER_HINT)
def test_layer_xor_hidden(sub):
    W1 = np.array([[1.0, -1.0], [1.0, -1.0]])
    b1 = np.array([-0.5, 1.5])
    expected = np.array([[-0.5, 1.5], [0.5, 0.5], [0.5, 0.5], [1.5, -0.5]])
    expect_close(run(sub.layer_forward, CORNERS, W1, b1), expected)


@check("ch02.layer_forward", points=1, hint="The output has one row per sample and one column per "
       "neuron, (n, n_out), for every batch size n, including n = 1. " + LAYER_HINT)
def test_layer_shapes(sub):
    rng = np.random.default_rng(22)
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=4)
    for n in (1, 5, 64):
        X = rng.normal(size=(n, 3))
        got = run(sub.layer_forward, X, W, b)
        expect_true(isinstance(got, np.ndarray) and got.shape == (n, 4),
                    _("layer_forward on X of shape %s with W of shape (3, 4) should return shape "
                    "(%d, 4), got %s") % ((n, 3), n, getattr(got, "shape", type(got).__name__)),
                    kind="shape")


@check("ch02.layer_forward", points=2, hidden=True, hint=LAYER_HINT)
def test_layer_random_vs_loops(sub):
    rng = np.random.default_rng(23)
    X = rng.normal(size=(13, 7))
    W = rng.normal(size=(7, 3))
    b = rng.normal(size=3)
    expect_close(run(sub.layer_forward, X, W, b), _dense_loops(X, W, b), rtol=1e-10, atol=1e-12)


@check("ch02.layer_forward", points=1, hidden=True, hint="A layer of one neuron still returns a "
       "column of shape (n, 1). " + LAYER_HINT)
def test_layer_single_neuron_and_single_sample(sub):
    rng = np.random.default_rng(24)
    X = rng.normal(size=(6, 4))
    W = rng.normal(size=(4, 1))
    b = np.array([0.25])
    expect_close(run(sub.layer_forward, X, W, b), _dense_loops(X, W, b), rtol=1e-10, atol=1e-12)
    W2 = rng.normal(size=(4, 5))
    b2 = rng.normal(size=5)
    expect_close(run(sub.layer_forward, X[:1], W2, b2), _dense_loops(X[:1], W2, b2),
                 rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ ch02.search
SEARCH_HINT = ("Try every (w1, w2, b) with each value taken from grid (len(grid)**3 candidates), "
               "compute the candidate's outputs on the four corners with the step convention "
               "z >= 0 -> 1, and return True as soon as one candidate matches the whole table.")
GRID = np.linspace(-2.0, 2.0, 21)            # -2.0, -1.8, ..., 2.0


@check("ch02.search", points=1, hint="AND is computed, e.g., by w = (1, 1), b = -1.6, which is on "
       "this grid. " + SEARCH_HINT)
def test_search_finds_and(sub):
    got = run(sub.perceptron_can_compute, np.array(TABLES["AND"]), GRID)
    expect_close(got, True, what=_("perceptron_can_compute(AND table, grid)"))


@check("ch02.search", points=1, hint="Use the convention of perceptron(): z = 0 counts as 1. "
       "With the grid [0] the only candidate is w = (0, 0), b = 0, which gives z = 0, so output 1, "
       "on every input: it computes the table [1, 1, 1, 1] and nothing else.")
def test_search_z_equal_zero_counts_as_one(sub):
    for table, expected in (([1, 1, 1, 1], True), ([0, 0, 0, 0], False)):
        got = run(sub.perceptron_can_compute, np.array(table), np.array([0.0]))
        expect_close(got, expected, what=_("perceptron_can_compute(%s, [0.0])") % (table,))


@check("ch02.search", points=1, hint="No perceptron computes XOR (chapter 2 proves it), so the "
       "search must come back empty. " + SEARCH_HINT)
def test_search_rejects_xor(sub):
    got = run(sub.perceptron_can_compute, np.array(TABLES["XOR"]), GRID)
    expect_close(got, False, what=_("perceptron_can_compute(XOR table, grid)"))


@check("ch02.search", points=1, hint="OR and NAND are single perceptrons; XNOR, like XOR, is not. "
       + SEARCH_HINT)
def test_search_or_nand_xnor(sub):
    for name, expected in [("OR", True), ("NAND", True), ("XNOR", False)]:
        got = run(sub.perceptron_can_compute, np.array(TABLES[name]), GRID)
        expect_close(got, expected, what=_("perceptron_can_compute(%s table, grid)") % name)


@check("ch02.search", points=1, hint="Search the grid you are given: with only non-negative "
       "values the bias cannot be negative, so AND (which needs b < 0 so that (0, 0) gives 0) is "
       "not found, while the constant table [1, 1, 1, 1] is (w = (0, 0), b = 0). " + SEARCH_HINT)
def test_search_depends_on_grid(sub):
    grid = np.array([0.0, 0.5, 1.0])
    assert _brute_force_can_compute(TABLES["AND"], grid) is False
    expect_close(run(sub.perceptron_can_compute, np.array(TABLES["AND"]), grid), False,
                 what=_("perceptron_can_compute(AND table, [0, 0.5, 1])"))
    expect_close(run(sub.perceptron_can_compute, np.array([1, 1, 1, 1]), grid), True,
                 what=_("perceptron_can_compute([1, 1, 1, 1], [0, 0.5, 1])"))


@check("ch02.search", points=1, hidden=True, hint=SEARCH_HINT)
def test_search_other_grid(sub):
    grid = np.array([-1.0, -0.5, 0.0])
    for name in ("NAND", "AND", "OR"):
        expected = _brute_force_can_compute(TABLES[name], grid)
        expect_close(run(sub.perceptron_can_compute, np.array(TABLES[name]), grid), expected,
                     what=_("perceptron_can_compute(%s table, [-1, -0.5, 0])") % name)
    expect_close(run(sub.perceptron_can_compute, np.array([0, 0, 0, 0]), grid), True,
                 what=_("perceptron_can_compute([0, 0, 0, 0], [-1, -0.5, 0])"))


@check("ch02.search", points=1, hidden=True, hint="Use the same step convention as perceptron(): "
       "z = 0 counts as 1. On the grid {-1, 0, 1}, w = (1, 1), b = -1 gives z = 0 at (0, 1), so it "
       "does not compute AND.")
def test_search_boundary_convention(sub):
    grid = np.array([-1.0, 0.0, 1.0])
    for table in (TABLES["AND"], TABLES["OR"], [0, 0, 1, 1], [0, 0, 0, 0]):
        expected = _brute_force_can_compute(table, grid)
        expect_close(run(sub.perceptron_can_compute, np.array(table), grid), expected,
                     what=_("perceptron_can_compute(%s, [-1, 0, 1])") % (table,))


@check("ch02.search", points=1, hidden=True, hint=SEARCH_HINT)
def test_search_all_sixteen_tables(sub):
    grid = np.linspace(-1.0, 1.0, 5)
    n_found = 0
    for bits in itertools.product([0, 1], repeat=4):
        expected = _brute_force_can_compute(bits, grid)
        n_found += expected
        expect_close(run(sub.perceptron_can_compute, np.array(bits), grid), expected,
                     what=_("perceptron_can_compute(%s, %s)") % (list(bits), grid))
    assert n_found == 14          # all but XOR and XNOR (a property of the grid, argued in chapter 2)


# ------------------------------------------------------------ ch02.train_perceptron (challenge)
PERCEPTRON_RESULT_KEYS = {"w", "b", "epochs", "updates", "converged"}
TRAIN_HINT = ("Loop over epochs; in each, visit the rows in order, compute step(w . x + b) with "
              "step(0) = 1, and on a wrong output add (y - y_hat) * x to w and (y - y_hat) to b. "
              "Stop after the first epoch without an update, or after max_epochs epochs.")
BOUND_HINT = ("Append a 1 to every sample and b_star to w_star; R is the largest norm of the "
              "extended samples, gamma the smallest s_i * (w_star . x_i + b_star) divided by the "
              "norm of the extended (w_star, b_star), with s_i = 2 y_i - 1.")


def _training_result(result):
    expect_true(isinstance(result, dict), _("train_perceptron should return a dict with the keys %s, "
                "got %s") % (sorted(PERCEPTRON_RESULT_KEYS), type(result).__name__), kind="type")
    expect_true(set(result) == PERCEPTRON_RESULT_KEYS, _("the result should have the keys %s, got %s")
                % (sorted(PERCEPTRON_RESULT_KEYS), sorted(map(str, result))), kind="keys")
    return result


def _separable_data(seed, n, d, gap):
    """Points labelled by a known hyperplane, none closer than ``gap`` to it."""
    rng = np.random.default_rng(seed)
    w_star, b_star = rng.normal(size=d), 0.3
    X = rng.uniform(-2.0, 2.0, size=(4 * n, d))
    distance = (X @ w_star + b_star) / np.linalg.norm(w_star)
    keep = np.flatnonzero(np.abs(distance) >= gap)[:n]
    return X[keep], (distance[keep] > 0).astype(float), w_star, b_star


@check("ch02.train_perceptron", points=1, hint="Epoch by epoch on AND, the updates are 2, 3, 3, 2, "
       "1 and 0: six epochs, eleven updates, ending at w = (2, 1), b = -3. " + TRAIN_HINT)
def test_train_perceptron_and_by_hand(sub):
    # Traced by hand from w = (0, 0), b = 0 (an update at z = 0 happens only for label 0):
    # epoch 1 updates at (0,0) and (1,1) -> w (1, 1), b 0; epoch 2 at (0,0), (0,1), (1,1) ->
    # (2, 1), -1; epoch 3 at (0,1), (1,0), (1,1) -> (2, 1), -2; epoch 4 at (1,0), (1,1) ->
    # (2, 2), -2; epoch 5 at (0,1) -> (2, 1), -3; epoch 6 makes none.
    result = _training_result(run(sub.train_perceptron, CORNERS, np.array([0.0, 0.0, 0.0, 1.0])))
    expect_close(np.asarray(result["w"], dtype=float), np.array([2.0, 1.0]), what=_('result["w"]'))
    expect_close(result["b"], -3.0, what=_('result["b"]'))
    expect_close(result["epochs"], 6, what=_('result["epochs"]'))
    expect_close(result["updates"], 11, what=_('result["updates"]'))
    expect_close(result["converged"], True, what=_('result["converged"]'))


@check("ch02.train_perceptron", points=1, hint="XOR is not linearly separable, so some sample is "
       "always misclassified: every epoch updates, and the loop stops only at max_epochs. "
       + TRAIN_HINT)
def test_train_perceptron_xor_never_converges(sub):
    y_xor = np.array([0.0, 1.0, 1.0, 0.0])
    result = _training_result(run(sub.train_perceptron, CORNERS, y_xor, 25))
    expect_close(result["converged"], False, what=_('result["converged"] on XOR'))
    expect_close(result["epochs"], 25, what=_('result["epochs"] on XOR with max_epochs=25'))
    expect_true(result["updates"] >= 25, _('every epoch on XOR makes an update, so result["updates"] '
                "should be at least 25, got %r") % (result["updates"],))


@check("ch02.train_perceptron", points=1, hint="AND with w* = (1, 1), b* = -1.5: the extended "
       "corners have norms up to sqrt(3), the extended weights norm sqrt(4.25), and the smallest "
       "signed z is 0.5, so the bound is 3 * 4.25 / 0.5**2 = 51 (the bias is the weight of a "
       "constant input 1, so both norms include it). " + BOUND_HINT)
def test_mistake_bound_and_by_hand(sub):
    y_and = np.array([0.0, 0.0, 0.0, 1.0])
    bound = run(sub.mistake_bound, CORNERS, y_and, np.array([1.0, 1.0]), -1.5)
    expect_close(bound, 51.0, rtol=1e-9)


@check("ch02.train_perceptron", points=1, hidden=True)
def test_train_perceptron_obeys_the_bound(sub):
    for seed, d, gap in ((21, 3, 0.2), (22, 6, 0.05)):
        X, y, w_star, b_star = _separable_data(seed, 150, d, gap)
        # The bound computed here, independently of the notebook.
        X1 = np.column_stack([X, np.ones(len(X))])
        theta = np.append(w_star, b_star)
        gamma = np.min((2 * y - 1) * (X1 @ theta)) / np.linalg.norm(theta)
        bound = (np.max(np.linalg.norm(X1, axis=1)) / gamma) ** 2
        expect_close(run(sub.mistake_bound, X, y, w_star, b_star), bound, rtol=1e-9,
                     what=_("mistake_bound on a separable data set"))
        result = _training_result(run(sub.train_perceptron, X, y, 10000))
        expect_close(result["converged"], True, what=_('result["converged"] on separable data'))
        expect_true(0 < result["updates"] <= bound, _("updates %r should be between 1 and the bound "
                    "%.1f") % (result["updates"], bound))
        outputs = np.where(X @ np.asarray(result["w"], dtype=float) + result["b"] >= 0, 1.0, 0.0)
        expect_close(outputs, y, what=_("the trained perceptron's outputs on its training data"))


@check("ch02.train_perceptron", points=1, hidden=True)
def test_mistake_bound_rejects_a_non_separating_line(sub):
    y_and = np.array([0.0, 0.0, 0.0, 1.0])
    expect_raises(sub.mistake_bound, CORNERS, y_and, np.array([1.0, 1.0]), -0.5,
                  what=_("a line (OR's) that misclassifies a corner"))
    expect_raises(sub.mistake_bound, CORNERS, y_and, np.array([1.0, 1.0]), -1.0,
                  what=_("a line that passes through a corner (margin 0)"))
