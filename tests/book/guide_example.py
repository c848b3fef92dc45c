"""The instructor's guide's grading example, rebuilt: alice, bob and carol (see the guide)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAROL_CODE = {
    "ch03-sigmoid": "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))\n",
    "ch03-sigmoid_derivative": ("def sigmoid_derivative(z):\n    s = sigmoid(sigmoid(z))\n"
                                "    return s * (1.0 - s)\n"),
}


def build_submissions(folder: Path) -> Path:
    """``folder/submissions/{alice,bob,carol}/ch03_activations.ipynb`` as the guide describes."""
    subs = folder / "submissions"
    for name in ("alice", "bob", "carol"):
        (subs / name).mkdir(parents=True)
    notebook = "ch03_activations.ipynb"
    (subs / "alice" / notebook).write_bytes((ROOT / "solutions" / notebook).read_bytes())
    exercise = (ROOT / "exercises" / notebook).read_bytes()
    (subs / "bob" / notebook).write_bytes(exercise)
    data = json.loads(exercise)
    for cell in data["cells"]:
        if cell.get("id") in CAROL_CODE:
            cell["source"] = CAROL_CODE[cell["id"]]
    (subs / "carol" / notebook).write_text(json.dumps(data))
    return subs
