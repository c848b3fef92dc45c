"""The grader's messages in the learner's (or the instructor's) language, from gettext catalogs.

The English text is the message id: ``_("not implemented yet")`` returns it translated into the
language in force, from ``locales/<language>/LC_MESSAGES/grader.po`` (a translation marked
fuzzy, or missing, gives the English). The language in force is a context variable:

- the grader sets it, around the checks and the verdicts of each chapter, to the language of
  the learner's notebook (``metadata.grader.language``, which the Chinese exercise notebooks
  carry; anything but a known language means English), so that its feedback is in the
  notebook's language, and
- to the instructor's language (:func:`instructor_language`, the environment variable
  ``NN_GRADER_LANGUAGE``, English by default) for what only the instructor reads;
- the self-check in a notebook uses the language its setup cell gives
  (:func:`grader.selfcheck.set_language`).

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
    return known_language(os.environ.get(INSTRUCTOR_ENVIRONMENT, DEFAULT))


def current_language() -> str:
    return _LANGUAGE.get()


@contextlib.contextmanager
def use_language(language: str):
    """Give the grader's messages in ``language`` inside the block (English if unknown)."""
    token = _LANGUAGE.set(known_language(language))
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def set_language(language: str) -> str:
    """Give the messages in ``language`` from now on, in this context; returns the language
    in force."""
    _LANGUAGE.set(known_language(language))
    return _LANGUAGE.get()


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
#: Calls whose literal strings are messages: the gettext functions, and in the checks the
#: hint, the message of expect_true / CheckFailed, and what an expect_raises call names.
MESSAGE_CALLS = {"_": 0, "N_": 0, "expect_true": 1, "CheckFailed": 0}
MESSAGE_KEYWORDS = {"hint", "what", "message"}


def messages_of(code: str, path: str) -> list[tuple[str, str, int]]:
    """The message strings of a Python source: ``(message, path, line)``."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", None)
        candidates = []
        if name in MESSAGE_CALLS and len(node.args) > MESSAGE_CALLS[name]:
            candidates.append(node.args[MESSAGE_CALLS[name]])
        if name not in ("_", "N_"):
            candidates += [kw.value for kw in node.keywords if kw.arg in MESSAGE_KEYWORDS]
        for value in candidates:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                    and re.search(r"[A-Za-z]{2,}", value.value):
                found.append((value.value, path, value.lineno))
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
