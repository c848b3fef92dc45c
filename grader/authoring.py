"""Generate exercises/ from solutions/ and check that they are in sync.

    python -m grader.authoring generate [--force]   # write exercises/*.ipynb and exercises/zh/
    python -m grader.authoring check                # CI: fail if out of date, leaking, untested
    python -m grader.authoring templates DIR        # translation templates (notebooks, grader)

exercises/zh/*.ipynb are the same notebooks with their prose translated from the catalogs
locales/zh_CN/LC_MESSAGES/exercises/*.po (grader/translation.py).

See grader/README.md for the notebook format.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from . import i18n, translation
from .catalog import Catalog, nbgrader_id
from .paths import course_root

# The one place the course's repository URL is written down (stamped into every setup cell).
COURSE_REPO_URL = "https://github.com/nn-course/how-neural-networks-work"  # placeholder: set by the maintainers

SETUP_SOURCE = '''\
# Setup (run this cell first). Inside the course repository it only imports the grader;
# elsewhere (e.g. Colab) it downloads and installs the course once.
COURSE_REPO_URL = "%s"
import os
import sys
from pathlib import Path


def _course_root():
    for d in [Path.cwd(), *Path.cwd().parents]:
        if (d / "grader").is_dir() and (d / "solutions").is_dir():
            return d
    return None


try:
    import grader
except ImportError:
    _root = _course_root()
    if _root is None:
        import subprocess
        _root = Path.home() / "nn-course"
        if not _root.exists():
            subprocess.run(["git", "clone", "--depth", "1", COURSE_REPO_URL, str(_root)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(_root)], check=True)
    sys.path.insert(0, str(_root))
    os.environ.setdefault("NN_COURSE_ROOT", str(_root))
    import grader

import numpy as np
from grader.selfcheck import check
''' % COURSE_REPO_URL

STUB = '{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("Exercise {ex}: replace this line with your code")\n'
SOLUTION_RE = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(?:\n|$)", re.M | re.S)


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _set_src(cell, text: str):
    cell["source"] = text.splitlines(True)


def make_stub(source: str, exercise: str) -> str:
    return SOLUTION_RE.sub(lambda m: STUB.format(indent=m.group(1), ex=exercise), source)


def sources_hash(nb: dict) -> str:
    h = hashlib.sha256()
    for c in nb.get("cells", []):
        h.update((c.get("cell_type", "") + "\0" + _src(c) + "\0").encode())
    return h.hexdigest()


def dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


#: Roles of cells the learner must not edit; nbgrader shows them read-only ("locked").
LOCKED_ROLES = ("setup", "given")


def locked_cell_metadata(grade_id: str) -> dict:
    """nbgrader's metadata of a read-only cell: not graded, no solution, locked."""
    return {"grade": False, "solution": False, "locked": True, "grade_id": grade_id,
            "schema_version": 3}


def prepare_solution(sol: dict, catalog, name: str) -> dict:
    """The solution notebook with the setup cell, check-cell points and nbgrader metadata
    (grade ids; setup and given cells locked) brought up to date."""
    sol = copy.deepcopy(sol)
    prefix = name.split("_")[0]
    locked_count: dict[str, int] = {}
    for cell in sol.get("cells", []):
        g = cell.get("metadata", {}).get("grader", {})
        nbg = cell.get("metadata", {}).get("nbgrader")
        if isinstance(nbg, dict) and g.get("exercise"):
            nbg["grade_id"] = nbgrader_id(g["exercise"]) + ("-check" if g.get("role") == "check" else "")
        if g.get("role") in LOCKED_ROLES and cell.get("cell_type") == "code":
            role = g["role"]
            locked_count[role] = locked_count.get(role, 0) + 1
            suffix = "" if locked_count[role] == 1 else f"-{locked_count[role]}"
            cell["metadata"]["nbgrader"] = locked_cell_metadata(f"{prefix}-{role}{suffix}")
        if g.get("role") == "setup":
            _set_src(cell, SETUP_SOURCE)
        if g.get("role") == "check":
            ex = catalog.exercises.get(g.get("exercise"))
            if ex is not None:
                cell["metadata"].setdefault("nbgrader", {})["points"] = ex.max_points
    return sol


def make_exercise(sol: dict, rel_source: str) -> dict:
    nb = copy.deepcopy(sol)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        md = cell.get("metadata", {})
        for k in ("execution", "collapsed", "scrolled"):
            md.pop(k, None)
        g = md.get("grader", {})
        if cell.get("cell_type") == "code" and md.get("nbgrader", {}).get("solution") and g.get("exercise"):
            _set_src(cell, make_stub(_src(cell), g["exercise"]))
    nb.setdefault("metadata", {})["grader"] = {"generated_from": rel_source,
                                               "note": "GENERATED from the solution notebook: do not edit by hand"}
    nb["metadata"]["grader"]["sources_sha256"] = sources_hash(nb)
    return nb


def leaks(sol: dict, ex_nb: dict) -> list[str]:
    """Solution lines (non-trivial, non-comment) that appear in the exercise notebook."""
    problems = []
    ex_text = "\n".join(_src(c) for c in ex_nb.get("cells", []))
    if "### BEGIN SOLUTION" in ex_text or "### END SOLUTION" in ex_text:
        problems.append("solution markers present in the exercise")
    ex_lines = {ln.strip() for ln in ex_text.splitlines()}
    for cell in sol.get("cells", []):
        for m in SOLUTION_RE.finditer(_src(cell)):
            for ln in m.group(0).splitlines()[1:-1]:
                s = ln.strip()
                if len(s) >= 12 and not s.startswith("#") and s in ex_lines:
                    problems.append("solution line leaked: %r" % s[:80])
    return problems


def _is_edited(path: Path) -> bool:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        recorded = nb["metadata"]["grader"]["sources_sha256"]
    except Exception:
        return True
    return sources_hash(nb) != recorded


def _write_generated(target: Path, new_text: str, force: bool, root: Path, out):
    """Write one generated notebook: None when it is up to date, "" when written, else the
    problem (a notebook edited by hand is only overwritten with ``force``, after a backup)."""
    if target.exists() and target.read_text(encoding="utf-8") == new_text:
        return None
    if target.exists() and _is_edited(target):
        if not force:
            return ("%s has been edited (learner work?): not overwritten. Use --force to "
                    "overwrite it (a backup is kept)" % target.relative_to(root))
        backup = target.with_name(target.name + ".bak-%s" % time.strftime("%Y%m%d-%H%M%S"))
        shutil.copy2(target, backup)
        print("backup of edited %s -> %s" % (target.name, backup.name), file=out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(new_text, encoding="utf-8")
    print("wrote %s" % target.relative_to(root), file=out)
    return ""


def write_templates(root: Path, outdir: Path, out=sys.stdout) -> int:
    """The message templates of the solution notebooks' prose (``outdir/exercises/<chapter>.pot``)
    and of the grader's messages and the checks' hints (``outdir/grader.pot``,
    ``outdir/checks/<chapter>.pot``)."""
    for path in sorted((root / "solutions").glob("ch*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        target = outdir / "exercises" / f"{path.stem}.pot"
        translation.write_template(notebook, path.stem, f"solutions/{path.name}", target)
        print("wrote %s" % target, file=out)
    for target in i18n.write_templates(root, outdir):
        print("wrote %s" % target, file=out)
    return 0


def generate(root: Path, force: bool = False, check_only: bool = False, out=sys.stdout, only=None) -> int:
    sol_dir, ex_dir = root / "solutions", root / "exercises"
    problems: list[str] = []
    try:
        catalog = Catalog(sol_dir, root / "tests" / "exercises")
    except Exception as exc:
        print("error: %s" % exc, file=out)
        return 1
    problems += ["broken solution notebook %s" % e for e in catalog.errors]
    for spec in catalog.orphan_checks:
        problems.append("check %s refers to unknown exercise %s" % (spec.name, spec.exercise))
    for ex in catalog.exercises.values():
        if not [c for c in ex.checks if not c.hidden]:
            problems.append("graded cell %s (%s) has no public check in tests/exercises/" % (ex.id, ex.chapter))
        if not ex.checks:
            problems.append("graded cell %s has no checks at all" % ex.id)
    changed = 0
    for name, chapter in catalog.chapters.items():
        if only and name not in only:
            continue
        sol_path = chapter.path
        raw = json.loads(sol_path.read_text(encoding="utf-8"))
        # structure: each graded cell followed by its check cell
        cells = raw.get("cells", [])
        for i, c in enumerate(cells):
            g = c.get("metadata", {}).get("grader", {})
            if c.get("metadata", {}).get("nbgrader", {}).get("solution") and g.get("exercise"):
                nxt = cells[i + 1] if i + 1 < len(cells) else {}
                ng = nxt.get("metadata", {}).get("grader", {})
                if ng.get("role") != "check" or ng.get("exercise") != g["exercise"]:
                    problems.append("%s: graded cell %s is not followed by its check cell" % (sol_path.name, g["exercise"]))
                if "### BEGIN SOLUTION" not in _src(c):
                    problems.append("%s: graded cell %s has no ### BEGIN SOLUTION marker" % (sol_path.name, g["exercise"]))
        if not any(c.get("metadata", {}).get("grader", {}).get("role") == "setup" for c in cells):
            problems.append("%s: no setup cell (metadata grader.role = setup)" % sol_path.name)
        sol = prepare_solution(raw, catalog, name)
        exercise = make_exercise(sol, "solutions/" + sol_path.name)
        problems += ["%s: %s" % (name, p) for p in leaks(sol, exercise)]
        generated = {ex_dir / sol_path.name: dump(exercise)}
        for language, folder in translation.EXERCISE_FOLDERS.items():
            translated = translation.translate(
                copy.deepcopy(exercise),
                translation.load_translations(translation.catalog_path(root, language, name)),
                language)
            translated["metadata"]["grader"]["sources_sha256"] = sources_hash(translated)
            generated[ex_dir / folder / sol_path.name] = dump(translated)
        if check_only:
            if dump(sol) != dump(raw):
                problems.append("%s: setup cell, grade_ids or check points out of date (run generate)" % sol_path.name)
            for target, new_text in generated.items():
                if not target.exists():
                    problems.append("%s is missing (run: python -m grader.authoring generate)" % target.relative_to(root))
                elif target.read_text(encoding="utf-8") != new_text:
                    problems.append("%s is out of date with %s (run: python -m grader.authoring generate)"
                                    % (target.relative_to(root), sol_path.relative_to(root)))
            continue
        if dump(sol) != dump(raw):
            sol_path.write_text(dump(sol), encoding="utf-8")
            print("updated %s (setup cell / grade_ids / points)" % sol_path.relative_to(root), file=out)
        for target, new_text in generated.items():
            problem = _write_generated(target, new_text, force, root, out)
            if problem:
                problems.append(problem)
            elif problem is not None:
                changed += 1
    folders = [ex_dir] + [ex_dir / folder for folder in translation.EXERCISE_FOLDERS.values()]
    stale = [p for folder in folders if folder.exists() for p in folder.glob("ch*.ipynb")
             if p.stem not in catalog.chapters]
    for p in stale:
        problems.append("%s has no solution notebook" % p.relative_to(root))
    for p in problems:
        print("problem: %s" % p, file=out)
    if not problems:
        print("%s: %d chapter(s), %d exercise(s), %d check(s)%s" % (
            "check ok" if check_only else "generate ok", len(catalog.chapters), len(catalog.exercises),
            sum(len(e.checks) for e in catalog.exercises.values()),
            "" if check_only else ", %d file(s) written" % changed), file=out)
    return 1 if problems else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="nn-exercises", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["generate", "check", "templates"], nargs="?",
                    default="generate")
    ap.add_argument("directory", nargs="?", type=Path,
                    help="templates: the folder to write exercises/<chapter>.pot into")
    ap.add_argument("--check", action="store_true", help="same as the 'check' command")
    ap.add_argument("--force", action="store_true", help="overwrite edited exercise notebooks (keeps a backup)")
    ap.add_argument("--root", type=Path, default=None, help="course repository (default: auto)")
    ap.add_argument("--chapter", action="append", help="only this chapter (e.g. ch03_activations); repeatable")
    args = ap.parse_args(argv)
    root = (args.root or course_root()).resolve()
    if args.command == "templates":
        if args.directory is None:
            ap.error("templates needs the folder to write into, e.g. _build/gettext")
        return write_templates(root, args.directory)
    return generate(root, force=args.force, check_only=args.check or args.command == "check", only=args.chapter)


if __name__ == "__main__":
    sys.exit(main())
