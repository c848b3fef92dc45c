"""Recognise a learner's common mistakes from what a check compared. Pure; used by the verdict.

A failed :func:`~grader.checks.expect_close` or :func:`~grader.checks.expect_gradients` keeps
what the learner's function returned (``got``), the expected value and the call's inputs.
:func:`diagnose` compares ``got`` with transformations of the expected value (its negative,
transpose, reversal, a constant factor or offset, a shift by one) and with the inputs, and names
the mistake that explains the difference: a sign error, a transposed result, a missing
``return``, NaN from an overflow, a missing term, ... The grader and the self-check both call it
through :func:`grader.verdict.classify`, so a learner reads the same diagnosis in both.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .i18n import _


@dataclass(frozen=True)
class Diagnosis:
    """A recognised mistake.

    Attributes
    ----------
    label : str
        A few words, e.g. ``"sign error"``: shown by hidden checks, and used to give one
        diagnosis when several checks fail for the same reason.
    text : str
        What a public check shows instead of its generic hint.
    """

    label: str
    text: str


def _float_array(value) -> np.ndarray | None:
    """``value`` as a float array when it is numeric data, else None."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.asarray(value, dtype=float)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(float)
    return None


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=1e-6,
                                                            atol=1e-9))


def first_difference(got, expected):
    """The first pair (got, expected) of arrays or numbers that differ, walking lists and dicts.

    Returns
    -------
    tuple of (object, object, str)
        The two values and where they are (``"[2]"``, ``"['W1']"``, or ``""`` at the top).
    """
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in expected:
            if key in got:
                inner = first_difference(got[key], expected[key])
                if inner is not None:
                    return inner[0], inner[1], f"[{key!r}]{inner[2]}"
        return None
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        for position, (got_item, expected_item) in enumerate(zip(got, expected)):
            inner = first_difference(got_item, expected_item)
            if inner is not None:
                return inner[0], inner[1], f"[{position}]{inner[2]}"
        return None
    got_array, expected_array = _float_array(got), _float_array(expected)
    if got_array is not None and expected_array is not None and _close(got_array, expected_array):
        return None
    return got, expected, ""


# --------------------------------------------------------------------------- recognisers
def _missing_return(got, expected, inputs):
    if got is None and expected is not None:
        return Diagnosis(_("missing return"), _(
            "the function returned None: the last line needs `return ...` (a function without "
            "`return` gives None)"))
    return None


def _integer_result(got, expected, inputs):
    got_kind = np.asarray(got).dtype.kind if isinstance(got, (np.ndarray, np.generic, int)) else ""
    expected_kind = np.asarray(expected).dtype.kind if _float_array(expected) is not None else ""
    if got_kind in ("i", "u") and expected_kind == "f" and not isinstance(got, bool):
        return Diagnosis(_("integer result"), _(
            "integer results where floats are expected: use float arithmetic (1.0, not 1) or "
            ".astype(float)"))
    return None


def _overflow(got, expected, inputs):
    got_array, expected_array = _float_array(got), _float_array(expected)
    if got_array is None or expected_array is None or got_array.shape != expected_array.shape:
        return None
    if np.any(~np.isfinite(got_array) & np.isfinite(expected_array)):
        return Diagnosis(_("NaN from overflow"), _(
            "NaN or inf where the expected values are finite: an overflow (np.exp of a large "
            "number is inf, and inf / inf or inf - inf is NaN) or a division by zero. Rewrite the "
            "formula so no intermediate value gets huge (e.g. subtract the maximum before "
            "np.exp, or use exp(z) / (1 + exp(z)) for z < 0)"))
    return None


def _shape_mistake(got, expected, inputs):
    got_array, expected_array = _float_array(got), _float_array(expected)
    if got_array is None or expected_array is None or got_array.shape == expected_array.shape:
        return None
    got_shape, expected_shape = got_array.shape, expected_array.shape
    if got_array.ndim == 2 and got_shape == expected_shape[::-1] and _close(got_array.T,
                                                                            expected_array):
        return Diagnosis(_("transposed result"), _(
            "your result is the transpose of the expected one (shape {got} instead of "
            "{expected}): rows and columns are swapped; keep samples in rows, e.g. X @ W "
            "rather than W @ X or (...).T").format(got=got_shape, expected=expected_shape))
    if got_array.size == expected_array.size and got_array.ndim != expected_array.ndim:
        if _close(got_array.reshape(expected_shape), expected_array):
            return Diagnosis(_("missing keepdims"), _(
                "the values are right but the shape is {got} instead of {expected}: a "
                "reduction needs keepdims=True (or a reshape) to keep the axis").format(
                got=got_shape, expected=expected_shape))
    if sorted(got_shape) == sorted(expected_shape):
        return Diagnosis(_("axes swapped"), _(
            "shape {got} instead of {expected}: two axes are swapped (a transpose, or the wrong "
            "axis order)").format(got=got_shape, expected=expected_shape))
    if got_array.ndim == expected_array.ndim - 1 or got_array.ndim == expected_array.ndim + 1:
        return Diagnosis(_("wrong axis"), _(
            "shape {got} instead of {expected}: an axis was reduced that should be kept, or "
            "kept that should be reduced (check axis= and keepdims=)").format(
            got=got_shape, expected=expected_shape))
    return None


def _same_shape(got, expected):
    got_array, expected_array = _float_array(got), _float_array(expected)
    if (got_array is None or expected_array is None or got_array.shape != expected_array.shape
            or not np.all(np.isfinite(got_array)) or not np.all(np.isfinite(expected_array))):
        return None
    return got_array, expected_array


def _returned_input(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None:
        return None
    for value in inputs:
        array = _float_array(value)
        if array is not None and array.size > 1 and _close(pair[0], array):
            return Diagnosis(_("returned the input"), _(
                "your function returns its input unchanged: compute a new array and return "
                "that (e.g. `out = ...; return out`)"))
    return None


def _input_term(got, expected, inputs):
    """got - expected is a multiple of one argument: that term is missing, doubled or flipped."""
    pair = _same_shape(got, expected)
    if pair is None or pair[0].size < 2:
        return None
    difference = pair[0] - pair[1]
    for position, value in enumerate(inputs, 1):
        array = _float_array(value)
        if array is None or not np.all(np.isfinite(array)):
            continue
        if array.size == 1:
            found = _scalar_term(difference, float(array.ravel()[0]), position)
            if found is not None:
                return found
            continue
        try:
            term = np.broadcast_to(array, difference.shape)
        except ValueError:
            continue
        usable = np.abs(term) > 1e-12
        if usable.sum() < 2:
            continue
        factor = float(np.median(difference[usable] / term[usable]))
        if abs(factor) > 1e-9 and _close(difference, factor * term):
            what = (_("is missing") if abs(factor + 1) < 1e-6 else _("is counted twice")
                    if abs(factor - 1) < 1e-6 else _("has the wrong sign or factor"))
            return Diagnosis(_("missing or wrong term"), _(
                "your result differs from the expected one by {factor:.4g} times argument "
                "{position} of the call: the term with that argument {what} (e.g. the bias, "
                "or + where - belongs)").format(factor=factor, position=position, what=what))
    return None


def _scalar_term(difference: np.ndarray, value: float, position: int) -> Diagnosis | None:
    """Every entry is off by -1, +1 or -2 times a number the call received (e.g. the bias)."""
    if abs(value) < 1e-12 or not np.allclose(difference, difference.flat[0], rtol=1e-9,
                                             atol=1e-12):
        return None
    for factor, what in ((-1.0, _("is missing")), (1.0, _("is counted twice")),
                         (-2.0, _("has the wrong sign"))):
        if np.isclose(difference.flat[0], factor * value, rtol=1e-9, atol=1e-12):
            return Diagnosis(_("missing or wrong term"), _(
                "every value differs from the expected one by {factor:+g} times argument "
                "{position} of the call ({value:.4g}): the term with that argument {what} "
                "(e.g. the bias, or + where - belongs)").format(
                factor=factor, position=position, value=value, what=what))
    return None


def _sign(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or not np.any(np.abs(pair[1]) > 1e-9):
        return None
    if _close(pair[0], -pair[1]):
        return Diagnosis(_("sign error"), _(
            "a sign error: your values are the negatives of the expected ones. Check each minus "
            "sign (e.g. exp(-z) vs exp(z), (p - y) vs (y - p), w - lr * g vs w + lr * g)"))
    return None


def _complement(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[1].min() < 0 or pair[1].max() > 1 or _close(pair[1], 1 - pair[1]):
        return None
    if _close(pair[0], 1 - pair[1]):
        return Diagnosis(_("sign error"), _(
            "your values are 1 minus the expected ones, like sigmoid(-z) instead of sigmoid(z): "
            "a sign error in the exponent (exp(z) where exp(-z) belongs) or p and 1 - p "
            "swapped"))
    return None


def _normalised_axis(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].ndim < 2:
        return None
    got_array, expected_array = pair
    sums_to_one = [axis for axis in range(got_array.ndim)
                   if np.allclose(expected_array.sum(axis=axis), 1.0)]
    got_axes = [axis for axis in range(got_array.ndim)
                if np.allclose(got_array.sum(axis=axis), 1.0)]
    if sums_to_one and got_axes and not set(sums_to_one) & set(got_axes):
        return Diagnosis(_("wrong axis"), _(
            "your values sum to 1 along axis {got}, the expected ones along axis {expected}: "
            "normalise over the other axis (axis=-1 works on each row; keepdims=True keeps the "
            "shape for broadcasting)").format(got=got_axes[0], expected=sums_to_one[-1]))
    return None


def _transposed_square(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].ndim != 2 or pair[0].shape[0] != pair[0].shape[1]:
        return None
    if _close(pair[0], pair[1].T) and not _close(pair[1], pair[1].T):
        return Diagnosis(_("transposed result"), _(
            "your result is the transpose of the expected one: rows and columns are swapped "
            "(e.g. W @ X instead of X @ W, or .T in the wrong place)"))
    return None


def _reversed(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].size < 2:
        return None
    got_array, expected_array = pair
    for axis in (None, *range(expected_array.ndim)):
        flipped = np.flip(expected_array, axis=axis)
        if _close(got_array, flipped) and not _close(expected_array, flipped):
            text = (_("your values are the expected ones in reverse order: an index runs "
                      "backwards (e.g. a flipped kernel, or [::-1]), or padding went on the wrong "
                      "side") if axis is None else
                    _("your values are the expected ones in reverse order along axis {axis}: an "
                      "index runs backwards (e.g. a flipped kernel, or [::-1]), or padding went "
                      "on the wrong side").format(axis=axis))
            return Diagnosis(_("reversed order"), text)
    return None


def _shifted(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].ndim == 0:
        return None
    got_array, expected_array = pair
    for axis in range(expected_array.ndim):
        length = expected_array.shape[axis]
        if length < 3:
            continue
        head = [slice(None)] * expected_array.ndim
        tail = list(head)
        head[axis], tail[axis] = slice(1, None), slice(None, -1)
        for one, other in ((got_array[tuple(head)], expected_array[tuple(tail)]),
                           (got_array[tuple(tail)], expected_array[tuple(head)])):
            if _close(one, other) and not _close(expected_array[tuple(head)],
                                                 expected_array[tuple(tail)]):
                return Diagnosis(_("off by one"), _(
                    "your values are the expected ones shifted by one position along axis "
                    "{axis}: an off-by-one in an index or a range").format(axis=axis))
    return None


def _whole_or_reciprocal(factor: float) -> bool:
    """``factor`` is a whole number or one over a whole number (2, 3, 1/2, -1/4, ...)."""
    if factor == 0 or not np.isfinite(factor):
        return False
    return any(abs(value) >= 2 and abs(value - round(value)) < 1e-6
               for value in (factor, 1 / factor))


def _constant_factor(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].size < 2:
        return None
    got_array, expected_array = pair
    usable = np.abs(expected_array) > 1e-9 * max(1.0, float(np.abs(expected_array).max()))
    if usable.sum() < 2 or np.any(np.abs(got_array[~usable]) > 1e-9):
        return None
    ratios = got_array[usable] / expected_array[usable]
    factor = float(np.median(ratios))
    if abs(factor - 1) < 1e-6 or not np.allclose(ratios, factor, rtol=1e-5, atol=1e-12):
        return None
    if usable.sum() == 2 and not _whole_or_reciprocal(factor):
        return None  # two values are too few to tell a factor from chance, unless it is 2, 1/3, ...
    return Diagnosis(_("constant factor"), _(
        "every value is {factor:.4g} times the expected one: a constant factor is missing or "
        "extra (a 1/n or a mean instead of a sum, a factor 2 or 1/2, a learning rate, a bias "
        "correction?)").format(factor=factor))


def _constant_offset(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None or pair[0].size < 3:
        return None
    differences = pair[0] - pair[1]
    offset = float(np.median(differences))
    scale = max(1.0, float(np.abs(pair[1]).max()))
    if abs(offset) < 1e-9 * scale or not np.allclose(differences, offset, rtol=1e-6,
                                                     atol=1e-9 * scale):
        return None
    return Diagnosis(_("constant offset"), _(
        "every value is off by the same amount ({offset:+.4g}): a term is missing or extra "
        "(a bias, an epsilon, a + 1?)").format(offset=offset))


def _precision(got, expected, inputs):
    pair = _same_shape(got, expected)
    if pair is None:
        return None
    if np.allclose(pair[0], pair[1], rtol=1e-4, atol=1e-7):
        return Diagnosis(_("slightly off"), _(
            "the values agree to about 4-6 digits only: float32 arithmetic somewhere, a "
            "rounded constant, an epsilon in the wrong place, or a numerical derivative "
            "where the exact formula is expected?"))
    return None


RECOGNISERS: tuple[Callable, ...] = (
    _missing_return, _integer_result, _overflow, _shape_mistake, _returned_input, _sign,
    _complement, _normalised_axis, _input_term, _transposed_square, _reversed, _shifted,
    _constant_factor, _constant_offset, _precision,
)
"""Tried in this order; the first one that recognises the difference names the mistake."""


def _swapped_results(got, expected) -> Diagnosis | None:
    """A tuple of results whose items are right but in another order, e.g. (dB, dA)."""
    if not (isinstance(got, (list, tuple)) and isinstance(expected, (list, tuple))
            and 2 <= len(got) == len(expected) <= 6):
        return None
    try:
        with np.errstate(all="ignore"):
            if first_difference(list(got), list(expected)) is None:
                return None
            for position, item in enumerate(got):
                matches = [other for other, wanted in enumerate(expected)
                           if first_difference(item, wanted) is None]
                if not matches or (position in matches and len(matches) == 1):
                    return None
    except (ValueError, TypeError):
        return None
    return Diagnosis(_("results in the wrong order"), _(
        "each returned item is right, but they are in the wrong order (swapped): return them "
        "in the order the exercise asks for, e.g. (grad_a, grad_b)"))


def diagnose(got, expected, inputs=()) -> Diagnosis | None:
    """Name the mistake that turns ``expected`` into ``got``, if a common one does.

    Parameters
    ----------
    got : object
        What the learner's function returned (plain data).
    expected : object
        The expected value.
    inputs : sequence, default ()
        The arguments of the call (to recognise a function that returns its input).

    Returns
    -------
    Diagnosis or None
    """
    swapped = _swapped_results(got, expected)
    if swapped is not None:
        return swapped
    found = first_difference(got, expected)
    if found is None:
        return None
    got, expected, _where = found
    with np.errstate(all="ignore"):
        for recogniser in RECOGNISERS:
            try:
                diagnosis = recogniser(got, expected, inputs)
            except (ValueError, TypeError, OverflowError):
                continue  # e.g. ragged or object data: no diagnosis
            if diagnosis is not None:
                return diagnosis
    return None
