"""The book reads like a finished textbook, on a laptop (1280x800) and on a phone (390x844).

Each test runs at both widths unless it is about one of them: chapter-relative numbering,
figures (SVG, text at least as large as the figure captions, full size on tap on a phone), code
and output inside the column, no page wider than a phone's screen (wide equations scroll in
their own box, with a cue), the glossary's A-Z and pinyin indexes, clean search results in one
search box, "Open in JupyterLab" for a JupyterLab on any port (and the README's command to start
one, as root too), and pages under 2 MB with every icon still drawn.
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

from browser_support import (DESKTOP, PHONE, ROOT, SCREENSHOT_DIR, WAIT_FOR_MATHS_JS, free_port,
                             toc_files)
from test_jupyterlab import _wait_http, jupyterlab  # noqa: F401 (the JupyterLab fixture)

pytestmark = pytest.mark.browser

PAGES = toc_files()
CHAPTERS = [p for p in PAGES if re.fullmatch(r"book/ch\d\d_\w+", p)]
NUMBERED = [p for p in CHAPTERS if not p.startswith("book/ch00")]
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
PAGE_BUDGET = 2_000_000          # bytes, everything a chapter page loads (uncompressed)


def chapter_number(page: str) -> int:
    """The number the book gives a chapter: its place among the numbered chapters."""
    return NUMBERED.index(page) + 1


@pytest.fixture(params=list(WIDTHS), scope="module")
def width(request):
    return request.param


@pytest.fixture(scope="module")
def context(chromium, width):
    phone = width == "phone"
    ctx = chromium.new_context(viewport=WIDTHS[width], is_mobile=phone, has_touch=phone)
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
def test_numbers_are_chapter_relative(context, book_site):
    """Chapter 6's title, figures, equations and their references are numbered 6.x."""
    page = _open(context, book_site, "book/ch06_backprop")
    n = chapter_number("book/ch06_backprop")
    title = page.inner_text("article.bd-article h1").strip()
    assert title.startswith(f"{n}. "), title
    figures = page.eval_on_selector_all("figcaption .caption-number",
                                        "els => els.map(e => e.textContent.trim())")
    equations = page.eval_on_selector_all(
        "div.math .eqno", "els => els.map(e => e.firstChild.textContent.trim())")
    refs = page.eval_on_selector_all("a.reference span.eqno, a.reference[href*='#equation']",
                                     "els => els.map(e => e.textContent.trim())")
    assert figures and equations, (figures, equations)
    assert figures == [f"Fig. {n}.{i}" for i in range(1, len(figures) + 1)], figures
    assert equations == [f"({n}.{i})" for i in range(1, len(equations) + 1)], equations
    assert all(re.fullmatch(rf"\({n}\.\d+\)", r) for r in refs), refs
    page.close()


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
FIGURE_TEXT_JS = """
async ([svgText, renderedWidth]) => {
  // Smallest text of a matplotlib SVG figure shown renderedWidth px wide, in CSS px. Each text
  // artist is one <g id="text_N">; its largest glyph size is its size (sub- and superscripts
  // of the same label are smaller by design, as in the body text).
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  const viewBox = svg.getAttribute('viewBox').split(/\\s+/).map(Number);
  const scale = renderedWidth / viewBox[2];
  const sizes = [...svg.querySelectorAll('g[id^="text_"]')].map(g =>
      Math.max(...[...g.querySelectorAll('text')].map(t =>
          parseFloat((t.getAttribute('style') || '').match(/font-size:\\s*([\\d.]+)px/)?.[1] || 0))))
      .filter(s => s > 0);
  const textCount = svg.querySelectorAll('text').length;
  return {min: sizes.length ? Math.min(...sizes) * scale : null, texts: textCount,
          naturalWidth: parseFloat(svg.getAttribute('width')) * 4 / 3};
}
"""

FIGURES_JS = """
() => [...document.querySelectorAll('main img')]
  .filter(img => !img.closest('.exercise-launch'))
  .map(img => ({src: img.currentSrc || img.src, shown: img.getBoundingClientRect().width,
                natural: img.naturalWidth, zoomable: img.classList.contains('course-zoomable'),
                caption: getComputedStyle(document.querySelector('figcaption') || document.body)
                           .fontSize}))
"""


def _caption_px(page) -> float:
    return page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('figcaption p') || document.querySelector('figcaption')).fontSize)""")


def test_figures_are_svg_with_text_as_large_as_captions(context, book_site, width):
    """Every chapter figure is SVG; its smallest text, as shown (on a phone: full size after a
    tap), is at least the caption's size."""
    problems, measured = [], []
    for name in CHAPTERS:
        page = _open(context, book_site, name, maths=False)
        page.evaluate("() => Promise.all([...document.images].map(i => i.decode().catch(() => 0)))")
        page.wait_for_timeout(50)
        caption = _caption_px(page) if page.locator("figcaption").count() else 16.0
        for fig in page.evaluate(FIGURES_JS):
            src = fig["src"]
            short = src.rsplit("/", 1)[-1][:16]
            if not src.split("?")[0].endswith(".svg"):
                problems.append(f"{name}: figure {short} is not SVG ({src[:40]})")
                continue
            status, body = book_site.fetch(src)
            assert status == 200, src
            shown = fig["shown"]
            if fig["zoomable"]:
                # On a phone the figure opens full size on a tap: check the dialog does so.
                page.locator(f"main img[src$='{src.rsplit('/', 1)[-1]}']").first.click()
                dialog = page.locator("dialog.course-zoom[open] img")
                dialog.wait_for()
                shown = dialog.evaluate("img => img.getBoundingClientRect().width")
                page.locator("dialog.course-zoom button").click()
            elif width == "phone" and fig["shown"] + 2 < fig["natural"]:
                problems.append(f"{name}: {short} is shown smaller than its natural size but "
                                "cannot be opened full size")
            info = page.evaluate(FIGURE_TEXT_JS, [body.decode("utf-8"), shown])
            if info["texts"] and info["min"] is None:
                problems.append(f"{name}: {short} has text outside matplotlib's text groups")
            if info["min"] is not None:
                measured.append(info["min"])
                if info["min"] < caption - 0.25:
                    problems.append(f"{name}: {short} smallest text {info['min']:.1f} px "
                                    f"< caption {caption:.1f} px (shown {shown:.0f} px wide)")
        page.close()
    assert measured, "no figure text was measured"
    assert not problems, "\n".join(problems)
    _record("figure-text", width, {"figures": len(measured), "smallest_px": min(measured)})


# --------------------------------------------------------------------------- code
CODE_JS = """
() => {
  const main = document.querySelector('main');
  const clipped = [...main.querySelectorAll('pre')]
    .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 90));
  // Where a wrapped line breaks: the character before each visual break must be a space when
  // the line has spaces to break at (a reader breaks there, not inside a name).
  const badBreaks = [];
  let wrapped = 0;
  for (const line of main.querySelectorAll('div.highlight span.line')) {
    if (line.getClientRects().length === 0 || line.getBoundingClientRect().height < 30) continue;
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode())
      for (let i = 0; i < node.length; i++) chars.push([node, i]);
    const range = document.createRange();
    let top = null, breaks = 0;
    chars.forEach(([node, i], k) => {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || node.data[i] === '\\n') return;
      if (top !== null && rect.top > top + 2) {
        breaks++;
        const before = chars[k - 1][0].data[chars[k - 1][1]];
        const text = line.textContent;
        const head = text.slice(0, k);
        const spaceLeft = /\\S\\s+\\S/.test(head.slice(head.search(/\\S/)));
        if (spaceLeft && !/[\\s,;(\\[{=+\\-*\\/]/.test(before))
          badBreaks.push(text.trim().slice(0, 90));
      }
      top = rect.top;
    });
    if (breaks) wrapped++;
  }
  return {clipped, badBreaks: [...new Set(badBreaks)], wrapped,
          lines: main.querySelectorAll('div.highlight span.line').length};
}
"""


@pytest.mark.parametrize("name", ["book/ch02_neuron", "book/ch06_backprop", "book/ch09_training",
                                  "book/appendix/errata"])
def test_code_and_output_stay_in_the_column(context, book_site, name):
    """No source or output line is cut off or scrolls: long lines wrap, at spaces."""
    page = _open(context, book_site, name, maths=False)
    result = page.evaluate(CODE_JS)
    page.close()
    assert result["lines"] > 20, f"{name}: code lines are not marked up as span.line"
    assert not result["clipped"], f"{name}: lines wider than their box:\n" + "\n".join(
        result["clipped"])
    assert not result["badBreaks"], f"{name}: lines wrapped inside a word:\n" + "\n".join(
        result["badBreaks"][:10])


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
def test_no_page_is_wider_than_the_screen(context, book_site, width):
    """At 390 px (and 1280 px) no page scrolls sideways; wide equations scroll in their own
    box, which says so."""
    problems = []
    for name in PAGES:
        page = _open(context, book_site, name)
        page.wait_for_timeout(100)
        state = page.evaluate("""() => ({
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            wide: [...document.querySelectorAll('main *')].filter(e => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('div.math')
                       && getComputedStyle(e).position !== 'fixed';
              }).slice(0, 3).map(e => e.tagName + '.' + e.className + ': '
                                 + e.textContent.trim().slice(0, 50)),
            equations: [...document.querySelectorAll('main div.math')].map(box => ({
                fits: box.scrollWidth <= box.clientWidth + 1,
                scrolls: getComputedStyle(box).overflowX === 'auto',
                cue: !!(box.nextElementSibling
                        && box.nextElementSibling.classList.contains('course-math-hint')),
                tex: box.textContent.slice(0, 40)}))})""")
        if state["overflow"] > 1:
            problems.append(f"{name}: the page is {state['overflow']} px wider than the screen; "
                            f"{state['wide']}")
        for eq in state["equations"]:
            if not eq["fits"] and not (eq["scrolls"] and eq["cue"]):
                problems.append(f"{name}: equation cut off without a scroll cue: {eq['tex']!r}")
        page.close()
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
        text: li.textContent, href: li.querySelector('a') && li.querySelector('a').hash}))""")
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
        if row["text"][0] >= "\u4e00":
            syllable = re.search(r" ([^ :]+)", row["text"]).group(1)
            firsts.append("".join(c for c in unicodedata.normalize("NFD", syllable)
                                  if not unicodedata.combining(c)).lower())
    assert firsts == sorted(firsts), "the pinyin index is not in pinyin order"
    page.close()


# --------------------------------------------------------------------------- search
def test_search_results_show_clean_text_in_one_search_box(context, book_site, width):
    page = context.new_page()
    page.goto(f"{book_site.url}/search.html?q=forward", wait_until="load")
    page.wait_for_selector("#search-results .search-summary", timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('#search-results li p.context')"
                           ".length >= Math.min(5, document.querySelectorAll("
                           "'#search-results li').length)", timeout=30_000)
    page.wait_for_timeout(500)
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
    assert "ch03_activations.ipynb" in page.title()
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
        _wait_http(f"http://127.0.0.1:{port}/api/status", proc, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=10) as resp:
            listing = {item["name"] for item in json.load(resp)["content"]}
        assert "ch03_activations.ipynb" in listing, listing
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --------------------------------------------------------------------------- page weight
def _weigh(context, site, name) -> dict:
    page = context.new_page()
    sizes: dict[str, int] = {}

    def on_response(response):
        try:
            sizes[response.url] = len(response.body())
        except Exception:   # redirects and aborted requests have no body
            pass

    page.on("response", on_response)
    page.goto(site.page_url(name), wait_until="load")
    page.evaluate(WAIT_FOR_MATHS_JS)
    page.evaluate("() => Promise.all([...document.images].map(i => (i.loading = 'eager', "
                  "i.decode().catch(() => 0))))")
    page.wait_for_load_state("networkidle")
    icons = page.evaluate("""() => [...document.querySelectorAll('[class*="fa-"]')]
        .filter(e => e.getBoundingClientRect().width > 0 || true)
        .map(e => getComputedStyle(e, '::before').content)
        .filter(c => c && c !== 'none' && c !== 'normal')""")
    page.close()
    return {"bytes": sum(sizes.values()), "icons": icons,
            "fontawesome_js": any("fontawesome.js" in u for u in sizes)}


def test_chapter_pages_weigh_under_2_mb_with_every_icon(chromium, book_site):
    from fontTools.ttLib import TTFont

    fonts = book_site.directory / "_static" / "vendor" / "fontawesome" / "webfonts"
    glyphs = set()
    for font in fonts.glob("course-fa-*.woff"):
        glyphs |= set(TTFont(font).getBestCmap())
    assert glyphs, "no subset icon fonts were written"
    context = chromium.new_context(viewport=DESKTOP)
    weights, problems = {}, []
    for name in CHAPTERS:
        result = _weigh(context, book_site, name)
        weights[name] = result["bytes"]
        if result["bytes"] > PAGE_BUDGET:
            problems.append(f"{name}: {result['bytes'] / 1e6:.2f} MB")
        if result["fontawesome_js"]:
            problems.append(f"{name}: still loads Font Awesome's script")
        for content in result["icons"]:
            char = json.loads(content) if content.startswith('"') else content
            if len(char) == 1 and ord(char) >= 0xE000 and ord(char) not in glyphs:
                problems.append(f"{name}: icon U+{ord(char):04X} is not in the icon fonts")
    context.close()
    _record("page-weight", "desktop", weights)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- output boxes
def test_no_empty_output_boxes(context, book_site):
    """No code cell shows an empty output box (chapter 10's model.summary() had one)."""
    problems = []
    for name in CHAPTERS:
        page = _open(context, book_site, name, maths=False)
        empty = page.evaluate("""() => [...document.querySelectorAll('main .cell_output > .output')]
            .filter(o => o.offsetParent !== null && !o.textContent.trim()
                         && !o.querySelector('img, svg, video, canvas, iframe'))
            .map(o => o.closest('.cell').querySelector('pre').textContent.slice(0, 60))""")
        problems += [f"{name}: empty output under {code!r}" for code in empty]
        page.close()
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- records
def _record(what: str, width: str, data) -> None:
    """Keep the measured figures for the report (artifacts/presentation.json)."""
    path = SCREENSHOT_DIR.parent / "presentation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.loads(path.read_text()) if path.is_file() else {}
    record.setdefault(what, {})[width] = data
    path.write_text(json.dumps(record, indent=1, sort_keys=True))
