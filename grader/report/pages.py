"""Feedback pages: the learner's page and the instructor's view of the same learner.

Both are one self-contained HTML file, readable on a phone (no wide tables, text wraps): first
a summary per exercise with a bar, then the checks that failed with their messages, then the
passed checks folded away. The learner's page names each check in words (``sigmoid known
values``, not ``test_sigmoid_known_values``) and shows hidden checks only as ``hidden check N``
with the kind of problem. The instructor's page shows, in addition, each hidden check's real
name and the message a public check would have given (inputs, expected and actual values),
the instructor-only test files that ran, the notebooks with what was done with each, lateness
and the review flags: what is needed to settle a regrade request.
"""
from __future__ import annotations

import html

from ..i18n import N_, _, current_language, html_language
from ..results import BatchResults, SubmissionResult, SubmissionStatus, TestResult
from ..roster import describe_delay
from ..verdict import Status, status_text

OUTPUT_SHOWN = 1500
"""Characters of printed output shown per test in the feedback page."""
GOOD, PARTLY, BAD, GREY = "#2e7d32", "#ef6c00", "#c62828", "#757575"

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52em;margin:0 auto;padding:1em;"
    "line-height:1.45;color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.5em;"
    "margin:.3em 0;font-size:.85em}.ex{display:flex;flex-wrap:wrap;align-items:center;"
    "gap:.2em .8em;padding:.35em 0;border-bottom:1px solid #eee}.ex .id{flex:1 1 12em;"
    "font-family:monospace}.bar{display:inline-block;vertical-align:middle;flex:0 0 8em;width:8em;"
    "height:.8em;background:#e0e0e0;border-radius:.4em;"
    "overflow:hidden}.bar span{display:block;height:100%}.check{padding:.4em 0;"
    "border-bottom:1px solid #eee}.muted{color:#666;font-size:.9em}details summary{cursor:pointer;"
    "padding:.4em 0}.warn{background:#fff3e0;padding:.5em;border-left:4px solid #ef6c00}"
    ".pill{font-size:.8em;padding:0 .4em;border-radius:.6em;color:#fff;white-space:nowrap}")

NOTEBOOK_USE_TEXT = {"graded": N_("graded"), "duplicate": N_("duplicate"),
                     "unmatched": N_("unmatched"), "unreadable": N_("unreadable")}
"""What was done with a submitted notebook, in words (translated where shown)."""

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def page(title: str, body: str, style: str = PAGE_STYLE) -> str:
    """A complete self-contained HTML page (in the language in force: :mod:`grader.i18n`)."""
    return (f'<!DOCTYPE html><html lang="{html_language(current_language())}"><head>'
            f'<meta charset="utf-8">{VIEWPORT}'
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
            f"{body}\n</body></html>\n")


def bar(fraction: float, colour: str | None = None) -> str:
    """A horizontal bar filled to ``fraction`` (0..1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    colour = colour or (GOOD if fraction >= 1 else PARTLY if fraction > 0 else BAD)
    return (f'<span class="bar" role="img" aria-label="{fraction:.0%}"><span style="width:'
            f'{fraction * 100:.0f}%;background:{colour}"></span></span>')


def check_name(test: TestResult, instructor: bool) -> str:
    """How a check is named on a page: in words; a hidden one as ``hidden check N``."""
    if test.hidden:
        number = test.test_id.rsplit("hidden-", 1)[-1]
        real = f" ({test.title})" if instructor and test.check else ""
        return _("hidden check {number}").format(number=number) + real
    return test.title


def _status_pill(test: TestResult) -> str:
    colour = GOOD if test.status is Status.PASSED else BAD if test.status in (
        Status.FAILED, Status.ERROR) else GREY if test.status is Status.NOT_IMPLEMENTED else PARTLY
    label = status_text(test.status.value)
    return f'<span class="pill" style="background:{colour}">{html.escape(label)}</span>'


def _check_block(test: TestResult, instructor: bool) -> str:
    escape = html.escape
    message = test.message
    if test.output and not test.hidden:
        message += "\n--- " + _("printed output") + " ---\n" + test.output[-OUTPUT_SHOWN:]
    details = f"<pre>{escape(message)}</pre>" if message else ""
    if instructor and test.hidden and test.detail:
        details += (f'<div class="muted">{_("instructor only, what the check found:")}</div>'
                    f"<pre>{escape(test.detail)}</pre>")
    return (f'<div class="check"><b>{escape(check_name(test, instructor))}</b> '
            f'{_status_pill(test)} <span class="muted">{test.points:g} / {test.max_points:g}'
            f" &middot; {escape(test.exercise)}</span>{details}</div>")


def _exercise_summary(row: SubmissionResult) -> str:
    lines = []
    for key, result in row.exercises.items():
        fraction = result.score / result.max_points if result.max_points else 0.0
        bonus = _(" (bonus)") if result.bonus else ""
        lines.append(f'<div class="ex"><span class="id">{html.escape(key)}{bonus}</span>'
                     f"{bar(fraction)}<span>{result.score:g} / {result.max_points:g}</span>"
                     f'<span class="muted">{html.escape(status_text(result.status.value))}</span></div>')
    return "".join(lines)


def _notebook_lines(row: SubmissionResult) -> str:
    items = []
    for entry in row.notebooks:
        parts = [_(NOTEBOOK_USE_TEXT.get(entry.use, entry.use))]
        if entry.chapter:
            parts.append(entry.chapter)
        if entry.submitted_at:
            parts.append(_("submitted {time}").format(time=entry.submitted_at))
        if entry.reason:
            parts.append(entry.reason)
        if entry.note:
            parts.append(entry.note)
        if entry.solution_marked:
            parts.append(_("holds ### BEGIN SOLUTION markers (a solution notebook?)"))
        items.append(f"<li><code>{html.escape(entry.path)}</code>: "
                     f"{html.escape('; '.join(parts))}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _late_lines(row: SubmissionResult) -> str:
    if not row.late:
        return ""
    items = "".join("<li>" + html.escape(_(
        "{chapter}: late by {delay} (deadline {deadline}), penalty {penalty:g} point(s)").format(
        chapter=entry["chapter"], delay=describe_delay(entry["seconds_late"]),
        deadline=entry["deadline"] or _("set in the LMS"), penalty=entry["penalty"]))
        + "</li>" for entry in row.late)
    return f'<div class="warn">{_("Late submission:")}<ul>{items}</ul></div>'


def feedback_html(row: SubmissionResult, batch: BatchResults, instructor: bool = False) -> str:
    """One learner's page; ``instructor=True`` for the instructor's view of the same learner."""
    escape = html.escape
    name = escape(row.name)
    who = escape(row.learner["name"]) + f" ({name})" if row.learner else name
    heading = _("Instructor view: {who}") if instructor else _("Feedback for {who}")
    parts = [f"<h1>{heading.format(who=who)}</h1>"]
    if row.status is SubmissionStatus.GRADED:
        fraction = row.score / row.max_score if row.max_score else 0.0
        penalty = (" &minus; " + _("late penalty {penalty:g} = {final}").format(
            penalty=row.penalty, final=f"<b>{row.final_score:g}</b>") if row.penalty else "")
        bonus = (" + " + _("bonus {score}").format(
            score=f"<b>{row.bonus_score:g} / {row.bonus_max:g}</b>") if row.bonus_max else "")
        score = _("Score: {score}").format(score=f"<b>{row.score:g} / {row.max_score:g}</b>")
        parts.append(f"<p>{score}{bonus}{penalty} {bar(fraction)}</p>")
    else:
        parts.append(f'<p class="warn"><b>{escape(status_text(row.status.value))}'
                     f"</b>: {escape(row.reason or '')}</p>")
    parts.append(_late_lines(row))
    if row.exercises:
        parts.append(f"<h2>{_('Exercises')}</h2>{_exercise_summary(row)}")
    failed = [test for test in row.tests if test.status is not Status.PASSED]
    passed = [test for test in row.tests if test.status is Status.PASSED]
    if failed:
        parts.append("<h2>" + _("To fix ({count})").format(count=len(failed)) + "</h2>"
                     + "".join(_check_block(test, instructor) for test in failed))
    if passed:
        parts.append("<details><summary>" + _("Passed checks ({count})").format(
            count=len(passed)) + "</summary>"
                     + "".join(_check_block(test, instructor) for test in passed)
                     + "</details>")
    parts.append(f"<h2>{_('Notebooks')}</h2>{_notebook_lines(row)}" if row.notebooks else "")
    if instructor:
        parts.append(_instructor_extras(row, batch))
    versions = {key: escape(str(batch.versions.get(key))) for key in ("grader", "python", "numpy")}
    parts.append('<p class="muted">' + _(
        "Graded by grader {grader} with Python {python}, numpy {numpy}. Hidden checks show "
        "only what kind of problem they found.").format(**versions) + "</p>")
    title = (_("Instructor view: {who}") if instructor else _("Feedback: {who}")).format(
        who=row.name)
    return page(title, "\n".join(part for part in parts if part))


def _instructor_extras(row: SubmissionResult, batch: BatchResults) -> str:
    escape = html.escape
    extra = "".join(f"<li><code>{escape(path)}</code></li>" for path in batch.extra_tests)
    flags = "".join(f"<li>{escape(flag.notebook)} cell {flag.cell} line {flag.line}: "
                    f"{escape(flag.reason)}</li>" for flag in row.flags)
    learner = escape(", ".join(f"{key}: {value}" for key, value in row.learner.items())
                     ) if row.learner else _("not in the roster")
    none = _("none")
    cached = _(" (reused from the cache)") if row.cached else ""
    return (f"<h2>{_('For the instructor')}</h2><p>{_('Learner:')} {learner}<br>"
            f"{_('Layout:')} {escape(row.layout or '?')}; {_('source:')} "
            f"<code>{escape(row.path)}</code><br>{_('Content hash:')} "
            f"<code>{escape(row.content_hash[:16])}</code>{cached}</p>"
            f"<p>{_('Instructor-only test files that ran:')} "
            f"{'<ul>' + extra + '</ul>' if extra else none}</p>"
            f"<p>{_('Review flags:')} {'<ul>' + flags + '</ul>' if flags else none}</p>")
