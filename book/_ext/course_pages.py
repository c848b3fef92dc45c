"""Sphinx extension for how the course book's pages look and how much they weigh.

Enabled from ``_config.yml`` next to ``course_book``. It adds the book's own stylesheet and
script (``book/_static/course.css``, ``course.js``) and:

1. **Code that stays in the column.** Highlighted code and printed output are written one
   ``<span class="line">`` per source line, carrying the line's indentation, so that a long
   line wraps (at a space where it can) with a hanging indent under its own start instead of
   being cut off at the column's edge or scrolling sideways. Copying is unchanged.
2. **Lighter pages.** The theme loads Font Awesome twice: its web fonts (through its CSS) and
   a 1.5 MB script that redraws every icon as SVG. The script is dropped (the fonts draw the
   same icons), and the fonts are cut down to the icons the built book uses
   (:func:`subset_icon_fonts`). The theme's and extensions' stylesheets lose the rules that
   can match nothing in the book (:func:`purge_stylesheets`). Sphinx's search scripts and the 170 kB search index are loaded
   only by the search page (the theme loads them on every page for a search-as-you-type
   option the book does not use).
3. **Figures redrawn when their style changes.** A chapter calls
   ``nnlib.plot.use_book_style()`` in a hidden first cell. The build appends a fingerprint of
   ``nnlib/plot.py`` to that call, and re-reads those pages when the file changed since the
   last build: editing the style misses the execution cache (jupyter-cache), and the figures
   are drawn again (:func:`fingerprint_book_style`, :func:`reread_when_style_changes`). When
   the book's own CSS, script or template change, every page is written again
   (:func:`rewrite_when_assets_change`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
from html import unescape
from pathlib import Path

from pygments.formatters import HtmlFormatter
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "_static"
TEMPLATES = HERE / "templates"

#: Scripts the theme puts on every page that the book's pages do not need.
FONT_AWESOME_SCRIPT = "_static/scripts/fontawesome.js"
SEARCH_SCRIPTS = ("_static/searchtools.js", "_static/language_data.js", "searchindex.js")

#: Font Awesome faces declared by the theme's CSS, and the subset files written for them
#: (WOFF: fontTools writes it without extra dependencies). :func:`purge_stylesheets` points
#: the theme's faces at the subsets, so the full fonts are never loaded.
ICON_FONTS = {
    "fa-solid-900": "course-fa-solid-900.woff",
    "fa-regular-400": "course-fa-regular-400.woff",
    "fa-brands-400": "course-fa-brands-400.woff",
}
ICON_CLASS = re.compile(r"\bfa-[a-z0-9]+(?:-[a-z0-9]+)*")
CSS_CODEPOINT = re.compile(r'content:\s*"\\([0-9a-f]{4,5})"|--[\w-]+:\s*"\\([0-9a-f]{4,5})"')


# --------------------------------------------------------------------------- code lines
#: A highlighted line's leading spaces, bare or alone in Pygments' whitespace span.
LEADING_SPACES = re.compile(r'(<span class="w">)?(?P<spaces> +)(?(1)</span>)')


class LineSpanFormatter(HtmlFormatter):
    """Pygments' HTML formatter with every line in ``<span class="line">``.

    A line's leading spaces are given as ``style="--indent: N"`` and wrapped in
    ``<span class="indent">``, so that course.css can draw the indentation at most a third of
    the column wide and indent the line's wrapped continuation lines four columns past its
    start. The spaces stay in the text: copying the code copies them.
    """

    def wrap(self, source):
        return super().wrap(self._line_spans(source))

    @staticmethod
    def _line_spans(source):
        for kind, html in source:
            if kind != 1:
                yield kind, html
                continue
            text = unescape(re.sub(r"<[^>]*>", "", html))
            indent = len(text) - len(text.lstrip(" "))
            body, newline = (html[:-1], "\n") if html.endswith("\n") else (html, "")
            style = f' style="--indent: {indent}"' if indent else ""
            leading = LEADING_SPACES.match(body)
            if indent and leading and len(leading.group("spaces")) == indent:
                body = (f'<span class="indent">{leading.group("spaces")}</span>'
                        f'{body[leading.end():]}')
            yield 1, f'<span class="line"{style}>{body}{newline}</span>'


def use_line_spans(app) -> None:
    highlighter = getattr(app.builder, "highlighter", None)
    if highlighter is not None and highlighter.dest == "html":
        highlighter.formatter = LineSpanFormatter


# --------------------------------------------------------------------------- page assets
def drop_assets(html: str, paths) -> str:
    """Remove ``<script src=...>`` tags whose source ends with one of ``paths`` (template filter)."""
    for path in paths or ():
        html = re.sub(r'\s*<script[^>]*\bsrc="[^"]*%s(?:\?[^"]*)?"[^>]*>\s*</script>'
                      % re.escape(path), "", html)
    return html


def register_template_filter(app) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["course_drop_assets"] = drop_assets


def choose_dropped_assets(app, pagename, templatename, context, doctree) -> None:
    dropped = [FONT_AWESOME_SCRIPT]
    search_as_you_type = str(context.get("theme_search_as_you_type", "false")).lower() == "true"
    if pagename != "search" and not search_as_you_type:
        dropped += SEARCH_SCRIPTS
    context["course_dropped_assets"] = dropped


# --------------------------------------------------------------------------- icon fonts
def used_icon_codepoints(outdir: Path) -> set[int]:
    """Code points of every Font Awesome icon the built book can show.

    The icon classes named in any page or script (``fa-bars``, ``fa-github``, ...) are looked up
    in the theme's CSS (``.fa-bars:before{content:"\\f0c9"}``); icons the CSS itself draws
    (admonition and link markers, ``--pst-icon-*`` variables) are kept too.
    """
    css = (outdir / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    names: set[str] = set()
    for path in list(outdir.rglob("*.html")) + list((outdir / "_static").rglob("*.js")):
        if "mathjax" in path.parts:
            continue
        names.update(ICON_CLASS.findall(path.read_text(encoding="utf-8", errors="replace")))
    codepoints: set[int] = set()
    rule = re.compile(r"([^{}]+)\{([^{}]*)\}")
    for selectors, body in rule.findall(css):
        found = CSS_CODEPOINT.findall(body)
        if not found:
            continue
        icon_rule = re.findall(r"\.(fa-[a-z0-9-]+):(?:before|after)", selectors)
        if icon_rule and not names.intersection(icon_rule):
            continue
        codepoints.update(int(a or b, 16) for a, b in found)
    return codepoints


def subset_icon_fonts(app, exception) -> None:
    """Write the Font Awesome fonts cut down to the icons the book uses (about 10 kB in all)."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset
    from fontTools.ttLib import TTFont

    outdir = Path(app.outdir)
    webfonts = outdir / "_static" / "vendor" / "fontawesome" / "webfonts"
    if not webfonts.is_dir():
        raise ExtensionError(f"course_pages: no Font Awesome fonts in {webfonts}; has the theme "
                             "changed how it ships its icons?")
    codepoints = used_icon_codepoints(outdir)
    for stem, target in ICON_FONTS.items():
        source = webfonts / f"{stem}.ttf"
        if not source.is_file():
            raise ExtensionError(f"course_pages: {source} is missing")
        font = TTFont(source)
        cmap = font.getBestCmap()
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(codepoints & set(cmap)) or [0x20])
        subsetter.subset(font)
        font.flavor = "woff"
        font.save(webfonts / target)


# --------------------------------------------------------------------------- stylesheets
#: Stylesheets of the theme and extensions (paths under _static, globs) that
#: :func:`purge_stylesheets` cuts down to the rules the built book can use.
PURGED_STYLESHEETS = ("styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css",
                      "sphinx-design.min.css", "mystnb.*.css")
#: Classes that scripts build from pieces (Bootstrap's `bs-${NAME}-auto` for tooltips and
#: popovers), so they appear in no file as a whole word.
COMPOSED_CLASSES = frozenset({"bs-tooltip-auto", "bs-popover-auto"})
CSS_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
CSS_LOGICAL_PSEUDO = re.compile(r":(?:not|is|where|has|-webkit-any|-moz-any)\(")
CSS_GROUPING_AT_RULE = re.compile(r"@(?:media|supports|layer|container)\b")


def book_words(outdir: Path) -> set[str]:
    """Every word of the built pages and of their scripts (MathJax aside): a superset of the
    class names that can ever be on an element."""
    words: set[str] = set(COMPOSED_CLASSES)
    paths = list(outdir.rglob("*.html")) + [path for path in (outdir / "_static").rglob("*.js")
                                            if "mathjax" not in path.parts]
    for path in paths:
        words.update(re.findall(r"[A-Za-z_][\w-]*", path.read_text(encoding="utf-8",
                                                                   errors="replace")))
    return words


def _split_top_level(text: str, separator: str = ",") -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _without_logical_pseudo_classes(selector: str) -> str:
    """The selector without :not(...), :is(...), :where(...), :has(...): a class inside them
    need not be on the page for the selector to match (:not(.absent) matches everything)."""
    while match := CSS_LOGICAL_PSEUDO.search(selector):
        end, depth = match.end(), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(selector[end], 0)
            end += 1
        selector = selector[:match.start()] + selector[end:]
    return selector


def selector_can_match(selector: str, words: set[str]) -> bool:
    """False only when the selector needs a class that no page or script of the book has."""
    required = CSS_CLASS.findall(re.sub(r"\[[^\]]*\]", "", _without_logical_pseudo_classes(selector)))
    return all(name in words for name in required)


def _block_end(css: str, start: int) -> int:
    """Index just past the "}" closing the block whose "{" is at ``start`` (strings skipped)."""
    depth, i, quote = 0, start, None
    while i < len(css):
        char = css[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ExtensionError("course_pages: unbalanced braces in a stylesheet")


def purge_css(css: str, words: set[str]) -> str:
    """The stylesheet without the selectors that can match nothing in the book.

    A rule keeps the selectors of its list that :func:`selector_can_match`; it goes when none
    is left. @media/@supports blocks are purged inside and dropped when empty; other
    at-rules (@font-face, @keyframes, @charset) are kept as they are. Comments go, except
    licence comments (``/*! ... */``).
    """
    charset = re.match(r'\s*(@charset "[^"]*";)', css)
    if charset:                            # it must stay the first thing in the file
        css = css[charset.end():]
    licences = re.findall(r"/\*!.*?\*/", css, flags=re.S)
    rules = _purge_rules(re.sub(r"/\*.*?\*/", "", css, flags=re.S), words)
    return "\n".join(([charset.group(1)] if charset else []) + licences + [rules])


def _purge_rules(css: str, words: set[str]) -> str:
    out, i = [], 0
    while i < len(css):
        brace, semicolon = css.find("{", i), css.find(";", i)
        if brace < 0:
            out.append(css[i:])
            break
        if 0 <= semicolon < brace and css[i:semicolon].lstrip().startswith("@"):
            out.append(css[i:semicolon + 1])          # @charset "UTF-8"; @import ...;
            i = semicolon + 1
            continue
        end = _block_end(css, brace)
        head, body = css[i:brace], css[brace + 1:end - 1]
        if head.lstrip().startswith("@"):
            if CSS_GROUPING_AT_RULE.match(head.lstrip()):
                inner = _purge_rules(body, words)
                if inner.strip():
                    out.append(f"{head}{{{inner}}}")
            else:
                out.append(f"{head}{{{body}}}")
        else:
            kept = [s for s in _split_top_level(head) if selector_can_match(s, words)]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
        i = end
    return "".join(out)


def purge_stylesheets(app, exception) -> None:
    """Cut the theme's and extensions' stylesheets down to what the built book can use
    (the theme's alone is 400 kB, mostly Bootstrap utilities and 1,900 unused icon rules), and
    point Font Awesome's faces at the cut-down icon fonts."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    words = book_words(outdir)
    for pattern in PURGED_STYLESHEETS:
        for path in (outdir / "_static").glob(pattern):
            css = purge_css(path.read_text(encoding="utf-8"), words)
            for stem, subset in ICON_FONTS.items():
                css = re.sub(rf"url\((?:\.\./)?vendor/fontawesome/webfonts/{stem}\.woff2\)"
                             rf'\s*format\("woff2"\),\s*url\([^)]*{stem}\.ttf\)\s*'
                             rf'format\("truetype"\)',
                             f'url(../vendor/fontawesome/webfonts/{subset}) format("woff")', css)
                if f"{stem}.woff2" in css:
                    raise ExtensionError(f"course_pages: {path.name} declares the full Font "
                                         f"Awesome font {stem} in a form this extension does not "
                                         "know; has the theme changed how it ships its icons?")
            path.write_text(css, encoding="utf-8")


# --------------------------------------------------------------------------- figure style
#: The hidden first cell's call (alone on its line) that sets the book's figure style.
#: A translated edition gives it arguments (book/_ext/course_i18n.py).
STYLE_CALL = re.compile(r"^use_book_style\((?P<arguments>[^\n]*)\)[ \t]*$", re.M)


def book_style_source() -> Path:
    """nnlib/plot.py as the chapters' kernels import it."""
    spec = importlib.util.find_spec("nnlib.plot")
    if spec is None or not spec.origin:
        raise ExtensionError("course_pages: nnlib.plot cannot be imported; install the course "
                             "(bash scripts/setup-env)")
    return Path(spec.origin)


def book_style_digest() -> str:
    return hashlib.sha256(book_style_source().read_bytes()).hexdigest()[:16]


def fingerprint_book_style(app, docname, source) -> None:
    """``use_book_style()`` becomes ``use_book_style()  # nnlib/plot.py <sha256 prefix>``, so
    that jupyter-cache's hash of the chapter's code changes with the style."""
    if STYLE_CALL.search(source[0]):
        digest = book_style_digest()
        source[0] = STYLE_CALL.sub(
            lambda call: f"use_book_style({call['arguments']})  # nnlib/plot.py {digest}",
            source[0])


def _changed_since_last_build(env, attribute: str, digest: str) -> bool:
    """True (and the new digest recorded) when ``digest`` differs from the last build's."""
    if getattr(env, attribute, None) == digest:
        return False
    setattr(env, attribute, digest)
    return True


def reread_when_style_changes(app, env, added, changed, removed) -> list[str]:
    """The pages that call use_book_style(), when nnlib/plot.py changed since the last build."""
    if not _changed_since_last_build(env, "course_style_digest", book_style_digest()):
        return []
    pages = []
    for docname in sorted(env.found_docs - added - changed):
        path = Path(env.doc2path(docname))
        if path.is_file() and STYLE_CALL.search(path.read_text(encoding="utf-8")):
            pages.append(docname)
    return pages


def assets_digest() -> str:
    """A fingerprint of the book's own stylesheet, script, page templates and extensions."""
    digest = hashlib.sha256()
    for path in sorted(list(STATIC.rglob("*")) + list(TEMPLATES.rglob("*"))
                       + list(HERE.glob("*.py"))):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def rewrite_when_assets_change(app, env, added, changed, removed) -> list[str]:
    """Every page, when course.css, course.js, the templates or the book's extensions changed
    since the last build.

    Sphinx copies static files only when it writes pages ("no targets are out of date" skips
    both), and each page links its scripts with a checksum (``course.js?v=...``).
    """
    if not _changed_since_last_build(env, "course_assets_digest", assets_digest()):
        return []
    return sorted(env.found_docs - added - changed)


# --------------------------------------------------------------------------- set-up
def add_static_files(app, config) -> None:
    config.html_static_path.append(str(STATIC))
    config.templates_path.append(str(TEMPLATES))


def setup(app):
    app.connect("config-inited", add_static_files)
    app.connect("source-read", fingerprint_book_style)
    app.connect("env-get-outdated", reread_when_style_changes)
    app.connect("env-get-outdated", rewrite_when_assets_change)
    app.connect("builder-inited", use_line_spans)
    app.connect("builder-inited", register_template_filter)
    app.connect("html-page-context", choose_dropped_assets)
    app.connect("build-finished", subset_icon_fonts)
    app.connect("build-finished", purge_stylesheets)
    app.add_css_file("course.css")
    app.add_js_file("course.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
