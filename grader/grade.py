"""Grade one learner: the pipeline from a snapshot in memory to a typed result.

:func:`grade_snapshot` is the per-learner entry point. It takes a
:class:`~grader.intake.Snapshot` (the learner's name and ``{relative path: bytes}``), never
paths, so a parallel or distributed engine can ship submissions as bytes to its workers and get
:class:`~grader.results.SubmissionResult` objects back as data. Discovery and intake happen on
the instructor's side (:mod:`grader.batch`).

    intake (parse) -> analyse -> execute -> verdict -> results
"""
from __future__ import annotations

import dataclasses
import time

from .analyse import SubmissionPlan, chapters_to_grade, plan_submission
from .catalog import Catalog
from .execute import Executor, SandboxConfig, chapter_config
from .i18n import use_language
from .intake import NotebookFile, Snapshot, read_notebooks
from .results import NotebookEntry, SubmissionResult, chapter_results
from .warm import WarmStarts

__all__ = ["grade_snapshot", "chapter_config"]


def _notebook_entries(files: list[NotebookFile], plan: SubmissionPlan,
                      times: dict[str, str]) -> tuple[NotebookEntry, ...]:
    entries = []
    for entry in files:
        use, note = plan.uses.get(entry.path, ("unreadable", ""))
        entries.append(NotebookEntry(
            entry.path, plan.assigned.get(entry.path), entry.reason,
            entry.notebook.warnings if entry.notebook else (), use, note,
            times.get(entry.path), entry.path in plan.solution_marked))
    return tuple(entries)


def _fingerprints(plan: SubmissionPlan) -> dict[str, tuple[int, ...]]:
    return {exercise.exercise.id: tuple(sorted(exercise.fingerprints))
            for chapter in plan.chapters for exercise in chapter.exercises
            if exercise.fingerprints}


def _own_sandboxes_only(catalog: Catalog, config: SandboxConfig,
                        chapters: list[str] | None) -> bool:
    """Whether every chapter asked for has a sandbox of its own (a batch's task for the Keras
    chapter: the main sandbox would then be started early for nothing)."""
    if not chapters:
        return False
    try:
        catalog = catalog.including(chapters)
        return all(chapter_config(config, catalog.chapters[name]) is not config
                   for name in chapters)
    except Exception:  # noqa: BLE001 - an unknown chapter is reported by the grading itself
        return False


def grade_snapshot(snapshot: Snapshot, catalog: Catalog, config: SandboxConfig | None = None,
                   chapters: list[str] | None = None, scan: bool = True) -> SubmissionResult:
    """Grade one learner's submission.

    Parameters
    ----------
    snapshot : Snapshot
        The learner's files, in memory (:func:`grader.intake.read_submission`).
    catalog : Catalog
        The course's exercises and checks (the check modules of the chapters graded are loaded
        if the catalog does not hold them yet).
    config : SandboxConfig, optional
        Sandbox limits (defaults otherwise).
    chapters : list of str, optional
        Chapters to grade (one not submitted scores zero); default: those the snapshot holds.
    scan : bool, default True
        Flag suspicious code in every notebook (False for a batch's further tasks of a
        learner, see :func:`grader.analyse.plan_submission`).

    Returns
    -------
    SubmissionResult
        Never raises for bad input: unreadable files and missing code become statuses.
    """
    started = time.monotonic()
    config = config or SandboxConfig()
    # a sandbox never fills a warm folder for another: only the reference solution's run does
    warm = None if config.warm_fill else WarmStarts(catalog, grade_snapshot).config_for
    with Executor(config, warm) as executor:
        if snapshot.files and not _own_sandboxes_only(catalog, executor.config, chapters):
            executor.start_early()  # the sandbox imports numpy while we analyse
        files = read_notebooks(snapshot)
        # the check modules of this learner's chapters, then the plan (exercises with checks)
        catalog = catalog.including(chapters_to_grade(files, catalog, chapters, snapshot.times))
        plan = plan_submission(files, catalog, chapters, snapshot.times, scan)
        common = {"notebooks": _notebook_entries(files, plan, snapshot.times),
                  "flags": plan.flags, "content_hash": snapshot.content_hash}
        if plan.not_gradable:
            return SubmissionResult.not_gradable(
                snapshot.name, snapshot.origin, plan.not_gradable,
                seconds=round(time.monotonic() - started, 3), **common)
        exercises, tests = {}, []
        for chapter_plan in plan.chapters:
            chapter = chapter_plan.chapter
            # the reference solution runs in this process only if a check compares with it
            reference = catalog.reference(chapter.name) if chapter.uses_reference else None
            # The checks' and verdicts' words in the language of the learner's notebook (of
            # their notebooks, for a missing chapter); the notebook is trusted for nothing else.
            with use_language(chapter_plan.language or plan.language):
                outcomes = executor.run_chapter(chapter_plan, reference)
                chapter_exercises, chapter_tests = chapter_results(chapter_plan.exercises,
                                                                   outcomes)
            exercises.update(chapter_exercises)
            tests += chapter_tests
        result = SubmissionResult(snapshot.name, snapshot.origin, exercises=exercises,
                                  tests=tuple(tests), protections=executor.protections,
                                  fingerprints=_fingerprints(plan), language=plan.language,
                                  **common)
    return dataclasses.replace(result, seconds=round(time.monotonic() - started, 3))
