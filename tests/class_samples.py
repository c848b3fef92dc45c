"""Sample submissions of a class, as learners and learning-management systems produce them.

Built from the course's own notebooks: ``blank`` is the exercise notebook, ``filled`` the
solution notebook with its ``### BEGIN/END SOLUTION`` marker lines removed (what a learner who
solved everything submits), and variants of it for near-copies.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = json.loads((ROOT / "solutions" / "ch03_activations.ipynb").read_text())
BLANK = (ROOT / "exercises" / "ch03_activations.ipynb").read_bytes()
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


def _graded(cell: dict) -> bool:
    grader = cell.get("metadata", {}).get("grader", {})
    return cell["cell_type"] == "code" and "exercise" in grader and grader.get("role") != "check"


def notebook(edit=lambda source: source, only: tuple[str, ...] | None = None) -> bytes:
    """The solution without markers, each graded cell's code passed through ``edit``.

    ``only``: the exercise ids to solve; the other graded cells keep the exercise's stub.
    """
    data = json.loads(json.dumps(SOLUTION))
    blank = {cell["id"]: cell for cell in json.loads(BLANK)["cells"]}
    for cell in data["cells"]:
        source = "".join(cell["source"])
        if _graded(cell):
            if only is not None and cell["metadata"]["grader"]["exercise"] not in only:
                source = "".join(blank[cell["id"]]["source"])
            else:
                source = edit(MARKER.sub("", source))
        else:
            source = MARKER.sub("", source)
        cell["source"] = source
    return json.dumps(data).encode()


def renamed(source: str) -> str:
    """The same code with other variable names (a near-copy)."""
    for old, new in (("out", "result"), ("pos", "mask"), ("ez", "exp_neg"), ("s", "sig"),
                     ("shifted", "centred"), ("e", "expd")):
        source = re.sub(rf"\b{old}\b", new, source)
    return source


def respaced(source: str) -> str:
    """The same code with other spacing, blank lines and comments (a near-copy)."""
    lines = []
    for line in source.splitlines():
        lines.append(line.replace(" = ", "=").replace(", ", ",") + "   # my work")
        if line.strip().startswith("return"):
            lines.append("")
    return "\n".join(lines) + "\n"


def independent(source: str) -> str:
    """Another learner's own sigmoid, relu, its derivative and softmax (correct, written differently)."""
    if source.startswith("def sigmoid(z)"):
        return ("def sigmoid(z):\n    z = np.asarray(z)\n    values = np.where(z >= 0, "
                "1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))\n"
                "    return values.astype(np.result_type(z.dtype, np.float32))\n")
    if source.startswith("def relu(z)"):
        return "def relu(z):\n    z = np.asarray(z)\n    return np.where(z > 0, z, np.zeros_like(z))\n"
    if source.startswith("def relu_derivative(z)"):
        return ("def relu_derivative(z):\n    z = np.asarray(z)\n"
                "    return np.where(z > 0, np.ones_like(z), np.zeros_like(z))\n")
    if source.startswith("def softmax(z)"):
        return ("def softmax(z):\n    total = []\n    for row in np.atleast_2d(z):\n"
                "        ex = np.exp(row - row.max())\n        total.append(ex / ex.sum())\n"
                "    return np.array(total).reshape(np.shape(z))\n")
    return source


FILLED = notebook()
