"""The sandbox learner code runs in.

* :mod:`.config`: :class:`SandboxConfig`, the limits and timeouts of one sandbox;
* :mod:`.policy`: the file system as data: :class:`Mount`, :class:`Policy` and
  :func:`build_policy`, the allow-list built from the Python installation in use;
* :mod:`.session`: :class:`Session`, the trusted side that starts a sandbox, loads one
  exercise at a time and calls learner functions with plain data;
* ``grader/_child.py``: the sandbox itself (namespaces, ``apply_policy``, limits, the worker).

The mechanism is the Linux kernel's, called from Python (``unshare``, ``mount``, ``pivot_root``
through ctypes), as bubblewrap does in C; no external program is needed.
"""
from .config import JAX_GRADING_ENV, SandboxConfig
from .policy import Mount, Policy, build_policy
from .session import SandboxError, Session, describe_exit, prestart, probe

MECHANISM = ("Linux namespaces (user where not root, mount, PID, network) and pivot_root into "
             "an allow-list root, set up by the grader itself through ctypes (no bubblewrap "
             "needed)")

__all__ = ["JAX_GRADING_ENV", "MECHANISM", "Mount", "Policy", "SandboxConfig", "SandboxError",
           "Session", "build_policy", "describe_exit", "prestart", "probe"]
