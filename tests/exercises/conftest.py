"""Run the exercise checks under pytest against the reference solutions (solutions/*.ipynb).

Each check function takes ``sub`` (code under test) and/or ``ref`` (reference). Here both are
the reference solution, so CI proves that every reference solution passes every check; the
grader binds ``sub`` to the learner's code running in the sandbox instead.
"""
from __future__ import annotations

import pytest

from grader.catalog import default_catalog


def _chapter_of(request):
    spec = getattr(request.node.function, "_nn_check", None)
    if spec is None:
        pytest.fail("%s is not registered with @check(...)" % request.node.name)
    ex = default_catalog().exercises.get(spec.exercise)
    if ex is None:
        pytest.fail("check %s refers to unknown exercise %s" % (request.node.name, spec.exercise))
    return ex.chapter


@pytest.fixture
def ref(request):
    return default_catalog().reference(_chapter_of(request))


@pytest.fixture
def sub(request):
    return default_catalog().reference(_chapter_of(request))


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Run the reference solutions with one BLAS thread, as the grader's sandbox runs learner code
    (OMP/OPENBLAS/MKL_NUM_THREADS=1). The exercises' matrix products are small: more threads only
    add hand-offs, which become very slow when the cores are shared (the checks that train a
    network then take ten times longer)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield
