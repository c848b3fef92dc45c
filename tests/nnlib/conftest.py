"""Fixtures for the nnlib tests."""
from __future__ import annotations

import os

# Keras must see its backend before it is first imported (only the Keras
# parity tests import it, inside fixtures).
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def keras():
    """Keras 3 on JAX with 64-bit mode on for the module (restored afterwards),
    for the Keras parity tests; skipped where JAX is not installed."""
    jax = pytest.importorskip("jax")
    previous_x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    import keras

    assert keras.backend.backend() == "jax", "set KERAS_BACKEND=jax before importing keras"
    previous_floatx = keras.config.floatx()
    yield keras
    keras.config.set_floatx(previous_floatx)
    jax.config.update("jax_enable_x64", previous_x64)


@pytest.fixture
def floatx64(keras):
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request, keras):
    """Run the test in this dtype, with Keras' default float type (floatx) set
    to match: Keras casts inputs, losses and optimiser constants to floatx."""
    keras.config.set_floatx(np.dtype(request.param).name)
    yield request.param
    keras.config.set_floatx("float32")
