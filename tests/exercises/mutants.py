"""Hand-written mutants of the reference solutions, graded by ``python -m grader.mutation``.

One per requirement an exercise's text states ("must", "without", "not"; ``requirement``
True) and per common mistake the automatic mutator cannot make. ``names`` lists words of which
the feedback must contain one for the mutant's mistake to count as named (see
tests/grader/test_mutation.py). ``replace`` edits the reference cell text; ``source`` gives the
whole cell.
"""

MUTANTS = [
    # ---------------------------------------------------------------- chapter 3
    {"exercise": "ch03.sigmoid", "name": "naive overflowing sigmoid", "requirement": True,
     "names": ("overflow", "warning"),
     "source": "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))\n"},
    {"exercise": "ch03.sigmoid", "name": "sign error sigmoid(-z)", "names": ("sign",),
     "replace": [("1.0 / (1.0 + np.exp(-z[pos]))", "1.0 / (1.0 + np.exp(z[pos]))"),
                 ("ez = np.exp(z[~pos])", "ez = np.exp(-z[~pos])")]},
]

EQUIVALENT = {}
EQUIVALENT.update({
    ("ch03.sigmoid", "sigmoid line 9: >= -> >"):
        "at z = 0 both branches give 0.5, so moving z = 0 to the other branch changes nothing",
    ("ch03.sigmoid", "sigmoid line 9: constant 0 -> 1"):
        "exp(z) / (1 + exp(z)) is exact and stable for 0 <= z < 1 too: same values, no overflow",
})
