"""Fixtures for the browser tests: headless Debian Chromium via Playwright, the built book on localhost.

Every test in this directory that drives the browser is marked ``browser``. A missing Chromium is
a failure, not a skip: ``scripts/setup-browser`` installs it (run by ``scripts/run-tests``, and
tried once here when the browser is missing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from book_survey import BookSurvey, screenshot_pages
from browser_support import (CHROMIUM, CHROMIUM_ARGS, ROOT, ZH_EDITION, ZH_SCREENSHOT_DIR,
                             PageMonitor, StaticSite, free_port, toc_files, translated_pages,
                             wait_http)

#: The exercise notebook the JupyterLab tests open.
JUPYTERLAB_EXERCISE = "ch03_activations"
#: Lab plugins that would reach the network (news, announcements, PyPI listing).
DISABLED_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension": True,
}


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        subprocess.run(["bash", str(ROOT / "scripts" / "setup-browser")], check=False,
                       timeout=900)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing ({CHROMIUM}); install Debian's package with "
                    "`bash scripts/setup-browser` (as root: apt-get install -y chromium)",
                    pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver, chromium_executable):
    """One headless Chromium for the session (never a Playwright-downloaded browser)."""
    browser = playwright_driver.chromium.launch(
        executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def book_site(book_build):
    """The built book (the shared session build from tests/conftest.py) served on 127.0.0.1."""
    returncode, log, html = book_build
    if not (html / "index.html").is_file():
        pytest.fail(f"the book was not built (exit code {returncode}):\n{log[-4000:]}",
                    pytrace=False)
    site = StaticSite(html)
    yield site
    site.close()


@pytest.fixture(scope="session")
def book_survey(chromium, book_site):
    """Every page of the book visited once per width (see book_survey.py), on first use."""
    pages = toc_files()
    return BookSurvey(chromium, book_site, pages, screenshot_pages(book_site, pages))


@pytest.fixture(scope="session")
def zh_book_survey(chromium, book_site):
    """The Chinese edition's translated pages (complete catalogs, so the set grows as the
    translators finish pages), visited once per width like the English ones; screenshots of
    the first three translated chapters (not the how-to page ch00) go to artifacts/screenshots/zh/."""
    pages = translated_pages()
    chapters = [page for page in pages if re.fullmatch(r"book/ch(?!00)\d\d_\w+", page)]
    return BookSurvey(chromium, book_site, [f"{ZH_EDITION}/{page}" for page in pages],
                      [f"{ZH_EDITION}/{page}" for page in chapters[:3]], ZH_SCREENSHOT_DIR)


def _desktop_context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800},
                                   accept_downloads=True)
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def offline_context(chromium):
    """A fresh browser context (desktop size) in which only localhost can be reached."""
    context = _desktop_context(chromium)
    monitor = PageMonitor()
    monitor.install(context)
    context.monitor = monitor
    yield context
    context.close()


@pytest.fixture
def light_context(chromium):
    """A browser context that does not run MathJax (for tests about buttons, not maths)."""
    context = _desktop_context(chromium)
    context.route("**/_static/mathjax/**", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="/* MathJax not needed here */"))
    yield context
    context.close()


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """JupyterLab serving a temporary folder (outside the repository) holding the exercise,
    one server for the session (starting one takes seconds)."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    notebook = ROOT / "exercises" / f"{JUPYTERLAB_EXERCISE}.ipynb"
    root_dir = tmp_path / "work"
    # The English exercise notebook, and the Chinese one in zh/ as in the repository.
    notebooks = {"en": notebook, "zh": ROOT / "exercises" / "zh" / notebook.name}
    for language, source in notebooks.items():
        assert source.is_file(), f"{source} is missing: regenerate the exercises"
        folder = root_dir / ("zh" if language == "zh" else "")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / source.name)
    dirs = {name: tmp_path / name for name in ("home", "config", "data", "runtime", "settings",
                                               "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir()
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_PLUGINS}))
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(dirs["home"]), "LANG": "C.UTF-8",
        "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_PLATFORM_DIRS": "1", "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "KERAS_BACKEND": "jax", "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    port = free_port()
    log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={root_dir}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly",
           f"--LabApp.user_settings_dir={dirs['settings']}",
           f"--LabApp.workspaces_dir={dirs['workspaces']}",
           "--LanguageServerManager.autodetect=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/status", proc, log)
        yield {"url": url, "notebook": notebook, "notebooks": notebooks, "root_dir": root_dir,
               "log": log, "proc": proc}
    finally:
        # SIGTERM: the server shuts its kernels down, then exits; SIGKILL what is left.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
