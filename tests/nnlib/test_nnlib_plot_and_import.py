"""Plot helpers return what they drew on; importing nnlib stays light."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import plot
from nnlib.data import make_moons

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_activations_draws_curve_and_derivative(plt):
    ax = plot.plot_activations(["sigmoid", "relu"])
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["sigmoid", "sigmoid' (derivative)", "relu", "relu' (derivative)"]
    x, y = ax.get_lines()[1].get_data()
    assert y.max() == pytest.approx(0.25, abs=1e-3)  # sigmoid' peaks at 1/4
    with pytest.raises(ValueError, match="element-wise activation 'softmax'"):
        plot.plot_activations("softmax")


def test_plot_history_uses_given_axes(plt):
    X, y = make_moons(60, noise=0.1, seed=0)
    model = nnlib.MLP([2, 8, 1], seed=0)
    model.compile("binary_crossentropy", "adam")
    history = model.fit(X, y, epochs=4, validation_data=(X, y), verbose=0)
    fig, axes = plt.subplots(1, 2)
    out = plot.plot_history(history, axes=axes)
    assert list(out) == list(axes)
    assert [len(ax.get_lines()) for ax in axes] == [2, 2]
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), history.history["loss"])
    assert len(plot.plot_history({"loss": [3, 2, 1]})) == 1
    with pytest.raises(ValueError, match="'loss'"):
        plot.plot_history({"acc": [1]})


def test_plot_decision_boundary_and_descent_path(plt):
    X, y = make_moons(50, noise=0.1, seed=0)
    model = nnlib.MLP([2, 4, 1], seed=0)
    ax = plot.plot_decision_boundary(model.predict, X, y, resolution=30)
    assert len(ax.collections) >= 2  # filled contour + scatter
    path = np.array([[2.0, 1.0], [1.0, 0.5], [0.2, 0.1]])
    ax = plot.plot_descent_path(lambda a, b: a**2 + 10 * b**2, {"sgd": path, "adam": path / 2})
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] \
        == ["sgd", "adam"]
    with pytest.raises(ValueError, match=r"\(n_samples, 2\), got shape \(50, 3\)"):
        plot.plot_decision_boundary(model.predict, np.zeros((50, 3)), y)


def test_import_nnlib_does_not_load_heavy_packages():
    code = ("import sys, nnlib; heavy = [m for m in ('matplotlib', 'sklearn', 'keras', 'jax', "
            "'scipy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_names():
    for name in ["Dense", "Activation", "Sequential", "MLP", "SGD", "Adam", "check_gradients",
                 "numerical_gradient", "relative_error", "one_hot", "train_test_split",
                 "StandardScaler", "standardize", "sgd_step", "momentum_step", "adam_step",
                 "dense_forward", "dense_backward", "History", "GradCheckReport"]:
        assert hasattr(nnlib, name), name
    for module in ["activations", "losses", "initializers", "layers", "model", "optimizers",
                   "gradcheck", "data", "plot"]:
        assert hasattr(nnlib, module), module
