"""The grader's messages in the learner's (or the instructor's) language, from gettext catalogs.

The English text is the message id: ``_("not implemented yet")`` returns it translated into the
language in force, from ``locales/<language>/LC_MESSAGES/grader.po`` (a translation marked
fuzzy, or missing, gives the English). The language in force is a context variable:

- the grader sets it, around the checks and the verdicts of each chapter, to the language of
  the learner's notebook (``metadata.grader.language``, which the Chinese exercise notebooks
  carry; anything but a known language means English), so that its feedback is in the
  notebook's language, and
- to the instructor's language (``grade --language``, else the environment variable
  ``NN_GRADER_LANGUAGE``, else English: :func:`instructor_language`) for what only the
  instructor reads (the class report, the instructor's view of each learner);
- the self-check in a notebook uses the language its setup cell gives
  (:func:`grader.selfcheck.set_language`, a line that ``python -m grader.authoring generate``
  writes into a translated notebook's setup cell from its ``metadata.grader.language``).

Strings defined at import time (tables of texts) are marked with :func:`N_` and translated
where they are shown. The catalogs: ``grader.po`` for the grader's own messages (the ``_`` and
``N_`` strings of grader/), and ``checks/<chapter>.po`` for the hints and messages of each
chapter's checks (tests/exercises/test_<chapter>.py); ``python -m grader.authoring templates
DIR`` writes their templates.
"""
from __future__ import annotations

import ast
import contextlib
import contextvars
import functools
import os
import re
from pathlib import Path

#: The languages the grader speaks ("en" is the messages themselves).
LANGUAGES = ("en", "zh_CN")
DEFAULT = "en"
#: The instructor's language for the reports and what only they read.
INSTRUCTOR_ENVIRONMENT = "NN_GRADER_LANGUAGE"
DOMAIN = "grader"
LOCALES = Path(__file__).resolve().parents[1] / "locales"

_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("grader_language",
                                                                 default=DEFAULT)


def known_language(value) -> str:
    """``value`` when it is one of :data:`LANGUAGES`, else English (untrusted input welcome)."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT


def instructor_language() -> str:
    """The instructor's language: ``NN_GRADER_LANGUAGE`` (``grade --language`` overrides it)."""
    return known_language(os.environ.get(INSTRUCTOR_ENVIRONMENT, DEFAULT))


def current_language() -> str:
    """The language of the grader's messages here and now."""
    return _LANGUAGE.get()


def html_language(language: str) -> str:
    """The BCP 47 tag of a language, for ``<html lang>``: ``"zh_CN"`` -> ``"zh-CN"``."""
    return language.replace("_", "-")


@contextlib.contextmanager
def use_language(language: str):
    """Give the grader's messages in ``language`` inside the block (English if unknown)."""
    token = _LANGUAGE.set(known_language(language))
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


@functools.lru_cache(maxsize=None)
def translations(language: str) -> dict[str, str]:
    """The catalogs of ``language``, ``grader.po`` and ``checks/*.po``, merged:
    ``{English: translation}`` (fuzzy and empty ones left out)."""
    folder = LOCALES / language / "LC_MESSAGES"
    if language == DEFAULT or not folder.is_dir():
        return {}
    from babel.messages.pofile import read_po

    found: dict[str, str] = {}
    for path in [folder / f"{DOMAIN}.po", *sorted((folder / "checks").glob("*.po"))]:
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            found.update({message.id: message.string for message in read_po(handle)
                          if message.id and isinstance(message.id, str) and message.string
                          and not message.fuzzy})
    return found


def _(message: str) -> str:
    """``message`` in the language in force."""
    language = _LANGUAGE.get()
    if language == DEFAULT or not message:
        return message
    return translations(language).get(message, message)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it (translate it where it is shown)."""
    return message


# --------------------------------------------------------------------------- the template
#: The gettext functions: their first argument, a literal string, is a message.
GETTEXT_FUNCTIONS = ("_", "N_")
#: ``@check(..., hint=...)``: the hint is a message too, translated where it is shown; it may
#: be built from literals and module-level string constants (``"..." + SHARED_HINT``).
HINT_CALL, HINT_KEYWORD = "check", "hint"


def _constant_text(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The string a literal expression stands for (literals, names of module-level string
    constants, ``+``), or None when it is computed."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = (_constant_text(side, constants) for side in (node.left, node.right))
        return None if left is None or right is None else left + right
    return None


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """``NAME = "..."`` assignments at module level (in order, so one may use another)."""
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            value = _constant_text(node.value, constants)
            if value is not None:
                constants[node.targets[0].id] = value
    return constants


def _formatted(node: ast.AST) -> bool:
    """Whether an expression fills values into a text (then it cannot be a message)."""
    return (isinstance(node, ast.JoinedStr)
            or isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add))
            or isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


def messages_of(code: str, path: str) -> list[tuple[str, str, int]]:
    """The messages of a Python source, ``(message, path, line)``: the literal first argument
    of each ``_``/``N_`` call, and each check's ``hint`` and name (``test_sigmoid_known_values``
    gives ``sigmoid known values``).

    Raises ValueError for a message that is formatted before it is translated (no catalog
    could hold it): ``_(f"got {n}")`` instead of ``_("got {n}").format(n=n)``.
    """
    tree = ast.parse(code)
    constants = _module_constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
                isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == HINT_CALL
                for decorator in node.decorator_list):
            # a check's name for people (grader.checks.check_title)
            found.append((node.name.removeprefix("test_").replace("_", " "), path, node.lineno))
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", None)
        if name in GETTEXT_FUNCTIONS and node.args:
            candidates = [node.args[0]]
        elif name == HINT_CALL:
            candidates = [kw.value for kw in node.keywords if kw.arg == HINT_KEYWORD]
        else:
            continue
        for value in candidates:
            text = _constant_text(value, constants)
            if text is None and name != HINT_CALL and not _formatted(value):
                continue  # _(TABLE[key]): a string marked with N_ where it is defined
            if text is None:
                raise ValueError(f"{path}:{value.lineno}: a message must be a literal string "
                                 f"(fill in values after translating: _(\"... {{n}}\")"
                                 f".format(n=...)), not {ast.unparse(value)[:80]}")
            if re.search(r"[A-Za-z]{2,}", text):
                found.append((text, path, value.lineno))
    return found


def write_templates(root: Path, outdir: Path) -> list[Path]:
    """The message templates (.pot) of the grader (``outdir/grader.pot``, from grader/) and of
    each chapter's checks (``outdir/checks/<chapter>.pot``, from tests/exercises/)."""
    templates = {outdir / f"{DOMAIN}.pot": sorted((root / "grader").rglob("*.py"))}
    for source in sorted((root / "tests" / "exercises").glob("test_*.py")):
        templates[outdir / "checks" / f"{source.stem.removeprefix('test_')}.pot"] = [source]
    for path, sources in templates.items():
        messages = [found for source in sources for found in messages_of(
            source.read_text(encoding="utf-8"), source.relative_to(root).as_posix())]
        _write_pot(path, messages)
    return list(templates)


def _write_pot(path: Path, messages) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project="How neural networks work", fuzzy=False)
    for message, where, line in messages:
        catalog.add(message, locations=[(where, line)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=79, no_location=True)
