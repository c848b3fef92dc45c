"""The instructor's guide quotes real output: each quoted block is produced again here.

Runs the guide's own example (alice, bob, carol) with the commands the guide shows and checks
that every output it quotes is, verbatim, what the grader prints today, so that the guide
cannot fall behind the code. Also checks the guide's other promises about the code.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from grader.authoring import generate
from grader.cli import main

from guide_example import ROOT, build_submissions

GUIDE = (ROOT / "book" / "appendix" / "instructors.md").read_text(encoding="utf-8")
TEXT_BLOCKS = [block.strip("\n") for block in re.findall(r"```text\n(.*?)```", GUIDE, re.S)]
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


def _run(*argv: str) -> str:
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        assert main(list(argv)) == 0
    return stream.getvalue().strip("\n")


def _extra_tests(folder: Path) -> Path:
    """The guide's instructor-only check file, as the guide prints it."""
    source = re.search(r"```python\n(# ~/instructor-tests/test_extra_ch03\.py\n.*?)```", GUIDE,
                       re.S)[1]
    (folder / "instructor-tests").mkdir()
    (folder / "instructor-tests" / "test_extra_ch03.py").write_text(source)
    return folder / "instructor-tests"


def _fix_carol(subs: Path):
    """Carol replaces her sigmoid derivative with a correct one."""
    path = subs / "carol" / "ch03_activations.ipynb"
    data = json.loads(path.read_text())
    solution = {cell.get("id"): cell for cell in json.loads(
        (ROOT / "solutions" / "ch03_activations.ipynb").read_text())["cells"]}
    for cell in data["cells"]:
        if cell.get("id") == "ch03-sigmoid_derivative":
            cell["source"] = MARKERS.sub("", "".join(solution[cell["id"]]["source"]))
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """What the guide's commands print, in the guide's order."""
    folder = tmp_path_factory.mktemp("guide")
    subs = build_submissions(folder)
    extra = _extra_tests(folder)
    with contextlib.chdir(folder):
        printed = {
            "grade": _run("grade", "submissions/", "--out", "results/", "--workers", "2", "-q"),
            "cached": _run("grade", "submissions/", "--out", "results/", "--workers", "2",
                           "-q"),
            "extra": _run("grade", "submissions/", "--out", "results-extra/",
                          "--extra-tests", str(extra), "-q"),
        }
        printed["grades.csv"] = (folder / "results" / "grades.csv").read_text().strip("\n")
        _fix_carol(subs)
        printed["regrade"] = _run("grade", "submissions/", "--out", "results/", "--workers",
                                  "2", "-q")
    return printed


@pytest.mark.parametrize("name", ["grade", "cached", "extra", "grades.csv", "regrade"])
def test_quoted_grader_output_is_current(outputs, name):
    assert outputs[name] in TEXT_BLOCKS, (
        f"the guide's quoted output for '{name}' is out of date; today it is:\n{outputs[name]}")


def test_quoted_authoring_output_is_current():
    stream = io.StringIO()
    assert generate(ROOT, check_only=True, out=stream) == 0
    line = stream.getvalue().strip().splitlines()[-1]
    assert line in TEXT_BLOCKS
    counts = line.removeprefix("check ok: ")
    assert f"generate ok: {counts}, 0 file(s) written" in TEXT_BLOCKS


def test_instructor_only_tests_live_outside_the_repository():
    paths = re.findall(r"--extra-tests (\S+)", GUIDE) + re.findall(r"# (\S+/test_extra_\w+\.py)",
                                                                   GUIDE)
    assert paths and all(path.startswith(("~/", "/", "../")) for path in paths), paths


def test_forking_names_every_place_the_repository_url_lives():
    url = "nn-course/how-neural-networks-work"
    homes = sorted(str(path.relative_to(ROOT)) for path in [*ROOT.glob("*.yml"),
                                                             *ROOT.glob("grader/*.py")]
                   if url in path.read_text(encoding="utf-8"))
    assert homes == ["_config.yml", "grader/authoring.py"]
    forking = GUIDE[GUIDE.index("## Forking the course"):]
    forking = forking[:forking.index("\n## ")]
    for needle in ("`_config.yml`, `repository.url`", "`COURSE_REPO_URL`",
                   "launch_buttons.jupyterhub_url", "generate"):
        assert needle in forking, needle


def test_authoring_steps_name_the_launch_directive_and_the_toc():
    steps = GUIDE[GUIDE.index("## Writing a new exercise"):]
    assert "{exercise-launch} chNN_topic" in steps and "_toc.yml" in steps
