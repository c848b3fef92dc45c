"""The book reads like a finished textbook, on a laptop (1280x800) and on a phone (390x844).

Each test runs at both widths unless it is about one of them: chapter-relative numbering (and
references that show their equation's number), figures (SVG, text at least as large as the
figure captions, full size on tap on a phone, no text running into other text), code and output
inside the column and wrapped at spaces, no page wider than a phone's screen (wide equations
scroll in their own box, with a cue), no empty output boxes, the glossary's A-Z and pinyin
indexes, clean search results in one search box, MathJax's menu from the keyboard, "Open in
JupyterLab" for a JupyterLab on any port (and the README's command to start one, as root too),
and pages under 2 MB with every icon still drawn.

The page checks read the shared visits of book_survey.py (one page load per page and width).
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser_support import (DESKTOP, PHONE, ROOT, SCREENSHOT_DIR, WAIT_FOR_MATHS_JS, free_port,
                             toc_files, wait_http)

pytestmark = pytest.mark.browser

PAGES = toc_files()
CHAPTERS = [p for p in PAGES if re.fullmatch(r"book/ch\d\d_\w+", p)]
NUMBERED = [p for p in CHAPTERS if not p.startswith("book/ch00")]
WIDTHS = ["desktop", "phone"]
PAGE_BUDGET = 2_000_000          # bytes, everything a chapter page loads (uncompressed)


def chapter_number(page: str) -> int:
    """The number the book gives a chapter: its place among the numbered chapters."""
    return NUMBERED.index(page) + 1


@pytest.fixture(params=WIDTHS, scope="module")
def width(request):
    return request.param


@pytest.fixture(scope="module")
def context(chromium, width):
    """A browser context at this width, for the tests that click and type (glossary, search)."""
    phone = width == "phone"
    ctx = chromium.new_context(viewport=DESKTOP if not phone else PHONE, is_mobile=phone,
                               has_touch=phone)
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def _open(context, site, page_name, maths=True):
    page = context.new_page()
    page.goto(site.page_url(page_name), wait_until="load")
    if maths:
        page.evaluate(WAIT_FOR_MATHS_JS)
    return page


# --------------------------------------------------------------------------- numbering
def test_numbers_are_chapter_relative(book_survey, book_site):
    """Each chapter's title, figures and equations are numbered n.x, and every equation
    reference shows the number of the equation it links to (in its own or another chapter)."""
    problems = []
    numbers = {}                                   # (page URL, anchor) -> "(n.i)"
    for name in NUMBERED:
        dom, n = book_survey.visit("desktop", name).dom, chapter_number(name)
        if not dom["title"].startswith(f"{n}. "):
            problems.append(f"{name}: title {dom['title']!r}")
        figures = dom["figureNumbers"]
        equations = [eq["number"] for eq in dom["equationNumbers"]]
        if figures != [f"Fig. {n}.{i}" for i in range(1, len(figures) + 1)]:
            problems.append(f"{name}: figures {figures}")
        if equations != [f"({n}.{i})" for i in range(1, len(equations) + 1)]:
            problems.append(f"{name}: equations {equations}")
        numbers.update({(book_site.page_url(name), eq["anchor"]): eq["number"]
                        for eq in dom["equationNumbers"]})
    references = 0
    for name in PAGES:
        for ref in book_survey.visit("desktop", name).dom["equationRefs"]:
            page, _, anchor = ref["href"].partition("#")
            expected = numbers.get((page, anchor))
            references += 1
            if ref["text"] != expected:
                problems.append(f"{name}: reference {ref['text']!r} to {ref['href']} "
                                f"(that equation is {expected})")
    ch06 = book_survey.visit("desktop", "book/ch06_backprop").dom
    assert ch06["figureNumbers"] and ch06["equationNumbers"] and references > 20, ch06["equationRefs"]
    assert not problems, "\n".join(problems)


def test_every_chapter_numbers_its_own_figures_and_equations(book_site):
    """Over the built HTML: every caption and equation number starts with its chapter's number."""
    problems = []
    for name in NUMBERED:
        html = (book_site.directory / f"{name}.html").read_text(encoding="utf-8")
        n = chapter_number(name)
        for label in re.findall(r'<span class="caption-number">([^<]*)</span>', html):
            if not re.fullmatch(rf"(Fig\.|Table) {n}\.\d+\s*", label):
                problems.append(f"{name}: caption number {label!r}")
        for label in re.findall(r'<span class="eqno">\(([^)<]*)\)', html):
            if not re.fullmatch(rf"{n}\.\d+", label):
                problems.append(f"{name}: equation number ({label})")
        if re.search(r"\(eq-ch\d\d-[\w-]+\)", re.sub(r'<span class="eqno">.*?</span>', "", html)):
            problems.append(f"{name}: an equation label such as (eq-chNN-...) is shown as text")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- figures
def test_figures_are_svg_with_text_as_large_as_captions(book_survey, width):
    """Every chapter figure is SVG; its smallest text, as shown (on a phone: full size after a
    tap), is at least the caption's size."""
    problems, measured, zoomed_pages = [], [], set()
    for name in CHAPTERS:
        visit = book_survey.visit(width, name)
        caption = visit.dom["captionPx"] or 16.0
        for fig in visit.figures:
            short = fig["name"]
            if not fig["svg"]:
                problems.append(f"{name}: figure {short} is not SVG ({fig['src'][:40]})")
                continue
            assert fig["status"] == 200, fig["src"]
            if width == "phone" and not fig["zoomable"] and fig["shown"] + 2 < fig["natural"]:
                problems.append(f"{name}: {short} is shown smaller than its natural size but "
                                "cannot be opened full size")
            if "zoomShown" in fig:
                zoomed_pages.add(name)
                if fig["zoomShown"] is None:
                    problems.append(f"{name}: a tap on {short} opens no full-size view")
                elif fig["zoomShown"] + 2 < fig["natural"]:
                    problems.append(f"{name}: a tap on {short} shows it {fig['zoomShown']:.0f} "
                                    f"px wide, not full size ({fig['natural']} px)")
            if fig["texts"] and fig["minTextPx"] is None:
                problems.append(f"{name}: {short} has text outside matplotlib's text groups")
            if fig["minTextPx"] is not None:
                measured.append(fig["minTextPx"])
                if fig["minTextPx"] < caption - 0.25:
                    problems.append(f"{name}: {short} smallest text {fig['minTextPx']:.1f} px "
                                    f"< caption {caption:.1f} px (shown {fig['measuredAt']:.0f} "
                                    "px wide)")
    assert measured, "no figure text was measured"
    if width == "phone":
        assert "book/ch06_backprop" in zoomed_pages, "no figure was opened full size on a phone"
    assert not problems, "\n".join(problems)
    _record("figure-text", width, {"figures": len(measured), "smallest_px": min(measured)})


def test_figure_text_does_not_overlap(book_survey):
    """No label, title or tick of a figure runs into another one or out of the figure."""
    problems = []
    for name in CHAPTERS:
        for fig in book_survey.visit("desktop", name).figures:
            problems += [f"{name}: {fig['name']}: text overlaps: {pair}"
                         for pair in fig.get("overlaps", [])]
            problems += [f"{name}: {fig['name']}: text outside the figure: {text!r}"
                         for text in fig.get("outside", [])]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- code
def test_code_and_output_stay_in_the_column(book_survey, width):
    """No source or output line is cut off or scrolls: long lines wrap, at spaces (a break
    inside a name only where the name alone is wider than the column)."""
    problems = []
    for name in PAGES:
        code = book_survey.visit(width, name).dom["code"]
        if name in CHAPTERS and code["lines"] < 20:
            problems.append(f"{name}: code lines are not marked up as span.line")
        problems += [f"{name}: line wider than its box: {line}" for line in code["clipped"]]
        problems += [f"{name}: wrapped inside a word: {line}" for line in code["badBreaks"]]
    assert not problems, "\n".join(problems)


def test_every_code_block_is_written_line_by_line(book_build):
    """Over the built HTML: every highlighted block of every chapter has its lines in spans."""
    _, _, html_dir = book_build
    for name in CHAPTERS:
        html = (html_dir / f"{name}.html").read_text(encoding="utf-8")
        for block in re.findall(r'<div class="highlight"><pre>(.*?)</pre>', html, re.S):
            lines = block.rstrip("\n").split("\n")
            bare = [ln for ln in lines if ln and '<span class="line"' not in ln
                    and not ln.startswith("</span>")]
            assert not bare, f"{name}: a code line outside span.line: {bare[0][:100]!r}"


# --------------------------------------------------------------------------- page width
def test_no_page_is_wider_than_the_screen(book_survey, width):
    """At 390 px (and 1280 px) no page scrolls sideways; wide equations scroll in their own
    box, which says so."""
    problems = []
    for name in PAGES:
        dom = book_survey.visit(width, name).dom
        if dom["overflow"] > 1:
            problems.append(f"{name}: the page is {dom['overflow']} px wider than the screen; "
                            f"{dom['wide']}")
        for eq in dom["equations"]:
            if not eq["fits"] and not (eq["scrolls"] and eq["cue"]):
                problems.append(f"{name}: equation cut off without a scroll cue: {eq['tex']!r}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- glossary
def test_glossary_has_a_to_z_and_pinyin_indexes(context, book_site, width):
    page = _open(context, book_site, "book/appendix/glossary", maths=False)
    letters = page.eval_on_selector_all("#glossary-jump a", "els => els.map(e => e.textContent)")
    assert len(letters) >= 20 and letters == sorted(letters), letters
    # Jumping to T shows the T section at the top of the screen.
    page.locator("#glossary-jump a", has_text=re.compile("^T$")).click()
    page.wait_for_timeout(300)
    top = page.evaluate("() => document.getElementById('glossary-t').getBoundingClientRect().top")
    assert -5 < top < 200, f"the T section is at {top} px after the jump"
    # Every English headword once: the four duplicated ones in particular.
    terms = page.eval_on_selector_all("dl.glossary dt", "els => els.map(e => e.id)")
    heads = [re.sub(r"-+$", "", t.removeprefix("term-").split("-(")[0]) for t in terms]
    words = page.eval_on_selector_all("dl.glossary dt", "els => els.map(e => e.textContent)")
    for word in ("CNN", "dense layer", "MLP", "temperature"):
        hits = [w for w in words if re.search(rf"(^|\(){re.escape(word)}\b", w)]
        assert len(hits) == 1, f"{word!r} is a headword {len(hits)} times: {hits}"
    assert len(set(terms)) == len(terms), "duplicate glossary entries"
    assert heads
    # The pinyin index: sorted, and each Chinese term links to the entry holding it.
    rows = page.evaluate("""() => [...document.querySelectorAll('#glossary-pinyin ~ section li, '
                                    + '#glossary-pinyin li')].map(li => ({
        text: li.textContent, pinyin: (li.querySelector('em') || {}).textContent,
        href: li.querySelector('a') && li.querySelector('a').hash}))""")
    assert len(rows) >= 150, f"only {len(rows)} rows in the pinyin index"
    for row in rows:
        chinese = row["text"].split(" ", 1)[0]
        target = page.evaluate("h => { const e = document.getElementById(decodeURIComponent(h.slice(1)));"
                               " return e ? e.textContent : null; }", row["href"])
        assert target and chinese in target, f"{row['text']!r} links to {row['href']}: {target!r}"
    # Dictionary order: by the first syllable's letters (then its tone, then the next syllable).
    import unicodedata

    firsts = []
    for row in rows:
        assert row["pinyin"], f"{row['text']!r} has no pinyin"
        syllable = row["pinyin"].split()[0]
        firsts.append("".join(c for c in unicodedata.normalize("NFD", syllable)
                              if not unicodedata.combining(c)).lower())
    assert firsts == sorted(firsts), f"the pinyin index is not in pinyin order: {firsts}"
    page.close()


# --------------------------------------------------------------------------- search
def test_search_results_show_clean_text_in_one_search_box(context, book_site, width):
    page = context.new_page()
    page.goto(f"{book_site.url}/search.html?q=forward", wait_until="load")
    page.wait_for_selector("#search-results .search-summary", timeout=30_000)
    try:                  # every hit gets its snippet (pages' text, objects' docstrings)
        page.wait_for_function("() => [...document.querySelectorAll('#search-results li')]"
                               ".every(li => li.querySelector('p.context'))", timeout=20_000)
    except PlaywrightTimeout:
        pass              # reported below, with the titles of the hits that have none
    results = page.eval_on_selector_all(
        "#search-results ul.search li",
        "els => els.map(li => ({title: li.querySelector('a').textContent,"
        " snippet: (li.querySelector('p.context') || {textContent: ''}).textContent}))")
    assert len(results) >= 5, results
    raw = [r for r in results if re.search(r"\\\(|\\\)|\\\[|\\frac|\\mathbf|\$\$|\^\{", r["snippet"])]
    blank = [r["title"] for r in results if not r["snippet"].strip()]
    assert not raw, f"raw LaTeX in search snippets: {raw[:3]}"
    assert not blank, f"results without a snippet: {blank}"
    boxes = page.evaluate("""() => [...document.querySelectorAll('input[type=search], input[name=q]')]
        .filter(e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
                       return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; }).length""")
    assert boxes == 1, f"{boxes} search boxes are visible on the search page"
    page.close()


# --------------------------------------------------------------------------- JupyterLab
def test_open_in_jupyterlab_follows_the_readers_address(chromium, book_site, jupyterlab):
    """A JupyterLab on a random port: paste its address once, and the button opens it there."""
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(book_site.page_url("book/ch03_activations"), wait_until="load")
    button = page.locator("a.exercise-jupyterlab").first
    assert button.get_attribute("href") == "http://localhost:8888/lab/tree/ch03_activations.ipynb"
    page.locator("details.exercise-lab-address summary").first.click()
    field = page.locator("form.exercise-lab-form input").first
    field.fill(f"{jupyterlab['url']}/lab?token=abc")
    page.locator("form.exercise-lab-form button").first.click()
    expected = f"{jupyterlab['url']}/lab/tree/ch03_activations.ipynb"
    assert button.get_attribute("href") == expected
    assert "token" not in page.evaluate("() => JSON.stringify(localStorage)")
    # Remembered on every chapter.
    other = context.new_page()
    other.goto(book_site.page_url("book/ch06_backprop"), wait_until="load")
    assert other.locator("a.exercise-jupyterlab").first.get_attribute("href").startswith(
        jupyterlab["url"])
    other.close()
    # The button opens the notebook in that JupyterLab.
    page.goto(expected)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text=".ipynb")
    assert tab.first.inner_text() == "ch03_activations.ipynb"
    context.close()


def test_jupyterlab_address_help_fits_a_phone(chromium, book_site):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(book_site.page_url("book/ch03_activations"), wait_until="load")
    page.locator("details.exercise-lab-address summary").first.tap()
    text = page.locator("details.exercise-lab-address").first.inner_text()
    assert "jupyter lab --allow-root exercises/" in text and "port" in text
    right = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                          "'details.exercise-lab-address *')].map(e => "
                          "e.getBoundingClientRect().right))")
    assert right <= PHONE["width"], f"the JupyterLab help sticks out to {right} px"
    context.close()


def test_readme_command_starts_jupyterlab_on_the_exercises(tmp_path):
    """The README's command (run here as this user, root or not) serves exercises/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(jupyter lab [^\n#]*)", readme, re.M)
    assert commands, "the README gives no `jupyter lab ...` command"
    command = shlex.split(commands[0])
    port = free_port()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipy"),
           "JUPYTER_PLATFORM_DIRS": "1", "LANG": "C.UTF-8"}
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command + ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                           "--IdentityProvider.token=", "--ServerApp.port_retries=0",
                                           "--LabApp.news_url=None",
                                           "--LanguageServerManager.autodetect=False"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status", proc, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=10) as resp:
            listing = {item["name"] for item in json.load(resp)["content"]}
        assert "ch03_activations.ipynb" in listing, listing
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --------------------------------------------------------------------------- page weight
def test_chapter_pages_weigh_under_2_mb_with_every_icon(book_survey, book_site):
    """Everything a chapter page loads (no browser cache) is under 2 MB; no Font Awesome
    script; every icon on the page is in the cut-down icon fonts."""
    from fontTools.ttLib import TTFont

    fonts = book_site.directory / "_static" / "vendor" / "fontawesome" / "webfonts"
    glyphs = set()
    for font in fonts.glob("course-fa-*.woff"):
        glyphs |= set(TTFont(font).getBestCmap())
    assert glyphs, "no subset icon fonts were written"
    weights, problems = {}, []
    for name in CHAPTERS:
        visit = book_survey.visit("desktop", name)
        weights[name] = visit.bytes
        if visit.bytes > PAGE_BUDGET:
            problems.append(f"{name}: {visit.bytes / 1e6:.2f} MB")
        if any("fontawesome.js" in src for src in visit.dom["scriptSources"]):
            problems.append(f"{name}: still loads Font Awesome's script")
        for content in visit.dom["icons"]:
            char = json.loads(content) if content.startswith('"') else content
            if len(char) == 1 and ord(char) >= 0xE000 and ord(char) not in glyphs:
                problems.append(f"{name}: icon U+{ord(char):04X} is not in the icon fonts")
    _record("page-weight", "desktop", weights)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- nothing lost
STYLES_JS = """
() => {
  const props = ['display', 'position', 'float', 'visibility', 'opacity', 'color',
    'backgroundColor', 'backgroundImage', 'fontFamily', 'fontSize', 'fontWeight', 'fontStyle',
    'lineHeight', 'textAlign', 'textDecorationLine', 'whiteSpace', 'marginTop', 'marginRight',
    'marginBottom', 'marginLeft', 'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
    'borderTopWidth', 'borderTopStyle', 'borderTopColor', 'borderLeftWidth', 'borderLeftColor',
    'borderRadius', 'boxShadow', 'overflowX', 'zIndex', 'width', 'height'];
  // MathJax's inner elements and the highlighted code's tokens take their own stylesheets
  // (not cut down): their container is compared, their insides are not. Transitions stop
  // where they would end.
  const style = document.createElement('style');
  style.textContent = '*, *::before, *::after { transition: none !important; '
                      + 'animation: none !important; }';
  document.head.appendChild(style);
  const elements = [...document.body.querySelectorAll('*')]
    .filter(e => !(e.parentElement && e.parentElement.closest('mjx-container, pre')));
  const snapshot = () => elements.map(e => {
    const s = getComputedStyle(e), before = getComputedStyle(e, '::before');
    return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + (e.className && e.className.baseVal === undefined ? '.' + e.className.split(' ')[0] : ''),
            props.map(p => s[p]).join('|') + '|' + before.content + '|' + before.fontFamily];
  });
  const light = snapshot();
  document.documentElement.dataset.theme = 'dark';
  const dark = snapshot();
  return {light, dark};
}
"""


def _original_stylesheets() -> dict[str, bytes]:
    """The theme's and extensions' stylesheets as they ship (the build cuts them down)."""
    import myst_nb
    import pydata_sphinx_theme
    import sphinx_book_theme
    import sphinx_design

    def package(module):
        return Path(module.__file__).parent

    return {
        "/_static/styles/pydata-sphinx-theme.css": (
            package(pydata_sphinx_theme) / "theme" / "pydata_sphinx_theme" / "static" / "styles"
            / "pydata-sphinx-theme.css").read_bytes(),
        "/_static/styles/sphinx-book-theme.css": (
            package(sphinx_book_theme) / "theme" / "sphinx_book_theme" / "static" / "styles"
            / "sphinx-book-theme.css").read_bytes(),
        "/_static/sphinx-design.min.css": (
            package(sphinx_design) / "static" / "sphinx-design.min.css").read_bytes(),
        "/_static/mystnb.": (package(myst_nb) / "static" / "mystnb.css").read_bytes(),
    }


@pytest.mark.parametrize("name", ["book/ch03_activations", "book/appendix/glossary"])
def test_cut_down_stylesheets_change_nothing_a_reader_sees(chromium, book_site, width, name):
    """Every element of a chapter and of the glossary has the same computed style (light and
    dark theme) with the book's cut-down stylesheets as with the full ones."""
    originals = _original_stylesheets()

    def full_stylesheet(route):
        path = route.request.url.split("?")[0].removeprefix(book_site.url)
        body = next((css for prefix, css in originals.items() if path.startswith(prefix)), None)
        if body is None:
            return route.continue_()
        return route.fulfill(status=200, content_type="text/css", body=body)

    snapshots = []
    for full in (True, False):
        phone = width == "phone"
        context = chromium.new_context(viewport=PHONE if phone else DESKTOP, is_mobile=phone,
                                       has_touch=phone)
        if full:
            context.route("**/*.css*", full_stylesheet)
        page = _open(context, book_site, name)
        page.wait_for_timeout(200)
        snapshots.append(page.evaluate(STYLES_JS))
        context.close()
    full, cut = snapshots
    for theme in ("light", "dark"):
        assert len(full[theme]) == len(cut[theme]) > 500
        differ = [f"{a[0]}: {a[1]} != {b[1]}" for a, b in zip(full[theme], cut[theme]) if a != b]
        assert not differ, f"{theme} theme, {len(differ)} elements differ:\n" + "\n".join(
            differ[:5])


# --------------------------------------------------------------------------- output boxes
def test_no_empty_output_boxes(book_survey, width):
    """No code cell shows an empty output box (chapter 10's model.summary() had one)."""
    problems = [f"{name}: empty output under {code!r}" for name in PAGES
                for code in book_survey.visit(width, name).dom["emptyOutputs"]]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- MathJax menu
def test_maths_menu_opens_from_the_keyboard(chromium, book_site):
    """MathJax's menu (loaded on first use) opens from the keyboard: Tab to an equation, then
    Space, as with MathJax's own menu."""
    context = chromium.new_context(viewport=DESKTOP)
    page = _open(context, book_site, "book/ch05_loss")
    page.wait_for_function("() => document.querySelector('mjx-container[tabindex=\"0\"]')")
    assert page.evaluate("() => !(window.MathJax._.ui && window.MathJax._.ui.menu)"), \
        "the menu should not be loaded before a reader asks for it"
    page.locator("mjx-container").first.focus()
    for _ in range(40):                   # Tab from the first equation to another one
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "MJX-CONTAINER":
            break
    assert page.evaluate("() => document.activeElement.tagName") == "MJX-CONTAINER", \
        "Tab does not reach the equations"
    page.keyboard.press("Space")
    menu = page.locator(".CtxtMenu_Menu")
    menu.wait_for(state="visible", timeout=15_000)
    assert "Show Math As" in menu.inner_text()
    page.keyboard.press("Escape")
    context.close()


# --------------------------------------------------------------------------- records
def _record(what: str, width: str, data) -> None:
    """Keep the measured figures for the report (artifacts/presentation.json)."""
    path = SCREENSHOT_DIR.parent / "presentation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.loads(path.read_text()) if path.is_file() else {}
    record.setdefault(what, {})[width] = data
    path.write_text(json.dumps(record, indent=1, sort_keys=True))
