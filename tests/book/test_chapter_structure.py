"""Every chapter has the same shape: its title carries its number, it opens with its learning
objectives (the ``learning-objectives`` directive of book/_ext/course_book.py, before the first
section) and it ends with a summary, then practice questions, then the exercise. Chapter 0 (how
to use the book) has objectives and ends with a summary only; a placeholder page without
sections is skipped until it is written."""
from __future__ import annotations

import re

import pytest

CLOSING_SECTIONS = ["Summary", "Practice questions", "Exercise"]
OBJECTIVES = "```{learning-objectives}"


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
        if not sections:
            continue                      # a placeholder page, not written yet
        closing = CLOSING_SECTIONS if "Exercise" in sections else CLOSING_SECTIONS[:1]
        if sections[-len(closing):] != closing:
            wrong.append(f"{path.name}: ends with {sections[-len(closing):]}, expected {closing}")
    assert not wrong, ("chapters must end with the sections " + " / ".join(CLOSING_SECTIONS)
                       + " (chapters without an exercise: Summary):\n" + "\n".join(wrong))


def _objectives_blocks(text):
    """(line number, [objective, ...]) of every learning-objectives directive in a page."""
    blocks, lines = [], text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == OBJECTIVES:
            end = lines.index("```", number + 1)
            items = [item for item in lines[number + 1:end] if item.startswith("- ")]
            blocks.append((number, items))
    return blocks


def test_chapters_open_with_learning_objectives(chapters):
    wrong = []
    for path in chapters:
        text = path.read_text("utf-8")
        if not _headings(text, 2):
            continue                      # a placeholder page, not written yet
        blocks = _objectives_blocks(text)
        first_section = next(i for i, line in enumerate(text.splitlines())
                             if line.startswith("## "))
        if len(blocks) != 1:
            wrong.append(f"{path.name}: {len(blocks)} learning-objectives blocks, expected 1")
        elif blocks[0][0] > first_section:
            wrong.append(f"{path.name}: the learning objectives come after the first section")
        elif not 3 <= len(blocks[0][1]) <= 6:
            wrong.append(f"{path.name}: {len(blocks[0][1])} objectives, expected 3 to 6")
        elif "By the end of the chapter" in text or "By the end of this chapter" in text:
            wrong.append(f"{path.name}: an informal objectives list besides the directive")
    assert not wrong, "\n".join(wrong)
