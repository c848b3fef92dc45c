"""Stage 3, analyse: from parsed notebooks and the catalog to a plan per exercise. Pure.

Notebooks are matched to chapters by the exercises they contain (not by file name); for each
exercise the graded code is located (:func:`find_exercise_code`) and the sandboxed module is
assembled (:func:`build_parts`), or the reason there is none is recorded as the exception every
check of the exercise will report. Suspicious code is flagged for review (never penalised).
Nothing here runs learner code.
"""
from __future__ import annotations

import ast
import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .authoring import SETUP_SOURCE, make_stub
from .catalog import PRELUDE, Catalog, Chapter, Exercise
from .checks import MissingFunction
from .intake import NotebookFile
from .notebook import Cell, Notebook
from .roster import parse_time
from .similarity import fingerprints
from .source import defined_functions, definitions_only, mentions_def, parse_cell, strip_magics


class CellSyntaxError(Exception):
    """The cell holding an exercise does not compile; ``message`` gives the cell and line."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ExercisePlan:
    """How one exercise will be graded.

    Attributes
    ----------
    exercise : Exercise
    notebook : str
        The learner's notebook holding it (``""`` when the chapter's notebook is missing).
    parts : tuple of (str, str)
        The sandboxed module as (label, source) pairs: prelude, given, context, exercise.
    problem : Exception or None
        Why the exercise cannot run (:class:`~grader.checks.MissingFunction` or
        :class:`CellSyntaxError`); every check of the exercise reports it.
    fingerprints : frozenset of int
        Winnowed fingerprints of the learner's graded code, those of the exercise's stub left
        out (empty when the learner wrote nothing): for the class report's similarity flags.
    """

    exercise: Exercise
    notebook: str
    parts: tuple[tuple[str, str], ...] = ()
    problem: Exception | None = None
    fingerprints: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ChapterPlan:
    """The plans of one chapter's exercises, and the language of the learner's notebook (of
    the feedback on it; None when the chapter's notebook is missing)."""

    chapter: Chapter
    exercises: tuple[ExercisePlan, ...]
    language: str | None = None


@dataclass(frozen=True)
class Flag:
    """Code an instructor should look at (it never changes the score)."""

    notebook: str
    cell: int
    line: int
    reason: str


@dataclass(frozen=True)
class SubmissionPlan:
    """What grading a submission will do.

    Attributes
    ----------
    chapters : tuple of ChapterPlan
        The chapters to grade, in order (empty when the submission is not gradable).
    assigned : dict of str to str
        Notebook path to the (first) chapter it was matched to.
    flags : tuple of Flag
    not_gradable : str or None
        Why nothing can be graded.
    uses : dict of str to (str, str)
        Notebook path to what was done with it and why: ``graded``, ``duplicate`` (another
        notebook of its chapter was graded, see :data:`SEVERAL_NOTEBOOKS_RULE`) or
        ``unmatched`` (no exercise of the course in it). Unreadable files are not in it.
    solution_marked : frozenset of str
        Notebooks that still hold ``### BEGIN SOLUTION`` markers (a solution notebook?).
    """

    chapters: tuple[ChapterPlan, ...]
    assigned: dict[str, str]
    flags: tuple[Flag, ...]
    not_gradable: str | None = None
    uses: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    solution_marked: frozenset[str] = frozenset()

    @property
    def language(self) -> str:
        """The language of the learner's feedback: the one most of the graded notebooks carry
        (``metadata.grader.language``; English first on a tie, and when none was graded)."""
        counts = Counter(plan.language for plan in self.chapters if plan.language is not None)
        return max(sorted(counts), key=lambda language: (counts[language], language == "en"),
                   default="en")


# --------------------------------------------------------------------------- finding code
def _metadata_cells(notebook: Notebook, exercise: Exercise) -> list[Cell]:
    """Code cells that the metadata ties to an exercise (cell id, grade_id, grader.exercise)."""
    return [cell for cell in notebook.code_cells
            if (exercise.cell_id and cell.id == exercise.cell_id)
            or cell.grade_id in exercise.grade_ids
            or cell.exercise == exercise.id and cell.role != "check"]


def _syntax_problem(cell: Cell) -> CellSyntaxError:
    try:
        compile(cell.source, "cell", "exec")
    except SyntaxError as exc:
        return CellSyntaxError(f"syntax error in cell {cell.index}, line {exc.lineno}: {exc.msg}")
    except (ValueError, RecursionError, MemoryError):  # null bytes, surrogates, deep nesting
        pass
    return CellSyntaxError(f"cell {cell.index} could not be parsed (IPython syntax?)")


def _missing_problem(exercise: Exercise, by_metadata: list[Cell]) -> MissingFunction:
    if not by_metadata:
        return MissingFunction(exercise.main, (
            f"function `{exercise.main}` not found: the exercise cell seems to be deleted. Copy "
            "it back from a fresh copy of the exercise notebook."))
    others = defined_functions(by_metadata[-1].source) or []
    tip = ""
    if others:
        names = ", ".join(f"`{name}`" for name in others)
        tip = (f" The cell defines {names} instead: keep the original name `{exercise.main}` "
               "(and its parameters).")
    return MissingFunction(exercise.main,
                           f"function `{exercise.main}` not found in your notebook.{tip}")


def find_exercise_code(notebook: Notebook,
                       exercise: Exercise) -> tuple[Cell | None, Exception | None]:
    """Locate the learner's code of an exercise.

    The graded code is the last code cell that defines the exercise's main function. Failing
    that, a cell that does not parse and is tied to the exercise (by metadata, or by a ``def``
    line) is a syntax error; otherwise the function is missing.

    Returns
    -------
    tuple of (Cell or None, Exception or None)
        The cell and None when found; else the best-guess cell (or None) and the problem
        (:class:`CellSyntaxError` or :class:`~grader.checks.MissingFunction`).
    """
    code_cells = notebook.code_cells
    defining = [cell for cell in code_cells
                if exercise.main in (defined_functions(cell.source) or [])]
    if defining:
        return defining[-1], None
    by_metadata = _metadata_cells(notebook, exercise)
    broken = [cell for cell in code_cells if parse_cell(cell.source) is None
              and (cell in by_metadata or mentions_def(cell.source, exercise.main))]
    if broken:
        return broken[-1], _syntax_problem(broken[-1])
    return (by_metadata[-1] if by_metadata else None), _missing_problem(exercise, by_metadata)


def notebook_definitions(notebook: Notebook) -> dict[int, str | None]:
    """The definitions (:func:`~grader.source.definitions_only`) of each code cell of a
    learner's notebook, by cell index; setup and check cells left out. Computed once per
    notebook: every exercise's module takes them from the cells it does not grade."""
    return {cell.index: definitions_only(cell.source) for cell in notebook.code_cells
            if cell.role not in ("setup", "check")}


def build_parts(notebook: Notebook, chapter: Chapter, cell: Cell,
                definitions: dict[int, str | None] | None = None) -> tuple[tuple[str, str], ...]:
    """The sandboxed module of one exercise, as (label, source) pairs.

    ``import numpy as np`` and ``import math``; the reference *given* cells; imports, functions
    and classes (definitions only) from the learner's other cells (``definitions``: those of
    :func:`notebook_definitions`, computed here if not given); the graded cell in full.
    """
    if definitions is None:
        definitions = notebook_definitions(notebook)
    parts = [("prelude", PRELUDE), *(("given", source) for source in chapter.given)]
    for other in notebook.code_cells:
        if other is not cell and definitions.get(other.index):
            parts.append(("context", definitions[other.index]))
    parts.append(("exercise", strip_magics(cell.source)))
    return tuple(parts)


def is_stub(cell: Cell, exercise: Exercise) -> bool:
    """The cell still holds the exercise's ``raise NotImplementedError`` line (not attempted)."""
    return f'NotImplementedError("Exercise {exercise.id}' in cell.source


def code_fingerprints(cell: Cell, exercise: Exercise) -> frozenset[int]:
    """Fingerprints of the learner's code of an exercise, the stub's own left out."""
    if is_stub(cell, exercise):
        return frozenset()
    stub = fingerprints(make_stub(exercise.solution_source, exercise.id))
    return frozenset(fingerprints(strip_magics(cell.source)) - stub)


def plan_exercise(notebook: Notebook, chapter: Chapter, exercise: Exercise,
                  definitions: dict[int, str | None] | None = None) -> ExercisePlan:
    """The plan of one exercise found (or not) in a learner's notebook (``definitions``: see
    :func:`build_parts`)."""
    cell, problem = find_exercise_code(notebook, exercise)
    if problem is not None:
        return ExercisePlan(exercise, notebook.path, problem=problem)
    return ExercisePlan(exercise, notebook.path,
                        parts=build_parts(notebook, chapter, cell, definitions),
                        fingerprints=code_fingerprints(cell, exercise))


def plan_missing_chapter(chapter: Chapter) -> ChapterPlan:
    """The plan of a chapter whose notebook is not in the submission: every check is missing."""
    message = f"no notebook for chapter {chapter.name} was found in the submission"
    return ChapterPlan(chapter, tuple(ExercisePlan(exercise, "", problem=MissingFunction(
        exercise.main, message)) for exercise in chapter.exercises))


# --------------------------------------------------------------------------- chapters
def match_score(notebook: Notebook, chapter: Chapter) -> tuple[int, int]:
    """How well a notebook matches a chapter.

    Returns
    -------
    tuple of (int, int)
        (exercises found by cell id / grade_id, exercises found by function name); (0, 0) if
        the notebook is not this chapter's (it needs an id match or more than half of the
        functions).
    """
    names, ids = set(), set()
    for cell in notebook.code_cells:
        ids.update(value for value in (cell.id, cell.grade_id, cell.exercise) if value)
        if cell.grade_id:
            ids.add(cell.grade_id.replace("-", ".", 1))
        if cell.role != "given":
            names.update(defined_functions(cell.source) or [])
    strong = sum(1 for exercise in chapter.exercises
                 if exercise.id in ids or (exercise.cell_id and exercise.cell_id in ids))
    weak = sum(1 for exercise in chapter.exercises if exercise.main in names)
    if strong == 0 and 2 * weak <= len(chapter.exercises):
        return (0, 0)
    return (strong, weak)


SEVERAL_NOTEBOOKS_RULE = (
    "When a learner has several notebooks for one chapter, one is graded: the one with the "
    "latest submission time (when the layout records times and they differ), else the one "
    "with the most exercises attempted (code written in place of the stub), else the one that "
    "matches the chapter best, else the last in path order. The others are listed as "
    "'duplicate' and not graded.")
"""The one documented rule (grader/README.md quotes it)."""


def attempted(notebook: Notebook, chapter: Chapter) -> int:
    """How many of the chapter's exercises the notebook has code for (not the stub)."""
    count = 0
    for exercise in chapter.exercises:
        cell, problem = find_exercise_code(notebook, exercise)
        count += problem is None and cell is not None and not is_stub(cell, exercise)
    return count


def _time_key(times: dict[str, str], notebook: Notebook):
    try:
        return parse_time(times[notebook.path]).timestamp()
    except (KeyError, ValueError):
        return None


def choose_notebook(candidates: list[tuple[int, Notebook]], chapter: Chapter,
                    times: dict[str, str]) -> tuple[Notebook, str]:
    """Apply :data:`SEVERAL_NOTEBOOKS_RULE` to the (position, notebook) pairs of one chapter.

    Returns
    -------
    tuple of (Notebook, str)
        The notebook to grade and what decided (``""`` when there was one candidate).
    """
    if len(candidates) == 1:
        return candidates[0][1], ""
    stamps = [_time_key(times, notebook) for _, notebook in candidates]
    use_time = None not in stamps and len(set(stamps)) > 1
    criteria = [("latest submission time", lambda entry: entry[0])] if use_time else []
    criteria += [("most exercises attempted", lambda entry: entry[1]),
                 ("best match with the chapter", lambda entry: entry[2]),
                 ("last in path order", lambda entry: entry[3])]
    scored = [(stamp if use_time else 0, attempted(notebook, chapter),
               match_score(notebook, chapter), position, notebook)
              for stamp, (position, notebook) in zip(stamps, candidates)]
    for reason, key in criteria:
        best = max(map(key, scored))
        tied = [entry for entry in scored if key(entry) == best]
        if len(tied) == 1:
            return tied[0][4], reason
        scored = tied
    return scored[-1][4], "last in path order"


def assign_chapters(notebooks: list[Notebook], catalog: Catalog,
                    times: dict[str, str] | None = None
                    ) -> tuple[dict[str, Notebook], dict[str, str]]:
    """For each chapter, the notebook to grade, if any matches.

    Returns
    -------
    tuple of (dict of str to Notebook, dict of str to str)
        Chapter name to notebook; and the path of every matching notebook that was not chosen
        to a note naming the graded one and the rule's deciding criterion.
    """
    assigned, passed_over = {}, {}
    for chapter in catalog.chapters.values():
        candidates = [(position, notebook) for position, notebook in enumerate(notebooks)
                      if match_score(notebook, chapter) != (0, 0)]
        if not candidates:
            continue
        chosen, reason = choose_notebook(candidates, chapter, times or {})
        assigned[chapter.name] = chosen
        for _, notebook in candidates:
            if notebook is not chosen:
                passed_over[notebook.path] = (
                    f"not graded: {len(candidates)} notebooks for {chapter.name}; "
                    f"{chosen.path} was graded ({reason})")
    return assigned, passed_over


def chapters_to_grade(files: list[NotebookFile], catalog: Catalog,
                      chapters: list[str] | None = None,
                      times: dict[str, str] | None = None) -> list[str]:
    """The chapters :func:`plan_submission` grades: ``chapters`` if given, else those for
    which a notebook was found (cheap: no exercise is planned)."""
    if chapters:
        return list(chapters)
    notebooks = [entry.notebook for entry in files if entry.notebook is not None]
    return list(assign_chapters(notebooks, catalog, times)[0])


def solution_marked(notebook: Notebook) -> bool:
    """The notebook holds ``### BEGIN SOLUTION`` markers: a solution notebook, not a learner's."""
    return any("### BEGIN SOLUTION" in cell.source for cell in notebook.code_cells)


# --------------------------------------------------------------------------- suspicious code
FLAG_MODULES = {
    "nnlib": "imports the course's reference library nnlib",
    "grader": "imports the grader",
    "ctypes": "imports ctypes (raw memory access)",
    "signal": "imports signal",
    "subprocess": "imports subprocess",
    "socket": "imports socket (network)",
    "multiprocessing": "imports multiprocessing",
    "threading": "imports threading",
    "importlib": "imports importlib",
    "inspect": "imports inspect",
    "gc": "imports gc",
    "builtins": "imports builtins",
    "pickle": "imports pickle",
    "marshal": "imports marshal",
    "shutil": "imports shutil",
    "sys": "imports sys",
    "os": "imports os",
    "pathlib": "imports pathlib (file access)",
    "urllib": "imports urllib (network)",
    "requests": "imports requests (network)",
}
FLAG_CALLS = {
    "open": "calls open() (file access)", "exec": "calls exec()", "eval": "calls eval()",
    "compile": "calls compile()", "__import__": "calls __import__()",
    "get_ipython": "calls get_ipython()", "input": "calls input()", "globals": "calls globals()",
    "setattr": "calls setattr()", "breakpoint": "calls breakpoint()", "vars": "calls vars()",
}
FLAG_ATTRIBUTES = {
    "_exit": "calls os._exit", "system": "calls os.system", "fork": "calls os.fork",
    "kill": "sends signals", "__subclasses__": "uses __subclasses__",
    "__globals__": "uses __globals__", "__code__": "uses __code__",
    "__builtins__": "uses __builtins__", "f_back": "inspects stack frames",
    "exit": "calls exit()", "popen": "calls popen",
}
PROTECTED_NAMES = frozenset({"np", "numpy", "builtins", "math", "__builtins__"})
"""Names whose attributes or items a learner should never assign to (patching)."""


def _patch_reasons(node: ast.AST) -> Iterable[str]:
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
    for target in targets:
        base = target
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if (isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(base, ast.Name)
                and base.id in PROTECTED_NAMES):
            yield f"patches {base.id} (assigns to {ast.unparse(target)[:60]})"


def _node_reasons(node: ast.AST) -> Iterable[str]:
    """Why a syntax-tree node is suspicious (several reasons are possible)."""
    if isinstance(node, ast.Import):
        yield from (FLAG_MODULES[alias.name.split(".")[0]] for alias in node.names
                    if alias.name.split(".")[0] in FLAG_MODULES)
    elif isinstance(node, ast.ImportFrom):
        reason = FLAG_MODULES.get((node.module or "").split(".")[0])
        if reason:
            yield reason
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in FLAG_CALLS:
            yield FLAG_CALLS[node.func.id]
    elif isinstance(node, ast.Attribute):
        if node.attr in FLAG_ATTRIBUTES:
            yield FLAG_ATTRIBUTES[node.attr]
    elif isinstance(node, ast.Name) and node.id == "__builtins__":
        yield "uses __builtins__"
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        yield from _patch_reasons(node)


def scan_source(source: str) -> list[tuple[int, str]]:
    """Suspicious lines of one cell as (line, reason), each pair once, in tree order."""
    tree = parse_cell(source)
    if tree is None:
        return []
    found = {}
    for node in ast.walk(tree):
        for reason in _node_reasons(node):
            found.setdefault((getattr(node, "lineno", 0), reason), None)
    return list(found)


def _course_cell(cell: Cell) -> bool:
    """The course's own setup and check cells, unedited (edited ones are scanned)."""
    if cell.role == "setup":
        return cell.source.strip() == SETUP_SOURCE.strip()
    return cell.role == "check" and cell.source.lstrip().startswith("check(")


def scan_notebook(notebook: Notebook) -> list[Flag]:
    """Flags for every suspicious line of a learner's notebook."""
    return [Flag(notebook.path, cell.index, line, reason) for cell in notebook.code_cells
            if not _course_cell(cell) for line, reason in scan_source(cell.source)]


# --------------------------------------------------------------------------- the whole plan
def _not_gradable_reason(files: list[NotebookFile]) -> str:
    if not files:
        return "no .ipynb file found"
    if not any(entry.notebook for entry in files):
        return "no notebook could be read: " + "; ".join(
            f"{entry.path}: {entry.reason}" for entry in files)
    return "no exercise of the course was found in the notebook(s)"


def _uses(notebooks: list[Notebook], first_chapter: dict[str, str],
          passed_over: dict[str, str]) -> dict[str, tuple[str, str]]:
    uses = {}
    for notebook in notebooks:
        if notebook.path in first_chapter:
            uses[notebook.path] = ("graded", "")
        elif notebook.path in passed_over:
            uses[notebook.path] = ("duplicate", passed_over[notebook.path])
        else:
            uses[notebook.path] = ("unmatched", "no exercise of the course was found in it")
    return uses


def plan_submission(files: list[NotebookFile], catalog: Catalog,
                    chapters: list[str] | None = None,
                    times: dict[str, str] | None = None, scan: bool = True) -> SubmissionPlan:
    """The plan for one learner's notebooks.

    Parameters
    ----------
    files : list of NotebookFile
        From :func:`grader.intake.read_notebooks`.
    catalog : Catalog
    chapters : list of str, optional
        The chapters to grade (a missing one scores zero); default: those found.
    times : dict of str to str, optional
        Submission time per notebook path (for :data:`SEVERAL_NOTEBOOKS_RULE`).
    scan : bool, default True
        Scan every notebook for suspicious code (the flags). A batch grades a learner's
        chapters in several tasks; only the first scans (its row carries the flags).

    Returns
    -------
    SubmissionPlan
    """
    notebooks = [entry.notebook for entry in files if entry.notebook is not None]
    flags = tuple(flag for notebook in notebooks if scan for flag in scan_notebook(notebook))
    assigned, passed_over = assign_chapters(notebooks, catalog, times)
    first_chapter = {}
    for name, notebook in assigned.items():
        first_chapter.setdefault(notebook.path, name)
    extra = {"uses": _uses(notebooks, first_chapter, passed_over),
             "solution_marked": frozenset(notebook.path for notebook in notebooks
                                          if solution_marked(notebook))}
    wanted = list(chapters) if chapters else list(assigned)
    if not wanted:
        return SubmissionPlan((), first_chapter, flags, _not_gradable_reason(files), **extra)
    plans, definitions = [], {}
    for name in wanted:
        chapter, notebook = catalog.chapters[name], assigned.get(name)
        if notebook is None:
            plans.append(plan_missing_chapter(chapter))
            continue
        if notebook.path not in definitions:
            definitions[notebook.path] = notebook_definitions(notebook)
        plans.append(ChapterPlan(chapter, tuple(
            plan_exercise(notebook, chapter, exercise, definitions[notebook.path])
            for exercise in chapter.exercises), notebook.language))
    return SubmissionPlan(tuple(plans), first_chapter, flags, **extra)
