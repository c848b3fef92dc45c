"""Exercise notebooks in other languages, from the same solution notebooks.

The prose of a solution notebook (its markdown cells, one message per paragraph) goes through a
gettext catalog per notebook, ``locales/<language>/LC_MESSAGES/exercises/<chapter>.po``, as the
book's pages do. ``python -m grader.authoring generate`` writes, next to
``exercises/<chapter>.ipynb``, the translated notebook ``exercises/<folder>/<chapter>.ipynb``
(``exercises/zh/`` for Simplified Chinese): the same cells, ids, code and checks, so one grader
grades both, with the paragraphs that have a translation translated and the notebook's language
in its metadata (``metadata.grader.language``), which the self-checks and the grader read to
give their feedback in that language. ``python -m grader.authoring templates DIR`` writes the
message templates (scripts/update-translations merges them into the catalogs).
"""
from __future__ import annotations

import re
from pathlib import Path

#: Languages with translated exercise notebooks, and their folder inside exercises/.
EXERCISE_FOLDERS = {"zh_CN": "zh"}
#: A fenced code block inside a markdown cell (kept as it is, never a message).
FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
#: Added to a translated notebook's setup cell: the self-checks answer in its language.
SETUP_LANGUAGE = ("\n# The self-checks answer in this notebook's language "
                  "(metadata.grader.language).\ngrader.selfcheck.set_language(\"{language}\")\n")
#: What a paragraph keeps as it is: maths, inline code.
NOT_PROSE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.S)


def catalog_path(root: Path, language: str, chapter: str) -> Path:
    return root / "locales" / language / "LC_MESSAGES" / "exercises" / f"{chapter}.po"


def paragraphs(markdown: str) -> list[tuple[str, bool]]:
    """The markdown split into blocks at blank lines: ``(text, is_message)``, where a fenced
    code block, a block of maths or code only, and the blank lines are not messages. Joining
    the texts gives the markdown back."""
    blocks: list[tuple[str, bool]] = []
    position = 0
    for fence in FENCE.finditer(markdown):
        blocks += _prose_blocks(markdown[position:fence.start()])
        blocks.append((fence.group(0), False))
        position = fence.end()
    blocks += _prose_blocks(markdown[position:])
    return blocks


def _prose_blocks(text: str) -> list[tuple[str, bool]]:
    blocks = []
    for piece in re.split(r"(\n[ \t]*\n)", text):
        if not piece:
            continue
        is_message = bool(piece.strip()) and re.search(r"[^\W\d_]{2,}",
                                                        NOT_PROSE.sub(" ", piece)) is not None
        blocks.append((piece, is_message))
    return blocks


def message_id(block: str) -> str:
    """The message of a paragraph: its text without surrounding whitespace."""
    return block.strip()


def messages(notebook: dict) -> list[tuple[str, str]]:
    """``(message, cell id)`` for every paragraph of the notebook's markdown cells."""
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for block, is_message in paragraphs(_source(cell)):
            if is_message:
                found.append((message_id(block), cell.get("id", "")))
    return found


def translate(notebook: dict, translations: dict[str, str], language: str) -> dict:
    """The notebook with each paragraph that has a translation translated (in place of its
    text, surrounding whitespace kept), ``metadata.grader.language`` set, and the setup cell
    giving the self-checks that language."""
    for cell in notebook.get("cells", []):
        if cell.get("metadata", {}).get("grader", {}).get("role") == "setup":
            source = _source(cell).rstrip("\n") + "\n" + SETUP_LANGUAGE.format(language=language)
            cell["source"] = source.splitlines(True)
        if cell.get("cell_type") != "markdown":
            continue
        out = []
        for block, is_message in paragraphs(_source(cell)):
            text = translations.get(message_id(block)) if is_message else None
            if text:
                start = len(block) - len(block.lstrip())
                end = len(block.rstrip())
                block = block[:start] + text + block[end:]
            out.append(block)
        cell["source"] = "".join(out).splitlines(True)
    notebook.setdefault("metadata", {}).setdefault("grader", {})["language"] = language
    return notebook


def load_translations(path: Path) -> dict[str, str]:
    """The catalog's translations (none when it does not exist; fuzzy ones left out)."""
    if not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {message.id: message.string for message in catalog
            if message.id and message.string and not message.fuzzy}


def write_template(notebook: dict, chapter: str, rel_source: str, path: Path) -> None:
    """The message template (.pot) of one solution notebook."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project="How neural networks work", fuzzy=False)
    for number, (message, cell_id) in enumerate(messages(notebook), start=1):
        catalog.add(message, locations=[(rel_source, number)],
                    auto_comments=[f"cell {cell_id}"] if cell_id else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=79, omit_header=False, no_location=True)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
