"""Command line: grade notebooks, learners' folders or folders of learners' folders.

    python -m grader exercises/ch03_activations.ipynb          # a learner grades their notebook
    python -m grader grade SUBMISSIONS/ --out results/ --workers 2 [--extra-tests DIR] [--force]
    python -m grader protections                               # what the sandbox can do here
    python -m grader generate | check                          # = python -m grader.authoring ...
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .sandbox import JAX_GRADING_ENV, MECHANISM, SandboxConfig, build_policy, probe

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


def _summary(report: dict, stream=None, detail: bool = False):
    stream = stream or sys.stdout
    for s in report["submissions"]:
        if s["status"] != "graded":
            print("%s: NOT GRADABLE: %s" % (s["name"], s["reason"]), file=stream)
            continue
        print("%s: %g / %g%s" % (s["name"], s["score"], s["max_score"], " (cached)" if s.get("cached") else ""), file=stream)
        if detail:
            for t in s["tests"]:
                mark = "ok  " if t["status"] == "passed" else "FAIL"
                print("  %s %-55s %4g/%-4g %s" % (mark, t["test_id"], t["points"], t["max_points"],
                                                   "" if t["status"] == "passed" else t["status"]), file=stream)
                if t["status"] != "passed" and t["message"]:
                    for ln in t["message"].splitlines()[:12]:
                        print("         " + ln, file=stream)
            for f in s.get("flags", []):
                print("  flagged for review: %s cell %s line %s: %s" % (f["notebook"], f["cell"], f["line"], f["reason"]), file=stream)


def cmd_grade(args) -> int:
    from .batch import detect_chapters, discover, grade_batch
    from .catalog import Catalog
    from .paths import checks_dir, solutions_dir
    inputs = [Path(p) for p in args.paths]
    for p in inputs:
        if not p.exists():
            print("error: %s does not exist" % p, file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else None
    if out is None and any(p.is_dir() for p in inputs):
        out = Path("grader-output")
    chapters = args.chapters.split(",") if args.chapters else None
    try:
        if chapters is None:  # load the checks of the chapters found in the notebooks only
            notebooks_only = Catalog(solutions_dir(), checks_dir(), chapters=[])
            chapters = detect_chapters([s for p in inputs for s in discover(p)], notebooks_only)
        catalog = Catalog(solutions_dir(), checks_dir(), args.extra_tests or [], chapters=chapters)
    except Exception as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    config = _config(args)
    if not args.own_work:
        # other people's code: grade only with the file system isolated (or the waiver)
        protections = probe(config)
        if not protections.get("filesystem_isolated") and not config.accept_weaker:
            print(REFUSAL.format(reason=protections.get("filesystem", "unknown")), file=sys.stderr)
            return 2
    report = grade_batch(inputs, out, catalog, config, workers=args.workers, force=args.force,
                         chapters=chapters,
                         use_cache=not args.no_cache, progress=not args.quiet and sys.stderr.isatty() or args.progress)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        single = len(report["submissions"]) == 1
        _summary(report, detail=single or args.verbose)
        if out:
            print("wrote %s/results.json, grades.csv, feedback/*.html" % out)
    missing = weaker_protection(report.get("protections") or {})
    if args.own_work and missing:
        print("note: this system allows only part of the sandbox (%s); your notebook was graded "
              "with what it allows, which is fine for checking your own work."
              % "; ".join(missing), file=sys.stderr)
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
    print(json.dumps(report, indent=1))
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for name, value in JAX_GRADING_ENV.items():  # before any check imports JAX (Keras' backend)
        os.environ.setdefault(name, value)
    if argv and argv[0] in ("generate", "check"):
        from .authoring import main as amain
        return amain(argv)
    learner_form = bool(argv) and argv[0] not in ("grade", "protections", "-h", "--help")
    if learner_form:
        argv.insert(0, "grade")
    ap = argparse.ArgumentParser(prog="nn-grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("grade", "protections"):
        p = sub.add_parser(name)
        p.add_argument("--timeout", type=float, default=3.0, help="seconds per call (default 3)")
        p.add_argument("--memory-mb", type=int, default=1536, help="address-space limit of learner code")
        p.add_argument("--no-namespaces", action="store_true", help="do not use Linux namespaces")
        if name == "grade":
            p.add_argument("paths", nargs="+", help="notebook, learner folder, or folder of learner folders")
            p.add_argument("--out", help="output folder (results.json, grades.csv, feedback/); default "
                           "grader-output/ for folders, none for a single notebook")
            p.add_argument("--workers", type=int, default=2)
            p.add_argument("--force", action="store_true", help="regrade even if unchanged (ignore the cache)")
            p.add_argument("--no-cache", action="store_true")
            p.add_argument("--extra-tests", action="append", type=Path, help="folder of instructor-only test_*.py")
            p.add_argument("--chapters", help="comma-separated chapters every submission must contain")
            p.add_argument("--json", action="store_true", help="print results.json to stdout")
            p.add_argument("--verbose", "-v", action="store_true", help="per-test lines for every submission")
            p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
            p.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
            p.add_argument("--accept-weaker-sandbox", action="store_true",
                           help="grade other people's code even where the file system cannot be "
                           "isolated (recorded in results.json)")
    args = ap.parse_args(argv)
    # `python -m grader NOTEBOOK.ipynb`: a learner checking their own work
    args.own_work = learner_form and all(Path(p).is_file() for p in getattr(args, "paths", []))
    try:
        return cmd_grade(args) if args.cmd == "grade" else cmd_protections(args)
    except BrokenPipeError:
        # The reader of our output went away (e.g. `... | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
