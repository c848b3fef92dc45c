"""Each chapter's exercise section and its notebook agree on the functions the learner writes.

The section "## Exercise" of a chapter launches one notebook (``{exercise-launch} chNN_topic``)
and names its functions with their parameters, e.g. ``train(X, Y, sizes, epochs, ...)``. The
source of truth is the solution notebook: the top-level functions of its graded cells, read with
``ast``. The book may leave out trailing parameters that have a default; everything else, and
every default it states, must match. The notebooks' own explanations are held to the same rule.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

# `name(a, b, c=1)` in inline code, where every argument is a parameter name (so that example
# calls such as `sigmoid(np.array([0.0]))` are not mistaken for signatures).
SIGNATURE = re.compile(r"`([A-Za-z_]\w*)\(([^`()]*)\)`")
PARAMETER = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:=\s*(.+?))?\s*")


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str | None          # source text of the default, None if required


def _signature_from_def(node: ast.FunctionDef) -> list[Parameter]:
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [Parameter(a.arg, None if d is None else ast.unparse(d))
              for a, d in zip(positional, defaults)]
    params += [Parameter(a.arg, None if d is None else ast.unparse(d))
               for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return params


def _signature_from_text(arguments: str) -> list[Parameter] | None:
    """Parameters written in the text, or None if the span is not a signature."""
    if not arguments.strip():
        return []
    params = []
    for piece in arguments.split(","):
        m = PARAMETER.fullmatch(piece)
        if m is None:
            return None
        default = m.group(2)
        params.append(Parameter(m.group(1), None if default is None
                                else ast.unparse(ast.parse(default, mode="eval").body)))
    return params


def _notebook_functions(path: Path) -> tuple[dict, dict]:
    """(graded, given): function name -> parameters, from the solution notebook's cells."""
    graded, given = {}, {}
    for cell in json.loads(path.read_text("utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell["cell_type"] != "code":
            continue
        if "exercise" in meta and "role" not in meta:
            target = graded
        elif meta.get("role") == "given":
            target = given
        else:
            continue
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, ast.FunctionDef):
                target[node.name] = _signature_from_def(node)
    return graded, given


def _exercise_sections(repo_root: Path):
    """(chapter file, notebook name, section text) for every chapter with an exercise section."""
    for chapter in sorted((repo_root / "book").glob("ch*.md")):
        text = chapter.read_text("utf-8")
        m = re.search(r"^## Exercise\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
        if m is None:
            continue
        launch = re.search(r"```\{exercise-launch\}\s+(\S+)", m.group(1))
        assert launch, f"{chapter.name}: the exercise section launches no notebook"
        yield chapter.name, launch.group(1), m.group(1)


def _mismatch(written: list[Parameter], actual: list[Parameter]) -> str | None:
    """Why the parameters written in the text are not the function's, or None if they agree."""
    names = [p.name for p in actual]
    if [p.name for p in written] != names[:len(written)]:
        return f"parameters ({', '.join(p.name for p in written)}) are not ({', '.join(names)})"
    missing = [p.name for p in actual[len(written):] if p.default is None]
    if missing:
        return f"required parameters {missing} are left out"
    for w, a in zip(written, actual):
        if w.default is not None and w.default != a.default:
            return f"default {w.name}={w.default} is {w.name}={a.default} in the notebook"
    return None


def _signatures_in(text: str):
    for m in SIGNATURE.finditer(" ".join(text.split())):
        params = _signature_from_text(m.group(2))
        if params is not None:
            yield m.group(0), m.group(1), params


@pytest.fixture(scope="module")
def sections(repo_root):
    found = list(_exercise_sections(repo_root))
    assert len(found) >= 10, f"only {len(found)} chapters have an exercise section"
    return found


def test_every_solution_notebook_is_launched_by_one_chapter(repo_root, sections):
    launched = sorted(name for _, name, _ in sections)
    notebooks = sorted(p.stem for p in (repo_root / "solutions").glob("*.ipynb"))
    assert launched == notebooks


def test_exercise_sections_name_the_notebooks_functions(repo_root, sections):
    problems = []
    for chapter, notebook, text in sections:
        graded, given = _notebook_functions(repo_root / "solutions" / f"{notebook}.ipynb")
        assert graded, f"{notebook}: no graded functions found"
        named = set()
        for span, name, written in _signatures_in(text):
            actual = graded.get(name, given.get(name))
            if actual is None:
                problems.append(f"{chapter}: {span} is not a function of {notebook}.ipynb")
                continue
            named.add(name)
            why = _mismatch(written, actual)
            if why:
                problems.append(f"{chapter}: {span}: {why} ({notebook}.ipynb)")
        for name in sorted(set(graded) - named):
            params = ", ".join(p.name for p in graded[name])
            problems.append(f"{chapter}: the exercise section does not describe "
                            f"`{name}({params})` of {notebook}.ipynb")
    assert not problems, "\n".join(problems)


def test_notebook_text_matches_the_notebooks_functions(repo_root):
    problems = []
    for path in sorted((repo_root / "solutions").glob("*.ipynb")):
        graded, given = _notebook_functions(path)
        functions = {**given, **graded}
        cells = json.loads(path.read_text("utf-8"))["cells"]
        text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for span, name, written in _signatures_in(text):
            if name in functions:
                why = _mismatch(written, functions[name])
                if why:
                    problems.append(f"{path.name}: {span}: {why}")
    assert not problems, "\n".join(problems)


def test_the_check_reports_a_wrong_signature():
    actual = _signature_from_def(ast.parse(
        "def train_digits_cnn(X_train, y_train, seed, epochs=15): pass").body[0])
    assert _mismatch(_signature_from_text("X_train, y_train, seed"), actual) is None
    assert _mismatch(_signature_from_text("X_train, y_train, seed, epochs=15"), actual) is None
    assert "not" in _mismatch(_signature_from_text("X_train, y_train, X_test, seed"), actual)
    assert "left out" in _mismatch(_signature_from_text("X_train, y_train"), actual)
    assert "default" in _mismatch(_signature_from_text("X_train, y_train, seed, epochs=10"),
                                  actual)
    assert [s for _, s, _ in _signatures_in("`f(x)`, `g(np.ones(3))`, `h()`")] == ["f", "h"]
