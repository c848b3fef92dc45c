"""The translation catalogs (locales/<language>/LC_MESSAGES/*.po): complete, with the code,
maths and fields of the English kept, with the glossary's terms, and up to date with the English.

One test per catalog, so that a translator checks their own pages, e.g.
``.venv/bin/python -m pytest tests/book/test_translations.py -k ch03`` (locales/TRANSLATING.md).
A catalog nobody has started yet (no message translated) is reported as an expected failure
with its count of messages; once a catalog has one translation, every message must be
translated and none fuzzy.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
GLOSSARY = ROOT / "book" / "glossary"
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/**/*.po"))


def catalog_name(path: Path) -> str:
    """``zh_CN/book/ch03_activations`` for locales/zh_CN/LC_MESSAGES/book/ch03_activations.po."""
    language = path.relative_to(LOCALES).parts[0]
    domain = path.relative_to(LOCALES / language / "LC_MESSAGES").with_suffix("")
    return f"{language}/{domain.as_posix()}"


def read_catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


def messages(path: Path):
    """The catalog's current messages (obsolete ones, kept by sphinx-intl, left out)."""
    return [message for message in read_catalog(path) if message.id]


def describe(message) -> str:
    english = message.id if len(message.id) <= 90 else message.id[:87] + "..."
    return f"  line {message.lineno}: {english!r}"


def started(path: Path) -> bool:
    return any(message.string for message in messages(path))


# --------------------------------------------------------------------------- completeness
@pytest.mark.parametrize("path", CATALOGS, ids=catalog_name)
def test_catalog_is_translated(path):
    found = messages(path)
    if not started(path):
        pytest.xfail(f"{catalog_name(path)}: not translated yet ({len(found)} messages)")
    untranslated = [message for message in found if not message.string]
    fuzzy = [message for message in found if message.string and message.fuzzy]
    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} untranslated:")
        problems += [describe(message) for message in untranslated]
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy (the English changed: check the translation, "
                        "then delete the '#, fuzzy' line):")
        problems += [describe(message) for message in fuzzy]
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- kept markup
#: What a translation keeps exactly as the English has it: inline maths, inline code, MyST roles
#: with their targets ({doc}`ch03_activations`), and fields to fill in: ``{address}``,
#: ``{got!r}``, ``{error:.1e}`` (str.format, the grader's messages) and ``%s``, ``%.3g``
#: (printf style, the checks' messages). A field's name is ASCII: ``\text{收敛}`` in a display
#: formula is words, not a field.
KEPT = re.compile(r"\$\$.+?\$\$|\$[^$\s][^$]*?\$|``.+?``|`[^`]+`"
                  r"|\{[A-Za-z0-9_.:,-]*(?:![rsa])?(?::[^{}\s]*)?\}|%(?:\.\d+)?[sdrgfe]")
#: A role as reStructuredText writes it (:func:`softmax`, in docstrings) is the same role as MyST's
#: {func}`softmax`: a translated docstring is read as MyST, so it must use the MyST form.
RST_ROLE = re.compile(r"(?<![\w`]):((?:\w+:)?\w+):`")
#: A reference with its own link text ({ref}`Running a class <running-a-class>`) keeps its
#: target; the link text is prose and is translated.
LABELLED_ROLE = re.compile(r"(\{[A-Za-z0-9_.:,-]+\})`[^`<]*<([^`>]+)>`")


#: A printf-style placeholder: its values come in order, so a translation keeps the order.
PRINTF = re.compile(r"%(?:\.\d+)?[sdrgfe]")


def kept_pieces(text: str) -> Counter:
    text = LABELLED_ROLE.sub(r"\1`<\2>`", RST_ROLE.sub(r"{\1}`", text))
    return Counter(KEPT.findall(text))


def test_kept_pieces_treat_rst_and_myst_roles_alike_and_let_link_text_change():
    assert kept_pieces(":func:`softmax` 的导数") == kept_pieces("Derivative of {func}`softmax`")
    assert kept_pieces("{ref}`运行一门课 <running-a-class>`") == kept_pieces(
        "{ref}`Running a class <running-a-class>`")
    assert kept_pieces("{ref}`运行一门课 <a-class>`") != kept_pieces(
        "{ref}`Running a class <running-a-class>`")
    assert not kept_pieces("\\text{收敛}")  # words in a display formula, not a field
    assert kept_pieces("{address}, {got!r}") == Counter(["{address}", "{got!r}"])


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_name)
def test_code_maths_and_fields_are_kept(path):
    problems = []
    for message in messages(path):
        if not message.string:
            continue
        missing = kept_pieces(message.id) - kept_pieces(message.string)
        extra = kept_pieces(message.string) - kept_pieces(message.id)
        if missing or extra:
            problems.append(describe(message) + f"\n    missing: {sorted(missing)}, "
                            f"not in the English: {sorted(extra)}")
        elif PRINTF.findall(message.id) != PRINTF.findall(message.string):
            problems.append(describe(message) + "\n    the %-placeholders are filled in order: "
                            f"keep them in the English's order {PRINTF.findall(message.id)}")
    assert not problems, (f"{path.relative_to(ROOT)}: translations must keep the English's "
                          "inline maths, code, roles and {fields} as they are:\n"
                          + "\n".join(problems))


# --------------------------------------------------------------------------- glossary terms
def glossary() -> dict[str, set[str]]:
    """English form (lower case, or as written for an abbreviation) -> the Chinese forms the
    glossary gives it (book/glossary/*.tsv: ``English<TAB>中文<TAB>definition``).

    "rectified linear unit (ReLU)" gives the forms "rectified linear unit" and "ReLU";
    "预激活值（净输入、净活性值）" gives 预激活值, 净输入 and 净活性值. The Latin-script part of a
    Chinese form ("Adam" in "Adam 优化器") is accepted too.
    """
    terms: dict[str, set[str]] = {}
    for tsv in sorted(GLOSSARY.glob("*.tsv")):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            if len(cells) < 2:
                continue
            english, chinese = cells[0], cells[1]
            forms = {part.strip() for part in re.split(r"[（）()、，,;；／/]", chinese)
                     if part.strip()}
            forms |= {latin for form in forms
                      for latin in re.findall(r"[A-Za-z][A-Za-z0-9-]*", form)
                      if re.search(r"[^\x00-\x7f]", form)}
            names = [english.split("(")[0]] + re.findall(r"\(([^()]*)\)", english)
            for name in names:
                for alias in name.split(","):
                    alias = alias.strip()
                    if alias and alias not in {"value", "softmax", "of softmax", "forward pass"}:
                        key = alias if _is_abbreviation(alias) else alias.lower()
                        terms.setdefault(key, set()).update(forms)
    # "forward pass" is another name of forward propagation: the same Chinese.
    terms.setdefault("forward pass", set()).update(terms.get("forward propagation", set()))
    return terms


def _is_abbreviation(word: str) -> bool:
    return sum(char.isupper() for char in word) >= 2 or word.isupper()


def term_pattern(term: str) -> re.Pattern:
    words = [re.escape(word) for word in re.split(r"[\s-]+", term)]
    body = r"[\s-]+".join(words)
    plural = r"(?:s|es)?" if not term.endswith("y") else r"(?:s)?"
    if term.endswith("y") and not _is_abbreviation(term):
        body = body[:-1] + r"(?:y|ies)"
    flags = 0 if _is_abbreviation(term) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){body}{plural}(?![\w-])", flags)


GLOSSARY_TERMS = glossary()
#: Longest first, so that "activation function" is found before "activation".
TERM_PATTERNS = [(term, term_pattern(term)) for term in sorted(GLOSSARY_TERMS, key=len,
                                                                  reverse=True)]


def prose(text: str) -> str:
    """The text without what a translation keeps as it is (maths, code, roles)."""
    return KEPT.sub(" ", re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text))


#: A translator's comment above a message that names glossary terms used in another sense there
#: ("code samples" are not the data samples of the glossary's "sample").
IGNORE_COMMENT = re.compile(r"^glossary-ignore:\s*(.+)$")


def ignored_terms(message) -> set[str]:
    terms = set()
    for comment in message.user_comments:
        match = IGNORE_COMMENT.match(comment.strip())
        if match:
            terms.update(term.strip().lower() for term in match.group(1).split(","))
    return terms


def glossary_mismatches(english: str, chinese: str, ignore=frozenset()) -> list[str]:
    """The glossary terms of ``english`` (except ``ignore``) whose glossary Chinese is not in
    ``chinese``."""
    text, found = prose(english), []
    for term, pattern in TERM_PATTERNS:
        if not pattern.search(text):
            continue
        text = pattern.sub(" ", text)
        if term.lower() in ignore:
            continue
        forms = GLOSSARY_TERMS[term]
        if term in chinese or any(form in chinese for form in forms):
            continue
        found.append(f"{term!r} -> {' / '.join(sorted(forms))}")
    return found


def test_the_glossary_check_can_fail():
    assert glossary_mismatches("The activation function of a layer.", "一层的激活函数。") == []
    assert glossary_mismatches("Backpropagation finds the gradient.", "逆传播求出梯度。") == [
        "'backpropagation' -> 反向传播"]
    # Code and maths are not prose; an abbreviation may stay as it is.
    assert glossary_mismatches("Call `gradient` on $W$.", "调用 `gradient`。") == []
    assert glossary_mismatches("SGD steps", "SGD 的更新步骤") == []
    assert glossary_mismatches("code samples", "代码示例", ignore={"sample"}) == []


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_name)
def test_translations_use_the_glossary_terms(path):
    if not catalog_name(path).startswith("zh_"):
        pytest.skip("the glossary gives Chinese terms only")
    problems = []
    for message in messages(path):
        if message.string and not message.fuzzy:
            mismatches = glossary_mismatches(message.id, message.string, ignored_terms(message))
            if mismatches:
                problems.append(describe(message) + "\n    " + "; ".join(mismatches))
    assert not problems, (f"{path.relative_to(ROOT)}: use the glossary's Chinese for these "
                          "terms (book/glossary/*.tsv), or, where the English word has another "
                          "sense, say so in a comment line above the message: "
                          "'# glossary-ignore: sample'\n" + "\n".join(problems))


# --------------------------------------------------------------------------- up to date
def test_catalogs_match_the_english(book_templates):
    """Every page's messages are in its catalog and nothing else is: the catalogs were updated
    (scripts/update-translations) after the English last changed."""
    templates = {path.relative_to(book_templates).with_suffix("").as_posix(): path
                 for path in book_templates.rglob("*.pot")}
    assert templates, f"the gettext build wrote no templates into {book_templates}"
    problems = []
    for language in sorted(path.name for path in LOCALES.iterdir() if path.is_dir()):
        folder = LOCALES / language / "LC_MESSAGES"
        catalogs = {path.relative_to(folder).with_suffix("").as_posix(): path
                    for path in folder.rglob("*.po")}
        for domain in sorted(templates.keys() - catalogs.keys()):
            problems.append(f"{language}/{domain}: no catalog")
        for domain in sorted(catalogs.keys() - templates.keys()):
            problems.append(f"{language}/{domain}: catalog of a page the book no longer has")
        for domain in sorted(templates.keys() & catalogs.keys()):
            english = {message.id for message in messages(templates[domain])}
            translated = {message.id for message in messages(catalogs[domain])}
            if english != translated:
                problems.append(f"{language}/{domain}: {len(english - translated)} new or "
                                f"changed messages, {len(translated - english)} gone")
    assert not problems, ("the catalogs are out of date with the English; run "
                          "bash scripts/update-translations and commit locales/:\n"
                          + "\n".join(problems))
