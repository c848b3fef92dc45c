"""grader.diagnosis and the verdicts that use it: each recogniser names its mistake, and only it."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import KIND_TEXT, CheckFailed, LearnerError, compare, expect_raises
from grader.diagnosis import diagnose
from grader.verdict import Status, classify, learner_message


@pytest.mark.parametrize("got, expected, inputs, label", [
    # X @ w without the scalar bias b = 3: every entry is off by -b
    (np.array([-1.5, 2.0]), np.array([1.5, 5.0]), (np.ones((2, 2)), np.ones(2), 3.0),
     "missing or wrong term"),
    # (grad_b, grad_a) returned for (grad_a, grad_b)
    ((3.0, -4.5), (-4.5, 3.0), (), "results in the wrong order"),
    ((np.ones((2, 3)), np.zeros(4)), (np.zeros(4), np.ones((2, 3))), (),
     "results in the wrong order"),
    # a factor 1/2 seen on only two non-zero values
    (np.array([[1 / 6], [0.0], [-1 / 3]]), np.array([[1 / 3], [0.0], [-2 / 3]]), (),
     "constant factor"),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), -np.array([[1.0, 2.0], [3.0, 4.0]]), (), "sign error"),
])
def test_recognised_mistakes(got, expected, inputs, label):
    found = diagnose(got, expected, inputs)
    assert found is not None and found.label == label, found


@pytest.mark.parametrize("got, expected, inputs", [
    # two values in the ratio 2 log 2: a chance ratio, not a missing factor
    (np.array([0.6931, 0.6931]), np.array([0.5, 0.5]), ()),
    # items in their places, one of them wrong: not a swap
    ((1.0, 5.0), (1.0, 2.0), ()),
    # a scalar argument that does not explain the difference
    (np.array([1.0, 2.0]), np.array([1.5, 2.7]), (7.0,)),
    (np.array([1.0, 2.0]), np.array([8.0, 9.5]), (7.0,)),
    # all zeros where two values were expected
    (np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 2.0]), ()),
])
def test_no_diagnosis_from_chance(got, expected, inputs):
    found = diagnose(got, expected, inputs)
    assert found is None or found.label not in ("constant factor", "results in the wrong order",
                                                "missing or wrong term"), found


def test_a_math_function_on_an_array_is_named():
    error = LearnerError("exp_backward", "TypeError",
                         "only 0-dimensional arrays can be converted to Python scalars", "")
    verdict = classify(error)
    assert verdict.status is Status.ERROR
    assert "np.exp" in learner_message(verdict)
    assert "math function" in learner_message(verdict, hidden_number=1)


def test_a_missing_error_says_so_in_hidden_feedback():
    def lenient(x):
        return x

    with pytest.raises(CheckFailed) as caught:
        expect_raises(lenient, np.ones(3), what="a 1-D x")
    assert caught.value.kind == "raises"
    assert KIND_TEXT["raises"] in learner_message(classify(caught.value), hidden_number=2)


def test_expect_raises_can_require_the_values_in_the_message():
    def vague(x):
        raise ValueError("bad shapes")

    def clear(x):
        raise ValueError("X has 3 channels but the kernels expect 2")

    expect_raises(clear, 1, naming=("3", "2"))
    with pytest.raises(CheckFailed, match="does not name 3, 2"):
        expect_raises(vague, 1, naming=("3", "2"))


def test_a_numpy_bool_is_not_a_python_bool():
    assert compare(np.True_, True)[0] == "type"
    assert compare(True, True) is None
    assert compare(np.True_, True, dtype="any") is None
    assert compare(np.False_, True)[0] == "values"
