"""The mutation tool and the strength of the checks it measures.

The hand-written mutants (tests/exercises/mutants.py) run in process, through the same check
and verdict code as the self-check: every stated requirement must be killed, and the feedback
must name the mistake for at least 80% of them. The cheap test grades the quick ones (a few
seconds); the mutants marked ``slow`` (training, timeouts) and the Keras chapter's are left to
the slow test. ``python -m grader.mutation`` grades all mutants, automatic ones included, in the
sandbox.
"""
from __future__ import annotations

import pytest

from grader.catalog import Exercise, default_catalog
from grader.mutation import auto_mutants, grade_in_process, hand_mutants


def _is_slow(mutant) -> bool:
    return mutant.slow or mutant.exercise.startswith("ch10.")


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.fixture(scope="module")
def hand_results(catalog):
    mutants, _ = hand_mutants(catalog)
    fast = [mutant for mutant in mutants if not _is_slow(mutant)]
    assert len(fast) >= 130
    return [grade_in_process(mutant, catalog) for mutant in fast]


def test_every_stated_requirement_is_killed(hand_results):
    survivors = [r.mutant.name for r in hand_results if r.mutant.requirement and not r.killed]
    assert survivors == []


def test_feedback_names_the_mistake_for_most_hand_written_mutants(hand_results):
    named = [r for r in hand_results if r.named]
    missed = [(r.mutant.exercise, r.mutant.name, r.feedback[-200:])
              for r in hand_results if not r.named]
    assert len(named) >= 0.8 * len(hand_results), missed


def test_every_hand_written_mutant_loses_points(hand_results):
    assert [r.mutant.name for r in hand_results if not r.killed] == []


@pytest.mark.slow
def test_the_slow_hand_written_mutants_are_killed(catalog):
    mutants, _ = hand_mutants(catalog)
    results = [grade_in_process(mutant, catalog) for mutant in mutants if _is_slow(mutant)]
    # What the cheap test leaves out is graded here: every Keras exercise, and the slow ones.
    keras = {exercise for exercise in catalog.exercises if exercise.startswith("ch10.")}
    assert keras and keras <= {r.mutant.exercise for r in results}
    assert any(r.mutant.slow for r in results)
    assert [r.mutant.name for r in results if not r.killed] == []


def _exercise(source: str) -> Exercise:
    return Exercise("ch99.f", "ch99_test", "ch99-f", ("f",), source, 0)


def test_auto_mutants_make_the_classic_mistakes():
    source = ('def f(z, w):\n    """doc: - + not mutated"""\n    if z.ndim != 2:\n'
              '        raise ValueError(f"bad {z.ndim - 1}")\n'
              '    s = np.sum(z, axis=-1, keepdims=True)\n    return -(z @ w.T) + s\n')
    names = [mutant.name for mutant in auto_mutants(_exercise(source), limit=100)]
    text = " | ".join(names)
    for expected in ("+ -> -", "dropped term", "sign removed", "axis changed",
                     "keepdims dropped", "transpose dropped", "returns its input z",
                     "float32 result", "modifies its input z"):
        assert expected in text, (expected, names)
    assert not any("line 1:" in name or "line 2:" in name or "line 4:" in name
                   for name in names), names  # the signature, docstring and raise are kept


def test_a_mutant_that_modifies_its_input_is_caught(catalog):
    relu = catalog.exercises["ch03.relu"]
    [mutant] = [m for m in auto_mutants(relu) if "modifies its input" in m.name]
    result = grade_in_process(mutant, catalog)
    assert result.killed and "in place" in result.feedback


def test_a_stale_replacement_is_an_error(tmp_path, catalog):
    path = tmp_path / "mutants.py"
    path.write_text('MUTANTS = [{"exercise": "ch03.relu", "name": "x", '
                    '"replace": [("text not in the cell", "y")]}]\nEQUIVALENT = {}\n')
    with pytest.raises(ValueError, match="not in the reference cell"):
        hand_mutants(catalog, path)
