"""The learner's check report in Jupyter: rich HTML, with a plain-text twin for terminals.

Layout, after the best tools' test reports: a one-line verdict (with the one diagnosis when
every failure has the same recognised cause), then the first failing check in full: its
message, the input, expected and got side by side with the differing entries highlighted, and
what the mistake likely is; further failures are folded. For element-wise functions of one
variable (activations and their derivatives) a small inline SVG plot draws the learner's
function over the expected one. Every learner-controlled text is escaped.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .checks import CheckFailed, describe
from .diagnosis import Diagnosis
from .i18n import _
from .verdict import Status, likely_mistake_prefix

PASSED_COLOUR, FAILED_COLOUR, NEUTRAL_COLOUR = "#2e7d32", "#c62828", "#757575"
MARK_STYLE = "background:#ffd54f;color:#000"
GRID_LIMIT = 60
"""Arrays with at most this many entries (and at most 2 axes) are shown as highlighted grids."""


@dataclass(frozen=True)
class Row:
    """One public check's outcome as the report shows it."""

    status: Status
    name: str
    message: str                      # the learner message (with hint or likely mistake)
    diagnosis: Diagnosis | None = None
    failure: CheckFailed | None = None
    summary: str = ""                 # a few words, e.g. "wrong values (sign error?)"

    @property
    def passed(self) -> bool:
        """Whether the check passed."""
        return self.status is Status.PASSED


# --------------------------------------------------------------------------- verdict
def common_diagnosis(rows: list[Row]) -> Diagnosis | None:
    """The diagnosis shared by every failed row, when they all have the same one."""
    failed = [row for row in rows if not row.passed]
    labels = {row.diagnosis.label if row.diagnosis else None for row in failed}
    if len(labels) == 1 and None not in labels:
        return failed[0].diagnosis
    return None


def verdict_line(exercise: str, rows: list[Row]) -> str:
    """E.g. ``ch03.sigmoid: 1 of 3 public checks passed; likely mistake (all 2 failures):
    sign error``."""
    passed = sum(row.passed for row in rows)
    line = _("{exercise}: {passed} of {total} public checks passed").format(
        exercise=exercise, passed=passed, total=len(rows))
    if passed == len(rows):
        return line + _(". The grader also runs hidden checks on other inputs.")
    shared = common_diagnosis(rows)
    failed = len(rows) - passed
    if shared is not None and failed > 1:
        line += _("; one likely mistake behind all {failed} failures: {mistake}").format(
            failed=failed, mistake=shared.label)
    return line


def _message_lines(row: Row, shared: Diagnosis | None, first: bool) -> list[str]:
    """A failed row's message; a later failure with the shared diagnosis drops its repeat."""
    lines = row.message.splitlines()
    if not first and shared is not None:
        lines = [line for line in lines if not line.startswith(likely_mistake_prefix())]
    return lines


def text_report(exercise: str, rows: list[Row]) -> str:
    """The report as plain text (terminals, nbgrader logs)."""
    out = [verdict_line(exercise, rows)]
    shared = common_diagnosis(rows)
    failed = [row for row in rows if not row.passed]
    for index, row in enumerate(failed):
        if index > 0:  # folded: a few words each
            out.append(f"  ✗ {row.name}: {row.summary or row.status.value}")
            continue
        out.append(f"  ✗ {row.name}")
        out += [f"      {line}" for line in _message_lines(row, shared, True)]
    passed = [row.name for row in rows if row.passed]
    if passed:
        out.append("  ✓ " + ", ".join(passed))
    return "\n".join(out)


# --------------------------------------------------------------------------- HTML
def _differs(got, expected) -> np.ndarray | None:
    """Boolean mask of the entries of ``got`` that differ from ``expected`` (same shape)."""
    if not (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)
            and got.shape == expected.shape and got.dtype.kind in "biuf"
            and expected.dtype.kind in "biuf"):
        return None
    with np.errstate(all="ignore"):
        return ~np.isclose(got.astype(float), expected.astype(float), rtol=1e-7, atol=1e-12,
                           equal_nan=True)


def _number(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def _grid(value, mask: np.ndarray | None = None) -> str:
    """A small array as an HTML grid (entries that differ highlighted), else as text."""
    if (isinstance(value, np.ndarray) and value.ndim <= 2 and 0 < value.size <= GRID_LIMIT
            and value.dtype.kind in "biuf"):
        table = np.atleast_2d(value)
        marks = np.atleast_2d(mask) if mask is not None else np.zeros(table.shape, bool)
        rows = []
        for row, row_marks in zip(table, marks):
            cells = "".join(
                f'<td style="padding:1px 6px;text-align:right;'
                f'{MARK_STYLE if marked else ""}">{html.escape(_number(entry))}</td>'
                for entry, marked in zip(row, row_marks))
            rows.append(f"<tr>{cells}</tr>")
        caption = _("shape {shape}, {dtype}").format(shape=value.shape, dtype=value.dtype)
        return (f'<table style="border-collapse:collapse;font-family:monospace">{"".join(rows)}'
                f'</table><div style="color:{NEUTRAL_COLOUR};font-size:85%">{caption}</div>')
    return (f'<pre style="margin:0;white-space:pre-wrap">{html.escape(describe(value, 400))}'
            "</pre>")


def side_by_side(failure: CheckFailed) -> str:
    """Input, expected and got in three columns; the entries of got that differ highlighted."""
    if not failure.compared:
        return ""
    columns = []
    if failure.inputs:
        inputs = "".join(f"<div>{_grid(value)}</div>" for value in failure.inputs[:3])
        columns.append((_("input"), inputs))
    mask = _differs(failure.got, failure.expected)
    columns.append((_("expected"), _grid(failure.expected)))
    columns.append((_("got"), _grid(failure.got, mask)))
    head = "".join(f'<th style="text-align:left;padding:2px 12px 2px 0">{html.escape(name)}</th>'
                   for name, _cell in columns)
    body = "".join(f'<td style="vertical-align:top;padding:2px 12px 2px 0">{cell}</td>'
                   for _name, cell in columns)
    return (f'<div style="overflow-x:auto"><table style="border-collapse:collapse;margin:4px 0">'
            f"<tr>{head}</tr><tr>{body}</tr></table></div>")


def _failure_html(row: Row, shared: Diagnosis | None, first: bool) -> str:
    lines = _message_lines(row, shared, first)
    prefixes = (likely_mistake_prefix(), _("hint:"))
    advice = [line for line in lines if line.startswith(prefixes)]
    what = [line for line in lines if line not in advice]
    if first and row.failure is not None and row.failure.compared:
        what = what[:1]  # the side-by-side table shows the arrays
    parts = [f'<pre style="margin:2px 0;white-space:pre-wrap">{html.escape(chr(10).join(what))}'
             "</pre>"]
    if first and row.failure is not None:
        parts.append(side_by_side(row.failure))
    for line in advice:
        label = next(prefix for prefix in prefixes if line.startswith(prefix))
        parts.append(f"<div><b>{html.escape(label)}</b>{html.escape(line[len(label):])}</div>")
    return "".join(parts)


def _mark(passed: bool) -> str:
    return (f'<span style="color:{PASSED_COLOUR if passed else FAILED_COLOUR}">'
            f"{'✓' if passed else '✗'}</span>")


def html_report(exercise: str, rows: list[Row], plot: str = "") -> str:
    """The report as HTML (Jupyter)."""
    passed = all(row.passed for row in rows)
    colour = PASSED_COLOUR if passed else FAILED_COLOUR
    shared = common_diagnosis(rows)
    failed = [row for row in rows if not row.passed]
    parts = [f'<div style="border-left:4px solid {colour};padding:4px 10px;max-width:100%">'
             f"<div><b>{_mark(passed)} {html.escape(verdict_line(exercise, rows))}</b></div>"]
    first = ""
    if failed:
        first = (f"<div style='margin-top:4px'>{_mark(False)} <b>{html.escape(failed[0].name)}"
                 f"</b>{_failure_html(failed[0], shared, True)}</div>")
    if first or plot:
        parts.append(f'<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
                     f'<div style="flex:1 1 360px;min-width:0">{first}</div>{plot}</div>')
    if len(failed) > 1:
        more = "".join(f"<li>{_mark(False)} {html.escape(row.name)}"
                       f"{_failure_html(row, shared, False)}</li>" for row in failed[1:])
        summary = (_("{count} more failed checks") if len(failed) > 2
                   else _("{count} more failed check")).format(count=len(failed) - 1)
        parts.append(f"<details><summary>{html.escape(summary)}</summary>"
                     f"<ul style='margin:2px 0'>{more}</ul></details>")
    names = [row.name for row in rows if row.passed]
    if names:
        parts.append(f"<div>{_mark(True)} {html.escape(', '.join(names))}</div>")
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------- plot
PLOT_WIDTH, PLOT_HEIGHT, PLOT_POINTS = 300, 170, 161


def _evaluate(function: Callable, x: np.ndarray) -> np.ndarray | None:
    """``function(x)`` as a float array of x's shape, or None when it fails or has no such form."""
    try:
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y = function(x.copy())
        y = np.asarray(y, dtype=float)
    except Exception:  # noqa: BLE001 - the learner's function may fail: then no curve
        return None
    return y if y.shape == x.shape else None


def _polyline(x, y, to_px, colour: str, dash: str = "") -> str:
    segments, current = [], []
    for xi, yi in zip(x, y):
        if math.isfinite(yi):
            current.append("%.1f,%.1f" % to_px(xi, yi))
        elif current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return "".join(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{style} '
                   f'points="{" ".join(points)}"/>' for points in segments)


def function_plot(name: str, learner: Callable, reference: Callable,
                  x_range: tuple[float, float]) -> str:
    """An inline SVG plot of the learner's element-wise function over the expected one.

    Returns ``""`` when the reference cannot be drawn; the learner's curve is left out (and
    said so) when it fails or returns another shape.
    """
    x = np.linspace(*x_range, PLOT_POINTS)
    expected = _evaluate(reference, x)
    if expected is None:
        return ""
    got = _evaluate(learner, x)
    low, high = float(np.nanmin(expected)), float(np.nanmax(expected))
    pad = 0.1 * (high - low or 1.0)
    low, high = low - pad, high + pad
    left, right, top, bottom = 46, PLOT_WIDTH - 8, 8, PLOT_HEIGHT - 22

    def to_px(xi, yi):
        yi = min(max(yi, low - pad), high + pad)  # keep wild values at the edge of the frame
        return (left + (xi - x_range[0]) / (x_range[1] - x_range[0]) * (right - left),
                bottom - (yi - low) / (high - low) * (bottom - top))

    axis = "#999"
    zero_y = to_px(x_range[0], 0.0)[1] if low <= 0 <= high else None
    label = _("{name}: your function (red) against the expected one (green)").format(name=name)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{PLOT_WIDTH}" '
             f'height="{PLOT_HEIGHT}" role="img" aria-label="{html.escape(label)}" '
             'style="font:11px sans-serif">',
             f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
             f'fill="none" stroke="{axis}"/>']
    if zero_y is not None:
        parts.append(f'<line x1="{left}" x2="{right}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" '
                     f'stroke="#ddd"/>')
    for value, anchor in ((high - pad, "end"), (low + pad, "end")):
        parts.append(f'<text x="{left - 3}" y="{to_px(0, value)[1] + 4:.1f}" '
                     f'text-anchor="{anchor}" fill="#555">{value:.2g}</text>')
    for value in (x_range[0], 0.0, x_range[1]):
        parts.append(f'<text x="{to_px(value, low)[0]:.1f}" y="{PLOT_HEIGHT - 8}" '
                     f'text-anchor="middle" fill="#555">{value:g}</text>')
    parts.append(_polyline(x, expected, to_px, PASSED_COLOUR))
    if got is not None:
        parts.append(_polyline(x, got, to_px, FAILED_COLOUR, dash="5 3"))
    parts.append("</svg>")
    legend = (f'<span style="color:{PASSED_COLOUR}">── {html.escape(_("expected"))}</span> '
              f'<span style="color:{FAILED_COLOUR}">- - {html.escape(_("yours"))}</span>'
              if got is not None else
              f'<span style="color:{FAILED_COLOUR}">'
              f'{html.escape(_("your function could not be drawn"))}</span>')
    return (f'<figure style="margin:0"><div>{"".join(parts)}</div>'
            f'<figcaption style="font-size:85%">{html.escape(name)}(z): {legend}</figcaption>'
            "</figure>")
