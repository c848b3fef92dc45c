"""Worker preload of the test cluster: submissions that misbehave the way a fault would.

Loaded into every worker process of the test cluster (``dask worker --preload``). Learners
named ``killer*`` kill the worker process that grades them, every time (as a crash of the
trusted worker, or the kernel's out-of-memory killer, would); learners named ``slow*`` take
:data:`SLOW_SECONDS` longer, so that a test can kill their worker while it grades them.
"""
from __future__ import annotations

import os
import signal
import time

import grader.distributed

SLOW_SECONDS = 4.0


def dask_setup(worker):
    """Wrap the grading a task does (the task itself runs unchanged)."""
    grade = grader.distributed.grade_safely

    def grade_with_faults(snapshot, *args):
        if snapshot.name.startswith("killer"):
            os.kill(os.getpid(), signal.SIGKILL)
        if snapshot.name.startswith("slow"):
            time.sleep(SLOW_SECONDS)
        return grade(snapshot, *args)

    grader.distributed.grade_safely = grade_with_faults
