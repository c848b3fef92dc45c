"""The theme's stylesheets are cut down to the rules the built book can use
(book/_ext/course_pages.py: purge_css); the browser tests check that pages look the same."""
from __future__ import annotations


def test_rules_for_absent_classes_go_and_the_rest_stays(course_pages):
    css = ('@charset "UTF-8";\n/*! Licence: keep me */\n/* a note */'
           ".used{color:red}.absent{color:blue}.used,.absent{margin:0}"
           ".btn:not(.disabled){cursor:pointer}"                   # :not(.absent) matches
           "a[href$='.pdf']{color:green}"                          # no class needed
           '.used::before{content:"{"}'                            # a brace in a string
           "@media (min-width:960px){.absent{top:0}}"
           "@media print{.used{display:none}.absent{x:1}}"
           "@font-face{font-family:X;src:url(x.woff)}@keyframes spin{to{transform:rotate(1turn)}}")
    out = course_pages.purge_css(css, {"used", "btn"})
    assert out.startswith('@charset "UTF-8";\n/*! Licence: keep me */')
    assert "a note" not in out
    assert ".used{color:red}" in out and ".absent{color:blue}" not in out
    assert ".used{margin:0}" in out
    assert ".btn:not(.disabled){cursor:pointer}" in out
    assert "a[href$='.pdf']{color:green}" in out
    assert '.used::before{content:"{"}' in out
    assert "min-width:960px" not in out
    assert "@media print{.used{display:none}}" in out
    assert "@font-face{font-family:X;src:url(x.woff)}" in out
    assert "@keyframes spin{to{transform:rotate(1turn)}}" in out


def test_the_words_of_the_book_include_classes_that_scripts_compose(course_pages, tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "page.html").write_text('<div class="bd-main sd-card">x</div>')
    (tmp_path / "_static" / "theme.js").write_text('el.classList.add("show-me")')
    words = course_pages.book_words(tmp_path)
    assert {"bd-main", "sd-card", "show-me", "bs-tooltip-auto"} <= words
    assert course_pages.selector_can_match(".bd-main .show-me:hover", words)
    assert not course_pages.selector_can_match(".bd-main .carousel-item", words)
