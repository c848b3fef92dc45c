"""The published book, as a reader sees it in headless Chromium, with no internet.

For every page in _toc.yml: no console errors, no failed requests, no request leaves localhost,
every image loaded and has alt text, maths typeset by the book's own MathJax, previous/next
navigation in toc order, every internal link and anchor resolves. Plus: search works, and
screenshots at desktop and phone widths are saved to artifacts/screenshots/.
"""
from __future__ import annotations

import re
from urllib.parse import urldefrag, urlparse

import pytest

from browser_support import LOCAL_HOSTS, SCREENSHOT_DIR, source_has_maths, toc_files

pytestmark = pytest.mark.browser

PAGES = toc_files()
RAW_MATH = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|(?<![\w$])\$[^$\s][^$\n]{0,80}?[^$\s\\]\$(?![\w$])")


@pytest.mark.parametrize("page_name", PAGES)
def test_page_as_a_reader_sees_it(book_survey, book_site, page_name):
    """Loads offline with no errors (on a laptop and a phone); images, maths, navigation and
    links all work."""
    visit = book_survey.visit("desktop", page_name)
    assert visit.status == 200, f"{page_name}: HTTP {visit.status}"
    problems = _content_problems(visit)
    problems += _link_problems(visit, book_site)
    # Nothing outside the book is loaded, nothing failed, no script errors, at either width.
    problems += visit.problems
    problems += [f"(phone) {p}" for p in book_survey.visit("phone", page_name).problems]
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)


def _content_problems(visit, edition: str = "") -> list[str]:
    """Images loaded and described, maths typeset; ``edition`` as for :func:`_link_problems`."""
    problems: list[str] = []
    maths, dom = visit.maths, visit.dom

    # Images: loaded, with alt text.
    for img in dom["images"]:
        src = img["src"] if len(img["src"]) < 100 else img["src"][:60] + "..."
        if not img["complete"] or img["natural"] == 0:
            problems.append(f"image did not load: {src}")
        if not (img["alt"] or "").strip():
            problems.append(f"image has no alt text: {src} (id={img['id']!r})")

    # Maths: typeset wherever there is maths, by MathJax served from the book itself.
    if source_has_maths(visit.name.removeprefix(edition)) and maths["maths"] == 0:
        problems.append("the source has maths but the page has no .math elements "
                        "(is dollarmath enabled?)")
    if maths["maths"]:
        if not maths["loaded"]:
            problems.append("MathJax did not load (no window.MathJax.startup)")
        else:
            problems += [f"maths not typeset: {text!r}" for text in maths["untypeset"]]
            problems += [f"MathJax error: {text!r}" for text in maths["errors"]]
            if maths["containers"] == 0:
                problems.append("no mjx-container elements although the page has maths")
        mathjax = [s for s in dom["scriptSources"] if "mathjax" in s.lower()]
        if not mathjax or any(urlparse(s).hostname not in LOCAL_HOSTS for s in mathjax):
            problems.append(f"MathJax is not served by the book: {mathjax}")
    for match in RAW_MATH.finditer(dom["prose"]):
        context = dom["prose"][max(0, match.start() - 40): match.end() + 40].replace("\n", " ")
        problems.append(f"raw maths left in the text: ...{context}...")
    return problems


def _link_problems(visit, book_site, edition: str = "") -> list[str]:
    """Previous/next in toc order and every internal link and anchor resolving; ``edition``
    is the folder of another language's pages ("zh/")."""
    index = PAGES.index(visit.name.removeprefix(edition))
    problems: list[str] = []

    # Previous / next follow the table of contents.
    for key, selector, neighbour in (("prev", "a.left-prev", index - 1),
                                     ("next", "a.right-next", index + 1)):
        links = visit.dom[key]
        if 0 <= neighbour < len(PAGES):
            expected = book_site.page_url(edition + PAGES[neighbour])
            if [urldefrag(u)[0] for u in links] != [expected]:
                problems.append(f"{selector} should link to {expected}, found {links}")
        elif links:
            problems.append(f"{selector} should not exist on this page, found {links}")

    # Every link inside the book resolves (HTTP 200), and every #anchor exists.
    own_url = book_site.page_url(visit.name)
    own_ids = set(visit.dom["ids"])
    site_netloc = urlparse(book_site.url).netloc
    for link in visit.dom["links"]:
        url = link["href"]
        parsed = urlparse(url)
        if parsed.netloc != site_netloc:    # outside the book (e.g. a local JupyterLab link)
            continue
        target, fragment = urldefrag(url)
        status, body = book_site.fetch(target)
        if status != 200:
            problems.append(f"link {link['raw']!r} ({link['text']!r}) -> HTTP {status}")
            continue
        if fragment and target.endswith(".html"):
            ids = own_ids if target == own_url else book_site.ids(target)
            if fragment not in ids:
                problems.append(f"link {link['raw']!r} ({link['text']!r}): no anchor #{fragment}")
    return problems


def test_requests_leaving_localhost_are_caught(offline_context, book_site):
    """The offline checks can fail: a page asking a CDN for a file gets it recorded (and refused)."""
    page = offline_context.new_page()
    page.goto(book_site.page_url(PAGES[0]), wait_until="load")
    page.evaluate("""() => new Promise(done => {
        const img = document.createElement('img');
        img.onerror = img.onload = () => done();
        img.src = 'https://cdn.example.org/pixel.png';
        document.body.appendChild(img);
    })""")
    assert offline_context.monitor.external_requests == ["https://cdn.example.org/pixel.png"]
    broken = page.evaluate("() => document.querySelector('img[src*=cdn]').naturalWidth")
    assert broken == 0, "the request to a non-local host should not have succeeded"


def _search(context, site, query, edition: str = ""):
    """(page URLs found, the summary line) for ``query`` on the search page of the English
    book or of another edition (``edition``: "zh/")."""
    page = context.new_page()
    page.goto(f"{site.url}/{edition}search.html?q={query}", wait_until="load")
    page.wait_for_selector("#search-results .search-summary", timeout=20_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a",
                                     "els => els.map(e => e.href)")
    summary = page.inner_text("#search-results .search-summary")
    return [urldefrag(h)[0] for h in hits], summary


def test_search_mechanism_finds_a_page_by_its_title_word(offline_context, book_site):
    """Search works offline: the longest word of the last page's title finds that page."""
    target = PAGES[-1]
    html = (book_site.directory / f"{target}.html").read_text(encoding="utf-8")
    title = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    from sphinx.search.en import english_stopwords

    words = [w for w in re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", " ", title))
             if w.lower() not in english_stopwords]
    assert words, f"no searchable word in the title of {target}: {title!r}"
    word = max(words, key=len).lower()
    hits, summary = _search(offline_context, book_site, word)
    assert book_site.page_url(target) in hits, \
        f"searching {word!r} did not return {target}: {summary!r}, hits {hits}"
    assert not offline_context.monitor.problems(), offline_context.monitor.problems()


def test_search_finds_the_sigmoid_chapter(offline_context, book_site):
    """Searching "sigmoid" returns the activation-functions chapter (ch03)."""
    chapter = [p for p in PAGES if re.fullmatch(r"book/ch03_\w+", p)]
    assert chapter, ("the sigmoid chapter (book/ch03_*) is not in _toc.yml, so the search "
                     f"cannot find it; pages: {PAGES}")
    hits, summary = _search(offline_context, book_site, "sigmoid")
    assert book_site.page_url(chapter[0]) in hits, \
        f"searching 'sigmoid' did not return {chapter[0]}: {summary!r}, hits {hits}"
    assert not offline_context.monitor.problems(), offline_context.monitor.problems()


def test_screenshots_desktop_and_phone(book_survey):
    """Screenshots of three chapters at both widths, for people to look at (artifacts/screenshots/,
    not committed), taken during the pages' visits."""
    shots = [visit.screenshot for width in ("desktop", "phone")
             for visit in book_survey.visits(width).values() if visit.screenshot]
    assert len(shots) == 6, shots
    for path in shots:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"bad screenshot {path}"
    assert {p.parent for p in shots} == {SCREENSHOT_DIR}
