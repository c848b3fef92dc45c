"""Checks of the chapter 7 exercises (solutions/ch07_autodiff.ipynb): an autodiff engine.

Every gradient is compared with an independent reference computed here, in the trusted process:
central differences of the operation or program, hand-derived values (chapter 6's neuron,
d(x*x + x)/dx = 2x + 1) or the defining sums of broadcasting. Graphs are sent as plain data
(lists of node numbers and local derivatives); the learner's Value class is exercised through the
notebook's given helper ``run_program``, which returns plain numbers. Hidden checks use other
values, random graphs and programs, and other shapes.

The optional challenge ``ch07.hessian_vector_product`` (bonus points) is checked against central
differences, along the direction, of the gradient computed by nnlib's Tensor engine, against
second differences of the loss, and against two identities of a Hessian-vector product: symmetry,
u·(H v) = v·(H u), to rounding (which finite differences do not reach), and linearity in v.
"""
from __future__ import annotations

import math
import operator
from collections import Counter

import numpy as np

from grader.checks import (CheckFailed, check, expect_close, expect_gradients, expect_true,
                           numerical_gradient, run)
from grader.i18n import _

NOTEBOOK = "ch07_autodiff"


def _derivative(f, x):
    """Central difference of a function of one float."""
    return float(numerical_gradient(lambda v: f(float(v[0])), np.array([float(x)]))[0])


def _tuple_of(got, n, name):
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise CheckFailed(_("%s should return a tuple of %d gradients, got %s")
                          % (name, n, type(got).__name__ if not isinstance(got, (tuple, list))
                             else "%d item(s)" % len(got)), kind="type")
    return list(got)


# ----------------------------------------------------------------------------- part 1: rules
RULE_HINTS = ("Multiply grad_out by the local derivative: d(ab)/da = b, d(a/b)/db = -a/b**2, "
              "d(a**n)/da = n a**(n-1).")


@check("ch07.binary_rules", points=1, hint=RULE_HINTS)
def test_mul_backward_known_values(sub):
    got = _tuple_of(run(sub.mul_backward, 2.0, -3.0, 1.5), 2, "mul_backward")
    expect_close(got, [-4.5, 3.0], what=_("mul_backward(2.0, -3.0, 1.5)"))


@check("ch07.binary_rules", points=1, hint=RULE_HINTS)
def test_div_backward_central_differences(sub):
    a, b, g = 6.0, 3.0, 2.0
    got = _tuple_of(run(sub.div_backward, a, b, g), 2, "div_backward")
    expected = [g * _derivative(lambda t: t / b, a), g * _derivative(lambda t: a / t, b)]
    expect_close(got, expected, rtol=1e-6, what=_("div_backward(6.0, 3.0, 2.0)"))


@check("ch07.binary_rules", points=1, hint=RULE_HINTS)
def test_pow_backward_central_differences(sub):
    for a, n, g in [(2.0, 3, 0.5), (1.5, -1, 1.0), (4.0, 0.5, -2.0)]:
        expected = g * _derivative(lambda t: t**n, a)
        expect_close(run(sub.pow_backward, a, n, g), expected, rtol=1e-6,
                     what=_("pow_backward(%r, %r, %r)") % (a, n, g))


@check("ch07.binary_rules", points=2, hidden=True)
def test_binary_rules_elementwise_on_arrays(sub):
    rng = np.random.default_rng(71)
    a, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    b = rng.uniform(0.5, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    expect_close(_tuple_of(run(sub.mul_backward, a, b, g), 2, "mul_backward"), [g * b, g * a],
                 what=_("mul_backward on (3, 4) arrays"))
    expect_close(_tuple_of(run(sub.div_backward, a, b, g), 2, "div_backward"),
                 [g / b, -g * a / b**2], what=_("div_backward on (3, 4) arrays"))
    positive = np.abs(a) + 0.5
    expect_close(run(sub.pow_backward, positive, 2.5, g), g * 2.5 * positive**1.5,
                 what=_("pow_backward on a (3, 4) array"))


# ----------------------------------------------------------------------------- unary rules
UNARY_FUNCTIONS = {"exp_backward": math.exp, "log_backward": math.log,
                   "tanh_backward": math.tanh}


@check("ch07.unary_rules", points=1,
       hint="d exp(a)/da = exp(a) and d log(a)/da = 1/a, each times grad_out.")
def test_exp_and_log_backward_central_differences(sub):
    for name in ("exp_backward", "log_backward"):
        for a, g in [(0.7, 1.0), (2.0, -1.5)]:
            expected = g * _derivative(UNARY_FUNCTIONS[name], a)
            expect_close(run(getattr(sub, name), a, g), expected, rtol=1e-6,
                         what=_("%s(%r, %r)") % (name, a, g))


@check("ch07.unary_rules", points=1, hint="d tanh(a)/da = 1 - tanh(a)**2 (the output squared).")
def test_tanh_backward_central_differences(sub):
    for a, g in [(0.0, 1.0), (0.8, 2.0), (-1.7, -0.5)]:
        expected = g * _derivative(math.tanh, a)
        expect_close(run(sub.tanh_backward, a, g), expected, rtol=1e-6,
                     what=_("tanh_backward(%r, %r)") % (a, g))


@check("ch07.unary_rules", points=1,
       hint="relu passes grad_out through where a > 0 and blocks it (0) where a <= 0.")
def test_relu_backward_both_sides(sub):
    for a, g, expected in [(2.0, 1.5, 1.5), (-0.5, 1.5, 0.0), (0.0, 1.5, 0.0)]:
        expect_close(run(sub.relu_backward, a, g), expected, what=_("relu_backward(%r, %r)") % (a, g))


@check("ch07.unary_rules", points=2, hidden=True)
def test_unary_rules_elementwise_on_arrays(sub):
    rng = np.random.default_rng(72)
    a, g = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    positive = np.abs(a) + 0.1
    expect_close(run(sub.exp_backward, a, g), g * np.exp(a), what=_("exp_backward on an array"))
    expect_close(run(sub.log_backward, positive, g), g / positive, what=_("log_backward on an array"))
    expect_close(run(sub.tanh_backward, a, g), g / np.cosh(a) ** 2, what=_("tanh_backward on an array"))
    expect_close(run(sub.relu_backward, a, g), np.where(a > 0, g, 0.0),
                 what=_("relu_backward on an array"))


# ----------------------------------------------------------------------------- topological order
def _ancestors(parents, output):
    seen, stack = {output}, [output]
    while stack:
        for p in parents[stack.pop()]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _expect_topological(got, parents, output):
    expect_true(isinstance(got, (list, tuple, np.ndarray)),
                _("topological_order should return a list of node numbers, got %s")
                % type(got).__name__, kind="type")
    expect_true(all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got),
                _("topological_order should return node numbers (int), got %r") % (list(got)[:10],),
                kind="type")
    nodes = [int(v) for v in got]
    repeated = sorted(v for v, c in Counter(nodes).items() if c > 1)
    expect_true(not repeated, _("node(s) %s appear more than once: list each node once")
                % repeated[:5])
    needed = _ancestors(parents, output)
    missing = sorted(needed - set(nodes))
    expect_true(not missing, _("node(s) %s are missing: node %d depends on them")
                % (missing[:5], output))
    extra = sorted(set(nodes) - needed)
    expect_true(not extra, _("node(s) %s are listed, but node %d does not depend on them")
                % (extra[:5], output))
    position = {v: i for i, v in enumerate(nodes)}
    for v in nodes:
        for p in parents[v]:
            expect_true(position[p] < position[v], _("node %d comes before its parent %d") % (v, p))


TOPO_HINT = ("Depth-first search with your own stack: push (node, False); when popped unvisited, "
             "mark it, push (node, True), then its parents; append a node when (node, True) pops.")


@check("ch07.topological_order", points=2, hint=TOPO_HINT)
def test_topological_order_small_graph(sub):
    # 0 w, 1 x, 2 = w*x, 3 b, 4 = node 2 + b, 5 = tanh(4), 6 = 2 * x (not used), 7 = node 5 * w
    parents = [[], [], [0, 1], [], [2, 3], [4], [1], [5, 0]]
    _expect_topological(run(sub.topological_order, parents, 7), parents, 7)


@check("ch07.topological_order", points=1, hint="A node that appears twice among the parents "
       "(x * x) or is reached along two paths must still be listed once.")
def test_topological_order_repeated_parents(sub):
    parents = [[], [0, 0], [1, 0]]                    # f = x * x + x
    _expect_topological(run(sub.topological_order, parents, 2), parents, 2)
    parents = [[], [0], [0], [1, 2], [3, 0]]           # a diamond, then the leaf again
    _expect_topological(run(sub.topological_order, parents, 4), parents, 4)


@check("ch07.topological_order", points=1,
       hint="Python stops at about 1000 nested calls: use a list as a stack instead of recursion.")
def test_topological_order_chain_5000_deep(sub):
    parents = [[]] + [[i] for i in range(4999)]       # node i + 1 is computed from node i
    got = run(sub.topological_order, parents, 4999)
    expect_close([int(v) for v in got] if isinstance(got, (list, tuple, np.ndarray)) else got,
                 list(range(5000)), what=_("the order of a chain 0 -> 1 -> ... -> 4999"))


def _random_dag(seed, n):
    rng = np.random.default_rng(seed)
    return [[] if i < 4 else [int(p) for p in rng.integers(0, i, size=rng.integers(1, 4))]
            for i in range(n)]


@check("ch07.topological_order", points=2, hidden=True)
def test_topological_order_random_graphs(sub):
    for seed, n, output in [(73, 60, 45), (74, 40, 39), (75, 25, 3)]:
        parents = _random_dag(seed, n)
        _expect_topological(run(sub.topological_order, parents, output), parents, output)


@check("ch07.topological_order", points=1, hidden=True, timeout=10)
def test_topological_order_many_paths(sub):
    # node i uses nodes i-1 and i-2: the number of paths grows like the Fibonacci numbers
    parents = [[], [0]] + [[i - 1, i - 2] for i in range(2, 3000)]
    _expect_topological(run(sub.topological_order, parents, 2999), parents, 2999)


# ----------------------------------------------------------------------------- backward
def _grad_list(got, n):
    expect_true(isinstance(got, (list, tuple, np.ndarray)) and len(got) == n,
                _("backward should return a list with one gradient per node (%d), got %s")
                % (n, type(got).__name__ if not isinstance(got, (list, tuple, np.ndarray))
                   else "%d item(s)" % len(got)), kind="length")
    expect_true(all(isinstance(v, (int, float, np.integer, np.floating)) for v in got),
                _("backward should return numbers, got %r") % (list(got)[:5],), kind="type")
    return np.array([float(v) for v in got])


def _neuron_case(x, w, b, y):
    """Chapter 6's neuron as a graph, and its gradients by the hand derivation of chapter 6."""
    u = w * x
    z = u + b
    a = 1 / (1 + math.exp(-z))
    r = a - y
    graph = {"parents": [[], [], [0, 1], [], [2, 3], [4], [5], [6]],
             "local": [[], [], [x, w], [], [1.0, 1.0], [a * (1 - a)], [1.0], [2 * r]],
             "output": 7}
    dz = 2 * r * a * (1 - a)
    return graph, np.array([dz * x, dz * w, dz, dz, dz, 2 * r, 2 * r, 1.0])


@check("ch07.backward", points=2, hint="Seed grad[output] = 1, visit the nodes in reverse "
       "topological order and add grad[node] * local to each parent's grad.")
def test_backward_chapter6_neuron(sub):
    graph, expected = _neuron_case(1.5, 0.8, -0.2, 1.0)
    got = _grad_list(run(sub.backward, graph), 8)
    expect_close(got, expected, rtol=1e-9, what=_("the gradients of chapter 6's neuron "
                 "(nodes w, x, u, b, z, a, r, L)"))


@check("ch07.backward", points=1, hint="Add (+=) the contributions: x is used twice by x * x "
       "and once by the addition, so d(x*x + x)/dx = 3 + 3 + 1 = 7 at x = 3.")
def test_backward_accumulates_over_paths(sub):
    graph = {"parents": [[], [0, 0], [1, 0]], "local": [[], [3.0, 3.0], [1.0, 1.0]], "output": 2}
    expect_close(_grad_list(run(sub.backward, graph), 3), np.array([7.0, 1.0, 1.0]),
                 what=_("backward for f = x*x + x at x = 3"))


@check("ch07.backward", points=1, hint="Nodes the output does not depend on (including nodes "
       "after it) get gradient 0.0.")
def test_backward_unused_nodes_get_zero(sub):
    # 0 a, 1 b, 2 = a * b (the output), 3 = 2 * b (not used), 4 = node 3 + a (after the output)
    graph = {"parents": [[], [], [0, 1], [1], [3, 0]],
             "local": [[], [], [-2.0, 0.5], [2.0], [1.0, 1.0]], "output": 2}
    expect_close(_grad_list(run(sub.backward, graph), 5), np.array([-2.0, 0.5, 1.0, 0.0, 0.0]),
                 what=_("backward with output node 2"))


# Random straight-line programs, evaluated here on floats (the trusted reference).
ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "**": operator.pow}
FUNCTIONS = {"exp": math.exp, "log": math.log, "tanh": math.tanh, "relu": lambda t: max(t, 0.0),
             "neg": operator.neg}


def _step_value(op, a, b):
    return ARITHMETIC[op](a, b) if op in ARITHMETIC else FUNCTIONS[op](a)


def _local(op, a, b):
    """Local derivatives of one step with respect to its parents (by the rules, in floats);
    b is the second operand, or the exponent of "**"."""
    if op in ("+", "-"):
        return [1.0, 1.0 if op == "+" else -1.0]
    if op == "*":
        return [b, a]
    if op == "/":
        return [1 / b, -a / b**2]
    if op == "**":
        return [b * a ** (b - 1)]
    return [{"exp": math.exp, "log": lambda t: 1 / t, "tanh": lambda t: 1 - math.tanh(t) ** 2,
             "relu": lambda t: float(t > 0), "neg": lambda t: -1.0}[op](a)]


def _evaluate(program, inputs):
    values = [float(v) for v in inputs]
    for step in program:
        a = values[step[1]]
        b = step[2] if step[0] == "**" else values[step[2]] if len(step) > 2 else None
        values.append(_step_value(step[0], a, b))
    return values


def _safe(program, inputs):
    """Moderate values, denominators and log arguments away from 0, relu away from its kink."""
    try:
        values = _evaluate(program, inputs)
    except (OverflowError, ZeroDivisionError, ValueError, TypeError):
        return False
    if any(isinstance(v, complex) for v in values):
        return False
    for step in program:
        a = values[step[1]]
        if step[0] == "/" and abs(values[step[2]]) < 0.3 or step[0] == "log" and a < 0.3:
            return False
        if step[0] == "relu" and abs(a) < 1e-3 or step[0] == "**" and a < 0.3:
            return False
    return max(abs(v) for v in values) < 100


def _random_program(rng, n_inputs, length):
    binary, unary = ["+", "-", "*", "/"], ["exp", "log", "tanh", "relu", "neg"]
    program = []
    for k in range(length):
        last = n_inputs + k - 1
        i = int(rng.integers(max(0, last - 3), last + 1))       # mostly recent results: depth
        kind = rng.random()
        if kind < 0.45:
            program.append([str(rng.choice(binary)), i, int(rng.integers(0, last + 1))])
        elif kind < 0.55:
            program.append(["**", i, float(rng.choice([2, 3, -1, 0.5]))])
        else:
            program.append([str(rng.choice(unary)), i])
    return program


def _random_programs(seed, count, n_inputs=3, length=10):
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        program = _random_program(rng, n_inputs, length)
        inputs = [float(v) for v in rng.uniform(0.4, 1.6, size=n_inputs) * rng.choice([-1, 1], 3)]
        if _safe(program, inputs):
            found.append((program, inputs))
    return found


def _program_gradient(program, inputs):
    return numerical_gradient(lambda v: _evaluate(program, list(v))[-1], np.array(inputs))


def _as_graph(program, inputs):
    values = _evaluate(program, inputs)
    parents, local = [[] for _unused in inputs], [[] for _unused in inputs]
    for step in program:
        op, a = step[0], values[step[1]]
        if op in ("+", "-", "*", "/"):
            parents.append([step[1], step[2]])
            local.append(_local(op, a, values[step[2]]))
        else:
            parents.append([step[1]])
            local.append(_local(op, a, step[2] if op == "**" else None))
    return {"parents": parents, "local": local, "output": len(values) - 1}


@check("ch07.backward", points=2, hidden=True)
def test_backward_random_programs(sub, ref):
    for program, inputs in _random_programs(76, 5):
        graph = _as_graph(program, inputs)
        got = _grad_list(run(sub.backward, graph), len(graph["parents"]))
        expect_close(got[:len(inputs)], _program_gradient(program, inputs), rtol=1e-5, atol=1e-7,
                     what=_("the gradients of the inputs (central differences)"))
        expect_close(got, np.array(ref.backward(graph), dtype=float), rtol=1e-9, atol=1e-12,
                     what=_("the gradients of all nodes"))


@check("ch07.backward", points=1, hidden=True, timeout=10)
def test_backward_deep_chain(sub):
    n = 4000
    graph = {"parents": [[]] + [[i] for i in range(n - 1)], "local": [[]] + [[1.0001]] * (n - 1),
             "output": n - 1}
    got = _grad_list(run(sub.backward, graph), n)
    expect_close(got[0], 1.0001 ** (n - 1), rtol=1e-9, what=_("the gradient of node 0"))


# ----------------------------------------------------------------------------- Value
VALUE_HINT = ("Each rule adds (+=) grad_out times the local derivative to its parents' .grad, "
              "e.g. self.grad += grad_a; backward() sets self.grad = 1.0 and calls "
              "node._backward(node) in reverse topological order.")


def _neuron_expected(x, w, b, y):
    a = 1 / (1 + math.exp(-(w * x + b)))
    dz = 2 * (a - y) * a * (1 - a)
    return {"loss": (a - y) ** 2, "w": dz * x, "b": dz, "x": dz * w}


@check("ch07.value", points=2, hint="Build z = w * x + b, a = 1 / (1 + (-z).exp()) and "
       "loss = (a - y) ** 2 from Values, call loss.backward(), return the floats.")
def test_value_neuron_chapter6(sub):
    got = run(sub.neuron_gradients, 1.5, 0.8, -0.2, 1.0)
    expect_close(got, _neuron_expected(1.5, 0.8, -0.2, 1.0), rtol=1e-9,
                 what=_("neuron_gradients(1.5, 0.8, -0.2, 1.0)"))


SINGLE_OPS = [([["*", 0, 1]], [1.5, -2.0]), ([["/", 0, 1]], [1.5, -2.0]),
              ([["**", 0, 3]], [1.5]), ([["**", 0, -0.5]], [2.0]), ([["exp", 0]], [0.7]),
              ([["log", 0]], [2.5]), ([["tanh", 0]], [-0.6]), ([["relu", 0]], [1.2]),
              ([["relu", 0]], [-1.2]), ([["-", 0, 1]], [1.5, -2.0]), ([["neg", 0]], [0.4])]


def _run_program(sub, program, inputs):
    """run_program's result, checked to be the plain data the given helper returns."""
    got = run(sub.run_program, program, inputs)
    expect_true(isinstance(got, dict) and isinstance(got.get("grads"), list)
                and len(got["grads"]) == len(inputs),
                _("run_program returned %r instead of {'value': ..., 'grads': [...]}: is .grad a "
                "number in every Value?") % (got,), kind="type")
    return got


def _expect_program(sub, program, inputs, rtol=1e-6):
    got = _run_program(sub, program, inputs)
    expect_close(got["value"], _evaluate(program, inputs)[-1], rtol=1e-9,
                 what=_("the value of program %s on inputs %s") % (program, inputs))
    expect_close(np.array(got["grads"], dtype=float), _program_gradient(program, inputs),
                 rtol=rtol, atol=1e-7,
                 what=_("the gradients of program %s on inputs %s") % (program, inputs))


@check("ch07.value", points=3, hint=VALUE_HINT)
def test_value_each_operation(sub):
    for program, inputs in SINGLE_OPS:
        _expect_program(sub, program, inputs)


@check("ch07.value", points=1, hint="Add (+=) in every rule: in x * x the Value x is both "
       "factors, so both contributions must reach x.grad.")
def test_value_used_twice_accumulates(sub):
    got = _run_program(sub, [["*", 0, 0], ["+", 1, 0]], [3.0])
    expect_close(got["grads"], [7.0], what=_("d(x*x + x)/dx at x = 3"))


@check("ch07.value", points=1, hint="backward() must not be recursive: a chain of 3,000 "
       "operations is deeper than Python's recursion limit. Use a list as a stack.")
def test_value_deep_chain(sub):
    program = [["+", k, 0] for k in range(3000)]      # result k + 1 = result k + x
    got = _run_program(sub, program, [0.5])
    expect_close(got["grads"], [3001.0], what=_("the gradient after 3,000 additions of x"))


@check("ch07.value", points=2, hidden=True)
def test_value_random_programs(sub):
    for program, inputs in _random_programs(77, 6):
        _expect_program(sub, program, inputs, rtol=1e-5)


@check("ch07.value", points=1, hidden=True)
def test_value_neuron_other_values(sub):
    for args in [(-0.7, 2.0, 0.3, 0.0), (2.5, -1.1, 0.9, 1.0)]:
        got = run(sub.neuron_gradients, *args)
        expected = {"loss": _neuron_expected(*args)["loss"]}
        for k, name in enumerate(("x", "w", "b")):
            def loss_of(t, k=k):
                changed = list(args)
                changed[k] = t
                return _neuron_expected(*changed)["loss"]
            expected[name] = _derivative(loss_of, args[k])
        expect_close(got, expected, rtol=1e-6, atol=1e-9, what=_("neuron_gradients%s") % (args,))


# ----------------------------------------------------------------------------- array rules
def _probe_gradients(forward, arrays, G):
    """Central differences of L = sum(G * forward(*arrays)) with respect to each array."""
    out = []
    for k in range(len(arrays)):
        def f(v, k=k):
            args = list(arrays)
            args[k] = v
            return float(np.sum(G * forward(*args)))
        out.append(numerical_gradient(f, np.array(arrays[k], dtype=float)))
    return out


def _matmul_case(seed, n, k, m):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)), rng.normal(size=(k, m)), rng.normal(size=(n, m))


MATMUL_HINT = "dA = G @ B.T and dB = A.T @ G: each gradient has the shape of its matrix."


@check("ch07.matmul_backward", points=2, hint=MATMUL_HINT)
def test_matmul_backward_central_differences(sub):
    A, B, G = _matmul_case(78, 2, 3, 4)
    got = _tuple_of(run(sub.matmul_backward, A, B, G), 2, "matmul_backward")
    expected = _probe_gradients(lambda a, b: a @ b, [A, B], G)
    expect_gradients(dict(zip("AB", got)), dict(zip("AB", expected)), tol=1e-7)


@check("ch07.matmul_backward", points=1, hint=MATMUL_HINT)
def test_matmul_backward_shapes(sub):
    A, B, G = _matmul_case(79, 4, 2, 3)
    dA, dB = _tuple_of(run(sub.matmul_backward, A, B, G), 2, "matmul_backward")
    expect_close(dA, G @ B.T, what=_("dA for A (4, 2), B (2, 3)"))
    expect_close(dB, A.T @ G, what=_("dB for A (4, 2), B (2, 3)"))


@check("ch07.matmul_backward", points=2, hidden=True)
def test_matmul_backward_other_shapes(sub):
    for seed, shape in [(80, (5, 4, 7)), (81, (1, 6, 1)), (82, (3, 1, 2))]:
        A, B, G = _matmul_case(seed, *shape)
        got = _tuple_of(run(sub.matmul_backward, A, B, G), 2, "matmul_backward")
        expected = _probe_gradients(lambda a, b: a @ b, [A, B], G)
        expect_gradients(dict(zip("AB", got)), dict(zip("AB", expected)), tol=1e-7)


# ----------------------------------------------------------------------------- broadcasting
def _broadcast_gradient(grad, shape):
    """Gradient of sum(grad * broadcast_to(x, grad.shape)) with respect to x, by central
    differences: what unbroadcast must return."""
    x = np.zeros(shape)
    return numerical_gradient(lambda v: float(np.sum(grad * np.broadcast_to(v, grad.shape))), x)


UNBROADCAST_HINT = ("Sum over the leading axes that broadcasting added (grad.ndim - len(shape) "
                    "of them), then with keepdims=True over every axis where shape has length 1.")


@check("ch07.add_backward", points=2, hint=UNBROADCAST_HINT)
def test_unbroadcast_examples(sub):
    grad = np.arange(15.0).reshape(5, 3)
    for shape, expected in [((3,), grad.sum(axis=0)), ((1, 3), grad.sum(axis=0, keepdims=True)),
                            ((5, 1), grad.sum(axis=1, keepdims=True)), ((5, 3), grad),
                            ((), float(grad.sum()))]:
        expect_close(run(sub.unbroadcast, grad, shape), expected,
                     what=_("unbroadcast(grad of shape (5, 3), %s)") % (shape,))


@check("ch07.add_backward", points=2, hint="dA = unbroadcast(G, A.shape), dB = "
       "unbroadcast(G, B.shape): a bias added to every row gets the sum over the rows.")
def test_add_backward_bias_central_differences(sub):
    rng = np.random.default_rng(83)
    A, B, G = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    got = _tuple_of(run(sub.add_backward, A, B, G), 2, "add_backward")
    expected = _probe_gradients(lambda a, b: a + b, [A, B], G)
    expect_gradients(dict(zip("AB", got)), dict(zip("AB", expected)), tol=1e-7)


@check("ch07.add_backward", points=1, hidden=True)
def test_unbroadcast_other_shapes(sub):
    rng = np.random.default_rng(84)
    for big, shape in [((4, 2, 5, 3), (2, 1, 3)), ((2, 3, 4), (1, 1)), ((6,), ()),
                       ((3, 1, 4), (3, 1, 1)), ((2, 2), (1, 2))]:
        grad = rng.normal(size=big)
        expected = _broadcast_gradient(grad, shape)
        expect_close(run(sub.unbroadcast, grad, shape), expected if shape else float(expected),
                     rtol=1e-6, atol=1e-8, what=_("unbroadcast to %s") % (shape,))


@check("ch07.add_backward", points=2, hidden=True)
def test_add_backward_other_shapes(sub):
    rng = np.random.default_rng(85)
    for shape_a, shape_b in [((4, 1), (1, 3)), ((2, 4, 3), (4, 1)), ((3, 2), (3, 2))]:
        A, B = rng.normal(size=shape_a), rng.normal(size=shape_b)
        G = rng.normal(size=np.broadcast_shapes(shape_a, shape_b))
        got = _tuple_of(run(sub.add_backward, A, B, G), 2, "add_backward")
        expected = _probe_gradients(lambda a, b: a + b, [A, B], G)
        expect_gradients(dict(zip("AB", got)), dict(zip("AB", expected)), tol=1e-7)


# ----------------------------------------------------------------- Hessian-vector product (challenge)
HVP_NAMES = ("W1", "b1", "W2", "b2")
HVP_HINT = ("Give every array of the forward and the backward pass a tangent (its derivative along "
            "the direction) and apply the product rule line by line: Z1' = X V1 + c1, "
            "H' = (1 - H**2) * Z1', Z2' = H' W2 + H V2 + c2, P' = P * (Z2' - sum(P * Z2', axis=1)), "
            "then (P - Y)/n, dH = G2 W2^T, G1 = dH * (1 - H**2) and the gradients, each with the "
            "tangents of all its factors.")


def _hvp_case(seed, n, d, h, k, scale=1.0):
    """Inputs, one-hot targets, parameters and a direction for a d-h-k tanh/softmax network."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    shapes = {"W1": (d, h), "b1": (h,), "W2": (h, k), "b2": (k,)}
    params = {name: scale * rng.normal(size=shape) for name, shape in shapes.items()}
    direction = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    return X, Y, params, direction


def _shifted(params, direction, t):
    return {name: params[name] + t * direction[name] for name in HVP_NAMES}


def _mlp_loss(X, Y, params):
    """Mean cross-entropy of softmax(tanh(X W1 + b1) W2 + b2), written here in numpy."""
    hidden = np.tanh(X @ params["W1"] + params["b1"])
    logits = hidden @ params["W2"] + params["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.sum(Y * log_p) / X.shape[0])


def _mlp_gradient(X, Y, params):
    """The gradient by nnlib's Tensor engine (trusted, tested in tests/nnlib)."""
    from nnlib.autodiff import Tensor, softmax_cross_entropy
    leaves = {name: Tensor(params[name]) for name in HVP_NAMES}
    hidden = (Tensor(X) @ leaves["W1"] + leaves["b1"]).tanh()
    softmax_cross_entropy(hidden @ leaves["W2"] + leaves["b2"], Y).backward()
    return {name: leaves[name].grad for name in HVP_NAMES}


def _hvp_numeric(X, Y, params, direction, eps=1e-5):
    """H v by central differences of the gradient along v: (g(θ + εv) - g(θ - εv)) / 2ε."""
    up = _mlp_gradient(X, Y, _shifted(params, direction, eps))
    down = _mlp_gradient(X, Y, _shifted(params, direction, -eps))
    return {name: (up[name] - down[name]) / (2 * eps) for name in HVP_NAMES}


def _hvp(sub, X, Y, params, direction):
    """The learner's H v, checked to be a dict of arrays shaped like the parameters."""
    got = run(sub.hessian_vector_product, X, Y, params, direction)
    expect_true(isinstance(got, dict), _("hessian_vector_product should return a dict with keys %s, "
                "got %s") % (list(HVP_NAMES), type(got).__name__), kind="type")
    missing = [name for name in HVP_NAMES if name not in got]
    expect_true(not missing, _("the dict returned lacks the key(s) %s") % missing, kind="keys")
    for name in HVP_NAMES:
        shape = np.shape(got[name])
        expect_true(shape == params[name].shape, _("(Hv)_%s has shape %s, expected %s, the shape "
                    "of %s") % (name, shape, params[name].shape, name), kind="shape")
    return got


def _inner(first, second):
    """The dot product of two parameter vectors stored as dicts of arrays."""
    return float(sum(np.sum(np.asarray(first[name]) * second[name]) for name in HVP_NAMES))


@check("ch07.hessian_vector_product", points=2, hint=HVP_HINT)
def test_hvp_central_differences_of_the_gradient(sub):
    X, Y, params, direction = _hvp_case(86, 4, 3, 5, 3)
    expect_gradients(_hvp(sub, X, Y, params, direction), _hvp_numeric(X, Y, params, direction),
                     tol=1e-6, prefix="(Hv)_", what=_("H v"))


@check("ch07.hessian_vector_product", points=1, hint="A Hessian is symmetric, so u·(H v) must "
       "equal v·(H u), up to rounding. If it does not, a product-rule term is missing, typically "
       "one of the cross terms H'^T G2 or G2 V2^T. Finite differences of the gradient are not "
       "exact enough for this check: differentiate the backward pass. " + HVP_HINT)
def test_hvp_symmetry(sub):
    X, Y, params, u = _hvp_case(87, 5, 2, 3, 4)
    v = _hvp_case(88, 5, 2, 3, 4)[3]
    u_Hv = _inner(u, _hvp(sub, X, Y, params, v))
    v_Hu = _inner(v, _hvp(sub, X, Y, params, u))
    expect_close(u_Hv, v_Hu, rtol=1e-11, atol=1e-14, what=_("u·(H v) against v·(H u)"))


@check("ch07.hessian_vector_product", points=1, hidden=True)
def test_hvp_other_shapes(sub):
    for seed, shape, scale in [(89, (1, 4, 2, 2), 1.0), (90, (9, 2, 6, 5), 0.3),
                               (91, (6, 5, 3, 7), 2.0)]:
        X, Y, params, direction = _hvp_case(seed, *shape, scale=scale)
        expect_gradients(_hvp(sub, X, Y, params, direction),
                         _hvp_numeric(X, Y, params, direction), tol=1e-6, prefix="(Hv)_",
                         what=_("H v for a %d-%d-%d network and %d samples") % (shape[1:] + shape[:1]))


@check("ch07.hessian_vector_product", points=1, hidden=True)
def test_hvp_curvature_from_the_loss_and_linearity(sub):
    X, Y, params, v = _hvp_case(92, 6, 3, 4, 3)
    u = _hvp_case(93, 6, 3, 4, 3)[3]
    eps = 1e-4        # v·(H v) from the loss alone: (L(θ + εv) - 2 L(θ) + L(θ - εv)) / ε²
    curvature = (_mlp_loss(X, Y, _shifted(params, v, eps)) - 2 * _mlp_loss(X, Y, params)
                 + _mlp_loss(X, Y, _shifted(params, v, -eps))) / eps**2
    Hv = _hvp(sub, X, Y, params, v)
    expect_close(_inner(v, Hv), curvature, rtol=1e-5, atol=1e-8,
                 what=_("v·(H v) against second differences of the loss"))
    Hu = _hvp(sub, X, Y, params, u)
    combined = _hvp(sub, X, Y, params, {name: 2 * u[name] - 3 * v[name] for name in HVP_NAMES})
    expect_gradients(combined, {name: 2 * Hu[name] - 3 * np.asarray(Hv[name])
                                for name in HVP_NAMES}, tol=1e-9, prefix="(H(2u - 3v))_",
                     what=_("H (2u - 3v) against 2 Hu - 3 Hv"))
