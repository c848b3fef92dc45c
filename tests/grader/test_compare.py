"""Comparison order (None, type, shape, dtype, nan/inf, values) and messages."""
import numpy as np
import pytest

from grader.checks import CheckFailed, compare, expect_gradients, expect_raises, numerical_gradient, run
from grader._child import Unsupported

E = np.array([0.5, 0.25, 0.125])


@pytest.mark.parametrize("got, kind, text", [
    (None, "none", "forget `return`"),
    ([0.5, 0.25, 0.125], "type", "numpy array"),
    (Unsupported("mymod.AlwaysEqual"), "type", "AlwaysEqual"),
    (E.reshape(-1, 1), "shape", "extra axis"),
    (E[:2], "shape", "expected (3,)"),
    (np.array([0, 0, 0]), "dtype", "integer"),
    (np.array([0.5, np.nan, 0.125]), "nan", "NaN"),
    (np.array([0.5, 0.25, 0.2]), "values", "index (2,)"),
])
def test_compare_reports_first_problem(got, kind, text):
    r = compare(got, E)
    assert r is not None and r[0] == kind and text in r[1], r


def test_compare_order_shape_before_dtype_before_values():
    assert compare(np.zeros((3, 1), dtype=int), E)[0] == "shape"
    assert compare(np.zeros(3, dtype=np.float32), E)[0] == "dtype"


def test_compare_tolerances_are_explicit():
    assert compare(E * (1 + 1e-9), E) is None
    assert compare(E * (1 + 1e-5), E) is not None
    assert compare(E * (1 + 1e-5), E, rtol=1e-4) is None


def test_compare_containers():
    assert compare((E, 1.0), (E, 1.0)) is None
    assert compare({"a": E}, {"b": E})[0] == "keys"
    assert compare([E], (E, E))[0] == "length"
    assert compare(2.0, 2.0 + 1e-3)[0] == "values"
    assert compare(float("nan"), 1.0)[0] == "nan"


def test_run_detects_in_place_mutation():
    def bad(z):
        z[0] = 99.0
        return z
    with pytest.raises(CheckFailed) as e:
        run(bad, np.array([1.0, 2.0]))
    assert e.value.kind == "mutation"


def test_gradients_message_per_parameter():
    exp = {"W2": np.ones((2, 2)), "b2": np.ones(2)}
    with pytest.raises(CheckFailed) as e:
        expect_gradients({"W2": np.ones((2, 2)) * 1.5, "b2": np.ones(2)}, exp)
    assert "dW2 wrong (rel. error" in str(e.value) and "db2 ok" in str(e.value)


def test_numerical_gradient_of_a_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda v: float(np.sum(v ** 2)), x.copy())
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)


def test_expect_raises_wants_exactly_the_named_error():
    def strict(x):
        if x.ndim != 2:
            raise ValueError("x must be 2-D")
        return x

    def lenient(x):
        return x

    def wrong_error(x):
        raise TypeError("not an array")

    expect_raises(strict, np.ones(3), what="a 1-D x")                    # passes
    with pytest.raises(CheckFailed, match=r"lenient should raise ValueError for a 1-D x, but it "
                                          r"returned an array of shape \(3,\)"):
        expect_raises(lenient, np.ones(3), what="a 1-D x")
    with pytest.raises(CheckFailed, match="wrong_error should raise ValueError .* raised TypeError"):
        expect_raises(wrong_error, np.ones(3), what="a 1-D x")


def test_one_implementation_of_the_gradient_helpers():
    """The grader's checks use nnlib's gradient checking, not a copy with other floors."""
    import nnlib.gradcheck
    import grader.checks

    assert grader.checks.relative_error is nnlib.gradcheck.relative_error
    assert grader.checks.numerical_gradient is nnlib.gradcheck.numerical_gradient
