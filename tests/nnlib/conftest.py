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
