"""Tests of nnlib.autodiff: every backward rule against central differences, properties
(hypothesis) on random expressions, graphs deeper than Python's recursion limit, and the array
engine's gradients against nnlib's hand-written backward pass on the same weights."""
from __future__ import annotations

import math
import operator
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nnlib
from nnlib import autodiff
from nnlib.autodiff import Tensor, Value, softmax_cross_entropy, topological_order
from nnlib.gradcheck import numerical_gradient, relative_error

FAST = settings(max_examples=60, deadline=None)


def scalar_derivative(f, x, eps=1e-6):
    """Central difference of a function of one float."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# --------------------------------------------------------------------------- Value: each rule
UNARY = {
    "exp": (lambda v: v.exp(), math.exp),
    "log": (lambda v: v.log(), math.log),
    "tanh": (lambda v: v.tanh(), math.tanh),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "neg": (lambda v: -v, lambda x: -x),
    "square": (lambda v: v**2, lambda x: x**2),
    "cube": (lambda v: v**3, lambda x: x**3),
    "sqrt": (lambda v: v**0.5, math.sqrt),
    "reciprocal": (lambda v: v**-1, lambda x: 1 / x),
}


UNARY_CASES = [(name, x) for name in sorted(UNARY) for x in (0.3, 1.7, -0.8)
               if x > 0 or name not in ("log", "sqrt")]  # log and sqrt: positive inputs only


@pytest.mark.parametrize("name, x", UNARY_CASES)
def test_value_unary_rules_match_central_differences(name, x):
    build, plain = UNARY[name]
    v = Value(x)
    out = build(v)
    out.backward()
    assert out.data == pytest.approx(plain(x), rel=1e-12)
    assert v.grad == pytest.approx(scalar_derivative(plain, x), rel=1e-7, abs=1e-9)


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("a, b", [(1.3, -0.7), (-2.0, 0.5), (0.25, 4.0)])
def test_value_binary_rules_match_central_differences(op, a, b):
    f = BINARY[op]
    va, vb = Value(a), Value(b)
    out = f(va, vb)
    out.backward()
    assert out.data == pytest.approx(f(a, b), rel=1e-12)
    assert va.grad == pytest.approx(scalar_derivative(lambda x: f(x, b), a), rel=1e-7)
    assert vb.grad == pytest.approx(scalar_derivative(lambda y: f(a, y), b), rel=1e-7)


@pytest.mark.parametrize("op", sorted(BINARY))
def test_value_mixes_with_plain_numbers_on_either_side(op):
    f = BINARY[op]
    for number in (2.5, np.float64(2.5), 3):
        v = Value(1.5)
        left, right = f(number, v), f(v, number)
        assert left.data == pytest.approx(f(float(number), 1.5))
        assert right.data == pytest.approx(f(1.5, float(number)))
        (left + right).backward()
        expected = (scalar_derivative(lambda x: f(float(number), x), 1.5)
                    + scalar_derivative(lambda x: f(x, float(number)), 1.5))
        assert v.grad == pytest.approx(expected, rel=1e-7)


def test_relu_derivative_is_zero_on_the_negative_side_and_one_on_the_positive():
    for x, expected in [(-1.0, 0.0), (0.0, 0.0), (2.0, 1.0)]:
        v = Value(x)
        v.relu().backward()
        assert v.grad == expected


def test_sigmoid_is_stable_for_large_inputs():
    for x in (-800.0, 800.0):
        v = Value(x)
        out = v.sigmoid()
        out.backward()
        assert out.data in (0.0, 1.0) and v.grad == 0.0


# --------------------------------------------------------------------------- chapter 6's neuron
def test_chapter6_neuron_gradient_equals_the_hand_derivation():
    """L = (sigmoid(w x + b) - y)^2 at x = 1.5, w = 0.8, b = -0.2, y = 1 (chapter 6)."""
    x, w, b, y = 1.5, 0.8, -0.2, 1.0
    vx, vw, vb = Value(x), Value(w), Value(b)
    loss = ((vw * vx + vb).sigmoid() - y) ** 2
    loss.backward()
    a = 1 / (1 + math.exp(-(w * x + b)))
    dz = 2 * (a - y) * a * (1 - a)  # the chain of local derivatives, by hand
    assert loss.data == pytest.approx((a - y) ** 2, rel=1e-14)
    assert (vw.grad, vb.grad, vx.grad) == pytest.approx((dz * x, dz, dz * w), rel=1e-14)
    assert vw.grad == pytest.approx(-0.1586, abs=1e-4)  # the value printed in chapter 6


def test_sigmoid_built_from_exp_and_division_has_the_same_gradient():
    z1, z2 = Value(0.7), Value(0.7)
    (1 / (1 + (-z1).exp())).backward()
    z2.sigmoid().backward()
    assert z1.grad == pytest.approx(z2.grad, rel=1e-14)


# --------------------------------------------------------------------------- accumulation
def test_a_value_used_twice_gets_the_sum_of_both_contributions():
    x = Value(3.0)
    (x * x + x).backward()  # d/dx (x^2 + x) = 2x + 1
    assert x.grad == 7.0


def test_leaf_gradients_accumulate_across_backward_calls_until_zero_grad():
    w, x = Value(-0.4), Value(2.0)
    out = (w * x).tanh() * w
    out.backward()
    first = (w.grad, x.grad)
    out.backward()
    assert (w.grad, x.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-14)
    hidden = out.parents[0]
    assert hidden.grad == pytest.approx(w.data)  # interior: this pass only, not doubled
    out.zero_grad()
    assert (w.grad, x.grad, hidden.grad, out.grad) == (0.0, 0.0, 0.0, 0.0)
    out.backward()
    assert (w.grad, x.grad) == pytest.approx(first, rel=1e-14)


def test_backward_with_a_seed_scales_every_gradient():
    w = Value(0.3)
    (w * w).backward(grad=2.5)
    assert w.grad == pytest.approx(2.5 * 2 * 0.3)


# --------------------------------------------------------------------------- order and depth
def _is_topological(order):
    position = {id(node): i for i, node in enumerate(order)}
    return all(position[id(p)] < position[id(node)] for node in order for p in node.parents)


def test_topological_order_lists_each_ancestor_once_after_its_parents():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a          # a reached along two paths
    e = d * c          # c reached along two paths
    Value(5.0) * a     # a node e does not depend on
    order = topological_order(e)
    assert len(order) == len({id(n) for n in order}) == 5
    assert {id(n) for n in order} == {id(n) for n in (a, b, c, d, e)}
    assert order[-1] is e and _is_topological(order)


@pytest.mark.parametrize("depth", [20_000])
def test_deep_scalar_graph_needs_no_recursion(depth):
    assert depth > 10 * sys.getrecursionlimit()  # a recursive sort would fail here
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**depth, rel=1e-9)
    assert len(topological_order(y)) == 2 * depth + 1 + 2 * depth  # nodes and constants
    del y  # freeing a deep chain must not overflow the C stack either


def test_deep_tensor_graph_needs_no_recursion():
    x = Tensor(np.array([0.5, -1.0]))
    y = x
    for _ in range(5_000):
        y = y.tanh() * 1.0 + y * 0.0
    y.sum().backward()
    assert np.all(np.isfinite(x.grad)) and x.grad.shape == (2,)


# --------------------------------------------------------------------------- hypothesis: programs
# A random straight-line program: each step applies an operation to two earlier results. relu
# is left out (central differences straddling its kink disagree for good reason; it has its own
# tests above) and so is division by something near 0.
OPS = ["add", "sub", "mul", "div", "tanh", "exp", "sigmoid", "square", "log_softplus"]
FLOAT_FUNCTIONS = {"tanh": math.tanh, "exp": math.exp,
                   "sigmoid": lambda t: 1 / (1 + math.exp(-t)),
                   "log_softplus": lambda t: math.log(math.exp(t) + 1.0)}


BINARY_STEPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
                "div": lambda a, b: a / (b * b + 1.0),      # denominator >= 1
                "square": lambda a, b: a**2}


def _apply(op, a, b):
    """One step of a random program, on Values or on floats."""
    if op in BINARY_STEPS:
        return BINARY_STEPS[op](a, b)
    if isinstance(a, Value):
        return (a.exp() + 1.0).log() if op == "log_softplus" else getattr(a, op)()
    return FLOAT_FUNCTIONS[op](a)


def _run(program, inputs):
    nodes = list(inputs)
    for op, i, j in program:
        nodes.append(_apply(op, nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes


def _moderate(program, xs):
    """True if every intermediate result of the program stays below 1e3 in size."""
    try:
        return all(abs(v) < 1e3 for v in _run(program, xs))
    except OverflowError:
        return False


programs = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)),
                    min_size=1, max_size=12)
inputs3 = st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3)


@FAST
@given(programs, inputs3)
def test_random_programs_match_central_differences(program, xs):
    assume(_moderate(program, xs))
    leaves = [Value(x) for x in xs]
    out = _run(program, leaves)[-1]
    out.backward()
    numeric = numerical_gradient(lambda arr: _run(program, list(arr))[-1], np.array(xs))
    assert out.data == pytest.approx(_run(program, xs)[-1], rel=1e-12, abs=1e-12)
    assert np.allclose([leaf.grad for leaf in leaves], numeric, rtol=1e-5, atol=1e-5)


@FAST
@given(programs, inputs3, st.floats(-3, 3))
def test_gradients_are_linear_in_the_seed(program, xs, c):
    assume(_moderate(program, xs))
    leaves = [Value(x) for x in xs]
    out = _run(program, leaves)[-1]
    out.backward()
    g1 = [leaf.grad for leaf in leaves]
    out.zero_grad()
    out.backward(grad=c)
    assert [leaf.grad for leaf in leaves] == pytest.approx([c * g for g in g1], rel=1e-12,
                                                           abs=1e-12)


# --------------------------------------------------------------------------- Tensor: each rule
def _probe_check(build, arrays, seed=0, rtol=1e-7):
    """backward of L = sum(G * build(*tensors)) against central differences, per input."""
    rng = np.random.default_rng(seed)
    tensors = [Tensor(a) for a in arrays]
    out = build(*tensors)
    G = rng.normal(size=out.shape)
    (out * G).sum().backward()
    for k, (t, a) in enumerate(zip(tensors, arrays)):
        def f(v, k=k):
            args = [Tensor(x) for x in arrays]
            args[k] = Tensor(v)
            return float(np.sum(G * build(*args).data))
        numeric = numerical_gradient(f, np.array(a, dtype=float))
        assert t.grad.shape == t.shape
        assert relative_error(t.grad, numeric) < rtol, f"input {k}"


BROADCAST_PAIRS = [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 1), (1, 3)), ((2, 4, 3), (4, 1)),
                   ((3,), ()), ((), (2, 2))]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_tensor_broadcasting_arithmetic_matches_central_differences(op, shapes):
    rng = np.random.default_rng(1)
    a = rng.normal(size=shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes[1])  # away from 0 for division
    _probe_check(BINARY[op], [a, b])


ELEMENTWISE = {
    "exp": lambda t: t.exp(), "log": lambda t: (t * t + 0.5).log(), "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(), "sigmoid": lambda t: t.sigmoid(), "neg": lambda t: -t,
    "pow3": lambda t: t**3, "pow-half": lambda t: (t * t + 1.0) ** -0.5, "T": lambda t: t.T,
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_tensor_elementwise_rules_match_central_differences(name):
    x = np.random.default_rng(2).normal(size=(3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep relu away from its kink
    _probe_check(ELEMENTWISE[name], [x])


@pytest.mark.parametrize("a_shape, b_shape", [((5, 3), (3, 4)), ((1, 6), (6, 1)), ((4, 1), (1, 2))])
def test_matmul_backward_matches_central_differences(a_shape, b_shape):
    rng = np.random.default_rng(3)
    _probe_check(lambda A, B: A @ B, [rng.normal(size=a_shape), rng.normal(size=b_shape)])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_reductions_match_central_differences(axis, keepdims, reduction):
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    _probe_check(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x])


def test_softmax_cross_entropy_matches_nnlib_and_central_differences():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(6, 4)) * 3
    Y = np.eye(4)[rng.integers(0, 4, 6)]
    logits = Tensor(Z)
    loss = softmax_cross_entropy(logits, Y)
    loss.backward()
    assert loss.shape == ()
    assert float(loss.data) == pytest.approx(nnlib.losses.softmax_cross_entropy(Y, Z), rel=1e-13)
    numeric = numerical_gradient(lambda z: nnlib.losses.softmax_cross_entropy(Y, z), Z.copy())
    assert relative_error(logits.grad, numeric) < 1e-8
    huge = Tensor(np.array([[1000.0, -1000.0]]))
    softmax_cross_entropy(huge, np.array([[0.0, 1.0]])).backward()
    assert np.all(np.isfinite(huge.grad))


@FAST
@given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.data())
def test_unbroadcast_is_the_gradient_of_broadcasting(shape, data):
    """sum(G * broadcast_to(x, big)) has gradient _unbroadcast(G, x.shape), for any shapes
    that broadcast: leading axes added, and axes of length 1 stretched."""
    shape = tuple(shape)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    big = lead + tuple(data.draw(st.sampled_from([n, 3])) if n == 1 else n for n in shape)
    rng = np.random.default_rng(len(big))
    x, G = rng.normal(size=shape), rng.normal(size=big)
    expected = numerical_gradient(lambda v: float(np.sum(G * np.broadcast_to(v, big))), x.copy())
    got = autodiff._unbroadcast(G, shape)
    assert got.shape == shape
    assert np.allclose(got, expected, atol=1e-8)


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_matmul_gradients_have_the_shapes_of_their_inputs(n, k, m, seed):
    rng = np.random.default_rng(seed)
    A, B = Tensor(rng.normal(size=(n, k))), Tensor(rng.normal(size=(k, m)))
    G = rng.normal(size=(n, m))
    (A @ B).backward(grad=G)
    assert np.allclose(A.grad, G @ B.data.T) and np.allclose(B.grad, A.data.T @ G)


def test_float32_stays_float32():
    X = Tensor(np.ones((3, 2), dtype=np.float32))
    W = Tensor(np.full((2, 2), 0.5, dtype=np.float32))
    out = ((X @ W + 1.0) * 2).tanh().mean()
    out.backward()
    assert out.dtype == X.grad.dtype == W.grad.dtype == np.float32


def test_numpy_arrays_on_the_left_give_tensors():
    t = Tensor([1.0, 2.0])
    for result in (np.ones(2) + t, np.ones(2) * t, np.ones(2) - t, np.ones(2) / t,
                   np.eye(2) @ Tensor(np.ones((2, 1)))):
        assert isinstance(result, Tensor)


# --------------------------------------------------------------------------- nnlib parity
def _autodiff_loss_and_grads(model, X, Y, activation, loss):
    """The forward pass of an nnlib MLP written with Tensors, on copies of its weights."""
    weights = model.get_weights()
    params = {}
    A = Tensor(X)
    n_layers = len(weights) // 2
    for i in range(1, n_layers + 1):
        W, b = Tensor(weights[2 * i - 2]), Tensor(weights[2 * i - 1])
        params[f"W{i}"], params[f"b{i}"] = W, b
        Z = A @ W + b
        A = getattr(Z, activation)() if i < n_layers else Z
    if loss == "categorical_crossentropy":
        value = softmax_cross_entropy(A, Y)
    elif loss == "mse":
        value = ((A - Y) ** 2).mean()
    else:  # binary cross-entropy on sigmoid outputs
        P = A.sigmoid()
        value = -(Y * P.log() + (1.0 - Y) * (1.0 - P).log()).mean()
    value.backward()
    return float(value.data), {name: t.grad for name, t in params.items()}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss, sizes, output", [
    ("categorical_crossentropy", [7, 6, 5, 3], "softmax"),
    ("binary_crossentropy", [7, 5, 1], "sigmoid"),
    ("mse", [7, 4, 2], "linear"),
])
def test_tensor_mlp_gradients_equal_nnlib_loss_and_grads(activation, loss, sizes, output):
    rng = np.random.default_rng(6)
    model = nnlib.MLP(sizes, activation=activation, output_activation=output, seed=3,
                      bias_initializer="normal")
    model.compile(loss=loss)
    X = rng.normal(size=(9, sizes[0]))
    if loss == "categorical_crossentropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 9)]
    elif loss == "binary_crossentropy":
        Y = rng.integers(0, 2, size=(9, 1)).astype(float)
    else:
        Y = rng.normal(size=(9, sizes[-1]))
    expected_loss, expected = model.loss_and_grads(X, Y)
    got_loss, got = _autodiff_loss_and_grads(model, X, Y, activation, loss)
    assert got_loss == pytest.approx(expected_loss, rel=1e-12)
    assert set(got) == set(expected)
    for name in expected:
        assert relative_error(got[name], expected[name]) < 1e-12, name


@pytest.mark.slow
def test_tensor_engine_trains_a_digits_classifier():
    X, y = nnlib.data.load_digits()
    X_train, X_test, y_train, y_test = nnlib.train_test_split(X, y, test_size=0.25, seed=0,
                                                              stratify=y)
    scaler = nnlib.StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    Y_train = nnlib.one_hot(y_train, 10)
    model = nnlib.MLP([64, 32, 10], seed=0)
    params = [Tensor(w) for w in model.get_weights()]
    rng = np.random.default_rng(0)
    for _ in range(15):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), 32):
            rows = order[start:start + 32]
            W1, b1, W2, b2 = params
            loss = softmax_cross_entropy((Tensor(X_train[rows]) @ W1 + b1).relu() @ W2 + b2,
                                         Y_train[rows])
            for p in params:
                p.zero_grad()
            loss.backward()
            for p in params:
                p.data -= 0.1 * p.grad
    W1, b1, W2, b2 = (p.data for p in params)
    accuracy = np.mean((np.maximum(X_test @ W1 + b1, 0) @ W2 + b2).argmax(axis=1) == y_test)
    assert accuracy > 0.94


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, error, words", [
    (lambda: Value("1.0"), TypeError, "real number"),
    (lambda: Value(Value(1.0)), TypeError, "Value itself"),
    (lambda: Value(2.0) ** Value(3.0), TypeError, "exponent must be a number"),
    (lambda: Value(-8.0) ** 0.5, ValueError, "integer exponent"),
    (lambda: Value(0.0).log(), ValueError, "positive"),
    (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, "equal to 0"),
    (lambda: Value(1.0) + "a", TypeError, "unsupported operand"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), ValueError, "inner sizes 3 and 2"),
    (lambda: Tensor(np.ones(3)) @ Tensor(np.ones((3, 1))), ValueError, "2-D"),
    (lambda: Tensor(np.ones((2, 3))).backward(), ValueError, "reduce it first"),
    (lambda: Tensor(np.ones(2)).sum().backward(grad=np.ones(2)), ValueError, "shape"),
    (lambda: Tensor([-1.0, 2.0]).log(), ValueError, "positive"),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=2), ValueError, "out of range"),
    (lambda: softmax_cross_entropy(Tensor(np.ones((2, 3))), np.ones((2, 4))), ValueError,
     "(2, 3) and (2, 4)"),
    (lambda: softmax_cross_entropy(np.ones((2, 3)), np.ones((2, 3))), TypeError, "Tensor"),
])
def test_bad_input_gets_a_clear_error(make, error, words):
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


def test_module_stands_alone():
    source = open(autodiff.__file__, encoding="utf-8").read()
    assert "from .layers" not in source and "from .model" not in source
    assert "import nnlib.layers" not in source and "import nnlib.model" not in source
