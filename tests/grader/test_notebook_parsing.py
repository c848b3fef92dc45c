"""How graded code is read from cells: IPython magics vs Python that merely starts with '%'."""
from __future__ import annotations

from grader.source import defined_functions, strip_magics


def test_modulo_continuation_line_is_python_not_a_magic():
    source = (
        "def describe(a, b):\n"
        "    return ('%d and %d'\n"
        "            % (a, b))\n"
    )
    assert strip_magics(source) == source
    assert defined_functions(source) == ["describe"]


def test_line_magics_and_shell_escapes_are_removed():
    source = (
        "%matplotlib inline\n"
        "!echo hello\n"
        "def f(x):\n"
        "    return x + 1\n"
        "%timeit f(1)\n"
    )
    stripped = strip_magics(source)
    assert "%matplotlib" not in stripped.replace("# removed: %matplotlib", "")
    assert defined_functions(source) == ["f"]


def test_magic_inside_open_bracket_is_not_stripped_when_cell_has_other_magics():
    source = (
        "%load_ext autoreload\n"
        "def g(a, b):\n"
        "    return ('%s-%s'\n"
        "        % (a, b))\n"
    )
    stripped = strip_magics(source)
    assert "        % (a, b))" in stripped
    assert defined_functions(source) == ["g"]
