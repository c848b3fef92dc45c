"""Grade on a running Dask distributed cluster: one task per learner.

:class:`DaskEngine` connects to a Dask scheduler (``tcp://host:8786``) and gives
:func:`grader.batch.grade_batch` a pool with the same interface as its local process pool: the
batch still reads every submission once on the instructor's machine, looks it up in the row
store, shows the progress bar and writes each row as it arrives. Only the grading moves:

* each learner's :class:`~grader.intake.Snapshot` (name + ``{relative path: bytes}``) travels to
  a worker inside its task, so workers need not share a file system with the instructor;
* a worker grades it with :func:`grader.batch.grade_safely`, in the same sandbox as a local
  batch, with its own checkout of the course, and returns the row as plain data
  (:meth:`~grader.results.SubmissionResult.to_dict`);
* before its first task, a worker checks that its course is exactly the instructor's
  (:class:`CourseVersion`: solutions, checks, instructor-only checks, grader and nnlib code,
  Python, numpy and Keras) and refuses otherwise, saying what differs.

Faults are Dask's to handle, with Dask's own mechanisms: a worker that dies in the middle of a
task has the task rescheduled on another worker by the scheduler; a submission whose task kills
every worker it lands on is given up by the scheduler after ``distributed.scheduler.allowed-
failures`` + 1 tries (``KilledWorker``) and gets a ``not_gradable`` row; an exception inside a
task (never a learner's doing: :func:`~grader.batch.grade_safely` turns those into rows) is
retried :data:`TASK_RETRIES` times.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import platform
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from .batch import IN_FLIGHT_PER_WORKER, grade_safely
from .catalog import Catalog
from .execute import SandboxConfig
from .intake import Snapshot
from .paths import checks_dir, solutions_dir
from .results import SubmissionResult

if TYPE_CHECKING:  # Dask is imported only when a batch uses it (learner installs lack it)
    from distributed import Client, Future

CONNECT_TIMEOUT = 5.0
"""Seconds to reach the scheduler before giving up with a clear error."""

TASK_RETRIES = 1
"""Dask retries of a task that raised (a grader or cluster failure, never the learner's)."""

MIN_IN_FLIGHT = 8
"""Tasks kept on the scheduler even while few workers are connected (they may be starting)."""

CODE_PACKAGES = ("grader", "nnlib")
"""Packages whose code is part of the course version."""


class ClusterError(RuntimeError):
    """The cluster cannot grade this batch; the message says why and what to do."""


class CourseMismatch(ClusterError):
    """A worker's course is not the instructor's: grading there would give other results."""


class SchedulerUnreachable(ClusterError):
    """No Dask scheduler answered at the address given (or Dask is not installed)."""


def _digest(files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _code_files() -> list[tuple[str, bytes]]:
    here = Path(__file__).resolve().parent.parent
    return [(str(path.relative_to(here)), path.read_bytes()) for package in CODE_PACKAGES
            for path in sorted((here / package).rglob("*.py"))]


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class CourseVersion:
    """What must be identical on the instructor's machine and on every worker.

    Attributes
    ----------
    solutions, checks, extra_tests, code : str
        sha256 of the solution notebooks, the check modules, the instructor-only checks, and the
        ``grader`` and ``nnlib`` packages (file names and bytes).
    python, numpy, keras : str
        Versions (Keras is read from the installed package's metadata, not imported).
    """

    solutions: str
    checks: str
    extra_tests: str
    code: str
    python: str
    numpy: str
    keras: str

    @classmethod
    def of(cls, catalog: Catalog) -> CourseVersion:
        """The version of ``catalog`` and of this Python environment."""
        solutions = sorted(catalog.solutions_dir.glob("ch*.ipynb"))
        return cls(
            solutions=_digest([(path.name, path.read_bytes()) for path in solutions]),
            checks=_digest([(path.name, path.read_bytes()) for path in catalog.check_files]),
            extra_tests=_digest([(path.name, path.read_bytes()) for path in catalog.extra_files]),
            code=_digest(_code_files()), python=platform.python_version(),
            numpy=_version_of("numpy"), keras=_version_of("keras"))

    def differences(self, worker: CourseVersion) -> list[str]:
        """What differs between this (the instructor's) version and a worker's, one phrase each."""
        found = []
        for field in dataclasses.fields(self):
            mine, theirs = getattr(self, field.name), getattr(worker, field.name)
            if mine == theirs:
                continue
            if field.name in ("python", "numpy", "keras"):
                found.append(f"{field.name} {mine} on the instructor's machine, {theirs} on the "
                             "worker")
            else:
                label = field.name.replace("_", " ") if field.name != "code" else "grader/nnlib code"
                found.append(f"{label} differ (sha256 {mine[:12]} on the instructor's machine, "
                             f"{theirs[:12]} on the worker)")
        return found


@dataclass(frozen=True)
class ShippedCourse:
    """What a task carries about the course: its version and the instructor-only checks.

    The repository's solutions and checks are the worker's own checkout (the version proves they
    are the instructor's); instructor-only checks live only on the instructor's machine, so they
    travel as bytes, keyed by their path there.
    """

    version: CourseVersion
    extra_tests: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, catalog: Catalog) -> ShippedCourse:
        """The course of ``catalog``, ready to ship to workers."""
        extra = tuple((str(path.resolve()), path.read_bytes()) for path in catalog.extra_files)
        return cls(CourseVersion.of(catalog), extra)


def _extra_test_dirs(course: ShippedCourse) -> list[Path]:
    """Write the instructor-only checks under this machine's temporary folder, at their
    instructor's paths below a private root (so they load, number and sort as there).

    The sandbox gives learner code a private /tmp, so these files are not visible to it.
    """
    if not course.extra_tests:
        return []
    root = Path(tempfile.gettempdir()) / f"nn-grader-extra-{course.version.extra_tests[:16]}"
    folders = []
    for original, data in course.extra_tests:
        path = root / original.lstrip("/\\").replace(":", "")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if path.parent not in folders:
            folders.append(path.parent)
    return folders


@functools.cache
def worker_catalog(course: ShippedCourse) -> Catalog:
    """This worker's catalog of the course, built once, after checking it is the instructor's.

    Raises
    ------
    CourseMismatch
        Naming what differs from the instructor's course.
    """
    catalog = Catalog(solutions_dir(), checks_dir(), _extra_test_dirs(course))
    problems = course.version.differences(CourseVersion.of(catalog))
    if problems:
        raise CourseMismatch(
            f"this worker ({platform.node()}) does not have the instructor's course: "
            + "; ".join(problems) + ". Install the same course commit and requirements.txt on "
            "every worker (git checkout; pip install -r requirements.txt -e .) and restart it.")
    return catalog


def worker_problems(course: ShippedCourse) -> str:
    """Run on each worker before a batch: '' if its course is the instructor's, else why not."""
    try:
        worker_catalog(course)
    except CourseMismatch as exc:
        return str(exc)
    return ""


def grade_task(course: ShippedCourse, config: SandboxConfig, snapshot: Snapshot,
               chapters: list[str] | None) -> dict:
    """One Dask task: grade one learner's snapshot on a worker; the row as plain data."""
    return grade_safely(snapshot, worker_catalog(course), config, chapters).to_dict(private=True)


def worker_died(snapshot: Snapshot, why: str) -> SubmissionResult:
    """The row of a learner whose task could not be run (never saved: a rerun tries again)."""
    return SubmissionResult.not_gradable(snapshot.name, snapshot.origin,
                                         f"grader worker failed: {why}",
                                         content_hash=snapshot.content_hash)


class DaskPool:
    """The learners of one batch in flight on a Dask cluster (the interface of the local pool).

    At most :data:`~grader.batch.IN_FLIGHT_PER_WORKER` tasks per worker thread (and at least
    :data:`MIN_IN_FLIGHT`) are submitted at a time, so the instructor's memory holds only those
    snapshots, and workers that join during the batch get work at once.
    """

    def __init__(self, client: Client, course: ShippedCourse, config: SandboxConfig,
                 chapters: list[str] | None):
        self.client, self.course, self.config, self.chapters = client, course, config, chapters
        self.batch = uuid.uuid4().hex[:8]
        self.pending: dict[Future, tuple[int, Snapshot]] = {}
        self.limit = self._capacity()

    def _capacity(self) -> int:
        return max(MIN_IN_FLIGHT, IN_FLIGHT_PER_WORKER * sum(self.client.nthreads().values()))

    def submit(self, index: int, snapshot: Snapshot):
        """Send ``snapshot`` (the ``index``-th submission) to the cluster."""
        future = self.client.submit(grade_task, self.course, self.config, snapshot,
                                    self.chapters, key=f"grade-{self.batch}-{index}",
                                    retries=TASK_RETRIES)
        self.pending[future] = (index, snapshot)

    def finished(self, block_until_room: bool) -> Iterator[tuple[int, Snapshot, SubmissionResult]]:
        """Rows that are done; waits while the pool is full (or, at the end, until empty).

        Raises
        ------
        CourseMismatch
            When a worker refused a task (the rows finished so far are already saved).
        """
        while self.pending and (not block_until_room or len(self.pending) >= self.limit):
            from distributed import wait
            with self.client.as_current():
                done, _ = wait(list(self.pending), return_when="FIRST_COMPLETED")
            for future in done:
                index, snapshot = self.pending.pop(future)
                yield index, snapshot, self._row(future, snapshot)
            self.limit = self._capacity()

    @staticmethod
    def _row(future: Future, snapshot: Snapshot) -> SubmissionResult:
        """The row of a finished task. Its result is fetched now: if the worker holding it has
        died meanwhile, Dask computes it again and this waits for it."""
        from distributed import KilledWorker
        try:
            return SubmissionResult.from_dict(future.result())
        except CourseMismatch:
            raise
        except KilledWorker as error:
            return worker_died(snapshot, f"the worker process died each of the "
                               f"{error.allowed_failures + 1} times it graded this submission "
                               "(Dask KilledWorker); the rest of the batch was not affected")
        except Exception as error:  # noqa: BLE001 - a cluster failure is this learner's row
            return worker_died(snapshot, f"{type(error).__name__}: {error}")

    def close(self):
        """Cancel what is still in flight (after an error; normally nothing is)."""
        if self.pending:
            self.client.cancel(list(self.pending))
            self.pending.clear()


class DaskEngine:
    """A Dask distributed cluster, reached through its scheduler.

    Parameters
    ----------
    address : str
        The scheduler, e.g. ``tcp://login-node:8786``.
    timeout : float, default :data:`CONNECT_TIMEOUT`
        Seconds to wait for the scheduler.

    Raises
    ------
    SchedulerUnreachable
        When no scheduler answers at ``address`` within ``timeout`` seconds.
    """

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT):
        try:
            from distributed import Client
        except ImportError as exc:
            raise SchedulerUnreachable(
                f"--scheduler needs the dask and distributed packages ({exc}): "
                "pip install -r requirements.txt") from exc
        self.address = address
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}). "
                "Check the address (tcp://HOST:8786) and that `dask scheduler` runs there "
                "and accepts connections from this machine.") from exc

    def open(self, catalog: Catalog, config: SandboxConfig,
             chapters: list[str] | None) -> DaskPool:
        """A pool for one batch, after every connected worker has shown it has this course.

        Raises
        ------
        CourseMismatch
            Naming each worker whose course differs and what differs.
        """
        course = ShippedCourse.of(catalog)
        answers = self.client.run(worker_problems, course, on_error="return")
        # a worker that left meanwhile answers with an exception: it grades nothing
        refused = {worker: problem for worker, problem in answers.items()
                   if isinstance(problem, str) and problem}
        if refused:
            raise CourseMismatch("\n".join(f"worker {worker}: {problem}"
                                           for worker, problem in sorted(refused.items())))
        return DaskPool(self.client, course, config, chapters)

    def close(self):
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc_info):
        self.close()
