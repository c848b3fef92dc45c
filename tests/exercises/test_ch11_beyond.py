"""Checks of the chapter 11 exercises (solutions/ch11_beyond.ipynb).

Independent references, all numpy: hand-computed values, cross-correlations summed over numpy's
sliding windows (the same values as ``scipy.signal.correlate2d``, shown by a plain test; grading
does not import SciPy, which would cost more than all the checks) and the attention formula
written out with a softmax over the allowed keys. Grading never imports
Keras: the plain pytest tests at the end of this file show, once per test run, that these
references and the reference solutions agree with Keras layers (``Conv2D`` with strides and
both paddings, ``Attention`` with and without a causal mask) on the same weights. The optional
challenge ``ch11.conv2d_strided`` (bonus points) is checked against hand-computed outputs and
cross-correlations of the input zero-padded as Keras pads it.
Public checks show their inputs in the learner's feedback; hidden ones use other sizes and seeds.
"""
import numpy as np

from grader.checks import check, expect_close, expect_raises, expect_true, run
from grader.i18n import _

NOTEBOOK = "ch11_beyond"


# ----------------------------------------------------------------------------- helpers
def _correlate2d(image, kernel):
    """Valid 2-D cross-correlation: the kernel times every window of the image, windows from
    numpy's sliding_window_view (what scipy.signal.correlate2d(image, kernel, "valid") gives)."""
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijuv,uv->ij", windows, kernel)


def _ref_conv_layer(X, kernels, bias):
    """Eq. (conv-layer) from single-channel cross-correlations: an independent reference."""
    n, H, W, c_in = X.shape
    kh, kw, _unused, c_out = kernels.shape
    Y = np.empty((n, H - kh + 1, W - kw + 1, c_out))
    for i in range(n):
        for c in range(c_out):
            Y[i, :, :, c] = bias[c] + sum(_correlate2d(X[i, :, :, m], kernels[:, :, m, c])
                                          for m in range(c_in))
    return Y


def _same_padding(size, kernel, stride):
    """(before, after) zeros that Keras' (and TensorFlow's) padding='same' adds along one axis:
    ceil(size / stride) outputs, the padding the last window needs, the odd zero at the end."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _ref_conv_strided(X, kernels, bias, strides=1, padding="valid"):
    """A strided convolution layer: the stride-1 reference of the (zero-padded) input,
    keeping every s-th output."""
    s_h, s_w = (strides, strides) if np.isscalar(strides) else strides
    if padding == "same":
        kh, kw = kernels.shape[:2]
        X = np.pad(X, [(0, 0), _same_padding(X.shape[1], kh, s_h),
                       _same_padding(X.shape[2], kw, s_w), (0, 0)])
    return _ref_conv_layer(X, kernels, bias)[:, ::s_h, ::s_w, :]


def _attention(Q, K, V, allowed=None):
    """(output, weights) of softmax(Q K^T / sqrt(d_k)) V, the softmax over the allowed keys."""
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    weights = _softmax_rows(S) if allowed is None else _masked_softmax_rows(S, allowed)
    return weights @ V, weights


def _masked_softmax_rows(S, allowed):
    """Softmax over the allowed entries of each row only (others 0), without using -inf."""
    S_allowed = np.where(allowed, S, S.min())
    e = np.exp(S_allowed - S_allowed.max(axis=-1, keepdims=True)) * allowed
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_rows(S):
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)




def _expect_pair(got, what="scaled_dot_product_attention"):
    expect_true(isinstance(got, (tuple, list)) and len(got) == 2,
                _("%s must return a pair (output, weights), got %s")
                % (what, type(got).__name__ if not isinstance(got, (tuple, list))
                   else _("a sequence of length %d") % len(got)), kind="type")
    return got[0], got[1]


def _strided_case(g, shape, kernel_size, c_out, strides, padding):
    X = g.normal(size=shape)
    return X, g.normal(size=(*kernel_size, shape[-1], c_out)), g.normal(size=c_out), strides, padding


# Inputs of the checks whose references the Keras parity tests below also compare with Keras.
CONV_LAYER_CASE = tuple(np.random.default_rng(111).normal(size=size)
                        for size in [(2, 6, 5, 2), (3, 3, 2, 3), 3])
ATTENTION_CASE = tuple(np.random.default_rng(121).normal(size=size)
                       for size in [(1, 3, 4), (1, 5, 4), (1, 5, 2)])
CAUSAL_CASE = np.random.default_rng(122).normal(size=(1, 5, 4))
STRIDED_CASES = [_strided_case(np.random.default_rng(seed), *case) for seed, case in [
    (121, ((2, 7, 6, 2), (3, 2), 3, (2, 1), "same")),
    (122, ((2, 8, 8, 1), (4, 4), 2, 2, "same")),       # an even kernel
    (123, ((1, 9, 7, 3), (3, 3), 2, 3, "same")),       # stride 3
    (124, ((2, 7, 8, 2), (2, 3), 2, (2, 3), "valid")),
]]


# ----------------------------------------------------------------------------- conv2d
@check("ch11.conv2d", points=1,
       hint="Y[i, j] = sum(image[i:i+kh, j:j+kw] * kernel), with the kernel as it is: deep "
            "learning's convolution does not flip it. Here Y[0, 1] = 2*1 + 3*2 = 8.")
def test_conv2d_hand_example(sub):
    image = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    kernel = np.array([[1.0, 0.0], [0.0, 2.0]])   # Y[i, j] = image[i, j] + 2 image[i+1, j+1]
    expect_close(run(sub.conv2d, image, kernel), np.array([[3.0, 8.0], [0.0, 3.0]]))


@check("ch11.conv2d", points=1,
       hint="Deep-learning convolution does NOT flip the kernel: put an impulse (a single 1) into "
            "an image and the output must show the kernel upside down and mirrored "
            "(kernel[::-1, ::-1]), exactly as cross-correlation does.")
def test_conv2d_no_flip(sub):
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    expect_close(run(sub.conv2d, image, kernel), kernel[::-1, ::-1])


@check("ch11.conv2d", points=1,
       hint="Rows and columns are independent: an image (H, W) and kernel (kh, kw) give "
            "(H - kh + 1, W - kw + 1) even when nothing is square.")
def test_conv2d_rectangular_matches_reference(sub):
    g = np.random.default_rng(101)
    image, kernel = g.normal(size=(5, 7)), g.normal(size=(2, 3))
    expect_close(run(sub.conv2d, image, kernel), _correlate2d(image, kernel),
                 rtol=1e-10, atol=1e-12)


@check("ch11.conv2d", points=1,
       hint="Compare the shapes first and raise ValueError('kernel (kh, kw) is larger than the "
            "image (H, W)') before computing anything.")
def test_conv2d_kernel_too_large(sub):
    expect_raises(sub.conv2d, np.ones((3, 4)), np.ones((2, 5)),
                  what=_("a kernel of shape (2, 5) on an image of shape (3, 4)"))


@check("ch11.conv2d", points=2, hidden=True)
def test_conv2d_hidden_random_sizes(sub):
    g = np.random.default_rng(102)
    for shape, kshape in [((11, 9), (4, 2)), ((6, 6), (6, 6)), ((4, 8), (1, 1)), ((9, 3), (3, 3))]:
        image, kernel = g.normal(size=shape), g.normal(size=kshape)
        expect_close(run(sub.conv2d, image, kernel),
                     _correlate2d(image, kernel), rtol=1e-10, atol=1e-12)


@check("ch11.conv2d", points=1, hidden=True)
def test_conv2d_hidden_digit_sobel(sub):
    from nnlib.data import load_digits      # scikit-learn's bundled copy, read as a file

    digit = load_digits()[0][7].reshape(8, 8)
    sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    expect_close(run(sub.conv2d, digit, sobel), _correlate2d(digit, sobel),
                 rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- conv2d_layer
@check("ch11.conv2d_layer", points=2,
       hint="Y[n, i, j, c] = bias[c] + sum over u, v, m of X[n, i+u, j+v, m] * kernels[u, v, m, c] "
       "(the kernel as it is, not flipped). "
            "One way: loop over the kernel offsets (u, v) and add X[:, u:u+oh, v:v+ow, :] @ kernels[u, v].")
def test_conv2d_layer_batch_and_channels(sub):
    X, kernels, bias = CONV_LAYER_CASE
    expect_close(run(sub.conv2d_layer, X, kernels, bias), _ref_conv_layer(X, kernels, bias),
                 rtol=1e-10, atol=1e-12)


@check("ch11.conv2d_layer", points=1,
       hint="Each output channel is the sum over input channels of single-channel convolutions, "
            "plus that channel's bias.")
def test_conv2d_layer_sum_over_channels(sub):
    g = np.random.default_rng(112)
    X = g.normal(size=(1, 4, 4, 2))
    kernels = g.normal(size=(2, 2, 2, 1))
    bias = np.array([0.5])
    expected = sum(_correlate2d(X[0, :, :, m], kernels[:, :, m, 0])
                   for m in range(2)) + 0.5
    expect_close(run(sub.conv2d_layer, X, kernels, bias), expected.reshape(1, 3, 3, 1),
                 rtol=1e-10, atol=1e-12)


@check("ch11.conv2d_layer", points=1,
       hint="Check that X.shape[-1] == kernels.shape[2] and raise a ValueError naming both if not.")
def test_conv2d_layer_channel_mismatch(sub):
    expect_raises(sub.conv2d_layer, np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)), np.zeros(4),
                  what=_("an input with 3 channels and kernels made for 2"), naming=("3", "2"))


@check("ch11.conv2d_layer", points=2, hidden=True)
def test_conv2d_layer_hidden_other_sizes(sub):
    g = np.random.default_rng(113)
    for n, H, W, c_in, c_out, kh, kw in [(3, 7, 9, 3, 4, 2, 4), (1, 8, 8, 1, 2, 3, 3), (2, 4, 6, 2, 1, 4, 1)]:
        X = g.normal(size=(n, H, W, c_in))
        kernels = g.normal(size=(kh, kw, c_in, c_out))
        bias = g.normal(size=c_out)
        expect_close(run(sub.conv2d_layer, X, kernels, bias), _ref_conv_layer(X, kernels, bias),
                     rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- attention
@check("ch11.attention", points=2,
       hint="scores = Q @ K.T / sqrt(d_k); weights = softmax of each row; output = weights @ V. "
            "For the chapter's colour tokens a 'red' query gives 0.303 to each red and 0.030 to the rest.")
def test_attention_colour_tokens_by_hand(sub):
    X = 2.0 * np.eye(3)[[0, 1, 0, 2, 1, 0]]          # red blue red green blue red
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, X, X, X))
    a = np.exp(4.0 / np.sqrt(3.0))
    same_red, other_red = a / (3 * a + 3), 1 / (3 * a + 3)           # 3 reds
    same_2, other_2 = a / (2 * a + 4), 1 / (2 * a + 4)               # 2 blues
    same_1, other_1 = a / (a + 5), 1 / (a + 5)                       # 1 green
    colours = [0, 1, 0, 2, 1, 0]
    table = {0: (same_red, other_red), 1: (same_2, other_2), 2: (same_1, other_1)}
    expected_w = np.array([[table[ci][0] if cj == ci else table[ci][1] for cj in colours]
                           for ci in colours])
    expect_close(got_w, expected_w, rtol=1e-9, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, expected_w @ X, rtol=1e-9, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=2,
       hint="Shapes: Q (n_q, d_k), K (n_k, d_k), V (n_k, d_v) -> output (n_q, d_v), weights (n_q, n_k). "
            "Divide by sqrt(d_k), where d_k = Q.shape[-1], and use np.swapaxes(K, -1, -2) for K^T.")
def test_attention_batched_shapes(sub):
    Q, K, V = ATTENTION_CASE
    exp_out, exp_w = _attention(Q, K, V)
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q, K, V))
    expect_close(got_w, exp_w, rtol=1e-10, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, exp_out, rtol=1e-10, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=1,
       hint="Subtract each row's maximum score before np.exp (it does not change the softmax) so "
            "scores in the thousands do not overflow to inf/nan.")
def test_attention_large_scores_stable(sub):
    Q = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    K = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, -3.0]])
    V = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q, K, V))
    expected_w = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])   # score gaps of >700: one-hot
    expect_close(got_w, expected_w, rtol=0, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, expected_w @ V, rtol=0, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=2,
       hint="Where mask is False set the score to -np.inf (np.where(mask, scores, -np.inf)) before "
            "the softmax: exp(-inf) = 0, so masked keys get weight exactly 0 and each row still sums to 1.")
def test_attention_causal_mask(sub):
    X = CAUSAL_CASE
    causal = np.tril(np.ones((5, 5), dtype=bool))
    exp_out, exp_w = _attention(X, X, X, causal)
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, X, X, X, causal))
    expect_true(isinstance(got_w, np.ndarray) and got_w.shape == (1, 5, 5)
                and np.all(got_w[:, ~causal] == 0.0),
                _("masked positions (mask False) must get weight exactly 0"), kind="values")
    expect_close(got_w, exp_w, rtol=1e-10, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, exp_out, rtol=1e-10, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=1,
       hint="Rows of the weights must sum to 1 and lie in [0, 1]: take the softmax over the LAST "
            "axis (the keys), not over the queries.")
def test_attention_rows_sum_to_one(sub):
    g = np.random.default_rng(123)
    Q, K, V = g.normal(size=(4, 3)), g.normal(size=(6, 3)), g.normal(size=(6, 2))
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q, K, V))
    expect_true(isinstance(got_w, np.ndarray) and got_w.shape == (4, 6),
                _("weights must have shape (n_q, n_k) = (4, 6), got %s")
                % (getattr(got_w, "shape", type(got_w).__name__),), kind="shape")
    expect_close(got_w.sum(axis=-1), np.ones(4), rtol=1e-12, atol=1e-12,
                 what=_("the row sums of the weights"))
    expect_true(bool(np.all((got_w >= 0) & (got_w <= 1))), _("weights must lie in [0, 1]"))
    expect_close(got_out, _softmax_rows(Q @ K.T / np.sqrt(3)) @ V, rtol=1e-10, atol=1e-12,
                 what=_("the output"))


@check("ch11.attention", points=2, hidden=True)
def test_attention_hidden_batched(sub):
    g = np.random.default_rng(124)
    for b, n_q, n_k, d_k, d_v in [(3, 4, 6, 5, 2), (2, 7, 3, 8, 6)]:
        Q, K, V = g.normal(size=(b, n_q, d_k)), g.normal(size=(b, n_k, d_k)), g.normal(size=(b, n_k, d_v))
        exp_w = np.stack([_softmax_rows(Q[i] @ K[i].T / np.sqrt(d_k)) for i in range(b)])
        got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q, K, V))
        expect_close(got_w, exp_w, rtol=1e-10, atol=1e-12, what=_("the attention weights"))
        expect_close(got_out, exp_w @ V, rtol=1e-10, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=1, hidden=True)
def test_attention_hidden_padding_mask(sub):
    g = np.random.default_rng(125)
    Q, K, V = g.normal(size=(2, 3, 4)), g.normal(size=(2, 5, 4)), g.normal(size=(2, 5, 3))
    value_mask = np.array([[True, True, False, True, False], [True, False, True, True, True]])
    mask = np.broadcast_to(value_mask[:, None, :], (2, 3, 5)).copy()
    exp_w = _masked_softmax_rows(Q @ np.swapaxes(K, -1, -2) / 2.0, mask)
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q, K, V, mask))
    expect_close(got_w, exp_w, rtol=1e-10, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, exp_w @ V, rtol=1e-10, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=1, hidden=True)
def test_attention_hidden_scaling_identity(sub):
    # Duplicating every feature doubles d_k and the raw dot products: the scores grow by
    # 2 / sqrt(2) = sqrt(2) only, which catches dividing by d_k (or by a fixed number).
    g = np.random.default_rng(126)
    Q, K, V = g.normal(size=(5, 3)), g.normal(size=(4, 3)), g.normal(size=(4, 2))
    Q2, K2 = np.hstack([Q, Q]), np.hstack([K, K])
    expected_w = _softmax_rows(Q @ K.T * np.sqrt(2.0) / np.sqrt(3.0))
    got_out, got_w = _expect_pair(run(sub.scaled_dot_product_attention, Q2, K2, V))
    expect_close(got_w, expected_w, rtol=1e-10, atol=1e-12, what=_("the attention weights"))
    expect_close(got_out, expected_w @ V, rtol=1e-10, atol=1e-12, what=_("the output"))


@check("ch11.attention", points=1, hidden=True)
def test_attention_hidden_dk_mismatch(sub):
    expect_raises(sub.scaled_dot_product_attention, np.ones((2, 3)), np.ones((4, 5)),
                  np.ones((4, 2)), what=_("queries with d_k = 3 and keys with d_k = 5"))


# ---------------------------------------------------------------------- conv2d_strided (challenge)
STRIDED_HINT = ("Valid: (H - kh) // s + 1 positions. Same: out = ceil(H / s) and total padding "
                "max((out - 1) * s + kh - H, 0), with total // 2 zeros on top and the rest at the "
                "bottom (likewise left/right). Window (i, j) starts at row i * s_h, column "
                "j * s_w.")


@check("ch11.conv2d_strided", points=1, hint="Stride 2 on a 4x4 image with a 2x2 kernel of ones "
       "sums the four 2x2 blocks: 0+1+4+5 = 10, 2+3+6+7 = 18, 8+9+12+13 = 42, 10+11+14+15 = 50. "
       + STRIDED_HINT)
def test_strided_valid_by_hand(sub):
    X = np.arange(16.0).reshape(1, 4, 4, 1)
    expected = np.array([[10.0, 18.0], [42.0, 50.0]]).reshape(1, 2, 2, 1)
    expect_close(run(sub.conv2d_strided, X, np.ones((2, 2, 1, 1)), np.zeros(1), 2), expected)


@check("ch11.conv2d_strided", points=1, hint="4x4 input, 3x3 kernel, stride 2, same: the output is "
       "ceil(4 / 2) = 2 wide, the last window ends at (2 - 1) * 2 + 3 = 5, so 1 zero of padding, "
       "which goes at the bottom/right. The top-left window sees nine ones, the bottom-right four. "
       + STRIDED_HINT)
def test_strided_same_pads_at_the_end(sub):
    expected = np.array([[9.0, 6.0], [6.0, 4.0]]).reshape(1, 2, 2, 1)
    got = run(sub.conv2d_strided, np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), np.zeros(1), 2,
              "same")
    expect_close(got, expected)


@check("ch11.conv2d_strided", points=1, hint="Compare your output shape with Keras' first: same "
       "padding gives ceil(H / s_h) x ceil(W / s_w). " + STRIDED_HINT)
def test_strided_same_other_strides(sub):
    X, kernels, bias, strides, padding = STRIDED_CASES[0]
    expect_close(run(sub.conv2d_strided, X, kernels, bias, strides, padding),
                 _ref_conv_strided(X, kernels, bias, strides, padding), rtol=1e-10, atol=1e-12)


@check("ch11.conv2d_strided", points=1, hidden=True)
def test_strided_hidden_other_sizes(sub):
    # Same padding with an even kernel and with stride 3; valid padding with strides (2, 3).
    for X, kernels, bias, strides, padding in STRIDED_CASES[1:]:
        expect_close(run(sub.conv2d_strided, X, kernels, bias, strides, padding),
                     _ref_conv_strided(X, kernels, bias, strides, padding), rtol=1e-10,
                     atol=1e-12)
    g = np.random.default_rng(122)
    # Stride 1 with a 3x3 kernel, the most common layer: same padding puts one zero on every
    # side, so it is the valid convolution of the padded input.
    X, kernels, bias = g.normal(size=(2, 5, 4, 2)), g.normal(size=(3, 3, 2, 3)), g.normal(size=3)
    padded = np.pad(X, [(0, 0), (1, 1), (1, 1), (0, 0)])
    expect_close(run(sub.conv2d_strided, X, kernels, bias, 1, "same"),
                 _ref_conv_layer(padded, kernels, bias), rtol=1e-10, atol=1e-12)
    # A 1x1 kernel with same padding pads nothing: a matrix product per pixel.
    X, kernels, bias = g.normal(size=(1, 5, 6, 3)), g.normal(size=(1, 1, 3, 2)), g.normal(size=2)
    expect_close(run(sub.conv2d_strided, X, kernels, bias, 1, "same"), X @ kernels[0, 0] + bias,
                 rtol=1e-10, atol=1e-12)


@check("ch11.conv2d_strided", points=1, hidden=True)
def test_strided_bad_arguments(sub):
    X, kernels, bias = np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), np.zeros(1)
    expect_raises(sub.conv2d_strided, X, kernels, bias, 1, "full", what=_("padding='full'"))
    expect_raises(sub.conv2d_strided, X, kernels, bias, 0, "same", what=_("strides=0"))
    expect_raises(sub.conv2d_strided, X, np.ones((5, 2, 1, 1)), bias, 1, "valid",
                  what=_("a 5x2 kernel on a 4x4 input with valid padding"))


# ------------------------------------------------ Keras parity (plain pytest, never graded)
def _keras():
    """Keras with the JAX backend (imported here only: grading never imports it)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def _keras_conv2d(X, kernels, bias, strides=1, padding="valid"):
    layer = _keras().layers.Conv2D(kernels.shape[-1], kernels.shape[:2], strides=strides,
                                   padding=padding, data_format="channels_last")
    layer.build(X.shape)
    layer.set_weights([kernels, bias])
    return np.asarray(layer(X), dtype=np.float64)


def _keras_attention(Q, K, V, causal=False):
    """softmax(Q K^T / sqrt(d_k)) V with keras.layers.Attention (which does not scale by itself)."""
    layer = _keras().layers.Attention(use_scale=False, score_mode="dot")
    out, weights = layer([Q / np.sqrt(Q.shape[-1]), V, K], return_attention_scores=True,
                         use_causal_mask=causal)
    return np.asarray(out, dtype=np.float64), np.asarray(weights, dtype=np.float64)


def _solution():
    from grader.catalog import default_catalog

    return default_catalog().reference(NOTEBOOK)


KERAS_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}   # Keras computes in float32


def test_keras_parity_conv2d_layer():
    """The checks' reference and the reference solution agree with keras.layers.Conv2D."""
    X, kernels, bias = CONV_LAYER_CASE
    keras_out = _keras_conv2d(X, kernels, bias)
    np.testing.assert_allclose(_ref_conv_layer(X, kernels, bias), keras_out, **KERAS_TOLERANCE)
    np.testing.assert_allclose(_solution().conv2d_layer(X, kernels, bias), keras_out,
                               **KERAS_TOLERANCE)


def test_keras_parity_conv2d_strided():
    """Strides and both paddings: Keras' rule for where 'same' puts the odd zero."""
    for X, kernels, bias, strides, padding in STRIDED_CASES:
        keras_out = _keras_conv2d(X, kernels, bias, strides, padding)
        np.testing.assert_allclose(_ref_conv_strided(X, kernels, bias, strides, padding),
                                   keras_out, **KERAS_TOLERANCE)
        np.testing.assert_allclose(_solution().conv2d_strided(X, kernels, bias, strides, padding),
                                   keras_out, **KERAS_TOLERANCE)


def test_keras_parity_attention():
    """The checks' attention reference and the reference solution agree with
    keras.layers.Attention, without and with a causal mask."""
    causal = np.tril(np.ones((5, 5), dtype=bool))
    for (Q, K, V), allowed in [(ATTENTION_CASE, None), ((CAUSAL_CASE,) * 3, causal)]:
        keras_out, keras_w = _keras_attention(Q, K, V, causal=allowed is not None)
        for out, weights in [_attention(Q, K, V, allowed),
                             _solution().scaled_dot_product_attention(Q, K, V, allowed)]:
            np.testing.assert_allclose(weights, keras_w, **KERAS_TOLERANCE)
            np.testing.assert_allclose(out, keras_out, **KERAS_TOLERANCE)


def test_correlate2d_reference_matches_scipy():
    """The checks' cross-correlation agrees with scipy.signal.correlate2d (shown once per test
    run; grading does not import SciPy)."""
    from scipy import signal

    g = np.random.default_rng(7)
    for shape, kshape in [((11, 9), (4, 2)), ((6, 6), (6, 6)), ((4, 8), (1, 1)), ((9, 3), (3, 3))]:
        image, kernel = g.normal(size=shape), g.normal(size=kshape)
        np.testing.assert_allclose(_correlate2d(image, kernel),
                                   signal.correlate2d(image, kernel, mode="valid"), rtol=1e-12,
                                   atol=1e-13)
