"""Every chapter has the same shape: its title carries its number, and it ends with a summary,
then practice questions, then the exercise."""
from __future__ import annotations

import re

import pytest

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


def test_chapter_titles_carry_the_file_number(chapters):
    """A title that starts with a number starts with the chapter's own number (the files were
    renumbered once; this keeps titles, file names and the table of contents in step)."""
    wrong = []
    for path in chapters:
        titles = _headings(path.read_text("utf-8"), 1)
        assert len(titles) == 1, f"{path.name}: {len(titles)} top-level titles"
        m = re.match(r"(\d+)\. ", titles[0])
        if m and int(m.group(1)) != int(path.name[2:4]):
            wrong.append(f"{path.name}: title {titles[0]!r}")
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
