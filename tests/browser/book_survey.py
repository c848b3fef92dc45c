"""One visit per page and screen width, shared by the browser tests of the built book.

Opening a chapter and waiting for MathJax takes about a second, and the checks of a page are
many (links, maths, figures, code, width, weight, ...). Instead of opening every page again for
every check, the session visits each page of the table of contents once per width (a laptop,
1280x800, and a phone, 390x844), collects in that one visit everything the checks need
(:class:`PageVisit`), and the tests assert on these records. A second language or more pages
add visits, not page loads per test.

A visit records what went wrong while the page loaded (console and script errors, failed
requests, requests to any host but localhost), and on the laptop what the page weighs with the
browser cache off. Figures are measured in the page: each SVG is laid out in a hidden box to
find its smallest text as shown and any text that overlaps other text; on the phone, figures
shown smaller than their natural size are opened with a tap and measured in the zoom dialog.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from browser_support import (DESKTOP, PHONE, SCREENSHOT_DIR, WAIT_FOR_MATHS_JS, PageMonitor)

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

# Everything about a loaded page that the checks need, in one evaluation.
VISIT_JS = """
() => {
  const main = document.querySelector('main') || document.body;
  const text = (e) => (e ? e.textContent.trim() : '');

  // Images: loaded, described, how large they are shown.
  const images = [...document.querySelectorAll('img')].map(img => ({
    src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
    id: img.id || (img.closest('[id]') || {}).id || '',
    complete: img.complete, natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width,
    inMain: !!img.closest('main'), inLaunch: !!img.closest('.exercise-launch'),
    zoomable: img.classList.contains('course-zoomable')}));

  // The text a reader sees, minus code, outputs and typeset maths.
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .cell_output, .highlight, '
                         + 'mjx-assistive-mml').forEach(e => e.remove());

  // Code and printed output: nothing clipped; wrapped lines break where a reader would.
  const clipped = [...main.querySelectorAll('pre')]
    .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 90));
  const badBreaks = [];
  const range = document.createRange();
  const codeLines = main.querySelectorAll('div.highlight span.line');
  for (const line of codeLines) {
    if (line.getClientRects().length === 0 || line.getBoundingClientRect().height < 30) continue;
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode())
      for (let i = 0; i < node.length; i++) chars.push([node, i]);
    const all = chars.map(([node, i]) => node.data[i]).join('');
    const style = getComputedStyle(line);
    const room = line.clientWidth - parseFloat(style.paddingLeft);
    let top = null, charWidth = 0;
    chars.forEach(([node, i], k) => {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || node.data[i] === '\\n') return;
      charWidth = Math.max(charWidth, rect.width);
      if (top !== null && rect.top > top + 2 && /\\w/.test(all[k - 1] || '') && /\\w/.test(all[k])) {
        // A break inside a word or name: only when the whole token is wider than the room a
        // continuation line has (nothing else could be done).
        const start = all.slice(0, k).search(/\\S*$/);
        const end = k + all.slice(k).search(/\\s|$/);
        if ((end - start) * charWidth <= room) badBreaks.push(all.trim().slice(0, 90));
      }
      top = rect.top;
    });
  }

  // Width: nothing wider than the screen; wide equations scroll in their own box, with a cue.
  const wide = [...main.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('div.math')
             && getComputedStyle(e).position !== 'fixed';
    }).slice(0, 3).map(e => e.tagName + '.' + e.className + ': ' + text(e).slice(0, 50));
  // (The element that scrolls is MathJax's container, or the math box when not typeset.)
  const equations = [...main.querySelectorAll('div.math')].map(box => {
    const scroller = box.querySelector(':scope > mjx-container') || box;
    return {
      fits: scroller.scrollWidth <= scroller.clientWidth + 1
            && box.scrollWidth <= box.clientWidth + 1,
      scrolls: ['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX),
      cue: !!(box.nextElementSibling && box.nextElementSibling.classList.contains('course-math-hint')),
      tex: (box.querySelector('mjx-assistive-mml') || box).textContent.slice(0, 40)};
  });

  // Output boxes with nothing in them.
  const emptyOutputs = [...main.querySelectorAll('.cell_output > .output')]
    .filter(o => o.offsetParent !== null && !o.textContent.trim()
                 && !o.querySelector('img, svg, video, canvas, iframe'))
    .map(o => text(o.closest('.cell').querySelector('pre')).slice(0, 60));

  // Icons drawn by the icon fonts.
  const icons = [...document.querySelectorAll('[class*="fa-"]')]
    .map(e => getComputedStyle(e, '::before').content)
    .filter(c => c && c !== 'none' && c !== 'normal');

  const caption = document.querySelector('figcaption p') || document.querySelector('figcaption');
  return {
    images,
    scriptSources: [...document.querySelectorAll('script[src]')].map(e => e.src),
    prose: clone.textContent,
    links: [...document.querySelectorAll('a[href]')].map(a => ({href: a.href,
             raw: a.getAttribute('href'), text: a.textContent.trim().slice(0, 60)})),
    prev: [...document.querySelectorAll('a.left-prev')].map(a => a.href),
    next: [...document.querySelectorAll('a.right-next')].map(a => a.href),
    ids: [...document.querySelectorAll('[id], [name]')].flatMap(e => [e.id, e.getAttribute('name')])
           .filter(Boolean),
    code: {clipped, badBreaks: [...new Set(badBreaks)], lines: codeLines.length},
    overflow: document.documentElement.scrollWidth - window.innerWidth, wide, equations,
    emptyOutputs, icons,
    captionPx: caption ? parseFloat(getComputedStyle(caption).fontSize) : null,
    title: text(document.querySelector('article.bd-article h1')),
    figureNumbers: [...document.querySelectorAll('figcaption .caption-number')].map(text),
    equationNumbers: [...document.querySelectorAll('div.math .eqno')].map(e => ({
      number: e.firstChild.textContent.trim(),
      anchor: decodeURIComponent((e.querySelector('a.headerlink') || {hash: ''}).hash.slice(1))})),
    equationRefs: [...document.querySelectorAll("a.reference[href*='#equation']")]
                    .map(a => ({text: text(a), href: a.href})),
  };
}
"""

# The page's figures (images in the article, not the exercise buttons), each fetched and laid
# out in a hidden box at the width it is shown (or its natural width when a tap shows it full
# size): its smallest text in CSS px (each text artist is one <g id="text_N">; its largest glyph
# is its size, sub- and superscripts are smaller by design), and text that overlaps other text
# or leaves the figure.
FIGURES_JS = """
async () => {
  const images = [...document.querySelectorAll('main img')].filter(i => !i.closest('.exercise-launch'));
  const measure = (svgText, shownWidth) => {
    const holder = document.createElement('div');
    holder.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden;pointer-events:none';
    holder.innerHTML = svgText.slice(svgText.indexOf('<svg'));
    document.body.appendChild(holder);
    const svg = holder.querySelector('svg');
    svg.style.width = shownWidth + 'px';
    svg.style.height = 'auto';
    const scale = shownWidth / svg.viewBox.baseVal.width;
    const box = svg.getBoundingClientRect();
    const groups = [...svg.querySelectorAll('g[id^="text_"]')].filter(g => g.querySelector('text'));
    const sizes = groups.map(g => Math.max(...[...g.querySelectorAll('text')].map(t =>
        parseFloat((t.getAttribute('style') || '').match(/font-size:\\s*([\\d.]+)px/)?.[1] || 0))))
      .filter(s => s > 0);
    // A text's box is its font's line box (ascent + descent): trim it to about the ink.
    const rects = groups.map(g => {
      const parts = [...g.querySelectorAll('text')].map(t => t.getBoundingClientRect())
        .filter(r => r.width > 0);
      if (!parts.length) return null;
      return {left: Math.min(...parts.map(r => r.left + 1)),
              right: Math.max(...parts.map(r => r.right - 1)),
              top: Math.min(...parts.map(r => r.top + 0.2 * r.height)),
              bottom: Math.max(...parts.map(r => r.bottom - 0.15 * r.height)),
              text: g.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40)};
    }).filter(Boolean);
    const overlaps = [], outside = [];
    rects.forEach((a, i) => {
      if (a.left < box.left - 1 || a.right > box.right + 1 || a.top < box.top - 1
          || a.bottom > box.bottom + 1) outside.push(a.text);
      for (const b of rects.slice(i + 1)) {
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 1) overlaps.push(`${a.text} / ${b.text}`);
      }
    });
    holder.remove();
    return {minTextPx: sizes.length ? Math.min(...sizes) * scale : null,
            texts: svg.querySelectorAll('text').length, overlaps, outside};
  };
  return Promise.all(images.map(async (img) => {
    const src = img.currentSrc || img.src;
    const figure = {src, name: src.split('/').pop().slice(0, 16),
                    svg: src.split('?')[0].endsWith('.svg'), natural: img.naturalWidth,
                    shown: img.getBoundingClientRect().width,
                    zoomable: img.classList.contains('course-zoomable')};
    if (!figure.svg) return figure;
    const response = await fetch(src);
    figure.status = response.status;
    if (response.ok) {
      const shown = figure.zoomable ? figure.natural : figure.shown;
      Object.assign(figure, measure(await response.text(), shown), {measuredAt: shown});
    }
    return figure;
  }));
}
"""


@dataclass
class PageVisit:
    """What one page showed at one width."""

    name: str
    width: str
    status: int
    maths: dict
    dom: dict
    figures: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)    # errors and requests while loading
    bytes: int | None = None                             # everything loaded (laptop only)
    screenshot: Path | None = None


class BookSurvey:
    """Visits the built book's pages, once per width, on first use."""

    def __init__(self, browser, site, pages, screenshot_pages=(), screenshot_dir=SCREENSHOT_DIR):
        self.browser, self.site, self.pages = browser, site, list(pages)
        self.screenshot_pages = set(screenshot_pages)
        self.screenshot_dir = Path(screenshot_dir)
        self._visits: dict[str, dict[str, PageVisit]] = {}

    def visits(self, width: str) -> dict[str, PageVisit]:
        if width not in self._visits:
            self._visits[width] = self._survey(width)
        return self._visits[width]

    def visit(self, width: str, name: str) -> PageVisit:
        return self.visits(width)[name]

    # ------------------------------------------------------------------ one width
    def _survey(self, width: str) -> dict[str, PageVisit]:
        phone = width == "phone"
        context = self.browser.new_context(viewport=WIDTHS[width], is_mobile=phone,
                                           has_touch=phone, device_scale_factor=1)
        context.set_default_timeout(30_000)
        if self.screenshot_pages:
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.screenshot_dir.glob(f"book_*-{width}.png"):
                stale.unlink()
        try:
            return {name: self._visit(context, name, width) for name in self.pages}
        finally:
            context.close()

    def _visit(self, context, name: str, width: str) -> PageVisit:
        laptop = width == "desktop"
        page = context.new_page()
        monitor = PageMonitor()
        monitor.attach(page)
        sizes: dict[str, int] = {}
        if laptop:       # weigh the page as a first-time reader gets it: no browser cache
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            page.on("response", lambda response: sizes.__setitem__(
                response.url, _body_size(response)))
        response = page.goto(self.site.page_url(name), wait_until="load")
        maths = page.evaluate(WAIT_FOR_MATHS_JS)
        page.evaluate("() => Promise.all([...document.images].map(i => (i.loading = 'eager', "
                      "i.decode().catch(() => 0))))")
        if laptop:
            page.wait_for_load_state("networkidle")
        else:
            page.wait_for_timeout(100)      # course.js marks figures shown smaller as zoomable
        visit = PageVisit(name, width, response.status if response else 0, maths,
                          page.evaluate(VISIT_JS))
        visit.figures = self._figures(page, check_layout=laptop)
        if name in self.screenshot_pages:
            page_file = name.rsplit("/", 2)[-2:]      # zh/book/ch03_x -> book_ch03_x
            visit.screenshot = self.screenshot_dir / f"{'_'.join(page_file)}-{width}.png"
            page.screenshot(path=str(visit.screenshot), full_page=True)
        visit.problems = monitor.problems()
        visit.bytes = sum(sizes.values()) if laptop else None
        page.close()
        return visit

    @staticmethod
    def _figures(page, check_layout: bool) -> list[dict]:
        """Every figure of the page's article: its file, and its text as the reader sees it.

        A figure a tap opens full size is measured at its natural width; the first such
        figure of the page is tapped, and the zoom dialog must show it at that width
        (``zoomShown``: its width there, None when the dialog did not open).
        """
        figures = page.evaluate(FIGURES_JS)
        zoomable = [f for f in figures if f.get("zoomable")]
        if zoomable:
            figure = zoomable[0]
            image = page.locator(f"main img[src$='{figure['src'].rsplit('/', 1)[-1]}']").first
            dialog = page.locator("dialog.course-zoom[open] img")
            figure["zoomShown"] = None      # the dialog did not open: the figure check fails
            # A second tap when the first opened nothing: under load in CI the page can still
            # shift between Playwright's hit test and its tap (seen once, on a phone page).
            for wait_ms in (10_000, 30_000):
                if not page.locator("dialog.course-zoom[open]").count():
                    image.click()
                try:
                    dialog.wait_for(timeout=wait_ms)
                except PlaywrightTimeoutError:
                    continue
                figure["zoomShown"] = dialog.evaluate("img => img.getBoundingClientRect().width")
                page.locator("dialog.course-zoom button").click()
                break
        if not check_layout:
            for figure in figures:
                figure.pop("overlaps", None), figure.pop("outside", None)
        return figures


def screenshot_pages(site, pages) -> list[str]:
    """Three chapters to photograph: backpropagation (its graph was unreadable on a phone),
    then the chapters with the most maths and the most figures (the next best when one is
    already chosen)."""
    chapters = [p for p in pages if re.fullmatch(r"book/ch\d\d_\w+", p)]

    def count(page, pattern):
        return len(re.findall(pattern, (site.directory / f"{page}.html").read_text("utf-8")))

    chosen = ["book/ch06_backprop"]
    for pattern in (r'class="math', r"<img "):
        ranked = sorted(chapters, key=lambda p: -count(p, pattern))
        chosen.append(next(p for p in ranked if p not in chosen))
    return chosen


def _body_size(response) -> int:
    length = response.headers.get("content-length")
    if length is not None:
        return int(length)
    try:
        return len(response.body())
    except Exception:        # redirects and aborted requests have no body
        return 0
