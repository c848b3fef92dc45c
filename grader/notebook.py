"""The notebook format as the grader reads it: a total function from bytes to typed cells.

Nothing in a notebook is trusted. Outputs, kernelspec, tags, nbval markers and execution metadata
are ignored; only each cell's type, source and id and a few metadata keys are read, and each is
checked for its type, so that code reading a :class:`Notebook` never meets an unexpected value.
:func:`parse_notebook` either returns a :class:`Notebook` or raises :class:`NotebookError` with a
reason addressed to the learner, whatever the bytes: any encoding, JSON shape, depth or size.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .i18n import known_language

MAX_NOTEBOOK_BYTES = 20 * 2**20
"""Larger files are not read (a notebook with its outputs cleared is far smaller)."""

MAX_WARNINGS = 20
"""Warnings kept per notebook; the rest are counted in one last warning."""

CELL_TYPES = frozenset({"code", "markdown", "raw", "heading"})


class NotebookError(Exception):
    """The bytes cannot be read as a notebook; ``reason`` says why and how to fix it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cell:
    """One cell, reduced to what the grader uses.

    Attributes
    ----------
    index : int
        Position of the cell in the notebook (0-based, counting every cell).
    cell_type : str
        ``"code"``, ``"markdown"``, ``"raw"`` or ``"heading"``.
    source : str
        The cell's text.
    id : str or None
        The cell id (nbformat 4.5).
    grade_id : str or None
        nbgrader's ``grade_id``.
    solution : bool
        nbgrader's ``solution`` flag (true on the graded cells of a solution notebook).
    role : str or None
        ``metadata.grader.role``: ``"setup"``, ``"check"``, ``"given"`` or None.
    exercise : str or None
        ``metadata.grader.exercise``, e.g. ``"ch03.sigmoid"``.
    bonus : bool
        ``metadata.grader.bonus``: the exercise is a challenge whose points are a bonus.
    """

    index: int
    cell_type: str
    source: str
    id: str | None = None
    grade_id: str | None = None
    solution: bool = False
    role: str | None = None
    exercise: str | None = None
    bonus: bool = False


@dataclass(frozen=True)
class Notebook:
    """A parsed notebook: its cells, the warnings met while reading it and its language
    (``metadata.grader.language`` when the grader speaks it, else ``"en"``): the language of
    the learner's feedback."""

    path: str
    cells: tuple[Cell, ...]
    nbformat: int
    warnings: tuple[str, ...] = ()
    language: str = "en"

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        """The code cells, in notebook order."""
        return tuple(cell for cell in self.cells if cell.cell_type == "code")


def _language(document: dict) -> str:
    """The notebook's ``metadata.grader.language``, if the grader speaks it, else English."""
    metadata = document.get("metadata")
    grader = metadata.get("grader") if isinstance(metadata, dict) else None
    return known_language(grader.get("language") if isinstance(grader, dict) else None)


def _text(value) -> str:
    """A cell source: a string or a list of strings (anything else reads as empty)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def _string(mapping: dict, key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) else None


def _mapping(mapping: dict, key: str) -> dict:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _json_kind(value) -> str:
    """A short description of a JSON value for messages (never its whole repr)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value) if len(repr(value)) <= 20 else "a number"
    if isinstance(value, str):
        return repr(value[:20]) + ("..." if len(value) > 20 else "")
    return {dict: "an object", list: "a list", bool: repr(value), type(None): "null"}.get(
        type(value), type(value).__name__)


def _decode_json(data: bytes):
    """The JSON document in ``data``, or NotebookError saying what is wrong with it."""
    if len(data) == 0:
        raise NotebookError("the file is empty (0 bytes): save the notebook in Jupyter and "
                            "submit it again")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB: clear the "
                            "outputs (Edit > Clear Outputs of All Cells) and save again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text; is it really a .ipynb notebook?") from None
    if not text.strip():
        raise NotebookError("the file contains only whitespace: save the notebook again")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = "" if text.rstrip().endswith("}") else (
            " (the file looks truncated: it does not end with '}')")
        raise NotebookError(f"the file is not valid JSON{truncated}: {exc.msg} at line "
                            f"{exc.lineno} column {exc.colno}. Open it in Jupyter to repair it, or "
                            "re-download your work") from None
    except RecursionError:
        raise NotebookError("the file's JSON is nested too deeply to be a notebook: open it in "
                            "Jupyter to repair it, or re-download your work") from None
    except (ValueError, MemoryError) as exc:  # e.g. an integer with more than 4300 digits
        raise NotebookError(f"the file's JSON cannot be read ({type(exc).__name__}: "
                            f"{str(exc)[:120]}); is it really a .ipynb notebook?") from None


def _raw_cells(document: dict, warnings: list[str]) -> tuple[list, int]:
    """The list of cell objects of an nbformat 4 or 3 document, and the format number."""
    version = document.get("nbformat")
    if version == 4 or (version is None and isinstance(document.get("cells"), list)):
        cells = document.get("cells")
        if not isinstance(cells, list):
            raise NotebookError("the notebook has no list of cells")
        return cells, 4
    if version == 3 or isinstance(document.get("worksheets"), list):
        warnings.append("nbformat 3 notebook: read in compatibility mode (re-save it with a "
                        "current Jupyter)")
        cells = []
        worksheets = document.get("worksheets")
        for sheet in worksheets if isinstance(worksheets, list) else []:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                for raw in sheet["cells"]:
                    if isinstance(raw, dict):
                        is_code = raw.get("cell_type") == "code"
                        cells.append({**raw, "source": raw.get("input", "")} if is_code else raw)
        return cells, 3
    raise NotebookError(f"unsupported notebook format {_json_kind(version)} "
                        "(expected nbformat 4)")


def _cell(index: int, raw: dict) -> Cell:
    metadata = _mapping(raw, "metadata")
    nbgrader, grader = _mapping(metadata, "nbgrader"), _mapping(metadata, "grader")
    return Cell(index=index, cell_type=raw["cell_type"], source=_text(raw.get("source")),
                id=_string(raw, "id"), grade_id=_string(nbgrader, "grade_id"),
                solution=nbgrader.get("solution") is True, role=_string(grader, "role"),
                exercise=_string(grader, "exercise"), bonus=grader.get("bonus") is True)


def parse_notebook(data: bytes, path: str = "<notebook>") -> Notebook:
    """Read a notebook from its bytes.

    Parameters
    ----------
    data : bytes
        The file's content, at most :data:`MAX_NOTEBOOK_BYTES` long (any longer is refused).
    path : str
        Name used in the returned notebook (for messages only).

    Returns
    -------
    Notebook

    Raises
    ------
    NotebookError
        For any content that is not a readable notebook (empty, too large, not UTF-8, not JSON,
        nested too deeply, not a notebook object, unsupported format); never another exception.
    """
    document = _decode_json(data)
    if not isinstance(document, dict):
        raise NotebookError(f"the JSON document is {_json_kind(document)}, not a notebook object")
    warnings: list[str] = []
    raw_cells, version = _raw_cells(document, warnings)
    cells, seen_ids = [], set()
    for index, raw in enumerate(raw_cells):
        if not isinstance(raw, dict):
            warnings.append(f"cell {index} is not an object: ignored")
            continue
        if not isinstance(raw.get("cell_type"), str) or raw["cell_type"] not in CELL_TYPES:
            continue
        cell = _cell(index, raw)
        if cell.id in seen_ids:
            shown = cell.id if cell.id is None or len(cell.id) <= 60 else cell.id[:60] + "..."
            warnings.append(f"duplicated cell id {shown!r} (cell {index})")
        seen_ids.add(cell.id)
        cells.append(cell)
    if len(warnings) > MAX_WARNINGS:
        more = len(warnings) - MAX_WARNINGS + 1
        warnings = [*warnings[:MAX_WARNINGS - 1], f"... and {more} more warnings"]
    return Notebook(path, tuple(cells), version, tuple(warnings), _language(document))
