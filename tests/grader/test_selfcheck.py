"""The in-notebook self-check: specific feedback, 'not implemented yet' for stubs."""
import numpy as np

from grader.selfcheck import check, run_checks


def test_reference_passes_all_public_checks():
    from grader.catalog import default_catalog
    ref = default_catalog().reference("ch03_activations")
    rep = run_checks("ch03.softmax", ref.softmax)
    assert rep.passed and rep.rows


def test_stub_says_not_implemented(capsys):
    def sigmoid(z):
        raise NotImplementedError("Exercise ch03.sigmoid: replace this line with your code")
    check("ch03.sigmoid", sigmoid)
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Traceback" not in out


def test_wrong_answer_shows_check_input_expected_got_and_hint(capsys):
    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        check("ch03.softmax", softmax)
    out = capsys.readouterr().out
    assert "1 of 2 public checks passed" in out
    assert "✗ softmax stable at 1000" in out
    assert "softmax(array([[ 1000." in out and "expected" in out and "NaN" in out
    assert "likely mistake: NaN or inf" in out and "subtract the maximum" in out


def test_exception_in_learner_code_is_reported_with_line(capsys):
    def relu(z):
        return z.nonexistent
    check("ch03.relu", relu)
    out = capsys.readouterr().out
    assert "relu raised AttributeError" in out and "line" in out


def test_html_is_escaped():
    def relu(z):
        raise ValueError("<script>alert(1)</script>")
    rep = run_checks("ch03.relu", relu)
    assert "<script>" not in rep.html() and "&lt;script&gt;" in rep.html()
