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
   (:func:`subset_icon_fonts`). Sphinx's search scripts and the 170 kB search index are loaded
   only by the search page (the theme loads them on every page for a search-as-you-type
   option the book does not use).
"""
from __future__ import annotations

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
#: (WOFF: fontTools writes it without extra dependencies). course.css declares the subsets
#: under the same family, weight and style, after the theme's CSS, so they replace the full
#: fonts.
ICON_FONTS = {
    "fa-solid-900": "course-fa-solid-900.woff",
    "fa-regular-400": "course-fa-regular-400.woff",
    "fa-brands-400": "course-fa-brands-400.woff",
}
ICON_CLASS = re.compile(r"\bfa-[a-z0-9]+(?:-[a-z0-9]+)*")
CSS_CODEPOINT = re.compile(r'content:\s*"\\([0-9a-f]{4,5})"|--[\w-]+:\s*"\\([0-9a-f]{4,5})"')


# --------------------------------------------------------------------------- code lines
class LineSpanFormatter(HtmlFormatter):
    """Pygments' HTML formatter with every line in ``<span class="line">``.

    A line's leading spaces are given as ``style="--indent: N"`` so that course.css can
    indent its wrapped continuation lines under the line's own start plus four columns.
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
            style = f' style="--indent: {indent}"' if indent else ""
            body, newline = (html[:-1], "\n") if html.endswith("\n") else (html, "")
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


# --------------------------------------------------------------------------- set-up
def add_static_files(app, config) -> None:
    config.html_static_path.append(str(STATIC))
    config.templates_path.append(str(TEMPLATES))


def setup(app):
    app.connect("config-inited", add_static_files)
    app.connect("builder-inited", use_line_spans)
    app.connect("builder-inited", register_template_filter)
    app.connect("html-page-context", choose_dropped_assets)
    app.connect("build-finished", subset_icon_fonts)
    app.add_css_file("course.css")
    app.add_js_file("course.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
