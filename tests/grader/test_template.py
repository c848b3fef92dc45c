"""Sandbox templates: sessions forked from a pre-initialised process are as fresh and as
isolated as sandboxes started from scratch, and the template imports only what a sandbox could."""
from __future__ import annotations

import os
import resource
import subprocess

import pytest

from grader.sandbox import SandboxConfig, Session
from grader.sandbox import template as templates

CODE = """
import sys
import numpy
def leave_traces():
    numpy.LEFT_BY_LEARNER = "first learner"
    sys.modules["learner_module"] = numpy
    with open("/tmp/trace", "w") as f:
        f.write("x")
    return True
def traces():
    import os
    return [hasattr(numpy, "LEFT_BY_LEARNER"), "learner_module" in sys.modules,
            os.path.exists("/tmp/trace")]
def loaded(name):
    return name in sys.modules
"""


@pytest.fixture
def fresh_templates():
    """Each test starts and ends without templates in this process."""
    templates.close_all()
    yield
    templates.close_all()


def _session(config=None):
    session = Session(config or SandboxConfig(call_timeout=5))
    session.start()
    assert session.load([("exercise", CODE)])["ok"]
    return session


def test_sessions_forked_from_a_template_share_nothing(fresh_templates):
    with _session() as first:
        assert first._template is not None            # forked from this kind's template
        assert first.call("leave_traces", (), {})[1] is True
        assert first.call("traces", (), {})[1] == [True, True, True]
    with _session() as second:
        assert second._template is first._template
        assert second.call("traces", (), {})[1] == [False, False, False]


def test_the_template_imports_what_sessions_preloaded_before_the_next_spawn(fresh_templates):
    with _session() as first:
        first.preload(["colorsys"])
        assert first._template.wanted == {"colorsys"} and "colorsys" not in \
            first._template.modules
    with _session() as second:                       # forked with colorsys already imported
        assert "colorsys" in second._template.modules
        assert second.call("loaded", ("colorsys",), {})[1] is True


def test_modules_preloaded_before_the_start_are_imported_by_the_template_once(fresh_templates):
    for _ in range(2):
        with Session(SandboxConfig(call_timeout=5)) as session:
            assert session.preload(["colorsys"]) == {"colorsys": "ok"}   # starts the session
            assert "colorsys" in session._template.modules               # imported before fork
            assert session.load([("exercise", CODE)])["ok"]
            assert session.call("loaded", ("colorsys",), {})[1] is True


def test_the_template_refuses_modules_a_sandbox_cannot_see(fresh_templates):
    with _session() as first:
        assert first.preload(["grader"])["grader"].startswith("ModuleNotFoundError")
        first._template.remember(["grader"])        # as if a session had imported it
    with _session() as second:                      # the template still serves, without it
        assert "grader" not in second._template.modules
        assert second.call("loaded", ("grader",), {})[1] is False


def test_closing_ends_the_template_and_counts_its_sandboxes(fresh_templates):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with _session() as session:
        template = session._template
        pid = template.proc.pid
    templates.close_all()
    assert template.proc.returncode is not None and not os.path.exists(f"/proc/{pid}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert after.ru_utime + after.ru_stime > before.ru_utime + before.ru_stime
    zombies = subprocess.run(["ps", "-eo", "stat=,ppid="], capture_output=True, text=True).stdout
    assert not [ln for ln in zombies.splitlines() if ln.startswith("Z") and
                ln.split()[1] == str(os.getpid())]


def test_probes_and_other_interpreters_start_fresh(tmp_path, fresh_templates):
    launcher = tmp_path / "python"
    launcher.write_text("#!/bin/sh\nexec \"$NN_REAL_PYTHON\" \"$@\"\n")
    launcher.chmod(0o755)
    with Session(SandboxConfig(call_timeout=5)) as probe_session:
        probe_session.start(probe=True)
        assert probe_session._template is None
    config = SandboxConfig(call_timeout=5, python=str(launcher),
                           env={"NN_REAL_PYTHON": SandboxConfig().python})
    with _session(config) as other:
        assert other._template is not None and other._template.proc.args[0] == str(launcher)
    with _session() as default:
        assert default._template is not other._template


def test_a_failing_template_is_dropped_and_sessions_start_fresh(fresh_templates, monkeypatch):
    def refuse(self, session_cfg, fds):
        raise templates.TemplateUnavailable("the template has 2 threads")

    monkeypatch.setattr(templates.Template, "spawn", refuse)
    with _session() as session:
        assert session._template is None
        assert session.call("traces", (), {})[1] == [False, False, False]
    with _session() as again:            # the broken template is not tried again
        assert again._template is None


def test_a_prestarted_template_is_not_waited_for_until_a_sandbox_needs_it(fresh_templates):
    """``prestart`` (the command line, before its own imports) only launches the template; the
    first session of that kind is forked from it, once it is ready."""
    from grader.sandbox import prestart

    config = SandboxConfig(call_timeout=5)
    prestart(config)
    [template] = [t for t in templates._templates.values() if t is not None]
    assert template.ready is False and template.proc.poll() is None   # launched, not awaited
    with _session(config) as session:
        assert session._template is template and template.ready
        assert session.call("traces", (), {})[1] == [False, False, False]


def test_a_template_that_dies_before_it_is_ready_leaves_sessions_starting_fresh(fresh_templates):
    config = SandboxConfig(call_timeout=5)
    from grader.sandbox import prestart

    prestart(config)
    [template] = [t for t in templates._templates.values() if t is not None]
    template.proc.kill()
    template.proc.wait()
    with _session(config) as session:
        assert session._template is None                 # started from scratch instead
        assert session.call("traces", (), {})[1] == [False, False, False]
