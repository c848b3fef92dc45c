"""Fixtures for the tests of the book's sources and build extensions."""
from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(scope="session")
def course_pages(repo_root):
    """book/_ext/course_pages.py (the book's Sphinx extension), imported from its file."""
    spec = importlib.util.spec_from_file_location("course_pages_under_test",
                                                  repo_root / "book" / "_ext" / "course_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
