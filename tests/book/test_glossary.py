"""The glossary page is generated from the chapters' term lists and must be up to date."""
from __future__ import annotations

import subprocess
import sys


def test_glossary_page_matches_term_lists(repo_root):
    proc = subprocess.run([sys.executable, "scripts/make-glossary", "--check"],
                          cwd=repo_root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_chapter_in_the_toc_has_glossary_terms(repo_root):
    import yaml
    toc = yaml.safe_load((repo_root / "_toc.yml").read_text())
    chapters = [c["file"].split("/")[-1] for part in toc["parts"] for c in part["chapters"]]
    numbered = [c for c in chapters if c.startswith("ch") and c[2:4].isdigit() and c != "ch00_how_to_use"]
    assert numbered, "no numbered chapters in the toc"
    for chapter in numbered:
        tsv = repo_root / "book" / "glossary" / f"{chapter[:4]}.tsv"
        assert tsv.exists() and tsv.read_text().strip(), f"{chapter} has no glossary terms in {tsv}"

