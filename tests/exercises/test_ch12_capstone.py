"""Checks of the final project (solutions/ch12_capstone.ipynb): a network written from nothing.

The independent references are central differences of losses computed here, on the trusted side,
with nnlib's forward pass and its log-sum-exp cross-entropy
(``nnlib.losses.softmax_cross_entropy``); nnlib's ``Adam`` for the optimiser; and
``Sequential.fit`` with ``patience`` and ``restore_best_weights`` for the training loop (on runs
where the order of the rows cannot matter: one full batch, or a training set of identical rows).
Only plain data crosses the sandbox boundary; the accuracy of the learner's digits network is
computed here with nnlib's forward pass on the returned parameters.
"""
import copy
import sys

import numpy as np

from grader.checks import (CheckFailed, check, expect_close, expect_gradients, expect_true,
                           numerical_gradient, run)
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
from nnlib.losses import softmax_cross_entropy  # noqa: E402

NOTEBOOK = "ch12_capstone"

# The reference trains its digits network in about 0.2 s; a learner's loop may be much slower, so
# the digits checks get the time the exercise promises and the sandbox enough CPU for two runs.
SANDBOX = {"cpu_seconds": 300, "call_timeout": 10}
DIGITS_TIMEOUT = 30  # seconds: the exercise promises "within 30 seconds"
DIGITS_TARGET = 0.95
GRAD_TOL = 1e-6      # relative error allowed between a gradient and central differences


# ----------------------------------------------------------------------------- helpers
def _one_hot(labels, k):
    return np.eye(k)[labels]


def _sizes(params):
    n_layers = len(params) // 2
    return [params["W1"].shape[0]] + [params[f"W{l}"].shape[1] for l in range(1, n_layers + 1)]


def _logits(params, X):
    """The network's logits, computed by nnlib (ReLU hidden layers, linear output)."""
    model = nnlib.MLP(_sizes(params), activation="relu", output_activation="linear")
    model.set_weights([params[f"{kind}{l}"] for l in range(1, len(params) // 2 + 1)
                       for kind in ("W", "b")])
    return model.predict(X)


def _loss(params, X, labels):
    logits = _logits(params, X)
    return softmax_cross_entropy(_one_hot(labels, logits.shape[1]), logits)


def _central_differences(params, X, labels):
    """Gradients of the trusted loss by central differences, one parameter array at a time."""
    work = {name: p.copy() for name, p in params.items()}
    return {name: numerical_gradient(lambda _: _loss(work, X, labels), work[name])
            for name in work}


def _network(sizes, n, seed):
    """A random network, a batch and labels, with no hidden pre-activation within 1e-3 of ReLU's
    kink (central differences step 1e-6, so they never cross it)."""
    rng = np.random.default_rng(seed)
    while True:
        X = rng.normal(size=(n, sizes[0]))
        params = {}
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{l}"] = rng.normal(scale=1.0 / np.sqrt(n_in), size=(n_in, n_out))
            params[f"b{l}"] = rng.normal(scale=0.1, size=n_out)
        labels = rng.integers(0, sizes[-1], size=n)
        A, closest = X, np.inf
        for l in range(1, len(sizes) - 1):
            Z = A @ params[f"W{l}"] + params[f"b{l}"]
            closest = min(closest, np.abs(Z).min())
            A = np.maximum(Z, 0.0)
        if closest > 1e-3:
            return params, X, labels


def _pair(result, fn, names):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (type(result).__name__ if not isinstance(result, (tuple, list))
               else f"{len(result)} items")
        raise CheckFailed(_('{fn} should return a tuple ({join_names}), got {got}').format(fn=fn, join_names=', '.join(names), got=got),
                          kind="type")
    return result


def _expect_like(got, like, fn, what):
    """``got`` must be a dict with the keys of ``like`` holding float arrays of the same shapes."""
    if not isinstance(got, dict):
        raise CheckFailed(_('{fn}: {what} should be a dict with keys {sorted_like}, got {type_got}').format(fn=fn, what=what, sorted_like=sorted(like), type_got=type(got).__name__), kind="type")
    expect_true(set(got) == set(like), _('{fn}: {what} has keys {sorted_map_str_got}, expected {sorted_like}').format(fn=fn, what=what, sorted_map_str_got=sorted(map(str, got)), sorted_like=sorted(like)), kind="keys")
    for name, p in like.items():
        g = got[name]
        if not isinstance(g, np.ndarray):
            raise CheckFailed(_('{fn}: {what}[{name!r}] should be a numpy array, got {type_g}').format(fn=fn, what=what, name=name, type_g=type(g).__name__), kind="type")
        expect_true(g.shape == p.shape, _('{fn}: {what}[{name!r}] has shape {g_shape}, expected {p_shape}').format(fn=fn, what=what, name=name, g_shape=g.shape, p_shape=p.shape), kind="shape")
        expect_true(g.dtype.kind == "f", _('{fn}: {what}[{name!r}] has dtype {g_dtype}, expected floats').format(fn=fn, what=what, name=name, g_dtype=g.dtype), kind="dtype")
    return got


def _expect_network(got, n_in, n_out, fn):
    """A network dict {"W1", "b1", ..., "WL", "bL"} from n_in inputs to n_out outputs."""
    if not isinstance(got, dict):
        raise CheckFailed(_("{fn} should return a dict {{'W1': ..., 'b1': ..., ...}}, got {type_got}").format(fn=fn, type_got=type(got).__name__), kind="type")
    n_layers = len(got) // 2
    expected_keys = {f"{kind}{l}" for l in range(1, n_layers + 1) for kind in ("W", "b")}
    expect_true(n_layers >= 1 and set(got) == expected_keys,
                _('{fn} returned a dict with keys {sorted_map_str_got}; a network of L layers has exactly the keys W1, b1, ..., WL, bL').format(fn=fn, sorted_map_str_got=sorted(map(str, got))), kind="keys")
    width = n_in
    for l in range(1, n_layers + 1):
        W, b = got[f"W{l}"], got[f"b{l}"]
        for name, p in ((f"W{l}", W), (f"b{l}", b)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise CheckFailed(_('{fn}: {name} should be a numpy array of floats, got {getattr_p_dtype_type_p}').format(fn=fn, name=name, getattr_p_dtype_type_p=getattr(p, 'dtype', type(p).__name__)), kind="type")
            expect_true(np.all(np.isfinite(p)), _('{fn}: {name} contains NaN or inf').format(fn=fn, name=name), kind="nan")
        expect_true(W.ndim == 2 and W.shape[0] == width,
                    _('{fn}: W{l} has shape {w_shape}, expected ({width}, n_{l}): its rows must match the {width} outputs of the layer before').format(fn=fn, l=l, w_shape=W.shape, width=width), kind="shape")
        expect_true(b.shape == (W.shape[1],), _('{fn}: b{l} has shape {b_shape}, expected ({w_shape_1},)').format(fn=fn, l=l, b_shape=b.shape, w_shape_1=W.shape[1]), kind="shape")
        width = W.shape[1]
    expect_true(width == n_out, _('{fn}: the last layer has {width} outputs, expected {n_out}').format(fn=fn, width=width, n_out=n_out),
                kind="shape")
    return got


_PLAIN = (type(None), bool, int, float, str, np.ndarray, np.generic)


def _expect_plain(value, fn, what, depth=0):
    """The Adam state must be plain data, so that it can travel to the grader and back."""
    if isinstance(value, dict):
        for k, v in value.items():
            _expect_plain(v, fn, what, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _expect_plain(v, fn, what, depth + 1)
    elif not isinstance(value, _PLAIN) or depth > 20:
        raise CheckFailed(_('{fn}: {what} holds a {type_value}; build it from dicts, lists, numbers and numpy arrays only (the grader keeps it between calls)').format(fn=fn, what=what, type_value=type(value).__name__), kind="type")


def _history(got, fn):
    if not isinstance(got, dict) or not {"loss", "val_loss"} <= set(got):
        got_text = (_("a dict with keys {keys}").format(keys=sorted(got)) if isinstance(got, dict)
                    else type(got).__name__)
        raise CheckFailed(_("{fn}: history should be a dict with the lists 'loss' and 'val_loss', "
                            "got {got}").format(fn=fn, got=got_text), kind="type")
    loss, val = (np.asarray(got[k], dtype=float).ravel() for k in ("loss", "val_loss"))
    expect_true(len(loss) == len(val) and len(val) >= 1,
                _("{fn}: history['loss'] and history['val_loss'] need one value per epoch run; got {len_loss} and {len_val} values").format(fn=fn, len_loss=len(loss), len_val=len(val)), kind="length")
    return loss, val


def _blobs(n, seed, flip=0.0):
    """Three Gaussian clusters in the plane; a share ``flip`` of the labels is random."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    centres = np.array([[0.0, 1.5], [1.3, -0.8], [-1.3, -0.8]])
    X = centres[labels] + rng.normal(scale=0.9, size=(n, 2))
    noisy = rng.random(n) < flip
    labels[noisy] = rng.integers(0, 3, size=noisy.sum())
    return X, labels


def _nnlib_fit(params, X, labels, X_val, labels_val, epochs, batch_size, learning_rate, patience):
    """nnlib's fit with Adam and early stopping, restoring the best weights."""
    sizes = _sizes(params)
    model = nnlib.MLP(sizes, activation="relu")
    model.compile("categorical_crossentropy", nnlib.Adam(learning_rate=learning_rate))
    model.set_weights([params[f"{kind}{l}"] for l in range(1, len(sizes)) for kind in ("W", "b")])
    history = model.fit(X, _one_hot(labels, sizes[-1]), epochs=epochs, batch_size=batch_size,
                        validation_data=(X_val, _one_hot(labels_val, sizes[-1])), seed=0,
                        verbose=0, patience=patience, restore_best_weights=True)
    weights = model.get_weights()
    best = {f"{kind}{l}": weights[2 * (l - 1) + (kind == "b")]
            for l in range(1, len(sizes)) for kind in ("W", "b")}
    return best, history.history


def _expect_fit_like_nnlib(sub, params, X, labels, X_val, labels_val, epochs, batch_size,
                           learning_rate, patience, what):
    got = _pair(run(sub.fit, params, X, labels, X_val, labels_val, epochs, batch_size,
                    learning_rate, patience, 0), "fit", ("best_params", "history"))
    best = _expect_like(got[0], params, "fit", "best_params")
    loss, val = _history(got[1], "fit")
    exp_best, exp_history = _nnlib_fit(params, X, labels, X_val, labels_val, epochs, batch_size,
                                       learning_rate, patience)
    expect_true(len(val) == len(exp_history["val_loss"]),
                _('fit ran {len_val} epochs, expected {len_exp_history_val_loss} ({what}; the lowest validation loss was at epoch {int_np_argmin_exp_histor}, patience {patience})').format(len_val=len(val), len_exp_history_val_loss=len(exp_history['val_loss']), what=what, int_np_argmin_exp_histor=int(np.argmin(exp_history['val_loss'])) + 1, patience=patience), kind="length")
    expect_close(val, np.array(exp_history["val_loss"]), rtol=1e-7, atol=1e-12,
                 what=_("history['val_loss'] ({what})").format(what=what))
    expect_close(loss, np.array(exp_history["loss"]), rtol=1e-7, atol=1e-12,
                 what=_("history['loss'] ({what}; the mean of the batch losses before each step, weighted by batch size)").format(what=what))
    for name in params:
        expect_close(best[name], exp_best[name], rtol=1e-7, atol=1e-10, dtype="kind",
                     what=_('best_params[{name!r}] ({what})').format(name=name, what=what))


def _expect_early_stopping(sub, params, X, labels, X_val, labels_val, epochs, batch_size,
                           learning_rate, patience, seed):
    """Properties of a shuffled mini-batch run that hold whatever order the rows are visited in."""
    args = (params, X, labels, X_val, labels_val, epochs, batch_size, learning_rate, patience, seed)
    first = _pair(run(sub.fit, *args), "fit", ("best_params", "history"))
    best = _expect_like(first[0], params, "fit", "best_params")
    loss, val = _history(first[1], "fit")
    expect_true(np.all(np.isfinite(val)) and np.all(np.isfinite(loss)),
                _("fit: the losses in history contain NaN or inf"), kind="nan")
    # the stopping rule, replayed on the learner's own validation losses
    lowest, waited, expected_epochs = np.inf, 0, epochs
    for epoch, v in enumerate(val):
        if v < lowest:
            lowest, waited = v, 0
        else:
            waited += 1
            if waited >= patience:
                expected_epochs = epoch + 1
                break
    expect_true(len(val) == min(expected_epochs, epochs),
                _('fit ran {len_val} epochs with patience {patience}, but by its own validation losses it should have stopped after epoch {min_expected_epochs_epoc} (lowest at epoch {int_np_argmin_val_1}): {np_round_val_4_tolist}').format(len_val=len(val), patience=patience, min_expected_epochs_epoc=min(expected_epochs, epochs), int_np_argmin_val_1=int(np.argmin(val)) + 1, np_round_val_4_tolist=np.round(val, 4).tolist()),
                kind="length")
    restored = _loss(best, X_val, labels_val)
    expect_true(np.isclose(restored, val.min(), rtol=1e-7, atol=1e-12),
                _('fit should return the parameters of the epoch with the lowest validation loss ({val_min:.6f}, epoch {int_np_argmin_val_1}), but the returned parameters have validation loss {restored:.6f}').format(val_min=val.min(), int_np_argmin_val_1=int(np.argmin(val)) + 1, restored=restored))
    expect_true(loss[-1] < loss[0], _("fit: the training loss should fall; history['loss'] goes from {loss_0:.4f} to {loss_1:.4f}").format(loss_0=loss[0], loss_1=loss[-1]))
    again = _pair(run(sub.fit, *args), "fit", ("best_params", "history"))
    _unused, val_again = _history(again[1], "fit")
    expect_true(len(val_again) == len(val) and np.array_equal(val_again, val),
                _("fit: a second call with the same arguments and seed gave different validation "
                "losses; create the random generator from `seed` inside fit"))
    other = _pair(run(sub.fit, *args[:-1], seed + 1), "fit", ("best_params", "history"))
    _unused, val_other = _history(other[1], "fit")
    expect_true(len(val_other) != len(val) or not np.allclose(val_other, val, rtol=1e-9),
                _('fit: seeds {seed} and {seed_1} gave the same validation losses; shuffle the training rows every epoch with the generator made from `seed`').format(seed=seed, seed_1=seed + 1))


def _digits(split_seed):
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=split_seed,
                                                             stratify=y)
    scaler = data.StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def _expect_digits_accuracy(sub, split_seed, seed):
    X_train, y_train, X_test, y_test = _digits(split_seed)
    params = _expect_network(run(sub.train_digits, X_train, y_train, seed), 64, 10, "train_digits")
    accuracy = float(np.mean(_logits(params, X_test).argmax(axis=1) == y_test))
    expect_true(accuracy >= DIGITS_TARGET,
                _('test accuracy of your network is {accuracy:.3f} ({round_accuracy_len_y_tes} of {len_y_test} test images), expected at least {DIGITS_TARGET}').format(accuracy=accuracy, round_accuracy_len_y_tes=round(accuracy * len(y_test)), len_y_test=len(y_test), DIGITS_TARGET=DIGITS_TARGET))


# ----------------------------------------------------------------------------- dense layer
@check("ch12.dense_layer", points=1, hint="Z = X @ W + b: the bias broadcasts over the rows.")
def test_dense_forward_small_example(sub):
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    b = np.array([0.5, 0.0, -0.5])
    expected = np.array([[5.5, 2.0, -1.5], [11.5, 4.0, -3.5], [-1.5, -1.0, -0.5]])  # by hand
    expect_close(run(sub.dense_forward, X, W, b), expected)


def _expect_dense_backward(sub, n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    dZ = rng.normal(size=(n, n_out))
    got = run(sub.dense_backward, dZ, X, W)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed(_('dense_backward should return a tuple (dX, dW, db), got {type_got}').format(type_got=type(got).__name__), kind="type")
    values = {"X": X.copy(), "W": W.copy(), "b": b.copy()}

    def loss(_):  # L = sum(dZ * Z), so that dL/dZ = dZ
        return float(np.sum(dZ * (values["X"] @ values["W"] + values["b"])))

    expected = {name: numerical_gradient(loss, values[name]) for name in values}
    expect_gradients(dict(zip(("X", "W", "b"), got)), expected, tol=GRAD_TOL,
                     what=_('the gradients of dense_backward (n={n}, n_in={n_in}, n_out={n_out})').format(n=n, n_in=n_in, n_out=n_out))


@check("ch12.dense_layer", points=1,
       hint="dX = dZ W^T (n, n_in), dW = X^T dZ (n_in, n_out), db = the column sums of dZ.")
def test_dense_backward_central_differences(sub):
    _expect_dense_backward(sub, 3, 4, 2, seed=0)


@check("ch12.dense_layer", points=1, hidden=True)
def test_dense_forward_hidden(sub, ref):
    rng = np.random.default_rng(11)
    X, W, b = rng.normal(size=(1, 6)), rng.normal(size=(6, 5)), rng.normal(size=5)
    expect_close(run(sub.dense_forward, X, W, b), X @ W + b)
    X = rng.normal(size=(9, 6))
    expect_close(run(sub.dense_forward, X, W, b), ref.dense_forward(X, W, b))


@check("ch12.dense_layer", points=1, hidden=True)
def test_dense_backward_hidden_shapes(sub):
    _expect_dense_backward(sub, 7, 5, 6, seed=12)
    _expect_dense_backward(sub, 1, 3, 1, seed=13)


# ----------------------------------------------------------------------------- cross-entropy
@check("ch12.cross_entropy_from_logits", points=1,
       hint="Equal logits give p = 1/k in every row: loss = ln k, dlogits = (p - one_hot) / n.")
def test_cross_entropy_equal_logits(sub):
    got = _pair(run(sub.cross_entropy_from_logits, np.zeros((2, 4)), np.array([0, 3])),
                "cross_entropy_from_logits", ("loss", "dlogits"))
    expect_close(float(got[0]), np.log(4.0), what=_("the loss for equal logits (ln 4)"))
    expected = (np.full((2, 4), 0.25) - np.array([[1.0, 0, 0, 0], [0, 0, 0, 1.0]])) / 2
    expect_close(got[1], expected, what=_("dlogits for equal logits"))


@check("ch12.cross_entropy_from_logits", points=1,
       hint="Subtract each row's maximum before exp (chapter 3), and take the log of the softmax "
            "as shifted - log(sum(exp(shifted))) (chapter 5) instead of log(softmax).")
def test_cross_entropy_large_logits_stay_finite(sub):
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    got = _pair(run(sub.cross_entropy_from_logits, logits, np.array([0, 2])),
                "cross_entropy_from_logits", ("loss", "dlogits"))
    # row 1 is certain and right (loss 0), row 2 is certain and wrong (loss 1000)
    expect_close(float(got[0]), 500.0, rtol=1e-12, what=_("the loss for logits of size 1000"))
    expect_close(got[1], np.array([[0.0, 0.0, 0.0], [0.0, 0.5, -0.5]]), atol=1e-12,
                 what=_("dlogits for logits of size 1000"))


def _expect_cross_entropy(sub, n, k, scale, seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(scale=scale, size=(n, k)), rng.integers(0, k, size=n)
    got = _pair(run(sub.cross_entropy_from_logits, logits, labels), "cross_entropy_from_logits",
                ("loss", "dlogits"))
    expect_close(float(got[0]), softmax_cross_entropy(_one_hot(labels, k), logits), rtol=1e-9,
                 what=_('the loss ({n} rows, {k} classes)').format(n=n, k=k))
    work = logits.copy()
    expected = numerical_gradient(lambda z: softmax_cross_entropy(_one_hot(labels, k), z), work)
    expect_gradients({"logits": got[1]}, {"logits": expected}, tol=GRAD_TOL,
                     what=_('dlogits ({n} rows, {k} classes)').format(n=n, k=k))


@check("ch12.cross_entropy_from_logits", points=1,
       hint="dlogits = (softmax(logits) - one_hot(labels)) / n: the mean over rows brings the 1/n.")
def test_cross_entropy_central_differences(sub):
    _expect_cross_entropy(sub, 3, 4, 1.0, seed=1)


@check("ch12.cross_entropy_from_logits", points=1, hidden=True)
def test_cross_entropy_hidden_shapes(sub):
    _expect_cross_entropy(sub, 9, 7, 5.0, seed=21)
    _expect_cross_entropy(sub, 1, 2, 3.0, seed=22)


# ----------------------------------------------------------------------------- the network
def _expect_mlp(sub, sizes, n, seed):
    params, X, labels = _network(sizes, n, seed)
    got = _pair(run(sub.mlp_loss_and_grads, params, X, labels), "mlp_loss_and_grads",
                ("loss", "grads"))
    what = _("network {sizes}, {n} rows").format(sizes=sizes, n=n)
    expect_close(float(got[0]), _loss(params, X, labels), rtol=1e-9, what=_('the loss ({what})').format(what=what))
    grads = _expect_like(got[1], params, "mlp_loss_and_grads", "grads")
    expect_gradients(grads, _central_differences(params, X, labels), tol=GRAD_TOL,
                     what=_('the gradients ({what})').format(what=what))


@check("ch12.mlp_loss_and_grads", points=1,
       hint="With all weights and biases zero, every logit is 0 and every hidden activation 0: "
            "the loss is ln k and only the last bias gets a gradient, the column means of "
            "softmax - one_hot.")
def test_mlp_all_zero_network(sub):
    params = {"W1": np.zeros((3, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 2)), "b2": np.zeros(2)}
    X = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 2.0], [3.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    labels = np.array([0, 1, 1, 1])
    got = _pair(run(sub.mlp_loss_and_grads, params, X, labels), "mlp_loss_and_grads",
                ("loss", "grads"))
    expect_close(float(got[0]), np.log(2.0), what=_("the loss of the all-zero network (ln 2)"))
    expected = {name: np.zeros_like(p) for name, p in params.items()}
    expected["b2"] = np.array([0.5 - 0.25, 0.5 - 0.75])   # mean of p - one_hot over the 4 rows
    grads = _expect_like(got[1], params, "mlp_loss_and_grads", "grads")
    for name in params:
        expect_close(grads[name], expected[name], atol=1e-12,
                     what=_('grads[{name!r}] of the all-zero network').format(name=name))


@check("ch12.mlp_loss_and_grads", points=2,
       hint="ReLU follows every layer except the last, whose output is the logits. Keep each "
            "layer's input from the forward pass; going back, dW = A_in^T dZ, db = sum of dZ over "
            "rows, dA_in = dZ W^T, and through ReLU dZ = dA * (Z > 0).")
def test_mlp_central_differences(sub):
    _expect_mlp(sub, [4, 5, 3], 6, seed=2)


@check("ch12.mlp_loss_and_grads", points=1,
       hint="Loop over the layers: the number of layers is len(params) // 2, from W1 to WL; "
            "a single layer has no ReLU at all.")
def test_mlp_any_number_of_layers(sub):
    _expect_mlp(sub, [3, 2], 4, seed=3)
    _expect_mlp(sub, [3, 4, 4, 3], 5, seed=4)


@check("ch12.mlp_loss_and_grads", points=2, hidden=True)
def test_mlp_hidden_shapes(sub):
    _expect_mlp(sub, [6, 8, 7, 5, 4], 11, seed=31)
    _expect_mlp(sub, [5, 9, 2], 1, seed=32)


# ----------------------------------------------------------------------------- Adam
def _expect_adam_steps(sub, params, grad_list, **settings):
    """Thread the learner's state through several steps and compare with nnlib's Adam."""
    reference = {name: p.copy() for name, p in params.items()}
    adam = nnlib.Adam(**settings)
    state, current = None, params
    for step, grads in enumerate(grad_list, start=1):
        got = _pair(run(sub.adam_update, current, grads, state, **settings), "adam_update",
                    ("new_params", "new_state"))
        current = _expect_like(got[0], params, "adam_update", "new_params")
        state = got[1]
        _expect_plain(state, "adam_update", "new_state")
        adam.step(reference, {name: g.copy() for name, g in grads.items()})
        for name in params:
            expect_close(current[name], reference[name], rtol=1e-9, atol=1e-12, dtype="kind",
                         what=_('new_params[{name!r}] after step {step} (settings {settings})').format(name=name, step=step, settings=settings))


def _grads_like(params, rng, count, scale=1.0):
    return [{name: rng.normal(scale=scale, size=p.shape) for name, p in params.items()}
            for _unused in range(count)]


@check("ch12.adam_update", points=1,
       hint="At the first step m = (1 - beta_1) g and v = (1 - beta_2) g^2, and the bias "
            "correction sqrt(1 - beta_2**t) / (1 - beta_1**t) undoes those small factors: every "
            "parameter moves by about learning_rate against the sign of its gradient.")
def test_adam_first_step(sub):
    params = {"W1": np.array([[1.0, -1.0], [0.5, 2.0]]), "b1": np.array([0.0, 0.1])}
    grads = {"W1": np.array([[0.2, -0.5], [3.0, 1e-3]]), "b1": np.array([-0.4, 0.0])}
    _expect_adam_steps(sub, params, [grads], learning_rate=0.1)


@check("ch12.adam_update", points=2,
       hint="Keep m, v and the step count t in the state you return, and read them back at the "
            "next call; the correction is sqrt(1 - beta_2**t) / (1 - beta_1**t), with epsilon "
            "added to sqrt(v) (Keras' form).")
def test_adam_five_steps_with_settings(sub):
    rng = np.random.default_rng(5)
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=2),
              "W2": rng.normal(size=(2, 2)), "b2": np.zeros(2)}
    _expect_adam_steps(sub, params, _grads_like(params, rng, 5, scale=0.5), learning_rate=0.01,
                       beta_1=0.8, beta_2=0.99, epsilon=0.1)


@check("ch12.adam_update", points=2, hidden=True)
def test_adam_hidden(sub):
    rng = np.random.default_rng(41)
    params = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 3)), "b2": rng.normal(size=3),
              "W3": rng.normal(size=(3, 1)), "b3": np.zeros(1)}
    _expect_adam_steps(sub, params, _grads_like(params, rng, 12, scale=1e-2))
    _expect_adam_steps(sub, params, _grads_like(params, rng, 4), learning_rate=0.003, beta_1=0.5,
                       beta_2=0.9, epsilon=1e-3)


# ----------------------------------------------------------------------------- fit
@check("ch12.fit", points=2,
       hint="Per epoch: shuffle, one Adam step per mini-batch, then the validation loss; keep the "
            "parameters of the best epoch and stop once `patience` epochs in a row fail to beat "
            "it. With one full batch the order of the rows does not matter, so your run must "
            "match the course's exactly.")
def test_fit_full_batch_matches_reference(sub):
    X, labels = _blobs(24, seed=6, flip=0.3)
    X_val, labels_val = _blobs(40, seed=7)
    params, _unused, _unused = _network([2, 16, 3], 1, seed=8)
    _expect_fit_like_nnlib(sub, params, X, labels, X_val, labels_val, epochs=80, batch_size=24,
                           learning_rate=0.05, patience=5,
                           what=_("one full batch of 24 rows, patience 5"))


@check("ch12.fit", points=1,
       hint="An epoch over n rows with batch_size B makes ceil(n / B) Adam steps (the last batch "
            "is smaller), and history['loss'] weights each batch's loss by its number of rows.")
def test_fit_steps_per_epoch(sub):
    # ten copies of one row: every mini-batch has the same gradient, whatever the order
    X, labels = np.tile([[0.5, -1.0, 2.0]], (10, 1)), np.ones(10, dtype=int)
    X_val, labels_val = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 1.0]]), np.array([0, 1])
    params, _unused, _unused = _network([3, 4, 2], 1, seed=9)
    _expect_fit_like_nnlib(sub, params, X, labels, X_val, labels_val, epochs=2, batch_size=4,
                           learning_rate=0.01, patience=5,
                           what=_("10 identical rows in batches of 4, 4 and 2"))


@check("ch12.fit", points=1,
       hint="Early stopping: remember the lowest validation loss so far, count the epochs since "
            "it last fell, stop when the count reaches patience, and return the parameters saved "
            "at the best epoch (not the last ones).")
def test_fit_early_stopping_with_minibatches(sub):
    X, labels = _blobs(40, seed=10, flip=0.4)
    X_val, labels_val = _blobs(60, seed=11)
    params, _unused, _unused = _network([2, 32, 3], 1, seed=12)
    _expect_early_stopping(sub, params, X, labels, X_val, labels_val, epochs=100, batch_size=8,
                           learning_rate=0.02, patience=4, seed=3)


def _epoch_orders(params, X, labels, history_loss, learning_rate):
    """The order in which fit visited two rows (batch size 1) in each epoch, read off its
    history['loss'] by replaying both orders with nnlib's network and Adam (None: neither fits).
    """
    sizes = _sizes(params)
    model = nnlib.MLP(sizes, activation="relu")
    model.compile("categorical_crossentropy", nnlib.Adam(learning_rate=learning_rate))
    model.set_weights([params[f"{kind}{l}"] for l in range(1, len(sizes)) for kind in ("W", "b")])
    Y = _one_hot(labels, sizes[-1])
    orders = []
    for reported in history_loss:
        for order in ((0, 1), (1, 0)):
            trial = copy.deepcopy(model)
            losses = []
            for row in order:
                loss, grads = trial.loss_and_grads(X[row:row + 1], Y[row:row + 1])
                losses.append(loss)
                trial.optimizer.step(trial.params(), {k: g.copy() for k, g in grads.items()})
            if np.isclose(np.mean(losses), reported, rtol=1e-7, atol=1e-12):
                orders.append(order)
                model = trial
                break
        else:
            return None
    return orders


@check("ch12.fit", points=1,
       hint="Create the generator once, rng = np.random.default_rng(seed), before the epochs, and "
            "draw a fresh order, rng.permutation(n), at the start of every epoch: reusing one "
            "order visits the rows the same way every epoch.")
def test_fit_shuffles_afresh_every_epoch(sub):
    X, labels = np.array([[1.0, -0.5], [-0.8, 1.2]]), np.array([0, 2])
    params, _unused, _unused = _network([2, 3, 3], 1, seed=13)
    epochs = 16
    got = _pair(run(sub.fit, params, X, labels, X, labels, epochs, 1, 0.05, epochs + 1, 21),
                "fit", ("best_params", "history"))
    loss, _unused = _history(got[1], "fit")
    orders = _epoch_orders(params, X, labels, loss, 0.05)
    expect_true(orders is not None, _("fit with two rows and batch_size=1: history['loss'] matches "
                "neither visiting order in some epoch; each epoch should make one Adam step per "
                "row, in the epoch's shuffled order, and report the mean of the losses computed "
                "before each step"), kind="values")
    expect_true(len(set(orders)) == 2, _('fit visited the two rows in the same order in all {epochs} epochs ({orders_0}): shuffle the rows afresh every epoch, with one generator made from `seed` before the first epoch').format(epochs=epochs, orders_0=orders[0]), kind="values")


@check("ch12.fit", points=1,
       hint="An epoch improves only if its validation loss is strictly lower than at every "
            "earlier epoch (val_loss < best, not <=); an equal loss counts towards patience.")
def test_fit_stops_when_nothing_changes(sub):
    # learning rate 0: the parameters never move, every epoch has the same validation loss, and
    # only the first one is an improvement, so fit stops after 1 + patience epochs
    X, labels = _blobs(12, seed=14)
    params, _unused, _unused = _network([2, 4, 3], 1, seed=15)
    got = _pair(run(sub.fit, params, X, labels, X, labels, 30, 4, 0.0, 3, 0), "fit",
                ("best_params", "history"))
    _unused, val = _history(got[1], "fit")
    expect_true(len(val) == 4, _("fit with learning_rate=0 and patience=3 ran {len_val} epochs; every epoch has the same validation loss, which is not lower than the first one's, so it should stop after 1 + 3 = 4 epochs").format(len_val=len(val)), kind="length")


@check("ch12.fit", points=1, hidden=True)
def test_fit_hidden_full_batch(sub):
    X, labels = _blobs(30, seed=51, flip=0.3)
    X_val, labels_val = _blobs(25, seed=52)
    params, _unused, _unused = _network([2, 12, 8, 3], 1, seed=53)
    _expect_fit_like_nnlib(sub, params, X, labels, X_val, labels_val, epochs=60, batch_size=64,
                           learning_rate=0.03, patience=2, what=_("hidden test"))


@check("ch12.fit", points=1, hidden=True)
def test_fit_hidden_early_stopping(sub):
    X, labels = _blobs(50, seed=54, flip=0.4)
    X_val, labels_val = _blobs(30, seed=55)
    params, _unused, _unused = _network([2, 24, 3], 1, seed=56)
    # with seed 3 the validation loss rises, falls to a new low, then rises for good: the
    # patience count must start again at the new low
    _expect_early_stopping(sub, params, X, labels, X_val, labels_val, epochs=80, batch_size=16,
                           learning_rate=0.02, patience=3, seed=3)


# ----------------------------------------------------------------------------- the digits
@check("ch12.train_digits", points=4, timeout=DIGITS_TIMEOUT,
       hint="Make the other parts pass first. Then check that fit returns the parameters of the "
            "best epoch and that your validation rows are not also training rows. One hidden "
            "layer of ReLU units with He-scaled initial weights and Adam at a modest learning "
            "rate is enough; if training is slow, compute whole mini-batches at once.")
def test_train_digits_accuracy(sub):
    _expect_digits_accuracy(sub, split_seed=0, seed=0)


@check("ch12.train_digits", points=4, hidden=True, timeout=DIGITS_TIMEOUT)
def test_train_digits_hidden_split(sub):
    _expect_digits_accuracy(sub, split_seed=2718, seed=5)
