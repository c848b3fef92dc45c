"""Grade many submissions: discovery, parallel workers, cache, progress, reports."""
from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import __version__
from .catalog import Catalog
from .grade import grade_submission, submission_hash
from .sandbox import SandboxConfig

SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


def _notebooks_under(d: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        out += [Path(root) / f for f in sorted(files) if f.endswith(".ipynb")]
    return out


def discover(path: Path) -> list[tuple[str, list[Path], Path]]:
    """[(name, notebooks, base)] for a notebook file, a learner's folder or a folder of folders."""
    path = Path(path)
    if path.is_file():
        return [(path.stem, [path], path.parent)]
    if not path.is_dir():
        raise FileNotFoundError("%s: no such file or folder" % path)
    direct = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".ipynb")
    subdirs = sorted(p for p in path.iterdir() if p.is_dir() and p.name not in SKIP_DIRS and not p.name.startswith("."))
    if direct and not any(_notebooks_under(s) for s in subdirs):
        return [(path.name, _notebooks_under(path), path)]
    if direct and not subdirs:
        return [(path.name, direct, path)]
    subs = []
    for s in subdirs:
        subs.append((s.name, _notebooks_under(s), s))
    for f in direct:  # loose notebooks in a folder of learners: one submission each
        subs.append((f.stem, [f], path))
    return subs


def versions() -> dict:
    import numpy
    try:
        from importlib.metadata import version
        keras = version("keras")
    except Exception:
        keras = None
    return {"grader": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "keras": keras, "platform": platform.platform()}


def detect_chapters(subs, catalog: Catalog) -> list[str]:
    """The chapters found in any notebook of ``subs`` [(name, notebooks, base)], in course order
    (needs only the catalog's solution notebooks, not its checks)."""
    from .grade import match_score
    from .notebook import NotebookError, read_notebook
    found = set()
    for _, paths, _ in subs:
        for p in paths:
            try:
                nb = read_notebook(p)
            except NotebookError:
                continue
            found.update(ch for ch, c in catalog.chapters.items() if match_score(nb, c) != (0, 0))
    return [c for c in catalog.chapters if c in found]


# --------------------------------------------------------------------------- worker process
_W: dict = {}


def _init_worker(solutions, checks, extra, config, chapters):
    _W["catalog"] = Catalog(Path(solutions), Path(checks), extra, chapters=chapters)
    _W["config"] = config


def _grade_one(name, paths, base, chapters):
    try:
        return grade_submission(name, [Path(p) for p in paths], _W["catalog"], chapters, _W["config"], Path(base))
    except Exception as exc:  # never abort the batch
        return {"name": name, "path": str(base), "status": "not_gradable",
                "reason": "internal grader error: %s: %s" % (type(exc).__name__, exc), "score": 0.0,
                "max_score": 0.0, "notebooks": [], "exercises": {}, "tests": [], "flags": []}


class Progress:
    def __init__(self, total: int, stream=sys.stderr, enabled: bool = True):
        self.total, self.done, self.t0, self.stream, self.enabled = total, 0, time.monotonic(), stream, enabled

    def step(self, label: str = ""):
        self.done += 1
        if not self.enabled:
            return
        el = time.monotonic() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else 0
        width = 24
        fill = int(width * self.done / max(self.total, 1))
        self.stream.write("\r[%s%s] %d/%d  %.1fs elapsed, ETA %.1fs  %-30s" % (
            "#" * fill, "." * (width - fill), self.done, self.total, el, eta, label[:30]))
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def grade_batch(inputs: list[Path], out: Path | None, catalog: Catalog, config: SandboxConfig,
                workers: int = 2, force: bool = False, chapters: list[str] | None = None,
                use_cache: bool = True, progress: bool = True) -> dict:
    subs = []
    for inp in inputs:
        subs += discover(Path(inp))
    # which chapters every submission is expected to contain
    if chapters is None:
        chapters = detect_chapters(subs, catalog)
    fingerprint = catalog.fingerprint()
    cache_dir = (out / ".cache") if (out and use_cache) else None
    results: list[dict | None] = [None] * len(subs)
    todo = []
    for i, (name, paths, base) in enumerate(subs):
        h = submission_hash(paths)
        key = "%s-%s" % (h[:32], fingerprint[:16])
        if cache_dir and not force and (cache_dir / (key + ".json")).exists():
            try:
                cached = json.loads((cache_dir / (key + ".json")).read_text())
                cached.update(name=name, cached=True)
                results[i] = cached
                continue
            except Exception:
                pass
        todo.append((i, name, paths, base, h, key))
    bar = Progress(len(subs), enabled=progress)
    for r in results:
        if r is not None:
            bar.step(r["name"] + " (cached)")
    t0 = time.monotonic()
    if todo:
        args = (str(catalog.solutions_dir), str(catalog.checks_dir), list(catalog.extra_dirs), config,
                list(chapters))
        if workers <= 1 or len(todo) == 1:
            _W["catalog"], _W["config"] = catalog, config
            for (i, name, paths, base, h, key) in todo:
                results[i] = _grade_one(name, [str(p) for p in paths], str(base), chapters)
                results[i].update(content_hash=h, cached=False)
                bar.step(name)
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=args) as pool:
                futs = {pool.submit(_grade_one, name, [str(p) for p in paths], str(base), chapters): (i, name, h)
                        for (i, name, paths, base, h, key) in todo}
                for fut in as_completed(futs):
                    i, name, h = futs[fut]
                    try:
                        r = fut.result()
                    except Exception as exc:  # a worker process died
                        r = {"name": name, "path": "", "status": "not_gradable", "reason": "grader worker failed: %s" % exc,
                             "score": 0.0, "max_score": 0.0, "notebooks": [], "exercises": {}, "tests": [], "flags": []}
                    r.update(content_hash=h, cached=False)
                    results[i] = r
                    bar.step(name)
        if cache_dir:
            cache_dir.mkdir(parents=True, exist_ok=True)
            for (i, name, paths, base, h, key) in todo:
                if results[i]["status"] == "graded":
                    (cache_dir / (key + ".json")).write_text(json.dumps(results[i]))
    protections = next((r.get("protections") for r in results if r and r.get("protections")), {})
    ex_list = [{"id": e.id, "chapter": e.chapter, "max_points": e.max_points}
               for ch in chapters for e in catalog.chapters[ch].exercises]
    report = {
        "schema_version": 1,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        "protections": protections,
        "chapters": chapters,
        "max_score": sum(e["max_points"] for e in ex_list),
        "exercises": ex_list,
        "seconds": round(time.monotonic() - t0, 3),
        "submissions": results,
    }
    if out:
        write_reports(report, Path(out))
    return report


# --------------------------------------------------------------------------- reports
def write_reports(report: dict, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    ex_ids = [e["id"] for e in report["exercises"]]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "status", *ex_ids, "total", "max_score"])
        for s in report["submissions"]:
            w.writerow([s["name"], s["status"], *[s["exercises"].get(e, {}).get("score", 0.0) for e in ex_ids],
                        s["score"], report["max_score"] if s["status"] == "graded" else s["max_score"]])
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    for s in report["submissions"]:
        (fb / (_safe(s["name"]) + ".html")).write_text(feedback_html(s, report), encoding="utf-8")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100] or "submission"


STATUS_COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "not_implemented": "#757575"}


def feedback_html(s: dict, report: dict) -> str:
    e = html.escape
    rows = []
    for t in s.get("tests", []):
        colour = STATUS_COLOUR.get(t["status"], "#e65100")
        mark = "✓" if t["status"] == "passed" else "✗"
        msg = t["message"] or ""
        if t.get("output") and not t.get("hidden"):
            msg += "\n--- printed output ---\n" + t["output"][-1500:]
        rows.append("<tr><td>%s</td><td>%s</td><td style='color:%s'>%s %s</td><td>%g / %g</td><td><pre>%s</pre></td></tr>" % (
            e(t["exercise"]), e(t["test_id"].split("::")[-1]), colour, mark, e(t["status"]),
            t["points"], t["max_points"], e(msg)))
    nbs = "".join("<li>%s: %s%s</li>" % (e(n["path"]), e(n["status"]),
                                        (" (" + e(n.get("reason") or "") + ")") if n.get("reason") else "")
                  for n in s.get("notebooks", []))
    reason = "<p><b>Not gradable:</b> %s</p>" % e(s["reason"]) if s.get("reason") else ""
    return """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Feedback: %s</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}td,th{border-bottom:1px solid #ddd;padding:4px;vertical-align:top}
pre{white-space:pre-wrap;margin:0;font-size:90%%}table{border-collapse:collapse;width:100%%}</style></head><body>
<h1>Feedback for %s</h1><p>Score: <b>%g / %g</b> (status: %s)</p>%s<ul>%s</ul>
<table><tr><th>exercise</th><th>test</th><th>status</th><th>points</th><th>message</th></tr>%s</table>
<p style="color:#777">Graded by grader %s with Python %s, numpy %s. Hidden tests show only what kind of problem they found.</p>
</body></html>""" % (e(s["name"]), e(s["name"]), s["score"], s["max_score"], e(s["status"]), reason, nbs, "".join(rows),
                     e(str(report["versions"].get("grader"))), e(str(report["versions"].get("python"))),
                     e(str(report["versions"].get("numpy"))))
