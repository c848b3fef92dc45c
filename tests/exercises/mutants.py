"""Hand-written mutants of the reference solutions, graded by ``python -m grader.mutation``.

One per requirement an exercise's text states ("must", "without", "not"; ``requirement`` True)
and per common mistake the automatic mutator (grader/mutation.py) cannot make. ``names`` lists
words of which the feedback must contain one for the mistake to count as named
(tests/grader/test_mutation.py keeps that true for at least 80% of them). ``replace`` edits the
reference cell's text; ``source`` gives the whole cell.

``EQUIVALENT`` explains the automatic mutants that behave exactly like the reference: they are
listed by the report and not counted in the score.
"""

MUTANTS = [
    # ---------------------------------------------------------------- chapter 1
    {"exercise": "ch01.mse", "name": "sum instead of mean", "names": ("factor", "mean"),
     "replace": [("np.mean((y_true - y_pred) ** 2)", "np.sum((y_true - y_pred) ** 2)")]},
    {"exercise": "ch01.mse", "name": "returns a 1-element array, not a float",
     "requirement": True, "names": ("float", "number", "shape"),
     "replace": [("return float(np.mean((y_true - y_pred) ** 2))",
                  "return np.mean((y_true - y_pred) ** 2, keepdims=True)")]},
    # ---------------------------------------------------------------- chapter 2
    {"exercise": "ch02.perceptron", "name": "0-d int array where a float is required",
     "requirement": True, "names": ("float", "integer"),
     "replace": [("out = np.where(z >= 0, 1.0, 0.0)", "out = np.where(z >= 0, 1, 0)"),
                 ("return float(out) if out.ndim == 0 else out", "return out")]},
    {"exercise": "ch02.perceptron", "name": "step(0) = 0 (z > 0)", "requirement": True,
     "names": ("z >= 0", "step(0)"),
     "replace": [("np.where(z >= 0, 1.0, 0.0)", "np.where(z > 0, 1.0, 0.0)")]},
    # ---------------------------------------------------------------- chapter 3
    {"exercise": "ch03.sigmoid", "name": "naive overflowing sigmoid", "requirement": True,
     "names": ("overflow", "warning"),
     "source": "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))\n"},
    {"exercise": "ch03.sigmoid", "name": "sign error sigmoid(-z)", "names": ("sign",),
     "replace": [("1.0 / (1.0 + np.exp(-z[pos]))", "1.0 / (1.0 + np.exp(z[pos]))"),
                 ("ez = np.exp(z[~pos])", "ez = np.exp(-z[~pos])")]},
    {"exercise": "ch03.sigmoid", "name": "float64 result for float32 input (not the same dtype)",
     "requirement": True, "names": ("dtype", "float32"),
     "replace": [("dtype=np.result_type(z.dtype, np.float32)", "dtype=float")]},
    {"exercise": "ch03.sigmoid_derivative", "name": "sigmoid applied twice (takes a for z)",
     "requirement": True, "names": ("sigmoid twice", "twice", "pre-activation"),
     "replace": [("s = sigmoid(z)", "s = sigmoid(sigmoid(z))")]},
    {"exercise": "ch03.relu", "name": "modifies z in place", "requirement": True,
     "names": ("in place", "copy"),
     "source": "def relu(z):\n    z[z < 0] = 0\n    return z\n"},
    {"exercise": "ch03.relu_derivative", "name": "returns booleans, not floats",
     "requirement": True, "names": ("dtype", "float"),
     "replace": [("return (z > 0).astype(z.dtype)", "return z > 0")]},
    {"exercise": "ch03.softmax", "name": "no max subtraction (overflows)", "requirement": True,
     "names": ("overflow", "maximum"),
     "replace": [("shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z")]},
    {"exercise": "ch03.softmax", "name": "normalised over the wrong axis", "names": ("axis",),
     "replace": [("np.max(z, axis=-1, keepdims=True)", "np.max(z, axis=0, keepdims=True)"),
                 ("np.sum(e, axis=-1, keepdims=True)", "np.sum(e, axis=0, keepdims=True)")]},
    {"exercise": "ch03.softmax", "name": "missing keepdims", "names": ("keepdims", "axis"),
     "replace": [("np.sum(e, axis=-1, keepdims=True)", "np.sum(e, axis=-1)")]},
    # ---------------------------------------------------------------- chapter 4
    {"exercise": "ch04.dense_forward", "name": "bias forgotten", "names": ("bias", "term"),
     "replace": [("return X @ W + b", "return X @ W")]},
    {"exercise": "ch04.dense_forward", "name": "does not raise for a 1-D X", "requirement": True,
     "names": ("ValueError",),
     "replace": [("    if X.ndim != 2:\n", "    X = np.atleast_2d(X)\n    if X.ndim != 2:\n")]},
    # ---------------------------------------------------------------- chapter 5
    {"exercise": "ch05.binary_cross_entropy", "name": "no clipping (log(0))", "requirement": True,
     "names": ("nan", "inf", "overflow", "clip"),
     "replace": [("    p = np.clip(p, eps, 1 - eps)\n    return float(",
                  "    return float(")]},
    {"exercise": "ch05.binary_cross_entropy", "name": "gradient without 1/n",
     "names": ("factor", "1/n", "mean"),
     "replace": [("return (p - y_true) / (p * (1 - p)) / p.size",
                  "return (p - y_true) / (p * (1 - p))")]},
    {"exercise": "ch05.softmax_cross_entropy", "name": "literal softmax, not log-sum-exp",
     "requirement": True, "names": ("nan", "inf", "overflow", "log-sum-exp"),
     "replace": [("shifted = logits - np.max(logits, axis=1, keepdims=True)",
                  "shifted = logits")]},
    {"exercise": "ch05.softmax_cross_entropy", "name": "gradient sign flipped (y - p)",
     "names": ("sign",),
     "replace": [("return (p - y_onehot) / logits.shape[0]",
                  "return (y_onehot - p) / logits.shape[0]")]},
    # ---------------------------------------------------------------- chapter 6
    {"exercise": "ch06.dense_backward", "name": "db not summed over the batch (keepdims)",
     "names": ("keepdims", "shape", "(n_out,)"),
     "replace": [("db = dZ.sum(axis=0)", "db = dZ.sum(axis=0, keepdims=True)")]},
    {"exercise": "ch06.dense_backward", "name": "dW transposed (dZ.T @ X)",
     "names": ("transpose",),
     "replace": [("dW = X.T @ dZ", "dW = dZ.T @ X")]},
    {"exercise": "ch06.mlp_backward", "name": "sigmoid applied twice in dZ1",
     "names": ("sigmoid again", "twice"),
     "replace": [("dZ1 = dA1 * A1 * (1.0 - A1)",
                  "S1 = 1 / (1 + np.exp(-A1))\n    dZ1 = dA1 * S1 * (1.0 - S1)")]},
    {"exercise": "ch06.mlp_backward", "name": "forgot / n", "names": ("factor", "/ n", "mean"),
     "replace": [("dZ2 = (P - Y) / n", "dZ2 = P - Y")]},
    # ---------------------------------------------------------------- chapter 8
    {"exercise": "ch08.sgd_step", "name": "gradient ascent (w + lr g)", "names": ("sign",),
     "replace": [("return w - lr * g", "return w + lr * g")]},
    {"exercise": "ch08.sgd_step", "name": "updates w in place", "requirement": True,
     "names": ("in place", "copy"),
     "replace": [("return w - lr * g", "w -= lr * g\n    return w")]},
    {"exercise": "ch08.adam_step", "name": "no bias correction", "requirement": True,
     "names": ("bias correction", "factor"),
     "replace": [("alpha_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)", "alpha_t = lr")]},
    {"exercise": "ch08.adam_step", "name": "epsilon inside the square root",
     "names": ("epsilon",),
     "replace": [("(np.sqrt(v_new) + epsilon)", "np.sqrt(v_new + epsilon)")]},
    {"exercise": "ch08.minibatch_indices", "name": "not shuffled", "requirement": True,
     "names": ("shuffle", "permutation", "seed"),
     "replace": [("order = np.random.default_rng(seed).permutation(n_samples)",
                  "order = np.arange(n_samples)")]},
    # ---------------------------------------------------------------- chapter 9
    {"exercise": "ch09.train_epoch", "name": "unweighted mean of batch losses",
     "requirement": True, "names": ("weight", "batch size", "number of rows"),
     "replace": [("total += loss * len(rows)\n        seen += len(rows)",
                  "total += loss\n        seen += 1")]},
    {"exercise": "ch09.train_epoch", "name": "loss after the step", "names": ("before the step",
                                                                          "loss before"),
     "replace": [("        params = [p - learning_rate * g for p, g in zip(params, grads)]\n"
                  "        total += loss * len(rows)",
                  "        params = [p - learning_rate * g for p, g in zip(params, grads)]\n"
                  "        loss = loss_and_grads(params, X[rows], Y[rows])[0]\n"
                  "        total += loss * len(rows)")]},
    {"exercise": "ch09.init_params", "name": "global seed (np.random.seed)", "requirement": True,
     "names": ("seed", "generator", "glorot"),
     "replace": [("rng = np.random.default_rng(seed)", "np.random.seed(seed)\n    rng = np.random"
                  )]},
    # ---------------------------------------------------------------- chapter 10
    {"exercise": "ch10.build_binary_classifier", "name": "Keras 2 input_dim=",
     "requirement": True, "names": ("input_dim", "keras.Input"),
     "replace": [("        keras.Input(shape=(n_features,)),\n"
                  "        keras.layers.Dense(64, activation=\"relu\"),",
                  "        keras.layers.Dense(64, activation=\"relu\", input_dim=n_features),")]},
    # ---------------------------------------------------------------- chapter 11
    {"exercise": "ch11.conv2d", "name": "flipped kernel (true convolution)", "requirement": True,
     "names": ("flip",),
     "replace": [("Y += kernel[u, v] * image", "Y += kernel[kh - 1 - u, kw - 1 - v] * image")]},
    {"exercise": "ch11.attention", "name": "no 1/sqrt(d_k) scaling", "names": ("sqrt", "scal"),
     "replace": [("/ np.sqrt(d_k)", "")]},
    {"exercise": "ch11.attention", "name": "softmax over the wrong axis", "names": ("axis",),
     "replace": [("weights = e / e.sum(axis=-1, keepdims=True)",
                  "weights = e / e.sum(axis=-2, keepdims=True)")]},
]

EQUIVALENT = {
    ("ch03.sigmoid", "sigmoid line 9: >= -> >"):
        "at z = 0 both branches give 0.5, so moving z = 0 to the other branch changes nothing",
    ("ch03.sigmoid", "sigmoid line 9: constant 0 -> 1"):
        "exp(z) / (1 + exp(z)) is exact and stable for 0 <= z < 1 too: same values, no overflow",
    ("ch07.add_backward", "unbroadcast line 7: modifies its input grad"):
        "grad is rebound to a new array (grad.sum(...)) before the return: the caller's array "
        "is never touched",
    ("ch08.minibatch_indices", "minibatch_indices line 11: modifies its input n_samples"):
        "n_samples is an int, which cannot be modified in place",
    ("ch10.build_binary_classifier", "build_binary_classifier line 12: modifies its input "
                                     "n_features"):
        "n_features is an int, which cannot be modified in place",
    ("ch10.train_digits_cnn", "train_digits_cnn line 9: constant 2 -> 3"):
        "a (3, 2) pooling window is another valid CNN: the exercise leaves the architecture free "
        "within its stated rules (Conv2D with ReLU, MaxPooling2D, Flatten, softmax output) and "
        "grades the accuracy",
    ("ch10.train_digits_cnn", "train_digits_cnn line 9: constant 2 -> 3'"):
        "a (2, 3) pooling window: as above, a valid architecture",
    ("ch10.train_digits_cnn", "train_digits_cnn line 11: constant 2 -> 3"):
        "the second pooling window (3, 2): as above, a valid architecture",
    ("ch10.train_digits_cnn", "train_digits_cnn line 11: constant 2 -> 3'"):
        "the second pooling window (2, 3): as above, a valid architecture",
    ("ch10.transfer_weights", "transfer_weights line 16: float32 result"):
        "Keras already predicts float32: .astype(np.float32) changes nothing",
    ("ch07.value", "neuron_gradients line 9: modifies its input x"):
        "x is rebound to Value(x) on the first line: the caller's float is never touched",
}

MUTANTS += [
    {"exercise": "ch06.softplus_dense_backward", "name": "softplus itself as its derivative",
     "names": ("e^z / (1 + e^z)", "chapter 3"),
     "replace": [("dZ = dA * sigmoid(Z)", "dZ = dA * np.logaddexp(0, Z)")]},
    {"exercise": "ch06.softplus_dense_backward", "name": "unstable e^z / (1 + e^z)",
     "requirement": True, "names": ("overflow", "warning", "nan"),
     "replace": [("dZ = dA * sigmoid(Z)", "dZ = dA * np.exp(Z) / (1 + np.exp(Z))")]},
    {"exercise": "ch06.softplus_dense_backward", "name": "activation derivative forgotten",
     "names": ("e^z / (1 + e^z)", "chapter 3"),
     "replace": [("dZ = dA * sigmoid(Z)", "dZ = dA")]},
]
