"""The grader's words in the learner's language (issue 13): the self-check of a Chinese exercise
notebook and the grader's page for a learner who submitted Chinese notebooks are Chinese, from
the catalogs locales/zh_CN/LC_MESSAGES/grader.po and checks/*.po (one set of checks); English
notebooks stay English; the instructor's pages follow the instructor's setting."""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from grader import i18n, selfcheck
from grader.catalog import default_catalog
from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def zh(english: str) -> str:
    """The catalog's Chinese for an English message (the test fails while it has none)."""
    translated = i18n.translations("zh_CN").get(english)
    assert translated, f"no Chinese for {english!r} in locales/zh_CN/LC_MESSAGES"
    return translated


def setup_namespace(notebook: Path) -> dict:
    """What the notebook's setup cell defines, run as the learner's kernel runs it."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    setup = next(cell for cell in cells if cell["metadata"].get("grader", {}).get("role")
                 == "setup")
    namespace: dict = {}
    exec("".join(setup["source"]), namespace)  # noqa: S102 - the course's own setup cell
    return namespace


def wrong_sigmoid(z):
    """Wrong, with no mistake the grader recognises: the check's hint is shown."""
    z = np.asarray(z, dtype=float)
    return 0.5 * np.tanh(z) + 0.5 + z ** 2 / 10


def hint_of(check_title: str) -> str:
    """The hint of one of sigmoid's checks, ``"sigmoid known values"``."""
    name = "test_" + check_title.replace(" ", "_")
    return next(spec.hint for spec in default_catalog().exercises["ch03.sigmoid"].checks
                if spec.name == name)


@pytest.fixture
def kernel_language(monkeypatch):
    """Each test starts as a fresh kernel: no language set (restored afterwards)."""
    monkeypatch.setenv(selfcheck.NOTEBOOK_LANGUAGE, "en")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_self_check_speaks_the_notebooks_language(language, kernel_language, capsys):
    folder = ROOT / "exercises" / ("zh" if language == "zh" else "")
    check = setup_namespace(folder / "ch03_activations.ipynb")["check"]
    check("ch03.sigmoid", wrong_sigmoid)
    check("ch03.relu", lambda z: (_ for _ in ()).throw(NotImplementedError("stub")))
    out = capsys.readouterr().out
    hint = hint_of("sigmoid known values")
    if language == "zh":
        assert zh("hint:") in out and zh(hint) in out and zh("sigmoid known values") in out
        assert zh("{exercise}: {passed} of {total} public checks passed").format(
            exercise="ch03.sigmoid", passed=0, total=3) in out
        assert zh("not implemented yet (replace the {line} line with your code)").format(
            line="`raise NotImplementedError(...)`") in out
        assert "hint:" not in out and hint not in out and "not implemented" not in out
    else:
        assert f"hint: {hint}" in out and "0 of 3 public checks passed" in out
        assert "sigmoid known values" in out
        assert "not implemented yet" in out and not CJK.search(out)


def _learner_notebook(source: Path) -> bytes:
    """The exercise notebook with sigmoid answered wrongly (the rest left as stubs)."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["metadata"].get("grader", {}).get("exercise") == "ch03.sigmoid" \
                and "role" not in cell["metadata"]["grader"]:
            cell["source"] = ("import numpy as np\n\ndef sigmoid(z):\n"
                              "    z = np.asarray(z, dtype=float)\n"
                              "    return 0.5 * np.tanh(z) + 0.5 + z ** 2 / 10\n")
    return json.dumps(notebook).encode()


def _grade(subs: Path, out: Path, *options: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["grade", str(subs), "--out", str(out), "--quiet", *options]) == 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """ann submitted the Chinese notebook, bob the English one; graded twice, the second time
    with the instructor's language set to Chinese (the rows come from the cache)."""
    folder = tmp_path_factory.mktemp("languages")
    for learner, source in (("ann", ROOT / "exercises" / "zh" / "ch03_activations.ipynb"),
                            ("bob", ROOT / "exercises" / "ch03_activations.ipynb")):
        (folder / "subs" / learner).mkdir(parents=True)
        (folder / "subs" / learner / "ch03_activations.ipynb").write_bytes(
            _learner_notebook(source))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(i18n.INSTRUCTOR_ENVIRONMENT, raising=False)
        _grade(folder / "subs", folder / "english")
        _grade(folder / "subs", folder / "chinese", "--language", "zh_CN")
    return folder


def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_feedback_page_in_the_language_of_the_learners_notebooks(graded):
    chinese = _page(graded / "english" / "feedback" / "ann.html")
    english = _page(graded / "english" / "feedback" / "bob.html")
    assert '<html lang="zh-CN">' in chinese and '<html lang="en">' in english
    assert zh("Feedback for {who}").format(who="ann") in chinese
    assert zh(hint_of("sigmoid known values")) in chinese and zh("hint:") in chinese
    assert zh("sigmoid known values") in chinese and "sigmoid known values" not in chinese
    assert zh("not implemented yet (the function still raises NotImplementedError)") in chinese
    assert "Feedback for bob" in english and "hint: " + hint_of("sigmoid known values") in english
    assert not CJK.search(english)
    results = json.loads(_page(graded / "english" / "results.json"))
    assert {row["name"]: row["language"] for row in results["submissions"]} == {
        "ann": "zh_CN", "bob": "en"}


def test_instructor_pages_follow_the_instructors_setting(graded):
    for learner in ("ann", "bob"):
        english = _page(graded / "english" / "instructor" / f"{learner}.html")
        chinese = _page(graded / "chinese" / "instructor" / f"{learner}.html")
        assert "Instructor view: " + learner in english and '<html lang="en">' in english
        assert zh("Instructor view: {who}").format(who=learner) in chinese
        assert '<html lang="zh-CN">' in chinese
    assert "<h1>Class report</h1>" in _page(graded / "english" / "report.html")
    assert f"<h1>{zh('Class report')}</h1>" in _page(graded / "chinese" / "report.html")
    # the learners' pages do not change with the instructor's language
    for learner in ("ann", "bob"):
        assert _page(graded / "english" / "feedback" / f"{learner}.html").split("Graded by")[0] \
            == _page(graded / "chinese" / "feedback" / f"{learner}.html").split("Graded by")[0]


def test_an_unknown_language_in_a_notebook_means_english():
    """The notebook is trusted for nothing but choosing among the grader's languages."""
    assert i18n.known_language("zh_CN") == "zh_CN"
    for untrusted in ("de", "../../etc/passwd", None, 3, ["zh_CN"]):
        assert i18n.known_language(untrusted) == "en"


def test_grader_and_check_catalogs_match_the_sources(tmp_path):
    """Every message of grader/ and tests/exercises/ is in its catalog and nothing else (what
    scripts/update-translations merges), without a book build."""
    i18n.write_templates(ROOT, tmp_path)
    from babel.messages.pofile import read_po
    for template in sorted(tmp_path.rglob("*.pot")):
        domain = template.relative_to(tmp_path).with_suffix(".po")
        catalog = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / domain
        with template.open("rb") as handle:
            english = {message.id for message in read_po(handle) if message.id}
        with catalog.open("rb") as handle:
            translated = {message.id for message in read_po(handle) if message.id}
        assert english == translated, (f"{domain}: run bash scripts/update-translations "
                                       f"(new: {sorted(english - translated)[:3]}, gone: "
                                       f"{sorted(translated - english)[:3]})")


def test_a_message_formatted_before_translating_is_refused():
    with pytest.raises(ValueError, match="fill in values after translating"):
        i18n.messages_of('_(f"got {n} rows")\n', "x.py")
    assert i18n.messages_of('_("got {n} rows").format(n=3)\n', "x.py") == [
        ("got {n} rows", "x.py", 1)]
