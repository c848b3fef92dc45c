"""Hand-written mutants of the reference solutions, graded by ``python -m grader.mutation``.

One per requirement an exercise's text states ("must", "without", "not"; ``requirement`` True)
and per common mistake the automatic mutator (grader/mutation.py) cannot make. ``names`` lists
words of which the feedback must contain one for the mistake to count as named
(tests/grader/test_mutation.py keeps that true for at least 80% of them). ``replace`` edits the
reference cell's text; ``source`` gives the whole cell. ``slow`` marks a mutant whose grading
takes seconds (the checks train a network, or it runs into a timeout): the cheap CI test leaves
it, and every chapter-10 (Keras) mutant, to the slow test.

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
     "replace": [("(pc - y_true) / (pc * (1 - pc)), 0.0) / p.size",
                  "(pc - y_true) / (pc * (1 - pc)), 0.0)")]},
    {"exercise": "ch05.binary_cross_entropy", "name": "gradient formula at the clipped p (not 0)",
     "requirement": True, "names": ("flat", "0 where p was clipped"),
     "replace": [("np.where(inside, (pc - y_true) / (pc * (1 - pc)), 0.0)",
                  "(pc - y_true) / (pc * (1 - pc))")]},
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
    ("ch10.build_residual_mlp", "build_residual_mlp line 14: modifies its input n_features"):
        "n_features is an int, which cannot be modified in place",
    ("ch10.transfer_weights", "transfer_weights line 16: float32 result"):
        "Keras already predicts float32: .astype(np.float32) changes nothing",
    ("ch07.value", "neuron_gradients line 9: modifies its input x"):
        "x is rebound to Value(x) on the first line: the caller's float is never touched",
    ("ch01.fit_ridge", "fit_ridge line 13: - -> +'"):
        "the columns of Xc sum to 0, so Xc.T @ (y + c) = Xc.T @ y for any constant c: centring "
        "y does not change w, and b is computed from the means",
    ("ch01.fit_ridge", "fit_ridge line 13: dropped term'"):
        "y left uncentred: as above, Xc.T @ y = Xc.T @ (y - mean(y)), the same w and b",
    ("ch03.softplus", "log_sigmoid_derivative line 9: >= -> >"):
        "at z = 0 both branches give 1/2, so moving z = 0 to the other branch changes nothing",
    ("ch04.parity_network_params", "parity_network_params line 16: modifies its input n_bits"):
        "n_bits is an int, which cannot be modified in place",
    ("ch04.parity_network_params", "parity_network_params line 14: * -> /"):
        "(-1) ** k is +1 or -1, so dividing by it is multiplying by it: the same weights",
    ("ch04.parity_network_params", "parity_network_params line 14: + -> -"):
        "(-1) ** (k - 1) = (-1) ** (k + 1): the same weights",
    ("ch04.parity_network_params", "parity_network_params line 15: constant 2 -> 3"):
        "an output bias of -s/3 instead of -s/2 is another valid design: the output is still "
        "below 0.1 for an even count and above 0.9 for an odd one (the exercise asks for any "
        "such network)",
    ("ch05.binary_cross_entropy", "binary_cross_entropy_grad line 8: <= -> <"):
        "only p = 1 - eps exactly moves, where the clipped loss has a kink: 0 and the formula "
        "are its two one-sided derivatives, and either is a correct answer there",
    ("ch05.binary_cross_entropy", "binary_cross_entropy_grad line 9: dropped term"):
        "clipping to [eps, 1] changes only entries beyond the clip, which np.where sets to 0 "
        "anyway: the same values (numpy may warn about the discarded 1/0)",
    ("ch05.binary_cross_entropy", "binary_cross_entropy_grad line 9: constant 1 -> 2"):
        "clipping to [eps, 2 - eps]: as above, only masked-out entries change",
    ("ch09.overfitting", "regularise line 8: constant 0 -> 1"):
        "the first epoch always improves on an infinite loss, which resets the count: no change",
    ("ch09.overfitting", "regularise line 12: < -> <="):
        "a tie of two validation losses to the last bit does not happen while training: the "
        "same run (the exercise grades the trained network's gap, and any stopping rule is "
        "allowed)",
    ("ch09.overfitting", "regularise line 15: constant 1 -> 2"):
        "patience 50 instead of 100: another valid early-stopping setting (the settings are the "
        "learner's to choose; the gap is graded)",
    ("ch09.overfitting", "regularise line 16: >= -> >"):
        "patience 101 instead of 100: another valid early-stopping setting",
    ("ch09.overfitting", "regularise line 13: constant 0 -> 1"):
        "the count restarts at 1 instead of 0: patience 99, another valid setting",
    ("ch09.dropout", "dropout_mask line 4: modifies its input shape"):
        "shape is a tuple of ints, which cannot be modified in place",
    ("ch09.dropout", "dropout_mask line 4: >= -> >"):
        "random() returns exactly `rate` with probability about 2**-53: the same mask",
    ("ch12.fit", "fit line 12: constant 0 -> 1"):
        "the first epoch always improves on an infinite loss, which resets the count: no change",
    ("ch12.train_digits", "train_digits line 13: constant 1 -> 2"):
        "zip(sizes[:-1], sizes[2:]) builds a single 64-10 layer: softmax regression, another "
        "valid network (the exercise leaves the architecture free and grades the accuracy)",
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

# One or more hand-written mutants for every exercise added after the first score (chapter 7,
# the overfitting/dropout/batch-norm exercises, the capstone, the bonus challenges) and for the
# earlier exercises that had only automatic ones.
MUTANTS += [
    # ---------------------------------------------------------------- chapter 1
    {"exercise": "ch01.predict", "name": "bias forgotten", "names": ("bias", "term"),
     "replace": [("return X @ w + b", "return X @ w")]},
    {"exercise": "ch01.fit_least_squares", "name": "no column of ones (b stuck at 0)",
     "names": ("bias", "ones"),
     "replace": [("np.column_stack([X, np.ones(X.shape[0])])",
                  "np.column_stack([X, np.zeros(X.shape[0])])")]},
    {"exercise": "ch01.fit_least_squares", "name": "b returned as a 1-element array",
     "requirement": True, "names": ("float",),
     "replace": [("return theta[:-1], float(theta[-1])", "return theta[:-1], theta[-1:]")]},
    {"exercise": "ch01.most_influential_feature", "name": "largest signed weight (no abs)",
     "requirement": True, "names": ("absolute", "np.abs"),
     "replace": [("np.argmax(np.abs(w))", "np.argmax(w)")]},
    {"exercise": "ch01.most_influential_feature", "name": "returns the index, not the name",
     "requirement": True, "names": ("name", "str"),
     "replace": [("return feature_names[int(np.argmax(np.abs(w)))]",
                  "return int(np.argmax(np.abs(w)))")]},
    {"exercise": "ch01.count_parameters", "name": "biases forgotten", "names": ("bias",),
     "replace": [("total += (n_in + 1) * n_out", "total += n_in * n_out")]},
    {"exercise": "ch01.count_parameters", "name": "returns a float, not an int",
     "requirement": True, "names": ("int",),
     "replace": [("return int(total)", "return float(total)")]},
    {"exercise": "ch01.fit_ridge", "name": "bias penalised too (ridge on the column of ones)",
     "requirement": True, "names": ("not penalised", "shift"),
     "source": "def fit_ridge(X, y, alpha):\n"
               "    if alpha < 0:\n        raise ValueError('alpha must be >= 0')\n"
               "    X1 = np.column_stack([X, np.ones(len(X))])\n"
               "    theta = np.linalg.solve(X1.T @ X1 + alpha * np.eye(X1.shape[1]), X1.T @ y)\n"
               "    return theta[:-1], float(theta[-1])\n"},
    {"exercise": "ch01.fit_ridge", "name": "no ValueError for a negative alpha",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if alpha < 0:\n        raise ValueError(", "    if False:\n        raise "
                                                             "ValueError(")]},
    {"exercise": "ch01.fit_ridge", "name": "data not centred (b from the means, w uncentred)",
     "names": ("centr", "mean"),
     "replace": [("Xc, yc = X - x_mean, y - y_mean", "Xc, yc = X, y")]},
    # ---------------------------------------------------------------- chapter 2
    {"exercise": "ch02.gates", "name": "AND line through the corner (1, 1): no margin",
     "requirement": True, "names": ("margin",),
     "replace": [("return np.array([1.0, 1.0]), -1.5", "return np.array([1.0, 1.0]), -2.0")]},
    {"exercise": "ch02.gates", "name": "NAND with the AND weights", "names": ("nand",),
     "replace": [("return np.array([-1.0, -1.0]), 1.5", "return np.array([1.0, 1.0]), -1.5")]},
    {"exercise": "ch02.layer_forward", "name": "bias forgotten", "names": ("bias", "term"),
     "replace": [("    return X @ W + b\n", "    return X @ W\n")]},
    {"exercise": "ch02.layer_forward", "name": "one bias for all neurons (b.sum())",
     "names": ("bias", "term", "column"),
     "replace": [("    return X @ W + b\n", "    return X @ W + b.sum()\n")]},
    {"exercise": "ch02.search", "name": "z = 0 counts as 0 (Z > 0)", "requirement": True,
     "names": ("z = 0", "convention"),
     "replace": [("np.where(Z >= 0, 1.0, 0.0)", "np.where(Z > 0, 1.0, 0.0)")]},
    {"exercise": "ch02.search", "name": "returns a numpy bool, not a Python bool",
     "requirement": True, "names": ("bool",),
     "replace": [("return bool(np.any(", "return (np.any(")]},
    {"exercise": "ch02.search", "name": "some output matches instead of all four",
     "names": ("all four", "exactly", "every"),
     "replace": [("np.any(np.all(outputs == table[:, None], axis=0))",
                  "np.any(np.any(outputs == table[:, None], axis=0))")]},
    {"exercise": "ch02.train_perceptron", "name": "step(0) = 0 in the rule (z > 0)",
     "requirement": True, "names": ("step(0)", "z = 0"),
     "replace": [("if x_i @ w + b >= 0 else 0.0", "if x_i @ w + b > 0 else 0.0")]},
    {"exercise": "ch02.train_perceptron", "name": "bias never updated", "names": ("bias", " b "),
     "replace": [("                b += error\n", "")]},
    {"exercise": "ch02.train_perceptron", "name": "bound without the bias in the norms",
     "requirement": True, "names": ("bias", "constant input"),
     "replace": [("X1 = np.column_stack([np.asarray(X, dtype=float), np.ones(len(X))])",
                  "X1 = np.asarray(X, dtype=float)"),
                 ("theta = np.append(np.asarray(w_star, dtype=float), b_star)",
                  "theta = np.asarray(w_star, dtype=float)\n"
                  "    offset = b_star"),
                 ("gamma = np.min(signs * (X1 @ theta)) / np.linalg.norm(theta)",
                  "gamma = np.min(signs * (X1 @ theta + offset)) / np.linalg.norm(theta)")]},
    {"exercise": "ch02.train_perceptron", "name": "no ValueError for a non-separating line",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if not gamma > 0:\n        raise ValueError(",
                  "    if False:\n        raise ValueError(")]},
    # ---------------------------------------------------------------- chapter 3
    {"exercise": "ch03.softplus", "name": "literal log(1 + exp(z)) overflows",
     "requirement": True, "names": ("overflow", "inf"),
     "replace": [("return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))",
                  "return np.log(1 + np.exp(z))")]},
    {"exercise": "ch03.softplus", "name": "log instead of log1p (tiny values lost)",
     "requirement": True, "names": ("log1p", "tiny", "digits"),
     "replace": [("return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))",
                  "return np.maximum(z, 0.0) + np.log(1 + np.exp(-np.abs(z)))")]},
    {"exercise": "ch03.softplus", "name": "derivative as 1 - sigmoid(z) (digits lost)",
     "requirement": True, "names": ("1 - sigmoid", "tiny", "digits", "difference"),
     "replace": [("return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))",
                  "return 1.0 - np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))")]},
    # ---------------------------------------------------------------- chapter 4
    {"exercise": "ch04.mlp_forward", "name": "cache without the input X", "requirement": True,
     "names": ("\"X\"", "'X'", "keys"),
     "replace": [("    cache = {\"X\": X}\n", "    cache = {}\n")]},
    {"exercise": "ch04.mlp_forward", "name": "no ValueError for a wrong number of activations",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if len(activations) != n_layers:\n        raise",
                  "    if False:\n        raise")]},
    {"exercise": "ch04.mlp_forward", "name": "activation stored as Z", "names": ("Z1", "pre-act"),
     "replace": [("cache[f\"Z{l}\"] = Z", "cache[f\"Z{l}\"] = A")]},
    {"exercise": "ch04.xor_network_params", "name": "weights too small to act like gates",
     "requirement": True, "names": ("0.1", "0.9", "margin", "large weights"),
     "replace": [("20.0, -20.0],     # column 1", "2.0, -2.0],     # column 1"),
                 ("[20.0, -20.0]]),\n        \"b1\": np.array([-10.0, 30.0])",
                  "[2.0, -2.0]]),\n        \"b1\": np.array([-1.0, 3.0])")]},
    {"exercise": "ch04.parity_network_params", "name": "alternating signs start with -",
     "requirement": True, "names": ("odd", "even", "parity"),
     "replace": [("(scale * (-1.0) ** (k + 1))", "(scale * (-1.0) ** k)")]},
    {"exercise": "ch04.parity_network_params", "name": "weights too small (errors add up)",
     "requirement": True, "names": ("0.1", "0.9", "margin"),
     "replace": [("scale = 20.0", "scale = 3.0")]},
    # ---------------------------------------------------------------- chapter 5
    {"exercise": "ch05.mse", "name": "mean over samples only (/ n, not / nk)",
     "requirement": True, "names": ("factor", "every entry", "size"),
     "replace": [("return float(np.mean((y_true - y_pred) ** 2))",
                  "return float(np.sum((y_true - y_pred) ** 2) / len(y_true))")]},
    {"exercise": "ch05.mse", "name": "gradient without the 2", "names": ("factor",),
     "replace": [("return 2.0 * (y_pred - y_true) / y_pred.size",
                  "return (y_pred - y_true) / y_pred.size")]},
    {"exercise": "ch05.mse", "name": "gradient sign (target minus prediction)",
     "requirement": True, "names": ("sign",),
     "replace": [("return 2.0 * (y_pred - y_true) / y_pred.size",
                  "return 2.0 * (y_true - y_pred) / y_pred.size")]},
    {"exercise": "ch05.smoothed_cross_entropy", "name": "log(softmax) taken literally",
     "requirement": True, "names": ("nan", "inf", "overflow", "log-sum-exp"),
     "replace": [("log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))",
                  "e = np.exp(logits)\n    log_p = np.log(e / e.sum(axis=1, keepdims=True))")]},
    {"exercise": "ch05.smoothed_cross_entropy", "name": "gradient ignores the smoothing",
     "names": ("smooth", "targets"),
     "replace": [("    targets = (1.0 - smoothing) * y_onehot + smoothing / k\n    e = np.exp(",
                  "    targets = y_onehot\n    e = np.exp(")]},
    {"exercise": "ch05.smoothed_cross_entropy", "name": "smoothing spread over k - 1 classes",
     "names": ("smooth", "/ k", "k classes"),
     "replace": [("targets = (1.0 - smoothing) * y_onehot + smoothing / k\n"
                  "    shifted",
                  "targets = (1.0 - smoothing) * y_onehot + smoothing / (k - 1) * (1 - y_onehot)"
                  "\n    shifted")]},
    {"exercise": "ch05.smoothed_cross_entropy", "name": "no ValueError for smoothing >= 1",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if not 0.0 <= smoothing < 1.0:\n        raise ValueError(f\"smoothing must "
                  "be in [0, 1), got {smoothing}\")\n    k = logits.shape[1]",
                  "    k = logits.shape[1]")]},
    # ---------------------------------------------------------------- chapter 6
    {"exercise": "ch06.layer_norm_backward", "name": "statistics treated as constants",
     "names": ("mean", "statistics", "sum to zero", "rows"),
     "replace": [("dX = (g - g.mean(axis=1, keepdims=True)\n"
                  "          - X_hat * np.mean(g * X_hat, axis=1, keepdims=True)) / std",
                  "dX = g / std")]},
    {"exercise": "ch06.layer_norm_backward", "name": "means over the batch axis (batch norm)",
     "names": ("axis", "rows", "sum to zero"),
     "replace": [("dX = (g - g.mean(axis=1, keepdims=True)\n"
                  "          - X_hat * np.mean(g * X_hat, axis=1, keepdims=True)) / std",
                  "dX = (g - g.mean(axis=0, keepdims=True)\n"
                  "          - X_hat * np.mean(g * X_hat, axis=0, keepdims=True)) / std")]},
    {"exercise": "ch06.layer_norm_backward", "name": "dgamma without X_hat",
     "names": ("dgamma",),
     "replace": [("dgamma = np.sum(dY * X_hat, axis=0)", "dgamma = np.sum(dY, axis=0)")]},
    # ---------------------------------------------------------------- chapter 7
    {"exercise": "ch07.binary_rules", "name": "div_backward: grad_b sign lost",
     "names": ("sign",),
     "replace": [("return grad_out / b, -grad_out * a / b**2",
                  "return grad_out / b, grad_out * a / b**2")]},
    {"exercise": "ch07.binary_rules", "name": "mul_backward: gradients swapped (a for b)",
     "names": ("swap", "other input"),
     "replace": [("return grad_out * b, grad_out * a", "return grad_out * a, grad_out * b")]},
    {"exercise": "ch07.binary_rules", "name": "pow_backward: n a^n (exponent not lowered)",
     "names": ("n-1", "n - 1", "exponent"),
     "replace": [("return grad_out * n * a ** (n - 1)", "return grad_out * n * a ** n")]},
    {"exercise": "ch07.unary_rules", "name": "relu_backward: derivative 1 at a = 0",
     "requirement": True, "names": ("a = 0", "a <= 0"),
     "replace": [("return grad_out * (a > 0)", "return grad_out * (a >= 0)")]},
    {"exercise": "ch07.unary_rules", "name": "tanh_backward: 1 - a^2 (the input for the output)",
     "names": ("tanh(a)", "output"),
     "replace": [("return grad_out * (1.0 - np.tanh(a) ** 2)",
                  "return grad_out * (1.0 - a ** 2)")]},
    {"exercise": "ch07.unary_rules", "name": "exp_backward with math.exp (numbers only)",
     "requirement": True, "names": ("array", "math"),
     "replace": [("return grad_out * np.exp(a)", "return grad_out * math.exp(a)")]},
    {"exercise": "ch07.unary_rules", "name": "log_backward: upstream gradient forgotten",
     "names": ("grad_out", "upstream"),
     "replace": [("return grad_out / a", "return 1 / a")]},
    {"exercise": "ch07.topological_order", "name": "recursive depth-first search",
     "requirement": True, "names": ("recursion",),
     "source": "def topological_order(parents, output):\n"
               "    order, visited = [], set()\n\n"
               "    def visit(node):\n"
               "        if node in visited:\n            return\n"
               "        visited.add(node)\n"
               "        for parent in parents[node]:\n            visit(parent)\n"
               "        order.append(node)\n"
               "    visit(output)\n    return order\n"},
    {"exercise": "ch07.topological_order", "name": "node appended before its parents",
     "names": ("after", "parents"),
     "source": "def topological_order(parents, output):\n"
               "    order, visited, stack = [], set(), [output]\n"
               "    while stack:\n        node = stack.pop()\n"
               "        if node in visited:\n            continue\n"
               "        visited.add(node)\n        order.append(node)\n"
               "        stack.extend(parents[node])\n"
               "    return order\n"},
    {"exercise": "ch07.topological_order", "name": "no visited set (a node expanded per path)",
     "slow": True, "requirement": True, "names": ("once", "visited"),
     "source": "def topological_order(parents, output):\n"
               "    order, stack = [], [(output, False)]\n"
               "    while stack:\n        node, done = stack.pop()\n"
               "        if done:\n"
               "            if node not in order:\n                order.append(node)\n"
               "            continue\n"
               "        stack.append((node, True))\n"
               "        stack.extend((p, False) for p in parents[node])\n"
               "    return order\n"},
    {"exercise": "ch07.backward", "name": "gradients overwritten, not accumulated",
     "names": ("accumulat", "add (+=)", "add up"),
     "replace": [("grad[parent] += grad[node] * derivative",
                  "grad[parent] = grad[node] * derivative")]},
    {"exercise": "ch07.backward", "name": "nodes visited in forward order",
     "names": ("reverse", "order"),
     "replace": [("for node in reversed(topological_order(parents, graph[\"output\"])):",
                  "for node in topological_order(parents, graph[\"output\"]):")]},
    {"exercise": "ch07.value", "name": "__mul__ overwrites .grad (= not +=)",
     "names": ("accumulat", "+=", "twice"),
     "replace": [("            self.grad += grad_a\n            other.grad += grad_b\n"
                  "            ### END SOLUTION\n        out._backward = _backward\n"
                  "        return out\n\n    def __truediv__",
                  "            self.grad = grad_a\n            other.grad = grad_b\n"
                  "            ### END SOLUTION\n        out._backward = _backward\n"
                  "        return out\n\n    def __truediv__")]},
    {"exercise": "ch07.value", "name": "recursive backward()", "requirement": True,
     "names": ("recursi",),
     "replace": [("        order, visited, stack = [], set(), [(self, False)]\n"
                  "        while stack:\n"
                  "            node, parents_done = stack.pop()\n"
                  "            if parents_done:\n"
                  "                order.append(node)\n"
                  "            elif node not in visited:\n"
                  "                visited.add(node)\n"
                  "                stack.append((node, True))\n"
                  "                stack.extend((p, False) for p in node.parents if p not in "
                  "visited)\n",
                  "        order, visited = [], set()\n\n"
                  "        def visit(node):\n"
                  "            if node not in visited:\n"
                  "                visited.add(node)\n"
                  "                for p in node.parents:\n"
                  "                    visit(p)\n"
                  "                order.append(node)\n"
                  "        visit(self)\n")]},
    {"exercise": "ch07.value", "name": "tanh backward uses the output's derivative twice",
     "names": ("tanh",),
     "replace": [("self.grad += tanh_backward(self.data, out.grad)",
                  "self.grad += tanh_backward(out.data, out.grad)")]},
    {"exercise": "ch07.matmul_backward", "name": "dB transposed (G.T @ A)",
     "names": ("transpose",),
     "replace": [("return G @ B.T, A.T @ G", "return G @ B.T, G.T @ A")]},
    {"exercise": "ch07.matmul_backward", "name": "dA and dB swapped roles (B.T @ ...)",
     "names": ("shape", "transpose"),
     "replace": [("return G @ B.T, A.T @ G", "return (B @ G.T).T @ np.eye(A.shape[1]) "
                                             "if False else G @ B, A.T @ G")]},
    {"exercise": "ch07.add_backward", "name": "unbroadcast without keepdims",
     "requirement": True, "names": ("keepdims", "shape"),
     "replace": [("return grad.sum(axis=stretched, keepdims=True)",
                  "return grad.sum(axis=stretched)")]},
    {"exercise": "ch07.add_backward", "name": "only the prepended axes summed",
     "names": ("length 1", "keepdims", "shape"),
     "replace": [("return grad.sum(axis=stretched, keepdims=True)", "return grad")]},
    {"exercise": "ch07.hessian_vector_product", "name": "tanh's second derivative forgotten",
     "names": ("W1", "b1"),
     "replace": [("G1_dot = dH_dot * (1.0 - H**2) - 2.0 * H * H_dot * dH",
                  "G1_dot = dH_dot * (1.0 - H**2)")]},
    {"exercise": "ch07.hessian_vector_product", "name": "W2 held fixed (G2 @ V2.T dropped)",
     "names": ("W1", "b1"),
     "replace": [("dH_dot = G2_dot @ W2.T + G2 @ V2.T", "dH_dot = G2_dot @ W2.T")]},
    # ---------------------------------------------------------------- chapter 8
    {"exercise": "ch08.momentum_step", "name": "velocity adds the gradient (+ lr g)",
     "names": ("sign",),
     "replace": [("velocity_new = momentum * velocity - lr * g",
                  "velocity_new = momentum * velocity + lr * g")]},
    {"exercise": "ch08.momentum_step", "name": "moves by the old velocity",
     "names": ("new velocity", "velocity_new"),
     "replace": [("return w + velocity_new, velocity_new",
                  "return w + momentum * velocity - lr * g * 0 + velocity * 0 + velocity, "
                  "velocity_new")]},
    {"exercise": "ch08.momentum_step", "name": "updates velocity in place", "requirement": True,
     "names": ("in place", "copy"),
     "replace": [("velocity_new = momentum * velocity - lr * g",
                  "velocity *= momentum\n    velocity -= lr * g\n    velocity_new = velocity")]},
    {"exercise": "ch08.run_gradient_descent", "name": "path without x0", "requirement": True,
     "names": ("x0", "first row", "shape"),
     "replace": [("    path = [x]\n", "    path = []\n")]},
    {"exercise": "ch08.run_gradient_descent", "name": "one array updated in place in the path",
     "names": ("in place", "copy", "same array"),
     "replace": [("        x = sgd_step(x, A @ x - b, lr)\n",
                  "        x -= lr * (A @ x - b)\n")]},
    {"exercise": "ch08.nesterov_step", "name": "plain momentum (no look-ahead)",
     "names": ("look-ahead", "plain momentum"),
     "replace": [("return w + momentum * velocity_new - lr * g, velocity_new",
                  "return w + velocity_new, velocity_new")]},
    {"exercise": "ch08.nesterov_step", "name": "look-ahead with the old velocity",
     "names": ("look-ahead", "velocity_new", "new velocity"),
     "replace": [("return w + momentum * velocity_new - lr * g, velocity_new",
                  "return w + momentum * velocity - lr * g, velocity_new")]},
    {"exercise": "ch08.nesterov_step", "name": "modifies w in place", "requirement": True,
     "names": ("in place", "copy"),
     "replace": [("return w + momentum * velocity_new - lr * g, velocity_new",
                  "w += momentum * velocity_new - lr * g\n    return w, velocity_new")]},
    # ---------------------------------------------------------------- chapter 9
    {"exercise": "ch09.train", "name": "the same order every epoch (generator re-made)",
     "requirement": True, "names": ("one generator", "fresh", "same order"),
     "replace": [("rng.permutation(len(X)))", "np.random.default_rng(seed).permutation(len(X)))")]},
    {"exercise": "ch09.train", "name": "losses returned as numpy values of the last epoch only",
     "requirement": True, "names": ("one loss per epoch",),
     "replace": [("        losses.append(float(loss))\n", "        losses = [float(loss)]\n")]},
    {"exercise": "ch09.overfitting", "name": "regularise without regularisation (overfits)",
     "slow": True, "names": ("gap",),
     "replace": [("            if waited >= patience:\n                break\n"
                  "    return best_params",
                  "            if waited >= patience:\n                break\n"
                  "    return params if False else overfit(X_train, Y_train, seed)")]},
    {"exercise": "ch09.overfitting", "name": "overfit with a tiny network (cannot overfit)",
     "slow": True, "names": ("gap", "training loss"),
     "replace": [("sizes = [X_train.shape[1], 64, 64, Y_train.shape[1]]\n"
                  "    params, _ = train(X_train, Y_train, sizes, 3000",
                  "sizes = [X_train.shape[1], 2, Y_train.shape[1]]\n"
                  "    params, _ = train(X_train, Y_train, sizes, 300")]},
    {"exercise": "ch09.dropout", "name": "not inverted (no division by 1 - rate)",
     "requirement": True, "names": ("1 - rate", "expected value", "factor"),
     "replace": [("return np.where(mask, X / (1 - rate), 0.0)", "return np.where(mask, X, 0.0)")]},
    {"exercise": "ch09.dropout", "name": "mask keeps with probability rate",
     "requirement": True, "names": ("1 - rate", ">= rate", "keep"),
     "replace": [("random(shape) >= rate", "random(shape) < rate")]},
    {"exercise": "ch09.dropout", "name": "drops at inference too", "requirement": True,
     "names": ("inference", "training=False", "identity"),
     "replace": [("    if not training:\n        return X\n", "")]},
    {"exercise": "ch09.dropout", "name": "backward ignores the mask",
     "names": ("mask", "dropped"),
     "replace": [("return np.where(mask, dA / (1 - rate), 0.0)", "return dA / (1 - rate)")]},
    {"exercise": "ch09.batchnorm", "name": "variance divided by n - 1", "requirement": True,
     "names": ("n - 1", "ddof", "divide by n"),
     "replace": [("mean, variance = X.mean(axis=0), X.var(axis=0)",
                  "mean, variance = X.mean(axis=0), X.var(axis=0, ddof=1)")]},
    {"exercise": "ch09.batchnorm", "name": "momentum weights the new value",
     "requirement": True, "names": ("momentum", "moving"),
     "replace": [("moving_mean = momentum * moving_mean + (1 - momentum) * mean",
                  "moving_mean = (1 - momentum) * moving_mean + momentum * mean")]},
    {"exercise": "ch09.batchnorm", "name": "batch statistics at inference", "requirement": True,
     "names": ("moving", "inference"),
     "replace": [("        mean, variance = moving_mean, moving_variance\n",
                  "        mean, variance = X.mean(axis=0), X.var(axis=0)\n")]},
    {"exercise": "ch09.batchnorm", "name": "moving averages updated in place",
     "requirement": True, "names": ("in place", "copy"),
     "replace": [("        moving_mean = momentum * moving_mean + (1 - momentum) * mean\n",
                  "        moving_mean *= momentum\n"
                  "        moving_mean += (1 - momentum) * mean\n")]},
    {"exercise": "ch09.batchnorm", "name": "backward: statistics treated as constants",
     "names": ("dX", "mean"),
     "replace": [("dX = (g - g.mean(axis=0) - X_hat * (g * X_hat).mean(axis=0)) * inv_std",
                  "dX = g * inv_std")]},
    {"exercise": "ch09.clip_by_global_norm", "name": "literal norm (squares overflow)",
     "requirement": True, "names": ("overflow", "inf", "underflow"),
     "replace": [("global_norm = largest * float(np.sqrt(sum(np.sum((g / largest) ** 2) for g "
                  "in grads)))",
                  "global_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))")]},
    {"exercise": "ch09.clip_by_global_norm", "name": "each array clipped by its own norm",
     "names": ("global", "same factor", "one long vector"),
     "source": "def clip_by_global_norm(grads, max_norm):\n"
               "    if not max_norm > 0:\n        raise ValueError('max_norm must be > 0')\n"
               "    grads = [np.asarray(g, dtype=float) for g in grads]\n"
               "    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
               "    return [g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300))"
               " for g in grads], norm\n"},
    {"exercise": "ch09.clip_by_global_norm", "name": "zero gradients give nan",
     "requirement": True, "names": ("nan", "zero"),
     "replace": [("    if largest == 0.0:\n        return [g.copy() for g in grads], 0.0\n", "")]},
    {"exercise": "ch09.clip_by_global_norm", "name": "no ValueError for max_norm <= 0",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if not max_norm > 0:\n        raise", "    if False:\n        raise")]},
    # ---------------------------------------------------------------- chapter 10
    {"exercise": "ch10.train_digits_cnn", "name": "softmax in a hidden layer",
     "requirement": True, "names": ("softmax",),
     "replace": [("keras.layers.Dense(64, activation=\"relu\")",
                  "keras.layers.Dense(64, activation=\"softmax\")")]},
    {"exercise": "ch10.train_digits_cnn", "name": "no seed (keras.utils.set_random_seed)",
     "requirement": True, "names": ("seed",),
     "replace": [("    keras.utils.set_random_seed(seed)\n", "")]},
    {"exercise": "ch10.transfer_weights", "name": "softmax on a single output unit",
     "requirement": True, "names": ("sigmoid",),
     "replace": [("activation = \"softmax\" if n_out > 1 else \"sigmoid\"",
                  "activation = \"softmax\"")]},
    {"exercise": "ch10.transfer_weights", "name": "ReLU on the output layer too",
     "names": ("output", "softmax", "sigmoid"),
     "replace": [("activation = \"softmax\" if n_out > 1 else \"sigmoid\"",
                  "activation = \"relu\"")]},
    {"exercise": "ch10.build_residual_mlp", "name": "no skip connection (branch only)",
     "requirement": True, "names": ("Add", "skip", "residual"),
     "replace": [("hidden = keras.layers.Add()([hidden, branch])", "hidden = branch")]},
    # ---------------------------------------------------------------- chapter 11
    {"exercise": "ch11.conv2d_layer", "name": "bias forgotten", "names": ("bias", "term"),
     "replace": [("    return Y + bias\n", "    return Y\n")]},
    {"exercise": "ch11.conv2d_layer", "name": "channel mismatch error without the numbers",
     "requirement": True, "names": ("does not name",),
     "replace": [("raise ValueError(f\"X has {c_in} channels but the kernels expect {k_in} "
                  "(kernels.shape[2])\")", "raise ValueError(\"channel mismatch\")")]},
    {"exercise": "ch11.conv2d_layer", "name": "flipped kernel (true convolution)",
     "names": ("flip", "reverse"),
     "replace": [("@ kernels[u, v]", "@ kernels[kh - 1 - u, kw - 1 - v]")]},
    {"exercise": "ch11.conv2d_strided", "name": "same padding: extra zero at the top",
     "requirement": True, "names": ("bottom", "wrong side"),
     "replace": [("pads.append((total // 2, total - total // 2))",
                  "pads.append((total - total // 2, total // 2))")]},
    {"exercise": "ch11.conv2d_strided", "name": "no ValueError for an unknown padding",
     "requirement": True, "names": ("ValueError", "not rejected"),
     "replace": [("    if padding not in (\"valid\", \"same\"):\n        raise",
                  "    if False:\n        raise")]},
    {"exercise": "ch11.conv2d_strided", "name": "same padding symmetric (floor on both sides)",
     "names": ("bottom", "extra", "shape"),
     "replace": [("pads.append((total // 2, total - total // 2))",
                  "pads.append((total // 2, total // 2))")]},
    # ---------------------------------------------------------------- chapter 12
    {"exercise": "ch12.dense_layer", "name": "db keeps the batch axis",
     "names": ("keepdims", "shape"),
     "replace": [("dZ.sum(axis=0)", "dZ.sum(axis=0, keepdims=True)")]},
    {"exercise": "ch12.dense_layer", "name": "dW transposed", "names": ("transpose",),
     "replace": [("X.T @ dZ", "dZ.T @ X")]},
    {"exercise": "ch12.cross_entropy_from_logits", "name": "no max shift (overflows)",
     "requirement": True, "names": ("overflow", "nan", "inf"),
     "replace": [("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")]},
    {"exercise": "ch12.cross_entropy_from_logits", "name": "gradient not divided by n",
     "names": ("factor", "mean", "1/n"),
     "replace": [("return float(loss), dlogits / n", "return float(loss), dlogits")]},
    {"exercise": "ch12.mlp_loss_and_grads", "name": "ReLU on the output layer too",
     "names": ("last layer", "output", "logits"),
     "replace": [("A = np.maximum(Z, 0.0) if l < n_layers else Z", "A = np.maximum(Z, 0.0)")]},
    {"exercise": "ch12.mlp_loss_and_grads", "name": "ReLU derivative forgotten",
     "names": ("ReLU", "derivative"),
     "replace": [("dZ = dA * (inputs[l - 1] > 0)", "dZ = dA")]},
    {"exercise": "ch12.adam_update", "name": "no bias correction", "requirement": True,
     "names": ("bias correction", "factor"),
     "replace": [("step = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)",
                  "step = learning_rate")]},
    {"exercise": "ch12.adam_update", "name": "step counter never advances", "requirement": True,
     "names": ("step", " t "),
     "replace": [("return new_params, {\"t\": t, ", "return new_params, {\"t\": state[\"t\"], ")]},
    {"exercise": "ch12.fit", "name": "unweighted mean of batch losses", "requirement": True,
     "names": ("weight", "number of rows", "batch size"),
     "replace": [("total += loss * len(rows)", "total += loss * batch_size")]},
    {"exercise": "ch12.fit", "name": "returns the last parameters, not the best",
     "requirement": True, "names": ("best", "lowest validation"),
     "replace": [("    return best_params, history", "    return params, history")]},
    {"exercise": "ch12.fit", "name": "one shuffle for all epochs", "requirement": True,
     "names": ("afresh", "shuffle", "order"),
     "replace": [("        order = rng.permutation(n)\n", ""),
                 ("    best_loss, best_params, waited = np.inf, params, 0\n",
                  "    best_loss, best_params, waited = np.inf, params, 0\n"
                  "    order = rng.permutation(n)\n")]},
    {"exercise": "ch12.fit", "name": "patience counter not reset on improvement",
     "requirement": True, "names": ("patience", "in a row", "early stop"),
     "replace": [("best_loss, best_params, waited = val_loss, params, 0",
                  "best_loss, best_params = val_loss, params")]},
    {"exercise": "ch12.train_digits", "name": "trained for one epoch only",
     "names": ("accuracy", "0.95"),
     "replace": [("epochs=200", "epochs=1")]},
]
