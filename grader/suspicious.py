"""Flag code an instructor should look at (never changes the score)."""
from __future__ import annotations

import ast

from .notebook import Notebook, parse

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
    "compile": "calls compile()", "__import__": "calls __import__()", "get_ipython": "calls get_ipython()",
    "input": "calls input()", "globals": "calls globals()", "setattr": "calls setattr()",
    "breakpoint": "calls breakpoint()", "vars": "calls vars()",
}
FLAG_ATTRS = {
    "_exit": "calls os._exit", "system": "calls os.system", "fork": "calls os.fork",
    "kill": "sends signals", "__subclasses__": "uses __subclasses__", "__globals__": "uses __globals__",
    "__code__": "uses __code__", "__builtins__": "uses __builtins__", "f_back": "inspects stack frames",
    "exit": "calls exit()", "popen": "calls popen",
}
NUMPY_NAMES = {"np", "numpy", "builtins", "math", "__builtins__"}


def scan_source(source: str) -> list[dict]:
    tree = parse(source)
    if tree is None:
        return []
    flags = []

    def add(node, reason):
        flags.append({"line": getattr(node, "lineno", 0), "reason": reason})

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                if top in FLAG_MODULES:
                    add(node, FLAG_MODULES[top])
        elif isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if top in FLAG_MODULES:
                add(node, FLAG_MODULES[top])
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FLAG_CALLS:
                add(node, FLAG_CALLS[f.id])
        elif isinstance(node, ast.Attribute):
            if node.attr in FLAG_ATTRS:
                add(node, FLAG_ATTRS[node.attr])
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            add(node, "uses __builtins__")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                base = t
                while isinstance(base, (ast.Attribute, ast.Subscript)):
                    base = base.value
                if isinstance(t, (ast.Attribute, ast.Subscript)) and isinstance(base, ast.Name) and base.id in NUMPY_NAMES:
                    add(node, "patches %s (assigns to %s)" % (base.id, ast.unparse(t)[:60]))
    seen, out = set(), []
    for f in flags:
        key = (f["line"], f["reason"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def scan_notebook(nb: Notebook) -> list[dict]:
    out = []
    for cell in nb.code_cells():
        if cell.grader.get("role") in ("setup", "check"):
            # the setup and check cells are the course's own; they are still scanned if edited
            from .authoring import SETUP_SOURCE
            if cell.grader.get("role") == "setup" and cell.source.strip() == SETUP_SOURCE.strip():
                continue
            if cell.grader.get("role") == "check" and cell.source.lstrip().startswith("check("):
                continue
        for f in scan_source(cell.source):
            out.append({"cell": cell.index, **f})
    return out
