"""Download and launch buttons: every chapter offers its notebook, and its exercise notebook.

The buttons come from book/_ext/course_book.py: the theme's download menu gets an ".ipynb" entry
on every notebook page, and ```{exercise-launch} chNN_topic``` renders "Download notebook",
"Open in JupyterLab", "Open on JupyterHub" (when a hub is configured) and "Open in Colab".
"""
from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml

from browser_support import ROOT, toc_files

PAGES = toc_files()
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _exercises_by_chapter() -> dict[str, Path]:
    """toc page (book/chNN_topic) -> its exercise notebook exercises/chNN_*.ipynb."""
    out = {}
    for notebook in sorted((ROOT / "exercises").glob("ch[0-9][0-9]_*.ipynb")):
        prefix = notebook.name[:4]
        for page in PAGES:
            if Path(page).name.startswith(prefix + "_"):
                out[page] = notebook
    return out


def _is_notebook_page(page: str) -> bool:
    source = next((ROOT / page).parent.glob(Path(page).name + ".*"))
    head = source.read_text(encoding="utf-8")[:2000]
    return source.suffix == ".ipynb" or ("kernelspec:" in head and head.startswith("---"))


def _valid_notebook(data: bytes, what: str):
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(nb)
    assert nb.cells, f"{what} has no cells"
    return nb


# --------------------------------------------------------------------------- in the built book
@pytest.mark.browser
def test_every_notebook_chapter_has_an_ipynb_download(light_context, book_site):
    pages = [p for p in PAGES if _is_notebook_page(p)]
    assert pages, "no page of the toc is a notebook"
    for name in pages:
        page = light_context.new_page()
        page.goto(book_site.page_url(name), wait_until="domcontentloaded")
        page.click(".dropdown-download-buttons > button")
        link = page.locator(".dropdown-download-buttons a.btn-download-notebook-button")
        link.wait_for(state="visible")
        href = link.evaluate("a => a.href")
        assert href.endswith(f"/_sources/{name}.ipynb"), f"{name}: .ipynb download is {href}"
        status, body = book_site.fetch(href)
        assert status == 200, f"{name}: {href} -> HTTP {status}"
        _valid_notebook(body, f"{name}'s downloadable notebook")
        page.close()


@pytest.mark.browser
def test_chapters_with_an_exercise_have_download_and_launch_buttons(light_context, book_site,
                                                                    tmp_path):
    exercises = _exercises_by_chapter()
    assert exercises, ("no chapter in _toc.yml has an exercise notebook in exercises/ "
                       f"(toc: {PAGES}); add the chapters with exercises to the toc")
    repo = CONFIG["repository"]["url"].rstrip("/")
    org_repo = repo.removeprefix("https://github.com/")
    branch = CONFIG["repository"].get("branch", "main")
    problems = []
    for name, notebook in exercises.items():
        page = light_context.new_page()
        page.goto(book_site.page_url(name), wait_until="domcontentloaded")
        problems += _launch_problems(page, name, notebook, org_repo, branch, tmp_path)
        page.close()
    assert not problems, "\n".join(problems)


def _launch_problems(page, name, notebook, org_repo, branch, tmp_path) -> list[str]:
    bar = page.locator(f".exercise-launch:has(a.exercise-download[href$='/{notebook.name}'])")
    if bar.count() != 1:
        return [f"{name} has the exercise {notebook.name} but no (or several) "
                f"```{{exercise-launch}} {notebook.stem}``` button bars: add one to the chapter"]
    problems = []
    # Download through the browser, as a reader would.
    with page.expect_download() as info:
        bar.locator("a.exercise-download").click()
    saved = tmp_path / f"{name.replace('/', '_')}-{notebook.name}"
    info.value.save_as(saved)
    if saved.read_bytes() != notebook.read_bytes():
        problems.append(f"{name}: the downloaded {notebook.name} differs from exercises/")
    _valid_notebook(saved.read_bytes(), notebook.name)

    colab = bar.locator("a.exercise-colab").get_attribute("href")
    if colab != (f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/"
                 f"exercises/{notebook.name}"):
        problems.append(f"{name}: wrong Colab link {colab}")
    lab = bar.locator("a.exercise-jupyterlab").get_attribute("href")
    if lab != f"http://localhost:8888/lab/tree/{notebook.name}":
        problems.append(f"{name}: wrong JupyterLab link {lab}")
    hub_url = (CONFIG.get("launch_buttons", {}) or {}).get("jupyterhub_url")
    if bar.locator("a.exercise-jupyterhub").count() != (1 if hub_url else 0):
        problems.append(f"{name}: JupyterHub button present/absent wrongly (hub: {hub_url!r})")
    return problems


# --------------------------------------------------------------------------- the directive itself
def _mini_book(tmp_path: Path, page: str, hub: str = "") -> Path:
    src = tmp_path / "src"
    (src / "exercises").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, src / "exercises" / "ch99_demo.ipynb")
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
        project = "mini"
        extensions = ["myst_parser", "sphinx_design", "course_book"]
        html_theme = "sphinx_book_theme"
        html_theme_options = {{
            "repository_url": "https://github.com/someone/some-course",
            "repository_branch": "trunk",
            "launch_buttons": {{"jupyterhub_url": {hub!r}}},
        }}
        mathjax_path = "mathjax/tex-mml-chtml.js"
        myst_enable_extensions = ["dollarmath"]
        exclude_patterns = ["_build", "exercises"]
    """))
    (src / "index.md").write_text(page)
    return src


def _sphinx(src: Path):
    out = src.parent / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src),
                           str(out)], capture_output=True, text=True, timeout=300)
    return proc, out


def test_exercise_launch_directive_renders_every_button(tmp_path):
    src = _mini_book(tmp_path, "# Mini\n\nMaths $a^2$.\n\n```{exercise-launch} ch99_demo\n```\n",
                     hub="https://hub.example.org/")
    proc, out = _sphinx(src)
    assert proc.returncode == 0, proc.stderr
    html = (out / "index.html").read_text()
    links = dict(re.findall(r'<a class="([^"]*exercise-[^"]*)"[^>]*href="([^"]+)"', html))
    links.update({cls: href for href, cls in
                  re.findall(r'<a[^>]*href="([^"]+)"[^>]*class="([^"]*exercise-[^"]*)"', html)})
    by_kind = {kind: href for cls, href in links.items()
               for kind in ("download", "jupyterlab", "jupyterhub", "colab")
               if f"exercise-{kind}" in cls.split()}
    assert set(by_kind) == {"download", "jupyterlab", "jupyterhub", "colab"}, links
    assert by_kind["colab"] == ("https://colab.research.google.com/github/someone/some-course/"
                                "blob/trunk/exercises/ch99_demo.ipynb")
    hub = urlsplit(html_lib.unescape(by_kind["jupyterhub"]))
    assert (hub.scheme, hub.netloc, hub.path) == ("https", "hub.example.org",
                                                  "/hub/user-redirect/git-pull")
    assert parse_qs(hub.query) == {"repo": ["https://github.com/someone/some-course"],
                                   "branch": ["trunk"],
                                   "urlpath": ["lab/tree/some-course/exercises/ch99_demo.ipynb"]}
    assert by_kind["jupyterlab"] == "http://localhost:8888/lab/tree/ch99_demo.ipynb"
    downloaded = out / by_kind["download"]
    assert downloaded.name == "ch99_demo.ipynb"
    assert downloaded.read_bytes() == (src / "exercises" / "ch99_demo.ipynb").read_bytes()
    # MathJax is copied in and loaded from the site, not a CDN.
    assert (out / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (out / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
            / "MathJax_Main-Regular.woff").is_file()
    assert 'src="_static/mathjax/tex-mml-chtml.js"' in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


def test_exercise_launch_without_hub_has_no_hub_button(tmp_path):
    proc, out = _sphinx(_mini_book(tmp_path, "# Mini\n\n```{exercise-launch} ch99_demo.ipynb\n```\n"))
    assert proc.returncode == 0, proc.stderr
    html = (out / "index.html").read_text()
    assert "exercise-colab" in html and "exercise-download" in html
    assert "exercise-jupyterhub" not in html


@pytest.mark.parametrize("argument, message", [
    ("ch98_missing", "exercises/ch98_missing.ipynb does not exist"),
    ("sigmoid", "is not an exercise name"),
])
def test_exercise_launch_rejects_a_bad_name_clearly(tmp_path, argument, message):
    proc, _ = _sphinx(_mini_book(tmp_path, f"# Mini\n\n```{{exercise-launch}} {argument}\n```\n"))
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
