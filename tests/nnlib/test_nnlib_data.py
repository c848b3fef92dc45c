"""Data sets and preprocessing."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnlib import data


def test_xor():
    X, y = data.make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y.ravel(), np.logical_xor(X[:, 0], X[:, 1]))
    assert y.shape == (4, 1)


@pytest.mark.parametrize("maker", [data.make_moons, data.make_circles, data.make_spirals])
def test_generated_sets_are_seeded_and_shaped(maker):
    X1, y1 = maker(n_samples=101, seed=3)
    X2, y2 = maker(n_samples=101, seed=3)
    X3, _ = maker(n_samples=101, seed=4)
    assert X1.shape == (101, 2) and y1.shape == (101,)
    assert X1.dtype == np.float64 and np.issubdtype(y1.dtype, np.integer)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_moons_and_circles_geometry_without_noise():
    X, y = data.make_moons(200, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # unit half circle at the origin
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(upper[:, 1] >= -1e-12) and np.all(lower[:, 1] <= 0.5 + 1e-12)
    X, y = data.make_circles(100, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)


def test_spirals_classes():
    X, y = data.make_spirals(n_samples=300, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12


@pytest.mark.parametrize("loader, shape, n_classes", [
    (data.load_digits, (1797, 64), 10),
    (data.load_breast_cancer, (569, 30), 2),
    (data.load_iris, (150, 4), 3),
])
def test_bundled_classification_sets(loader, shape, n_classes):
    X, y = loader()
    assert X.shape == shape and X.dtype == np.float64
    assert y.shape == (shape[0],) and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(n_classes))


def test_diabetes_is_regression():
    X, y = data.load_diabetes()
    assert X.shape == (442, 10) and y.dtype == np.float64 and len(np.unique(y)) > 100


@pytest.mark.parametrize("name", ["load_digits", "load_breast_cancer", "load_iris",
                                  "load_diabetes"])
def test_bundled_sets_equal_scikit_learns_loaders(name):
    import sklearn.datasets

    X, y = getattr(data, name)()
    expected = getattr(sklearn.datasets, name)()
    np.testing.assert_array_equal(X, expected.data)   # bit for bit, diabetes' scaling included
    np.testing.assert_array_equal(y, expected.target)


def test_loading_a_bundled_set_does_not_import_scikit_learn():
    code = ("import sys; from nnlib import data; data.load_digits(); data.load_diabetes(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_train_test_split_sizes_disjointness_and_seed():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_te) == 5 and len(X_tr) == 15
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay paired
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    assert len(data.train_test_split(X, y, test_size=3, seed=0)[1]) == 3


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 1))
    _, _, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=1, stratify=y)
    assert np.bincount(y_te).tolist() == [20, 5]
    assert np.bincount(y_tr).tolist() == [60, 15]


def test_standard_scaler_uses_training_statistics():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 3.0, (200, 3))
    X_train[:, 2] = 7.0  # constant column: left unscaled, not divided by 0
    scaler = data.StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1)
    np.testing.assert_array_equal(Z[:, 2], 0.0)
    X_test = np.array([[5.0, 5.0, 7.0]])
    expected = (X_test - X_train.mean(axis=0)) / np.where(X_train.std(axis=0) > 0,
                                                          X_train.std(axis=0), 1)
    np.testing.assert_allclose(scaler.transform(X_test), expected)
    np.testing.assert_allclose(data.standardize(X_test, reference=X_train), expected)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X_test)), X_test)
    assert scaler.transform(X_train.astype(np.float32)).dtype == np.float32


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert data.one_hot([0, 1], n_classes=4).shape == (2, 4)
    assert data.one_hot(np.array([[1], [0]])).shape == (2, 2)
    assert data.one_hot([1], dtype=np.float32).dtype == np.float32


def test_data_errors_name_expected_and_given():
    with pytest.raises(ValueError,
                       match=r"label 5 does not fit n_classes=3 \(labels must be 0 .. 2\)"):
        data.one_hot([0, 5], n_classes=3)
    with pytest.raises(ValueError, match="integer class labels"):
        data.one_hot([0.5, 1.0])
    with pytest.raises(ValueError, match="labels >= 0, got -1"):
        data.one_hot([-1, 0])
    with pytest.raises(ValueError, match=r"X with 10 .* y with 9"):
        data.train_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="test_size as a fraction in"):
        data.train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=1.5)
    with pytest.raises(RuntimeError, match="fit"):
        data.StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"fitted on 2 features, got X with shape \(1, 3\)"):
        data.StandardScaler().fit(np.zeros((3, 2))).transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="nan/inf"):
        data.StandardScaler().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match="positive integer, got 0"):
        data.make_moons(0)
