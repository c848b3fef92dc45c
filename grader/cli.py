"""Command line: grade notebooks, learners' folders, nbgrader's or an LMS's bulk download.

    python -m grader exercises/ch03_activations.ipynb          # a learner grades their notebook
    python -m grader grade SUBMISSIONS/ --out results/ --workers 2 [--extra-tests DIR] [--force]
        [--scheduler tcp://HOST:8786]                          # on a Dask cluster
        [--roster roster.csv] [--deadline [CHAPTER=]TIME ...] [--late-penalty 10%/day]
    python -m grader protections                               # what the sandbox can do here
    python -m grader gradescope-zip --out autograder.zip [--chapters ch03_activations]
    python -m grader gradescope [--root /autograder]           # inside Gradescope's autograder
    python -m grader generate | check                          # = python -m grader.authoring ...

`python -m grader grade --help` lists the options of grading.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .authoring import main as authoring_main
from .batch import grade_batch, grade_safely, unknown_chapters
from .catalog import Catalog
from .distributed import ClusterError, DaskEngine
from .execute import chapter_config
from .i18n import INSTRUCTOR_ENVIRONMENT, LANGUAGES, instructor_language
from .gradescope import DEFAULT_ROOT, build_zip, gradescope_results, results_text, submission_source
from .intake import read_submission
from .paths import course_root
from .paths import checks_dir, solutions_dir
from .report import write_atomically
from .results import ClassSettings
from .roster import Deadlines, PenaltyPolicy, Roster, RosterError, describe_delay
from .sandbox import JAX_GRADING_ENV, MECHANISM, SandboxConfig, build_policy, prestart, probe
from .warm import warm_root

REFUSAL = """\
error: this system cannot isolate the file system for learner code ({reason}).
Learner code could read any file this user can read (other submissions, solutions) and leave
files behind. Grade other people's code on a machine where the grader may create Linux
namespaces (run it as root, or allow unprivileged user namespaces), or pass
--accept-weaker-sandbox to grade anyway; results.json then records that weaker protection was
accepted. A learner checking their own notebook (python -m grader NOTEBOOK.ipynb) is not
affected."""


def _config(args) -> SandboxConfig:
    return SandboxConfig(call_timeout=args.timeout, load_timeout=args.timeout,
                         memory_mb=args.memory_mb, namespaces=not args.no_namespaces,
                         accept_weaker=getattr(args, "accept_weaker_sandbox", False))


def weaker_protection(protections: dict) -> list[str]:
    """What the sandbox could not do on this system (empty when fully protected)."""
    missing = []
    if not protections.get("filesystem_isolated"):
        missing.append("file system " + protections.get("filesystem", "not isolated"))
    if not isinstance(protections.get("limits"), dict):
        missing.append("resource limits " + str(protections.get("limits", "not set")))
    return missing


def _problems(row: dict) -> list[str]:
    """What the instructor should look at in one row, as short phrases."""
    found = []
    for entry in row.get("notebooks", []):
        if entry.get("use") in ("unreadable", "duplicate", "unmatched"):
            detail = entry.get("reason") or entry.get("note") or ""
            found.append(f"{entry['use']}: {entry['path']}" + (f" ({detail})" if detail else ""))
        if entry.get("solution_marked"):
            found.append(f"solution-marked: {entry['path']}")
    for entry in row.get("late", []):
        found.append(f"late: {entry['chapter']} by {describe_delay(entry['seconds_late'])}"
                     + (f", penalty {entry['penalty']:g}" if entry["penalty"] else ""))
    return found


MESSAGE_LINES = 12
"""Lines of a failed test's message printed in the terminal report."""


def _points(got: float, out_of: float) -> str:
    return f"{got:g}/{out_of:g}"


def _detail(submission: dict, stream):
    """Per-exercise blocks of aligned test rows (name, points, status), then the flags."""
    tests = submission["tests"]
    by_exercise: dict[str, list[dict]] = {}
    for test in tests:
        by_exercise.setdefault(test["exercise"], []).append(test)
    name_width = max((len(t["test_id"].split("::", 1)[-1]) for t in tests), default=0)
    name_width = max([name_width, *(len(key) - 2 for key in by_exercise)])
    points_width = max((len(_points(t["points"], t["max_points"])) for t in tests), default=3)
    for exercise, rows in by_exercise.items():
        got, out_of = sum(t["points"] for t in rows), sum(t["max_points"] for t in rows)
        print(f"  {exercise:<{name_width + 7}} {_points(got, out_of):>{points_width}}", file=stream)
        for test in rows:
            passed = test["status"] == "passed"
            name = test["test_id"].split("::", 1)[-1]
            status = "" if passed else f"  {test['status']}"
            print(f"    {'ok  ' if passed else 'FAIL'} {name:<{name_width}} "
                  f"{_points(test['points'], test['max_points']):>{points_width}}{status}",
                  file=stream)
            if not passed and test["message"]:
                for line in test["message"].splitlines()[:MESSAGE_LINES]:
                    print(f"         {line}", file=stream)
    for flag in submission.get("flags", []):
        print(f"  flagged for review: {flag['notebook']} cell {flag['cell']} line {flag['line']}: "
              f"{flag['reason']}", file=stream)


def _summary(report: dict, stream=None, detail: bool = False, changes=()):
    """The terminal summary: a line per learner with its problems, then the class's."""
    stream = stream or sys.stdout
    for row in report["submissions"]:
        if row["status"] == "missing":
            print(f"{row['name']}: MISSING (in the roster, no submission)", file=stream)
            continue
        if row["status"] != "graded":
            print(f"{row['name']}: NOT GRADABLE: {row['reason']}", file=stream)
        else:
            penalty = (f" - late penalty {row['penalty']:g} = {row['final_score']:g}"
                       if row.get("penalty") else "")
            cached = " (cached)" if row.get("cached") else ""
            bonus = (f" + bonus {row['bonus_score']:g} / {row['bonus_max']:g}"
                     if row.get("bonus_max") else "")
            print(f"{row['name']}: {row['score']:g} / {row['max_score']:g}{bonus}{penalty}"
                  f"{cached}", file=stream)
        for problem in _problems(row):
            print(f"  ! {problem}", file=stream)
        if detail and row["status"] == "graded":
            _detail(row, stream)
    if report.get("unmatched"):
        print(f"not in the roster: {', '.join(report['unmatched'])}", file=stream)
    if report.get("missing"):
        print(f"missing (no submission): {', '.join(report['missing'])}", file=stream)
    for change in changes:
        old = "-" if change["old_score"] is None else f"{change['old_score']:g}"
        new = "-" if change["new_score"] is None else f"{change['new_score']:g}"
        print(f"changed: {change['name']}: {old} -> {new} ({change['why']})", file=stream)


def _settings(args) -> ClassSettings:
    """Roster, deadlines and late penalty from the command line (RosterError if invalid)."""
    roster = Roster.read(args.roster) if args.roster else None
    return ClassSettings(roster, Deadlines.parse(args.deadline or []),
                         PenaltyPolicy.parse(args.late_penalty), args.lms_assignment,
                         args.language or instructor_language())


OUTPUT_SUFFIX = "-graded"
"""A folder FOLDER is reported into FOLDER-graded/ next to it (ignored by git: *-graded/)."""


def default_output(inputs: list[Path]) -> Path:
    """Where the reports go without --out: next to the first folder graded, never inside it
    (a folder of submissions must stay as the learners left it), e.g. exercises-graded/."""
    folder = next(path for path in inputs if path.is_dir()).resolve()
    return folder.with_name(folder.name + OUTPUT_SUFFIX)


def cmd_grade(args) -> int:
    inputs = [Path(p) for p in args.paths]
    for p in inputs:
        if not p.exists():
            print("error: %s does not exist" % p, file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else None
    if out is None and any(p.is_dir() for p in inputs):
        out = default_output(inputs)
    chapters = args.chapters.split(",") if args.chapters else None
    if args.workers <= 1 or all(p.is_file() for p in inputs):
        # graded in this process: the sandbox template imports numpy while the course loads
        prestart(_config(args))
    try:
        # check modules load for the chapters graded only (the learners' chapters when
        # --chapters is not given: grading loads them as it meets them)
        catalog = Catalog(solutions_dir(), checks_dir(), args.extra_tests or [],
                          chapters=chapters or [])
    except Exception as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    try:
        settings = _settings(args)
    except RosterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = unknown_chapters(chapters, catalog)
    if problem:
        print(f"error: --chapters: {problem}", file=sys.stderr)
        return 2
    config = _config(args)
    if not args.own_work:
        # other people's code: grade only with the file system isolated (or the waiver)
        protections = probe(config)
        if not protections.get("filesystem_isolated") and not config.accept_weaker:
            print(REFUSAL.format(reason=protections.get("filesystem", "unknown")), file=sys.stderr)
            return 2
    progress = not args.quiet and sys.stderr.isatty() or args.progress
    engine = DaskEngine(args.scheduler) if args.scheduler else None  # ClusterError: see main
    try:
        report = grade_batch(inputs, out, catalog, config, workers=args.workers, force=args.force,
                             chapters=chapters, use_cache=not args.no_cache, progress=progress,
                             settings=settings, engine=engine).to_dict()
    finally:
        if engine is not None:
            engine.close()
    changes = json.loads((out / "results.json").read_text())["changes"] if out else []
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        single = len(report["submissions"]) == 1
        _summary(report, detail=single or args.verbose, changes=changes)
        if out:
            print(f"wrote {out}/results.json, grades.csv, report.html, feedback/ (one page per "
                  "learner: open it in a browser), instructor/"
                  + (", canvas.csv, moodle.csv" if settings.roster else ""))
    missing = weaker_protection(report.get("protections") or {})
    if args.own_work and missing:
        print("note: this system allows only part of the sandbox (%s); your notebook was graded "
              "with what it allows, which is fine for checking your own work."
              % "; ".join(missing), file=sys.stderr)
    return 0


def cmd_gradescope(args) -> int:
    """Grade ROOT/submission/ and write ROOT/results/results.json in Gradescope's schema."""
    root = Path(args.root)
    chapters = args.chapters.split(",") if args.chapters else None
    try:
        source = submission_source(root)
        catalog = Catalog(solutions_dir(), checks_dir(), args.extra_tests or [])
        problem = unknown_chapters(chapters, catalog)
        if problem:
            raise ValueError(f"--chapters: {problem}")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    row = grade_safely(read_submission(source), catalog, _config(args), chapters)
    row = row.with_chapters(chapters, catalog) if chapters else row
    report = row.to_dict()
    bonus = {exercise.id for exercise in catalog.exercises.values() if exercise.bonus}
    write_atomically(root / "results" / "results.json",
                     results_text(gradescope_results(report, bonus)))
    _summary({"submissions": [report]}, detail=True)  # Gradescope shows stdout to instructors
    return 0


def cmd_gradescope_zip(args) -> int:
    """Build Gradescope's autograder zip."""
    chapters = args.chapters.split(",") if args.chapters else None
    try:
        problem = unknown_chapters(chapters, Catalog(solutions_dir(), checks_dir()))
        if problem:
            raise ValueError(f"--chapters: {problem}")
        members = build_zip(Path(args.out), course_root(), chapters, args.extra_tests or [])
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(members)} files): upload it as the assignment's autograder "
          "(Configure Autograder, Zip file upload; base image Ubuntu 24.04)")
    return 0


def cmd_protections(args) -> int:
    """Print what the sandbox does on this machine, with its file system allow-list."""
    config = _config(args)
    report = probe(config)
    report["mechanism"] = MECHANISM
    report["timeouts"] = f"wall clock {config.call_timeout:.1f} s per call, process tree killed"
    report["output"] = f"stdout+stderr captured, {config.output_cap_kb} KiB kept per exercise"
    report["allow_list"] = build_policy(config).describe() if report.get(
        "filesystem_isolated") else "not applied: " + report.get("filesystem", "")
    report["warm_folders"] = _warm_folders(config, report)
    print(json.dumps(report, indent=1))
    return 0


def _warm_folders(config: SandboxConfig, report: dict) -> list[str]:
    """What a chapter's sandbox adds to the allow-list: a private copy of a trusted warm folder
    (grader.warm), where the chapter has one."""
    if not report.get("filesystem_isolated"):
        return ["none: without file-system isolation every sandbox starts cold"]
    if os.environ.get("NNGRADER_WARM_DIR") == "off":
        return ["none: NNGRADER_WARM_DIR=off, every sandbox starts cold"]
    catalog = Catalog(solutions_dir(), checks_dir(), chapters=[])
    catalog = catalog.including(list(catalog.chapters))
    return [f"{name}: /tmp/{chapter_cfg.warm_folder}, a private copy of a folder in {warm_root()} "
            "that grading the reference solution filled (read-write, gone with the sandbox)"
            for name, chapter in catalog.chapters.items()
            for chapter_cfg in [chapter_config(config, chapter)] if chapter_cfg.warm_folder]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for name, value in JAX_GRADING_ENV.items():  # before any check imports JAX (Keras' backend)
        os.environ.setdefault(name, value)
    if argv and argv[0] in ("generate", "check"):
        return authoring_main(argv)
    learner_form = bool(argv) and argv[0] not in ("grade", "protections", "gradescope",
                                                  "gradescope-zip", "-h", "--help")
    if learner_form:
        argv.insert(0, "grade")
    ap = argparse.ArgumentParser(prog="nn-grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    helps = {"grade": "grade submissions",
             "protections": "print what the sandbox can do on this machine",
             "gradescope": "inside Gradescope's autograder: grade ROOT/submission/, write "
                           "ROOT/results/results.json"}
    for name in ("grade", "protections", "gradescope"):
        p = sub.add_parser(name, help=helps[name])
        p.add_argument("--timeout", type=float, default=3.0, help="seconds per call (default 3)")
        p.add_argument("--memory-mb", type=int, default=1536, help="address-space limit of learner code")
        p.add_argument("--no-namespaces", action="store_true", help="do not use Linux namespaces")
        if name == "grade":
            p.add_argument("paths", nargs="+", help="notebook, learner folder, or folder of learner folders")
            p.add_argument("--out", help="output folder (results.json, grades.csv, feedback/); default "
                           "FOLDER-graded/ next to the first folder graded (e.g. exercises-graded/), "
                           "none for a single notebook")
            p.add_argument("--workers", type=int, default=2,
                           help="submissions graded in parallel, one sandbox each (default 2)")
            p.add_argument("--scheduler", metavar="ADDRESS",
                           help="grade on a running Dask cluster, e.g. tcp://host:8786 (its "
                           "workers need this course's commit and requirements; see the "
                           "instructor's guide); default: worker processes on this machine")
            p.add_argument("--force", action="store_true", help="regrade even if unchanged (ignore the cache)")
            p.add_argument("--no-cache", action="store_true",
                           help="neither reuse nor save rows in OUT/.cache/")
            p.add_argument("--extra-tests", action="append", type=Path, help="folder of instructor-only test_*.py")
            p.add_argument("--chapters", help="comma-separated chapters every submission must contain")
            p.add_argument("--json", action="store_true", help="print results.json to stdout")
            p.add_argument("--verbose", "-v", action="store_true", help="per-test lines for every submission")
            p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
            p.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
            p.add_argument("--accept-weaker-sandbox", action="store_true",
                           help="grade other people's code even where the file system cannot be "
                           "isolated (recorded in results.json)")
            p.add_argument("--roster", type=Path, help="CSV of the class: id,name[,lms_id,section,"
                           "extension,email]; adds missing learners, lists unmatched submissions, "
                           "writes canvas.csv and moodle.csv")
            p.add_argument("--deadline", action="append", metavar="[CHAPTER=]TIME",
                           help="deadline (ISO 8601, e.g. 2026-03-01T23:59+01:00; no zone = UTC) "
                           "for every chapter or for one; repeatable")
            p.add_argument("--late-penalty", default="none", metavar="POLICY",
                           help="none (default), zero, or P%%/day[,max=M%%] of a late chapter's points")
            p.add_argument("--lms-assignment", default=ClassSettings.assignment, metavar="TITLE",
                           help="assignment column title in canvas.csv/moodle.csv; Canvas: "
                           "'Title (12345)' updates assignment 12345")
            p.add_argument("--language", choices=LANGUAGES, default=None,
                           help="the instructor's language: report.html and instructor/ "
                           f"(default: ${INSTRUCTOR_ENVIRONMENT}, else en); each learner's "
                           "feedback page is in the language of their notebooks")
        if name == "gradescope":
            p.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                           help=f"the folder holding submission/ and results/ (default {DEFAULT_ROOT})")
    for name in ("gradescope", "gradescope-zip"):
        p = sub.choices.get(name) or sub.add_parser(
            name, help="build Gradescope's autograder zip (setup.sh, run_autograder, the course)")
        p.add_argument("--chapters", help="comma-separated chapters every submission is graded on "
                       "(one not submitted scores zero); default: the chapters submitted")
        p.add_argument("--extra-tests", action="append", type=Path,
                       help="folder of instructor-only test_*.py (hidden checks)")
        if name == "gradescope-zip":
            p.add_argument("--out", default="autograder.zip", help="the zip to write "
                           "(default autograder.zip)")
    ap.epilog = "\n".join(f"--- python -m grader {name} ---\n{parser.format_help()}"
                           for name, parser in sub.choices.items())
    args = ap.parse_args(argv)
    # `python -m grader NOTEBOOK.ipynb`: a learner checking their own work
    args.own_work = learner_form and all(Path(p).is_file() for p in getattr(args, "paths", []))
    try:
        commands = {"grade": cmd_grade, "protections": cmd_protections,
                    "gradescope": cmd_gradescope, "gradescope-zip": cmd_gradescope_zip}
        return commands[args.cmd](args)
    except ClusterError as exc:
        print(f"error: --scheduler {args.scheduler}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our output went away (e.g. `... | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
