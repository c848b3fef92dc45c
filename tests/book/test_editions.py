"""Both editions of the book: English in _build/html/, Simplified Chinese in _build/html/zh/,
built strictly by one command (scripts/build-book), with a language switch on every page, the
translations of the catalogs on the Chinese pages, and figures drawn with Chinese text."""
from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from test_build import _toc_files

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"


def _page(html_dir: Path, name: str, edition: str = "en") -> str:
    folder = html_dir / "zh" if edition == "zh" else html_dir
    return (folder / f"{name}.html").read_text(encoding="utf-8")


def _switch(page: str) -> str:
    match = re.search(r'<a class="btn btn-sm course-language-switch" href="([^"]+)"', page)
    assert match, "the page has no language switch"
    return match.group(1)


def test_every_page_is_in_both_editions(book_build, repo_root):
    returncode, log, html_dir = book_build
    assert returncode == 0, "book build failed:\n" + log[-6000:]
    for name in _toc_files(repo_root):
        assert (html_dir / "zh" / f"{name}.html").is_file(), f"zh/{name}.html was not built"
        assert '<html lang="zh-CN"' in _page(html_dir, name, "zh")
        assert '<html lang="en"' in _page(html_dir, name)


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_the_switch_leads_to_the_same_page_in_the_other_language(book_build, repo_root,
                                                                 edition):
    _, _, html_dir = book_build
    base = html_dir / "zh" if edition == "zh" else html_dir
    other = html_dir if edition == "zh" else html_dir / "zh"
    for name in _toc_files(repo_root) + ["search", "genindex"]:
        page = base / f"{name}.html"
        target = (page.parent / urlsplit(_switch(page.read_text(encoding="utf-8"))).path).resolve()
        assert target == (other / f"{name}.html").resolve(), f"{edition}/{name}: switch -> {target}"
        back = target.parent / _switch(target.read_text(encoding="utf-8"))
        assert back.resolve() == page.resolve(), f"{edition}/{name}: the way back is {back}"


def _plain(message: str) -> bool:
    """A message whose translation appears on the page as written (no markup)."""
    return not re.search(r"[`$*{}\[\]<>&\\_]", message)


def _shown(message: str) -> str:
    """A message as the page shows it: a heading "1\\. Title" (escaped, or Markdown would read
    a list) shows as "1. Title"."""
    return re.sub(r"^(\d+)\\\.", r"\1.", message)


def _started_pages() -> list[str]:
    pages = []
    for path in sorted((CATALOGS / "book").rglob("*.po")):
        with path.open("rb") as handle:
            if any(message.id and message.string for message in read_po(handle)):
                pages.append(path.relative_to(CATALOGS).with_suffix("").as_posix())
    return pages


def _course_i18n():
    """book/_ext/course_i18n.py, the extension that finds a page's figure text."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_i18n_of_the_tests",
                                                  ROOT / "book" / "_ext" / "course_i18n.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)     # its dataclass looks itself up
    spec.loader.exec_module(module)
    return module


def _figure_text_of(name: str) -> set[str]:
    """The strings the page's figures draw (figure_text): in its SVG images, not its HTML."""
    source = ROOT / f"{name}.md"
    if not source.is_file():
        return set()
    i18n = _course_i18n()
    return {text for text, _line in i18n.figure_texts(i18n.page_code(source.read_text("utf-8")))}


@pytest.mark.parametrize("name", _started_pages())
def test_chinese_pages_show_their_translations(book_build, name):
    """Every translated message of the page's catalog (paragraphs, headings, the figures'
    image descriptions) is on the Chinese page, and its English is not. (The figures' own text
    is checked in their SVG files, below.)"""
    _, _, html_dir = book_build
    page = html.unescape(_page(html_dir, name, "zh"))
    drawn = _figure_text_of(name)
    with (CATALOGS / f"{name}.po").open("rb") as handle:
        translated = [m for m in read_po(handle)
                      if m.id and m.string and not m.fuzzy and _plain(_shown(m.string))
                      and _plain(m.id) and m.id not in drawn]
    assert translated, f"{name}: no plain translated message to look for"
    missing = [m.string for m in translated if _shown(m.string) not in page]
    assert not missing, f"zh/{name}.html lacks these translations: {missing[:5]}"
    english = [m.id for m in translated if m.id != m.string and len(m.id) > 40 and m.id in page]
    assert not english, f"zh/{name}.html still shows this English: {english[:3]}"


def test_the_interface_is_translated(book_build):
    """The book's own interface strings (catalog course_ui) on a Chinese chapter page."""
    _, _, html_dir = book_build
    page = _page(html_dir, "book/ch03_activations", "zh")
    assert "学习目标" in page and "Learning objectives" not in page
    assert "下载笔记本" in page and "Download notebook" not in page
    assert 'window.COURSE_MESSAGES = {"Close": "关闭"' in page


def _figure_texts(html_dir: Path, name: str, edition: str) -> list[str]:
    """The text drawn in the page's SVG figures (files under _images/, or inline)."""
    folder = html_dir / "zh" if edition == "zh" else html_dir
    page_path = folder / f"{name}.html"
    page = page_path.read_text(encoding="utf-8")
    svgs = [page] + [(page_path.parent / src).read_text(encoding="utf-8")
                     for src in re.findall(r'<img[^>]*\bsrc="([^"]+\.svg)"', page)]
    return [html.unescape(text) for svg in svgs
            for text in re.findall(r"<text[^>]*>([^<]+)</text>", svg)]


def test_figures_draw_their_text_in_the_pages_language(book_build):
    """nnlib.plot.plot_history labels its x axis with figure_text("epoch"): English in the
    English edition, the catalog's 轮次 in the Chinese one (the page ran again for it). (The
    chapter's own "epoch" labels stay English until its code wraps them in figure_text.)"""
    _, _, html_dir = book_build
    english, chinese = (_figure_texts(html_dir, "book/ch09_training", edition)
                        for edition in ("en", "zh"))
    assert "epoch" in english and "轮次" not in english
    assert "轮次" in chinese
    assert chinese.count("epoch") == english.count("epoch") - chinese.count("轮次")


def test_a_figure_with_a_missing_glyph_fails_the_build(repo_root, monkeypatch):
    """matplotlib's "Glyph ... missing from font(s)" on a cell's stderr is a build warning."""
    import importlib.util

    from docutils import nodes
    from docutils.utils import new_document

    spec = importlib.util.spec_from_file_location("course_i18n_under_test",
                                                  repo_root / "book" / "_ext" / "course_i18n.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)     # its dataclass looks itself up
    spec.loader.exec_module(module)
    warnings = []
    module.logger.warning = lambda message, *args, **kwargs: warnings.append(message % args)
    document = new_document("page.md")
    stderr = ("UserWarning: Glyph 36718 (\\N{CJK UNIFIED IDEOGRAPH-8F6E}) missing from "
              "font(s) DejaVu Sans.")
    document += nodes.literal_block(stderr, stderr, classes=["output", "stderr"])
    module.check_figure_glyphs(None, document)
    assert len(warnings) == 1 and "Glyph 36718" in warnings[0]
    warnings.clear()
    document = new_document("page.md")
    document += nodes.literal_block("fine", "fine", classes=["output", "stderr"])
    module.check_figure_glyphs(None, document)
    assert warnings == []


# --------------------------------------------------------------------------- Chinese search
def _search_index(html_dir: Path) -> dict:
    import json

    text = (html_dir / "zh" / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def _pages_of(index: dict, term: str) -> set[str]:
    found = set()
    for table in ("terms", "titleterms"):
        hits = index[table].get(term, [])
        found.update(index["docnames"][hit] for hit in ([hits] if isinstance(hits, int) else hits))
    return found


def _glossary_chinese() -> set[str]:
    terms = set()
    for tsv in (ROOT / "book" / "glossary").glob("*.tsv"):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            terms.update(part.strip() for part in re.split(r"[（）()、，,;；／/]", cells[1])
                         if re.fullmatch(r"[\u4e00-\u9fff]{3,}", part.strip()))
    return terms


def _article_text(page: str) -> str:
    """What Sphinx's search indexes of a page: the article's text (no navigation, no scripts,
    no image descriptions)."""
    article = page[page.index('<article class="bd-article"'):page.index("</article>")]
    article = re.sub(r"<(script|style)\b.*?</\1>", " ", article, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", article))


def test_search_finds_glossary_terms_whole(book_build):
    """jieba alone cuts 反向传播 into 反向 + 传播, and Sphinx's search looks a query up whole:
    the glossary's terms are in jieba's dictionary (and a term inside a longer word, 神经网络 in
    卷积神经网络, is indexed too), so each term a translated page shows finds that page."""
    _, _, html_dir = book_build
    index, glossary = _search_index(html_dir), _glossary_chinese()
    pages_with_terms, missing = 0, {}
    for name in _started_pages():
        text = _article_text(_page(html_dir, name, "zh"))
        terms = sorted(term for term in glossary if term in text)
        pages_with_terms += bool(terms)
        missed = [term for term in terms if name not in _pages_of(index, term)]
        if missed:
            missing[name] = missed
    assert pages_with_terms >= 10, f"only {pages_with_terms} translated pages show glossary terms"
    assert not missing, f"searching these terms does not find their page: {missing}"


#: Searches a Chinese reader makes, and the chapter each must find (once it is translated).
SEARCHES = {"反向传播": "book/ch06_backprop", "梯度下降": "book/ch08_gradient_descent",
            "激活函数": "book/ch03_activations"}


@pytest.mark.parametrize("term, name", [(term, name) for term, name in SEARCHES.items()
                                        if name in _started_pages()])
def test_search_finds_the_chapter_of_a_term(book_build, term, name):
    _, _, html_dir = book_build
    assert name in _pages_of(_search_index(html_dir), term)
