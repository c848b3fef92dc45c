"""Settings of one sandbox: limits, timeouts, environment."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

#: How the grader runs JAX (Keras' backend), in its own process and in a Keras chapter's sandbox:
#: on the CPU, with a light optimisation level. The checks' inputs are small, so compiling a
#: program costs more than running it; but a Keras chapter's sandbox starts with the programs
#: that grading the reference solution compiled (grader.warm), and a training step optimised at
#: level 1 runs about 3.5 times faster than at level 0 (chapter 10's CNN: 0.6 against 2.1 ms per
#: step, 840 steps per learner). Without the new fusion emitters, and in one piece, a model that
#: is not in that cache still compiles quickly.
JAX_GRADING_ENV = {"JAX_PLATFORMS": "cpu",
                   "XLA_FLAGS": "--xla_backend_optimization_level=1 "
                                "--xla_cpu_use_fusion_emitters=false "
                                "--xla_cpu_parallel_codegen_split_count=1"}


@dataclass
class SandboxConfig:
    """Limits and timeouts of one sandbox (one process tree per learner and chapter group).

    Sizes are in MiB, times in seconds. ``tmp_mb`` bounds the *total* size of the private
    ``/tmp``; ``fsize_mb`` bounds each file (``RLIMIT_FSIZE``). ``namespaces=False`` skips the
    Linux namespaces (and with them the allow-list file system). ``accept_weaker`` records that
    whoever started the grader accepted weaker protection where the system cannot isolate the
    file system (``--accept-weaker-sandbox``). ``env`` adds environment variables for learner
    code (e.g. ``KERAS_BACKEND``); ``python`` is the interpreter the sandbox runs.

    ``warm_folder`` names a folder of the private ``/tmp`` that a chapter's sandbox starts warm
    (chapter 10: JAX's compilation cache). ``warm_source`` is the trusted host folder it starts
    as a private copy of (filled by grading the reference solution, :mod:`grader.warm`); the
    sandbox copies it before any learner code runs and never sees the host folder itself.
    ``warm_fill`` is set only for that trusted run: the host folder is then mounted writable.

    ``preload_hidden`` names optional dependencies that are hidden while the sandbox imports
    its chapter's modules in advance (chapter 10: scikit-learn while Keras is imported; only
    Keras' optional scikit-learn wrappers use it, and importing it costs about 0.45
    core-seconds). Learner code can still import them.
    """

    memory_mb: int = 1536
    cpu_seconds: int = 20
    nproc: int = 64
    fsize_mb: int = 16
    tmp_mb: int = 16
    nofile: int = 256
    output_cap_kb: int = 64
    max_result_mb: int = 64
    call_timeout: float = 3.0
    load_timeout: float = 3.0
    start_timeout: float = 20.0
    namespaces: bool = True
    accept_weaker: bool = False
    env: dict = field(default_factory=dict)
    python: str = field(default_factory=lambda: sys.executable)
    warm_folder: str = ""
    warm_source: str = ""
    warm_fill: bool = False
    preload_hidden: tuple = ()
