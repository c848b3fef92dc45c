"""Learners are told one way to grade a notebook: ``python -m grader`` (the notebooks' form).

The console script ``nn-grade`` does the same; the README may mention it once, as an alias.
"""
from __future__ import annotations

import json
import re

# The command, not names that start with it (a container image or Helm release `nn-grader`).
ALIAS = re.compile(r"\bnn-grade\b")


def _texts(repo_root):
    for path in sorted((repo_root / "book").rglob("*.md")):
        yield path, path.read_text("utf-8")
    for folder in ("solutions", "exercises"):
        for path in sorted((repo_root / folder).glob("*.ipynb")):
            cells = json.loads(path.read_text("utf-8"))["cells"]
            yield path, "\n".join("".join(c["source"]) for c in cells)


def test_book_and_notebooks_say_python_m_grader(repo_root):
    mentions = [str(path.relative_to(repo_root)) for path, text in _texts(repo_root)
                if ALIAS.search(text)]
    assert not mentions, "write `python -m grader ...` instead of `nn-grade` in: " + ", ".join(
        mentions)
    assert any("python -m grader exercises/" in text for _, text in _texts(repo_root))


def test_readme_mentions_the_alias_at_most_once(repo_root):
    assert len(ALIAS.findall((repo_root / "README.md").read_text("utf-8"))) <= 1
