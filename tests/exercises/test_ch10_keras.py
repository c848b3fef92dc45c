"""Checks for exercises/ch10_keras.ipynb (chapter 10, Keras practice).

The learner's functions run Keras (JAX backend). What the checks read is plain data: a model is
described in the sandbox by the notebook's given helper ``model_to_data`` (its JSON configuration,
loss name and parameter count), and the checks read layer classes, units and activations from
that JSON as data; nothing is ever deserialised. Accuracies and agreement are computed here, on
the trusted side: against the true test labels, hand-counted parameter numbers, a hand-computed
prediction, and nnlib's numpy forward pass on the same weights. The optional challenge
``ch10.build_residual_mlp`` (bonus points) is checked by walking the model's graph in that JSON
from the output back to the input, and against a parameter count worked out by hand.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")  # the reference solutions import keras (trusted side)

import numpy as np
import pytest

from grader.checks import check, expect_close, expect_no_warnings, expect_true, run
from grader.i18n import _
from grader.sandbox import JAX_GRADING_ENV
from grader.paths import course_root

# Under pytest, tests/ is on sys.path and tests/nnlib/ (a folder without __init__.py) would be
# imported as an empty namespace package "nnlib"; put the course root first so the real nnlib,
# the independent numpy reference of these checks, is found.
_ROOT = course_root(required=False)
if _ROOT is not None and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
import nnlib  # noqa: E402
from nnlib import data  # noqa: E402

pytestmark = pytest.mark.slow  # Keras trains small networks here: seconds, not milliseconds

NOTEBOOK = "ch10_keras"

# Keras/JAX needs more than the grader's defaults: importing it takes seconds (paid once per
# sandbox: the sandbox imports the chapter's modules before it forks the exercise workers), XLA
# reserves about 2 GiB of address space and starts a thread pool. Compiling the learner's models
# costs more than training them on these small data sets, so compiled programs go to a cache in
# the sandbox's private /tmp ("jax-cache" is relative to its working directory): a second model
# of the same architecture and shapes, e.g. the hidden check's, compiles nothing. The cache
# starts warm ("warm_folder"): as a private copy of the cache that grading the reference
# solution filled (grader.warm), so a learner's models shaped like the reference's compile
# nothing either, and XLA can afford to optimise the training steps a little (JAX_GRADING_ENV).
# The copy dies with the sandbox, so nothing a learner's code compiles or writes there reaches
# another learner.
# Keras imports scikit-learn, if installed, for its optional scikit-learn wrappers (which no
# exercise uses): 0.45 of the 1.5 core-seconds of importing Keras. The sandbox imports Keras with
# scikit-learn hidden ("preload_hidden"); learner code can still import scikit-learn itself.
SANDBOX = {"memory_mb": 8192, "cpu_seconds": 900, "nproc": 1024, "load_timeout": 90,
           "call_timeout": 60, "start_timeout": 60, "tmp_mb": 64, "warm_folder": "jax-cache",
           "preload_hidden": ["sklearn"],
           "env": {"KERAS_BACKEND": "jax", **JAX_GRADING_ENV,
                   "JAX_COMPILATION_CACHE_DIR": "jax-cache",
                   "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                   "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}}
TRAIN_TIMEOUT = 240  # seconds for a check that trains a network


# ------------------------------------------------------------------ reading a described model
def _layers(info):
    """[(class_name, config dict), ...] from model_to_data(...)["config"] (plain JSON data)."""
    expect_true(isinstance(info, dict) and isinstance(info.get("config"), dict),
                _("expected the description of a keras model (a dict made by model_to_data), got %s; "
                "does your function return the keras model?") % type(info).__name__, kind="type")
    config = info["config"]
    expect_true(config.get("class_name") == "Sequential",
                _("expected a keras.Sequential model, got %r") % config.get("class_name"), kind="type")
    layers = config.get("config", {}).get("layers", [])
    return [(layer.get("class_name"), layer.get("config", {})) for layer in layers]


def _input_shape(layers):
    expect_true(bool(layers) and layers[0][0] == "InputLayer",
                _("the model must start with keras.Input(shape=...) (Keras 3 style, instead of "
                "Keras 2's input_dim=...)"), kind="values")
    return list(layers[0][1].get("batch_shape") or [])


def _dense_params(n_in, n_out):
    return n_in * n_out + n_out


# ------------------------------------------------------------------ data (offline, seeded)
def _breast_cancer_10(seed=0):
    """416 training samples (13 whole batches) and 143 test samples of the first 10 features,
    standardised."""
    X, y = data.load_breast_cancer()
    X_tr, X_te, y_tr, y_te = data.train_test_split(X[:, :10], y, test_size=0.25, seed=seed,
                                                   stratify=y)
    scaler = data.StandardScaler().fit(X_tr)
    return scaler.transform(X_tr[:416]), y_tr[:416], scaler.transform(X_te), y_te


def _digit_images(seed=0):
    """896 training and 448 test images (8, 8, 1) scaled to [0, 1], integer labels.

    Two thirds of the training split: the reference CNN still reaches 0.94-0.96 on unseen
    images for every split and seed tried, and training costs a third less. Both sizes are whole
    batches, so the learner's model compiles one training step, not two.
    """
    X, y = data.load_digits()
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=y)
    as_images = lambda A: (A / 16.0).reshape(-1, 8, 8, 1)  # noqa: E731
    return as_images(X_tr[:896]), y_tr[:896], as_images(X_te[:448]), y_te[:448]


# ------------------------------------------------------------------ ch10.build_binary_classifier
BIN_HINT = ("keras.Sequential([keras.Input(shape=(n_features,)), Dense(64, relu), Dense(32, relu), "
            "Dense(1, sigmoid)]), then model.compile(loss='binary_crossentropy', optimizer='adam', "
            "metrics=['accuracy']) and return the model.")


def _check_binary_structure(info, n_features):
    layers = _layers(info)
    shape = _input_shape(layers)
    expect_true(shape == [None, n_features],
                _("input shape should be (None, %d) for n_features=%d, got %s")
                % (n_features, n_features, tuple(shape)))
    rest = layers[1:]
    classes = [c for c, _unused in rest]
    expect_true(classes == ["Dense", "Dense", "Dense"],
                _("expected exactly three Dense layers after the Input (two hidden layers and the "
                "output layer), got %s") % classes)
    units = [cfg.get("units") for _unused, cfg in rest]
    acts = [cfg.get("activation") for _unused, cfg in rest]
    expect_true(units == [64, 32, 1], _("Dense units should be [64, 32, 1], got %s") % units)
    expect_true(acts == ["relu", "relu", "sigmoid"],
                _("activations should be ['relu', 'relu', 'sigmoid'], got %s") % acts)
    by_hand = _dense_params(n_features, 64) + _dense_params(64, 32) + _dense_params(32, 1)
    expect_true(info.get("n_params") == by_hand,
                _("the model should have %d parameters, got %s") % (by_hand, info.get("n_params")))


@check("ch10.build_binary_classifier", points=3, hint=BIN_HINT)
def test_binary_classifier_structure(sub):
    info = run(sub.binary_classifier_report, 10)
    expect_no_warnings(_("the first entry must be keras.Input(shape=(n_features,)), not Keras 2's "
                       "input_dim= or input_shape= on the first Dense layer"),
                       matching="input_dim")
    _check_binary_structure(info, 10)


@check("ch10.build_binary_classifier", points=1, hint=BIN_HINT)
def test_binary_classifier_is_compiled_with_bce(sub):
    info = run(sub.binary_classifier_report, 10)
    expect_true(info.get("loss") is not None,
                _("the model is not compiled: call model.compile(...) before returning it"))
    expect_true(info.get("loss") == "binary_crossentropy",
                _("loss should be 'binary_crossentropy' (the partner of a sigmoid output), got %r")
                % info.get("loss"))


@check("ch10.build_binary_classifier", points=2, hint=BIN_HINT, timeout=TRAIN_TIMEOUT)
def test_binary_classifier_reaches_90_percent(sub):
    X_tr, y_tr, X_te, y_te = _breast_cancer_10(seed=0)
    p = run(sub.binary_classifier_fit_predict, X_tr, y_tr, X_te, 0, epochs=10)
    p = np.asarray(p)
    expect_true(p.shape == (len(y_te), 1), _("predictions should have shape %s, got %s")
                % ((len(y_te), 1), p.shape), kind="shape")
    acc = float(np.mean((p[:, 0] > 0.5) == y_te))
    expect_true(acc >= 0.90, _("test accuracy after 10 epochs is %.3f; expected at least 0.90") % acc)


@check("ch10.build_binary_classifier", points=1, hidden=True)
def test_binary_classifier_other_input_size(sub):
    info = run(sub.binary_classifier_report, 7)
    _check_binary_structure(info, 7)


# ------------------------------------------------------------------ ch10.train_digits_cnn
CNN_HINT = ("Think of the network as two parts: convolution blocks that detect local strokes and "
            "halve the map, then a classifier over the flattened features with one probability "
            "per digit. Follow the shapes on an 8x8 image: how many 3x3 convolutions and 2x2 "
            "poolings fit before the map is 1x1? And which cross-entropy takes integer labels "
            "as they are?")


def _check_cnn_structure(info):
    layers = _layers(info)
    shape = _input_shape(layers)
    expect_true(shape == [None, 8, 8, 1], _("input shape should be (None, 8, 8, 1), got %s")
                % (tuple(shape),))
    classes = [c for c, _unused in layers[1:]]
    for needed in ("Conv2D", "MaxPooling2D", "Flatten"):
        expect_true(needed in classes, _("the model needs a %s layer; its layers are %s")
                    % (needed, classes))
    expect_true(classes.index("Conv2D") < classes.index("Flatten"),
                _("the Conv2D layers must come before Flatten; got %s") % classes)
    last_class, last = layers[-1]
    expect_true(last_class == "Dense" and last.get("units") == 10
                and last.get("activation") == "softmax",
                _("the last layer should be Dense(10, activation='softmax'), got %s(units=%s, "
                "activation=%s)") % (last_class, last.get("units"), last.get("activation")))
    others = [c for c, cfg in layers[1:-1] if cfg.get("activation") == "softmax"]
    expect_true(not others, _("softmax belongs only in the output layer; also found in %s") % others)
    convs = [cfg.get("activation") for c, cfg in layers if c == "Conv2D"]
    expect_true(all(a == "relu" for a in convs),
                _("the Conv2D layers should use ReLU, got activations %s") % convs)
    expect_true(info.get("loss") in ("sparse_categorical_crossentropy", "categorical_crossentropy"),
                _("loss should be a categorical cross-entropy, got %r") % info.get("loss"))


def _trained_cnn(sub):
    """The learner's CNN trained with the default 15 epochs on the seed-0 split: trained once,
    shared by the structure and the accuracy check (``digits_cnn_report`` remembers it)."""
    X_tr, y_tr, X_te, y_te = _digit_images(seed=0)
    return run(sub.digits_cnn_report, X_tr, y_tr, X_te, 0, epochs=15), y_te


@check("ch10.train_digits_cnn", points=2, hint=CNN_HINT, timeout=TRAIN_TIMEOUT)
def test_cnn_structure(sub):
    report, _unused = _trained_cnn(sub)
    _check_cnn_structure(report["model"])


@check("ch10.train_digits_cnn", points=3, hint=CNN_HINT, timeout=TRAIN_TIMEOUT)
def test_cnn_test_accuracy_at_least_90_percent(sub):
    report, y_te = _trained_cnn(sub)
    probs = np.asarray(report["probs"], dtype=float)
    expect_true(probs.shape == (len(y_te), 10), _("predicted probabilities should have shape %s, "
                "got %s") % ((len(y_te), 10), probs.shape), kind="shape")
    expect_close(probs.sum(axis=1), np.ones(len(y_te)), rtol=0, atol=1e-4, dtype="any",
                 what=_("the row sums of the predicted probabilities (softmax output)"))
    acc = float(np.mean(probs.argmax(axis=1) == y_te))
    expect_true(acc >= 0.90, _("accuracy on %d unseen test images is %.3f; expected at least 0.90")
                % (len(y_te), acc))


@check("ch10.train_digits_cnn", points=2, hidden=True, timeout=TRAIN_TIMEOUT)
def test_cnn_other_split_and_seed(sub):
    X_tr, y_tr, X_te, y_te = _digit_images(seed=5)
    report = run(sub.digits_cnn_report, X_tr, y_tr, X_te, 7, epochs=15)
    probs = np.asarray(report["probs"], dtype=float)
    expect_true(probs.shape == (len(y_te), 10), _("wrong shape"), kind="shape")
    expect_true(float(np.mean(probs.argmax(axis=1) == y_te)) >= 0.90, _("accuracy below 0.90"))


@check("ch10.train_digits_cnn", points=1, hidden=True, timeout=TRAIN_TIMEOUT)
def test_cnn_same_seed_same_model(sub):
    X_tr, y_tr, X_te, _unused = _digit_images(seed=3)
    first, second = run(sub.digits_cnn_twice, X_tr[:256], y_tr[:256], X_te[:32], 11, 2)
    expect_close(np.asarray(second), np.asarray(first), rtol=0, atol=1e-6,
                 dtype="any", what=_("the probabilities of a second run with the same seed"))


# ------------------------------------------------------------------ ch10.transfer_weights
TRANSFER_HINT = ("One Dense layer per (W, b) pair with W.shape[1] units: ReLU for hidden layers, "
                 "softmax (several outputs) or sigmoid (one output) last; keras.Input(shape="
                 "(weights[0].shape[0],)) first; then model.set_weights(weights) and "
                 "model.predict(X, verbose=0).")


def _nnlib_mlp(sizes, seed, train_on=None):
    net = nnlib.MLP(sizes, activation="relu", seed=seed)
    if train_on is not None:
        X, Y = train_on
        net.compile(loss="categorical_crossentropy", optimizer=nnlib.Adam(learning_rate=0.01))
        net.fit(X, Y, epochs=3, batch_size=32, seed=seed, verbose=0)
    return net


@check("ch10.transfer_weights", points=1, hint=TRANSFER_HINT, timeout=TRAIN_TIMEOUT)
def test_transfer_hand_computed(sub):
    weights = [np.array([[1.0, -1.0]]), np.zeros(2), np.array([[1.0], [1.0]]), np.zeros(1)]
    X = np.array([[2.0], [-1.0]])
    # x = 2: hidden relu(2, -2) = (2, 0), output sigmoid(2); x = -1: hidden (0, 1), sigmoid(1)
    expected = np.array([[1 / (1 + np.exp(-2.0))], [1 / (1 + np.exp(-1.0))]])
    expect_close(np.asarray(run(sub.transfer_weights, weights, X), dtype=float), expected,
                 rtol=0, atol=1e-6, dtype="any")


@check("ch10.transfer_weights", points=2, hint=TRANSFER_HINT, timeout=TRAIN_TIMEOUT)
def test_transfer_matches_nnlib_on_digits(sub):
    X, y = data.load_digits()
    X = data.StandardScaler().fit(X).transform(X)
    net = _nnlib_mlp([64, 32, 10], seed=0, train_on=(X[:600], data.one_hot(y[:600], 10)))
    X_test = X[1500:1560]
    got = np.asarray(run(sub.transfer_weights, net.get_weights(), X_test), dtype=float)
    expect_close(got, net.predict(X_test), rtol=0, atol=1e-5, dtype="any",
                 what=_("the Keras twin's probabilities (compared with nnlib's)"))


@check("ch10.transfer_weights", points=1, hidden=True, timeout=TRAIN_TIMEOUT)
def test_transfer_two_hidden_layers(sub):
    net = _nnlib_mlp([5, 7, 3, 4], seed=3)
    X = np.random.default_rng(4).normal(size=(9, 5))
    got = np.asarray(run(sub.transfer_weights, net.get_weights(), X), dtype=float)
    expect_close(got, net.predict(X), rtol=0, atol=1e-5, dtype="any")
    two_classes = _nnlib_mlp([5, 3, 2], seed=5)   # two outputs are a softmax, not two sigmoids
    got = np.asarray(run(sub.transfer_weights, two_classes.get_weights(), X), dtype=float)
    expect_close(got, two_classes.predict(X), rtol=0, atol=1e-5, dtype="any",
                 what=_("the Keras twin of a network with two softmax outputs"))


@check("ch10.transfer_weights", points=1, hidden=True, timeout=TRAIN_TIMEOUT)
def test_transfer_single_sigmoid_output(sub):
    net = _nnlib_mlp([6, 4, 1], seed=8)
    X = np.random.default_rng(9).normal(size=(11, 6)) * 2
    got = np.asarray(run(sub.transfer_weights, net.get_weights(), X), dtype=float)
    expect_close(got, net.predict(X), rtol=0, atol=1e-5, dtype="any")


# ---------------------------------------------------------- ch10.build_residual_mlp (challenge)
RESIDUAL_HINT = ("inputs = keras.Input(shape=(n_features,)); h = Dense(width, relu)(inputs); per "
                 "block: r = Dense(width, relu)(h), r = Dense(width)(r), "
                 "h = keras.layers.Add()([h, r]); outputs = Dense(n_classes, softmax)(h); "
                 "keras.Model(inputs, outputs), compiled with "
                 "loss='sparse_categorical_crossentropy'.")


def _keras_sources(node):
    """Names of the layers whose outputs a serialised inbound node reads (plain JSON data)."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            history = node.get("config", {}).get("keras_history") or [None]
            return [history[0]]
        return [name for value in node.values() for name in _keras_sources(value)]
    if isinstance(node, list):
        return [name for value in node for name in _keras_sources(value)]
    return []


def _functional_graph(info):
    """({layer name: (class name, config, [input layer names])}, model config) of a described
    functional model."""
    expect_true(isinstance(info, dict) and isinstance(info.get("config"), dict),
                _("expected the description of a keras model (a dict made by model_to_data), got "
                "%s; does build_residual_mlp return the keras model?") % type(info).__name__,
                kind="type")
    config = info["config"]
    expect_true(config.get("class_name") == "Functional",
                _("expected a functional model, keras.Model(inputs, outputs), got %r (Sequential "
                "cannot add a block's input to its output)") % config.get("class_name"), kind="type")
    graph = {}
    for layer in config.get("config", {}).get("layers", []):
        graph[layer.get("name")] = (layer.get("class_name"), layer.get("config", {}),
                                    _keras_sources(layer.get("inbound_nodes", [])))
    return graph, config.get("config", {})


def _dense(graph, name, units, activation, what):
    """Check that layer ``name`` is Dense(units, activation) and return the layer it reads."""
    cls, cfg, inputs = graph[name]
    expect_true(cls == "Dense" and cfg.get("units") == units
                and cfg.get("activation") == activation,
                _("%s should be Dense(%d, activation=%r), got %s(units=%s, activation=%s)")
                % (what, units, activation, cls, cfg.get("units"), cfg.get("activation")))
    expect_true(len(inputs) == 1, _("%s should read exactly one tensor, it reads %s") % (what, inputs))
    return inputs[0]


def _is_linear_dense(layer):
    cls, cfg, _unused = layer
    return cls == "Dense" and cfg.get("activation") == "linear"


def _check_residual_model(info, n_features, n_classes, width, n_blocks):
    """Walk the graph from the output back to the input and compare it with the specification."""
    graph, model_config = _functional_graph(info)
    outputs = model_config.get("output_layers") or []
    # ["name", 0, 0] for a single output tensor, [["name", 0, 0], ...] for a list of them
    outputs = [outputs[0]] if outputs and isinstance(outputs[0], str) else [o[0] for o in outputs]
    expect_true(len(outputs) == 1, _("the model should have one output, got %s") % outputs)
    hidden = _dense(graph, outputs[0], n_classes, "softmax", "the output layer")
    found = 0
    while graph.get(hidden, (None,))[0] == "Add":
        found += 1
        what = "residual block %d (counted from the input)" % (n_blocks - found + 1)
        inputs = graph[hidden][2]
        expect_true(len(inputs) == 2,
                    _("the Add of %s should sum two tensors, got %s") % (what, inputs))
        branch_end = [name for name in inputs if _is_linear_dense(graph[name])]
        expect_true(len(branch_end) == 1, _("the Add of %s should sum the block's input and the "
                    "output of Dense(%d) without activation; it sums %s") % (what, width, inputs))
        skip = next(name for name in inputs if name != branch_end[0])
        middle = _dense(graph, branch_end[0], width, "linear", "the second Dense of %s" % what)
        start = _dense(graph, middle, width, "relu", "the first Dense of %s" % what)
        expect_true(start == skip, _("%s should add its own input to its branch (h + F(h)): its "
                    "branch starts from %r but the Add's other input is %r") % (what, start, skip))
        hidden = skip
    expect_true(found == n_blocks, _("the model should have %d residual blocks (Add layers) between "
                "the first Dense and the output layer, found %d") % (n_blocks, found))
    first_input = _dense(graph, hidden, width, "relu", "the first layer after the input")
    cls, cfg, _unused = graph[first_input]
    expect_true(cls == "InputLayer" and list(cfg.get("batch_shape") or []) == [None, n_features],
                _("the first Dense should read keras.Input(shape=(%d,)), it reads %s with shape %s")
                % (n_features, cls, cfg.get("batch_shape")))
    expect_true(len(graph) == 3 + 3 * n_blocks, _("the model should have %d layers (Input, Dense, 3 "
                "per block, output Dense), it has %d: %s")
                % (3 + 3 * n_blocks, len(graph), [c for c, _unused, _unused in graph.values()]))
    by_hand = ((n_features + 1) * width + n_blocks * 2 * (width + 1) * width
               + (width + 1) * n_classes)
    expect_true(info.get("n_params") == by_hand, _("the model should have %d parameters, got %s")
                % (by_hand, info.get("n_params")))
    expect_true(info.get("loss") == "sparse_categorical_crossentropy",
                _("loss should be 'sparse_categorical_crossentropy' (integer labels), got %r")
                % info.get("loss"))


@check("ch10.build_residual_mlp", points=3, hint=RESIDUAL_HINT, timeout=TRAIN_TIMEOUT)
def test_residual_mlp_graph(sub):
    info = run(sub.residual_mlp_report, 6, 3, 8, 2)
    _check_residual_model(info, 6, 3, 8, 2)


@check("ch10.build_residual_mlp", points=2, hidden=True, timeout=TRAIN_TIMEOUT)
def test_residual_mlp_other_sizes(sub):
    info = run(sub.residual_mlp_report, 5, 4, 12, 3)
    _check_residual_model(info, 5, 4, 12, 3)
    # the signature's defaults: width=32, n_blocks=2
    _check_residual_model(run(sub.residual_mlp_report, 5, 4), 5, 4, 32, 2)
