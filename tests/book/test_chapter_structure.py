"""Every chapter has the same shape: the table of contents gives it its file's number, it opens
with its learning objectives (the ``learning-objectives`` directive of book/_ext/course_book.py,
before the first section) and it ends with a summary, then practice questions, then the exercise.
Chapter 0 (how to use the book) has objectives and ends with a summary only; a placeholder page
without sections is skipped until it is written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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


def test_book_sources_hold_no_control_characters(repo_root):
    """A control character in prose is a lost backslash: ``"\\beta"`` written through a
    non-raw Python string becomes a backspace and ``eta``, which MathJax cannot typeset."""
    control = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    found = [f"{path.relative_to(repo_root)}:{text.count(chr(10), 0, m.start()) + 1}: "
             f"{m.group()!r}"
             for path in sorted((repo_root / "book").rglob("*.md"))
             for text in [path.read_text("utf-8")]
             for m in control.finditer(text)]
    assert not found, found
