"""Reverse-mode automatic differentiation, for scalars and for arrays
(taught in chapter 7).

Every operation on a :class:`Value` (one number) or a :class:`Tensor` (a
numpy array) returns a new node that remembers its inputs (``parents``), the
operation's name (``op``) and a small *backward rule*: given the gradient of
the final result with respect to the node's output, the rule adds the
gradient with respect to each input (the chain rule, one operation at a
time). ``backward()`` then visits the recorded graph in reverse topological
order, so each node passes its gradient on only after every node that uses it
has contributed.

Gradients accumulate (``+=``): a value that feeds several operations receives
one contribution from each, and the multivariable chain rule says these add
up. Leaves (values you created, such as parameters) keep accumulating across
calls of ``backward()``; call :meth:`Value.zero_grad` / :meth:`Tensor.zero_grad`
before the next step, as in PyTorch.

The module stands alone (it uses only numpy and nnlib's activation and
validation helpers), in the spirit of Karpathy's micrograd. The topological
sort is iterative, so graphs of any depth work (a recursive one stops at
Python's recursion limit of about 1000 levels).

Shapes follow the rest of nnlib: a batch is ``(n_samples, n_features)`` and
a weight matrix ``(n_in, n_out)``, so a dense layer is ``X @ W + b``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._validation import as_float
from .activations import sigmoid as _sigmoid, softmax as _softmax

__all__ = ["Value", "Tensor", "softmax_cross_entropy", "topological_order"]


def topological_order(root):
    """Every node that ``root`` depends on, and ``root`` itself, each listed
    after all of its parents (taught in chapter 7).

    An iterative depth-first search with an explicit stack: it works for
    graphs of any depth, where a recursive search raises ``RecursionError``
    after about 1000 levels. A node reached along several paths appears once.

    Parameters
    ----------
    root : Value or Tensor
        Any node; only its ``parents`` links are followed.

    Returns
    -------
    list of nodes
        Leaves first, ``root`` last. Running ``backward`` rules in the
        reverse of this order gives each node its complete gradient before
        it passes that gradient on.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)  # every parent has been appended before this point
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))  # finish the node after its parents
        # reversed: the first parent is expanded first, as in the recursive version
        stack.extend((parent, False) for parent in reversed(node.parents)
                     if parent not in visited)
    return order


def _leaf_backward(out):
    """A leaf was not computed from anything: nothing to pass on."""


class _Node:
    """What :class:`Value` and :class:`Tensor` share: the graph links and the
    backward pass. Subclasses say how to reset a gradient and how to seed one."""

    __array_ufunc__ = None  # numpy operators defer to ours: array * node -> node.__rmul__

    def _set_links(self, parents, op, backward_rule):
        self.parents = parents
        self.op = op
        self._backward = backward_rule
        return self

    def backward(self, grad=None):
        """Backpropagate from this node: fill in ``grad`` for every node it depends on.

        Interior nodes get the gradient of this pass; leaves *add* it to
        what they hold (see :meth:`zero_grad`).

        Parameters
        ----------
        grad : float or ndarray, optional
            ``dL/d(this node)``, shaped like the node's data. Default 1,
            which is only allowed for a node holding a single number.
        """
        seed = self._seed(grad)
        order = topological_order(self)
        for node in order:
            if node.parents:  # interior nodes: recomputed from scratch on each pass
                node._reset_grad()
        self.grad = self.grad + seed
        for node in reversed(order):
            node._backward(node)

    def zero_grad(self):
        """Set to zero the gradient of this node and of every node it depends on."""
        for node in topological_order(self):
            node._reset_grad()


# --------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------

def _check_real(x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


class Value(_Node):
    """One number that records how it was computed (taught in chapter 7).

    Supports ``+ - * /`` with other Values or numbers, ``** n`` for a number
    ``n``, and the methods :meth:`exp`, :meth:`log`, :meth:`tanh`,
    :meth:`relu` and :meth:`sigmoid`. After ``loss.backward()`` every Value
    that ``loss`` depends on holds ``grad = dloss/d(value)``.

    Parameters
    ----------
    data : real number
    label : str, optional
        A name shown when the graph is drawn, e.g. ``"w"``.

    Attributes
    ----------
    data : float
    grad : float
        Gradient of the value ``backward()`` was called on with respect to
        this one; 0.0 until then. Accumulates in leaves.
    parents : tuple of Value
        The inputs of the operation that produced this value (empty for a leaf).
    op : str
        That operation's symbol, e.g. ``"*"`` or ``"tanh"`` (empty for a leaf).

    Examples
    --------
    >>> w, x = Value(0.8), Value(1.5)
    >>> y = (w * x).tanh()
    >>> y.backward()
    >>> round(w.grad, 4)  # (1 - tanh(1.2)**2) * 1.5
    0.2992
    """

    def __init__(self, data, label=""):
        if isinstance(data, Value):
            raise TypeError("Value(...) expects a number, got a Value; use the Value itself "
                            "(or Value(v.data) for an unconnected copy)")
        self.data = _check_real(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._set_links((), "", _leaf_backward)

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    def _reset_grad(self):
        self.grad = 0.0

    def _seed(self, grad):
        return 1.0 if grad is None else _check_real(grad, "backward(grad)")

    @staticmethod
    def _lift(other):
        """Numbers become constant leaves; anything else is not ours to combine."""
        if isinstance(other, Value):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Value(other)
        return None

    @staticmethod
    def _result(data, parents, op, backward_rule):
        return Value(data)._set_links(parents, op, backward_rule)

    # -- arithmetic --------------------------------------------------------
    def __add__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented

        def _backward(out):  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        return self._result(self.data + other.data, (self, other), "+", _backward)

    def __sub__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented

        def _backward(out):  # d(a - b)/da = 1, d(a - b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad
        return self._result(self.data - other.data, (self, other), "-", _backward)

    def __mul__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented

        def _backward(out):  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        return self._result(self.data * other.data, (self, other), "*", _backward)

    def __truediv__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        if other.data == 0:
            raise ZeroDivisionError(f"division of {self.data!r} by a Value equal to 0")

        def _backward(out):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data**2
        return self._result(self.data / other.data, (self, other), "/", _backward)

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number; "
                            "for a variable exponent y write (y * x.log()).exp()")
        n = _check_real(exponent, "the exponent in Value ** n")
        if self.data < 0 and not n.is_integer():
            raise ValueError(f"{self.data!r} ** {n!r}: a negative base needs an integer "
                             f"exponent (the result would be complex)")
        if self.data == 0 and n < 0:
            raise ZeroDivisionError(f"0 ** {n!r}: a negative power of a Value equal to 0")

        def _backward(out):  # d(a^n)/da = n a^(n-1)
            self.grad += n * self.data ** (n - 1) * out.grad
        return self._result(self.data**n, (self,), f"**{n:g}", _backward)

    def __neg__(self):
        def _backward(out):
            self.grad -= out.grad
        return self._result(-self.data, (self,), "neg", _backward)

    def __radd__(self, other):
        other = self._lift(other)
        return NotImplemented if other is None else other + self

    def __rsub__(self, other):
        other = self._lift(other)
        return NotImplemented if other is None else other - self

    def __rmul__(self, other):
        other = self._lift(other)
        return NotImplemented if other is None else other * self

    def __rtruediv__(self, other):
        other = self._lift(other)
        return NotImplemented if other is None else other / self

    # -- functions -----------------------------------------------------------
    def exp(self):
        """``e**x``; local derivative ``e**x`` (the output itself)."""
        def _backward(out):
            self.grad += out.data * out.grad
        return self._result(math.exp(self.data), (self,), "exp", _backward)

    def log(self):
        """Natural logarithm (for ``x > 0``); local derivative ``1/x``."""
        if self.data <= 0:
            raise ValueError(f"log of a Value needs a positive number, got {self.data!r}")

        def _backward(out):
            self.grad += out.grad / self.data
        return self._result(math.log(self.data), (self,), "log", _backward)

    def tanh(self):
        """Hyperbolic tangent; local derivative ``1 - tanh(x)**2``."""
        def _backward(out):
            self.grad += (1.0 - out.data**2) * out.grad
        return self._result(math.tanh(self.data), (self,), "tanh", _backward)

    def relu(self):
        """``max(0, x)``; local derivative 1 for ``x > 0``, else 0."""
        def _backward(out):
            self.grad += out.grad if self.data > 0 else 0.0
        return self._result(max(self.data, 0.0), (self,), "relu", _backward)

    def sigmoid(self):
        """Logistic sigmoid (computed stably); local derivative ``s (1 - s)``."""
        def _backward(out):
            self.grad += out.data * (1.0 - out.data) * out.grad
        return self._result(float(_sigmoid(self.data)), (self,), "σ", _backward)


# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------

def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward pass of numpy broadcasting.

    When an input of ``shape`` was broadcast to a larger result, each of its
    entries was used once per copy, so its gradient is the sum over the
    copies: over the leading axes that broadcasting added, and over every
    axis where ``shape`` has length 1 but the result does not.

    Parameters
    ----------
    grad : ndarray
        Gradient with respect to the broadcast result.
    shape : tuple of int
        Shape of the input before broadcasting.

    Returns
    -------
    ndarray of shape ``shape``

    Examples
    --------
    A bias ``b`` of shape ``(3,)`` added to every row of a ``(5, 3)`` batch:
    ``_unbroadcast(dZ, (3,))`` is ``dZ.sum(axis=0)``, the bias gradient of
    chapter 6.
    """
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad.shape} to the larger "
                         f"shape {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"a gradient of shape {grad.shape} does not fit an input of shape "
                         f"{shape}")
    return grad


def _normalized_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a Tensor with {ndim} dimension(s)")
    return tuple(sorted(a % ndim for a in axes))


class Tensor(_Node):
    """A numpy array that records how it was computed (taught in chapter 7).

    The array version of :class:`Value`: ``+ - * /`` with numpy broadcasting,
    ``** n``, ``@`` (2-D matrix product), ``.T``, :meth:`sum`, :meth:`mean`,
    the element-wise :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`relu`,
    :meth:`sigmoid`, and the fused :func:`softmax_cross_entropy`. Each
    gradient has the shape (and dtype) of its tensor's data.

    Parameters
    ----------
    data : array_like
        Copied; integers and lists become float64, float32 stays float32.
    label : str, optional

    Attributes
    ----------
    data : ndarray
    grad : ndarray, same shape and dtype as ``data``
        Zeros until ``backward()``; accumulates in leaves.
    parents : tuple of Tensor
    op : str

    Examples
    --------
    >>> X = Tensor(np.ones((4, 3)))
    >>> W = Tensor(np.full((3, 2), 0.5))
    >>> b = Tensor(np.zeros(2))
    >>> loss = (X @ W + b).tanh().mean()
    >>> loss.backward()
    >>> W.grad.shape, b.grad.shape
    ((3, 2), (2,))
    """

    def __init__(self, data, label=""):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) expects an array, got a Tensor; use the Tensor itself "
                            "(or Tensor(t.data) for an unconnected copy)")
        self.data = np.array(as_float(data))
        self.grad = np.zeros_like(self.data)
        self.label = label
        self._set_links((), "", _leaf_backward)

    @property
    def shape(self):
        """Shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self):
        """dtype of ``data`` (float64 or float32)."""
        return self.data.dtype

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Tensor({name}shape={self.shape}, dtype={self.dtype}, op={self.op!r})"

    def _reset_grad(self):
        self.grad = np.zeros_like(self.data)

    def _seed(self, grad):
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a tensor holding one number (a loss), "
                    f"got shape {self.shape}; reduce it first (e.g. .sum() or .mean()) or pass "
                    f"grad= an array of that shape")
            return np.ones_like(self.data)
        grad = as_float(grad)
        if grad.shape != self.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape}, but this tensor has "
                             f"shape {self.shape}")
        return grad.astype(self.dtype, copy=False)

    def _lift(self, other):
        """Arrays and numbers become constant leaves of this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (numbers.Real, np.ndarray, list, tuple)):
            return Tensor(np.asarray(other, dtype=self.dtype))
        return None

    @staticmethod
    def _result(data, parents, op, backward_rule):
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = np.zeros_like(data)
        out.label = ""
        return out._set_links(parents, op, backward_rule)

    def _accumulate(self, grad):
        """Add a contribution, summed down to this tensor's shape if it was broadcast."""
        self.grad = self.grad + _unbroadcast(grad, self.shape).astype(self.dtype, copy=False)

    # -- arithmetic (numpy broadcasting; _unbroadcast in the backward pass) --
    def _binary(self, other, op, forward, input_grads, reflected=False):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)

        def _backward(out):
            grad_a, grad_b = input_grads(a.data, b.data, out.grad)
            a._accumulate(grad_a)
            b._accumulate(grad_b)
        return self._result(forward(a.data, b.data), (a, b), op, _backward)

    def __add__(self, other):
        return self._binary(other, "+", np.add, lambda a, b, g: (g, g))

    def __radd__(self, other):
        return self._binary(other, "+", np.add, lambda a, b, g: (g, g), reflected=True)

    def __sub__(self, other):
        return self._binary(other, "-", np.subtract, lambda a, b, g: (g, -g))

    def __rsub__(self, other):
        return self._binary(other, "-", np.subtract, lambda a, b, g: (g, -g), reflected=True)

    def __mul__(self, other):
        return self._binary(other, "*", np.multiply, lambda a, b, g: (g * b, g * a))

    def __rmul__(self, other):
        return self._binary(other, "*", np.multiply, lambda a, b, g: (g * b, g * a),
                            reflected=True)

    def __truediv__(self, other):
        return self._binary(other, "/", np.divide, lambda a, b, g: (g / b, -g * a / b**2))

    def __rtruediv__(self, other):
        return self._binary(other, "/", np.divide, lambda a, b, g: (g / b, -g * a / b**2),
                            reflected=True)

    def __neg__(self):
        def _backward(out):
            self._accumulate(-out.grad)
        return self._result(-self.data, (self,), "neg", _backward)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            raise TypeError("Tensor ** Tensor is not supported: the exponent must be a number")
        n = _check_real(exponent, "the exponent in Tensor ** n")
        if not n.is_integer() and np.any(self.data < 0):
            raise ValueError(f"Tensor ** {n!r}: negative entries need an integer exponent "
                             f"(the result would be complex)")

        def _backward(out):
            self._accumulate(n * self.data ** (n - 1) * out.grad)
        return self._result(self.data**n, (self,), f"**{n:g}", _backward)

    def __matmul__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"Tensor @ Tensor expects two 2-D tensors, got shapes {self.shape} "
                             f"and {other.shape}")
        if self.shape[1] != other.shape[0]:
            raise ValueError(f"matmul: shapes {self.shape} and {other.shape} do not fit; the "
                             f"inner sizes {self.shape[1]} and {other.shape[0]} must be equal")

        def _backward(out):  # Z = A B:  dA = G B^T,  dB = A^T G  (chapter 6)
            self._accumulate(out.grad @ other.data.T)
            other._accumulate(self.data.T @ out.grad)
        return self._result(self.data @ other.data, (self, other), "@", _backward)

    def __rmatmul__(self, other):
        other = self._lift(other)
        return NotImplemented if other is None else other @ self

    @property
    def T(self):
        """Transpose (reverses the axes); its backward pass transposes back."""
        def _backward(out):
            self._accumulate(out.grad.T)
        return self._result(self.data.T, (self,), "T", _backward)

    # -- reductions ----------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default), as ``ndarray.sum``.

        Every summed entry has local derivative 1, so the backward pass
        copies the incoming gradient back over the summed axes.
        """
        axes = _normalized_axes(axis, self.data.ndim)

        def _backward(out):
            grad = out.grad if keepdims else np.expand_dims(out.grad, axes)
            self._accumulate(np.broadcast_to(grad, self.shape))
        return self._result(self.data.sum(axis=axes, keepdims=keepdims), (self,), "sum",
                            _backward)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (all axes by default): the sum divided by the count."""
        axes = _normalized_axes(axis, self.data.ndim)
        count = math.prod(self.shape[a] for a in axes)
        if count == 0:
            raise ValueError(f"mean over an empty axis of a Tensor of shape {self.shape}")
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / count)

    # -- element-wise functions ----------------------------------------------
    def _elementwise(self, op, value, local_derivative):
        def _backward(out):
            self._accumulate(local_derivative(self.data, out.data) * out.grad)
        return self._result(value, (self,), op, _backward)

    def exp(self):
        """``e**x`` element-wise; local derivative ``e**x``."""
        return self._elementwise("exp", np.exp(self.data), lambda x, y: y)

    def log(self):
        """Natural logarithm element-wise (all entries must be positive)."""
        if np.any(self.data <= 0):
            raise ValueError(f"log of a Tensor needs positive entries, got minimum "
                             f"{self.data.min()!r}")
        return self._elementwise("log", np.log(self.data), lambda x, y: 1.0 / x)

    def tanh(self):
        """tanh element-wise; local derivative ``1 - tanh(x)**2``."""
        return self._elementwise("tanh", np.tanh(self.data), lambda x, y: 1.0 - y**2)

    def relu(self):
        """``max(0, x)`` element-wise; local derivative 1 where ``x > 0``, else 0."""
        return self._elementwise("relu", np.maximum(self.data, 0),
                                 lambda x, y: (x > 0).astype(x.dtype))

    def sigmoid(self):
        """Logistic sigmoid element-wise (stable); local derivative ``s (1 - s)``."""
        return self._elementwise("σ", _sigmoid(self.data), lambda x, y: y * (1.0 - y))


def softmax_cross_entropy(logits, y_onehot):
    """Mean categorical cross-entropy of ``softmax(logits)``, fused into one
    operation (taught in chapters 5 and 7).

    The forward pass uses log-sum-exp, so no probability is rounded to 0
    before the log; the backward rule is the simple ``(softmax(Z) - Y) / n``
    of chapter 6, which never divides by a probability.

    Parameters
    ----------
    logits : Tensor, shape (n_samples, n_classes)
    y_onehot : array_like, shape (n_samples, n_classes)
        Targets (one-hot rows); treated as constants.

    Returns
    -------
    Tensor of shape ()
        The loss, ready for ``backward()``.
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"softmax_cross_entropy expects the logits as a Tensor, got "
                        f"{type(logits).__name__}; wrap them with Tensor(...)")
    y = as_float(y_onehot).astype(logits.dtype, copy=False)
    if logits.data.ndim != 2 or y.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy expects logits and one-hot targets of one shape "
                         f"(n_samples, n_classes), got {logits.shape} and {y.shape}")
    z = logits.data
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = z.shape[0]

    def _backward(out):
        logits._accumulate((_softmax(z) - y) / n * out.grad)
    return Tensor._result(np.asarray(-(y * log_p).sum() / n, dtype=logits.dtype), (logits,),
                          "softmax-CE", _backward)
