"""Sphinx extension for the course book: offline MathJax, notebook downloads, exercise buttons,
learning objectives.

Enabled from ``_config.yml`` (``sphinx: local_extensions: {course_book: book/_ext}``). It does
four things (plus two small fixes so pages load without console errors: a favicon, and a valid
default colour mode for the theme):

1. **Offline MathJax.** When ``mathjax_path`` is a relative path (``mathjax/tex-mml-chtml.js``),
   the MathJax 3 files shipped by the PyPI package ``django-static-mathjax`` (importable as
   ``mathjax``) are copied into ``_build/html/_static/mathjax/`` at the end of the build, so the
   book renders its maths without any network access. The Thebe scripts that Jupyter Book adds to
   every page (they would fetch Thebe from unpkg.com on demand) are removed from the pages: the
   book has no live code.
2. **Chapter notebook download.** Every page that is a notebook (a MyST markdown notebook with a
   ``kernelspec``) gets the theme's ".ipynb" entry in its download menu, pointing at the executed
   notebook copied into ``_sources/``.
3. **Exercise buttons.** The directive ``exercise-launch`` renders, for one exercise notebook
   ``exercises/<name>.ipynb``, a button bar: download the notebook (copied into the site, so it
   works offline), open it in JupyterLab (a local server started with ``jupyter lab exercises/``),
   open it on a JupyterHub (an nbgitpuller link, only when ``launch_buttons.jupyterhub_url`` is set
   in ``_config.yml``) and open it in Colab (from ``repository.url``/``branch``). A translated
   edition offers the notebook in its language, ``exercises/zh/<name>.ipynb`` (grader/translation.py)::

       ```{exercise-launch} ch03_activations
       ```

4. **Learning objectives.** The directive ``learning-objectives`` opens every chapter with the
   same box: the title "Learning objectives", the sentence "By the end of this chapter you will
   be able to:" and the chapter's bullet list of 3 to 6 checkable objectives (anything else is a
   build error)::

       ```{learning-objectives}
       - write a layer as $Z = XW + \mathbf{b}$ and state the shape of every array in it;
       - ...
       ```
"""
from __future__ import annotations

import filecmp
import html
import importlib.util
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.locale import get_translation
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from grader.translation import EXERCISE_FOLDERS

logger = logging.getLogger(__name__)
#: The book's interface strings come from the catalog course_ui in a translated edition
#: (book/_ext/course_i18n.py).
_translate = get_translation("course_ui")


def _(message: str) -> str:
    return str(_translate(message))

#: MathJax 3 (es5 build) sub-paths copied into _static/mathjax: the combined TeX+MathML/CHTML
#: component, the loader (startup, core) with the components it loads, and everything loaded on
#: demand (TeX extensions, fonts, menu, a11y, SVG output chosen from the menu).
MATHJAX_ITEMS = ("tex-mml-chtml.js", "startup.js", "core.js", "a11y", "adaptors", "input",
                 "output", "sre", "ui")
MATHJAX_PACKAGE_HINT = "pip install django-static-mathjax==3.2.2.1 (it is in requirements.txt)"

EXERCISE_NAME = re.compile(r"ch\d\d_[a-z0-9_]+")
OBJECTIVES_RANGE = (3, 6)
DEFAULT_COLAB_URL = "https://colab.research.google.com"


# --------------------------------------------------------------------------- offline MathJax
def _local_mathjax_path(app) -> str | None:
    """The mathjax_path relative to _static, or None when it is a URL (CDN) or absolute."""
    path = app.config.mathjax_path or ""
    if "://" in path or path.startswith("/"):
        return None
    return path


def mathjax_source_dir() -> Path:
    """The es5 directory of the MathJax copy installed with ``django-static-mathjax``."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError("course_book: MathJax is not installed; " + MATHJAX_PACKAGE_HINT)
    es5 = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        raise ExtensionError(f"course_book: no MathJax es5 build in {es5}; " + MATHJAX_PACKAGE_HINT)
    return es5


def set_default_colour_mode(app, config) -> None:
    """Give the theme a valid default colour mode.

    Jupyter Book leaves pydata-sphinx-theme's ``html_context["default_mode"]`` unset, and the
    theme then logs "Got invalid theme mode: . Resetting to auto." to the console on a reader's
    first visit.
    """
    context = config.html_context
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def set_default_favicon(app, config) -> None:
    """Give the book a favicon (book/_ext/favicon.svg) unless _config.yml names one.

    Without one, every browser asks the server for /favicon.ico and logs a 404 error.
    """
    if not config.html_favicon:
        config.html_favicon = str(Path(__file__).with_name("favicon.svg"))


def check_mathjax(app, config) -> None:
    rel = _local_mathjax_path(app)
    if rel is None:
        return
    if not rel.startswith("mathjax/"):
        raise ExtensionError(
            f"course_book: mathjax_path is {rel!r}; expected 'mathjax/<component>.js' (served "
            "from _static/mathjax) or a full URL")
    component = rel.split("/", 1)[1]
    if not (mathjax_source_dir() / component).is_file():
        raise ExtensionError(
            f"course_book: mathjax_path names {component!r}, which the installed MathJax does "
            f"not have; use 'mathjax/tex-mml-chtml.js'")


def _copy_if_changed(src: Path, dst: Path) -> None:
    if src.is_dir():
        for child in src.iterdir():
            _copy_if_changed(child, dst / child.name)
        return
    if dst.exists() and filecmp.cmp(src, dst, shallow=True):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if _local_mathjax_path(app) is None:
        return
    es5 = mathjax_source_dir()
    target = Path(app.outdir) / "_static" / "mathjax"
    for item in MATHJAX_ITEMS:
        _copy_if_changed(es5 / item, target / item)
    _copy_if_changed(es5.parent / "LICENSE", target / "LICENSE")


# --------------------------------------------------------------------------- page clean-up
def _is_thebe_asset(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", "")) if hasattr(asset, "attributes") else ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def remove_thebe(app, pagename, templatename, context, doctree) -> None:
    """Drop sphinx-thebe's scripts/styles: the book has no live code, and Thebe comes from a CDN."""
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [asset for asset in context[key] if not _is_thebe_asset(asset)]


def remove_thebe_config(app, doctree, docname) -> None:
    """Drop the inert Thebe configuration blocks sphinx-thebe appends to every page."""
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "text/x-thebe-config" in text or text.strip().startswith("<script>kernelName ="):
            node.parent.remove(node)


def add_notebook_download(app, pagename, templatename, context, doctree) -> None:
    """Offer the executed chapter notebook in the theme's download menu (as '.ipynb').

    sphinx-book-theme only does this when a launch service is configured; the course's launch
    buttons are for the exercises (see ``exercise-launch``), so it is done here.
    """
    if app.builder.format != "html" or doctree is None or context.get("ipynb_source"):
        return
    metadata = app.env.metadata.get(pagename, {})
    if "kernelspec" not in metadata or not context.get("sourcename", "").endswith(".md"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


# --------------------------------------------------------------------------- exercise buttons
def _github_parts(repository_url: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", repository_url or "")
    return (match.group(1), match.group(2)) if match else None


def _button(text: str, url: str, css: str, title: str) -> nodes.reference:
    ref = nodes.reference("", "", internal=False, refuri=url, reftitle=title,
                          classes=["sd-btn", "sd-btn-outline-primary", "exercise-launch-button",
                                   css])
    ref += nodes.Text(text)
    return ref


#: The command the README gives for starting JupyterLab on the exercises (as root too).
JUPYTERLAB_COMMAND = "jupyter lab --allow-root exercises/"


def _jupyterlab_button(lab_url: str, notebook: str) -> nodes.raw:
    """"Open in JupyterLab": a link to the default address, which course.js points at the
    address the reader saved (``data-notebook`` names the file within the exercises folder)."""
    url = html.escape(f"{lab_url}/{notebook}", quote=True)
    return nodes.raw("", (
        f'<a class="sd-btn sd-btn-outline-primary exercise-launch-button exercise-jupyterlab" '
        f'href="{url}" data-notebook="{html.escape(notebook, quote=True)}" '
        f'title="{html.escape(_("In your own JupyterLab, started in the course folder with:"))} '
        f'{JUPYTERLAB_COMMAND}">{html.escape(_("Open in JupyterLab"))}</a>'), format="html")


def _jupyterlab_address_form(lab_url: str) -> str:
    """How to start JupyterLab, and a field for its address when it is not the default one."""
    default = html.escape(lab_url.removesuffix("/lab/tree"))
    summary = html.escape(_("JupyterLab not at {address}?")).format(
        address=f'<span class="exercise-lab-current">{default}</span>')
    explanation = html.escape(_(
        "Start JupyterLab in the course folder with {command}. It prints its address, such as "
        "{example}, and opens it in your browser; the port (8888, 8889, ...) is the first free "
        "one. Paste that address (or just the port) here and the \"Open in JupyterLab\" buttons "
        "of every chapter open your JupyterLab. Without JavaScript, change the port in the "
        "button's link by hand.")).format(
        command=f"<code>{JUPYTERLAB_COMMAND}</code>",
        example="<code>http://localhost:8889/lab?token=...</code>")
    return f"""<details class="exercise-lab-address">
<summary>{summary}</summary>
<p>{explanation}</p>
<form class="exercise-lab-form">
<label>{html.escape(_("Your JupyterLab address:"))} <input type="text" name="address" inputmode="url"
 placeholder="{default}" autocomplete="off" spellcheck="false"></label>
<button type="submit" class="btn btn-sm btn-outline-primary">{html.escape(_("Use this address"))}</button>
<span class="exercise-lab-status" role="status"></span>
</form>
</details>"""


class ExerciseLaunch(SphinxDirective):
    """``exercise-launch`` directive: buttons to get a chapter's exercise notebook."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False

    def run(self):
        name = self.arguments[0].strip()
        if name.endswith(".ipynb"):
            name = name[: -len(".ipynb")]
        name = name.removeprefix("exercises/")
        if not EXERCISE_NAME.fullmatch(name):
            raise self.error(
                f"exercise-launch: {self.arguments[0]!r} is not an exercise name; expected the "
                "notebook's name in exercises/ without extension, e.g. 'ch03_activations'")
        # A translated edition offers the exercise notebook in its language (exercises/zh/).
        folder = EXERCISE_FOLDERS.get(self.config.language or "en")
        notebook_name = f"{folder}/{name}.ipynb" if folder else f"{name}.ipynb"
        relpath = f"exercises/{notebook_name}"
        notebook = Path(self.env.srcdir) / relpath
        if not notebook.is_file():
            raise self.error(
                f"exercise-launch: {relpath} does not exist; generate the exercises from "
                "solutions/ (see grader/README) or fix the name")
        self.env.note_dependency(str(notebook))

        theme = self.config.html_theme_options or {}
        launch = theme.get("launch_buttons", {}) or {}
        branch = theme.get("repository_branch") or "main"
        repo_url = (theme.get("repository_url") or "").rstrip("/")

        bar = nodes.container(classes=["exercise-launch"])
        bar["ids"].append(f"exercise-{name.replace('_', '-')}")
        label = nodes.paragraph(classes=["exercise-launch-label"])
        label += nodes.strong(text=_("Exercise notebook:") + " ")
        label += nodes.literal(text=f"{name}.ipynb")
        bar += label
        buttons = nodes.paragraph(classes=["exercise-launch-buttons"])

        download = addnodes.download_reference(
            "", "", reftarget=f"/{relpath}", refdoc=self.env.docname, refdomain="",
            reftype="download", refexplicit=True, refwarn=True,
            classes=["sd-btn", "sd-btn-primary", "exercise-launch-button", "exercise-download"])
        download += nodes.Text(_("Download notebook"))
        buttons += download

        lab_url = (self.config.course_jupyterlab_url or "").rstrip("/")
        if lab_url:
            buttons += nodes.Text(" ")
            buttons += _jupyterlab_button(lab_url, notebook_name)

        hub_url = (launch.get("jupyterhub_url") or "").rstrip("/")
        parts = _github_parts(repo_url)
        if hub_url and repo_url:
            repo_name = repo_url.rsplit("/", 1)[-1].removesuffix(".git")
            query = urlencode({"repo": repo_url, "branch": branch,
                               "urlpath": f"lab/tree/{repo_name}/{relpath}"}, safe="/")
            buttons += nodes.Text(" ")
            buttons += _button(_("Open on JupyterHub"),
                               f"{hub_url}/hub/user-redirect/git-pull?{query}",
                               "exercise-jupyterhub", _("Pull the course into your JupyterHub"))
        if parts:
            colab = (launch.get("colab_url") or DEFAULT_COLAB_URL).rstrip("/")
            org, repo = parts
            buttons += nodes.Text(" ")
            buttons += _button(_("Open in Colab"),
                               f"{colab}/github/{org}/{repo}/blob/{branch}/{relpath}",
                               "exercise-colab",
                               _("Its first cell installs the course's library, nnlib"))
        bar += buttons
        if lab_url:
            bar += nodes.raw("", _jupyterlab_address_form(lab_url), format="html")
        return [bar]


# --------------------------------------------------------------------------- learning objectives
class LearningObjectives(SphinxDirective):
    """``learning-objectives`` directive: the chapter's objectives, one bullet each."""

    required_arguments = 0
    optional_arguments = 0
    has_content = True

    def run(self):
        low, high = OBJECTIVES_RANGE
        body = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, body)
        found = body.children
        if len(found) != 1 or not isinstance(found[0], nodes.bullet_list):
            raise self.error(
                "learning-objectives: the content must be one bullet list ('- ...' lines) and "
                f"nothing else, got {len(found)} block(s)")
        objectives = found[0]
        if not low <= len(objectives.children) <= high:
            raise self.error(
                f"learning-objectives: give {low} to {high} objectives, got "
                f"{len(objectives.children)}")
        box = nodes.admonition(classes=["learning-objectives"])
        self.set_source_info(box)
        # Interface strings (catalog course_ui), not the page's own messages.
        box += nodes.title(text=_("Learning objectives"), translatable=False)
        box += nodes.paragraph(text=_("By the end of this chapter you will be able to:"),
                               translatable=False)
        box += objectives
        return [box]


def setup(app):
    app.add_config_value("course_jupyterlab_url", "http://localhost:8888/lab/tree", "html")
    app.connect("config-inited", set_default_colour_mode)
    app.connect("config-inited", set_default_favicon)
    app.connect("config-inited", check_mathjax)
    app.connect("build-finished", copy_mathjax)
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=400)
    app.connect("html-page-context", remove_thebe, priority=900)
    app.connect("doctree-resolved", remove_thebe_config, priority=900)
    app.add_directive("exercise-launch", ExerciseLaunch)
    app.add_directive("learning-objectives", LearningObjectives)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
