"""nnlib: a small, readable numpy implementation of everything the course
"How neural networks work" teaches.

Arrays are ``(n_samples, n_features)`` and weights ``(n_in, n_out)``, as in
Keras and scikit-learn; float64 by default, float32 supported throughout.

Submodules (and the chapter that teaches them):

* :mod:`nnlib.activations` - activation functions and derivatives (ch. 3)
* :mod:`nnlib.layers` - Dense layers, forward (ch. 4) and backward (ch. 6)
* :mod:`nnlib.losses` - loss functions and their gradients (ch. 5)
* :mod:`nnlib.gradcheck` - gradient checking (ch. 6)
* :mod:`nnlib.optimizers` - SGD, momentum, Adam (ch. 7)
* :mod:`nnlib.initializers`, :mod:`nnlib.model`, :mod:`nnlib.data` - training (ch. 8)
* :mod:`nnlib.plot` - figures (matplotlib, imported only when plotting)

Importing nnlib does no I/O and imports neither matplotlib nor scikit-learn.
"""
from . import activations, data, gradcheck, initializers, layers, losses, model, optimizers, plot
from . import autodiff  # chapter 7: reverse-mode automatic differentiation (Value, Tensor)
from .data import StandardScaler, one_hot, standardize, train_test_split
from .gradcheck import GradCheckReport, check_gradients, numerical_gradient, relative_error
from .layers import Activation, Dense, dense_backward, dense_forward
from .model import MLP, History, Sequential
from .optimizers import SGD, Adam, adam_step, momentum_step, sgd_step

__version__ = "0.1.0"

__all__ = [
    "activations", "data", "gradcheck", "initializers", "layers", "losses", "model",
    "optimizers", "plot",
    "Dense", "Activation", "dense_forward", "dense_backward",
    "Sequential", "MLP", "History",
    "SGD", "Adam", "sgd_step", "momentum_step", "adam_step",
    "check_gradients", "numerical_gradient", "relative_error", "GradCheckReport",
    "one_hot", "train_test_split", "StandardScaler", "standardize",
]
