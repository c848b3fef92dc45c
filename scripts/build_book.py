#!/usr/bin/env python3
"""Build the book's editions strictly, or its translation templates (run by scripts/build-book
and scripts/update-translations, with the course's .venv Python).

Each edition is built as ``jupyter-book build . -W -n --keep-going`` builds the book (the same
Jupyter Book function and configuration, ``_config.yml`` and ``_toc.yml``), with executed code
and any warning or cell error failing the build:

- English into ``_build/html/``;
- Simplified Chinese (``language = "zh_CN"``, translations from ``locales/zh_CN/``) into
  ``_build/zh/html/``, copied into ``_build/html/zh/`` so that the English folder is the whole
  site. Both share the execution cache ``_build/.jupyter_cache``: a page whose code is the same
  in both (no figures) runs once; pages with figures run again with their figure text in
  Chinese (book/_ext/course_i18n.py).

``--gettext DIR`` writes the message templates (.pot, one per page) into DIR instead.

Usage: build_book.py [--edition en|zh_CN]... [--gettext DIR]
"""
from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
#: Edition -> (language, output folder of its own build, folder inside _build/html/).
EDITIONS = {
    "en": ("en", BUILD / "html", None),
    "zh_CN": ("zh_CN", BUILD / "zh" / "html", BUILD / "html" / "zh"),
}


def sphinx_build(outdir: Path, builder: str = "html", doctrees: Path | None = None,
                 fresh: bool = False, **overrides) -> int:
    """Jupyter Book's build of the book into ``outdir`` with ``overrides`` of the Sphinx
    configuration: what ``jupyter-book build . -W -n --keep-going`` runs. Doctrees go to
    ``doctrees`` (default: ``.doctrees`` beside ``outdir``); ``fresh`` reads every page again
    (Sphinx does not notice a change in the book's extensions)."""
    from jupyter_book.sphinx import build_sphinx

    os.chdir(ROOT)
    config = {"external_toc_path": (ROOT / "_toc.yml").as_posix(), "latex_individualpages": False,
              "nitpicky": True, "nb_execution_cache_path": str(CACHE), **overrides}
    result = build_sphinx(ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides=config, builder=builder, warningiserror=True,
                          keep_going=True, doctreedir=doctrees, freshenv=fresh)
    if isinstance(result, Exception):
        print(f"build_book: {result}", file=sys.stderr)
        return 1
    return result


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` a copy of ``source``: copy new and changed files, delete the others."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if path.is_dir():
            copy.mkdir(exist_ok=True)
        elif not (copy.is_file() and filecmp.cmp(path, copy, shallow=False)):
            shutil.copy2(path, copy)
    for copy in sorted(target.rglob("*"), reverse=True):
        if not (source / copy.relative_to(target)).exists():
            copy.rmdir() if copy.is_dir() else copy.unlink()


def build_edition(edition: str) -> int:
    language, outdir, published = EDITIONS[edition]
    start = time.monotonic()
    status = sphinx_build(outdir, language=language)
    if status == 0 and published is not None:
        sync_tree(outdir, published)
    print(f"build_book: {edition} edition {'built' if status == 0 else 'FAILED'} in "
          f"{time.monotonic() - start:.0f} s" + (f" ({published})" if published else ""),
          flush=True)
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", action="append", choices=sorted(EDITIONS),
                        help="build only this edition (repeatable; default: all)")
    parser.add_argument("--gettext", type=Path, metavar="DIR",
                        help="write the message templates (.pot) into DIR instead")
    args = parser.parse_args(argv)
    if args.gettext:
        # The gettext builder cannot share the editions' environments, and writes the
        # templates of the pages it read: it reads them all.
        return sphinx_build(args.gettext.resolve(), builder="gettext",
                            doctrees=BUILD / ".doctrees-gettext", fresh=True)
    status = 0
    for edition in args.edition or list(EDITIONS):
        status = build_edition(edition) or status
        if status and edition == "en":
            break                   # the English edition is the source: fix it first
    return status


if __name__ == "__main__":
    sys.exit(main())
