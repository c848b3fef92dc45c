"""Every Chinese term the book gives is the glossary's form for its English term.

The glossary term lists ``book/glossary/chNN.tsv`` (rendered by ``scripts/make-glossary``) are the
single source of the course's Chinese terms. The pages and the exercise notebooks give a term's
Chinese name in parentheses next to it, in one of these patterns:

* after the English term: ``**neural network (神经网络)**``, ``*node* (节点)``,
  ``central differences (中心差分)``;
* with an abbreviation or the English term inside: ``(多层感知机, MLP)``,
  ``(initialisation, 初始化)``, ``(FLOPs, 浮点运算次数)``;
* with the glossary's alternative names after the main one: ``(logit, 未归一化的对数概率)``,
  ``(预激活值, 净输入, 净活性值)``.

This module finds every parenthesis that contains Chinese, works out which glossary entry it
names, and checks that the Chinese is that entry's form (its main form, optionally followed by
its alternatives in the glossary's order).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Chinese words the book quotes as the source articles' mistakes, never as its own terms.
QUOTED_SOURCE_MISTAKES = ("变压器",)
# English forms the pages use that are not glossary headwords: other word forms, spellings or
# short forms of a headword ("the unit is saturated (饱和)").
ENGLISH_VARIANTS = {
    "saturate": "saturation",
    "saturates": "saturation",
    "saturated": "saturation",
    "converges": "convergence",
    "diverges": "divergence",
    "shift invariant": "shift invariance",
    "standardise": "standardisation",
    "convex": "convex function",
    "non-linear": "non-linearity",
    "one-hot": "one-hot encoding",
    "one-hot encoded": "one-hot encoding",
    "composition": "function composition",
    "compiling the model": "model compilation",
    "optimiser": "optimizer",
    "attention mechanism": "attention",
    "teacher": "teacher model",
    "student": "student model",
}
PARENTHESIS = re.compile(r"[(（]([^()（）]*)[)）]")
PART_SEPARATORS = re.compile(r"[,，;；、]")


@dataclass
class Entry:
    headword: str
    chinese: str
    forms: list[str]                       # main form first, then the alternatives, in order
    sources: list[str] = field(default_factory=list)


def _split_alternatives(text: str, open_: str, close: str) -> tuple[str, list[str]]:
    """'A (B)' -> ('A', ['B']); 'X（Y、Z）' -> ('X', ['Y', 'Z']); no parenthesis -> (text, [])."""
    m = re.fullmatch(rf"(.+?)\s*{re.escape(open_)}(.+){re.escape(close)}", text.strip())
    if not m:
        return text.strip(), []
    return m.group(1).strip(), [p.strip() for p in re.split(r"[、；;]", m.group(2))]


def _tsv_rows(repo_root: Path):
    for tsv in sorted((repo_root / "book" / "glossary").glob("ch*.tsv")):
        for lineno, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                headword, chinese, _ = (p.strip() for p in line.split("\t"))
                yield f"{tsv.relative_to(repo_root)}:{lineno}", headword, chinese


def _glossary_entries(repo_root: Path) -> list[Entry]:
    """One Entry per (headword part, Chinese part): lists such as 'query, key, value' /
    '查询、键、值' and 'teacher model / student model' are split into their items."""
    entries = []
    for where, headword, chinese in _tsv_rows(repo_root):
        english_items = re.split(r"\s*(?:,|/)\s*", headword)
        chinese_items = re.split(r"\s*[、／/]\s*", chinese) if len(english_items) > 1 else [chinese]
        assert len(english_items) == len(chinese_items), (
            f"{where}: {headword!r} lists {len(english_items)} terms but {chinese!r} "
            f"{len(chinese_items)}")
        for english, zh in zip(english_items, chinese_items):
            main, alternatives = _split_alternatives(zh, "（", "）")
            entries.append(Entry(english, zh, [main, *alternatives], [where]))
    return entries


def _key(text: str) -> str:
    """Lookup key: abbreviations in capitals (MLP, AND, NOT) keep their case, so that the words
    'and', 'or' and 'not' in running text never match them; everything else is lower case."""
    text = " ".join(text.split())
    return text if len(text) > 1 and text.isupper() else text.lower()


class Glossary:
    def __init__(self, repo_root: Path):
        self.entries = _glossary_entries(repo_root)
        self.by_key: dict[str, Entry] = {}
        alternatives = []
        for entry in self.entries:
            main, alt_english = _split_alternatives(entry.headword, "(", ")")
            if alt_english and len(entry.forms) > 1:
                # 'sigmoid (logistic function)' / 'Sigmoid 函数（逻辑斯谛函数）': one form each.
                self.by_key.setdefault(_key(main), Entry(entry.headword, entry.chinese,
                                                         entry.forms[:1], entry.sources))
                alternatives += [(_key(a), Entry(entry.headword, entry.chinese, entry.forms[1:],
                                                 entry.sources)) for a in alt_english]
            else:
                self.by_key.setdefault(_key(main), entry)
                alternatives += [(_key(a), entry) for a in alt_english]
        for key, entry in alternatives:          # an alternative never hides a headword
            self.by_key.setdefault(key, entry)
        for word, headword in ENGLISH_VARIANTS.items():
            assert _key(headword) in self.by_key, f"ENGLISH_VARIANTS: no headword {headword!r}"
            self.by_key.setdefault(word, self.by_key[_key(headword)])

    def lookup(self, text: str) -> Entry | None:
        """The entry named by `text` or by its longest trailing run of words ('the two hidden
        layers' -> 'hidden layer'), allowing an English plural on the last word."""
        words = [w.strip("\"'“”‘’.,:;!?()[]") for w in text.split()]
        words = [re.sub(r"'s$", "", w) for w in words if w]
        for start in range(max(0, len(words) - 6), len(words)):
            phrase = " ".join(words[start:])
            for candidate in (phrase, *_singulars(phrase)):
                entry = self.by_key.get(_key(candidate))
                if entry is not None:
                    return entry
        return None


def _singulars(phrase: str):
    if phrase.endswith("ies"):
        yield phrase[:-3] + "y"
    if phrase.endswith("es"):
        yield phrase[:-2]
    if phrase.endswith("s"):
        yield phrase[:-1]


# ------------------------------------------------------------------ the pages' text
def _prose_of_markdown(text: str) -> str:
    """The prose of a MyST page: code cells, code blocks and display maths removed, directive
    contents (dropdown answers, notes) kept, paragraphs joined into single lines."""
    out, fence, keep = [], None, True
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and re.match(r"^(`{3,}|~{3,})", stripped):
            fence = re.match(r"^(`{3,}|~{3,})", stripped).group(1)
            info = stripped[len(fence):].strip()
            keep = info.startswith("{") and not info.startswith(("{code-cell}", "{code}"))
            out.append("")
            continue
        if fence is not None and stripped == fence:
            fence = None
            out.append("")
            continue
        if fence is not None and (not keep or stripped.startswith(":")):
            continue
        out.append(line)
    prose = "\n".join(out)
    prose = re.sub(r"\$\$.*?\$\$", " ", prose, flags=re.S)
    if prose.startswith("---"):                          # front matter
        prose = prose.split("---", 2)[-1]
    return prose


def _clean(paragraph: str) -> str:
    paragraph = re.sub(r"\{[a-z:-]+\}`([^`]*)`", r"\1", paragraph)    # {doc}`x`, {cite}`y`
    paragraph = paragraph.replace("*", "").replace("`", "").replace("$", "")
    for word in QUOTED_SOURCE_MISTAKES:
        paragraph = paragraph.replace(word, "")
    return " ".join(paragraph.split())


def _pages(repo_root: Path):
    """(name, prose) for every book page except the generated glossary, and for the markdown
    cells of every solution notebook (the exercise notebooks are generated from them)."""
    for path in sorted((repo_root / "book").glob("*.md")) + sorted(
            (repo_root / "book" / "appendix").glob("*.md")):
        if path.name != "glossary.md":
            yield str(path.relative_to(repo_root)), _prose_of_markdown(path.read_text("utf-8"))
    for path in sorted((repo_root / "solutions").glob("*.ipynb")):
        cells = json.loads(path.read_text("utf-8"))["cells"]
        prose = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        yield str(path.relative_to(repo_root)), _prose_of_markdown(prose)


@dataclass
class Usage:
    page: str
    context: str
    english: str
    chinese_parts: list[str]
    entry: Entry | None


def _usages(repo_root: Path, glossary: Glossary):
    for page, prose in _pages(repo_root):
        for paragraph in re.split(r"\n\s*\n", prose):
            text = _clean(paragraph)
            for m in PARENTHESIS.finditer(text):
                parts = [p.strip() for p in PART_SEPARATORS.split(m.group(1)) if p.strip()]
                if not any(HAN.search(p) for p in parts):
                    continue
                before = text[:m.start()]
                latin = [p for p in parts if not HAN.search(p)]
                named = [(p, glossary.lookup(p)) for p in latin]
                english, entry = next(((p, e) for p, e in named if e is not None),
                                      (before[-60:].strip(), glossary.lookup(before)))
                chinese = [p for p in parts
                           if HAN.search(p) or (entry is not None and p in entry.forms)]
                context = (before[-50:] + m.group(0)).strip()
                yield Usage(page, context, english, chinese, entry)


@pytest.fixture(scope="module")
def glossary(repo_root):
    return Glossary(repo_root)


@pytest.fixture(scope="module")
def usages(repo_root, glossary):
    found = list(_usages(repo_root, glossary))
    assert len(found) > 200, "found too few Chinese terms: is the extraction broken?"
    return found


def test_glossary_gives_each_english_term_one_chinese_form(repo_root):
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for where, headword, chinese in _tsv_rows(repo_root):
        key = _key(headword)
        if key in seen and seen[key][1] != chinese:
            clashes.append(f"{headword!r}: {seen[key][1]!r} ({seen[key][0]}) but {chinese!r} "
                           f"({where})")
        seen.setdefault(key, (where, chinese))
    assert not clashes, "one English term, several Chinese forms:\n" + "\n".join(clashes)


def test_every_chinese_term_names_a_glossary_term(usages):
    unknown = [f"{u.page}: ...{u.context}" for u in usages if u.entry is None]
    assert not unknown, (
        "Chinese terms whose English term is not in the glossary (add the term to "
        "book/glossary/chNN.tsv, or write the glossary's English headword before the "
        "parenthesis):\n" + "\n".join(unknown))


def test_every_chinese_term_is_the_glossary_form(usages):
    wrong = []
    for u in usages:
        if u.entry is None:
            continue
        if not u.chinese_parts or u.chinese_parts != u.entry.forms[:len(u.chinese_parts)]:
            wrong.append(f"{u.page}: ...{u.context}\n    gives {'、'.join(u.chinese_parts)!r} "
                         f"for {u.entry.headword!r}; the glossary's form is "
                         f"{u.entry.chinese!r} ({', '.join(u.entry.sources)})")
    assert not wrong, "Chinese terms that differ from the glossary:\n" + "\n".join(wrong)


def test_the_checks_catch_a_wrong_and_an_unknown_term(repo_root, glossary, tmp_path):
    """The extraction finds every pattern the pages use, and a wrong form is reported."""
    page = tmp_path / "book" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "A **hidden layer (隐藏层)**, two *hidden layers* (隐藏层), an (多层感知机, MLP), an\n"
        "(an epoch, 轮次) and the **universal approximation theorem (万能逼近定理)**, and a\n"
        "**wibble (未知)**.\n\n```{code-cell} ipython3\nx = 1  # (隐藏层) in code is ignored\n```\n",
        encoding="utf-8")
    (tmp_path / "solutions").mkdir()
    found = list(_usages(tmp_path, glossary))
    assert [(u.entry.forms[0] if u.entry else None, u.chinese_parts) for u in found] == [
        ("隐藏层", ["隐藏层"]), ("隐藏层", ["隐藏层"]), ("多层感知机", ["多层感知机"]),
        ("轮次", ["轮次"]), ("通用近似定理", ["万能逼近定理"]), (None, ["未知"])]
    theorem = found[4]
    assert theorem.chinese_parts != theorem.entry.forms[:1]    # the old form is now wrong
