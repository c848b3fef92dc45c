"""What a regrade changed: per learner, the old and new final score and why.

The previous run's results.json (kept in ``OUT/previous/``) is compared with this run: a
learner whose final score or status differs, who is new, or who is gone gets one entry; the
reason names what differs: the submitted files (content hash), the checks, solutions or grader
(the catalog fingerprint), the late penalty, and the exercises whose score moved.
"""
from __future__ import annotations

import csv
import io

from ..results import BatchResults


def _old_score(row: dict) -> float | None:
    if row.get("status") != "graded":
        return None
    return row.get("final_score", row.get("score"))


def _why(old: dict, new: dict, old_batch: dict, new_batch: dict) -> str:
    reasons = []
    if old.get("content_hash") != new.get("content_hash"):
        reasons.append("submission changed")
    if old_batch.get("catalog_fingerprint") != new_batch.get("catalog_fingerprint"):
        reasons.append("checks, solutions or grader changed")
    if old.get("status") != new.get("status"):
        reasons.append(f"status {old.get('status')} -> {new.get('status')}")
    if old.get("penalty", 0.0) != new.get("penalty", 0.0):
        reasons.append(f"late penalty {old.get('penalty', 0.0):g} -> {new.get('penalty', 0.0):g}")
    old_ex, new_ex = old.get("exercises", {}), new.get("exercises", {})
    moved = [f"{key} {old_ex.get(key, {}).get('score', 0):g} -> "
             f"{new_ex.get(key, {}).get('score', 0):g}"
             for key in dict.fromkeys([*old_ex, *new_ex])
             if old_ex.get(key, {}).get("score") != new_ex.get(key, {}).get("score")]
    return "; ".join(reasons + moved) or "unchanged inputs (a different sandbox result?)"


def compare(previous: dict, batch: BatchResults) -> list[dict]:
    """Per-learner differences between ``previous`` (a results.json) and ``batch``.

    Returns
    -------
    list of dict
        ``{"name", "old_score", "new_score", "old_status", "new_status", "why"}`` for every
        learner whose final score or status changed, who is new, or who is gone.
    """
    new_batch = batch.to_dict()
    old_rows = {row.get("name"): row for row in previous.get("submissions", [])}
    new_rows = {row["name"]: row for row in new_batch["submissions"]}
    changes = []
    for name in dict.fromkeys([*new_rows, *old_rows]):
        old, new = old_rows.get(name), new_rows.get(name)
        if old is None:
            why = "new in this run"
        elif new is None:
            why = "not in this run"
        elif _old_score(old) == _old_score(new) and old.get("status") == new.get("status"):
            continue
        else:
            why = _why(old, new, previous, new_batch)
        changes.append({"name": name,
                        "old_score": _old_score(old) if old else None,
                        "new_score": _old_score(new) if new else None,
                        "old_status": old.get("status") if old else None,
                        "new_status": new.get("status") if new else None, "why": why})
    return changes


def changes_csv(changes: list[dict]) -> str:
    """The text of changes.csv: ``name, old_score, new_score, old_status, new_status, why``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["name", "old_score", "new_score", "old_status", "new_status", "why"]
    writer.writerow(columns)
    for change in changes:
        writer.writerow(["" if change[key] is None else change[key] for key in columns])
    return buffer.getvalue()
