"""Defensive reading of .ipynb files and extraction of code by cell id and function name.

Nothing in a submitted notebook is trusted: outputs, kernelspec, tags, nbval markers and execution
metadata are ignored. Only cell type, source, id and the grader/nbgrader metadata keys are read.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 2**20


class NotebookError(Exception):
    """The file cannot be read as a notebook; ``reason`` says why and how to fix it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Cell:
    index: int
    cell_type: str
    source: str
    id: str | None = None
    nbgrader: dict = field(default_factory=dict)
    grader: dict = field(default_factory=dict)

    @property
    def grade_id(self) -> str | None:
        g = self.nbgrader.get("grade_id")
        return g if isinstance(g, str) else None


@dataclass
class Notebook:
    path: str
    cells: list[Cell]
    nbformat: int
    warnings: list[str] = field(default_factory=list)

    def code_cells(self):
        return [c for c in self.cells if c.cell_type == "code"]


def _source(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def parse_notebook(data: bytes, path: str = "<notebook>") -> Notebook:
    if len(data) == 0:
        raise NotebookError("the file is empty (0 bytes): save the notebook in Jupyter and submit it again")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError("the file is larger than %d MB: clear the outputs (Edit > Clear Outputs of "
                            "All Cells) and save again" % (MAX_NOTEBOOK_BYTES // 2**20))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text; is it really a .ipynb notebook?") from None
    if not text.strip():
        raise NotebookError("the file contains only whitespace: save the notebook again")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "" if text.rstrip().endswith("}") else " (the file looks truncated: it does not end with '}')"
        raise NotebookError("the file is not valid JSON%s: %s at line %d column %d. Open it in "
                            "Jupyter to repair it, or re-download your work" % (hint, exc.msg, exc.lineno, exc.colno)) from None
    if not isinstance(nb, dict):
        raise NotebookError("the JSON document is a %s, not a notebook object" % type(nb).__name__)
    warnings = []
    fmt = nb.get("nbformat")
    raw_cells = []
    if fmt == 4 or (fmt is None and isinstance(nb.get("cells"), list)):
        raw_cells = nb.get("cells")
        if not isinstance(raw_cells, list):
            raise NotebookError("the notebook has no list of cells")
        fmt = 4
    elif fmt == 3 or isinstance(nb.get("worksheets"), list):
        warnings.append("nbformat 3 notebook: read in compatibility mode (re-save it with a current Jupyter)")
        for ws in nb.get("worksheets") or []:
            if isinstance(ws, dict) and isinstance(ws.get("cells"), list):
                for c in ws["cells"]:
                    if isinstance(c, dict):
                        c = dict(c)
                        if c.get("cell_type") == "code":
                            c["source"] = c.get("input", "")
                        raw_cells.append(c)
        fmt = 3
    else:
        raise NotebookError("unsupported notebook format %r (expected nbformat 4)" % (fmt,))
    cells = []
    seen_ids = set()
    for i, raw in enumerate(raw_cells):
        if not isinstance(raw, dict):
            warnings.append("cell %d is not an object: ignored" % i)
            continue
        ctype = raw.get("cell_type")
        if ctype not in ("code", "markdown", "raw", "heading"):
            continue
        md = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        if cid in seen_ids:
            warnings.append("duplicated cell id %r (cell %d)" % (cid, i))
        seen_ids.add(cid)
        nbg = md.get("nbgrader") if isinstance(md.get("nbgrader"), dict) else {}
        gr = md.get("grader") if isinstance(md.get("grader"), dict) else {}
        cells.append(Cell(i, ctype, _source(raw.get("source")), cid, nbg, gr))
    return Notebook(path, cells, fmt, warnings)


def read_notebook(path) -> Notebook:
    p = Path(path)
    try:
        with open(p, "rb") as f:  # read-only: submissions are never modified
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise NotebookError("cannot read the file: %s" % exc.strerror) from None
    return parse_notebook(data, str(p))


_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def _bracket_depth_change(line: str) -> int:
    """Net count of opening minus closing brackets on a line, outside strings and comments."""
    depth, quote, i = 0, None, 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif ch == "#":
            break
        elif ch in "\"'":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else ch
            i += len(quote) - 1
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    return depth


def strip_magics(source: str) -> str:
    """Replace IPython magics and shell escapes by `pass` (same indentation) so the cell parses.

    Code that is already valid Python is returned unchanged: a line such as ``% (a, b))`` inside
    an open bracket is a continuation of an expression, not a magic. Otherwise only lines that
    start a statement (bracket depth 0) are treated as magics.
    """
    try:
        ast.parse(source)
        return source if source.endswith("\n") else source + "\n"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    out, depth = [], 0
    for line in source.splitlines():
        m = _MAGIC.match(line) if depth <= 0 else None
        if m:
            out.append(m.group(1) + "pass  # removed: " + m.group(2)[:40].replace("\\", "/"))
        else:
            out.append(line)
            depth += _bracket_depth_change(line)
    return "\n".join(out) + "\n"


def parse(source: str):
    """The AST of a cell (magics removed), or None if it does not parse."""
    try:
        return ast.parse(strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def defined_functions(source: str) -> list[str] | None:
    tree = parse(source)
    if tree is None:
        return None
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def mentions_def(source: str, name: str) -> bool:
    return re.search(r"^\s*def\s+%s\s*\(" % re.escape(name), source, re.M) is not None


SKIP_IMPORTS = {"grader"}


def definitions_only(source: str) -> str | None:
    """Imports, function and class definitions of a cell (no other top-level code)."""
    tree = parse(source)
    if tree is None:
        return None
    keep = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            node.names = [a for a in node.names if a.name.split(".")[0] not in SKIP_IMPORTS]
            if node.names:
                keep.append(node)
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] not in SKIP_IMPORTS and node.level == 0:
                keep.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            keep.append(node)
    if not keep:
        return ""
    try:
        return ast.unparse(ast.Module(body=keep, type_ignores=[]))
    except Exception:  # pragma: no cover - unparse of exotic trees
        return None
