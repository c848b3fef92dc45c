"""Grade many submissions: discover, intake, grade in parallel, save each row, report.

Each submission is read once (:mod:`grader.intake`), looked up in the row store by the hash of
its bytes and the catalog's fingerprint, and otherwise graded from its in-memory snapshot by
:func:`grader.grade.grade_snapshot` in a worker process. Every finished row is saved at once
(atomically) in ``OUT/.cache/``, so a batch that is killed loses no finished row and the next
run resumes where it stopped. No file or learner can stop the batch: whatever goes wrong
becomes that learner's row.
"""
from __future__ import annotations

import functools
import gc
import heapq
import itertools
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from .analyse import chapters_to_grade
from .catalog import Catalog
from .discover import SubmissionSource, discover
from .execute import SandboxConfig, chapter_config
from .grade import grade_snapshot
from .intake import Snapshot, read_notebooks, read_submission
from .report import write_atomically, write_reports
from .results import BatchResults, ClassSettings, SubmissionResult, SubmissionStatus, enrol

IN_FLIGHT_PER_WORKER = 2
"""Submissions (snapshots) held in memory per worker process (bounds the batch's memory)."""


@dataclass(frozen=True)
class CourseSetup:
    """How a worker process builds its catalog (hashable: the key of its cache)."""

    solutions_dir: str
    checks_dir: str
    extra_dirs: tuple[str, ...]
    chapters: tuple[str, ...] | None

    @classmethod
    def of(cls, catalog: Catalog) -> CourseSetup:
        """The setup that rebuilds ``catalog`` in another process."""
        return cls(str(catalog.solutions_dir), str(catalog.checks_dir), tuple(catalog.extra_dirs),
                   catalog.loaded_chapters)


@functools.cache
def worker_catalog(setup: CourseSetup) -> Catalog:
    """The catalog of a worker process, built once. Check modules of further chapters load when
    a learner of this worker submits them, reference solutions when a check first uses them: a
    batch without the Keras chapter never imports Keras."""
    catalog = Catalog(Path(setup.solutions_dir), Path(setup.checks_dir), setup.extra_dirs,
                      chapters=setup.chapters)
    gc.freeze()  # what the worker imported stays: its garbage collector need not walk it
    return catalog


def grade_safely(snapshot: Snapshot, catalog: Catalog, config: SandboxConfig,
                 chapters: list[str] | None, scan: bool = True) -> SubmissionResult:
    """:func:`grade_snapshot`, with any exception turned into a not-gradable row."""
    try:
        return grade_snapshot(snapshot, catalog, config, chapters, scan)
    except Exception as exc:  # noqa: BLE001 - never abort the batch
        return SubmissionResult.not_gradable(
            snapshot.name, snapshot.origin,
            f"internal grader error: {type(exc).__name__}: {exc}",
            content_hash=snapshot.content_hash)


def grade_in_worker(setup: CourseSetup, config: SandboxConfig, snapshot: Snapshot,
                    chapters: list[str] | None, scan: bool = True) -> SubmissionResult:
    """The work of one worker process: everything it needs arrives as data."""
    return grade_safely(snapshot, worker_catalog(setup), config, chapters, scan)


def is_internal_error(row: SubmissionResult) -> bool:
    """Rows made by a failure of the grader itself (never saved: a rerun may succeed)."""
    return (row.reason or "").startswith(("internal grader error", "grader worker failed"))


class RowStore:
    """Finished rows on disk, one JSON file each, keyed by content hash and catalog fingerprint.

    Parameters
    ----------
    folder : Path
        Usually ``OUT/.cache``.
    fingerprint : str
        The catalog's fingerprint: rows graded with other solutions, checks or grader code are
        never reused.
    chapters : list of str or None
        Chapters requested on the command line (part of the key).
    """

    def __init__(self, folder: Path, fingerprint: str, chapters: list[str] | None):
        self.folder = Path(folder)
        self.suffix = fingerprint[:16] + ("" if chapters is None else "-" + "+".join(chapters))

    def _path(self, snapshot: Snapshot) -> Path:
        return self.folder / f"{snapshot.content_hash[:32]}-{self.suffix}.json"

    def load(self, snapshot: Snapshot) -> SubmissionResult | None:
        """The saved row of this snapshot, renamed for this learner and marked cached."""
        try:
            data = json.loads(self._path(snapshot).read_text(encoding="utf-8"))
            row = SubmissionResult.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return replace(row, name=snapshot.name, path=snapshot.origin, cached=True)

    def save(self, snapshot: Snapshot, row: SubmissionResult):
        """Save a finished row (atomically), unless the grader itself failed on it."""
        if not is_internal_error(row):
            write_atomically(self._path(snapshot),
                             json.dumps(row.to_dict(private=True), ensure_ascii=False))


class Progress:
    """A one-line progress bar on stderr: done/total, elapsed time and an estimate."""

    def __init__(self, total: int, stream=sys.stderr, enabled: bool = True):
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled
        self.started = time.monotonic()

    def step(self, label: str = ""):
        """One more submission done (``label`` names it)."""
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        remaining = elapsed / self.done * (self.total - self.done)
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  "
                          f"{elapsed:.1f}s elapsed, ETA {remaining:.1f}s  {label[:30]:<30}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def chapter_tasks(snapshot: Snapshot, catalog: Catalog, config: SandboxConfig,
                  chapters: list[str] | None) -> list[list[str] | None]:
    """How a worker pool grades one submission: the chapter lists of its tasks, longest first.

    A chapter that needs a sandbox of its own (larger limits: the Keras chapter, by far the
    costliest) is a task of its own, and the other chapters are one task, so that two workers
    share a learner's course instead of one worker grading it all while the other waits at the
    end of the batch. Chapters allowed the most CPU time come first. ``[chapters]`` (one task)
    when there is nothing to split, e.g. a submission in which no chapter of the course is found
    (its row then says why).
    """
    wanted = chapters_to_grade(read_notebooks(snapshot), catalog, chapters, snapshot.times)
    if len(wanted) < 2:
        return [chapters]
    catalog = catalog.including(wanted)  # a chapter's SANDBOX settings are in its check module
    configs = {name: chapter_config(config, catalog.chapters[name]) for name in wanted}
    own = sorted((name for name in wanted if configs[name] is not config),
                 key=lambda name: -configs[name].cpu_seconds)  # the largest allowance first
    rest = [name for name in wanted if name not in own]
    return [[name] for name in own] + ([rest] if rest else [])


def joined_row(parts: list[SubmissionResult], catalog: Catalog) -> SubmissionResult:
    """One learner's row from the rows of their tasks (each graded some of the chapters).

    The tasks analysed the same notebooks, so notebooks and identity are the first row's;
    the flags are those of the task that scanned the notebooks; exercises and tests are put in
    course order, ``seconds`` is the grading time of all tasks. A task that could not grade at
    all makes the whole row not gradable.
    """
    if len(parts) == 1:
        return parts[0]
    failed = [row for row in parts if row.status is not SubmissionStatus.GRADED]
    if failed:
        return failed[0]
    order = {exercise_id: position for position, exercise_id in enumerate(catalog.exercises)}
    exercises = {key: value for row in parts for key, value in row.exercises.items()}
    exercises = dict(sorted(exercises.items(), key=lambda item: order.get(item[0], len(order))))
    tests = sorted((test for row in parts for test in row.tests),
                   key=lambda test: order.get(test.exercise, len(order)))  # stable in a chapter
    flags = tuple(dict.fromkeys(flag for row in parts for flag in row.flags))
    return replace(parts[0], exercises=exercises, tests=tuple(tests), flags=flags,
                   protections=next((row.protections for row in parts if row.protections), {}),
                   fingerprints={key: value for row in parts
                                 for key, value in row.fingerprints.items()},
                   seconds=round(sum(row.seconds for row in parts), 3))


class _Pool:
    """Worker processes grading at most ``limit`` submissions at a time.

    Each submission is graded as one or more tasks (:func:`chapter_tasks`), whose rows are
    joined (:func:`joined_row`) when the last one is done. Tasks wait in a queue of this process
    and a worker gets the next one when it is free: every held submission's first (costliest)
    task before any second one, so that the long tasks start early and the short ones fill in
    at the end of the batch instead of a long one running alone. When a worker process dies,
    the pool is broken and every unfinished task fails with it: each of them is then graded
    alone in a fresh process, so only a task that kills its worker gets a ``grader worker
    failed`` row, and a new pool takes the rest of the batch.
    """

    def __init__(self, workers: int, setup: CourseSetup, config: SandboxConfig,
                 chapters: list[str] | None, catalog: Catalog):
        self.workers, self.setup, self.config, self.chapters = workers, setup, config, chapters
        self.catalog = catalog
        self.limit = workers * IN_FLIGHT_PER_WORKER  # submissions held
        self.executor = ProcessPoolExecutor(max_workers=workers)
        # future -> (index, snapshot, task, whether it scans the notebooks)
        self.pending: dict[Future, tuple[int, Snapshot, list[str] | None, bool]] = {}
        self.queue: list = []              # heap of (rank, order, index, snapshot, task)
        self._order = itertools.count()
        self.parts: dict[int, list] = {}   # index -> [tasks left, rows done]

    def submit(self, index: int, snapshot: Snapshot):
        """Grade ``snapshot`` (the ``index``-th submission) in the workers."""
        tasks = chapter_tasks(snapshot, self.catalog, self.config, self.chapters)
        self.parts[index] = [len(tasks), []]
        for rank, task in enumerate(tasks):
            heapq.heappush(self.queue, (rank, next(self._order), index, snapshot, task))
        self._feed()

    def _feed(self):
        """Hand queued tasks to the workers, one per free worker. A submission's first task
        scans its notebooks for suspicious code (the flags of its row), the others do not."""
        while self.queue and len(self.pending) < self.workers:
            rank, _order, index, snapshot, task = heapq.heappop(self.queue)
            future = self.executor.submit(grade_in_worker, self.setup, self.config, snapshot,
                                          task, rank == 0)
            self.pending[future] = (index, snapshot, task, rank == 0)

    def _done(self, index: int, snapshot: Snapshot, row: SubmissionResult):
        """Record a task's row; the learner's joined row once it was their last task."""
        left, rows = self.parts[index]
        rows.append(row)
        self.parts[index][0] = left - 1
        if left > 1:
            return []
        del self.parts[index]
        return [(index, snapshot, joined_row(rows, self.catalog))]

    def finished(self, block_until_room: bool) -> Iterator[tuple[int, Snapshot, SubmissionResult]]:
        """Rows that are done; waits while the pool is full (or, at the end, until empty)."""
        while self.pending and (not block_until_room or len(self.parts) >= self.limit):
            done, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            if any(isinstance(future.exception(), BrokenProcessPool) for future in done):
                yield from self._recover()
                self._feed()
                continue
            for future in done:
                index, snapshot, _task, _scan = self.pending.pop(future)
                yield from self._done(index, snapshot, future.result())
            self._feed()

    def _recover(self) -> Iterator[tuple[int, Snapshot, SubmissionResult]]:
        unfinished = []
        for future, (index, snapshot, task, scan) in self.pending.items():
            if future.done() and future.exception() is None:
                yield from self._done(index, snapshot, future.result())
            else:
                unfinished.append((index, snapshot, task, scan))
        self.pending.clear()
        self.executor.shutdown(wait=False, cancel_futures=True)
        for index, snapshot, task, scan in unfinished:
            yield from self._done(index, snapshot, self._grade_alone(snapshot, task, scan))
        self.executor = ProcessPoolExecutor(max_workers=self.workers)

    def _grade_alone(self, snapshot: Snapshot, task: list[str] | None,
                     scan: bool) -> SubmissionResult:
        with ProcessPoolExecutor(max_workers=1) as alone:
            try:
                return alone.submit(grade_in_worker, self.setup, self.config, snapshot,
                                    task, scan).result()
            except BrokenProcessPool as exc:
                return SubmissionResult.not_gradable(
                    snapshot.name, snapshot.origin, f"grader worker failed: {exc}",
                    content_hash=snapshot.content_hash)

    def close(self):
        """Wait for the workers to exit."""
        self.executor.shutdown(wait=True)


def unknown_chapters(chapters: list[str] | None, catalog: Catalog) -> str | None:
    """A message naming the chapters the course does not have, or None."""
    unknown = [name for name in chapters or [] if name not in catalog.chapters]
    if not unknown:
        return None
    return f"unknown chapter(s) {', '.join(unknown)}; the course has {', '.join(catalog.chapters)}"


def _batch_chapters(rows: list[SubmissionResult], catalog: Catalog) -> list[str]:
    """The chapters any learner submitted, in course order."""
    found = {catalog.exercises[exercise_id].chapter for row in rows
             for exercise_id in row.exercises if exercise_id in catalog.exercises}
    return [name for name in catalog.chapters if name in found]


def _grade_sources(sources: list[SubmissionSource], catalog: Catalog, config: SandboxConfig,
                   workers: int, chapters: list[str] | None, store: RowStore | None,
                   force: bool, bar: Progress, engine=None) -> list[SubmissionResult]:
    """One row per source, in order: from the store, graded here, or graded by workers."""
    rows: list[SubmissionResult | None] = [None] * len(sources)
    if engine is not None:
        pool = engine.open(catalog, config, chapters)
    else:
        pool = None if workers <= 1 or len(sources) == 1 else _Pool(
            workers, CourseSetup.of(catalog), config, chapters, catalog)

    def finish(index: int, snapshot: Snapshot, row: SubmissionResult):
        rows[index] = row
        if store is not None:
            store.save(snapshot, row)  # at once: a killed batch keeps every finished row
        bar.step(row.name)

    try:
        for index, source in enumerate(sources):
            snapshot = read_submission(source)
            cached = None if store is None or force else store.load(snapshot)
            if cached is not None:
                rows[index] = cached
                bar.step(f"{cached.name} (cached)")
            elif pool is None:
                finish(index, snapshot, grade_safely(snapshot, catalog, config, chapters))
            else:
                pool.submit(index, snapshot)
                for done in pool.finished(block_until_room=True):
                    finish(*done)
        for done in pool.finished(block_until_room=False) if pool is not None else ():
            finish(*done)
    finally:
        if pool is not None:
            pool.close()
    return rows


def grade_batch(inputs: list[Path], out: Path | None, catalog: Catalog, config: SandboxConfig,
                workers: int = 2, force: bool = False, chapters: list[str] | None = None,
                use_cache: bool = True, progress: bool = True,
                settings: ClassSettings | None = None, engine=None) -> BatchResults:
    """Grade every submission found under ``inputs``.

    Parameters
    ----------
    inputs : list of Path
        Notebooks, learners' folders or folders of learners' folders.
    out : Path or None
        Where results.json, grades.csv, feedback/ and the row store (.cache/) go.
    catalog : Catalog
    config : SandboxConfig
    workers : int, default 2
        Worker processes (1: grade in this process).
    force : bool, default False
        Regrade even rows found in the store (they are saved again).
    chapters : list of str, optional
        Chapters every submission must contain; default: any chapter any learner submitted.
    use_cache : bool, default True
        False: neither reuse nor save rows.
    progress : bool, default True
        Show a progress bar on stderr.
    settings : ClassSettings, optional
        Roster, deadlines and late penalty (:func:`grader.results.enrol`).
    engine : grader.distributed.DaskEngine, optional
        Grade on this cluster instead of local worker processes (``workers`` is then unused);
        its ``open(catalog, config, chapters)`` gives a pool with :class:`_Pool`'s interface.

    Returns
    -------
    BatchResults

    Raises
    ------
    ValueError
        For a chapter name the course does not have.
    """
    problem = unknown_chapters(chapters, catalog)
    if problem:
        raise ValueError(problem)
    started = time.monotonic()
    sources = [source for path in inputs for source in discover(path)]
    store = RowStore(Path(out) / ".cache", catalog.fingerprint, chapters) \
        if out is not None and use_cache else None
    rows = _grade_sources(sources, catalog, config, workers, chapters, store, force,
                          Progress(len(sources), enabled=progress), engine)
    wanted = chapters if chapters is not None else _batch_chapters(rows, catalog)
    catalog = catalog.including(wanted)  # the graded chapters' checks (maximum points)
    rows = [row.with_chapters(wanted, catalog) for row in rows]
    settings = settings or ClassSettings()
    rows, missing, unmatched = enrol(rows, sources, catalog, settings)
    batch = BatchResults.of(wanted, catalog, rows, round(time.monotonic() - started, 3),
                            settings=settings, missing=tuple(missing), unmatched=tuple(unmatched))
    if out is not None:
        write_reports(batch, Path(out))
    return batch
