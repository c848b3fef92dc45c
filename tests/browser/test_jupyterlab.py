"""A learner's session in JupyterLab, end to end, in headless Chromium.

JupyterLab runs on localhost with no token, a temporary home and temporary Jupyter config,
data, runtime, settings and workspace directories, and nothing that reaches the network (no
news, no update check, no extension manager listing). The test opens the generated exercise
notebook, runs all cells from the Run menu and reads the check cell's "not implemented yet" in
the page; then it pastes the reference solution into the graded cell through the editor, runs
it and its check, and reads the formatted (coloured, ✓) passing feedback. The same again with
the Chinese exercise notebook (exercises/zh/), whose feedback must be Chinese (the grader's
catalogs); and JupyterLab offers its interface in Chinese (the zh-CN language pack).
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser_support import ROOT, PageMonitor
from grader.i18n import _, use_language

pytestmark = pytest.mark.browser

#: Output MIME types a plain JupyterLab renders without any extension.
CORE_MIMETYPES = {"text/plain", "text/html", "text/markdown", "text/latex", "image/png",
                  "image/jpeg", "image/svg+xml", "application/json"}


def test_jupyterlab_offers_chinese(jupyterlab):
    """The zh-CN language pack of the requirements is installed: JupyterLab lists Chinese
    under Settings > Language (README)."""
    with urllib.request.urlopen(f"{jupyterlab['url']}/lab/api/translations", timeout=10) as response:
        languages = json.load(response)["data"]
    assert "zh_CN" in languages, sorted(languages)
    assert "中文" in languages["zh_CN"]["nativeName"], languages["zh_CN"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _first_exercise(cells):
    """(graded cell, its check cell) of the notebook's first exercise."""
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            for later in cells[i + 1:]:
                if later.get("metadata", {}).get("grader", {}).get("role") == "check":
                    return cell, later
    raise AssertionError("no graded cell followed by a check cell")


def _wait_kernel_idle(url: str, path: str, timeout: float = 60) -> None:
    """Wait until the kernel of the notebook at ``path`` has started and is idle (asked through
    the REST API's sessions)."""
    deadline = time.monotonic() + timeout
    states = []
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/sessions", timeout=5) as response:
                states = [session["kernel"].get("execution_state") for session in json.load(response)
                          if session.get("path") == path and session.get("kernel")]
        except urllib.error.HTTPError as error:   # the server answers 500 while a kernel starts
            states = [f"HTTP {error.code}"]
        if states and all(state == "idle" for state in states):
            return
        time.sleep(0.2)
    raise AssertionError(f"the kernel of {path} did not become idle within {timeout} s: {states}")


def _cell(page, source_line: str):
    """The notebook cell (DOM) whose editor contains this line of source."""
    return page.locator(".jp-Notebook .jp-Cell").filter(
        has=page.locator(".cm-content", has_text=source_line))


def _feedback_texts(language: str) -> tuple[str, re.Pattern, re.Pattern]:
    """What the self-check says in ``language`` (from the grader's catalogs): the start of its
    "not implemented yet" line, and its "N of M public checks passed" line as a pattern for
    the page (no groups: JavaScript's syntax differs) and one that reads the two numbers."""
    with use_language("zh_CN" if language == "zh" else "en"):
        not_implemented = _("not implemented yet (replace the {line} line with your code)")
        verdict = _("{exercise}: {passed} of {total} public checks passed")

    def pattern(groups: bool) -> re.Pattern:
        text = re.escape(verdict).replace(re.escape("{exercise}"), r"\S+")
        for field in ("passed", "total"):
            text = text.replace(re.escape(f"{{{field}}}"),
                                f"(?P<{field}>\\d+)" if groups else r"\d+")
        return re.compile(text)

    return not_implemented.split("{line}")[0].rstrip(" (（"), pattern(False), pattern(True)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_exercise_in_jupyterlab_not_implemented_then_passing(chromium, jupyterlab, language):
    """The exercise notebook (English, or Chinese from exercises/zh/ with the self-checks
    answering in Chinese): every check "not implemented yet", then the first one passing."""
    notebook = jupyterlab["notebooks"][language]
    not_implemented_text, passed_on_page, passed_pattern = _feedback_texts(language)
    cells = _cells(notebook)
    graded, check = _first_exercise(cells)
    solution_cells = {c.get("id"): c for c in _cells(ROOT / "solutions" / notebook.name)}
    assert graded.get("id") in solution_cells, f"solution notebook has no cell {graded.get('id')}"
    solution = _source(solution_cells[graded["id"]])
    check_line = _source(check).strip().splitlines()[0]
    graded_line = _source(graded).strip().splitlines()[0]
    setup = next(c for c in cells if c["cell_type"] == "code")
    setup_line = _source(setup).strip().splitlines()[0]
    n_checks = sum(1 for c in cells if c.get("metadata", {}).get("grader", {}).get("role") == "check")

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    monitor = PageMonitor()
    monitor.install(context)
    page = context.new_page()
    try:
        path = notebook.relative_to(ROOT / "exercises").as_posix()
        # A workspace per language: the other test's notebook is not reopened next to it.
        page.goto(f"{jupyterlab['url']}/lab/workspaces/{language}/tree/{path}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        _wait_kernel_idle(jupyterlab["url"], path)

        # 1. Run all cells from the Run menu: every check says "not implemented yet".
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        not_implemented = page.locator(".jp-OutputArea-output", has_text=not_implemented_text)
        setup_errors = _cell(page, setup_line).locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        deadline = time.monotonic() + 60
        while not_implemented.count() < n_checks and time.monotonic() < deadline:
            assert setup_errors.count() == 0, \
                "the setup cell failed:\n" + "\n".join(setup_errors.all_inner_texts())[-3000:]
            time.sleep(0.25)
        assert not_implemented.count() == n_checks
        check_cell = _cell(page, check_line)
        check_cell.scroll_into_view_if_needed()
        feedback = check_cell.locator(".jp-OutputArea-output")
        assert feedback.count() == 1, f"expected one output, got {feedback.all_text_contents()}"
        assert not_implemented_text in feedback.text_content()
        assert feedback.get_attribute("data-mime-type") == "text/html", \
            "the feedback should be rendered as HTML in JupyterLab"
        assert "Traceback" not in check_cell.text_content()

        # 2. Paste the solution into the graded cell through the editor, run it and its check.
        editor = _cell(page, graded_line).locator(".cm-content").first
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(solution)
        page.keyboard.press("Shift+Enter")      # runs the graded cell, moves to the check cell
        page.keyboard.press("Shift+Enter")      # runs the check cell
        passing = check_cell.locator(".jp-OutputArea-output", has_text=passed_on_page)
        passing.wait_for(timeout=30_000)
        check_cell.scroll_into_view_if_needed()
        text = passing.text_content()
        assert not_implemented_text not in text and "✗" not in text, text
        marks = passing.locator("span", has_text="✓")
        assert marks.count() >= 1, f"no ✓ marks in the feedback: {text}"
        colours = {marks.nth(i).evaluate("e => getComputedStyle(e).color")
                   for i in range(marks.count())}
        assert colours == {"rgb(46, 125, 50)"}, f"✓ marks should be green, got {colours}"
        counts = passed_pattern.search(text)
        assert counts and counts["passed"] == counts["total"] != "0", text
        if language == "zh":   # the whole feedback is Chinese: no English words of the grader
            assert not re.search(r"public checks|not implemented|hint:", text), text

        # What the editor holds went through the browser: it is the solution, verbatim.
        typed = _cell(page, graded_line).locator(".cm-content").first.inner_text()
        def lines(text):  # CodeMirror renders an empty line as an extra newline
            return [ln.rstrip() for ln in text.replace("\u00a0", " ").splitlines() if ln.strip()]
        assert lines(typed) == lines(solution)

        # No extension a plain JupyterLab lacks was needed; nothing left localhost.
        body = page.locator(".jp-NotebookPanel").text_content()
        assert "No renderer could be found" not in body
        assert "Javascript output is disabled" not in body
        assert not monitor.external_requests, monitor.external_requests
        assert not monitor.page_errors, monitor.page_errors
    except Exception:
        shot = ROOT / "artifacts" / "screenshots" / f"jupyterlab-failure-{language}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        raise
    else:
        shot = ROOT / "artifacts" / "screenshots" / (
            "jupyterlab-passing-check.png" if language == "en" else
            f"jupyterlab-passing-check-{language}.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        check_cell.scroll_into_view_if_needed()
        page.screenshot(path=str(shot))
    finally:
        context.close()
