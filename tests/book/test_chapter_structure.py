"""Every chapter has the same shape: the table of contents gives it its file's number, and it
ends with a summary, then practice questions, then the exercise."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

CLOSING_SECTIONS = ["Summary", "Practice questions", "Exercise"]


def _chapters(repo_root):
    return sorted((repo_root / "book").glob("ch[0-9][0-9]_*.md"))


@pytest.fixture(scope="module")
def chapters(repo_root):
    found = _chapters(repo_root)
    assert len(found) >= 11
    return found


def _headings(text, level):
    """Headings of one level outside code blocks, in order."""
    headings, fence = [], None
    for line in text.splitlines():
        m = re.match(r"^(`{3,}|~{3,})", line.strip())
        if m and fence is None:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None and line.startswith("#" * level + " "):
            headings.append(line[level + 1:].strip())
    return headings


def _toc_numbered_chapters(repo_root):
    """The chapter files of _toc.yml in the order the book numbers them (numbered parts only)."""
    toc = yaml.safe_load((repo_root / "_toc.yml").read_text("utf-8"))
    return [Path(entry["file"]).name for part in toc.get("parts", []) if part.get("numbered")
            for entry in part.get("chapters", [])]


def test_chapter_numbers_match_the_file_numbers(chapters, repo_root):
    """The table of contents numbers the chapters (titles, figures and equations are numbered
    from it: "6. Backpropagation", "Fig. 6.2"); the n-th numbered chapter is the file chNN with
    NN = n, and no title writes its number by hand (the book would show "6. 6. ..."). This keeps
    titles, file names and the table of contents in step (the files were renumbered once)."""
    numbered = _toc_numbered_chapters(repo_root)
    assert numbered, "_toc.yml numbers no chapters"
    wrong = [f"chapter {n} is {name}" for n, name in enumerate(numbered, start=1)
             if not re.fullmatch(rf"ch{n:02d}_\w+", name)]
    for path in chapters:
        titles = _headings(path.read_text("utf-8"), 1)
        assert len(titles) == 1, f"{path.name}: {len(titles)} top-level titles"
        if re.match(r"\d+\.? ", titles[0]):
            wrong.append(f"{path.name}: title {titles[0]!r} writes its number by hand")
    assert not wrong, "\n".join(wrong)


def test_chapters_end_with_summary_practice_and_exercise(chapters):
    wrong = []
    for path in chapters:
        sections = _headings(path.read_text("utf-8"), 2)
        present = [s for s in sections if s in CLOSING_SECTIONS]
        if not present:
            continue                      # ch00 (practical notes) and placeholder chapters
        if sections[-len(CLOSING_SECTIONS):] != CLOSING_SECTIONS:
            wrong.append(f"{path.name}: ends with {sections[-len(CLOSING_SECTIONS):]}")
    assert not wrong, ("chapters must end with the sections " + " / ".join(CLOSING_SECTIONS)
                       + ":\n" + "\n".join(wrong))
