"""Checks of the chapter 9 exercises (solutions/ch09_training.ipynb): a training loop in numpy.

The independent reference is nnlib: ``nnlib.MLP(sizes, activation="tanh", seed=seed)`` starts from
the same Glorot-uniform weights the exercise specifies, ``Sequential.loss_and_grads`` gives the
gradients for hand-written SGD steps, and ``Sequential.fit(..., seed=seed)`` with ``SGD`` shuffles
and updates exactly as ``train`` must. Only plain data crosses the sandbox boundary (lists of
arrays, floats); predictions and accuracies are computed here, on the trusted side, with nnlib's
forward pass on the returned weights. The optional challenge ``ch09.clip_by_global_norm`` (bonus
points) is checked against hand-computed norms (also at 1e200 and 1e-200, where squaring overflows
or underflows) and ``math.hypot`` over every entry.
"""
import sys

import numpy as np

from grader.checks import (CheckFailed, check, expect_close, expect_gradients, expect_raises,
                           expect_same, expect_true, numerical_gradient, run)
from grader.i18n import _
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
        raise CheckFailed(_("%s should return a list [W1, b1, W2, b2, ...], got %s")
                          % (fn, type(got).__name__), kind="type")
    n_layers = len(sizes) - 1
    expect_true(len(got) == 2 * n_layers,
                _("for sizes %s, %s should return %d arrays [W1, b1, ..., W%d, b%d], got %d")
                % (sizes, fn, 2 * n_layers, n_layers, n_layers, len(got)), kind="shape")
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        for name, p, shape in (("W%d" % l, got[2 * l - 2], (n_in, n_out)), ("b%d" % l, got[2 * l - 1], (n_out,))):
            if not isinstance(p, np.ndarray):
                raise CheckFailed(_("%s: %s should be a numpy array, got %s") % (fn, name, type(p).__name__), kind="type")
            expect_true(p.shape == shape, _("%s: for sizes %s, %s should have shape %s, got %s")
                        % (fn, sizes, name, shape, p.shape), kind="shape")
            expect_true(p.dtype.kind == "f", _("%s: %s should hold floats, got dtype %s") % (fn, name, p.dtype),
                        kind="dtype")
    return list(got)


def _pair(result, fn, names):
    """The returned tuple (a pair, or as many values as ``names``), or a message naming them."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(_("%s should return a tuple %s, got %s")
                          % (fn, "(" + ", ".join(names) + ")",
                             type(result).__name__ if not isinstance(result, (tuple, list))
                             else _("%d items") % len(result)), kind="type")
    return result


def _expect_same_params(got, expected, what, rtol=1e-9, atol=1e-12):
    names = ["%s%d" % (k, i // 2 + 1) for i, k in enumerate(["W", "b"] * (len(expected) // 2))]
    for name, g, e in zip(names, got, expected):
        expect_close(g, e, rtol=rtol, atol=atol, dtype="kind", what=_("%s of %s") % (name, what))


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


def _moons(n, seed, noise=0.2):
    X, y = data.make_moons(n_samples=n, noise=noise, seed=seed)
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
        raise CheckFailed(_("%s should return the epoch losses as a list, got %s") % (fn, type(losses).__name__),
                          kind="type")
    expect_true(len(losses) == epochs, _("%s should return one loss per epoch (%d), got %d values")
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
            expect_true(not np.any(b), _("init_params(%s, 0): b%d should be all zeros, got %s") % (sizes, l, b))
        for l, W in enumerate(got[0::2], start=1):
            expect_true(np.unique(W).size == W.size,
                        _("init_params(%s, 0): the entries of W%d should be random (all different), got %s")
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
                        _("init_params(%s, %d): W%d must lie in [-a, a] with a = sqrt(6 / (%d + %d)) = %.4f, "
                        "got entries up to %.4f") % (sizes, seed, l, n_in, n_out, a, np.abs(got[2 * l - 2]).max()))
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
    expect_true(not np.array_equal(first[0], other[0]), _("seeds 7 and 8 gave the same W1: the weights must "
                "depend on the seed"))


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
    expect_close(float(got[1]), loss, rtol=1e-9, what=_("the epoch loss (the loss before the step)"))


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
    expect_close(float(got[1]), loss, rtol=1e-9, what=_("the epoch loss (batch losses weighted by batch size)"))


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
                 what=_("the epoch loss (batch losses weighted by batch size)"))


@check("ch09.train_epoch", points=1,
       hint="Feed each epoch's new parameters into the next epoch: the loss must fall on XOR with lr = 1.")
def test_train_epoch_loss_decreases_on_xor(sub):
    X, Y = data.make_xor()
    params = nnlib.MLP([2, 4, 1], activation="tanh", seed=0).get_weights()
    losses = []
    for _unused in range(40):
        params, loss = _pair(run(sub.train_epoch, params, X, Y, 4, 1.0, np.arange(4)), "train_epoch",
                             ("new_params", "epoch_loss"))
        params = _expect_params(params, [2, 4, 1], "train_epoch")
        losses.append(float(loss))
    expect_true(all(b < a for a, b in zip(losses, losses[1:])),
                _("on XOR (full batch, lr = 1) the epoch loss should fall every epoch; got %s")
                % np.round(losses, 4).tolist())
    expect_true(losses[-1] < 0.5 * losses[0], _("after 40 epochs the loss should have at least halved: %.4f -> %.4f")
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
       hint="params = init_params(sizes, seed); then one generator for the whole run, "
            "rng = np.random.default_rng(seed), made once before the epochs, and every epoch "
            "train_epoch(..., rng.permutation(n)), a fresh order. This is what nnlib's "
            "fit(..., seed=seed) does.")
def test_train_matches_nnlib_fit(sub):
    X, Y = _moons(40, 2)
    got = _pair(run(sub.train, X, Y, [2, 6, 1], 5, 16, 0.3, 4), "train", ("params", "losses"))
    params = _expect_params(got[0], [2, 6, 1], "train")
    losses = _losses_list(got[1], 5)
    model = _nnlib_net([2, 6, 1], seed=4, learning_rate=0.3)
    history = model.fit(X, Y, epochs=5, batch_size=16, seed=4, verbose=0)
    _expect_same_params(params, model.get_weights(), "train(X, Y, [2, 6, 1], epochs=5, batch_size=16, "
                        "learning_rate=0.3, seed=4), compared with nnlib's fit from the same seed", rtol=1e-8)
    expect_close(losses, np.array(history.history["loss"]), rtol=1e-8, what=_("the epoch losses"))


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
                _("XOR is not solved: for the inputs (0,0), (0,1), (1,0), (1,1) your network outputs %s, "
                "expected > 0.5 exactly for (0,1) and (1,0)") % np.round(p, 3).tolist())
    expect_true(losses[-1] < 0.1 and losses[-1] < losses[0],
                _("the XOR loss should fall from about 0.7 to below 0.1; got %.4f -> %.4f") % (losses[0], losses[-1]))


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
    expect_true(accuracy >= 0.90, _("test accuracy on the digits is %.3f, expected at least 0.90") % accuracy)


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
                 what=_("the losses of a second call with the same seed"))
    expect_true(not np.array_equal(p1[0], p3[0]), _("seeds 21 and 22 gave the same W1 after training: the "
                "initialisation and the shuffling must depend on the seed"))
    zero = _pair(run(sub.train, *args[:3], 0, 8, 0.2, 21), "train", ("params", "losses"))
    _losses_list(zero[1], 0)
    _expect_same_params(_expect_params(zero[0], [4, 5, 3], "train"),
                        nnlib.MLP([4, 5, 3], activation="tanh", seed=21).get_weights(),
                        "train with epochs=0 (the initial parameters)", rtol=1e-12)


@check("ch09.train", points=1, hidden=True)
def test_train_random(sub, ref):
    X, _unused = _three_classes(37, 14)
    Y2 = np.eye(2)[np.random.default_rng(15).integers(0, 2, size=37)]
    sizes = [4, 7, 5, 2]
    got = _pair(run(sub.train, X, Y2, sizes, 4, 6, 0.25, 31), "train", ("params", "losses"))
    exp_params, exp_losses = ref.train(X, Y2, sizes, 4, 6, 0.25, 31)
    _expect_same_params(_expect_params(got[0], sizes, "train"), exp_params, "train", rtol=1e-8)
    expect_close(_losses_list(got[1], 4), np.array(exp_losses), rtol=1e-8)


# ----------------------------------------------------------------------------- overfitting
OVERFIT_MAX_TRAIN_LOSS, OVERFIT_MIN_GAP = 0.1, 0.4
REGULARISED_MAX_GAP, REGULARISED_MAX_NEW_LOSS, REGULARISED_MIN_ACCURACY = 0.3, 0.5, 0.75


def _small_moons(seed):
    """30 training, 200 validation and 1,000 new points of noisy moons, as (X, Y) pairs."""
    X, Y = _moons(1230, seed, noise=0.3)
    return (X[:30], Y[:30]), (X[30:230], Y[30:230]), (X[230:], Y[230:])


def _network_sizes(got, n_in, n_out, fn):
    """The layer sizes of a parameter list whose sizes the learner chose (checked like init's)."""
    if not isinstance(got, (list, tuple)) or len(got) < 2 or len(got) % 2:
        what = (f"{len(got)} items" if isinstance(got, (list, tuple)) else type(got).__name__)
        raise CheckFailed(_('{fn} should return a list [W1, b1, ..., WL, bL], got {what}').format(fn=fn, what=what),
                          kind="type")
    sizes = [n_in]
    for l, W in enumerate(got[0::2], start=1):
        if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[0] != sizes[-1]:
            shape = getattr(W, "shape", type(W).__name__)
            raise CheckFailed(_('{fn}: W{l} should be a 2-D array with {sizes_1} rows (the outputs of the layer before), got {shape}').format(fn=fn, l=l, sizes_1=sizes[-1], shape=shape), kind="shape")
        sizes.append(W.shape[1])
    expect_true(sizes[-1] == n_out, _('{fn}: the last layer has {sizes_1} outputs, expected {n_out} (one sigmoid unit)').format(fn=fn, sizes_1=sizes[-1], n_out=n_out), kind="shape")
    _expect_params(got, sizes, fn)
    return sizes


def _measure(got, fn, train_set, new_set):
    """Training loss, loss on the new points and accuracy on them, computed here with nnlib."""
    model = _nnlib_net(_network_sizes(got, train_set[0].shape[1], 1, fn))
    model.set_weights(list(got))
    train_loss, new_loss = model.compute_loss(*train_set), model.compute_loss(*new_set)
    accuracy = float(np.mean((model.predict(new_set[0]) > 0.5) == (new_set[1] > 0.5)))
    return train_loss, new_loss, accuracy


def _expect_overfit(sub, data_seed, seed):
    train_set, _unused, new_set = _small_moons(data_seed)
    train_loss, new_loss, _unused = _measure(run(sub.overfit, *train_set, seed), "overfit", train_set,
                                       new_set)
    expect_true(train_loss <= OVERFIT_MAX_TRAIN_LOSS,
                _('overfit: the training loss is {train_loss:.3f}; a network that overfits fits its 30 training points almost perfectly (training loss at most {OVERFIT_MAX_TRAIN_LOSS})').format(train_loss=train_loss, OVERFIT_MAX_TRAIN_LOSS=OVERFIT_MAX_TRAIN_LOSS))
    expect_true(new_loss - train_loss >= OVERFIT_MIN_GAP,
                _('overfit: training loss {train_loss:.3f}, loss on 1,000 new points {new_loss:.3f}: the gap is {new_loss_train_loss:.3f}, expected at least {OVERFIT_MIN_GAP}').format(train_loss=train_loss, new_loss=new_loss, new_loss_train_loss=new_loss - train_loss, OVERFIT_MIN_GAP=OVERFIT_MIN_GAP))


def _expect_regularised(sub, data_seed, seed):
    train_set, val_set, new_set = _small_moons(data_seed)
    train_loss, new_loss, accuracy = _measure(run(sub.regularise, *train_set, *val_set, seed),
                                              "regularise", train_set, new_set)
    summary = _("training loss {train_loss:.3f}, loss on 1,000 new points {new_loss:.3f} (gap "
                "{gap:.3f}), accuracy on them {accuracy:.3f}").format(
        train_loss=train_loss, new_loss=new_loss, gap=new_loss - train_loss, accuracy=accuracy)
    expect_true(new_loss - train_loss <= REGULARISED_MAX_GAP,
                _('regularise: {summary}; the gap should be at most {REGULARISED_MAX_GAP}').format(summary=summary, REGULARISED_MAX_GAP=REGULARISED_MAX_GAP))
    expect_true(new_loss <= REGULARISED_MAX_NEW_LOSS and accuracy >= REGULARISED_MIN_ACCURACY,
                _('regularise: {summary}; expected a loss of at most {REGULARISED_MAX_NEW_LOSS} and an accuracy of at least {REGULARISED_MIN_ACCURACY} on the new points (a small gap alone is not enough: a network that learned nothing has none)').format(summary=summary, REGULARISED_MAX_NEW_LOSS=REGULARISED_MAX_NEW_LOSS, REGULARISED_MIN_ACCURACY=REGULARISED_MIN_ACCURACY))


@check("ch09.overfitting", points=2,
       hint="To overfit, the network needs far more capacity than 30 points call for, and enough "
            "training to drive its training loss towards zero: think units, epochs and step size.")
def test_overfit_has_a_large_gap(sub):
    _expect_overfit(sub, data_seed=0, seed=0)


@check("ch09.overfitting", points=2,
       hint="Watch the validation loss while training and keep the parameters where it was lowest, "
            "or add 2 * lambda * W to the weight gradients (not the biases) and compare a few "
            "lambdas on the validation set.")
def test_regularise_closes_the_gap(sub):
    _expect_regularised(sub, data_seed=0, seed=0)


@check("ch09.overfitting", points=1, hidden=True)
def test_overfit_other_draw(sub):
    _expect_overfit(sub, data_seed=17, seed=5)


@check("ch09.overfitting", points=1, hidden=True)
def test_regularise_other_draw(sub):
    _expect_regularised(sub, data_seed=17, seed=5)



# ----------------------------------------------------------------------------- dropout
# The independent references are nnlib's Dropout and BatchNormalization layers (which match
# Keras 3 on the same weights, tests/nnlib/test_keras_parity_regularisation.py) and central
# differences of their forward passes, all computed here on the trusted side.
def _dropout_case(seed, n, d, rate):
    """Inputs, upstream gradient and a keep-mask (True = kept) drawn with the given rate."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.random((n, d)) >= rate


def _nnlib_dropout(X, rate, mask, training=True):
    return nnlib.Dropout(rate).fix_mask(mask).forward(X, training=training)


def _expect_mask(sub, shape, rate, seed):
    got = run(sub.dropout_mask, shape, rate, seed)
    layer = nnlib.Dropout(rate, rng=seed)
    layer.forward(np.zeros(shape), training=True)
    expect_close(got, layer.mask, what=_("dropout_mask({shape}, {rate}, {seed}) (nnlib's Dropout(rate={rate}, rng={seed}) draws this keep-mask in its first pass)").format(shape=shape, rate=rate, seed=seed))
    return got


def _expect_dropout_backward(sub, seed, n, d, rate):
    X, dA, mask = _dropout_case(seed, n, d, rate)
    got = run(sub.dropout_backward, dA, rate, mask)
    expected = numerical_gradient(lambda v: float(np.sum(dA * _nnlib_dropout(v, rate, mask))),
                                  X.copy())
    expect_gradients({"X": got}, {"X": expected}, tol=1e-7,
                     what=_('dropout_backward(dA, {rate}, mask) for shape {n_d}').format(rate=rate, n_d=(n, d)))


@check("ch09.dropout", points=1,
       hint="np.random.default_rng(seed).random(shape) >= rate: a boolean array, True = kept.")
def test_dropout_mask_is_nnlibs_and_keeps_1_minus_rate(sub):
    _expect_mask(sub, (3, 4), 0.5, 0)
    big = _expect_mask(sub, (400, 50), 0.2, 7)
    expect_true(abs(big.mean() - 0.8) < 0.01, _('dropout_mask((400, 50), 0.2, 7) keeps a fraction {big_mean:.3f} of the entries; with rate 0.2 it should keep about 0.8').format(big_mean=big.mean()))


@check("ch09.dropout", points=1,
       hint="Training: np.where(mask, X / (1 - rate), 0.0). Inference (training=False): return X "
            "as it is, without scaling.")
def test_dropout_forward_by_hand(sub):
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[True, False, True], [False, True, True]])
    expect_close(run(sub.dropout_forward, X, 0.5, mask, True),
                 np.array([[2.0, 0.0, 6.0], [0.0, 10.0, 12.0]]),
                 what=_("dropout_forward(X, 0.5, mask, True) (kept entries doubled, others 0)"))
    expect_close(run(sub.dropout_forward, X, 0.2, mask, True),
                 np.array([[1.25, 0.0, 3.75], [0.0, 6.25, 7.5]]),
                 what=_("dropout_forward(X, 0.2, mask, True) (kept entries divided by 0.8)"))
    expect_close(run(sub.dropout_forward, X, 0.5, None, False), X,
                 what=_("dropout_forward(X, 0.5, None, False) (inference: the identity)"))


@check("ch09.dropout", points=1,
       hint="Divide the kept entries by 1 - rate, so that the mean of the outputs stays that of "
            "the inputs.")
def test_dropout_forward_matches_nnlib_and_keeps_the_mean(sub):
    X, _unused, mask = _dropout_case(1, 6, 4, 0.25)
    expect_close(run(sub.dropout_forward, X, 0.25, mask, True), _nnlib_dropout(X, 0.25, mask),
                 what=_("dropout_forward(X, 0.25, mask, True), compared with nnlib's Dropout"))
    expect_close(run(sub.dropout_forward, X, 0.25, mask, False),
                 _nnlib_dropout(X, 0.25, mask, training=False),
                 what=_("dropout_forward(X, 0.25, mask, False), compared with nnlib's Dropout"))
    ones = np.ones((500, 40))
    mask = np.random.default_rng(2).random(ones.shape) >= 0.4
    mean = float(np.mean(run(sub.dropout_forward, ones, 0.4, mask, True)))
    expect_true(abs(mean - 1.0) < 0.02, _('with rate 0.4, the mean output for inputs that are all 1 is {mean:.3f}; inverted dropout keeps it at about 1').format(mean=mean))


@check("ch09.dropout", points=2,
       hint="Each A_ij = M_ij X_ij / (1 - rate), so dX = np.where(mask, dA / (1 - rate), 0.0): the "
            "same mask and the same scaling as the forward pass.")
def test_dropout_backward_gradient_check(sub):
    _expect_dropout_backward(sub, seed=3, n=5, d=4, rate=0.4)


@check("ch09.dropout", points=1, hidden=True)
def test_dropout_other_shapes(sub):
    _expect_mask(sub, (9, 13), 0.7, 21)
    X, _unused, mask = _dropout_case(22, 9, 13, 0.7)
    expect_close(run(sub.dropout_forward, X, 0.7, mask, True), _nnlib_dropout(X, 0.7, mask))
    _expect_dropout_backward(sub, seed=23, n=8, d=11, rate=0.7)


# ----------------------------------------------------------------------------- batch norm
def _batchnorm_case(seed, n, d):
    """A batch with columns of different means and scales, gamma, beta and moving statistics."""
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=3 * rng.normal(size=d), scale=rng.uniform(0.5, 3, size=d), size=(n, d))
    return (X, rng.uniform(0.5, 2, size=d), rng.normal(size=d), rng.normal(size=d),
            rng.uniform(0.5, 2, size=d))


def _nnlib_batchnorm(gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3):
    layer = nnlib.BatchNormalization(len(gamma), momentum=momentum, epsilon=epsilon)
    for name, value in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean),
                        ("moving_variance", moving_variance)):
        getattr(layer, name)[:] = value
    return layer


def _batchnorm_forward(sub, X, gamma, beta, moving_mean, moving_variance, training, **options):
    got = run(sub.batchnorm_forward, X, gamma, beta, moving_mean, moving_variance, training,
              **options)
    return _pair(got, "batchnorm_forward", ("A", "new_moving_mean", "new_moving_variance"))


def _expect_batchnorm_like_nnlib(sub, case, training, momentum, epsilon, passes=1):
    """``passes`` forward passes on shifted copies of the batch, each fed the moving statistics
    the last one returned, compared with the same passes of nnlib's layer."""
    X, gamma, beta, moving_mean, moving_variance = case
    layer = _nnlib_batchnorm(gamma, beta, moving_mean, moving_variance, momentum, epsilon)
    for k in range(passes):
        batch = X + k
        A, moving_mean, moving_variance = _batchnorm_forward(
            sub, batch, gamma, beta, moving_mean, moving_variance, training, momentum=momentum,
            epsilon=epsilon)
        expected = layer.forward(batch, training=training)
        where = (_("in training pass {number} (momentum={momentum}, epsilon={epsilon})")
                 if training else
                 _("in inference pass {number} (momentum={momentum}, epsilon={epsilon})")
                 ).format(number=k + 1, momentum=momentum, epsilon=epsilon)
        expect_close(A, expected, rtol=1e-9, what=_('A {where}, compared with nnlib').format(where=where))
        expect_close(moving_mean, layer.moving_mean, rtol=1e-9, atol=1e-12,
                     what=_('new_moving_mean {where}').format(where=where))
        expect_close(moving_variance, layer.moving_variance, rtol=1e-9,
                     what=_('new_moving_variance {where}').format(where=where))
    return A


def _batchnorm_numeric(dA, X, gamma, beta, epsilon):
    """Central differences of L = sum(dA * A) for a training pass of nnlib's layer."""
    values = {"X": X, "gamma": gamma, "beta": beta}

    def loss_of(name):
        def loss(v):
            args = {**values, name: v}
            layer = _nnlib_batchnorm(args["gamma"], args["beta"], 0.0, 1.0, epsilon=epsilon)
            return float(np.sum(dA * layer.forward(args["X"], training=True)))
        return loss
    return {name: numerical_gradient(loss_of(name), value.copy())
            for name, value in values.items()}


def _expect_batchnorm_backward(sub, seed, n, d, **options):
    X, gamma, beta, _unused, _unused = _batchnorm_case(seed, n, d)
    dA = np.random.default_rng(seed + 1).normal(size=(n, d))
    got = _pair(run(sub.batchnorm_backward, dA, X, gamma, **options), "batchnorm_backward",
                ("dX", "dgamma", "dbeta"))
    expected = _batchnorm_numeric(dA, X, gamma, beta, options.get("epsilon", 1e-3))
    expect_gradients(dict(zip(("X", "gamma", "beta"), got)), expected, tol=1e-6,
                     what=_('the gradients of batchnorm_backward for a batch of shape {n_d}').format(n_d=(n, d)))


@check("ch09.batchnorm", points=1,
       hint="mean = X.mean(axis=0), var = X.var(axis=0) (divide by n); A = gamma * (X - mean) / "
            "sqrt(var + epsilon) + beta; new moving = momentum * moving + (1 - momentum) * batch.")
def test_batchnorm_training_forward_by_hand(sub):
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    gamma, beta = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    A, moving_mean, moving_variance = _batchnorm_forward(sub, X, gamma, beta, np.zeros(2),
                                                         np.ones(2), True)
    # column means 3 and 12, variances 8/3 and 8 (dividing by n = 3), epsilon 1e-3
    standardised = (X - [3.0, 12.0]) / np.sqrt([8 / 3 + 1e-3, 8 + 1e-3])
    expect_close(A, standardised * gamma + beta, rtol=1e-9,
                 what=_("A of a training pass (batch mean and variance, default epsilon 1e-3)"))
    expect_close(moving_mean, np.array([0.03, 0.12]), rtol=1e-9,
                 what=_("new_moving_mean = 0.99 * 0 + 0.01 * batch mean"))
    expect_close(moving_variance, np.array([0.99 + 0.01 * 8 / 3, 0.99 + 0.08]), rtol=1e-9,
                 what=_("new_moving_variance = 0.99 * 1 + 0.01 * batch variance"))


@check("ch09.batchnorm", points=1,
       hint="Return the updated moving averages as new arrays and use them in the next call; in "
            "training the normalisation uses the batch's statistics, not the moving ones.")
def test_batchnorm_training_passes_match_nnlib(sub):
    _expect_batchnorm_like_nnlib(sub, _batchnorm_case(31, 6, 3), True, momentum=0.9,
                                 epsilon=1e-3, passes=3)


@check("ch09.batchnorm", points=1,
       hint="training=False: normalise with moving_mean and moving_variance, and return them "
            "unchanged.")
def test_batchnorm_inference_uses_the_moving_averages(sub):
    case = _batchnorm_case(32, 5, 4)
    A = _expect_batchnorm_like_nnlib(sub, case, False, momentum=0.99, epsilon=1e-3)
    X, gamma, beta, moving_mean, moving_variance = case
    alone, _unused, _unused = _batchnorm_forward(sub, X[:1], gamma, beta, moving_mean, moving_variance, False)
    expect_close(alone, A[:1], rtol=1e-12, what=_("A for the first row alone at inference (it "
                 "must not depend on the other rows of the batch)"))


@check("ch09.batchnorm", points=2,
       hint="With X_hat = (X - mean) / sqrt(var + eps) and g = dA * gamma: dbeta = dA.sum(axis=0), "
            "dgamma = (dA * X_hat).sum(axis=0), dX = (g - g.mean(axis=0) - X_hat * (g * "
            "X_hat).mean(axis=0)) / sqrt(var + eps).")
def test_batchnorm_backward_gradient_check(sub):
    _expect_batchnorm_backward(sub, seed=33, n=5, d=3)


@check("ch09.batchnorm", points=1, hidden=True)
def test_batchnorm_forward_other_shapes(sub):
    case = _batchnorm_case(34, 11, 7)
    _expect_batchnorm_like_nnlib(sub, case, True, momentum=0.8, epsilon=1e-5, passes=2)
    _expect_batchnorm_like_nnlib(sub, case, False, momentum=0.8, epsilon=1e-5)


@check("ch09.batchnorm", points=1, hidden=True)
def test_batchnorm_backward_other_shapes(sub):
    _expect_batchnorm_backward(sub, seed=35, n=9, d=6, epsilon=1e-5)


# ----------------------------------------------------------------- clip_by_global_norm (challenge)
CLIP_HINT = ("global norm = sqrt of the sum of every squared entry of every array; if it exceeds "
             "max_norm, multiply every array by max_norm / norm. Against overflow and underflow, "
             "divide all entries by the largest |entry| s first and multiply the norm by s.")


def _clip(sub, grads, max_norm):
    result = run(sub.clip_by_global_norm, grads, max_norm)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(_("clip_by_global_norm should return a pair (clipped, global_norm), got %s")
                          % type(result).__name__, kind="type")
    clipped, norm = result
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        raise CheckFailed(_("the clipped gradients should be a list of %d arrays, got %s")
                          % (len(grads), type(clipped).__name__), kind="type")
    return list(clipped), norm


@check("ch09.clip_by_global_norm", points=1, hint="The norm of (3, 4) is 5: with max_norm=1 every "
       "entry is multiplied by 1/5, with max_norm=10 nothing changes. " + CLIP_HINT)
def test_clip_by_hand(sub):
    grads = [np.array([3.0]), np.array([[4.0]])]
    clipped, norm = _clip(sub, grads, 1.0)
    expect_close(norm, 5.0, what=_("the global norm"))
    expect_close(clipped[0], np.array([0.6]), what=_("clipped[0]"))
    expect_close(clipped[1], np.array([[0.8]]), what=_("clipped[1]"))
    clipped, norm = _clip(sub, grads, 10.0)
    expect_close(norm, 5.0, what=_("the global norm"))
    expect_close(clipped[0], grads[0], what=_("clipped[0] with max_norm=10 (no clipping)"))
    expect_close(clipped[1], grads[1], what=_("clipped[1] with max_norm=10 (no clipping)"))


@check("ch09.clip_by_global_norm", points=1, hint="(3e200)**2 overflows to inf in float64, yet the "
       "norm 5e200 is an ordinary float; scale the entries down before squaring. " + CLIP_HINT)
def test_clip_exploded_gradients(sub):
    clipped, norm = _clip(sub, [np.array([3e200, 0.0]), np.array([4e200])], 5.0)
    expect_close(norm, 5e200, rtol=1e-12, what=_("the global norm"))
    expect_close(clipped[0], np.array([3.0, 0.0]), rtol=1e-12, what=_("clipped[0]"))
    expect_close(clipped[1], np.array([4.0]), rtol=1e-12, what=_("clipped[1]"))


@check("ch09.clip_by_global_norm", points=1, hint="(3e-200)**2 underflows to 0 in float64, yet the "
       "norm 5e-200 is an ordinary float; scale the entries up before squaring. " + CLIP_HINT)
def test_clip_tiny_gradients(sub):
    grads = [np.array([[3e-200]]), np.array([0.0, -4e-200])]
    clipped, norm = _clip(sub, grads, 1.0)
    expect_close(norm, 5e-200, rtol=1e-12, atol=0, what=_("the global norm"))
    expect_close(clipped[0], grads[0], rtol=1e-12, atol=0, what=_("clipped[0] (no clipping)"))
    expect_close(clipped[1], grads[1], rtol=1e-12, atol=0, what=_("clipped[1] (no clipping)"))


@check("ch09.clip_by_global_norm", points=1, hidden=True)
def test_clip_random_shapes_against_hypot(sub):
    import math

    rng = np.random.default_rng(91)
    grads = [rng.normal(size=(5, 3)) * 40, rng.normal(size=3), rng.normal(size=(2, 2, 2)) * 1e-3]
    true_norm = math.hypot(*np.concatenate([g.ravel() for g in grads]))
    for max_norm in (1.5, true_norm * 2):
        clipped, norm = _clip(sub, grads, max_norm)
        expect_close(norm, true_norm, rtol=1e-12, what=_("the global norm"))
        factor = min(1.0, max_norm / true_norm)
        for i, (got, g) in enumerate(zip(clipped, grads)):
            expect_close(got, g * factor, rtol=1e-10, atol=1e-300, what=_("clipped[%d]") % i)


@check("ch09.clip_by_global_norm", points=1, hidden=True)
def test_clip_zero_gradients_and_bad_max_norm(sub):
    grads = [np.zeros((2, 3)), np.zeros(3)]
    clipped, norm = _clip(sub, grads, 1.0)
    expect_close(norm, 0.0, what=_("the global norm of zero gradients"))
    for i, got in enumerate(clipped):
        expect_close(got, grads[i], what=_("clipped[%d] of zero gradients") % i)
    expect_raises(sub.clip_by_global_norm, [np.ones(2)], 0.0, what=_("max_norm = 0"))
    expect_raises(sub.clip_by_global_norm, [np.ones(2)], -1.0, what=_("max_norm = -1"))
