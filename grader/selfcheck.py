"""In-notebook self-check: ``check("ch03.sigmoid", sigmoid)``.

Runs the exercise's public checks in the learner's own kernel (fine for feedback: this is not
grading) and shows which check failed, on which input, expected versus got, and a hint.
"""
from __future__ import annotations

import html
import os
import signal
import sys
import threading
import time
import types

from . import checks as C

TIME_LIMIT = 5.0


class _TooSlow(Exception):
    pass


def _in_notebook() -> bool:
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Report:
    def __init__(self, exercise: str):
        self.exercise = exercise
        self.rows: list[tuple[str, str, str]] = []  # (status, check name, message)
        self.not_implemented = False
        self.points = self.max_points = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(s == "passed" for s, _, _ in self.rows)

    def text(self) -> str:
        if self.not_implemented:
            return "%s: not implemented yet (replace the `raise NotImplementedError(...)` line with your code)" % self.exercise
        n_ok = sum(1 for s, _, _ in self.rows if s == "passed")
        lines = ["%s: %d of %d public checks passed" % (self.exercise, n_ok, len(self.rows))]
        for status, name, msg in self.rows:
            mark = "✓" if status == "passed" else "✗"
            lines.append("  %s %s" % (mark, name) + ("" if status == "passed" else ""))
            if msg:
                lines += ["      " + ln for ln in msg.splitlines()]
        if self.passed:
            lines.append("All public checks pass. The grader also runs hidden checks on other inputs.")
        return "\n".join(lines)

    def html(self) -> str:
        esc = html.escape
        if self.not_implemented:
            return ('<div style="border-left:4px solid #888;padding:4px 8px"><b>%s</b>: not implemented yet '
                    '(replace the <code>raise NotImplementedError(...)</code> line with your code)</div>' % esc(self.exercise))
        n_ok = sum(1 for s, _, _ in self.rows if s == "passed")
        colour = "#2e7d32" if self.passed else "#c62828"
        parts = ['<div style="border-left:4px solid %s;padding:4px 8px"><b>%s</b>: %d of %d public checks passed<ul style="margin:2px 0">'
                 % (colour, esc(self.exercise), n_ok, len(self.rows))]
        for status, name, msg in self.rows:
            ok = status == "passed"
            parts.append('<li><span style="color:%s">%s</span> %s%s</li>' % (
                "#2e7d32" if ok else "#c62828", "✓" if ok else "✗", esc(name),
                "" if not msg else '<pre style="margin:2px 0;white-space:pre-wrap">%s</pre>' % esc(msg)))
        parts.append("</ul></div>")
        return "".join(parts)

    def _repr_pretty_(self, p, cycle):  # pragma: no cover - IPython display
        p.text(self.text())


def _pretty_name(name: str) -> str:
    return name[5:].replace("_", " ") if name.startswith("test_") else name


def run_checks(exercise: str, *funcs, catalog=None, **named) -> Report:
    from .catalog import default_catalog
    catalog = catalog or default_catalog()
    ex = catalog.exercises.get(exercise)
    if ex is None:
        raise ValueError("unknown exercise %r; known: %s" % (exercise, ", ".join(sorted(catalog.exercises))))
    if len(funcs) > len(ex.functions):
        raise TypeError("check(%r, ...) takes at most %d function(s): %s" % (exercise, len(ex.functions), ", ".join(ex.functions)))
    ns = dict(zip(ex.functions, funcs))
    ns.update(named)
    sub = types.SimpleNamespace(**ns)
    ref = catalog.reference(ex.chapter)
    report = Report(exercise)
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    for spec in ex.checks:
        if spec.hidden:
            continue
        report.max_points += spec.points
        name = _pretty_name(spec.name)
        C._last_call.clear()
        old = None
        if use_alarm:
            def _alarm(signum, frame):
                raise _TooSlow()
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, max(TIME_LIMIT, spec.timeout or 0))
        try:
            from .grade import call_check
            call_check(spec, sub, ref)
            report.rows.append(("passed", name, ""))
            report.points += spec.points
        except C.NotImplementedYet:
            report.not_implemented = True
            report.rows.append(("not_implemented", name, "not implemented yet"))
            break
        except _TooSlow:
            report.rows.append(("timeout", name, "took longer than %.0f s (endless loop?)"
                                % max(TIME_LIMIT, spec.timeout or 0)))
        except C.CheckFailed as exc:
            report.rows.append(("failed", name, exc.message + (("\nhint: " + spec.hint) if spec.hint else "")))
        except C.LearnerError as exc:
            cause = exc.__cause__
            where = ""
            if cause is not None and cause.__traceback__ is not None:
                import traceback
                tb = traceback.extract_tb(cause.__traceback__)
                if tb:
                    where = " (line %s, in %s)" % (tb[-1].lineno, tb[-1].name)
            report.rows.append(("error", name, "%s raised %s: %s%s" % (exc.func, exc.etype, exc.emessage, where)
                                + (("\nhint: " + spec.hint) if spec.hint else "")))
        except C.MissingFunction as exc:
            report.rows.append(("missing", name, str(exc)))
        except Exception as exc:  # a learner's result the check could not examine
            report.rows.append(("failed", name, "could not examine your result (%s: %s)" % (type(exc).__name__, exc)))
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
    return report


def check(exercise: str, *funcs, **named):
    """Run the public checks of ``exercise`` on the given function(s) and show the feedback."""
    t0 = time.perf_counter()
    report = run_checks(exercise, *funcs, **named)
    report.seconds = time.perf_counter() - t0
    if _in_notebook():
        from IPython.display import display
        display({"text/plain": report.text(), "text/html": report.html()}, raw=True)
    else:
        print(report.text())
    if os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate") and not report.passed:
        raise AssertionError(report.text())
    return None
