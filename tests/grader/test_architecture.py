"""The grader's module structure, read from the source (no module is imported).

discover -> intake -> analyse -> execute -> verdict -> results -> report: each stage imports
only earlier stages and the foundation modules; only the execute stage uses the sandbox; no
module hides an import of the grader inside a function or keeps mutable module state.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[2] / "grader"

STAGES = ["discover", "intake", "analyse", "execute", "verdict", "results", "report"]
ORCHESTRATORS = ["warm", "grade", "batch", "distributed"]
"""Warm folders filled by grading the reference; one learner; many; many on a cluster."""
FRONT_ENDS = ["cli", "selfcheck", "feedback", "mutation", "gradescope", "__main__"]  # entry points: may import anything
FOUNDATION = ["paths", "checks", "diagnosis", "notebook", "source", "catalog", "authoring", "sandbox",
              "_child", "similarity", "roster", "i18n", "translation"]
"""Course formats and the check API: imported by the stages, importing none of them."""

LAYERS = STAGES + ORCHESTRATORS
SANDBOX_USERS = {"execute", "cli", "mutation",  # they build a sandbox configuration
                 "__main__"}  # python -m grader NOTEBOOK starts the template before its imports
OWNED_ELSEWHERE = ("sandbox", "_child")  # the sandbox package has its own tests


def _module_name(path: Path) -> str:
    relative = path.relative_to(GRADER).with_suffix("")
    parts = [part for part in relative.parts if part != "__init__"]
    return ".".join(parts) or "__init__"


def _grader_imports(tree: ast.AST, module: str):
    """(node, top-level grader module imported) for every import of the grader in ``tree``."""
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [target[0]] if target else [alias.name for alias in node.names]
                for name in names:
                    yield node, name.split(".")[0]
            elif node.module and node.module.split(".")[0] == "grader":
                rest = node.module.split(".")[1:]
                for name in rest[:1] or [alias.name for alias in node.names]:
                    yield node, name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "grader" and len(parts) > 1:
                    yield node, parts[1]


def _modules():
    return {_module_name(path): ast.parse(path.read_text(), str(path))
            for path in sorted(GRADER.rglob("*.py"))}


MODULES = _modules()


def test_every_stage_is_a_module():
    missing = [name for name in STAGES + ORCHESTRATORS if name not in MODULES]
    assert missing == []
    known = set(STAGES + ORCHESTRATORS + FRONT_ENDS + FOUNDATION + ["__init__"])
    unplaced = [name for name in MODULES if name.split(".")[0] not in known]
    assert unplaced == [], "place each new module in a layer of this test"


@pytest.mark.parametrize("module", LAYERS)
def test_a_stage_imports_only_earlier_stages(module):
    rank = LAYERS.index(module)
    later = {name for name in LAYERS if LAYERS.index(name) >= rank} - {module}
    bad = sorted({name for _, name in _grader_imports(MODULES[module], module) if name in later})
    assert bad == [], f"{module} imports later stage(s) {bad}"


@pytest.mark.parametrize("module", FOUNDATION)
def test_the_foundation_imports_no_stage(module):
    if module not in MODULES:
        pytest.skip(f"{module} is a package here")  # grader/sandbox/ may become a package
    upper = set(LAYERS + FRONT_ENDS)
    bad = sorted({name for _, name in _grader_imports(MODULES[module], module) if name in upper})
    assert bad == [], f"foundation module {module} imports {bad}"


def test_only_the_execute_stage_uses_the_sandbox():
    users = {module.split(".")[0] for module, tree in MODULES.items()
             if not module.startswith(OWNED_ELSEWHERE)
             and any(name == "sandbox" for _, name in _grader_imports(tree, module))}
    assert users <= SANDBOX_USERS, users - SANDBOX_USERS
    assert "execute" in users


def test_no_grader_import_is_hidden_in_a_function():
    hidden = []
    for module, tree in MODULES.items():
        if module.startswith(OWNED_ELSEWHERE):
            continue
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = ast.Module(body=function.body, type_ignores=[])
                hidden += [f"{module}.{function.name}:{node.lineno}"
                           for node, _ in _grader_imports(body, module)]
    assert hidden == []


def _mutable_value(node: ast.AST) -> bool:
    if isinstance(node, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
        "list", "dict", "set", "defaultdict", "bytearray")


MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update",
                      "setdefault", "add", "discard", "popitem"})


def _mutations(tree: ast.Module, names: set[str]) -> list[str]:
    """Places where a function changes one of the module-level containers ``names``."""
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else (
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                    and target.value.id in names:
                found.append(f"line {node.lineno}: {target.value.id}[...] changed")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in names \
                and node.func.attr in MUTATORS:
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


def _mutable_state(tree: ast.Module) -> list[str]:
    """Module-level containers that are not constants, and ``global`` statements.

    A module-level container must be named in capitals and never be changed after import.
    """
    problems, containers = [], set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            if _mutable_value(node.value):
                containers |= names
                lower = sorted(name for name in names
                               if not name.isupper() and name != "__all__")
                if lower:
                    problems.append(f"{lower} is mutable module state")
    return problems + _mutations(tree, containers) + [
        f"line {node.lineno}: global {', '.join(node.names)}"
        for node in ast.walk(tree) if isinstance(node, ast.Global)]


def test_no_mutable_module_state():
    """Module-level containers are constants (UPPER_CASE) and no function rebinds a global."""
    problems = [f"{module}: {problem}" for module, tree in MODULES.items()
                if not module.startswith(OWNED_ELSEWHERE) for problem in _mutable_state(tree)]
    assert problems == []


def test_the_checks_in_this_file_can_fail():
    """The scans find what the tests above forbid (as the base code had it)."""
    tree = ast.parse("from .report import write_reports\nimport grader.batch\n")
    assert [name for _, name in _grader_imports(tree, "intake")] == ["report", "batch"]
    state = ast.parse("_W: dict = {}\n_last: dict = {}\n_default = None\n"
                      "def f():\n    global _default\n    _W['catalog'] = 1\n    _last.clear()\n")
    assert len(_mutable_state(state)) == 4  # _last, _W[...] =, _last.clear(), global
