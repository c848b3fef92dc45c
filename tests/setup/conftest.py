"""The learner install of test_setup_script.py, started as soon as the session is known to need it.

``scripts/setup.py --learner`` into a fresh venv is mostly pip installing wheels (about a minute,
largely waiting on the disk and the package index). Started when collection ends, it runs while
the tests before it (the book build, the browser tests, ...) keep the other core busy, and the
test only waits for what is left. Its output and exit status are checked by the test as before.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from requirement_pins import ROOT

LEARNER_TEST = "test_learner_install_grades_and_runs_notebooks"
INSTALL_TIMEOUT = 1800  # seconds, from the start of the install


@dataclass
class LearnerInstall:
    """A running ``scripts/setup.py --learner --venv <folder>/learner-venv``."""

    folder: Path
    process: subprocess.Popen

    @property
    def venv(self) -> Path:
        return self.folder / "learner-venv"

    @classmethod
    def start(cls) -> "LearnerInstall":
        folder = Path(tempfile.mkdtemp(prefix="learner-install-"))
        command = [sys.executable, str(ROOT / "scripts" / "setup.py"), "--learner", "--venv",
                   str(folder / "learner-venv")]
        with open(folder / "stdout", "wb") as stdout, open(folder / "stderr", "wb") as stderr:
            process = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr,
                                       stdin=subprocess.DEVNULL)
        # Reaped as soon as it ends: tests in between check that the session leaves no zombies.
        threading.Thread(target=process.wait, daemon=True).start()
        return cls(folder, process)

    def result(self) -> subprocess.CompletedProcess:
        """Wait for the install; its exit status and output, as ``subprocess.run`` gives them."""
        self.process.wait(timeout=INSTALL_TIMEOUT)
        return subprocess.CompletedProcess(
            self.process.args, self.process.returncode,
            (self.folder / "stdout").read_text(errors="replace"),
            (self.folder / "stderr").read_text(errors="replace"))

    def discard(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_INSTALL = pytest.StashKey[LearnerInstall]()


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    if any(item.name == LEARNER_TEST for item in session.items):
        session.config.stash[_INSTALL] = LearnerInstall.start()


def pytest_sessionfinish(session):
    install = session.config.stash.get(_INSTALL, None)
    if install is not None:
        install.discard()


@pytest.fixture(scope="session")
def learner_install(request) -> LearnerInstall:
    """The learner install started when collection ended (or now, if it was not)."""
    if _INSTALL not in request.config.stash:
        request.config.stash[_INSTALL] = LearnerInstall.start()
    return request.config.stash[_INSTALL]
