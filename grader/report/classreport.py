"""The class report: one self-contained HTML page with the class at a glance.

Score distributions (overall and per exercise, inline SVG), the checks most often failed with
their most common messages, time-outs and crashes, late and missing learners, unmatched
submissions, and similarity flags (:func:`similar_pairs`): pairs of learners whose graded code
is identical or nearly so after names and spacing are normalised (winnowing fingerprints, as
MOSS does; :mod:`grader.similarity`). A flag is a reason to look, never a penalty.
"""
from __future__ import annotations

import html
import itertools
from collections import Counter
from dataclasses import dataclass

from ..i18n import _
from ..results import BatchResults, SubmissionResult, SubmissionStatus
from ..roster import describe_delay
from ..similarity import resemblance
from ..verdict import Status, status_text
from .pages import BAD, GOOD, PAGE_STYLE, page

COMMON_LIMIT = 10
"""A fingerprint found in more learners' code than this is common code and ignored (MOSS's
``-m`` option, whose default is 10)."""
SIMILARITY_THRESHOLD = 0.8
"""Flag a pair when this share of their fingerprints is shared (Jaccard index)."""
MIN_SHARED = 15
"""... and they share at least this many fingerprints (short code is alike by necessity)."""
TROUBLE = (Status.TIMEOUT, Status.CRASHED, Status.MEMORY_LIMIT, Status.GRADER_ERROR)
STYLE = ("table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
         "padding:3px 6px;text-align:left;vertical-align:top}.grid{display:flex;flex-wrap:wrap;"
         "gap:1em}.grid figure{margin:0;flex:0 1 16em}figcaption{font-family:monospace;"
         "font-size:.85em}")


@dataclass(frozen=True)
class SimilarPair:
    """Two learners whose graded code is alike."""

    first: str
    second: str
    score: float
    shared: int
    exercises: tuple[str, ...]


def _tagged(row: SubmissionResult) -> set[tuple[str, int]]:
    return {(exercise, value) for exercise, values in row.fingerprints.items()
            for value in values}


def similar_pairs(rows: list[SubmissionResult], threshold: float = SIMILARITY_THRESHOLD,
                  min_shared: int = MIN_SHARED) -> list[SimilarPair]:
    """Pairs of learners with nearly identical graded code, most similar first.

    Each learner's fingerprints are tagged with their exercise (a match across exercises does
    not count); fingerprints that more than :data:`COMMON_LIMIT` learners have are dropped.
    """
    sets = {row.name: _tagged(row) for row in rows if row.fingerprints}
    counts = Counter(item for items in sets.values() for item in items)
    sets = {name: {item for item in items if counts[item] <= COMMON_LIMIT}
            for name, items in sets.items()}
    pairs = []
    for first, second in itertools.combinations(sorted(sets), 2):
        shared = sets[first] & sets[second]
        score = resemblance(sets[first], sets[second])
        if len(shared) >= min_shared and score >= threshold:
            exercises = sorted({exercise for exercise, _ in shared})
            pairs.append(SimilarPair(first, second, score, len(shared), tuple(exercises)))
    return sorted(pairs, key=lambda pair: (-pair.score, pair.first, pair.second))


def histogram_svg(values: list[float], maximum: float, bins: int = 10, width: int = 260,
                  height: int = 110) -> str:
    """An inline SVG histogram of ``values`` on ``[0, maximum]``."""
    counts = [0] * bins
    for value in values:
        index = bins - 1 if maximum <= 0 else min(int(value / maximum * bins), bins - 1)
        counts[index] += 1
    top = max(counts) or 1
    step = width / bins
    bars = []
    for index, count in enumerate(counts):
        tall = (height - 30) * count / top
        colour = GOOD if index == bins - 1 else BAD if index == 0 else "#1565c0"
        bars.append(f'<rect x="{index * step + 1:.1f}" y="{height - 14 - tall:.1f}" '
                    f'width="{step - 2:.1f}" height="{tall:.1f}" fill="{colour}">'
                    "<title>" + _("{count} learner(s)").format(count=count) + "</title></rect>")
        if count:
            bars.append(f'<text x="{index * step + step / 2:.1f}" y="{height - 16 - tall:.1f}" '
                        f'font-size="9" text-anchor="middle">{count}</text>')
    axis = (f'<text x="0" y="{height - 2}" font-size="9">0</text><text x="{width}" '
            f'y="{height - 2}" font-size="9" text-anchor="end">{maximum:g}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img">{"".join(bars)}{axis}</svg>')


def _table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<p>{_('None.')}</p>"
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _most_failed(graded: list[SubmissionResult], limit: int = 15) -> list[list[str]]:
    failures: dict[str, list[str]] = {}
    for row in graded:
        for test in row.tests:
            if test.status not in (Status.PASSED, Status.MISSING, Status.NOT_IMPLEMENTED):
                name = test.test_id + (f" ({test.check})" if test.hidden and test.check else "")
                text = (test.detail if test.hidden and test.detail else test.message)
                failures.setdefault(name, []).append(text.splitlines()[0] if text else "")
    ranked = sorted(failures.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    rows = []
    for name, messages in ranked:
        common = Counter(messages).most_common(2)
        shown = "<br>".join(f"{count}&times; {html.escape(text[:160])}"
                            for text, count in common)
        rows.append([f"<code>{html.escape(name)}</code>", str(len(messages)), shown])
    return rows


def class_report_html(batch: BatchResults) -> str:
    """The text of report.html."""
    escape = html.escape
    rows = list(batch.submissions)
    graded = [row for row in rows if row.status is SubmissionStatus.GRADED]
    totals = [row.final_score for row in graded]
    counts = Counter(status_text(row.status.value) for row in rows)
    mean = sum(totals) / len(totals) if totals else 0.0
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    parts = [f"<h1>{_('Class report')}</h1><p>" + escape(_(
        "{rows} row(s): {statuses}. Mean final score {mean:.1f} / {maximum:g}. Generated "
        "{generated}.").format(rows=len(rows), statuses=statuses, mean=mean,
                               maximum=batch.max_score, generated=batch.generated_at)) + "</p>"]
    parts.append(f"<h2>{_('Overall score')}</h2><figure style='max-width:30em;margin:0'>"
                 f"{histogram_svg(totals, batch.max_score)}</figure>")
    figures = []
    for entry in batch.exercises:
        scores = [row.exercises[entry.id].score for row in graded if entry.id in row.exercises]
        figures.append(f"<figure>{histogram_svg(scores, entry.max_points)}<figcaption>"
                       + escape(_("{exercise} (max {points:g})").format(
                           exercise=entry.id, points=entry.max_points))
                       + "</figcaption></figure>")
    parts.append(f"<h2>{_('Score per exercise')}</h2><div class='grid'>{''.join(figures)}</div>")
    parts.append(f"<h2>{_('Most failed checks')}</h2>" + _table(
        [_("check"), _("failures"), _("most common messages")], _most_failed(graded)))
    trouble = [[escape(row.name), f"<code>{escape(test.test_id)}</code>",
                escape(status_text(test.status.value)), escape(test.message[:160])]
               for row in graded for test in row.tests if test.status in TROUBLE]
    trouble += [[escape(row.name), "", status_text(row.status.value), escape(row.reason or "")]
                for row in rows if row.status is SubmissionStatus.NOT_GRADABLE]
    parts.append(f"<h2>{_('Time-outs, crashes and ungradable submissions')}</h2>"
                 + _table([_("learner"), _("check"), _("status"), _("message")], trouble))
    late = [[escape(row.name), escape(entry["chapter"]), describe_delay(entry["seconds_late"]),
             f"{entry['penalty']:g}"] for row in rows for entry in row.late]
    parts.append(f"<h2>{_('Late submissions')}</h2>"
                 + _table([_("learner"), _("chapter"), _("late by"), _("penalty")], late))
    parts.append(f"<h2>{_('Missing learners (in the roster, no submission)')}</h2>"
                 + (escape(", ".join(batch.missing)) or _("None.")))
    parts.append(f"<h2>{_('Unmatched submissions (not in the roster)')}</h2>"
                 + (escape(", ".join(batch.unmatched)) or _("None.")))
    pairs = [[escape(pair.first), escape(pair.second), f"{pair.score:.0%}", str(pair.shared),
              escape(", ".join(pair.exercises))] for pair in similar_pairs(graded)]
    parts.append(f"<h2>{_('Similarity flags (for review, never a penalty)')}</h2><p>" + _(
        "Pairs whose graded code is identical or nearly so once names and spacing are "
        "normalised (winnowing fingerprints as in MOSS; code shared by more than {limit} "
        "learners is ignored). Correct solutions of short exercises look alike; read the code "
        "before drawing any conclusion.").format(limit=COMMON_LIMIT) + "</p>"
                 + _table([_("learner"), _("learner"), _("shared"), _("fingerprints"),
                           _("exercises")], pairs))
    return page(_("Class report"), "\n".join(parts), style=PAGE_STYLE + STYLE)
