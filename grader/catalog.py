"""The course's exercises (from solutions/*.ipynb) and their checks (from tests/exercises/).

The catalog is trusted input: it is read from the course repository (and the instructor's
``--extra-tests`` folders), never from a submission. Every stage of the grading pipeline takes
it as an argument.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from .checks import CheckSpec
from .notebook import Cell, NotebookError, Notebook, parse_notebook
from .paths import checks_dir, solutions_dir
from .source import defined_functions, strip_magics, top_level_imports

PRELUDE = "import numpy as np\nimport math\n"
"""Imported before any learner or reference code."""


class CatalogError(Exception):
    """A solution notebook or a check folder does not follow the course's format."""


@dataclass(frozen=True)
class Exercise:
    """One graded cell of a solution notebook and its checks.

    Attributes
    ----------
    id : str
        E.g. ``"ch03.sigmoid"``.
    chapter : str
        The solution notebook's stem, e.g. ``"ch03_activations"``.
    cell_id : str or None
        The graded cell's id in the solution notebook.
    functions : tuple of str
        The functions the graded cell defines; the first is the exercise's main function.
    solution_source : str
        The graded cell's source (reference solution).
    index : int
        Position of the graded cell in the solution notebook.
    bonus : bool
        A challenge exercise: its points are reported as bonus, never in ``max_score``.
    checks : tuple of CheckSpec
        Repository checks first (in file order), then the instructor's extra checks.
    """

    id: str
    chapter: str
    cell_id: str | None
    functions: tuple[str, ...]
    solution_source: str
    index: int
    bonus: bool = False
    checks: tuple[CheckSpec, ...] = ()

    @property
    def max_points(self) -> float:
        """Sum of the points of the exercise's checks."""
        return sum(spec.points for spec in self.checks)

    @property
    def main(self) -> str:
        """The exercise's main function (the first one its graded cell defines)."""
        return self.functions[0]

    @property
    def grade_ids(self) -> tuple[str, str]:
        """The ids a learner's graded cell may carry: the exercise id and nbgrader's form."""
        return self.id, nbgrader_id(self.id)

    def hidden_number(self, spec: CheckSpec) -> int:
        """1-based position of a hidden check among this exercise's hidden checks."""
        hidden = [check for check in self.checks if check.hidden]
        return next(number for number, check in enumerate(hidden, 1) if check is spec)

    def test_id(self, spec: CheckSpec) -> str:
        """Stable id of a check: ``<exercise>::<check name>``, or ``<exercise>::hidden-N``.

        It depends only on the catalog, never on what a submission holds.
        """
        name = f"hidden-{self.hidden_number(spec)}" if spec.hidden else spec.name
        return f"{self.id}::{name}"


@dataclass(frozen=True)
class Chapter:
    """One solution notebook: its exercises and its given cells (reference code)."""

    name: str
    path: Path
    notebook: Notebook
    exercises: tuple[Exercise, ...]
    given: tuple[str, ...]

    @property
    def max_points(self) -> float:
        """Points of the chapter's exercises, bonus exercises excluded."""
        return sum(exercise.max_points for exercise in self.exercises if not exercise.bonus)

    @property
    def bonus_max(self) -> float:
        """Points of the chapter's bonus exercises."""
        return sum(exercise.max_points for exercise in self.exercises if exercise.bonus)

    @property
    def uses_reference(self) -> bool:
        """Whether a check compares with the reference solution (takes the ``ref`` fixture).

        Chapter 10's checks never do: its reference would import Keras in the trusted process.
        """
        return any(spec.uses_reference for exercise in self.exercises for spec in exercise.checks)

    @property
    def imports(self) -> tuple[str, ...]:
        """Modules the solution notebook imports at top level (setup and check cells aside).

        E.g. ``keras`` or ``sklearn.datasets``: trusted names, which the chapter's sandbox imports
        once before it forks the exercise workers, so that a learner's notebook (importing the
        same) does not pay the import again for every exercise.
        """
        names = [name for cell in self.notebook.code_cells if cell.role not in ("setup", "check")
                 for name in top_level_imports(cell.source)]
        return tuple(dict.fromkeys(names))


def nbgrader_id(exercise: str) -> str:
    """nbgrader's grade_id for an exercise: only letters, digits, '_' and '-' are allowed."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", exercise)


def graded_cells(notebook: Notebook) -> list[Cell]:
    """The graded cells of a solution notebook (nbgrader solution cells with an exercise id)."""
    return [cell for cell in notebook.code_cells if cell.solution and cell.exercise]


def _exercise(path: Path, cell: Cell) -> Exercise:
    if cell.grade_id not in (cell.exercise, nbgrader_id(cell.exercise)):
        raise CatalogError(f"{path.name} cell {cell.index}: nbgrader grade_id {cell.grade_id!r} "
                           f"does not match grader.exercise {cell.exercise!r} (expected "
                           f"{nbgrader_id(cell.exercise)!r})")
    functions = defined_functions(cell.source)
    if not functions:
        raise CatalogError(f"{path.name}: graded cell {cell.exercise} defines no top-level "
                           "function")
    return Exercise(cell.exercise, path.stem, cell.id, tuple(functions), cell.source, cell.index,
                    cell.bonus)


def load_chapter(path: Path, data: bytes) -> Chapter:
    """Read one solution notebook (its bytes ``data``).

    Raises
    ------
    NotebookError, CatalogError
        When the notebook cannot be read or breaks the format of grader/README.md.
    """
    notebook = parse_notebook(data, str(path))
    given = tuple(cell.source for cell in notebook.code_cells if cell.role == "given")
    exercises = tuple(_exercise(path, cell) for cell in graded_cells(notebook))
    ids = [exercise.id for exercise in exercises]
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{path.name}: duplicated exercise ids {ids}")
    return Chapter(path.stem, path, notebook, exercises, given)


@functools.cache
def _check_module(path: str, source: bytes, origin: str) -> types.ModuleType:
    """Execute a check file once per content (the key holds the bytes, so edits reload)."""
    digest = hashlib.sha1(path.encode() + b"\0" + source).hexdigest()[:12]
    module = types.ModuleType(f"_nn_checks_{origin}_{digest}")
    module.__file__ = path
    sys.modules[module.__name__] = module  # dataclasses and pickling look modules up here
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def load_checks(sources: dict[Path, bytes], origin: str) -> list[CheckSpec]:
    """The checks registered with ``@check`` in check modules, in file and line order.

    Parameters
    ----------
    sources : dict of Path to bytes
        Check modules (``test_*.py``) and their content.
    origin : {"repo", "extra"}
        Where the files come from (names the loaded modules).

    Returns
    -------
    list of CheckSpec
    """
    specs = []
    for path, source in sources.items():
        module = _check_module(str(Path(path).resolve()), source, origin)
        for value in vars(module).values():
            spec = getattr(value, "_nn_check", None)
            defined_here = getattr(value, "__module__", None) == module.__name__
            if isinstance(spec, CheckSpec) and defined_here:
                specs.append(spec)
    specs.sort(key=lambda spec: (spec.func.__code__.co_filename, spec.func.__code__.co_firstlineno))
    return specs


class Catalog:
    """All chapters and checks of the course.

    Parameters
    ----------
    solutions_dir : Path
        Folder of the solution notebooks ``ch*.ipynb``.
    checks_dir : Path
        Folder of the check modules ``test_*.py``.
    extra_dirs : sequence of Path, default ()
        Folders of instructor-only checks (always hidden).
    chapters : sequence of str, optional
        Load only these chapters' check modules (``test_<chapter>.py``; modules named otherwise
        and the instructor's are always loaded); default: all. Every solution notebook is read
        either way, so ``[]`` recognises notebooks without running any check module;
        :meth:`including` adds chapters later.

    Attributes
    ----------
    chapters : dict of str to Chapter
        By chapter name, in file-name order.
    exercises : dict of str to Exercise
        By exercise id.
    errors : list of str
        Solution notebooks that could not be read (the other chapters still grade).
    orphan_checks : list of CheckSpec
        Checks of exercises that no solution notebook defines (among the loaded modules).
    loaded_chapters : tuple of str or None
        The chapters whose check modules are loaded (None: all).
    """

    def __init__(self, solutions_dir: Path, checks_dir: Path, extra_dirs=(), chapters=None):
        self.solutions_dir, self.checks_dir = Path(solutions_dir), Path(checks_dir)
        self.loaded_chapters = None if chapters is None else tuple(chapters)
        self.extra_dirs = [str(Path(folder).resolve()) for folder in extra_dirs]
        self.check_files: list[Path] = sorted(self.checks_dir.glob("test_*.py"))
        self.extra_files: list[Path] = []
        for folder in extra_dirs:
            files = sorted(Path(folder).glob("test_*.py"))
            if not files:
                raise CatalogError(f"--extra-tests {folder}: no test_*.py files found")
            self.extra_files += files
        self._digest = hashlib.sha256()
        repo_sources = {path: path.read_bytes() for path in self.check_files}
        extra_sources = {path: path.read_bytes() for path in self.extra_files}
        for path, source in [*repo_sources.items(), *extra_sources.items()]:
            self._digest.update(path.name.encode() + source)
        solution_stems = {path.stem for path in self.solutions_dir.glob("ch*.ipynb")}
        skipped = set() if chapters is None else solution_stems - set(chapters)
        loaded = {path: source for path, source in repo_sources.items()
                  if path.stem.removeprefix("test_") not in skipped}
        specs = load_checks(loaded, "repo") + [
            dataclasses.replace(spec, hidden=True) for spec in load_checks(extra_sources, "extra")]
        self.errors: list[str] = []
        self.chapters: dict[str, Chapter] = {}
        for path in sorted(self.solutions_dir.glob("ch*.ipynb")):
            data = path.read_bytes()
            self._digest.update(path.name.encode() + data)
            try:
                chapter = load_chapter(path, data)
            except (NotebookError, CatalogError) as exc:
                self.errors.append(f"{path.name}: {exc}")
                continue
            self.chapters[chapter.name] = self._with_checks(chapter, specs)
        self.exercises: dict[str, Exercise] = {
            exercise.id: exercise for chapter in self.chapters.values()
            for exercise in chapter.exercises}
        self.orphan_checks: list[CheckSpec] = [spec for spec in specs
                                               if spec.exercise not in self.exercises]
        self._references: dict[str, types.SimpleNamespace] = {}
        self._including: dict[tuple[str, ...], Catalog] = {}

    @staticmethod
    def _with_checks(chapter: Chapter, specs: list[CheckSpec]) -> Chapter:
        exercises = tuple(dataclasses.replace(
            exercise, checks=tuple(spec for spec in specs if spec.exercise == exercise.id))
            for exercise in chapter.exercises)
        return dataclasses.replace(chapter, exercises=exercises)

    def checks_loaded(self, chapter: str) -> bool:
        """Whether the check modules of ``chapter`` are loaded."""
        return self.loaded_chapters is None or chapter in self.loaded_chapters

    def including(self, chapters) -> Catalog:
        """This catalog, or one that also loads the check modules of ``chapters`` (built once
        per set of chapters; check modules already executed are not executed again)."""
        missing = tuple(name for name in chapters if not self.checks_loaded(name))
        if not missing:
            return self
        if missing not in self._including:
            self._including[missing] = Catalog(
                self.solutions_dir, self.checks_dir, self.extra_dirs,
                chapters=[*self.loaded_chapters, *missing])
        return self._including[missing]

    def reference(self, chapter: str) -> types.SimpleNamespace:
        """The reference solution of a chapter, executed in this (trusted) process once."""
        if chapter not in self._references:
            self._references[chapter] = reference_namespace(self.chapters[chapter])
        return self._references[chapter]

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 of the solutions, the checks and the grader's own code: part of cache keys."""
        digest = self._digest.copy()
        for path in sorted(Path(__file__).parent.rglob("*.py")):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    @property
    def max_points(self) -> float:
        """Points of the whole course, bonus exercises excluded."""
        return sum(chapter.max_points for chapter in self.chapters.values())


def reference_namespace(chapter: Chapter) -> types.SimpleNamespace:
    """Execute a chapter's given cells and reference solutions; their names as attributes."""
    namespace: dict = {"__name__": f"reference_{chapter.name}"}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    for number, source in enumerate(chapter.given):
        exec(compile(strip_magics(source), f"<{chapter.name} given {number}>", "exec"), namespace)
    for exercise in chapter.exercises:
        exec(compile(strip_magics(exercise.solution_source), f"<{chapter.name} {exercise.id}>",
                     "exec"), namespace)
    return types.SimpleNamespace(**{name: value for name, value in namespace.items()
                                    if not name.startswith("__")})


@functools.cache
def default_catalog() -> Catalog:
    """The catalog of the course repository this package belongs to (built once)."""
    return Catalog(solutions_dir(), checks_dir())
