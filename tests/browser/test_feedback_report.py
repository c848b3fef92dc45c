"""The self-check report as a learner sees it in Jupyter, rendered in Chromium.

A wrong (sign error), an unstable (overflowing) and a right sigmoid: the HTML report is loaded
into a page like JupyterLab's output area; the test checks what the learner sees (verdict,
highlighted differing entries, the diagnosis, the folded further failures, the plot) and saves
screenshots under artifacts/screenshots/.
"""
from __future__ import annotations

import numpy as np
import pytest

from browser_support import SCREENSHOT_DIR
from grader.selfcheck import run_checks

pytestmark = pytest.mark.browser


def wrong_sigmoid(z):
    """exp(z) where exp(-z) belongs: a sign error."""
    return 1.0 / (1.0 + np.exp(z))


def unstable_sigmoid(z):
    """The literal formula: right values, but exp overflows for z = -1000."""
    return 1.0 / (1.0 + np.exp(-z))


def right_sigmoid(z):
    z = np.asarray(z)
    out = np.empty_like(z, dtype=np.result_type(z.dtype, np.float32))
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1.0 + e)
    return out


PAGE = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>{name}</title></head>'
        '<body style="font-family:sans-serif;font-size:14px;margin:16px;max-width:900px">'
        '<div class="jp-OutputArea-output">{body}</div></body></html>')


@pytest.mark.parametrize("name, function", [("wrong", wrong_sigmoid),
                                            ("unstable", unstable_sigmoid),
                                            ("right", right_sigmoid)])
def test_sigmoid_feedback_renders(chromium, name, function):
    report = run_checks("ch03.sigmoid", function)
    page = chromium.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.set_content(PAGE.format(name=name, body=report.html()))
        text = page.inner_text("body")
        assert page.locator("svg polyline").count() >= 1, "no plot"
        if name == "wrong":
            assert "0 of 3 public checks passed" in text
            assert "likely mistake" in text and "sign error" in text
            assert page.locator("td[style*='background']").count() >= 2  # differing entries
            assert page.locator("details summary").inner_text().startswith("2 more failed")
            assert page.locator("svg polyline[stroke-dasharray]").count() >= 1  # your curve
        elif name == "unstable":
            assert "2 of 3 public checks passed" in text
            assert "overflow" in text and "without warnings" in text
        else:
            assert "3 of 3 public checks passed" in text and "✗" not in text
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"feedback-sigmoid-{name}.png"),
                        full_page=True)
    finally:
        page.close()
