"""The Python source of a notebook cell: IPython magics, syntax trees, definitions.

Every function here is total: source that does not parse (syntax errors, IPython syntax, null
bytes, lone surrogates, nesting deeper than the parser allows) gives ``None``, never an exception.
"""
from __future__ import annotations

import ast
import functools
import re

MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$")

SKIP_IMPORTS = frozenset({"grader"})
"""Top-level modules whose imports are dropped from a learner's context cells."""

PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
"""What :func:`ast.parse` raises on bad source (ValueError covers null bytes and surrogates)."""


def _bracket_depth_change(line: str) -> int:
    """Net count of opening minus closing brackets on a line, outside strings and comments."""
    depth, quote, position = 0, None, 0
    while position < len(line):
        char = line[position]
        if quote:
            if char == "\\":
                position += 1
            elif line.startswith(quote, position):
                position += len(quote) - 1
                quote = None
        elif char == "#":
            break
        elif char in "\"'":
            quote = line[position:position + 3] if line[position:position + 3] in ('"""', "'''") \
                else char
            position += len(quote) - 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        position += 1
    return depth


def strip_magics(source: str) -> str:
    """Replace IPython magics and shell escapes by ``pass`` (same indentation) so a cell parses.

    Code that is already valid Python is returned unchanged: a line such as ``% (a, b))`` inside
    an open bracket is a continuation of an expression, not a magic. Otherwise only lines that
    start a statement (bracket depth 0) are treated as magics.

    Parameters
    ----------
    source : str
        A cell's source.

    Returns
    -------
    str
        The source, ending with a newline.
    """
    try:
        ast.parse(source)
        return source if source.endswith("\n") else source + "\n"
    except PARSE_ERRORS:
        pass
    lines, depth = [], 0
    for line in source.splitlines():
        magic = MAGIC_LINE.match(line) if depth <= 0 else None
        if magic:
            removed = magic.group(2)[:40].replace("\\", "/")
            lines.append(f"{magic.group(1)}pass  # removed: {removed}")
        else:
            lines.append(line)
            depth += _bracket_depth_change(line)
    return "\n".join(lines) + "\n"


def parse_cell(source: str) -> ast.Module | None:
    """The syntax tree of a cell (magics removed), or None if it does not parse."""
    try:
        return ast.parse(strip_magics(source))
    except PARSE_ERRORS:
        return None


@functools.lru_cache(maxsize=2048)
def _function_names(source: str) -> tuple[str, ...] | None:
    tree = parse_cell(source)
    if tree is None:
        return None
    return tuple(node.name for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


def defined_functions(source: str) -> list[str] | None:
    """Names of the top-level functions a cell defines, in order; None if it does not parse.

    Cached by source: matching a notebook to every chapter asks for each cell many times.
    """
    names = _function_names(source)
    return None if names is None else list(names)


def mentions_def(source: str, name: str) -> bool:
    """Whether a line of ``source`` starts a ``def name(`` (even in code that does not parse)."""
    return re.search(rf"^\s*def\s+{re.escape(name)}\s*\(", source, re.M) is not None


def _kept(node: ast.stmt) -> ast.stmt | None:
    """A top-level statement as it goes into a learner's context, or None to drop it."""
    if isinstance(node, ast.Import):
        names = [alias for alias in node.names if alias.name.split(".")[0] not in SKIP_IMPORTS]
        return ast.Import(names=names) if names else None
    if isinstance(node, ast.ImportFrom):
        top = (node.module or "").split(".")[0]
        return node if top not in SKIP_IMPORTS and node.level == 0 else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node
    return None


def top_level_imports(source: str) -> list[str]:
    """Absolute modules a cell's top-level ``import`` statements name (the grader's aside).

    E.g. ``["keras", "sklearn.datasets"]``; empty for a cell that does not parse.
    """
    names = []
    for node in getattr(parse_cell(source), "body", ()):
        kept = _kept(node) if isinstance(node, (ast.Import, ast.ImportFrom)) else None
        if isinstance(kept, ast.Import):
            names += [alias.name for alias in kept.names]
        elif isinstance(kept, ast.ImportFrom) and kept.module:
            names.append(kept.module)
    return names


def definitions_only(source: str) -> str | None:
    """Imports, function and class definitions of a cell, without its other top-level code.

    Parameters
    ----------
    source : str
        A cell's source.

    Returns
    -------
    str or None
        The kept statements as source (``""`` when there are none), or None if the cell does
        not parse.
    """
    tree = parse_cell(source)
    if tree is None:
        return None
    kept = [statement for statement in map(_kept, tree.body) if statement is not None]
    if not kept:
        return ""
    try:
        return ast.unparse(ast.Module(body=kept, type_ignores=[]))
    except (RecursionError, ValueError, MemoryError):  # trees too deep to unparse
        return None
