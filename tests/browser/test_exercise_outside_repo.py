"""An exercise notebook opened outside the repository (the Colab case) installs the course itself.

The notebook is copied to a folder outside the repository and executed with nbclient in a
scratch Python environment where ``grader`` and ``nnlib`` are NOT importable. Its setup cell must
then clone the course from ``COURSE_REPO_URL`` into ``~/nn-course`` and pip-install it, exactly as
on Colab. The test points that one URL at a snapshot of this working tree (a local git repository,
``file://``), so no network is needed, and pip runs offline (``PIP_NO_INDEX``; the build uses the
setuptools already installed). Then every check cell must report "not implemented yet".

Also here: the self-check's feedback is plain text outside a notebook (no HTML, no ANSI codes).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from browser_support import ROOT

EXERCISE = "ch03_activations"
URL_LINE = re.compile(r'^COURSE_REPO_URL = "[^"]*"$', re.M)
HTML_TAG = re.compile(r"</?(div|span|b|pre|ul|li|code|br|p)\b[^>]*>", re.I)
ANSI = re.compile(r"\x1b\[")


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def _snapshot_repository(dest: Path) -> Path:
    """A git repository holding this working tree's files (tracked + untracked, not ignored)."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _git("init", "-q", "-b", "main", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "-m",
         "snapshot", cwd=dest)
    return dest


def _scratch_python(venv: Path) -> Path:
    """A venv that sees this venv's third-party packages but not the course's editable install.

    A plain path line in a .pth file adds the directory without running the .pth files inside
    it, so the editable-install finder for nnlib/grader is not activated.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True).stdout
    Path(site.strip(), "course_test_base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _clean_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), KERAS_BACKEND="jax", MPLBACKEND="Agg",
               PYDEVD_DISABLE_FILE_VALIDATION="1", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1",
               # pip's inverted boolean: "0" here means "no build isolation" (use the installed
               # setuptools instead of downloading one).
               PIP_NO_BUILD_ISOLATION="0",
               GIT_CONFIG_NOSYSTEM="1")
    return env


def test_exercise_outside_the_repository_installs_the_course_and_runs(tmp_path):
    source = ROOT / "exercises" / f"{EXERCISE}.ipynb"
    nb = nbformat.read(source, as_version=4)
    setup = next(c for c in nb.cells if c.get("metadata", {}).get("grader", {}).get("role") == "setup")
    assert len(URL_LINE.findall(setup.source)) == 1, \
        "the setup cell must hold exactly one line COURSE_REPO_URL = \"...\" (the install source)"

    repo = _snapshot_repository(tmp_path / "origin")
    setup.source = URL_LINE.sub(f'COURSE_REPO_URL = "file://{repo}"', setup.source)
    probe = nbformat.v4.new_code_cell(
        "import grader, nnlib\nprint('COURSE-FROM', grader.__file__, nnlib.__file__)")
    nb.cells.append(probe)

    home = tmp_path / "home"
    work = tmp_path / "colab"                      # outside the repository
    home.mkdir()
    work.mkdir()
    python = _scratch_python(tmp_path / "venv")
    env = _clean_env(home)
    precheck = subprocess.run([str(python), "-c", "import numpy, ipykernel; import grader"],
                              cwd=work, env=env, capture_output=True, text=True)
    assert "No module named 'grader'" in precheck.stderr, \
        f"the scratch environment must not see the course already: {precheck.stderr[-500:]}"

    finder = Path(sysconfig.get_paths()["purelib"]).glob("__editable__*nn_course*")
    before = {p: p.stat().st_mtime for p in finder}

    kernels = tmp_path / "kernels" / "scratch"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "scratch", "language": "python"}))
    km = KernelManager(kernel_name="scratch",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels.parent)]))
    client = NotebookClient(nb, km=km, timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env)

    def text_of(cell):
        parts = []
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif out["output_type"] == "error":
                parts.append(f"{out['ename']}: {out['evalue']}")
            else:
                parts.append(out.get("data", {}).get("text/plain", ""))
        return "\n".join(parts)

    setup_errors = [o for o in setup.outputs if o["output_type"] == "error"]
    assert not setup_errors, "the setup cell failed:\n" + "\n".join(
        "\n".join(o["traceback"]) for o in setup_errors)[-4000:]
    clone = home / "nn-course"
    assert (clone / "grader").is_dir() and (clone / "nnlib").is_dir(), \
        f"the setup cell did not clone the course into {clone}"
    origin = text_of(nb.cells[-1])
    assert "COURSE-FROM" in origin and origin.count(str(clone)) == 2, \
        f"grader and nnlib should come from the clone {clone}: {origin}"

    scratch_site = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    assert list(scratch_site.glob("nn_course-*.dist-info")), \
        "the setup cell did not pip-install the course into the kernel's environment"

    checks = [c for c in nb.cells
              if c.get("metadata", {}).get("grader", {}).get("role") == "check"]
    assert checks, "the exercise has no check cells"
    for cell in checks:
        assert "not implemented yet" in text_of(cell), \
            f"check cell {cell.source!r} printed: {text_of(cell)[-1000:]}"
    # The only errors are from demo cells calling the unimplemented stubs.
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert out["ename"] == "NotImplementedError", (cell.source, out["evalue"])

    after = {p: p.stat().st_mtime for p in before}
    assert before == after, "installing in the scratch environment touched the project's venv"


# --------------------------------------------------------------------------- terminal feedback
TERMINAL_SCRIPT = textwrap.dedent('''
    import numpy as np
    from grader.selfcheck import check
    from nnlib.activations import sigmoid as reference_sigmoid

    def stub(z):
        raise NotImplementedError("Exercise ch03.sigmoid: replace this line with your code")

    def wrong(z):
        return np.asarray(z, dtype=float) * 0.25 + 0.5      # a tangent line, not the sigmoid

    for name, fn in [("STUB", stub), ("WRONG", wrong), ("RIGHT", reference_sigmoid)]:
        print("=====", name)
        check("ch03.sigmoid", fn)
''')


def test_self_check_prints_plain_text_in_a_terminal(tmp_path):
    """Outside IPython (stdout not a tty), feedback is plain text: ✓/✗ but no HTML, no ANSI."""
    proc = subprocess.run([sys.executable, "-c", TERMINAL_SCRIPT], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TERM": "xterm-256color"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert not HTML_TAG.search(out), f"HTML in terminal output:\n{out}"
    assert not ANSI.search(out), f"ANSI escape codes in terminal output:\n{out!r}"
    sections = dict(re.findall(r"===== (\w+)\n(.*?)(?=\n=====|\Z)", out, re.S))
    assert "not implemented yet" in sections["STUB"], sections["STUB"]
    assert "Traceback" not in out
    assert "✗" in sections["WRONG"], sections["WRONG"]
    passed, total = map(int, re.search(r"(\d+) of (\d+) public checks passed",
                                       sections["WRONG"]).groups())
    assert passed < total
    assert "✗" not in sections["RIGHT"] and "✓" in sections["RIGHT"], sections["RIGHT"]
    passed, total = map(int, re.search(r"(\d+) of (\d+) public checks passed",
                                       sections["RIGHT"]).groups())
    assert passed == total > 0


def test_self_check_feedback_in_a_notebook_is_coloured_html():
    """The notebook form of a failing check marks it ✗ in a colour other than the ✓ colour."""
    import numpy as np

    from grader.selfcheck import run_checks
    from nnlib.activations import sigmoid

    wrong = run_checks("ch03.sigmoid", lambda z: np.asarray(z, dtype=float) * 0.25 + 0.5).html()
    right = run_checks("ch03.sigmoid", sigmoid).html()
    cross = re.findall(r'<span style="color:([^"]+)">✗</span>', wrong)
    tick = re.findall(r'<span style="color:([^"]+)">✓</span>', right)
    assert cross and tick, (wrong, right)
    assert set(cross).isdisjoint(tick), "✗ and ✓ should have different colours"
    assert "✗" not in right
