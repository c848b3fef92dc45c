"""The exercise generator: in sync, no leaks, every graded cell tested, learner work protected."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from grader import translation
from grader.authoring import generate, make_stub, SETUP_SOURCE
from grader.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
OURS = ["ch03_activations", "ch06_backprop"]


@pytest.fixture
def repo(tmp_path):
    """A copy of the course with only the grader's two chapters (others may be work in progress)."""
    for d in ("solutions", "exercises", "exercises/zh", "tests/exercises"):
        (tmp_path / d).mkdir(parents=True)
    for name in OURS:
        shutil.copy(ROOT / "solutions" / (name + ".ipynb"), tmp_path / "solutions")
        shutil.copy(ROOT / "exercises" / (name + ".ipynb"), tmp_path / "exercises")
        shutil.copy(ROOT / "exercises" / "zh" / (name + ".ipynb"), tmp_path / "exercises" / "zh")
        shutil.copy(ROOT / "tests" / "exercises" / ("test_" + name + ".py"), tmp_path / "tests" / "exercises")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")  # the Chinese notebooks' prose
    return tmp_path


def run(root, **kw):
    buf = io.StringIO()
    rc = generate(root, out=buf, **kw)
    return rc, buf.getvalue()


def test_committed_exercises_are_in_sync(repo):
    rc, out = run(repo, check_only=True)
    assert rc == 0, out


def test_check_on_the_real_repository_reports_only_known_problems():
    """The repository's own check must pass for the grader's chapters (ch03, ch06)."""
    buf = io.StringIO()
    generate(ROOT, check_only=True, out=buf)
    mine = [ln for ln in buf.getvalue().splitlines() if ln.startswith("problem") and any(
        k in ln for k in ("ch03", "ch06"))]
    assert mine == []


def test_stub_replaces_solution_and_names_exercise():
    src = "def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return secret_line(x)\n    ### END SOLUTION\n"
    stub = make_stub(src, "ch99.f")
    assert "secret_line" not in stub and '"""doc"""' in stub
    assert 'raise NotImplementedError("Exercise ch99.f' in stub
    compile(stub, "stub", "exec")


def test_generated_exercise_has_no_outputs_and_stubs(repo):
    for name in OURS:
        nb = json.loads((repo / "exercises" / (name + ".ipynb")).read_text())
        graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
        assert graded
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None
        for c in graded:
            assert "NotImplementedError(\"Exercise %s" % c["metadata"]["grader"]["exercise"] in "".join(c["source"])
        setup = [c for c in nb["cells"] if c["metadata"].get("grader", {}).get("role") == "setup"]
        assert "".join(setup[0]["source"]) == SETUP_SOURCE


def test_check_fails_when_out_of_date(repo):
    p = repo / "solutions" / "ch03_activations.ipynb"
    nb = json.loads(p.read_text())
    nb["cells"][0]["source"] = ["# A changed title\n"]
    p.write_text(json.dumps(nb))
    rc, out = run(repo, check_only=True)
    assert rc == 1 and "out of date" in out


def test_check_fails_on_leaked_solution(repo):
    p = repo / "exercises" / "ch03_activations.ipynb"
    nb = json.loads(p.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("grader", {}).get("exercise") == "ch03.softmax"
                and c["metadata"]["grader"].get("role") != "check")
    cell["source"].append("    shifted = z - np.max(z, axis=-1, keepdims=True)\n")
    p.write_text(json.dumps(nb, indent=1))
    rc, out = run(repo, check_only=True)
    assert rc == 1 and "out of date" in out
    from grader.authoring import leaks
    sol = json.loads((repo / "solutions" / "ch03_activations.ipynb").read_text())
    assert any("leaked" in x for x in leaks(sol, nb))


def test_check_fails_on_graded_cell_without_tests(repo):
    t = repo / "tests" / "exercises" / "test_ch03_activations.py"
    text = t.read_text().replace('@check("ch03.relu_derivative"', '@check("ch03.relu_derivativeX"')
    t.write_text(text)
    rc, out = run(repo, check_only=True)
    assert rc == 1
    assert "ch03.relu_derivative (ch03_activations) has no public check" in out
    assert "unknown exercise ch03.relu_derivativeX" in out


def test_learner_work_is_not_overwritten_without_force(repo):
    ex = repo / "exercises" / "ch03_activations.ipynb"
    nb = json.loads(ex.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("grader", {}).get("exercise") == "ch03.relu"
                and c["metadata"]["grader"].get("role") != "check")
    cell["source"] = ["def relu(z):\n", "    return np.maximum(z, 0)  # my work\n"]
    edited = json.dumps(nb, indent=1)
    ex.write_text(edited)
    sol = repo / "solutions" / "ch03_activations.ipynb"
    snb = json.loads(sol.read_text())
    snb["cells"][0]["source"] = ["# New title\n"]
    sol.write_text(json.dumps(snb))
    rc, out = run(repo)
    assert rc == 1 and "has been edited" in out
    assert ex.read_text() == edited
    rc, out = run(repo, force=True)
    assert rc == 0, out
    backups = list((repo / "exercises").glob("ch03_activations.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == edited
    assert "# New title" in ex.read_text() and "my work" not in ex.read_text()
    rc, out = run(repo, check_only=True)
    assert rc == 0, out


def test_untouched_exercise_is_regenerated_silently(repo):
    sol = repo / "solutions" / "ch06_backprop.ipynb"
    snb = json.loads(sol.read_text())
    snb["cells"][0]["source"] = ["# Retitled\n"]
    sol.write_text(json.dumps(snb))
    rc, out = run(repo)
    assert rc == 0 and "wrote exercises/ch06_backprop.ipynb" in out
    assert not list((repo / "exercises").glob("*.bak-*"))


def test_every_graded_cell_has_public_and_hidden_checks():
    cat = Catalog(ROOT / "solutions", ROOT / "tests" / "exercises")
    for name in OURS:
        for ex in cat.chapters[name].exercises:
            assert any(not c.hidden for c in ex.checks), ex.id
            assert any(c.hidden for c in ex.checks), ex.id


# --------------------------------------------------------------------------- translated notebooks
def _cells_without_prose(nb: dict) -> list:
    return [(c.get("id"), c["cell_type"], c.get("metadata"),
             "".join(c["source"]) if c["cell_type"] == "code" else None) for c in nb["cells"]]


def _without_language_line(nb: dict) -> dict:
    """The notebook with its setup cell as in the English one (no set_language line)."""
    for cell in nb["cells"]:
        if cell["metadata"].get("grader", {}).get("role") == "setup":
            source = "".join(cell["source"])
            language = nb["metadata"]["grader"]["language"]
            added = translation.SETUP_LANGUAGE.format(language=language)
            assert source.endswith(added), "the setup cell does not set the notebook's language"
            cell["source"] = source[:-len(added)].rstrip("\n") + "\n"
    return nb


@pytest.mark.parametrize("path", sorted((ROOT / "exercises").glob("ch*.ipynb")),
                         ids=lambda path: path.stem)
def test_chinese_notebook_has_the_same_cells_ids_and_code(path):
    """exercises/zh/<chapter>.ipynb differs from exercises/<chapter>.ipynb only in its markdown
    and its language, so one grader grades both."""
    english = json.loads(path.read_text(encoding="utf-8"))
    chinese = json.loads((ROOT / "exercises" / "zh" / path.name).read_text(encoding="utf-8"))
    assert _cells_without_prose(_without_language_line(chinese)) == _cells_without_prose(english)
    assert chinese["metadata"]["grader"]["language"] == "zh_CN"
    assert "language" not in english["metadata"]["grader"]
    assert chinese["metadata"]["kernelspec"] == english["metadata"]["kernelspec"]


def test_translation_replaces_paragraphs_and_keeps_code_and_layout():
    markdown = ("## 1. The sigmoid\n\n$$\\sigma(z)$$\n\nWrite it **stably**.\n\n"
                "```python\nsigmoid(z)\n```\n\nShapes: `z` any shape.\n")
    blocks = translation.paragraphs(markdown)
    assert "".join(text for text, _ in blocks) == markdown
    assert [text.strip() for text, is_message in blocks if is_message] == [
        "## 1. The sigmoid", "Write it **stably**.", "Shapes: `z` any shape."]
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "source": markdown},
                    {"cell_type": "code", "id": "b", "source": "x = 1  # Write it"}],
          "metadata": {}}
    out = translation.translate(nb, {"Write it **stably**.": "请写成**数值稳定**的形式。",
                                     "Shapes: `z` any shape.": ""}, "zh_CN")
    text = "".join(out["cells"][0]["source"])
    assert text == markdown.replace("Write it **stably**.", "请写成**数值稳定**的形式。")
    assert out["cells"][1]["source"] == "x = 1  # Write it"
    assert out["metadata"]["grader"]["language"] == "zh_CN"


def test_generate_writes_the_catalogs_translations_into_the_chinese_notebook(repo):
    name = OURS[0]
    notebook = json.loads((repo / "solutions" / f"{name}.ipynb").read_text(encoding="utf-8"))
    message, cell_id = translation.messages(notebook)[0]
    catalog = translation.catalog_path(repo, "zh_CN", name)
    catalog.parent.mkdir(parents=True, exist_ok=True)  # replaces the real catalog
    catalog.write_text(f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                       f'msgid {json.dumps(message, ensure_ascii=False)}\n'
                       f'msgstr "# 第 3 章练习：激活函数"\n', encoding="utf-8")
    rc, out = run(repo, check_only=True)
    assert rc == 1 and f"exercises/zh/{name}.ipynb is out of date" in out
    rc, out = run(repo)
    assert rc == 0, out
    chinese = json.loads((repo / "exercises" / "zh" / f"{name}.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in chinese["cells"] if c.get("id") == cell_id)
    assert "".join(cell["source"]).startswith("# 第 3 章练习：激活函数")
    assert run(repo, check_only=True)[0] == 0
