"""The book builds strictly: no warnings, no cell errors, every toc page rendered and executed."""
from __future__ import annotations

import re

import yaml


def _toc_files(repo_root):
    toc = yaml.safe_load((repo_root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


def test_strict_build_passes(book_build):
    returncode, log, _ = book_build
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    # Sphinx/docutils report problems as "path:line: WARNING: ..." or "ERROR: ..."; a kernel's
    # own log lines ("[IPKernelApp] WARNING | ...") are not book problems.
    warnings = [line for line in plain.splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE):|Traceback", line)]
    assert returncode == 0, "book build failed:\n" + log[-6000:]
    assert not warnings, "build printed warnings/errors:\n" + "\n".join(warnings[:40])


def test_every_toc_page_is_rendered(book_build, repo_root):
    _, _, html = book_build
    for name in _toc_files(repo_root):
        page = html / f"{name}.html"
        assert page.exists(), f"{name} is in _toc.yml but {page} was not built"


def test_code_cells_were_executed(book_build, repo_root):
    """Every page with code cells shows their outputs (the build executed them)."""
    _, _, html = book_build
    for name in _toc_files(repo_root):
        src = next((repo_root / name).parent.glob((repo_root / name).name + ".*"))
        text = src.read_text()
        if "{code-cell}" not in text:
            continue
        page = (html / f"{name}.html").read_text()
        assert "cell_output" in page, f"{name}: code cells have no outputs in the built page"


def test_no_files_outside_the_toc_are_built(book_build):
    _, _, html = book_build
    for stray in ["README.html", "exercises", "solutions", "tests"]:
        assert not (html / stray).exists(), f"{stray} was built although it is not in the toc"
