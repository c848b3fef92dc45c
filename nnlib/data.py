"""Small data sets and preprocessing helpers (used from chapter 2 on;
preprocessing taught in chapter 9).

Everything here works offline: the toy sets are generated with numpy from an
explicit seed, and the real ones are the copies bundled inside scikit-learn
(read as files: scikit-learn is not imported). Nothing is downloaded.

Features come as float64 arrays ``X`` of shape ``(n_samples, n_features)``;
class labels as int64 arrays ``y`` of shape ``(n_samples,)`` (use
:func:`one_hot` for a softmax output).
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import (as_float, as_rng, check_2d, check_finite, check_int,
                          check_same_n_samples)

__all__ = [
    "make_xor", "make_moons", "make_circles", "make_spirals",
    "load_digits", "load_breast_cancer", "load_iris", "load_diabetes",
    "train_test_split", "StandardScaler", "standardize", "one_hot",
]


# --------------------------------------------------------------------------
# Generated data sets
# --------------------------------------------------------------------------

def make_xor():
    """The four XOR points (chapters 2, 4 and 9).

    Returns
    -------
    X : ndarray, shape (4, 2)
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.
    y : ndarray, shape (4, 1)
        ``[[0], [1], [1], [0]]``: a column, ready for a network with one
        output unit (and safe from the (4,) vs (4, 1) broadcasting trap in
        hand-written numpy code).
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, y


def _split_counts(n_samples, n_classes):
    """Split n_samples as evenly as possible into n_classes counts."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _finish(X, y, noise, rng):
    """Add Gaussian noise, then shuffle the rows."""
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(len(X))
    return X[order], y[order]


def make_moons(n_samples=100, noise=0.0, seed=None):
    """Two interleaving half circles, a classic non-linear 2-D problem
    (chapter 9). Same geometry as scikit-learn's ``make_moons``.

    Parameters
    ----------
    n_samples : int, default 100
        Total number of points (split evenly between the two moons).
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to each coordinate.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (n_samples, 2)
    y : ndarray of int, shape (n_samples,)
        0 for the upper moon, 1 for the lower one.
    """
    n_samples = check_int(n_samples, "n_samples")
    rng = as_rng(seed)
    n0, n1 = _split_counts(n_samples, 2)
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower])
    y = np.repeat([0, 1], [n0, n1])
    return _finish(X, y, noise, rng)


def make_circles(n_samples=100, noise=0.0, factor=0.5, seed=None):
    """A small circle inside a large one (chapter 9). Same geometry as
    scikit-learn's ``make_circles``.

    Parameters
    ----------
    n_samples : int, default 100
    noise : float, default 0.0
    factor : float in (0, 1), default 0.5
        Radius of the inner circle (the outer one has radius 1).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (n_samples, 2)
    y : ndarray of int, shape (n_samples,)
        0 for the outer circle, 1 for the inner one.
    """
    n_samples = check_int(n_samples, "n_samples")
    if not 0 < factor < 1:
        raise ValueError(f"expected factor in (0, 1), got {factor!r}")
    rng = as_rng(seed)
    n_out, n_in = _split_counts(n_samples, 2)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    outer = np.column_stack([np.cos(t_out), np.sin(t_out)])
    inner = factor * np.column_stack([np.cos(t_in), np.sin(t_in)])
    X = np.vstack([outer, inner])
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(X, y, noise, rng)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class (chapter 9): hard for a linear
    model, easy for a small MLP.

    Arm ``k`` has points at radius ``r`` in [0, 1] and angle
    ``4 r + 2 pi k / n_classes`` (plus noise on the angle).

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points (split evenly between the arms).
    n_classes : int, default 3
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to the angle.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (n_samples, 2)
    y : ndarray of int, shape (n_samples,), values 0 .. n_classes - 1
    """
    n_samples = check_int(n_samples, "n_samples")
    n_classes = check_int(n_classes, "n_classes")
    rng = as_rng(seed)
    parts, labels = [], []
    for k, count in enumerate(_split_counts(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, count)
        angle = 4 * r + 2 * np.pi * k / n_classes + rng.normal(scale=noise, size=count)
        parts.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
        labels.append(np.full(count, k))
    X, y = np.vstack(parts), np.concatenate(labels)
    order = rng.permutation(len(X))
    return X[order], y[order]


# --------------------------------------------------------------------------
# scikit-learn's bundled data sets (no download)
# --------------------------------------------------------------------------

_BUNDLED = {
    # loader: (data file, target file or None (the target is the last column), CSV delimiter)
    "load_digits": ("digits.csv.gz", None, ","),
    "load_breast_cancer": ("breast_cancer.csv", None, ","),
    "load_iris": ("iris.csv", None, ","),
    "load_diabetes": ("diabetes_data_raw.csv.gz", "diabetes_target.csv.gz", None),
}
"""The files of scikit-learn's bundled data sets that the loaders read."""


def _bundled_file(filename):
    """Path of a data file bundled with scikit-learn, found without importing scikit-learn
    (importing it costs about a second; the files are plain CSV)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nnlib's real data sets are the copies bundled with scikit-learn: "
                          "install it with  pip install scikit-learn")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / filename


def _read_table(filename, delimiter, skip_header):
    import gzip

    path = _bundled_file(filename)
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as lines:
        return np.loadtxt(lines, delimiter=delimiter, skiprows=int(skip_header), ndmin=2)


def _load(name):
    """(X, y) of a bundled data set, as scikit-learn's loader of the same name returns them:
    the CSV files with a header line of counts hold the target in their last column; the
    diabetes features are centred and scaled to unit Euclidean norm per column."""
    data_file, target_file, delimiter = _BUNDLED[name]
    if target_file is None:
        table = _read_table(data_file, delimiter, skip_header=not data_file.endswith(".gz"))
        return table[:, :-1].copy(), table[:, -1]
    X = _read_table(data_file, delimiter, skip_header=False)
    mean, std = X.mean(axis=0), X.std(axis=0)
    X -= mean
    X /= std
    X /= np.sqrt(len(X))
    return X, _read_table(target_file, delimiter, skip_header=False)[:, 0]


def load_digits():
    """8x8 images of handwritten digits, scikit-learn's bundled copy
    (the course's offline stand-in for MNIST; chapters 9 and 10).

    Returns
    -------
    X : ndarray, shape (1797, 64)
        Pixel intensities 0..16, one flattened 8x8 image per row.
    y : ndarray of int, shape (1797,)
        The digit, 0..9.
    """
    X, y = _load("load_digits")
    return X, y.astype(np.int64)


def load_breast_cancer():
    """Wisconsin breast-cancer diagnostics: 30 features, binary label
    (chapter 10). scikit-learn's bundled copy.

    Returns
    -------
    X : ndarray, shape (569, 30)
    y : ndarray of int, shape (569,)
        1 = benign, 0 = malignant.
    """
    X, y = _load("load_breast_cancer")
    return X, y.astype(np.int64)


def load_iris():
    """Fisher's iris flowers: 4 features, 3 classes. scikit-learn's copy.

    Returns
    -------
    X : ndarray, shape (150, 4)
    y : ndarray of int, shape (150,)
    """
    X, y = _load("load_iris")
    return X, y.astype(np.int64)


def load_diabetes():
    """Diabetes progression: 10 (already scaled) features, a real-valued
    target: a regression set. scikit-learn's copy.

    Returns
    -------
    X : ndarray, shape (442, 10)
    y : ndarray of float, shape (442,)
    """
    X, y = _load("load_diabetes")
    return X, y.astype(np.float64)


# --------------------------------------------------------------------------
# Splitting and preprocessing
# --------------------------------------------------------------------------

def train_test_split(X, y, test_size=0.25, seed=None, stratify=None):
    """Shuffle and split into training and test sets (chapter 9).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, k)
    test_size : float in (0, 1) or int, default 0.25
        Fraction (or number) of samples for the test set.
    seed : int or numpy.random.Generator, optional
    stratify : array_like of labels, shape (n_samples,), optional
        If given (usually ``y``), each class keeps (as nearly as possible)
        the same proportion in both sets.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        In scikit-learn's order.
    """
    X, y = np.asarray(X), np.asarray(y)
    check_same_n_samples(X, y)
    n = len(X)
    # any real number type (numpy scalars too): an integer is a count, anything else a fraction
    is_number = isinstance(test_size, numbers.Real) and not isinstance(test_size, (bool, np.bool_))
    is_count = is_number and isinstance(test_size, numbers.Integral)
    if is_number and not is_count and 0 < test_size < 1:
        n_test = int(np.ceil(test_size * n))
    elif is_count and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(
            f"expected test_size as a fraction in (0, 1) or a count in 1..{n - 1}, "
            f"got {test_size!r}"
        )
    rng = as_rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(f"expected stratify as labels of shape ({n},), got {labels.shape}")
        test_parts, train_parts = [], []
        classes = np.unique(labels)
        # Test rows per class, proportional to class size (largest remainders).
        exact = np.array([np.sum(labels == c) for c in classes]) * n_test / n
        counts = np.floor(exact).astype(int)
        for k in np.argsort(-(exact - counts))[: n_test - counts.sum()]:
            counts[k] += 1
        for c, count in zip(classes, counts):
            rows = rng.permutation(np.flatnonzero(labels == c))
            test_parts.append(rows[:count])
            train_parts.append(rows[count:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


class StandardScaler:
    """Standardise features to mean 0 and standard deviation 1, using the
    statistics of the data it was fitted on (chapter 9).

    Fit on the training set only, then transform training, validation and
    test sets with the same ``mean_`` and ``scale_``. Constant features
    (standard deviation 0) are left unscaled, as scikit-learn does.

    Attributes
    ----------
    mean_ : ndarray, shape (n_features,)
    scale_ : ndarray, shape (n_features,)
    """

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    def fit(self, X):
        """Learn per-feature mean and standard deviation from ``X``
        (shape (n_samples, n_features)); returns self."""
        X = check_finite(check_2d(X))
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def _check_fitted(self, X):
        if self.mean_ is None:
            raise RuntimeError("StandardScaler: call fit(X_train) before transform")
        X = check_2d(X)
        if X.shape[1] != len(self.mean_):
            raise ValueError(f"StandardScaler was fitted on {len(self.mean_)} features, "
                             f"got X with shape {X.shape}")
        return X

    def transform(self, X):
        """Return ``(X - mean_) / scale_``, same shape as ``X``."""
        X = self._check_fitted(X)
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        X = self._check_fitted(X)
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)


def standardize(X, reference=None):
    """Standardise ``X`` with the mean and standard deviation of
    ``reference`` (default: ``X`` itself) (chapter 9).

    ``standardize(X_test, reference=X_train)`` uses the training statistics,
    as it should: the test set must not influence preprocessing.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    reference : array_like, shape (m_samples, n_features), optional

    Returns
    -------
    ndarray, shape of ``X``
    """
    return StandardScaler().fit(X if reference is None else reference).transform(X)


def one_hot(y, n_classes=None, dtype=np.float64):
    """One-hot encode integer class labels (chapter 5).

    Parameters
    ----------
    y : array_like of int, shape (n_samples,)
        Labels 0 .. n_classes - 1.
    n_classes : int, optional
        Number of classes; default ``max(y) + 1``.
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray, shape (n_samples, n_classes)
        Row ``i`` is all zeros except a 1 in column ``y[i]``.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"one_hot expects labels of shape (n_samples,), got shape {y.shape}")
    if y.size and not np.all(np.equal(np.mod(as_float(y), 1), 0)):
        raise ValueError("one_hot expects integer class labels 0 .. n_classes - 1, "
                         f"got non-integer values such as {y[np.mod(as_float(y), 1) != 0][0]!r}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot expects labels >= 0, got {y.min()}")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= n_classes:
        raise ValueError(f"one_hot: label {y.max()} does not fit n_classes={n_classes} "
                         f"(labels must be 0 .. {n_classes - 1})")
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out
