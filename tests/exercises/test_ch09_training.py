"""Checks of the chapter 9 exercises (solutions/ch09_training.ipynb): a training loop in numpy.

The independent reference is nnlib: ``nnlib.MLP(sizes, activation="tanh", seed=seed)`` starts from
the same Glorot-uniform weights the exercise specifies, ``Sequential.loss_and_grads`` gives the
gradients for hand-written SGD steps, and ``Sequential.fit(..., seed=seed)`` with ``SGD`` shuffles
and updates exactly as ``train`` must. Only plain data crosses the sandbox boundary (lists of
arrays, floats); predictions and accuracies are computed here, on the trusted side, with nnlib's
forward pass on the returned weights.
"""
import sys

import numpy as np

from grader.checks import CheckFailed, check, expect_close, expect_same, expect_true, run
from grader.paths import course_root

# Under pytest, tests/ is on sys.path and tests/nnlib/ (a folder without __init__.py) would be
# imported as an empty namespace package "nnlib"; put the course root first so the real nnlib,
# the independent reference of these checks, is found.
_ROOT = course_root(required=False)
if _ROOT is not None and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
import nnlib  # noqa: E402
from nnlib import data  # noqa: E402

NOTEBOOK = "ch09_training"

# Training the digits network takes about a second of numpy; the defaults (3 s per call, 20 s of
# CPU per child) leave too little room on a slow or busy machine.
SANDBOX = {"cpu_seconds": 300, "call_timeout": 20}
DIGITS_TIMEOUT = 60  # seconds: the exercise promises "within 60 s"


# ----------------------------------------------------------------------------- helpers
def _nnlib_net(sizes, seed=0, learning_rate=0.1):
    model = nnlib.MLP(sizes, activation="tanh", seed=seed)
    loss = "binary_crossentropy" if sizes[-1] == 1 else "categorical_crossentropy"
    return model.compile(loss, nnlib.SGD(learning_rate=learning_rate))


def _expect_params(got, sizes, fn):
    """The returned value must be a list [W1, b1, ...] of float arrays with the right shapes."""
    if not isinstance(got, (list, tuple)):
        raise CheckFailed("%s should return a list [W1, b1, W2, b2, ...], got %s"
                          % (fn, type(got).__name__), kind="type")
    n_layers = len(sizes) - 1
    expect_true(len(got) == 2 * n_layers,
                "for sizes %s, %s should return %d arrays [W1, b1, ..., W%d, b%d], got %d"
                % (sizes, fn, 2 * n_layers, n_layers, n_layers, len(got)), kind="shape")
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        for name, p, shape in (("W%d" % l, got[2 * l - 2], (n_in, n_out)), ("b%d" % l, got[2 * l - 1], (n_out,))):
            if not isinstance(p, np.ndarray):
                raise CheckFailed("%s: %s should be a numpy array, got %s" % (fn, name, type(p).__name__), kind="type")
            expect_true(p.shape == shape, "%s: for sizes %s, %s should have shape %s, got %s"
                        % (fn, sizes, name, shape, p.shape), kind="shape")
            expect_true(p.dtype.kind == "f", "%s: %s should hold floats, got dtype %s" % (fn, name, p.dtype),
                        kind="dtype")
    return list(got)


def _pair(result, fn, names):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed("%s should return a tuple %s, got %s"
                          % (fn, "(" + ", ".join(names) + ")",
                             type(result).__name__ if not isinstance(result, (tuple, list))
                             else "%d items" % len(result)), kind="type")
    return result


def _expect_same_params(got, expected, what, rtol=1e-9, atol=1e-12):
    names = ["%s%d" % (k, i // 2 + 1) for i, k in enumerate(["W", "b"] * (len(expected) // 2))]
    for name, g, e in zip(names, got, expected):
        expect_close(g, e, rtol=rtol, atol=atol, dtype="kind", what="%s of %s" % (name, what))


def _sgd_by_hand(params, X, Y, sizes, batch_size, lr, order):
    """One epoch with nnlib's gradients, written out step by step on the trusted side."""
    model = _nnlib_net(sizes)
    model.set_weights(params)
    losses, counts = [], []
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        loss, grads = model.loss_and_grads(X[rows], Y[rows])
        for name, p in model.params().items():
            p -= lr * grads[name]
        losses.append(loss)
        counts.append(len(rows))
    return model.get_weights(), float(np.average(losses, weights=counts))


def _moons(n, seed):
    X, y = data.make_moons(n_samples=n, noise=0.2, seed=seed)
    return X, y.reshape(-1, 1).astype(float)


def _three_classes(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.eye(3)[rng.integers(0, 3, size=n)]


def _digits_split():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
    scaler = data.StandardScaler().fit(X_train)
    return scaler.transform(X_train), data.one_hot(y_train, 10), scaler.transform(X_test), y_test


def _losses_list(losses, epochs, fn="train"):
    if not isinstance(losses, (list, tuple, np.ndarray)):
        raise CheckFailed("%s should return the epoch losses as a list, got %s" % (fn, type(losses).__name__),
                          kind="type")
    expect_true(len(losses) == epochs, "%s should return one loss per epoch (%d), got %d values"
                % (fn, epochs, len(losses)), kind="shape")
    return np.asarray(losses, dtype=float)


# ----------------------------------------------------------------------------- init_params
@check("ch09.init_params", points=1,
       hint="One (n_in, n_out) weight matrix and one (n_out,) bias vector per pair of consecutive sizes; "
            "biases are np.zeros(n_out).")
def test_init_params_shapes_and_zero_biases(sub):
    for sizes in ([2, 4, 1], [64, 32, 10], [3, 5, 7, 2], [4, 1]):
        got = _expect_params(run(sub.init_params, sizes, 0), sizes, "init_params")
        for l, b in enumerate(got[1::2], start=1):
            expect_true(not np.any(b), "init_params(%s, 0): b%d should be all zeros, got %s" % (sizes, l, b))
        for l, W in enumerate(got[0::2], start=1):
            expect_true(np.unique(W).size == W.size,
                        "init_params(%s, 0): the entries of W%d should be random (all different), got %s"
                        % (sizes, l, W), kind="values")


@check("ch09.init_params", points=1,
       hint="rng = np.random.default_rng(seed) once; then per layer, in order, "
            "rng.uniform(-a, a, size=(n_in, n_out)) with a = sqrt(6 / (n_in + n_out)).")
def test_init_params_is_glorot_uniform_from_the_seed(sub):
    for sizes, seed in (([2, 4, 1], 0), ([3, 5, 7, 2], 11)):
        got = _expect_params(run(sub.init_params, sizes, seed), sizes, "init_params")
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            a = np.sqrt(6.0 / (n_in + n_out))
            expect_true(np.abs(got[2 * l - 2]).max() <= a,
                        "init_params(%s, %d): W%d must lie in [-a, a] with a = sqrt(6 / (%d + %d)) = %.4f, "
                        "got entries up to %.4f" % (sizes, seed, l, n_in, n_out, a, np.abs(got[2 * l - 2]).max()))
        _expect_same_params(got, nnlib.MLP(sizes, activation="tanh", seed=seed).get_weights(),
                            "init_params(%s, %d) (Keras' and nnlib's Glorot uniform from the same seed)"
                            % (sizes, seed), rtol=1e-12)


@check("ch09.init_params", points=1,
       hint="Create the generator inside the function from `seed`; never use np.random.seed or global state.")
def test_init_params_same_seed_same_network(sub):
    first = _expect_params(run(sub.init_params, [5, 8, 3], 7), [5, 8, 3], "init_params")
    second = _expect_params(run(sub.init_params, [5, 8, 3], 7), [5, 8, 3], "init_params")
    other = _expect_params(run(sub.init_params, [5, 8, 3], 8), [5, 8, 3], "init_params")
    _expect_same_params(second, first, "a second call with the same seed", rtol=0, atol=0)
    expect_true(not np.array_equal(first[0], other[0]), "seeds 7 and 8 gave the same W1: the weights must "
                "depend on the seed")


@check("ch09.init_params", points=1, hidden=True)
def test_init_params_larger(sub, ref):
    sizes = [10, 20, 20, 5]
    got = _expect_params(run(sub.init_params, sizes, 99), sizes, "init_params")
    _expect_same_params(got, ref.init_params(sizes, 99), "init_params", rtol=1e-12)


# ----------------------------------------------------------------------------- train_epoch
@check("ch09.train_epoch", points=1,
       hint="With batch_size >= n there is one batch: loss, grads = loss_and_grads(params, X[rows], Y[rows]); "
            "new p = p - learning_rate * g. Return (new_params, loss).")
def test_train_epoch_full_batch_is_one_gradient_step(sub):
    X, Y = _moons(12, 0)
    params = nnlib.MLP([2, 3, 1], activation="tanh", seed=2).get_weights()
    order = np.arange(12)
    got = _pair(run(sub.train_epoch, params, X, Y, 12, 0.5, order), "train_epoch", ("new_params", "epoch_loss"))
    new = _expect_params(got[0], [2, 3, 1], "train_epoch")
    model = _nnlib_net([2, 3, 1])
    model.set_weights(params)
    loss, grads = model.loss_and_grads(X, Y)
    expected = [p - 0.5 * grads[name] for name, p in model.params().items()]
    _expect_same_params(new, expected, "the parameters after one full-batch step")
    expect_close(float(got[1]), loss, rtol=1e-9, what="the epoch loss (the loss before the step)")


@check("ch09.train_epoch", points=1,
       hint="Take the rows order[0:B], order[B:2B], ...; the last batch holds the rest. Weight each batch's "
            "loss by its number of rows: epoch_loss = sum(loss_i * n_i) / n.")
def test_train_epoch_minibatches_in_the_given_order(sub):
    X, Y = _moons(10, 1)
    params = nnlib.MLP([2, 4, 1], activation="tanh", seed=3).get_weights()
    order = np.array([3, 7, 0, 9, 1, 5, 2, 8, 6, 4])        # batches of 4, 4 and 2 rows
    got = _pair(run(sub.train_epoch, params, X, Y, 4, 0.3, order), "train_epoch", ("new_params", "epoch_loss"))
    new = _expect_params(got[0], [2, 4, 1], "train_epoch")
    expected, loss = _sgd_by_hand(params, X, Y, [2, 4, 1], 4, 0.3, order)
    _expect_same_params(new, expected, "train_epoch with batch_size=4 on 10 rows")
    expect_close(float(got[1]), loss, rtol=1e-9, what="the epoch loss (batch losses weighted by batch size)")


@check("ch09.train_epoch", points=1,
       hint="loss_and_grads handles a softmax output and one-hot Y, so the loop is the same as for one "
            "output. With 9 rows in batches of 2 the last batch has 1 row: weight each batch's loss by "
            "its number of rows, epoch_loss = sum(loss_i * n_i) / n.")
def test_train_epoch_softmax_three_classes(sub):
    X, Y = _three_classes(9, 5)
    params = nnlib.MLP([4, 6, 5, 3], activation="tanh", seed=4).get_weights()
    order = np.random.default_rng(6).permutation(9)
    got = _pair(run(sub.train_epoch, params, X, Y, 2, 0.2, order), "train_epoch", ("new_params", "epoch_loss"))
    new = _expect_params(got[0], [4, 6, 5, 3], "train_epoch")
    expected, loss = _sgd_by_hand(params, X, Y, [4, 6, 5, 3], 2, 0.2, order)
    _expect_same_params(new, expected, "train_epoch on a 4-6-5-3 softmax network (batches of 2)")
    expect_close(float(got[1]), loss, rtol=1e-9,
                 what="the epoch loss (batch losses weighted by batch size)")


@check("ch09.train_epoch", points=1,
       hint="Feed each epoch's new parameters into the next epoch: the loss must fall on XOR with lr = 1.")
def test_train_epoch_loss_decreases_on_xor(sub):
    X, Y = data.make_xor()
    params = nnlib.MLP([2, 4, 1], activation="tanh", seed=0).get_weights()
    losses = []
    for _ in range(40):
        params, loss = _pair(run(sub.train_epoch, params, X, Y, 4, 1.0, np.arange(4)), "train_epoch",
                             ("new_params", "epoch_loss"))
        params = _expect_params(params, [2, 4, 1], "train_epoch")
        losses.append(float(loss))
    expect_true(all(b < a for a, b in zip(losses, losses[1:])),
                "on XOR (full batch, lr = 1) the epoch loss should fall every epoch; got %s"
                % np.round(losses, 4).tolist())
    expect_true(losses[-1] < 0.5 * losses[0], "after 40 epochs the loss should have at least halved: %.4f -> %.4f"
                % (losses[0], losses[-1]))


@check("ch09.train_epoch", points=1, hidden=True)
def test_train_epoch_random(sub, ref):
    X, Y = _three_classes(23, 8)
    params = ref.init_params([4, 7, 3], 12)
    order = np.random.default_rng(13).permutation(23)
    got = _pair(run(sub.train_epoch, params, X, Y, 5, 0.15, order), "train_epoch", ("new_params", "epoch_loss"))
    exp_params, exp_loss = ref.train_epoch(params, X, Y, 5, 0.15, order)
    _expect_same_params(_expect_params(got[0], [4, 7, 3], "train_epoch"), exp_params, "train_epoch")
    expect_close(float(got[1]), exp_loss, rtol=1e-9)


# ----------------------------------------------------------------------------- train
@check("ch09.train", points=1,
       hint="params = init_params(sizes, seed); rng = np.random.default_rng(seed); every epoch "
            "train_epoch(..., rng.permutation(n)). This is what nnlib's fit(..., seed=seed) does.")
def test_train_matches_nnlib_fit(sub):
    X, Y = _moons(40, 2)
    got = _pair(run(sub.train, X, Y, [2, 6, 1], 5, 16, 0.3, 4), "train", ("params", "losses"))
    params = _expect_params(got[0], [2, 6, 1], "train")
    losses = _losses_list(got[1], 5)
    model = _nnlib_net([2, 6, 1], seed=4, learning_rate=0.3)
    history = model.fit(X, Y, epochs=5, batch_size=16, seed=4, verbose=0)
    _expect_same_params(params, model.get_weights(), "train(X, Y, [2, 6, 1], epochs=5, batch_size=16, "
                        "learning_rate=0.3, seed=4), compared with nnlib's fit from the same seed", rtol=1e-8)
    expect_close(losses, np.array(history.history["loss"]), rtol=1e-8, what="the epoch losses")


@check("ch09.train", points=2,
       hint="train(X, y, [2, 4, 1], epochs=2000, batch_size=4, learning_rate=1.0, seed=0) must classify all four "
            "XOR points (output > 0.5 exactly for (0, 1) and (1, 0)).")
def test_train_solves_xor(sub):
    X, Y = data.make_xor()
    got = _pair(run(sub.train, X, Y, [2, 4, 1], 2000, 4, 1.0, 0), "train", ("params", "losses"))
    params = _expect_params(got[0], [2, 4, 1], "train")
    losses = _losses_list(got[1], 2000)
    model = _nnlib_net([2, 4, 1])
    model.set_weights(params)
    p = model.predict(X).ravel()
    expect_true(np.array_equal(p > 0.5, Y.ravel() > 0.5),
                "XOR is not solved: for the inputs (0,0), (0,1), (1,0), (1,1) your network outputs %s, "
                "expected > 0.5 exactly for (0,1) and (1,0)" % np.round(p, 3).tolist())
    expect_true(losses[-1] < 0.1 and losses[-1] < losses[0],
                "the XOR loss should fall from about 0.7 to below 0.1; got %.4f -> %.4f" % (losses[0], losses[-1]))


@check("ch09.train", points=2, timeout=DIGITS_TIMEOUT,
       hint="train(X_train, Y_train, [64, 32, 10], epochs=20, batch_size=32, learning_rate=0.1, seed=0) on "
            "standardised digits with one-hot targets must reach >= 0.90 test accuracy within 60 s. "
            "Avoid Python loops over single samples: index whole mini-batches.")
def test_train_digits_accuracy(sub):
    X_train, Y_train, X_test, y_test = _digits_split()
    got = _pair(run(sub.train, X_train, Y_train, [64, 32, 10], 20, 32, 0.1, 0), "train", ("params", "losses"))
    params = _expect_params(got[0], [64, 32, 10], "train")
    _losses_list(got[1], 20)
    model = _nnlib_net([64, 32, 10])
    model.set_weights(params)
    accuracy = float(np.mean(model.predict(X_test).argmax(axis=1) == y_test))
    expect_true(accuracy >= 0.90, "test accuracy on the digits is %.3f, expected at least 0.90" % accuracy)


@check("ch09.train", points=1,
       hint="The same seed must give identical parameters and losses; a different seed different ones; "
            "epochs=0 returns init_params(sizes, seed) and an empty list.")
def test_train_is_deterministic(sub):
    X, Y = _three_classes(30, 9)
    args = (X, Y, [4, 5, 3], 3, 8, 0.2)
    first = _pair(run(sub.train, *args, 21), "train", ("params", "losses"))
    second = _pair(run(sub.train, *args, 21), "train", ("params", "losses"))
    other = _pair(run(sub.train, *args, 22), "train", ("params", "losses"))
    p1, p2, p3 = (_expect_params(r[0], [4, 5, 3], "train") for r in (first, second, other))
    _expect_same_params(p2, p1, "a second call of train with the same seed", rtol=0, atol=0)
    expect_close(_losses_list(second[1], 3), _losses_list(first[1], 3), rtol=0, atol=0,
                 what="the losses of a second call with the same seed")
    expect_true(not np.array_equal(p1[0], p3[0]), "seeds 21 and 22 gave the same W1 after training: the "
                "initialisation and the shuffling must depend on the seed")
    zero = _pair(run(sub.train, *args[:3], 0, 8, 0.2, 21), "train", ("params", "losses"))
    _losses_list(zero[1], 0)
    _expect_same_params(_expect_params(zero[0], [4, 5, 3], "train"),
                        nnlib.MLP([4, 5, 3], activation="tanh", seed=21).get_weights(),
                        "train with epochs=0 (the initial parameters)", rtol=1e-12)


@check("ch09.train", points=1, hidden=True)
def test_train_random(sub, ref):
    X, _ = _three_classes(37, 14)
    Y2 = np.eye(2)[np.random.default_rng(15).integers(0, 2, size=37)]
    sizes = [4, 7, 5, 2]
    got = _pair(run(sub.train, X, Y2, sizes, 4, 6, 0.25, 31), "train", ("params", "losses"))
    exp_params, exp_losses = ref.train(X, Y2, sizes, 4, 6, 0.25, 31)
    _expect_same_params(_expect_params(got[0], sizes, "train"), exp_params, "train", rtol=1e-8)
    expect_close(_losses_list(got[1], 4), np.array(exp_losses), rtol=1e-8)
