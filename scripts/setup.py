#!/usr/bin/env python3
"""Set up the course's Python environment, on Linux, macOS or Windows, without bash.

    python3 scripts/setup.py --learner     # what working the exercises needs (JupyterLab, ...)
    python3 scripts/setup.py               # everything: also the book build and the test suite

Creates the virtual environment ``.venv`` in the repository (unless it exists) with the Python
that runs this script, installs the pinned ``requirements-learner.txt`` (``--learner``) or
``requirements.txt`` into it with pip, then this repository's packages (nnlib, grader) in
editable mode. Re-running is cheap: it installs again only when the requirement file or
pyproject.toml changed. Choose the Python by running the script with it (``python3.13
scripts/setup.py``; on Windows ``py -3.13 scripts\\setup.py``). ``bash scripts/setup-env`` (used
by the build and test scripts) runs this script with a supported Python it finds on PATH.

Only the standard library is used, and no syntax newer than Python 3.6, so that an older
interpreter can read this file and say which versions are supported instead of failing with a
SyntaxError.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Every pin in requirements*.txt has a binary wheel for each of these CPython versions on Linux
# (x86-64), macOS (Apple silicon) and Windows (x86-64): tests/setup/test_requirements_resolve.py
# checks it for each version listed here. Not 3.15 yet: h5py (needed by Keras) has no wheels for it.
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14))
REQUIREMENT_FILES = {"full": "requirements.txt", "learner": "requirements-learner.txt"}
STAMP_NAME = ".course-install-stamp"  # in the venv: digest of what was last installed


class SetupError(Exception):
    """A problem the user can fix; the message says how."""


def say(message):
    print("setup: " + message, file=sys.stderr, flush=True)


def supported_range():
    """The supported Python versions as text, e.g. ``"3.11 to 3.14"``."""
    first, last = SUPPORTED_PYTHONS[0], SUPPORTED_PYTHONS[-1]
    return "%d.%d to %d.%d" % (first + last)


def python_support_error(version_info, implementation, free_threaded, executable):
    """Why an interpreter cannot hold the course's environment, or None when it can.

    Parameters
    ----------
    version_info : tuple of int
        ``sys.version_info`` of the interpreter (at least major, minor, micro).
    implementation : str
        ``sys.implementation.name``, e.g. ``"cpython"``.
    free_threaded : bool
        Whether it is a free-threaded ("3.13t") build, which needs wheels most pins lack.
    executable : str
        Its path, named in the message.

    Returns
    -------
    str or None
        A message naming the interpreter, the supported versions and how to use another one.
    """
    found = "%s %d.%d.%d" % (implementation, *version_info[:3])
    if implementation != "cpython":
        problem = "%s (%s) is not CPython" % (found, executable)
    elif tuple(version_info[:2]) < SUPPORTED_PYTHONS[0]:
        problem = "Python %d.%d.%d (%s) is too old" % (*version_info[:3], executable)
    elif tuple(version_info[:2]) > SUPPORTED_PYTHONS[-1]:
        problem = ("Python %d.%d.%d (%s) is not supported yet: some pinned packages have no "
                   "wheels for it" % (*version_info[:3], executable))
    elif free_threaded:
        problem = ("Python %d.%d.%d (%s) is a free-threaded build, for which several pinned "
                   "packages have no wheels" % (*version_info[:3], executable))
    else:
        return None
    example = "%d.%d" % SUPPORTED_PYTHONS[-2]
    return (
        f"{problem}. The course needs CPython {supported_range()} "
        "(the standard build from python.org or your system's packages).\n"
        f"Run this script with a supported Python, e.g. `python{example} scripts/setup.py "
        f"--learner` (Windows: `py -{example} scripts\\setup.py --learner`); for the bash "
        f"scripts, set PYTHON=/path/to/python{example}. "
        "Installers: https://www.python.org/downloads/")


def this_python_error():
    """:func:`python_support_error` for the interpreter running this script."""
    return python_support_error(sys.version_info, sys.implementation.name,
                                bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                                sys.executable)


def this_python_version():
    return "%d.%d.%d" % tuple(sys.version_info[:3])


def venv_python(venv_dir):
    """The interpreter inside a virtual environment (``bin/python``, on Windows
    ``Scripts\\python.exe``)."""
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def interpreter_version(python):
    """``((major, minor), None)`` for the interpreter at ``python``, or ``(None, why)`` when it
    does not start."""
    try:
        probe = subprocess.run(
            [str(python), "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as exc:
        return None, str(exc)
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines() or ["exit status %d" % probe.returncode]
        return None, lines[-1]
    return tuple(int(part) for part in probe.stdout.split()), None


def ensure_venv(venv_dir):
    """Return the Python of ``venv_dir``, creating the environment with this Python if needed.

    An environment whose interpreter no longer starts (its base Python was removed or upgraded)
    is created again; one with an unsupported Python is left alone and reported.
    """
    python = venv_python(venv_dir)
    if python.exists() or python.is_symlink():  # a dangling link: its base Python is gone
        version, failure = interpreter_version(python)
        if failure is None:
            if version not in SUPPORTED_PYTHONS:
                raise SetupError(
                    "%s was made with Python %d.%d, which the course does not support "
                    "(it needs %s); delete that folder and run this script again"
                    % ((venv_dir,) + version + (supported_range(),)))
            return python
        say("%s is broken (its Python does not start: %s); creating it again"
            % (venv_dir, failure))
        shutil.rmtree(str(venv_dir))
    elif venv_dir.exists() and any(venv_dir.iterdir()):
        raise SetupError("%s exists but is not a virtual environment (no %s); move it away or "
                         "choose another folder with --venv" % (venv_dir, python))
    say("creating %s with Python %s (%s)" % (venv_dir, this_python_version(), sys.executable))
    if subprocess.run([sys.executable, "-m", "venv", str(venv_dir)]).returncode != 0:
        shutil.rmtree(str(venv_dir), ignore_errors=True)  # a half-made venv would look usable
        raise SetupError(
            "could not create the virtual environment %s (see the message above). On Debian "
            "and Ubuntu the venv module is a separate package: sudo apt install python%d.%d-venv"
            % ((venv_dir,) + tuple(sys.version_info[:2])))
    return python


def install_digest(kind):
    """Digest of what an install of ``kind`` ("full" or "learner") is made from."""
    digest = hashlib.sha256()
    for name in (REQUIREMENT_FILES[kind], "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def install(python, venv_dir, kind, quiet):
    """Install the pinned requirements of ``kind`` and the course's packages into the venv.

    Returns False when the venv already holds them (the full set includes the learner set).
    """
    stamp = venv_dir / STAMP_NAME
    installed = stamp.read_text().strip() if stamp.exists() else ""
    satisfied_by = {install_digest(kind), install_digest("full")}
    if installed in satisfied_by:
        return False
    requirements = ROOT / REQUIREMENT_FILES[kind]
    say("installing %s into %s (the first time, this downloads a few hundred MB and takes "
        "a few minutes)" % (requirements.name, venv_dir))
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    options = ["--quiet"] if quiet else []
    steps = [
        pip + ["install", "--upgrade", "pip"] + options,
        pip + ["install", "-r", str(requirements)] + options,
        # setuptools is pinned in both files: the editable install builds with it, offline.
        pip + ["install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)] + options,
    ]
    for command in steps:
        if subprocess.run(command, cwd=str(ROOT)).returncode != 0:
            raise SetupError("`%s` failed (see pip's message above); fix the cause and run "
                             "this script again: it starts where it stopped"
                             % " ".join(command[2:]))
    stamp.write_text(install_digest(kind) + "\n")
    return True


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/setup.py",
        description="Create the course's virtual environment and install the pinned packages "
                    "and the course's own packages (nnlib, grader) into it.")
    parser.add_argument("--learner", action="store_true",
                        help="install only what working the exercises needs (%s) instead of "
                             "everything (%s)" % (REQUIREMENT_FILES["learner"],
                                                  REQUIREMENT_FILES["full"]))
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", metavar="DIR",
                        help="where to create the virtual environment (default: .venv in the "
                             "repository)")
    parser.add_argument("--check-python", action="store_true",
                        help="only say whether the Python running this script is supported "
                             "(exit status 0 if it is)")
    return parser.parse_args(argv)


def shown_path(path):
    """``path`` as the user would type it: relative when under the working directory."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def next_steps(venv_dir):
    """The commands that start JupyterLab on the exercises once the learner install is done."""
    exercises = shown_path(ROOT / "exercises")
    if os.name == "nt":
        activate = "%s\\Scripts\\activate" % shown_path(venv_dir)
    else:
        activate = "source %s/bin/activate" % shown_path(venv_dir)
    return "%s\n    jupyter lab %s" % (activate, exercises)


def main(argv=None):
    args = parse_args(argv)
    error = this_python_error()
    if error:
        say("error: " + error)
        return 2
    if args.check_python:
        print("Python %s (%s) is supported" % (this_python_version(), sys.executable))
        return 0
    venv_dir = args.venv.absolute()
    kind = "learner" if args.learner else "full"
    try:
        python = ensure_venv(venv_dir)
        installed = install(python, venv_dir, kind, quiet=not sys.stdout.isatty())
    except SetupError as exc:
        say("error: %s" % exc)
        return 1
    if installed:
        say("%s is ready" % venv_dir)
    if args.learner:
        say("to work the exercises, run:\n    %s" % next_steps(venv_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
