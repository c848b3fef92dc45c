"""Grade one submission (one or more notebooks of one learner) with the sandbox."""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import time
from dataclasses import dataclass
from pathlib import Path

from . import checks as C
from .catalog import PRELUDE, Catalog, Chapter, Exercise, nbgrader_id
from .notebook import (SKIP_IMPORTS, Notebook, NotebookError, defined_functions, definitions_only,
                       mentions_def, parse, read_notebook, strip_magics)
from .sandbox import SandboxConfig, SandboxError, Session
from .suspicious import scan_notebook

MAX_TIMEOUTS_PER_EXERCISE = 2


class LoadFailed(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --------------------------------------------------------------------------- finding code
def find_exercise_code(nb: Notebook, ex: Exercise):
    """Return (status, cell, message). status: ok, missing, syntax_error."""
    code = nb.code_cells()
    by_meta = [c for c in code if (ex.cell_id and c.id == ex.cell_id) or c.grade_id in (ex.id, nbgrader_id(ex.id))
               or c.grader.get("exercise") == ex.id and c.grader.get("role") != "check"]
    defining = [c for c in code if ex.main in (defined_functions(c.source) or [])]
    if defining:
        return "ok", defining[-1], ""
    broken = [c for c in code if parse(c.source) is None and (c in by_meta or mentions_def(c.source, ex.main))]
    if broken:
        cell = broken[-1]
        try:
            compile(cell.source, "cell", "exec")
        except SyntaxError as exc:
            return "syntax_error", cell, "syntax error in cell %d, line %s: %s" % (cell.index, exc.lineno, exc.msg)
        return "syntax_error", cell, "cell %d could not be parsed (IPython syntax?)" % cell.index
    if by_meta:
        other = defined_functions(by_meta[-1].source) or []
        tip = (" The cell defines %s instead: keep the original name `%s` (and its parameters)."
               % (", ".join("`%s`" % o for o in other), ex.main)) if other else ""
        return "missing", by_meta[-1], "function `%s` not found in your notebook.%s" % (ex.main, tip)
    return "missing", None, ("function `%s` not found: the exercise cell seems to be deleted. "
                             "Copy it back from a fresh copy of the exercise notebook." % ex.main)


def build_parts(nb: Notebook, chapter: Chapter, cell) -> list[tuple[str, str]]:
    parts = [("prelude", PRELUDE)]
    for src in chapter.given:
        parts.append(("given", src))
    for c in nb.code_cells():
        if c is cell or c.grader.get("role") in ("setup", "check"):
            continue
        d = definitions_only(c.source)
        if d:
            parts.append(("context", d))
    from .notebook import strip_magics
    parts.append(("exercise", strip_magics(cell.source)))
    return parts


def match_score(nb: Notebook, chapter: Chapter) -> tuple[int, int]:
    """(exercises found by cell id / grade_id, exercises found by function name); (0, 0) if the
    notebook is not this chapter's (needs an id match or more than half of the functions)."""
    names, ids = set(), set()
    for c in nb.code_cells():
        ids.update(x for x in (c.id, c.grade_id, c.grader.get("exercise")) if x)
        if c.grade_id:
            ids.add(c.grade_id.replace("-", ".", 1))
        if c.grader.get("role") != "given":
            names.update(defined_functions(c.source) or [])
    strong = sum(1 for e in chapter.exercises if e.id in ids or (e.cell_id and e.cell_id in ids))
    weak = sum(1 for e in chapter.exercises if e.main in names)
    if strong == 0 and 2 * weak <= len(chapter.exercises):
        return (0, 0)
    return (strong, weak)


# --------------------------------------------------------------------------- proxies
class RemoteFunction:
    def __init__(self, runner: "ExerciseRunner", name: str):
        self.runner, self.name, self.__name__ = runner, name, name

    def call_detailed(self, args, kwargs):
        return self.runner.call(self.name, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self.call_detailed(args, kwargs)[0]


class RemoteNamespace:
    def __init__(self, runner):
        self._runner = runner

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._runner.names:
            raise C.MissingFunction(name, "function `%s` is not defined in your notebook" % name)
        return RemoteFunction(self._runner, name)


class ExerciseRunner:
    """Keeps a loaded worker for one exercise; reloads it in a fresh worker after a crash."""

    def __init__(self, session: Session, parts, timeout: float):
        self.session, self.parts, self.timeout = session, parts, timeout
        self.loaded = False
        self.names: set[str] = set()
        self.load_error: LoadFailed | None = None

    def ensure_loaded(self):
        if self.load_error:
            raise self.load_error
        if self.loaded and self.session.alive:
            return
        try:
            header = self.session.load(self.parts)
        except SandboxError as exc:
            if exc.kind == "timeout":
                self.load_error = LoadFailed("timeout", "your cell's top-level code did not finish within "
                                             "%.1f s (an endless loop outside the function?)" % self.session.config.load_timeout)
            else:
                self.load_error = LoadFailed("crashed", exc.message)
            raise self.load_error from None
        if not header.get("ok"):
            err = header.get("error", {})
            kind = header.get("kind", "load_error")
            if kind == "syntax_error":
                msg = "syntax error: %s\n%s" % (err.get("message"), err.get("traceback", ""))
            else:
                msg = "running the cell raised %s: %s\n%s" % (err.get("type"), err.get("message"), err.get("traceback", ""))
            self.load_error = LoadFailed(kind, msg.strip())
            raise self.load_error
        self.names = set(header.get("names", []))
        self.loaded = True

    def call(self, name, args, kwargs):
        self.ensure_loaded()
        try:
            ok, value, args_after, kwargs_after = self.session.call(name, args, kwargs, timeout=self.timeout)
        except SandboxError:
            self.loaded = False
            raise
        if not ok:
            etype = value.get("type", "Exception")
            if etype == "NotImplementedError":
                raise C.NotImplementedYet(value.get("message", ""))
            raise C.LearnerError(name, etype, value.get("message", ""), value.get("traceback", ""))
        return value, args_after, kwargs_after

    def finish(self):
        if self.loaded and self.session.alive:
            self.session.end()
        self.loaded = False


# --------------------------------------------------------------------------- running checks
@dataclass
class TestResult:
    notebook: str
    exercise: str
    test_id: str
    hidden: bool
    status: str
    points: float
    max_points: float
    message: str = ""
    output: str = ""
    output_truncated: bool = False

    def as_dict(self):
        return dict(self.__dict__)


def call_check(spec: C.CheckSpec, sub, ref):
    params = inspect.signature(spec.func).parameters
    kwargs = {}
    if "sub" in params:
        kwargs["sub"] = sub
    if "ref" in params:
        kwargs["ref"] = ref
    spec.func(**kwargs)


def classify(exc: BaseException) -> tuple[str, str, str]:
    """(status, public message, hidden kind text) for an exception raised while running a check."""
    if isinstance(exc, C.CheckFailed):
        return "failed", exc.message, C.KIND_TEXT.get(exc.kind, "wrong answer")
    if isinstance(exc, C.NotImplementedYet):
        return "not_implemented", "not implemented yet (the function still raises NotImplementedError)", "not implemented"
    if isinstance(exc, C.MissingFunction):
        return "missing", str(exc), "function missing"
    if isinstance(exc, C.LearnerError):
        if exc.etype == "MemoryError":
            return "memory_limit", "%s ran out of memory (limit reached): %s" % (exc.func, exc.emessage[:300]), "ran out of memory"
        if exc.etype == "EOFError":
            return "error", "%s called input(), which is not available while grading" % exc.func, "error"
        tb = ("\n" + exc.traceback) if exc.traceback else ""
        return "error", "%s raised %s: %s%s" % (exc.func, exc.etype, exc.emessage[:500], tb), "your code raised %s" % exc.etype
    if isinstance(exc, SandboxError):
        if exc.kind == "timeout":
            return "timeout", "timed out: your function did not return in time (endless loop?)", "timed out"
        if exc.kind == "too_large":
            return "failed", exc.message, "result too large"
        return "crashed", exc.message, "crashed"
    if isinstance(exc, LoadFailed):
        return exc.status, exc.message, exc.status.replace("_", " ")
    if isinstance(exc, AssertionError):
        return "failed", str(exc) or "assertion failed", "wrong answer"
    return "grader_error", "the check itself failed (%s: %s); please report this to the course maintainers" % (
        type(exc).__name__, str(exc)[:300]), "grader error"


def grade_exercise(session: Session, nb: Notebook, chapter: Chapter, ex: Exercise, ref,
                   config: SandboxConfig, hidden_counter: list) -> list[TestResult]:
    nbname = Path(nb.path).name
    results = []
    status, cell, message = find_exercise_code(nb, ex)
    runner = None
    if status == "ok":
        runner = ExerciseRunner(session, build_parts(nb, chapter, cell), config.call_timeout)
        try:
            runner.ensure_loaded()
        except LoadFailed:
            pass
    timeouts = 0
    for spec in ex.checks:
        if spec.hidden:
            hidden_counter[0] += 1
        test_id = "%s::%s" % (ex.id, spec.name if not spec.hidden else "hidden-%d" % hidden_counter[0])
        tr = TestResult(nbname, ex.id, test_id, spec.hidden, "passed", spec.points, spec.points)
        if status != "ok":
            tr.status, tr.points, tr.message = status, 0.0, message
        elif runner.load_error is not None:
            tr.status, tr.points, tr.message = runner.load_error.status, 0.0, runner.load_error.message
        elif timeouts >= MAX_TIMEOUTS_PER_EXERCISE:
            tr.status, tr.points, tr.message = "timeout", 0.0, "skipped after %d timeouts in this exercise" % timeouts
        else:
            session.reset_output()
            if spec.timeout:
                runner.timeout = spec.timeout
            C._last_call.clear()
            try:
                call_check(spec, RemoteNamespace(runner), ref)
            except BaseException as exc:  # noqa: BLE001 - every failure becomes a result
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                st, msg, kind_text = classify(exc)
                tr.status, tr.points = st, 0.0
                if st == "timeout":
                    timeouts += 1
                if spec.hidden:
                    tr.message = "hidden test %d failed: %s" % (hidden_counter[0], kind_text)
                else:
                    tr.message = msg + (("\nhint: " + spec.hint) if spec.hint and st in ("failed", "error") else "")
            finally:
                runner.timeout = config.call_timeout
            out, trunc = session.output_text()
            if not spec.hidden:
                tr.output = out[-4000:]
            tr.output_truncated = trunc
            if trunc and not spec.hidden:
                tr.message = (tr.message + "\n" if tr.message else "") + (
                    "(printed output truncated: %d bytes printed, %d kept; printing never affects the score)"
                    % (session.output_total, len(session.output)))
        results.append(tr)
    if runner is not None:
        runner.finish()
    return results


# --------------------------------------------------------------------------- per-chapter limits
SANDBOX_SETTINGS = ("memory_mb", "cpu_seconds", "nproc", "load_timeout", "call_timeout", "start_timeout",
                    "tmp_mb", "env")


def chapter_config(config: SandboxConfig, chapter: Chapter) -> SandboxConfig:
    """The sandbox settings for one chapter.

    A chapter's check module may declare ``SANDBOX = {"memory_mb": 6144, ...}`` (keys from
    ``SANDBOX_SETTINGS``) when its exercises need more than the defaults, e.g. Keras/JAX, which
    reserves much address space and many threads and imports slowly. Numeric settings can only
    be *raised*: a larger value given on the command line wins. ``"env"`` adds environment
    variables for the child (e.g. ``{"KERAS_BACKEND": "jax"}``; PATH and the grader's own
    variables cannot be changed). Returns ``config`` itself when nothing changes.
    """
    wanted: dict = {}
    for ex in chapter.exercises:
        for spec in ex.checks:
            declared = getattr(spec.func, "__globals__", {}).get("SANDBOX") or {}
            for key, value in declared.items():
                if key not in SANDBOX_SETTINGS:
                    raise ValueError("SANDBOX setting %r of chapter %s is not one of %s"
                                     % (key, chapter.name, ", ".join(SANDBOX_SETTINGS)))
                if key == "env":
                    wanted[key] = {**wanted.get(key, {}), **{str(k): str(v) for k, v in value.items()}}
                else:
                    wanted[key] = max(wanted.get(key, value), value)
    changes = {k: v for k, v in wanted.items() if k != "env" and v > getattr(config, k)}
    env = {**wanted.get("env", {}), **config.env}
    if env != config.env:
        changes["env"] = env
    return dataclasses.replace(config, **changes) if changes else config


def chapter_imports(chapter: Chapter) -> list[str]:
    """Modules the chapter's reference notebook imports at top level (setup and check cells
    aside), e.g. ``keras`` or ``sklearn.datasets``.

    These are trusted names: the chapter's sandbox imports them once, before it forks the
    exercise workers, so a learner's notebook (which imports the same) does not pay the import
    again for every exercise.
    """
    names = []
    for cell in chapter.notebook.code_cells():
        if cell.grader.get("role") in ("setup", "check"):
            continue
        tree = parse(strip_magics(cell.source))
        for node in tree.body if tree is not None else []:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.append(node.module)
    return [n for n in dict.fromkeys(names) if n.split(".")[0] not in SKIP_IMPORTS]


# --------------------------------------------------------------------------- a submission
def submission_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0")
        try:
            with open(p, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def grade_submission(name: str, paths: list[Path], catalog: Catalog, chapters: list[str] | None = None,
                     config: SandboxConfig | None = None, base: Path | None = None) -> dict:
    """Grade the notebooks ``paths`` of one learner. Never raises for bad input."""
    t0 = time.monotonic()
    config = config or SandboxConfig()
    session = Session(config)
    if paths:
        try:
            session.start(wait=False)  # the child imports numpy while we read the notebooks
        except Exception:  # noqa: BLE001 - retried (and reported) at the first load
            session.kill()
    result = {"name": name, "path": str(base or (paths[0] if paths else "")), "status": "graded",
              "reason": None, "score": 0.0, "max_score": 0.0, "notebooks": [], "exercises": {},
              "tests": [], "flags": [], "protections": {}}
    notebooks: list[Notebook] = []
    for p in paths:
        rel = str(p.relative_to(base)) if base and p.is_relative_to(base) else p.name
        try:
            nb = read_notebook(p)
            nb.path = rel
            notebooks.append(nb)
            result["notebooks"].append({"path": rel, "chapter": None, "status": "read", "warnings": nb.warnings})
            for flag in scan_notebook(nb):
                result["flags"].append({"notebook": rel, **flag})
        except NotebookError as exc:
            result["notebooks"].append({"path": rel, "chapter": None, "status": "unreadable", "reason": exc.reason})
    # assign chapters to notebooks by content
    assigned: dict[str, Notebook] = {}
    for ch in catalog.chapters.values():
        scored = [(match_score(nb, ch), i, nb) for i, nb in enumerate(notebooks)]
        scored = [s for s in scored if s[0] != (0, 0)]
        if scored:
            assigned[ch.name] = max(scored, key=lambda s: (s[0], s[1]))[2]
    wanted = list(chapters) if chapters else list(assigned)
    for entry in result["notebooks"]:
        entry["chapter"] = next((c for c, nb in assigned.items() if nb.path == entry["path"]), None)
    if not wanted:
        result["status"] = "not_gradable"
        if not paths:
            result["reason"] = "no .ipynb file found"
        elif not notebooks:
            result["reason"] = "no notebook could be read: " + "; ".join(
                "%s: %s" % (n["path"], n.get("reason")) for n in result["notebooks"])
        else:
            result["reason"] = "no exercise of the course was found in the notebook(s)"
        result["max_score"] = 0.0
        result["seconds"] = round(time.monotonic() - t0, 3)
        session.kill()
        return result
    hidden_counter = [0]
    extra_sessions: list[Session] = []
    try:
        for chname in wanted:
            chapter = catalog.chapters[chname]
            nb = assigned.get(chname)
            # the reference solution runs in this process only if a check compares with it
            # (chapter 10's checks never do; its solutions would import Keras here)
            uses_ref = any("ref" in inspect.signature(spec.func).parameters
                           for ex in chapter.exercises for spec in ex.checks)
            ref = catalog.reference(chname) if uses_ref else None
            ch_config = chapter_config(config, chapter)
            # a chapter that needs larger limits gets its own sandbox, started with them
            ch_session = session if ch_config is config else Session(ch_config)
            if ch_session is not session:
                extra_sessions.append(ch_session)
            if nb is not None:
                try:
                    ch_session.preload(chapter_imports(chapter))
                except SandboxError:
                    pass  # the sandbox failed to start: each exercise reports it
            for ex in chapter.exercises:
                if nb is None:
                    tests = [TestResult("", ex.id, "%s::%s" % (ex.id, s.name if not s.hidden else "hidden"),
                                        s.hidden, "missing", 0.0, s.points,
                                        "no notebook for chapter %s was found in the submission" % chname)
                             for s in ex.checks]
                else:
                    tests = grade_exercise(ch_session, nb, chapter, ex, ref, ch_config, hidden_counter)
                score = sum(t.points for t in tests)
                bad = [t.status for t in tests if t.status != "passed"]
                ex_status = "passed" if not bad else ("partial" if score > 0 else (
                    "failed" if "failed" in bad else bad[0]))
                result["exercises"][ex.id] = {"score": score, "max_points": ex.max_points, "status": ex_status}
                result["tests"] += [t.as_dict() for t in tests]
                result["score"] += score
                result["max_score"] += ex.max_points
            if ch_session is not session:
                if not session.report:
                    session.report = dict(ch_session.report)
                ch_session.kill()
        result["protections"] = session.report
    finally:
        session.kill()
        for extra in extra_sessions:
            extra.kill()
    result["seconds"] = round(time.monotonic() - t0, 3)
    return result
