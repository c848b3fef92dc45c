"""Running a class: LMS bulk downloads, several notebooks per chapter, roster, deadlines,
problems where the instructor looks, a regrade's changes, pages, class report, exports."""
from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from grader import cli
from grader.cli import main
from grader.discover import discover
from grader.roster import PenaltyPolicy, Roster, RosterError, name_keys, parse_duration
from grader.similarity import fingerprints, resemblance

from class_samples import BLANK, FILLED, independent, notebook, renamed, respaced

ROOT = Path(__file__).resolve().parents[2]
RELU_ONLY = notebook(only=("ch03.relu", "ch03.relu_derivative"))
DEADLINE = "2026-03-01T00:00+00:00"
ROSTER = """id,name,lms_id,section,extension,email
ann,Ann King,2001,A,,ann@uni.example
dave,Dave Doe,2002,A,,
bob,"Smith, Bob",2003,B,,
erin,Erin Moss,,B,,
gina,Gina Lopez,gina7,A,,
hal,Hal Berg,,A,,
mallory,Mallory Q,,B,,
carol,Carol White,2009,A,,
"""
EXTRA_CHECK = '''
import numpy as np
from grader.checks import check, expect_close, run

@check("ch03.relu", points=1)
def test_relu_on_a_long_ramp(sub):
    z = np.linspace(-3.0, 3.0, 13)
    expect_close(run(sub.relu, z), np.maximum(z, 0.0))
'''


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _make_class(folder: Path) -> Path:
    """One download folder holding what Canvas, Moodle, Blackboard and plain folders give."""
    subs = folder / "subs"
    _write(subs / "kingann_2001_9001_ch03_activations.ipynb", notebook(
        independent, only=("ch03.sigmoid", "ch03.softmax")))
    _write(subs / "doedave_2002_9002_ch03_activations.ipynb", notebook(renamed))
    _write(subs / "smithbob_LATE_2003_9003_ch03_activations.ipynb", BLANK)
    _write(subs / "Erin Moss_41_assignsubmission_file_" / "ch03 (1).ipynb", notebook(respaced))
    _write(subs / "Lab 3_gina7_attempt_2026-02-20-10-00-00_ch03_activations.ipynb", BLANK)
    _write(subs / "Lab 3_gina7_attempt_2026-03-02-09-00-00_ch03_activations.ipynb", RELU_ONLY)
    _write(subs / "hal" / "a_old.ipynb", notebook(independent, only=("ch03.relu",
                                                                     "ch03.relu_derivative")))
    _write(subs / "hal" / "b_final.ipynb", BLANK)
    _write(subs / "mallory" / "ch03.ipynb", FILLED[: len(FILLED) // 2])
    _write(subs / "stranger.ipynb", BLANK)
    (folder / "roster.csv").write_text(ROSTER)
    _write(folder / "instructor-tests" / "test_private_ch03.py", EXTRA_CHECK.encode())
    return subs


def _grade_class(folder: Path) -> str:
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        code = main(["grade", str(folder / "subs"), "--out", str(folder / "out"), "--quiet",
                     "--roster", str(folder / "roster.csv"), "--deadline", DEADLINE,
                     "--late-penalty", "10%/day", "--extra-tests",
                     str(folder / "instructor-tests")])
    assert code == 0
    return stream.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    _make_class(folder)
    results = []
    for step in range(2):
        if step == 1:  # bob resubmits with sigmoid solved; the stranger's file is withdrawn
            (folder / "subs" / "smithbob_LATE_2003_9003_ch03_activations.ipynb").write_bytes(
                notebook(only=("ch03.sigmoid",)))
            (folder / "subs" / "stranger.ipynb").unlink()
        summary = _grade_class(folder)
        report = json.loads((folder / "out" / "results.json").read_text())
        with open(folder / "out" / "grades.csv", newline="") as csv_stream:
            grades = {row["name"]: row for row in csv.DictReader(csv_stream)}
        results.append((summary, report, grades))
    return folder, results


# ------------------------------------------------------------------ discovery of each layout
def test_canvas_bulk_download(tmp_path):
    _write(tmp_path / "doejane_12345_67890_ch03_activations.ipynb", BLANK)
    _write(tmp_path / "doejane_12345_67891_ch05_loss-1.ipynb", BLANK)  # a second file
    _write(tmp_path / "smithbob_LATE_12346_67892_My Notebook.ipynb", BLANK)
    sources = {source.name: source for source in discover(tmp_path)}
    assert sorted(sources) == ["doejane", "smithbob"]
    assert sources["doejane"].layout == "canvas" and sources["doejane"].lms_id == "12345"
    assert len(sources["doejane"].paths) == 2 and not sources["doejane"].late_marked
    assert sources["smithbob"].late_marked and sources["smithbob"].lms_id == "12346"


def test_moodle_bulk_download_in_folders_and_flat(tmp_path):
    _write(tmp_path / "folders" / "Jane Doe_1183_assignsubmission_file_" / "ch03.ipynb", BLANK)
    _write(tmp_path / "folders" / "Bob Smith_1190_assignsubmission_file_" / "x" / "a.ipynb",
           BLANK)
    _write(tmp_path / "flat" / "Jane Doe_1183_assignsubmission_file_ch03.ipynb", BLANK)
    folders = {source.name: source for source in discover(tmp_path / "folders")}
    assert sorted(folders) == ["Bob Smith", "Jane Doe"]
    assert {source.layout for source in folders.values()} == {"moodle"}
    [flat] = discover(tmp_path / "flat")
    assert (flat.name, flat.layout, len(flat.paths)) == ("Jane Doe", "moodle", 1)


def test_blackboard_bulk_download_gives_times(tmp_path):
    _write(tmp_path / "Lab 3_jdoe7_attempt_2026-02-20-10-00-00_ch03.ipynb", BLANK)
    _write(tmp_path / "Lab 3_jdoe7_attempt_2026-03-02-09-30-00_ch03_v2.ipynb", BLANK)
    (tmp_path / "Lab 3_jdoe7_attempt_2026-03-02-09-30-00.txt").write_text("Name: Jane Doe")
    [source] = discover(tmp_path)
    assert (source.name, source.layout, source.lms_id) == ("jdoe7", "blackboard", "jdoe7")
    assert source.times == ("2026-02-20T10:00:00", "2026-03-02T09:30:00")


def test_nbgrader_exchange_layout_as_it_is(tmp_path):
    course = tmp_path / "course"
    _write(course / "source" / "ps1" / "ch03.ipynb", BLANK)
    _write(course / "submitted" / "jdoe" / "ps1" / "ch03_activations.ipynb", BLANK)
    (course / "submitted" / "jdoe" / "ps1" / "timestamp.txt").write_text(
        "2026-03-01 12:30:00.123456 UTC")
    _write(course / "submitted" / "bsmith" / "ps1" / "ch03_activations.ipynb", BLANK)
    for path in (course, course / "submitted"):
        sources = {source.name: source for source in discover(path)}
        assert sorted(sources) == ["bsmith", "jdoe"]
        assert sources["jdoe"].layout == "nbgrader"
        assert sources["jdoe"].times == ("2026-03-01T12:30:00.123456+00:00",)
        assert sources["bsmith"].times == (None,)


# ------------------------------------------------------------------ roster, deadlines, penalty
def test_roster_format_errors_name_the_fix():
    with pytest.raises(RosterError, match="missing column.*name"):
        Roster.parse("id,section\na,A\n")
    with pytest.raises(RosterError, match="line 3: id 'a' appears twice"):
        Roster.parse("id,name\na,A\na,B\n")
    with pytest.raises(RosterError, match="line 2, extension.*2 days.*e.g. 2d"):
        Roster.parse("id,name,extension\na,A,2 days\n")


def test_roster_matches_lms_identities():
    roster = Roster.parse(ROSTER)
    assert roster.match("doedave", "2002").id == "dave"          # Canvas user id
    assert roster.match("Erin Moss").id == "erin"                # Moodle's full name
    assert roster.match("smithbob").id == "bob"                  # Canvas's sortable name
    assert roster.match("gina7", "gina7").id == "gina"           # Blackboard username
    assert roster.match("stranger") is None
    assert "doejane" in name_keys("Doe, Jane") and "janedoe" in name_keys("Jane Doe")
    assert parse_duration("1d12h") == datetime.timedelta(hours=36)


def test_penalty_policies_by_hand():
    per_day = PenaltyPolicy.parse("10%/day,max=25%")
    assert per_day.penalty(17.0, 3600.0) == pytest.approx(1.7)          # 1 started day
    assert per_day.penalty(17.0, 25 * 3600.0) == pytest.approx(3.4)     # 2 started days
    assert per_day.penalty(17.0, 9 * 86400.0) == pytest.approx(4.25)    # capped at 25 %
    assert per_day.penalty(17.0, None) == 0.0                           # late, time unknown
    assert PenaltyPolicy.parse("zero").penalty(17.0, 60.0) == 17.0
    assert PenaltyPolicy.parse("none").penalty(17.0, 1e6) == 0.0
    with pytest.raises(RosterError, match="10%/day"):
        PenaltyPolicy.parse("ten percent")


# ------------------------------------------------------------------ similarity
def test_winnowing_sees_through_renaming_and_spacing():
    code = FILLED.decode()
    source = json.loads(code)
    graded = "\n".join("".join(cell["source"]) for cell in source["cells"]
                        if cell.get("id") in ("ch03-sigmoid", "ch03-softmax"))
    assert resemblance(fingerprints(graded), fingerprints(respaced(renamed(graded)))) == 1.0
    assert resemblance(fingerprints(graded), fingerprints(independent("def sigmoid(z)")
                                                      + independent("def softmax(z)"))) < 0.3


# ------------------------------------------------------------------ one class, graded twice
def test_every_learner_and_every_notebook_is_accounted_for(runs):
    _, [(summary, report, grades), _] = runs
    rows = {row["name"]: row for row in report["submissions"]}
    assert sorted(rows) == ["ann", "bob", "carol", "dave", "erin", "gina", "hal", "mallory",
                            "stranger"]
    assert report["missing"] == ["carol"] and report["unmatched"] == ["stranger"]
    assert rows["carol"]["status"] == "missing" and grades["carol"]["total"] == ""
    layouts = {name: rows[name]["layout"] for name in ("ann", "erin", "gina", "hal")}
    assert layouts == {"ann": "canvas", "erin": "moodle", "gina": "blackboard", "hal": "folders"}
    uses = sorted((name, entry["path"], entry["use"]) for name, row in rows.items()
                  for entry in row["notebooks"])
    assert len(uses) == 10  # every notebook of the input, once
    assert ("hal", "b_final.ipynb", "duplicate") in uses
    assert ("hal", "a_old.ipynb", "graded") in uses
    assert ("mallory", "ch03.ipynb", "unreadable") in uses


def test_the_several_notebooks_rule_is_applied_and_said(runs):
    _, [(summary, report, grades), _] = runs
    rows = {row["name"]: row for row in report["submissions"]}
    assert "latest submission time" in report["several_notebooks_rule"]
    hal = {entry["path"]: entry for entry in rows["hal"]["notebooks"]}
    assert "a_old.ipynb was graded (most exercises attempted)" in hal["b_final.ipynb"]["note"]
    assert rows["hal"]["score"] == 6.0  # relu (with the extra check) and its derivative
    gina = {entry["use"]: entry for entry in rows["gina"]["notebooks"]}
    assert gina["graded"]["submitted_at"] == "2026-03-02T09:00:00"
    assert "(latest submission time)" in gina["duplicate"]["note"]
    assert grades["hal"]["duplicate"] == "b_final.ipynb"
    assert "! duplicate: b_final.ipynb (not graded: 2 notebooks" in summary
    assert "(most exercises attempted)" in (runs[0] / "out" / "feedback" / "hal.html").read_text()


def test_problems_show_in_the_terminal_and_in_grades_csv(runs):
    _, [(summary, report, grades), _] = runs
    assert "mallory: NOT GRADABLE" in summary and "! unreadable: ch03.ipynb" in summary
    assert grades["mallory"]["unreadable"] == "ch03.ipynb"
    assert grades["stranger"]["in_roster"] == "no" and grades["ann"]["in_roster"] == "yes"
    assert "not in the roster: stranger" in summary and "missing (no submission): carol" in summary


def test_late_submissions_and_the_penalty(runs):
    _, [(summary, report, grades), _] = runs
    rows = {row["name"]: row for row in report["submissions"]}
    [late] = rows["gina"]["late"]
    assert late["seconds_late"] == 33 * 3600  # 2026-03-02 09:00 vs 2026-03-01 00:00 UTC
    assert late["penalty"] == pytest.approx(0.2 * 18)  # 10 % per started day, 2 days
    assert rows["gina"]["final_score"] == pytest.approx(6.0 - 3.6)
    assert grades["gina"]["late"] == "yes" and grades["gina"]["late_by"] == \
        "ch03_activations: 1d 9h"
    [marked] = rows["bob"]["late"]  # Canvas's LATE: late, by an unknown amount, no penalty
    assert marked["seconds_late"] is None and marked["penalty"] == 0.0
    assert not rows["ann"]["late"]


def test_a_regrade_says_what_changed_and_leaves_no_stale_page(runs):
    folder, [(_, first, _), (summary, report, grades)] = runs
    changes = {change["name"]: change for change in report["changes"]}
    assert sorted(changes) == ["bob", "stranger"]
    assert (changes["bob"]["old_score"], changes["bob"]["new_score"]) == (0.0, 5.0)  # sigmoid
    assert "submission changed" in changes["bob"]["why"]
    assert "ch03.sigmoid 0 -> 5" in changes["bob"]["why"]
    assert changes["stranger"]["why"] == "not in this run"
    assert "changed: bob: 0 -> 5 (submission changed" in summary
    out = folder / "out"
    assert not (out / "feedback" / "stranger.html").exists()
    assert not (out / "instructor" / "stranger.html").exists()
    assert json.loads((out / "previous" / "results.json").read_text())["generated_at"] == \
        first["generated_at"]
    with open(out / "changes.csv", newline="") as stream:
        assert [row["name"] for row in csv.DictReader(stream)] == ["bob", "stranger"]
    cached = {row["name"]: row["cached"] for row in report["submissions"]
              if row["status"] == "graded"}
    assert cached["ann"] and not cached["bob"]


def test_lms_exports_from_the_roster(runs):
    folder, [_, (_, report, _)] = runs
    with open(folder / "out" / "canvas.csv", newline="") as stream:
        canvas = list(csv.reader(stream))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         "Neural network exercises"]
    assert canvas[1][0] == "Points Possible" and canvas[1][5] == "18"
    by_id = {row[2]: row for row in canvas[2:]}
    assert sorted(by_id) == ["ann", "bob", "carol", "dave", "erin", "gina", "hal", "mallory"]
    assert by_id["carol"][1] == "2009" and by_id["carol"][5] == ""      # missing: empty grade
    assert by_id["mallory"][5] == ""                                    # not gradable: empty
    assert by_id["gina"][5] == "2.4" and by_id["dave"][5] == "18"
    with open(folder / "out" / "moodle.csv", newline="") as stream:
        moodle = {row["Full name"]: row for row in csv.DictReader(stream)}
    assert moodle["Carol White"]["Neural network exercises"] == ""
    assert moodle["Carol White"]["Feedback"] == "no submission"
    assert moodle["Ann King"]["ID number"] == "2001"


def test_learner_page_and_instructor_page(runs):
    folder, _ = runs
    learner = (folder / "out" / "feedback" / "ann.html").read_text()
    instructor = (folder / "out" / "instructor" / "ann.html").read_text()
    assert 'name="viewport"' in learner
    assert learner.index("To fix") < learner.index("Passed checks")  # failures first
    assert "<details><summary>Passed checks" in learner                # passed ones folded
    assert "sigmoid known values" in learner and "test_sigmoid_known_values" not in learner
    assert "hidden check 1" in learner
    for private in ("relu on a long ramp", "test_private_ch03.py", "linspace"):
        assert private not in learner, private
    assert "relu on a long ramp" in instructor            # a hidden check's real name
    assert "test_private_ch03.py" in instructor           # the instructor-only file that ran
    assert "instructor only, what the check found" in instructor
    assert instructor.count("class=\"check\"") == learner.count("class=\"check\"")


def test_class_report(runs):
    folder, [_, (_, report, _)] = runs
    page = (folder / "out" / "report.html").read_text()
    assert page.count("<svg") == 1 + len(report["exercises"])
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
    flags = page[page.index("Similarity flags"):]
    assert "<td>dave</td><td>erin</td><td>100%" in flags      # the near-copies, and only them
    assert flags.count("<tr>") == 2
    assert "carol" in page[page.index("Missing learners"):page.index("Unmatched")]
    late = page[page.index("Late submissions"):page.index("Missing learners")]
    assert "gina" in late and "1d 9h" in late
    assert "mallory" in page[page.index("Time-outs"):page.index("Late submissions")]


def test_top_level_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    source = Path(cli.__file__).read_text()
    options = set(re.findall(r'add_argument\("(--[a-z-]+)"', source))
    assert {"--roster", "--deadline", "--late-penalty", "--timeout", "--chapters"} <= options
    assert sorted(option for option in options if option not in text) == []


def test_grading_folders_are_ignored_by_git():
    paths = ["submissions/alice/ch03.ipynb", "results/grades.csv", "grader-output/report.html",
             "results-extra/results.json"]
    done = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.stdout.split() == paths
