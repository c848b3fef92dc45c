"""Per-chapter sandbox settings: a check module's ``SANDBOX = {...}`` raises the limits of the
sandbox its chapter is graded in (used by chapter 10, whose exercises run Keras/JAX)."""
import sys
import types

import numpy as np
import pytest

from grader.execute import chapter_config
from grader.sandbox import SandboxConfig, Session


def _chapter(sandbox):
    """A stand-in chapter with one exercise and one check defined in a module declaring SANDBOX."""
    module = {} if sandbox is None else {"SANDBOX": sandbox}
    exec("def test_x(sub):\n    pass\n", module)
    spec = types.SimpleNamespace(func=module["test_x"])
    exercise = types.SimpleNamespace(checks=[spec])
    return types.SimpleNamespace(name="chXX_demo", exercises=[exercise])


def test_no_sandbox_declaration_keeps_the_config_object():
    config = SandboxConfig()
    assert chapter_config(config, _chapter(None)) is config


def test_settings_are_raised_never_lowered_and_env_is_merged():
    config = SandboxConfig(memory_mb=1536, cpu_seconds=500, call_timeout=3.0, env={"A": "cli"})
    new = chapter_config(config, _chapter({"memory_mb": 4096, "cpu_seconds": 60,
                                           "call_timeout": 30, "env": {"A": "module", "B": 1}}))
    assert new is not config and config.memory_mb == 1536           # the original is unchanged
    assert new.memory_mb == 4096                                      # raised
    assert new.cpu_seconds == 500                                     # the command line's larger value wins
    assert new.call_timeout == 30
    assert new.env == {"A": "cli", "B": "1"}                          # the command line wins on conflicts


def test_named_settings_are_taken_as_declared():
    new = chapter_config(SandboxConfig(), _chapter({"warm_folder": "jax-cache",
                                                    "preload_hidden": ["sklearn", "scipy"]}))
    assert new.warm_folder == "jax-cache"
    assert new.preload_hidden == ("scipy", "sklearn")


def test_unknown_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="'namespaces'.*not one of"):
        chapter_config(SandboxConfig(), _chapter({"namespaces": False}))


def test_env_reaches_the_child_but_cannot_override_path():
    session = Session(SandboxConfig(env={"NN_TEST_VAR": "42", "PATH": "/evil"}, call_timeout=5))
    try:
        session.start()
        header = session.load([("exercise", "import os\ndef get(name):\n    return os.environ.get(name)\n")])
        assert header["ok"], header
        assert session.call("get", ("NN_TEST_VAR",), {})[1] == "42"
        assert session.call("get", ("PATH",), {})[1] == "/usr/bin:/bin"
    finally:
        session.kill()


def test_chapter_imports_are_the_reference_notebooks_top_level_imports():
    from grader.catalog import default_catalog

    chapters = default_catalog().chapters
    assert chapters["ch03_activations"].imports == ()   # numpy only: already loaded
    # scikit-learn only inside the demo cells' try blocks (not top level): not preloaded
    assert chapters["ch09_training"].imports == ("time",)
    assert chapters["ch11_beyond"].imports == ()
    assert "keras" in chapters["ch10_keras"].imports      # setup cell's grader: skipped
    assert "grader" not in chapters["ch10_keras"].imports


def test_preload_imports_once_in_the_server_and_reports_failures():
    with Session(SandboxConfig(call_timeout=5)) as session:
        loaded = session.preload(["json", "colorsys", "no_such_module_here"])
        assert loaded["json"] == "ok" and loaded["colorsys"] == "ok"
        assert loaded["no_such_module_here"].startswith("ModuleNotFoundError")
        code = "import sys\nBEFORE = 'colorsys' in sys.modules\ndef before():\n    return BEFORE\n"
        assert session.load([("exercise", code)])["ok"]
        assert session.call("before", (), {})[1] is True   # the worker was forked with it


@pytest.fixture(scope="module")
def keras_config():
    from grader.catalog import default_catalog

    catalog = default_catalog()
    if "ch10_keras" not in catalog.chapters:
        pytest.fail("solutions/ch10_keras.ipynb is missing from the catalog")
    config = chapter_config(SandboxConfig(), catalog.chapters["ch10_keras"])
    assert config.env.get("KERAS_BACKEND") == "jax" and config.memory_mb > 1536
    return catalog, config


@pytest.mark.slow
def test_keras_runs_in_the_child_with_chapter_10_settings(keras_config):
    _, config = keras_config
    code = (
        "import os\n"
        "import sys\n"
        "PRELOADED = 'keras' in sys.modules\n"
        "SKLEARN_PRELOADED = 'sklearn' in sys.modules\n"
        "import keras\n"
        "def sklearn_version():\n"
        "    import sklearn\n"
        "    return [SKLEARN_PRELOADED, sklearn.__version__]\n"
        "def tiny(x):\n"
        "    m = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])\n"
        "    m.set_weights([np.array([[1.0], [2.0]]), np.array([0.5])])\n"
        "    return [keras.backend.backend(), m.predict(x, verbose=0), PRELOADED,\n"
        "            sorted(os.listdir('/tmp/jax-cache'))[:1]]\n"
    )
    with Session(config) as session:
        assert session.preload(["keras"]) == {"keras": "ok"}
        header = session.load([("prelude", "import numpy as np\n"), ("exercise", code)])
        assert header["ok"], header
        ok, value, _, _ = session.call("tiny", (np.array([[1.0, 1.0], [0.0, -1.0]]),), {})
        assert ok, value
        backend, pred, preloaded, cached = value
        # Keras was imported with scikit-learn hidden (preload_hidden); learner code can still
        # import it
        ok, (sklearn_preloaded, version), _, _ = session.call("sklearn_version", (), {})
        assert ok and sklearn_preloaded is False and version.count(".") >= 1
    assert backend == "jax" and preloaded is True
    assert pred.ravel().tolist() == pytest.approx([3.5, -1.5])      # hand-computed x @ w + b
    assert cached, "compiled programs go to the sandbox's private /tmp/jax-cache"


@pytest.mark.slow
def test_chapter_10_grades_in_the_allow_list_sandbox(keras_config, monkeypatch):
    from grader.discover import SubmissionSource
    from grader.grade import grade_snapshot
    from grader.intake import read_submission

    catalog, _ = keras_config
    references = []  # no check of chapter 10 takes ref: its reference (Keras) never runs here
    monkeypatch.setattr(catalog, "reference", references.append)
    chapter = catalog.chapters["ch10_keras"]
    snapshot = read_submission(SubmissionSource("reference", chapter.path.parent, (chapter.path,)))
    result = grade_snapshot(snapshot, catalog, SandboxConfig(), chapters=["ch10_keras"]).to_dict()
    failed = [t for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"] > 0, failed
    assert result["bonus_score"] == result["bonus_max"] > 0, failed   # the challenge
    assert len(result["tests"]) == sum(len(exercise.checks) for exercise in chapter.exercises)
    assert references == []


def test_preload_hides_optional_dependencies_only_while_it_imports(tmp_path, monkeypatch):
    """``preload_hidden``: a module that uses an optional dependency if it is installed is
    imported as if it were not; afterwards the dependency imports normally."""
    from grader import _child

    (tmp_path / "nn_optional_dep.py").write_text("VALUE = 42\n")
    (tmp_path / "nn_uses_optional.py").write_text(
        "try:\n    import nn_optional_dep\nexcept ImportError:\n    nn_optional_dep = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("nn_optional_dep", "nn_uses_optional"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    done = _child._preload(["nn_uses_optional"], hidden=["nn_optional_dep"])
    assert done == {"nn_uses_optional": "ok"}
    assert sys.modules["nn_uses_optional"].nn_optional_dep is None    # imported without it
    assert "nn_optional_dep" not in sys.modules
    import nn_optional_dep                                             # noqa: F401 - still there
    assert nn_optional_dep.VALUE == 42
    monkeypatch.delitem(sys.modules, "nn_optional_dep")
    monkeypatch.delitem(sys.modules, "nn_uses_optional")
