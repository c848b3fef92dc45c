"""The grader's pages in a real browser: the learner's page on a phone, the instructor's page and
the class report; screenshots saved to artifacts/screenshots/ for people to look at."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import class_samples as samples
from browser_support import DESKTOP, PHONE, SCREENSHOT_DIR
from grader.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    subs = folder / "subs"
    subs.mkdir()
    files = {"kingann_2001_9001_ch03.ipynb": samples.notebook(
                 samples.independent, only=("ch03.sigmoid", "ch03.softmax")),
             "doedave_2002_9002_ch03.ipynb": samples.notebook(samples.renamed),
             "mosserin_2004_9004_ch03.ipynb": samples.notebook(samples.respaced),
             "smithbob_LATE_2003_9003_ch03.ipynb": samples.BLANK}
    for name, data in files.items():
        (subs / name).write_bytes(data)
    (folder / "roster.csv").write_text("id,name,lms_id\nann,Ann King,2001\ndave,Dave Doe,2002\n"
                                       "erin,Erin Moss,2004\nbob,Bob Smith,2003\n"
                                       "carol,Carol White,2009\n")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["grade", str(subs), "--out", str(folder / "out"), "--quiet",
                     "--roster", str(folder / "roster.csv")]) == 0
    return folder / "out"


def _open(chromium, path: Path, viewport: dict):
    context = chromium.new_context(viewport=viewport)
    context.route("http*://**", lambda route: route.abort())  # self-contained: nothing to fetch
    page = context.new_page()
    page.goto(path.as_uri())
    return context, page


def _shot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_learner_page_on_a_phone(chromium, graded):
    context, page = _open(chromium, graded / "feedback" / "ann.html", PHONE)
    try:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        passed = page.locator("details")
        assert not passed.evaluate("element => element.open")  # passed checks folded
        assert not page.get_by_text("sigmoid known values").first.is_visible()  # folded
        assert page.locator("text=To fix").is_visible()
        _shot(page, "grader-learner-phone.png")
        passed.locator("summary").click()
        assert page.get_by_text("sigmoid known values").first.is_visible()
    finally:
        context.close()


def test_instructor_page(chromium, graded):
    context, page = _open(chromium, graded / "instructor" / "ann.html", DESKTOP)
    try:
        assert page.get_by_text("instructor only, what the check found").count() > 0
        assert page.locator("h2", has_text="For the instructor").is_visible()
        _shot(page, "grader-instructor.png")
    finally:
        context.close()


def test_class_report(chromium, graded):
    context, page = _open(chromium, graded / "report.html", DESKTOP)
    try:
        exercises = json.loads((graded / "results.json").read_text())["exercises"]
        assert page.locator("svg").count() == 1 + len(exercises)  # overall + one per exercise
        flags = page.locator("h2", has_text="Similarity flags").locator("xpath=following::table[1]")
        assert "dave" in flags.inner_text() and "erin" in flags.inner_text()
        assert "carol" in page.inner_text("body")
        _shot(page, "grader-class-report.png")
    finally:
        context.close()
