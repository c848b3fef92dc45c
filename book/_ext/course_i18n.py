"""Sphinx extension for the book's editions: English (the source) and Simplified Chinese.

Enabled from ``_config.yml`` next to ``course_book``. The Chinese edition is the same sources
built with ``language = "zh_CN"`` (``scripts/build_book.py`` builds both editions); Sphinx's
gettext workflow supplies the translations from ``locales/zh_CN/LC_MESSAGES/<docname>.po``, one
catalog per page. This extension adds what that workflow does not cover:

1. **Figure text.** A chapter's figure code passes the words it draws through
   ``nnlib.plot.figure_text("...")``. The gettext build adds those strings (from the page's code
   cells, and from ``nnlib/plot.py`` into the catalog ``nnlib/plot``) to the catalogs; Sphinx
   itself translates the figures' image descriptions (``alt``). In a translated build the
   hidden ``use_book_style()`` call becomes ``use_book_style(language=..., translations={...})``
   with the page's translated strings, so the Chinese edition executes its own notebooks
   (their code differs) and draws its labels in Chinese, while a page without figures shares
   the English edition's execution cache. A figure that draws a character its fonts lack
   fails the build.
2. **Interface strings.** The book's own buttons and boxes (``course_book``) and the texts of
   ``course.js`` come from the catalog ``course_ui`` (:data:`UI_DOMAIN`).
3. **Language switch.** Every page links to the same page in the other edition (header button
   and ``<link rel="alternate" hreflang=...>``); the Chinese edition lives in the ``zh/``
   folder of the English one.
4. **Chinese search.** Sphinx's Chinese search segments words with jieba; the glossary's
   Chinese terms (``book/glossary/*.tsv``) are added to jieba's dictionary so that a term such
   as 反向传播 is indexed whole.
5. **Glued values in translations.** A translated paragraph is parsed on its own, away from the
   page's executed notebook, so MyST-NB's ``{glue:text}`key``` would find no value there; the
   value is read from the page's glue cache instead (what the English paragraph shows).
"""
from __future__ import annotations

import ast
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.locale import get_translation
from sphinx.locale import init as init_locale
from sphinx.search.zh import SearchChinese
from sphinx.util import logging as sphinx_logging
from sphinx.util.i18n import docname_to_domain

logger = sphinx_logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GLOSSARY = ROOT / "book" / "glossary"
PLOT_MODULE = ROOT / "nnlib" / "plot.py"

#: The catalog of the book's interface strings (course_book.py, course.js).
UI_DOMAIN = "course_ui"
#: The catalog of the figure text drawn by nnlib/plot.py's helpers.
PLOT_DOMAIN = "nnlib/plot"
#: Translator of the interface strings: ``_("Download notebook")``.
_ = get_translation(UI_DOMAIN)


@dataclass(frozen=True)
class Edition:
    """One language of the book: its Sphinx language code, where its pages live relative to
    the English edition's output folder, its name in its own language, its HTML lang and the
    language switch's tooltip (in that language) on the other edition's pages."""

    language: str
    folder: str
    name: str
    html_lang: str
    switch_title: str


EDITIONS = {
    "en": Edition("en", "", "English", "en", "Read this page in English"),
    "zh_CN": Edition("zh_CN", "zh", "中文", "zh-CN", "阅读本页的中文版"),
}


def edition_of(config) -> Edition:
    language = config.language or "en"
    if language not in EDITIONS:
        raise ValueError(f"course_i18n: no edition for language {language!r}; the book has "
                         f"{', '.join(EDITIONS)}")
    return EDITIONS[language]


def is_translated(config) -> bool:
    return edition_of(config).language != "en"


# --------------------------------------------------------------------------- catalogs
def locale_dirs(app) -> list[str]:
    return [str(Path(app.srcdir) / directory) for directory in app.config.locale_dirs]


def catalog(app, domain: str):
    """The translator of one catalog (``book/ch03_activations``) in the build's language; it
    returns the msgid itself for a message without translation (or a fuzzy one)."""
    translator, _found = init_locale(locale_dirs(app), app.config.language, domain,
                                     namespace=f"course:{domain}")
    return translator


def translations(app, domain: str, msgids) -> dict[str, str]:
    """``{msgid: translation}`` for the msgids of ``domain`` that have a translation."""
    translator = catalog(app, domain)
    found = {}
    for msgid in msgids:
        text = translator.gettext(msgid)
        if text != msgid:
            found[msgid] = text
    return found


def load_ui_catalog(app, *args) -> None:
    """Load the interface catalog once Sphinx has compiled the .po files of locale_dirs, and
    give the book's title (``html_title``, the sidebar's heading) as the root page's catalog
    translates it."""
    if not is_translated(app.config):
        return
    init_locale(locale_dirs(app), app.config.language, UI_DOMAIN)
    root = catalog(app, docname_to_domain(app.config.root_doc, app.config.gettext_compact))
    if app.config.html_title:
        app.config.html_title = root.gettext(app.config.html_title)


# --------------------------------------------------------------------------- figure text
#: A call ``figure_text("...")`` (single quotes and a raw string too) and its string literal.
FIGURE_TEXT_CALL = re.compile(
    r"""\bfigure_text\(\s*(?P<literal>[rRuU]?(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))""")
#: The hidden first cell's call that sets the book's figure style (course_pages fingerprints it).
STYLE_CALL = re.compile(r"^use_book_style\(\)[ \t]*$", re.M)


def figure_texts(code: str) -> list[tuple[str, int]]:
    """The ``figure_text`` strings of ``code``, each with its 0-based line number."""
    found = []
    for match in FIGURE_TEXT_CALL.finditer(code):
        found.append((ast.literal_eval(match.group("literal")),
                      code.count("\n", 0, match.start())))
    return found


def page_code(source: str) -> str:
    """The code cells of a MyST notebook page (``{code-cell}`` fences), one after the other."""
    cells = re.findall(r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", source, flags=re.M | re.S)
    return "\n".join(body for _fence, body in cells)


def use_translated_figure_text(app, docname, source) -> None:
    """In a translated build, give the page's hidden ``use_book_style()`` call the build's
    language and the translations of the figure text the page and nnlib/plot.py draw."""
    if not is_translated(app.config) or not STYLE_CALL.search(source[0]):
        return
    msgids = [text for text, _line in figure_texts(page_code(source[0]))]
    domain = docname_to_domain(docname, app.config.gettext_compact)
    texts = translations(app, PLOT_DOMAIN,
                         [text for text, _line in figure_texts(PLOT_MODULE.read_text("utf-8"))])
    texts.update(translations(app, domain, msgids))
    arguments = (f"language={app.config.language!r}, "
                 f"translations={json.dumps(texts, ensure_ascii=False, sort_keys=True)}")
    # A function as the replacement: re.sub would read the JSON's backslashes ("\\n") as escapes.
    source[0] = STYLE_CALL.sub(lambda _call: f"use_book_style({arguments})", source[0])


def translate_toc_captions(app, doctree) -> None:
    """Translate the captions of the table of contents' parts ("Foundations"), which
    sphinx-external-toc inserts into the root page after Sphinx has translated it."""
    if not is_translated(app.config):
        return
    translator = None
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            translator = translator or catalog(
                app, docname_to_domain(app.env.docname, app.config.gettext_compact))
            toctree["caption"] = translator.gettext(toctree["caption"])


#: matplotlib's warning for a character that no font of the figure's font family draws.
MISSING_GLYPH = re.compile(r"Glyph \d+ .*? missing from font")


def check_figure_glyphs(app, doctree) -> None:
    """A figure that draws a character its fonts lack (matplotlib warns on the cell's stderr and
    draws an empty box) is a build warning, which fails the strict build."""
    for block in doctree.findall(nodes.literal_block):
        if "stderr" in block.get("classes", []) and MISSING_GLYPH.search(block.astext()):
            logger.warning("a figure draws characters that its fonts lack (%s); pass the text "
                           "through nnlib.plot.figure_text and check LANGUAGE_FONTS in "
                           "nnlib/plot.py", MISSING_GLYPH.search(block.astext()).group(0),
                           location=block)


def _origin(node) -> tuple[str, int]:
    while node is not None and not (node.source and node.line):
        node = node.parent
    return (node.source, node.line) if node is not None else ("", 0)


def add_figure_messages(app, doctree, docname) -> None:
    """Gettext build: add the figure text of the page's code cells to its catalog (Sphinx
    itself adds the figures' image descriptions, ``alt``)."""
    if app.builder.name != "gettext":
        return
    from sphinx.builders.gettext import MsgOrigin

    messages = app.builder.catalogs[docname_to_domain(docname, app.config.gettext_compact)]
    for block in doctree.findall(nodes.literal_block):
        parent = block.parent
        if parent is None or "cell_input" not in parent.get("classes", []):
            continue
        source, line = _origin(block)
        for text, offset in figure_texts(block.astext()):
            messages.add(text, MsgOrigin(source, line + offset))


def add_shared_catalogs(app) -> None:
    """Gettext build: the catalogs that belong to no page, of the figure text nnlib/plot.py's
    helpers draw and of the book's interface strings."""
    if app.builder.name != "gettext":
        return
    from sphinx.builders.gettext import MsgOrigin

    code = PLOT_MODULE.read_text(encoding="utf-8")
    for text, line in figure_texts(code):
        app.builder.catalogs[PLOT_DOMAIN].add(text, MsgOrigin(str(PLOT_MODULE), line + 1))
    for message, path, line in ui_messages():
        app.builder.catalogs[UI_DOMAIN].add(message, MsgOrigin(str(path), line))


def depend_on_ui_catalog(app, docname, source) -> None:
    """A translated page is read again when the interface strings' translations change."""
    if is_translated(app.config):
        for directory in locale_dirs(app):
            mo = Path(directory) / app.config.language / "LC_MESSAGES" / f"{UI_DOMAIN}.mo"
            if mo.is_file():
                app.env.note_dependency(str(mo))


# --------------------------------------------------------------------------- language switch
def other_edition(config) -> Edition:
    current = edition_of(config)
    return EDITIONS["zh_CN"] if current.language == "en" else EDITIONS["en"]


def edition_link(current: Edition, target: Edition, pagename: str) -> str:
    """The relative address of ``pagename`` in edition ``target``, from that page in
    ``current`` (the English edition's folder holds the others' folders)."""
    up = "../" * pagename.count("/")
    if current.folder:
        up += "../" * len(Path(current.folder).parts)
    folder = f"{target.folder}/" if target.folder else ""
    return f"{up}{folder}{pagename}.html"


def add_language_switch(app, pagename, templatename, context, doctree) -> None:
    if app.builder.format != "html":
        return
    current, target = edition_of(app.config), other_edition(app.config)
    href = edition_link(current, target, pagename)
    context["course_language_switch"] = {
        "href": href, "name": target.name, "lang": target.html_lang, "title": target.switch_title}
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{target.html_lang}" href="{href}">')


def add_switch_to_header(app, config) -> None:
    """Put the language switch before the theme's header buttons on every page."""
    options = config.html_theme_options
    end = options.get("article_header_end") or ["article-header-buttons.html"]
    if isinstance(end, str):
        end = [item.strip() for item in end.split(",")]
    if "course-language-switch.html" not in end:
        options["article_header_end"] = ["course-language-switch.html", *end]


# --------------------------------------------------------------------------- interface strings
#: The interface strings of the book's extension (``_("...")``, implicit concatenation allowed)
#: and of its script (``t("...")``, ``+`` between the pieces).
PYTHON_UI_CALL = re.compile(r"""(?<![\w.])_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)""")
SCRIPT_UI_CALL = re.compile(r"""(?<![\w.])t\(\s*("(?:[^"\\]|\\.)*"(?:\s*\+\s*"(?:[^"\\]|\\.)*")*)""")
UI_SOURCES = (HERE / "course_book.py",)
SCRIPT = HERE.parent / "_static" / "course.js"


def ui_messages() -> list[tuple[str, Path, int]]:
    """Every interface string: (message, file, line)."""
    found = []
    for path in UI_SOURCES:
        code = path.read_text(encoding="utf-8")
        for match in PYTHON_UI_CALL.finditer(code):
            found.append((ast.literal_eval(f"({match.group(1)})"), path,
                          code.count("\n", 0, match.start()) + 1))
    for message, line in script_messages():
        found.append((message, SCRIPT, line))
    return found


def script_messages() -> list[tuple[str, int]]:
    """course.js's texts ``t("...")``: (message, line)."""
    code = SCRIPT.read_text(encoding="utf-8")
    return [("".join(json.loads(piece) for piece in re.findall(r'"(?:[^"\\]|\\.)*"', match.group(1))),
             code.count("\n", 0, match.start()) + 1)
            for match in SCRIPT_UI_CALL.finditer(code)]


def add_script_messages(app, *args) -> None:
    """A translated edition's pages give course.js its texts (``window.COURSE_MESSAGES``)."""
    if app.builder.format != "html" or not is_translated(app.config):
        return
    texts = translations(app, UI_DOMAIN, [message for message, _line in script_messages()])
    body = "window.COURSE_MESSAGES = " + json.dumps(texts, ensure_ascii=False, sort_keys=True) + ";"
    app.add_js_file(None, body=body, priority=400)


# --------------------------------------------------------------------------- Chinese search
def glossary_terms() -> list[str]:
    """The Chinese forms of every glossary term: the second column of ``book/glossary/*.tsv``
    (``English<TAB>中文<TAB>definition``), with the other names given in brackets
    (``预激活值（净输入、净活性值）``) as terms of their own."""
    terms = set()
    for path in sorted(GLOSSARY.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            if len(cells) < 2:
                continue
            terms.update(term.strip() for term in re.split(r"[（）()、，,;；／/]", cells[1])
                         if term.strip())
    return sorted(terms)


def use_glossary_in_search(app) -> None:
    """Chinese edition: load the glossary's terms into jieba's dictionary for the search index."""
    if app.builder.format != "html" or not app.config.language.startswith("zh"):
        return
    try:
        import jieba
    except ImportError as error:
        # Sphinx would index Chinese without word segmentation, and searches would miss.
        raise ExtensionError("course_i18n: the Chinese edition's search needs jieba (pinned in "
                             "requirements.txt): bash scripts/setup-env") from error
    jieba.setLogLevel(logging.WARNING)      # not its "Building prefix dict" lines
    dictionary = Path(app.doctreedir) / "course-jieba-dict.txt"
    dictionary.parent.mkdir(parents=True, exist_ok=True)
    # jieba's user dictionary: "word frequency" per line; a high frequency keeps the term whole.
    dictionary.write_text("".join(f"{term} 100000\n" for term in glossary_terms() if " " not in term),
                          encoding="utf-8")
    app.config.html_search_options = {**(app.config.html_search_options or {}),
                                      "dict": str(dictionary)}
    GlossarySearchChinese.long_terms = frozenset(
        term for term in glossary_terms() if len(term) >= 4 and " " not in term)


class GlossarySearchChinese(SearchChinese):
    """Sphinx's Chinese search, which also indexes a glossary term that jieba keeps inside a
    longer word: jieba's search mode adds only the two- and three-character words inside
    ``卷积神经网络``, and a reader searching 神经网络 should find that page too."""

    long_terms: frozenset[str] = frozenset()

    def split(self, input: str) -> list[str]:
        words = super().split(input)
        inside = [term for word in words if len(word) > 4
                  for term in self.long_terms if term in word and term != word]
        return words + inside


# --------------------------------------------------------------------------- glued values
TRANSLATED_SOURCE_SUFFIX = ":<translated>"  # how sphinx.transforms.i18n names a message's source


def glue_data_of_the_page(retrieve):
    """Wrap MyST-NB's ``retrieve_glue_data`` so that a translated message, parsed as a document
    of its own, gets the glued values of the page it belongs to (written by MyST-NB to its glue
    cache when it executed the page, before Sphinx translates the page's paragraphs)."""
    from myst_nb.core.variables import RetrievalError, VariableOutput
    from myst_nb.ext.glue.crossref import read_glue_cache

    def retrieve_glue_data(document, key):
        try:
            return retrieve(document, key)
        except RetrievalError:
            env = getattr(document.settings, "env", None)
            if env is None or not str(document.get("source", "")).endswith(
                    TRANSLATED_SOURCE_SUFFIX):
                raise
            glued = read_glue_cache(env.mystnb_config.output_folder, env.docname)
            if key not in glued:
                raise
            return VariableOutput(data=glued[key]["data"],
                                  metadata=glued[key].get("metadata", {}),
                                  nb_renderer=document.get("nb_renderer"), vtype="glue")
    return retrieve_glue_data


def use_page_glue_in_translations(app, config) -> None:
    if is_translated(config):
        from myst_nb.ext.glue import roles
        roles.retrieve_glue_data = glue_data_of_the_page(roles.retrieve_glue_data)


def setup(app):
    app.add_search_language(GlossarySearchChinese)
    app.connect("config-inited", use_page_glue_in_translations)
    app.connect("config-inited", add_switch_to_header)
    app.connect("builder-inited", add_shared_catalogs)
    app.connect("builder-inited", use_glossary_in_search)
    app.connect("env-before-read-docs", load_ui_catalog)
    app.connect("env-before-read-docs", add_script_messages)
    app.connect("source-read", depend_on_ui_catalog)
    # Before course_pages fingerprints the same call (priority 500).
    app.connect("source-read", use_translated_figure_text, priority=400)
    app.connect("doctree-read", check_figure_glyphs)
    # Before Sphinx's toctree collector reads the captions (priority 500).
    app.connect("doctree-read", translate_toc_captions, priority=400)
    app.connect("doctree-resolved", add_figure_messages)
    # Before pydata-sphinx-theme drops the header templates that render empty (priority 500).
    app.connect("html-page-context", add_language_switch, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
