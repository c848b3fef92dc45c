"""The course's exercises (from solutions/*.ipynb) and their checks (from tests/exercises/)."""
from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from .checks import CheckSpec
from .notebook import Notebook, defined_functions, read_notebook, strip_magics

PRELUDE = "import numpy as np\nimport math\n"
SOLUTION_RE = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.M | re.S)


@dataclass
class Exercise:
    id: str
    chapter: str
    cell_id: str | None
    functions: list[str]
    solution_source: str
    index: int  # position of the graded cell in the solution notebook
    checks: list[CheckSpec] = field(default_factory=list)

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def main(self) -> str:
        return self.functions[0]


@dataclass
class Chapter:
    name: str
    path: Path
    notebook: Notebook
    exercises: list[Exercise]
    given: list[str]

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)


class CatalogError(Exception):
    pass


def nbgrader_id(exercise: str) -> str:
    """nbgrader's grade_id for an exercise: only letters, digits, '_' and '-' are allowed."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", exercise)


def graded_cells(nb: Notebook):
    return [c for c in nb.code_cells() if c.nbgrader.get("solution") is True and c.grader.get("exercise")]


def load_chapter(path: Path) -> Chapter:
    nb = read_notebook(path)
    exercises, given = [], []
    for cell in nb.code_cells():
        if cell.grader.get("role") == "given":
            given.append(cell.source)
    for cell in graded_cells(nb):
        ex_id = cell.grader["exercise"]
        if cell.grade_id not in (ex_id, nbgrader_id(ex_id)):
            raise CatalogError("%s cell %d: nbgrader grade_id %r does not match grader.exercise %r "
                               "(expected %r)" % (path.name, cell.index, cell.grade_id, ex_id, nbgrader_id(ex_id)))
        funcs = defined_functions(cell.source)
        if not funcs:
            raise CatalogError("%s: graded cell %s defines no top-level function" % (path.name, ex_id))
        exercises.append(Exercise(ex_id, path.stem, cell.id, funcs, cell.source, cell.index))
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CatalogError("%s: duplicated exercise ids %s" % (path.name, ids))
    return Chapter(path.stem, path, nb, exercises, given)


class Catalog:
    """All chapters and checks. ``extra_dirs``: instructor-only checks (always hidden)."""

    def __init__(self, solutions_dir: Path, checks_dir: Path, extra_dirs=(), chapters=None):
        """``chapters``: load only these chapters' check modules (``test_<chapter>.py``; modules
        named otherwise are always loaded), e.g. ``[]`` to recognise notebooks without loading
        any check; every solution notebook is read either way."""
        self.solutions_dir = Path(solutions_dir)
        self.checks_dir = Path(checks_dir)
        self.chapters: dict[str, Chapter] = {}
        self.errors: list[str] = []  # broken solution notebooks: reported, the others still grade
        for p in sorted(self.solutions_dir.glob("ch*.ipynb")):
            try:
                ch = load_chapter(p)
            except Exception as exc:  # noqa: BLE001
                self.errors.append("%s: %s" % (p.name, exc))
                continue
            self.chapters[ch.name] = ch
        self.exercises: dict[str, Exercise] = {e.id: e for ch in self.chapters.values() for e in ch.exercises}
        self.orphan_checks: list[CheckSpec] = []
        self._refs: dict[str, types.SimpleNamespace] = {}
        self.check_files: list[Path] = sorted(self.checks_dir.glob("test_*.py"))
        self.loaded_chapters = list(self.chapters) if chapters is None else list(chapters)
        skipped = set(self.chapters) - set(self.loaded_chapters)
        loaded_files = [f for f in self.check_files if f.stem[len("test_"):] not in skipped]
        for spec in load_checks(loaded_files, "repo"):
            self._add(spec)
        self.extra_files: list[Path] = []
        self.extra_dirs = [str(Path(d).resolve()) for d in extra_dirs]
        for d in extra_dirs:
            files = sorted(Path(d).glob("test_*.py"))
            if not files:
                raise CatalogError("--extra-tests %s: no test_*.py files found" % d)
            self.extra_files += files
            for spec in load_checks(files, "extra"):
                spec.hidden = True
                self._add(spec)

    def _add(self, spec: CheckSpec):
        ex = self.exercises.get(spec.exercise)
        if ex is None:
            self.orphan_checks.append(spec)
        else:
            ex.checks.append(spec)

    def reference(self, chapter: str) -> types.SimpleNamespace:
        """The reference solution of a chapter, executed in this (trusted) process."""
        if chapter not in self._refs:
            self._refs[chapter] = reference_namespace(self.chapters[chapter])
        return self._refs[chapter]

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for p in [*sorted(self.solutions_dir.glob("ch*.ipynb")), *self.check_files, *self.extra_files]:
            h.update(str(p.name).encode())
            h.update(p.read_bytes())
        for p in sorted(Path(__file__).parent.glob("*.py")):
            h.update(p.read_bytes())
        return h.hexdigest()

    @property
    def max_points(self) -> float:
        return sum(ch.max_points for ch in self.chapters.values())


def reference_namespace(chapter: Chapter) -> types.SimpleNamespace:
    ns: dict = {"__name__": "reference_%s" % chapter.name}
    exec(compile(PRELUDE, "<prelude>", "exec"), ns)
    for i, src in enumerate(chapter.given):
        exec(compile(strip_magics(src), "<%s given %d>" % (chapter.name, i), "exec"), ns)
    for ex in chapter.exercises:
        exec(compile(strip_magics(ex.solution_source), "<%s %s>" % (chapter.name, ex.id), "exec"), ns)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


_loaded_modules: dict[str, types.ModuleType] = {}


def load_checks(files, source: str) -> list[CheckSpec]:
    specs = []
    for f in files:
        f = Path(f).resolve()
        mod = _loaded_modules.get(str(f))
        if mod is None:
            name = "_nn_checks_%s_%s" % (source, hashlib.sha1(str(f).encode()).hexdigest()[:10])
            spec = importlib.util.spec_from_file_location(name, f)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
            _loaded_modules[str(f)] = mod
        for obj in vars(mod).values():
            s = getattr(obj, "_nn_check", None)
            if isinstance(s, CheckSpec) and getattr(obj, "__module__", None) == mod.__name__:
                s = CheckSpec(**{**s.__dict__})
                s.source = source
                specs.append(s)
    specs.sort(key=lambda s: (s.func.__code__.co_filename, s.func.__code__.co_firstlineno))
    return specs


_default = None


def default_catalog() -> Catalog:
    global _default
    if _default is None:
        from .paths import checks_dir, solutions_dir
        _default = Catalog(solutions_dir(), checks_dir())
    return _default
