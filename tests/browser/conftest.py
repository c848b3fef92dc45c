"""Fixtures for the browser tests: headless Debian Chromium via Playwright, the built book on localhost.

Every test in this directory that drives the browser is marked ``browser``. A missing Chromium is
a failure, not a skip: ``scripts/setup-browser`` installs it (run by ``scripts/run-tests``, and
tried once here when the browser is missing).
"""
from __future__ import annotations

import os
import subprocess

import pytest

from browser_support import CHROMIUM, CHROMIUM_ARGS, ROOT, PageMonitor, StaticSite


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
