"""Where the course's solutions and check definitions live."""
from __future__ import annotations

import os
from pathlib import Path


def _is_root(p: Path) -> bool:
    return (p / "solutions").is_dir() and (p / "tests" / "exercises").is_dir()


def course_root(required: bool = True) -> Path | None:
    """The course repository: $NN_COURSE_ROOT, else the checkout holding this package, else cwd
    or one of its parents."""
    env = os.environ.get("NN_COURSE_ROOT")
    if env and _is_root(Path(env)):
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if _is_root(here):
        return here
    cwd = Path.cwd().resolve()
    for p in [cwd, *cwd.parents]:
        if _is_root(p):
            return p
    if required:
        raise FileNotFoundError(
            "cannot find the course repository (a folder with solutions/ and tests/exercises/). "
            "Run from inside the repository or set NN_COURSE_ROOT=/path/to/course.")
    return None


def solutions_dir() -> Path:
    """The course's solution notebooks."""
    return course_root() / "solutions"


def checks_dir() -> Path:
    """The check modules (``test_*.py``)."""
    return course_root() / "tests" / "exercises"
