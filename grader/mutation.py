"""Mutation score of the exercise checks: do they catch plausible wrong implementations?

For every exercise, *mutants* (wrong versions of the reference solution) are graded like a
learner's code, and a mutant is *killed* when it loses points. Two sources:

* automatic mutants, made by an AST mutator over the graded cell of the solution notebook
  (:func:`auto_mutants`): a sign flipped, a term dropped, a comparison or a constant off by one,
  an ``axis`` changed, ``keepdims`` or a ``.T`` removed, the input returned, the input modified
  in place, float32 results;
* hand-written mutants, one per requirement an exercise states and per common mistake
  (``tests/exercises/mutants.py``), each naming words its feedback should contain.

``python -m grader.mutation`` grades every mutant through the real grader (the sandbox, as
``python -m grader`` does) and prints, per exercise and overall, the mutation score, every
surviving mutant, and the feedback each mutant got. ``--in-process`` runs the checks in this
process instead (the self-check's way, fast, for tests); ``--exercise`` and ``--chapter``
select.
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib.util
import json
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .analyse import plan_exercise
from .catalog import PRELUDE, Catalog, Exercise, default_catalog
from .checks import CheckSpec
from .execute import Session, chapter_config, preload_chapter, run_exercise
from .notebook import parse_notebook
from .paths import checks_dir
from .sandbox import SandboxConfig
from .selfcheck import run_one
from .source import strip_magics
from .verdict import Status, classify, learner_message

MAX_AUTO_PER_EXERCISE = 16
"""Automatic mutants kept per exercise (spread over the cell, in source order)."""


# --------------------------------------------------------------------------- mutants
@dataclass(frozen=True)
class Mutant:
    """A wrong version of one exercise's graded cell.

    Attributes
    ----------
    exercise : str
    name : str
        E.g. ``"line 7: - -> +"`` or ``"naive overflowing sigmoid"``.
    source : str
        The whole graded cell, mutated.
    hand_written : bool
    names : tuple of str
        For hand-written mutants: words (any of them, case-insensitive) the feedback must
        contain to name the mistake, e.g. ``("sign",)``.
    requirement : bool
        A hand-written mutant that breaks a requirement the exercise's text states.
    slow : bool
        Grading it takes seconds (its checks train a network, or it runs into a timeout): the
        cheap CI test leaves it to the slow one.
    """

    exercise: str
    name: str
    source: str
    hand_written: bool = False
    names: tuple[str, ...] = ()
    requirement: bool = False
    slow: bool = False


def _function_nodes(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)]


def _skipped_lines(function: ast.FunctionDef) -> set[int]:
    """Lines not worth mutating: the docstring and input validation (``raise`` branches)."""
    lines: set[int] = set()
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    for node in ast.walk(function):
        if isinstance(node, ast.If) and any(isinstance(child, ast.Raise) for child in node.body):
            lines.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, (ast.Raise, ast.JoinedStr, ast.Assert)):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


_SWAPPED_OPERATORS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_SWAPPED_COMPARISONS = {ast.GtE: ast.Gt, ast.Gt: ast.GtE, ast.LtE: ast.Lt, ast.Lt: ast.LtE}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.GtE: ">=", ast.Gt: ">",
           ast.LtE: "<=", ast.Lt: "<"}


def _edits(node: ast.AST, function: ast.FunctionDef) -> Iterator[tuple[str, callable]]:
    """(description, edit) for each mutation of ``node``; an edit changes the node in place."""
    def setter(attribute, value):
        return lambda target: setattr(target, attribute, value)

    if isinstance(node, ast.BinOp) and type(node.op) in _SWAPPED_OPERATORS:
        swapped = _SWAPPED_OPERATORS[type(node.op)]
        yield (f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[swapped]}", setter("op", swapped()))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield ("dropped term", lambda target: _replace_with(target, target.left))
    in_keyword = isinstance(getattr(node, "parent", None), ast.keyword)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not in_keyword:
        yield ("sign removed", lambda target: _replace_with(target, target.operand))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in \
            _SWAPPED_COMPARISONS:
        swapped = _SWAPPED_COMPARISONS[type(node.ops[0])]
        yield (f"{_SYMBOL[type(node.ops[0])]} -> {_SYMBOL[swapped]}", setter("ops", [swapped()]))
    numeric = (ast.Constant, ast.UnaryOp)
    if isinstance(node, ast.keyword) and node.arg == "axis" and isinstance(node.value, numeric):
        yield ("axis changed", lambda target: setattr(target, "value", ast.Constant(
            0 if ast.unparse(target.value) in ("-1", "1") else -1)))
    if isinstance(node, ast.Call) and any(keyword.arg == "keepdims" for keyword in node.keywords):
        yield ("keepdims dropped", lambda target: setattr(target, "keywords", [
            keyword for keyword in target.keywords if keyword.arg != "keepdims"]))
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield ("transpose dropped", lambda target: _replace_with(target, target.value))
    if (isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1, 2)
            and not in_keyword):
        yield (f"constant {node.value} -> {node.value + 1}", setter("value", node.value + 1))
    if isinstance(node, ast.Return) and node.value is not None and function.args.args:
        first = function.args.args[0].arg
        yield (f"returns its input {first}", setter("value", ast.Name(first, ast.Load())))
        yield ("float32 result", setter("value", ast.parse(
            f"np.asarray({ast.unparse(node.value)}).astype(np.float32)", mode="eval").body))
        yield (f"modifies its input {first}", lambda target: _mutate_input_before(target, first))


def _replace_with(target: ast.AST, replacement: ast.AST):
    """Make ``target`` a copy of ``replacement`` (same node type allowed to change)."""
    target.__class__ = replacement.__class__
    target.__dict__.clear()
    target.__dict__.update(copy.deepcopy(replacement).__dict__)


TOUCH_SOURCE = """
def _mutant_touch(value):
    # add 1 to the first number found in value (an array, or a list/tuple/dict holding one)
    if isinstance(value, np.ndarray):
        if value.size and value.dtype.kind in "fiu" and value.flags.writeable:
            value.flat[0] += 1
            return True
        return False
    if isinstance(value, list) and value and type(value[0]) in (int, float):
        value[0] += 1
        return True
    items = value.values() if isinstance(value, dict) else value
    return isinstance(items, (list, tuple, type({}.values()))) and any(map(_mutant_touch, items))
"""
"""Added to a cell whose mutant modifies its input in place."""


def _mutate_input_before(target: ast.Return, name: str):
    """``return x`` -> ``_mutant_touch(name); return x`` (the result is computed first)."""
    value = ast.unparse(target.value)
    target.value = ast.parse(f"(lambda _result: (_mutant_touch({name}), _result)[1])({value})",
                             mode="eval").body


def auto_mutants(exercise: Exercise, limit: int = MAX_AUTO_PER_EXERCISE) -> list[Mutant]:
    """Automatic mutants of an exercise's graded cell (at most ``limit``, spread evenly).

    Each mutant changes one node of a function body (docstrings and input validation are left
    alone); mutants whose source equals the reference or another mutant are dropped.
    """
    source = strip_magics(exercise.solution_source)
    tree = ast.parse(source)
    found: dict[str, Mutant] = {}
    for function_index, function in enumerate(_function_nodes(tree)):
        skipped = _skipped_lines(function)
        for node_index, node in enumerate(_mutable_nodes(function, skipped)):
            for description, edit in _edits(node, function):
                mutated = copy.deepcopy(tree)
                target = _nth_node(mutated, function_index, node_index, skipped)
                edit(target)
                try:
                    text = ast.unparse(ast.fix_missing_locations(mutated))
                    if "_mutant_touch(" in text:
                        text = TOUCH_SOURCE.lstrip() + "\n\n" + text
                    compile(text, "<mutant>", "exec")
                except (SyntaxError, ValueError, TypeError):
                    continue
                if text == ast.unparse(tree) or text in {m.source for m in found.values()}:
                    continue
                line = getattr(node, "lineno", None) or getattr(node.parent, "lineno", 0)
                name = f"{function.name} line {line - function.lineno + 1}: {description}"
                while name in found:
                    name += "'"
                found[name] = Mutant(exercise.id, name, text)
    mutants = list(found.values())
    if len(mutants) > limit:
        step = len(mutants) / limit
        mutants = [mutants[int(index * step)] for index in range(limit)]
    return mutants


def _mutable_nodes(function: ast.FunctionDef, skipped: set[int]) -> list[ast.AST]:
    """The nodes of a function's body outside ``skipped`` lines, each knowing its parent."""
    for parent in ast.walk(function):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent
    return [node for node in ast.walk(function)
            if node is not function and getattr(node, "lineno", None) not in skipped]


def _nth_node(tree: ast.Module, function_index: int, node_index: int, skipped: set[int]):
    return _mutable_nodes(_function_nodes(tree)[function_index], skipped)[node_index]


def hand_mutants(catalog: Catalog, path: Path | None = None) -> tuple[list[Mutant], dict]:
    """The hand-written mutants and the explained-equivalent automatic ones.

    ``tests/exercises/mutants.py`` defines ``MUTANTS``, a list of dicts with ``exercise``,
    ``name``, ``names`` (words the feedback must contain), ``requirement`` (bool), ``slow``
    (bool, optional: its grading takes seconds) and either
    ``replace`` (a list of (old, new) text replacements in the reference cell) or ``source``
    (the whole cell); and ``EQUIVALENT``, ``{(exercise, automatic mutant name): reason}``.

    Raises
    ------
    ValueError
        When a replacement's old text is not in the reference cell (the solution changed).
    """
    path = path or checks_dir() / "mutants.py"
    spec = importlib.util.spec_from_file_location("_nn_mutants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = []
    for entry in module.MUTANTS:
        exercise = catalog.exercises[entry["exercise"]]
        source = entry.get("source")
        if source is None:
            source = strip_magics(exercise.solution_source)
            for old, new in entry["replace"]:
                if old not in source:
                    raise ValueError(f"hand-written mutant {entry['exercise']} / {entry['name']}: "
                                     f"{old!r} is not in the reference cell any more")
                source = source.replace(old, new)
        mutants.append(Mutant(exercise.id, entry["name"], source, True,
                              tuple(entry.get("names", ())), bool(entry.get("requirement")),
                              bool(entry.get("slow"))))
    return mutants, dict(module.EQUIVALENT)


# --------------------------------------------------------------------------- grading
@dataclass
class MutantResult:
    """How the checks treated one mutant."""

    mutant: Mutant
    points: float
    max_points: float
    feedback: str = ""     # what the learner reads for the first failing check
    failed: list[str] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        """The mutant lost points."""
        return self.points < self.max_points

    @property
    def named(self) -> bool:
        """The feedback contains one of the words that name the mistake."""
        text = self.feedback.lower()
        return any(word.lower() in text for word in self.mutant.names)


def _feedback(exercise: Exercise, spec: CheckSpec, error) -> str:
    verdict = classify(error)
    number = exercise.hidden_number(spec) if spec.hidden else None
    return learner_message(verdict, hint=spec.hint, hidden_number=number)


def _summarise(mutant: Mutant, exercise: Exercise, errors: list) -> MutantResult:
    result = MutantResult(mutant, 0.0, exercise.max_points)
    first_public = first_hidden = ""
    for spec, error in zip(exercise.checks, errors):
        if classify(error).status is Status.PASSED:
            result.points += spec.points
            continue
        result.failed.append(spec.name)
        text = _feedback(exercise, spec, error)
        if spec.hidden:
            first_hidden = first_hidden or text
        else:
            first_public = first_public or text
    result.feedback = first_public or first_hidden
    return result


def grade_in_process(mutant: Mutant, catalog: Catalog) -> MutantResult:
    """Run every check (public and hidden) on a mutant in this process (the self-check path)."""
    exercise = catalog.exercises[mutant.exercise]
    chapter = catalog.chapters[exercise.chapter]
    namespace: dict = {"__name__": f"mutant_{exercise.chapter}"}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    for number, source in enumerate(chapter.given):
        exec(compile(strip_magics(source), f"<given {number}>", "exec"), namespace)
    for other in chapter.exercises:
        source = mutant.source if other.id == exercise.id else strip_magics(other.solution_source)
        exec(compile(source, f"<{other.id}>", "exec"), namespace)
    # like the sandbox's ``sub``: every name the module defines (given helpers too)
    sub = types.SimpleNamespace(**{name: value for name, value in namespace.items()
                                   if not name.startswith("_")})
    reference = catalog.reference(exercise.chapter)
    return _summarise(mutant, exercise, [run_one(spec, sub, reference)
                                         for spec in exercise.checks])


class SandboxGrader:
    """Grades mutants through the real grader: one sandbox per chapter configuration."""

    def __init__(self, catalog: Catalog, config: SandboxConfig | None = None):
        self.catalog = catalog
        self.config = config or SandboxConfig()  # as the CLI: the allow-list sandbox
        self.sessions: dict[str, tuple[Session, SandboxConfig]] = {}
        self.notebooks: dict[str, dict] = {}

    def _session(self, chapter_name: str) -> tuple[Session, SandboxConfig]:
        if chapter_name not in self.sessions:
            chapter = self.catalog.chapters[chapter_name]
            config = chapter_config(self.config, chapter)
            session = Session(config)
            preload_chapter(session, chapter)
            self.sessions[chapter_name] = (session, config)
        return self.sessions[chapter_name]

    def grade(self, mutant: Mutant) -> MutantResult:
        """Grade the solution notebook with the mutant as the exercise's graded cell."""
        exercise = self.catalog.exercises[mutant.exercise]
        chapter = self.catalog.chapters[exercise.chapter]
        if chapter.name not in self.notebooks:
            self.notebooks[chapter.name] = json.loads(chapter.path.read_bytes())
        data = copy.deepcopy(self.notebooks[chapter.name])
        for cell in data["cells"]:
            if cell.get("id") == exercise.cell_id:
                cell["source"] = mutant.source
        notebook = parse_notebook(json.dumps(data).encode(), f"{chapter.name}.ipynb")
        plan = plan_exercise(notebook, chapter, exercise)
        session, config = self._session(chapter.name)
        reference = self.catalog.reference(chapter.name) if chapter.uses_reference else None
        outcomes = run_exercise(session, plan, reference, config)
        return _summarise(mutant, exercise, [outcome.error for outcome in outcomes])

    def close(self):
        """Kill every sandbox."""
        for session, _ in self.sessions.values():
            session.kill()


# --------------------------------------------------------------------------- the report
def _short(text: str, width: int = 200) -> str:
    """The line of a learner message that names the mistake (diagnosis or hint), shortened."""
    lines = text.splitlines()
    named = [line for line in lines if line.startswith(("likely mistake:", "hint:"))]
    line = " ".join((named[-1] if named else lines[0] if lines else "").split())
    return line if len(line) <= width else line[:width - 3] + "..."


def _per_chapter(by_exercise: dict, equivalent: dict) -> dict[str, tuple[int, int]]:
    """``{"ch03": (killed, counted)}`` over the counted (not equivalent) mutants."""
    chapters: dict[str, tuple[int, int]] = {}
    for key, rows in by_exercise.items():
        counted = [row for row in rows if (key, row.mutant.name) not in equivalent]
        killed, total = chapters.get(key.split(".")[0], (0, 0))
        chapters[key.split(".")[0]] = (killed + sum(row.killed for row in counted),
                                       total + len(counted))
    return chapters


def report(results: list[MutantResult], equivalent: dict, stream=sys.stdout) -> dict:
    """Print the per-exercise and overall scores, the survivors and each mutant's feedback.

    Returns
    -------
    dict
        ``{"overall": score, "killed": k, "counted": n, "requirements_survived": [...],
        "hand_named": share, "survivors": [...]}``.
    """
    by_exercise: dict[str, list[MutantResult]] = {}
    for result in results:
        by_exercise.setdefault(result.mutant.exercise, []).append(result)
    width = max((len(key) for key in by_exercise), default=10)
    total_counted = total_killed = 0
    survivors, explained = [], []
    print(f"{'exercise':<{width}}  killed / mutants  score   (auto + hand)", file=stream)
    for key, rows in by_exercise.items():
        counted = [row for row in rows if (key, row.mutant.name) not in equivalent]
        killed = sum(row.killed for row in counted)
        total_counted += len(counted)
        total_killed += killed
        n_hand = sum(row.mutant.hand_written for row in rows)
        score = killed / len(counted) if counted else 1.0
        print(f"{key:<{width}}  {killed:>6} / {len(counted):<7}  {score:6.1%}  "
              f"({len(rows) - n_hand} + {n_hand})", file=stream)
        for row in rows:
            if (key, row.mutant.name) in equivalent:
                explained.append((row, equivalent[(key, row.mutant.name)]))
            elif not row.killed:
                survivors.append(row)
    overall = total_killed / total_counted if total_counted else 1.0
    print(f"{'overall':<{width}}  {total_killed:>6} / {total_counted:<7}  {overall:6.1%}",
          file=stream)
    print(f"\n{'chapter':<{width}}  killed / mutants  score", file=stream)
    for chapter, (killed, counted) in _per_chapter(by_exercise, equivalent).items():
        print(f"{chapter:<{width}}  {killed:>6} / {counted:<7}  "
              f"{killed / counted if counted else 1.0:6.1%}", file=stream)
    requirement_survivors = [row for row in results
                             if row.mutant.requirement and not row.killed]
    hand = [row for row in results if row.mutant.hand_written and row.mutant.names]
    named = sum(row.named for row in hand)
    share = named / len(hand) if hand else 1.0
    print(f"\nstated requirements: {sum(r.mutant.requirement for r in results)} mutants, "
          f"{len(requirement_survivors)} survive", file=stream)
    print(f"hand-written mutants whose feedback names the mistake: {named} / {len(hand)} "
          f"({share:.0%})", file=stream)
    print(f"\nsurviving mutants ({len(survivors)}):", file=stream)
    for row in survivors:
        print(f"  {row.mutant.exercise}: {row.mutant.name}", file=stream)
    print(f"\nequivalent mutants (not counted, {len(explained)}):", file=stream)
    for row, reason in explained:
        state = "killed anyway" if row.killed else "survives"
        print(f"  {row.mutant.exercise}: {row.mutant.name} ({state}): {reason}", file=stream)
    print("\nfeedback per mutant (first failing check; '-' = survived):", file=stream)
    for row in results:
        tag = "hand" if row.mutant.hand_written else "auto"
        mark = ("" if not row.mutant.names
                else " [names it]" if row.named else " [does NOT name it]")
        print(f"  {row.mutant.exercise} [{tag}] {row.mutant.name}{mark}\n"
              f"      {_short(row.feedback) if row.killed else '-'}", file=stream)
    return {"overall": overall, "killed": total_killed, "counted": total_counted,
            "requirements_survived": [row.mutant.name for row in requirement_survivors],
            "hand_named": share, "survivors": [(r.mutant.exercise, r.mutant.name)
                                               for r in survivors]}


def all_mutants(catalog: Catalog, selected) -> tuple[list[Mutant], dict]:
    """Automatic and hand-written mutants of the selected exercises, by exercise."""
    hand, equivalent = hand_mutants(catalog)
    mutants = []
    for exercise in catalog.exercises.values():
        if selected(exercise):
            mutants += auto_mutants(exercise)
            mutants += [mutant for mutant in hand if mutant.exercise == exercise.id]
    return mutants, equivalent


def main(argv=None) -> int:
    """Command line: ``python -m grader.mutation [--in-process] [--exercise ID] [--chapter C]``."""
    parser = argparse.ArgumentParser(prog="python -m grader.mutation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-process", action="store_true",
                        help="run the checks in this process (fast) instead of the sandbox")
    parser.add_argument("--exercise", action="append", help="only this exercise (repeatable)")
    parser.add_argument("--chapter", action="append", help="only this chapter, e.g. ch03")
    parser.add_argument("--hand-only", action="store_true", help="only hand-written mutants")
    args = parser.parse_args(argv)
    catalog = default_catalog()

    def selected(exercise: Exercise) -> bool:
        return ((not args.exercise or exercise.id in args.exercise)
                and (not args.chapter or any(exercise.chapter.startswith(prefix)
                                             for prefix in args.chapter)))
    mutants, equivalent = all_mutants(catalog, selected)
    if args.hand_only:
        mutants = [mutant for mutant in mutants if mutant.hand_written]
    started = time.perf_counter()
    grader = None if args.in_process else SandboxGrader(catalog)
    results = []
    try:
        for mutant in mutants:
            results.append(grade_in_process(mutant, catalog) if grader is None
                           else grader.grade(mutant))
    finally:
        if grader is not None:
            grader.close()
    summary = report(results, equivalent)
    print(f"\n{len(mutants)} mutants graded "
          f"{'in process' if grader is None else 'in the sandbox'} in "
          f"{time.perf_counter() - started:.0f} s")
    return 0 if summary["overall"] >= 0.95 and not summary["requirements_survived"] else 1


if __name__ == "__main__":
    sys.exit(main())
