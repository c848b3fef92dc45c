"""Benchmark nnlib's training speed (a script that prints figures; not a test).

Part 1: the same MLP (digits, 64-128-10, relu/softmax, Adam, categorical
cross-entropy, 20 epochs) trained by nnlib and by Keras 3 on the JAX backend,
at batch sizes 32 and 256, both in float32 (Keras' default). Prints the
per-epoch times and the ratio nnlib/Keras (below 1 means nnlib is faster).
Keras' first epoch includes JIT compilation, so the comparison uses the
median (and the best) epoch time of epochs 2..20.

Part 2: a large MLP (1024-1024-1024-10, float32, batch 512). Prints the
achieved GFLOP/s of a whole training step (forward + backward + Adam
update), counting ``6 * batch * sum(n_in * n_out)`` FLOPs per step, as a
fraction of numpy's own float32 matmul rate on the same matrix products.
The two are measured alternately and the best time of each is kept, so that
load from other processes on the machine affects both alike.

Part 3: the Part 1 network at batch 32 with batch normalisation and dropout
(Dense -> BatchNormalization -> relu -> Dropout(0.2) -> Dense), in nnlib and
in Keras: the median epoch time, and its ratio to the plain network's.

Run from the project root:

    KERAS_BACKEND=jax python benchmarks/bench_nnlib.py [--quick] [--no-keras]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import nnlib  # noqa: E402
from nnlib.data import load_digits, one_hot, standardize  # noqa: E402

EPOCHS = 20


def digits_float32():
    X, y = load_digits()
    return standardize(X).astype(np.float32), one_hot(y, 10, dtype=np.float32)


def train_nnlib(X, Y, batch_size, epochs, dtype=np.float32, regularised=False):
    model = nnlib.MLP([64, 128, 10], activation="relu", output_activation="softmax",
                      seed=0, dtype=dtype, batch_norm=regularised,
                      dropout=0.2 if regularised else 0.0)
    model.compile(loss="categorical_crossentropy", optimizer=nnlib.Adam())
    history = model.fit(X.astype(dtype), Y.astype(dtype), epochs=epochs,
                        batch_size=batch_size, seed=0, verbose=0)
    return history.epoch_times, history.history["accuracy"][-1]


def train_keras(X, Y, batch_size, epochs, regularised=False):
    import keras

    keras.utils.set_random_seed(0)

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t0)

    hidden = ([keras.layers.Dense(128), keras.layers.BatchNormalization(),
               keras.layers.Activation("relu"), keras.layers.Dropout(0.2, seed=0)]
              if regularised else [keras.layers.Dense(128, activation="relu")])
    model = keras.Sequential([keras.Input(shape=(64,)), *hidden,
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    timer = EpochTimer()
    history = model.fit(X, Y, epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=[timer])
    return timer.times, history.history["accuracy"][-1]


def fmt_ms(times):
    return " ".join(f"{1000 * t:.0f}" for t in times)


def part1(epochs, with_keras):
    X, Y = digits_float32()
    print(f"Part 1: digits ({len(X)} samples), MLP 64-128-10 relu/softmax, Adam, "
          f"{epochs} epochs, float32")
    results = {}
    for batch_size in (32, 256):
        nn_times, nn_acc = train_nnlib(X, Y, batch_size, epochs)
        nn64_times, _ = train_nnlib(X, Y, batch_size, epochs, dtype=np.float64)
        nn_med, nn_min = statistics.median(nn_times[1:]), min(nn_times[1:])
        print(f"\n  batch {batch_size}:")
        print(f"    nnlib float32 epoch times (ms): {fmt_ms(nn_times)}")
        print(f"    nnlib float32 median epoch {1000 * nn_med:.1f} ms, final train accuracy "
              f"{nn_acc:.3f}; (float64: median {1000 * statistics.median(nn64_times[1:]):.1f} ms)")
        if with_keras:
            k_times, k_acc = train_keras(X, Y, batch_size, epochs)
            k_med, k_min = statistics.median(k_times[1:]), min(k_times[1:])
            print(f"    Keras/JAX epoch times (ms):     {fmt_ms(k_times)}")
            print(f"    Keras/JAX median epoch {1000 * k_med:.1f} ms (first epoch, with JIT: "
                  f"{1000 * k_times[0]:.0f} ms), final train accuracy {k_acc:.3f}")
            print(f"    ratio nnlib/Keras: median epoch {nn_med / k_med:.2f}, best epoch "
                  f"{nn_min / k_min:.2f}  ({'nnlib faster' if nn_med < k_med else 'Keras faster'})")
            results[batch_size] = nn_med / k_med
    return results


def part3(epochs, with_keras):
    X, Y = digits_float32()
    print(f"\nPart 3: the Part 1 MLP with BatchNormalization and Dropout(0.2) after the hidden "
          f"Dense layer, batch 32, {epochs} epochs, float32")
    trainers = [("nnlib", train_nnlib)] + ([("Keras/JAX", train_keras)] if with_keras else [])
    medians = {}
    for name, train in trainers:
        plain, _ = train(X, Y, 32, epochs)
        regularised, accuracy = train(X, Y, 32, epochs, regularised=True)
        medians[name] = statistics.median(regularised[1:])
        print(f"    {name}: median epoch {1000 * medians[name]:.1f} ms, "
              f"{medians[name] / statistics.median(plain[1:]):.2f} x the plain network's; "
              f"final train accuracy {accuracy:.3f}")
    if with_keras:
        print(f"    ratio nnlib/Keras: {medians['nnlib'] / medians['Keras/JAX']:.2f}")


def step_products(sizes, batch, rng):
    """The matrix products of one training step: forward X @ W, then
    dW = X.T @ dZ and dX = dZ @ W.T for every layer."""
    products = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        X = rng.standard_normal((batch, n_in), dtype=np.float32)
        W = rng.standard_normal((n_in, n_out), dtype=np.float32)
        dZ = rng.standard_normal((batch, n_out), dtype=np.float32)
        products += [(X, W), (X.T, dZ), (dZ, W.T)]
    return products


def time_products(products):
    t0 = time.perf_counter()
    for a, b in products:
        a @ b
    return time.perf_counter() - t0


def part2(repeats):
    sizes, batch = [1024, 1024, 1024, 10], 512
    print(f"\nPart 2: MLP {'-'.join(map(str, sizes))}, float32, batch {batch}, Adam")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    Y = one_hot(rng.integers(0, sizes[-1], batch), sizes[-1], dtype=np.float32)
    model = nnlib.MLP(sizes, seed=0, dtype=np.float32)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    products = step_products(sizes, batch, rng)
    step_times, matmul_times = [], []
    # Interleave the two measurements and keep the best of each, so that
    # load from other processes affects both alike.
    for _ in range(repeats):
        # one epoch over one batch = exactly one training step inside fit()
        history = model.fit(X, Y, epochs=3, batch_size=batch, verbose=0)
        step_times += history.epoch_times
        matmul_times += [time_products(products) for _ in range(3)]
    flops = 6 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    step, matmul = min(step_times[1:]), min(matmul_times[1:])
    achieved, reference = flops / step / 1e9, flops / matmul / 1e9
    print(f"  training step (forward + backward + Adam, inside fit): best {1000 * step:.1f} ms, "
          f"median {1000 * statistics.median(step_times[1:]):.1f} ms")
    print(f"  achieved: {achieved:.1f} GFLOP/s  (6 * batch * sum(n_in * n_out) = "
          f"{flops / 1e9:.2f} GFLOP per step)")
    print(f"  numpy float32 matmul on the same products: {reference:.1f} GFLOP/s "
          f"(best {1000 * matmul:.1f} ms)")
    print(f"  fraction of the matmul rate: {achieved / reference:.0%}")
    # nnlib (like Keras/JAX) skips dL/dX of the first layer, which training
    # never needs; counting only the products actually computed:
    done = flops - 2 * batch * sizes[0] * sizes[1]
    rate = done / step / 1e9
    print(f"  counting only the products computed (no dX for layer 1): "
          f"{rate:.1f} GFLOP/s, {rate / reference:.0%} of the matmul rate")
    return achieved / reference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras runs")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPU(s), {platform.machine()}")
    if not args.no_keras:
        import keras

        print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")
    epochs = 5 if args.quick else EPOCHS
    part1(epochs, with_keras=not args.no_keras)
    part2(repeats=3 if args.quick else 10)
    part3(epochs, with_keras=not args.no_keras)


if __name__ == "__main__":
    main()
