"""The Chinese edition (_build/html/zh/) as a Chinese reader sees it, in headless Chromium.

The English pages' checks run on every translated Chinese page (its catalog complete; the set
grows as the translators finish pages): no console errors, no request leaving localhost,
images loaded with Chinese alt text, maths typeset, previous/next and every link resolving, at
desktop and phone widths. Plus: the language switch leads to the same page in English and
back, Chinese search finds the chapter of each of a reader's terms once that chapter is
translated, and screenshots of the first three translated chapters are saved in
artifacts/screenshots/zh/.
"""
from __future__ import annotations

import re
from urllib.parse import urldefrag

import pytest

import test_book_pages as english
from browser_support import ZH_EDITION, ZH_SCREENSHOT_DIR, translated_pages

pytestmark = pytest.mark.browser

TRANSLATED = translated_pages()
EDITION = f"{ZH_EDITION}/"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Searches a Chinese reader makes, and the chapter each must find (once it is translated).
SEARCHES = {"反向传播": "book/ch06_backprop", "梯度下降": "book/ch08_gradient_descent",
            "激活函数": "book/ch03_activations"}


def test_some_pages_are_translated():
    """The data-driven tests below have pages to read (the start page and ch00 are done)."""
    assert {"book/intro", "book/ch00_how_to_use"} <= set(TRANSLATED), TRANSLATED


@pytest.mark.parametrize("page_name", TRANSLATED)
def test_chinese_page_as_a_reader_sees_it(zh_book_survey, book_site, page_name):
    visit = zh_book_survey.visit("desktop", EDITION + page_name)
    assert visit.status == 200, f"zh/{page_name}: HTTP {visit.status}"
    problems = english._content_problems(visit, EDITION)
    problems += english._link_problems(visit, book_site, EDITION)
    problems += visit.problems
    problems += [f"(phone) {p}" for p in zh_book_survey.visit("phone", EDITION + page_name).problems]
    # In Chinese: the title, and every figure's description (alt text) for screen readers.
    if not CJK.search(visit.dom["title"]):
        problems.append(f"the title is not Chinese: {visit.dom['title']!r}")
    for image in visit.dom["images"]:
        if image["inMain"] and not image["inLaunch"] and not CJK.search(image["alt"] or ""):
            problems.append(f"image without Chinese alt text: {image['src'][-60:]} "
                            f"(alt {image['alt']!r})")
    assert not problems, f"zh/{page_name}:\n  " + "\n  ".join(problems)


#: Pages whose switch is clicked, one of each kind (tests/book/test_editions.py follows every
#: page's switch link both ways without a browser).
CLICKED = [name for name in ("book/intro", "book/ch03_activations", "book/appendix/glossary")
           if name in TRANSLATED]


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("page_name", CLICKED)
def test_the_switch_leads_to_english_and_back(chromium, book_site, page_name, width):
    """Clicking the language switch opens the same page in English, and its switch leads
    back to the Chinese page."""
    from book_survey import WIDTHS

    phone = width == "phone"
    context = chromium.new_context(viewport=WIDTHS[width], is_mobile=phone, has_touch=phone)
    context.route("**/_static/mathjax/**", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="/* not needed here */"))
    try:
        page = context.new_page()
        chinese = book_site.page_url(EDITION + page_name)
        page.goto(chinese, wait_until="load")
        for expected, language in ((book_site.page_url(page_name), "en"), (chinese, "zh-CN")):
            switch = page.locator("a.course-language-switch").first
            switch.scroll_into_view_if_needed()
            switch.click()
            page.wait_for_url(lambda url: urldefrag(url)[0] == expected, timeout=15_000)
            assert page.evaluate("document.documentElement.lang") == language
    finally:
        context.close()


@pytest.mark.parametrize("term, chapter", SEARCHES.items())
def test_search_finds_the_chapter_of_a_term(offline_context, book_site, term, chapter):
    if chapter not in TRANSLATED:
        pytest.xfail(f"zh/{chapter} is not translated yet")
    hits, summary = english._search(offline_context, book_site, term, EDITION)
    assert book_site.page_url(EDITION + chapter) in hits, \
        f"searching {term!r} did not return zh/{chapter}: {summary!r}, hits {hits}"
    assert not offline_context.monitor.problems(), offline_context.monitor.problems()


def test_search_finds_a_translated_page_by_a_word_of_its_title(offline_context, book_site):
    """Chinese search works in the browser today: a word of the last translated page's title
    (as jieba cuts it, the way the index was built) finds that page."""
    import jieba

    target = TRANSLATED[-1]
    html = (book_site.directory / ZH_EDITION / f"{target}.html").read_text(encoding="utf-8")
    title = re.sub(r"<[^>]+>", " ", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))
    words = [word for word in jieba.cut_for_search(title) if re.fullmatch(r"[\u4e00-\u9fff]{2,}",
                                                                          word)]
    assert words, f"no Chinese word in the title of zh/{target}: {title!r}"
    word = max(words, key=len)
    hits, summary = english._search(offline_context, book_site, word, EDITION)
    assert book_site.page_url(EDITION + target) in hits, \
        f"searching {word!r} did not return zh/{target}: {summary!r}, hits {hits}"
    assert all(hit.startswith(f"{book_site.url}/{EDITION}") for hit in hits), hits
    assert not offline_context.monitor.problems(), offline_context.monitor.problems()


def test_screenshots_of_translated_chapters(zh_book_survey):
    """Screenshots of the first three translated chapters at both widths, taken during the
    pages' visits, in artifacts/screenshots/zh/."""
    chapters = [page for page in TRANSLATED if re.fullmatch(r"book/ch(?!00)\d\d_\w+", page)][:3]
    assert chapters, "no chapter is translated yet"
    shots = [visit.screenshot for width in ("desktop", "phone")
             for visit in zh_book_survey.visits(width).values() if visit.screenshot]
    assert len(shots) == 2 * len(chapters), shots
    for path in shots:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"bad screenshot {path}"
    assert {path.parent for path in shots} == {ZH_SCREENSHOT_DIR}
