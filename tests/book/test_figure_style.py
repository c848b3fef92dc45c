"""Chapters draw their figures in the book's style, and the build redraws them when the style
(nnlib/plot.py) changes: book/_ext/course_pages.py fingerprints the style call and re-reads
the pages that make it. Likewise a change to the book's own CSS or script reaches the built
book (every page is written again)."""
from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace


def _chapters(repo_root):
    return sorted((repo_root / "book").glob("ch[0-9][0-9]_*.md"))


def test_every_chapter_with_figures_sets_the_book_style_first(repo_root, course_pages):
    missing = []
    for path in _chapters(repo_root):
        text = path.read_text("utf-8")
        if "plt." not in text and "plot_" not in text:
            continue
        call = course_pages.STYLE_CALL.search(text)
        first_plot = min(i for i in (text.find("plt."), text.find("plot_")) if i >= 0)
        if call is None or call.start() > first_plot:
            missing.append(path.name)
    assert not missing, ("these chapters draw figures without calling use_book_style() first "
                         f"(in a hidden first code cell): {missing}")


def test_the_style_call_carries_a_fingerprint_of_the_style(course_pages, repo_root):
    digest = hashlib.sha256((repo_root / "nnlib" / "plot.py").read_bytes()).hexdigest()[:16]
    source = ["```{code-cell} ipython3\nfrom nnlib.plot import use_book_style\n\n"
              "use_book_style()\n```\n"]
    course_pages.fingerprint_book_style(None, "book/chXX", source)
    assert f"use_book_style()  # nnlib/plot.py {digest}\n" in source[0]
    plain = ["No figures here; `use_book_style()` in prose is not a call.\n"]
    course_pages.fingerprint_book_style(None, "book/chYY", plain)
    assert "nnlib/plot.py" not in plain[0]


def test_pages_that_set_the_style_are_reread_when_it_changes(course_pages, tmp_path,
                                                             monkeypatch):
    (tmp_path / "figures.md").write_text("```{code-cell} ipython3\nuse_book_style()\n```\n")
    (tmp_path / "prose.md").write_text("# Prose only\n")
    (tmp_path / "new.md").write_text("use_book_style()\n")
    env = SimpleNamespace(found_docs={"figures", "prose", "new"},
                          doc2path=lambda docname: tmp_path / f"{docname}.md")
    reread = course_pages.reread_when_style_changes
    # The first build after this extension was added, and after each change of the style.
    assert reread(None, env, {"new"}, set(), set()) == ["figures"]
    assert reread(None, env, set(), set(), set()) == []                # unchanged style
    monkeypatch.setattr(course_pages, "book_style_digest", lambda: "0123456789abcdef")
    assert reread(None, env, set(), set(), set()) == ["figures", "new"]
    assert reread(None, env, set(), set(), set()) == []
    assert re.fullmatch(r"[0-9a-f]{16}", env.course_style_digest)


def test_every_page_is_written_again_when_the_books_css_or_script_changes(course_pages,
                                                                          monkeypatch):
    """Sphinx copies static files only when it writes pages: a change to course.css alone
    must still reach the built book."""
    env = SimpleNamespace(found_docs={"a", "b", "c"})
    rewrite = course_pages.rewrite_when_assets_change
    assert rewrite(None, env, {"c"}, set(), set()) == ["a", "b"]
    assert rewrite(None, env, set(), set(), set()) == []
    monkeypatch.setattr(course_pages, "assets_digest", lambda: "fedcba9876543210")
    assert rewrite(None, env, set(), set(), set()) == ["a", "b", "c"]


def test_the_assets_fingerprint_follows_the_books_css(course_pages, tmp_path, monkeypatch):
    (tmp_path / "course.css").write_text("p { color: black; }")
    monkeypatch.setattr(course_pages, "STATIC", tmp_path)
    monkeypatch.setattr(course_pages, "TEMPLATES", tmp_path / "none")
    before = course_pages.assets_digest()
    (tmp_path / "course.css").write_text("p { color: navy; }")
    assert course_pages.assets_digest() != before
