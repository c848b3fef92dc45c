"""Checks of the chapter 4 exercises (solutions/ch04_forward.ipynb).

Expected values come from hand computation (the 2-2-1 network traced in the book), from an
independent reference written here with explicit Python loops over samples and units (no matrix
products), and, for the XOR network, from the XOR truth table itself. The optional challenge
``ch04.parity_network_params`` (bonus points) is graded on the parity of every input, counted
here, through that loop-based forward pass. Hidden checks use other batch sizes, layer sizes and
depths.
"""
import math

import numpy as np

from grader.checks import CheckFailed, LearnerError, check, expect_close, expect_raises, expect_true, run
from grader.i18n import _

NOTEBOOK = "ch04_forward"


# ----------------------------------------------------------------------------- independent reference
def _act(name, row):
    """Activation of one sample's pre-activations (a list of floats), by plain Python."""
    if name == "linear":
        return list(row)
    if name == "relu":
        return [max(0.0, z) for z in row]
    if name == "tanh":
        return [math.tanh(z) for z in row]
    if name == "sigmoid":
        return [1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z)) for z in row]
    if name == "softmax":
        m = max(row)
        e = [math.exp(z - m) for z in row]
        return [v / sum(e) for v in e]
    raise ValueError(name)


def _loop_dense(X, W, b):
    """Z[i, j] = sum_k X[i, k] W[k, j] + b[j], one number at a time."""
    n, n_in = X.shape
    n_out = W.shape[1]
    return np.array([[sum(float(X[i, k]) * float(W[k, j]) for k in range(n_in)) + float(b[j])
                      for j in range(n_out)] for i in range(n)]).reshape(n, n_out)


def _loop_forward(X, params, activations):
    """The forward pass with loops; returns the expected cache dict."""
    cache = {"X": np.array(X, dtype=float)}
    A = cache["X"]
    for l, name in enumerate(activations, start=1):
        Z = _loop_dense(A, params["W%d" % l], params["b%d" % l])
        A = np.array([_act(name, list(row)) for row in Z]).reshape(Z.shape)
        cache["Z%d" % l], cache["A%d" % l] = Z, A
    return cache


def _random_network(seed, sizes):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params["W%d" % l] = rng.normal(size=(sizes[l - 1], sizes[l]))
        params["b%d" % l] = rng.normal(size=sizes[l])
    return params




def _unpack(result, fn_name="mlp_forward"):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(_("%s should return a pair (A_L, cache), got %s")
                          % (fn_name, type(result).__name__ if not isinstance(result, (tuple, list))
                             else "%d items" % len(result)), kind="type")
    out, cache = result
    if not isinstance(cache, dict):
        raise CheckFailed(_("the cache should be a dict like {'X': X, 'Z1': Z1, 'A1': A1, ...}, got %s")
                          % type(cache).__name__, kind="type")
    return out, cache


def _check_forward(sub, X, params, activations, rtol=1e-7, atol=1e-10):
    expected = _loop_forward(X, params, activations)
    L = len(activations)
    out, cache = _unpack(run(sub.mlp_forward, X, params, activations))
    expect_close(out, expected["A%d" % L], rtol=rtol, atol=atol,
                 what=_("the output A_L (a batch of size %d)") % X.shape[0])
    expect_close(cache, expected, rtol=rtol, atol=atol, what=_("the cache"))


# ----------------------------------------------------------------------------- dense_forward
@check("ch04.dense_forward", points=2,
       hint="Z = X @ W + b: row i of Z is sample i, column j is unit j, and b[j] is added to column j.")
def test_dense_forward_hand_values(sub):
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    b = np.array([0.5, -1.0, 0.0])
    # Worked out by hand: row 1 = (1 + 4 + 0.5, 0 + 2 - 1, -1 + 1 + 0), etc.
    expected = np.array([[5.5, 1.0, 0.0], [-1.5, -2.0, -0.5], [5.5, 0.0, -2.5]])
    expect_close(run(sub.dense_forward, X, W, b), expected)


@check("ch04.dense_forward", points=1,
       hint="Use the matrix product X @ W, which keeps the batch axis: a batch of one gives shape (1, n_out).")
def test_dense_forward_batch_sizes(sub):
    rng = np.random.default_rng(40)
    W, b = rng.normal(size=(4, 5)), rng.normal(size=5)
    for n in (1, 3, 17):
        X = rng.normal(size=(n, 4))
        expect_close(run(sub.dense_forward, X, W, b), _loop_dense(X, W, b),
                     what=_("Z for a batch of size %d") % n)


@check("ch04.dense_forward", points=1,
       hint="Check X.ndim != 2 first and raise ValueError('... got shape (d,); use X.reshape(1, -1)').")
def test_dense_forward_rejects_1d_input(sub):
    W, b = np.ones((3, 2)), np.zeros(2)
    expect_raises(sub.dense_forward, np.array([1.0, 2.0, 3.0]), W, b,
                  what=_("a 1-D X of shape (3,) (a single sample must be a batch of shape (1, 3))"))


@check("ch04.dense_forward", points=1,
       hint="A column bias (n_out, 1) broadcasts (1, n_out) + (n_out, 1) into (n_out, n_out); "
            "raise ValueError unless b.shape == (W.shape[1],).")
def test_dense_forward_rejects_column_bias(sub):
    X, W = np.array([[1.0, 2.0, 3.0]]), np.ones((3, 2))
    expect_raises(sub.dense_forward, X, W, np.zeros((2, 1)),
                  what=_("a column bias of shape (2, 1) with a batch of one sample"))


@check("ch04.dense_forward", points=1, hidden=True)
def test_dense_forward_other_shapes(sub):
    rng = np.random.default_rng(41)
    for n, n_in, n_out in ((2, 7, 1), (64, 3, 6), (1, 1, 9)):
        X, W, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
        expect_close(run(sub.dense_forward, X, W, b), _loop_dense(X, W, b), rtol=1e-9, atol=1e-12)


@check("ch04.dense_forward", points=1, hidden=True)
def test_dense_forward_rejects_bad_shapes(sub):
    # A column bias whose batch size equals n_out also broadcasts silently: (4, 4) + (4, 1).
    X, W = np.ones((4, 3)), np.ones((3, 4))
    expect_raises(sub.dense_forward, X, W, np.zeros((4, 1)), what=_("a column bias of shape (4, 1)"))
    expect_raises(sub.dense_forward, np.ones((2, 3)), np.ones((4, 2)), np.zeros(2),
                  what=_("X with 3 columns but W with 4 rows"))


# ----------------------------------------------------------------------------- mlp_forward
@check("ch04.mlp_forward", points=2,
       hint="Loop over the layers: Z = A @ W{l} + b{l}, then A = ACTIVATIONS[name](Z); "
            "store both in the cache as 'Z{l}' and 'A{l}'.")
def test_mlp_forward_hand_traced_network(sub):
    # The 2-2-1 network traced by hand in chapter 4 (ReLU hidden layer, sigmoid output).
    params = {"W1": np.array([[0.5, -1.0], [1.0, 0.5]]), "b1": np.array([0.0, -0.5]),
              "W2": np.array([[1.0], [2.0]]), "b2": np.array([-2.0])}
    X = np.array([[1.0, 2.0], [2.0, 1.0]])
    expected = {
        "X": X,
        "Z1": np.array([[2.5, -0.5], [2.0, -2.0]]),
        "A1": np.array([[2.5, 0.0], [2.0, 0.0]]),
        "Z2": np.array([[0.5], [0.0]]),
        "A2": np.array([[1.0 / (1.0 + math.exp(-0.5))], [0.5]]),
    }
    out, cache = _unpack(run(sub.mlp_forward, X, params, ["relu", "sigmoid"]))
    expect_close(out, expected["A2"], what=_("the output A_L"))
    expect_close(cache, expected, what=_("the cache"))


@check("ch04.mlp_forward", points=1,
       hint="The cache has exactly the keys 'X', 'Z1', 'A1', ..., 'ZL', 'AL'; cache['X'] is the input "
            "and cache['AL'] is the returned output.")
def test_mlp_forward_cache_structure(sub):
    params = _random_network(42, [3, 4, 2, 1])
    X = np.random.default_rng(43).normal(size=(5, 3))
    out, cache = _unpack(run(sub.mlp_forward, X, params, ["tanh", "relu", "linear"]))
    keys = ["X", "Z1", "A1", "Z2", "A2", "Z3", "A3"]
    expect_true(set(cache) == set(keys),
                _("the cache of a 3-layer network should have the keys %s, got %s") % (keys, sorted(cache)),
                kind="keys")
    expect_close(cache["X"], X, what=_("cache['X']"))
    for l, width in ((1, 4), (2, 2), (3, 1)):
        for kind in "ZA":
            got = cache["%s%d" % (kind, l)]
            expect_true(isinstance(got, np.ndarray) and got.shape == (5, width),
                        _("cache['%s%d'] should have shape (5, %d) for a batch of 5, got %s")
                        % (kind, l, width, getattr(got, "shape", type(got).__name__)), kind="shape")
    expect_close(out, cache["A3"], what=_("the output (it should equal cache['A3'])"))


@check("ch04.mlp_forward", points=2,
       hint="Nothing in the loop should depend on the batch size n; keep X 2-D, even for one sample.")
def test_mlp_forward_batch_sizes(sub):
    params = _random_network(44, [4, 8, 5, 3])
    rng = np.random.default_rng(45)
    for n in (1, 3, 17):
        _check_forward(sub, rng.normal(size=(n, 4)), params, ["relu", "tanh", "softmax"])


@check("ch04.mlp_forward", points=1,
       hint="Count the layers in params (the keys W1, W2, ...) and compare with len(activations).")
def test_mlp_forward_rejects_wrong_number_of_activations(sub):
    params = _random_network(46, [2, 3, 1])
    expect_raises(sub.mlp_forward, np.ones((2, 2)), params, ["relu", "relu", "sigmoid"],
                  what=_("3 activation names for a network with 2 layers"))


@check("ch04.mlp_forward", points=2, hidden=True)
def test_mlp_forward_other_sizes_and_depths(sub):
    rng = np.random.default_rng(47)
    cases = [([6, 1], ["sigmoid"], 5),                                            # one layer
             ([2, 16, 16, 16, 2], ["relu", "tanh", "relu", "softmax"], 64),         # deeper, wider batch
             ([5, 3, 4], ["linear", "sigmoid"], 2)]
    for seed, (sizes, acts, n) in enumerate(cases, start=48):
        _check_forward(sub, rng.normal(size=(n, sizes[0])), _random_network(seed, sizes), acts,
                       rtol=1e-7, atol=1e-9)


@check("ch04.mlp_forward", points=1, hidden=True)
def test_mlp_forward_single_sample_and_saturation(sub):
    params = _random_network(51, [3, 4, 2])
    params["W1"] *= 400.0                       # huge pre-activations: sigmoid must stay finite
    _check_forward(sub, np.array([[1.0, -2.0, 0.5]]), params, ["sigmoid", "softmax"])


# ----------------------------------------------------------------------------- xor_network_params
_XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_Y = np.array([0, 1, 1, 0])
_XOR_SHAPES = {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}


def _xor_params(sub):
    params = run(sub.xor_network_params)
    if not isinstance(params, dict):
        raise CheckFailed(_("xor_network_params() should return a dict with keys W1, b1, W2, b2, got %s")
                          % type(params).__name__, kind="type")
    expect_true(set(params) == set(_XOR_SHAPES),
                _("xor_network_params() should return the keys %s, got %s") % (sorted(_XOR_SHAPES), sorted(params)),
                kind="keys")
    for name, shape in _XOR_SHAPES.items():
        value = params[name]
        expect_true(isinstance(value, np.ndarray) and value.shape == shape,
                    _("%s should be an array of shape %s, got %s") % (
                        name, shape, "shape %s" % (value.shape,) if isinstance(value, np.ndarray)
                        else type(value).__name__), kind="shape")
        expect_true(np.issubdtype(value.dtype, np.number) and np.all(np.isfinite(value)),
                    _("%s should hold finite numbers") % name, kind="values")
    return {k: v.astype(float) for k, v in params.items()}


def _xor_outputs(ref, params, X):
    out, _unused = ref.mlp_forward(X, params, ["sigmoid", "sigmoid"])
    return out.ravel()


@check("ch04.xor_network_params", points=1,
       hint="W1 is (2, 2): column 1 holds hidden unit 1's weights, column 2 hidden unit 2's. "
            "W2 is (2, 1) and b2 is (1,).")
def test_xor_params_shapes(sub):
    _xor_params(sub)


@check("ch04.xor_network_params", points=2,
       hint="Hidden unit 1 computes OR, hidden unit 2 NAND, the output unit AND of the two. Write each "
            "unit's pre-activation for the four corners on paper: every one should be 5 or more away "
            "from 0, which takes weights of 10 or more.")
def test_xor_truth_table_with_margin(sub, ref):
    params = _xor_params(sub)
    p = _xor_outputs(ref, params, _XOR_X)
    for x, y, prob in zip(_XOR_X, _XOR_Y, p):
        ok = prob < 0.1 if y == 0 else prob > 0.9
        expect_true(ok, _("for the input (%d, %d) the network outputs %.4f; XOR is %d, so the output "
                    "should be %s") % (x[0], x[1], prob, y, "below 0.1" if y == 0 else "above 0.9"))


@check("ch04.xor_network_params", points=1, hidden=True)
def test_xor_robust_near_the_corners(sub, ref):
    params = _xor_params(sub)
    rng = np.random.default_rng(52)
    X = np.repeat(_XOR_X, 25, axis=0) + rng.uniform(-0.1, 0.1, size=(100, 2))
    y = np.repeat(_XOR_Y, 25)
    predicted = (_xor_outputs(ref, params, X) > 0.5).astype(int)
    expect_true(np.array_equal(predicted, y),
                _("%d of 100 points within 0.1 of the XOR corners are misclassified")
                % int((predicted != y).sum()))


# ----------------------------------------------------------------------------- parity (challenge)
PARITY_HINT = ("Give hidden unit k (k = 1..n) equal input weights s and bias -s (k - 1/2): it "
               "fires when at least k inputs are 1. With c ones, units 1..c fire, and output "
               "weights +s, -s, +s, ... with bias -s/2 give s/2 for odd c and -s/2 for even c. "
               "Take s = 20 or more.")


def _all_bit_patterns(n_bits):
    return np.array([[(i >> j) & 1 for j in range(n_bits)] for i in range(2 ** n_bits)],
                    dtype=float)


def _parity_params(sub, n_bits):
    params = run(sub.parity_network_params, n_bits)
    if not isinstance(params, dict):
        raise CheckFailed(_("parity_network_params(%d) should return a dict with keys W1, b1, W2, "
                          "b2, got %s") % (n_bits, type(params).__name__), kind="type")
    expect_true(set(params) == {"W1", "b1", "W2", "b2"}, _("parity_network_params(%d) should return "
                "the keys ['W1', 'W2', 'b1', 'b2'], got %s") % (n_bits, sorted(map(str, params))),
                kind="keys")
    for name in ("W1", "b1", "W2", "b2"):
        value = params[name]
        expect_true(isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number)
                    and np.all(np.isfinite(value)),
                    _("%s should be a numpy array of finite numbers") % name, kind="type")
    W1 = params["W1"]
    width = W1.shape[1] if W1.ndim == 2 else -1
    shapes = {"W1": (n_bits, width), "b1": (width,), "W2": (width, 1), "b2": (1,)}
    for name, shape in shapes.items():
        expect_true(params[name].shape == shape and width >= 1, _("for %d bits and a hidden layer of "
                    "width h, the shapes should be W1 (%d, h), b1 (h,), W2 (h, 1), b2 (1,); got %s")
                    % (n_bits, n_bits, {k: v.shape for k, v in params.items()}), kind="shape")
    return {k: v.astype(float) for k, v in params.items()}


def _check_parity(sub, n_bits, X=None, noise_note=""):
    params = _parity_params(sub, n_bits)
    bits = _all_bit_patterns(n_bits)
    X = bits if X is None else X
    counts = np.rint(X).sum(axis=1).astype(int)          # the corner each (shaken) input belongs to
    outputs = _loop_forward(X, params, ["sigmoid", "sigmoid"])["A2"].ravel()
    for x, count, p in zip(X, counts, outputs):
        odd = count % 2 == 1
        ok = p > 0.9 if odd else p < 0.1
        expect_true(ok, _("for the %d-bit input %s%s (%d ones) the network outputs %.4f; the "
                    "parity is %d, so the output should be %s")
                    % (n_bits, np.round(x, 3).tolist(), noise_note, count, p, int(odd),
                       _("above 0.9") if odd else _("below 0.1")))


@check("ch04.parity_network_params", points=1, hint=PARITY_HINT)
def test_parity_shapes(sub):
    _parity_params(sub, 4)


@check("ch04.parity_network_params", points=2, hint=PARITY_HINT)
def test_parity_three_bits(sub):
    _check_parity(sub, 3)


@check("ch04.parity_network_params", points=1, hidden=True)
def test_parity_other_numbers_of_bits(sub):
    for n_bits in (2, 5, 8):
        _check_parity(sub, n_bits)


@check("ch04.parity_network_params", points=1, hidden=True)
def test_parity_three_bits_with_noise(sub):
    rng = np.random.default_rng(53)
    X = np.repeat(_all_bit_patterns(3), 12, axis=0) + rng.uniform(-0.1, 0.1, size=(96, 3))
    _check_parity(sub, 3, X, " (a corner shaken by up to 0.1)")
