"""Every pin has a binary wheel on PyPI for every supported Python on Linux, macOS and Windows,
and every dependency each target needs is pinned: a pin that breaks one version fails here.

pip resolves ``requirements.txt`` for each (Python, platform) against PyPI with ``--dry-run
--only-binary=:all: --python-version --platform`` and without this machine's pip configuration
(for all but the first target, only the pins whose wheel is not pure Python).
``requirements-learner.txt`` repeats lines of ``requirements.txt`` (test_requirement_files.py),
so its wheels are among those; its completeness is checked with the same metadata. Contacts PyPI
(an install-resolution check); the resolutions run in parallel, once per session, and a success
is remembered for a day (requirement_pins.resolution_cache), so unchanged pins cost nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from requirement_pins import (FULL, LEARNER, PLATFORMS, PYPI, SOURCE_ONLY, SUPPORTED_PYTHONS, Pin,
                              pip_environment, portable, read_pins, resolve, select,
                              unmet_dependencies)

pytestmark = pytest.mark.slow
TARGETS = [(python, platform) for python in SUPPORTED_PYTHONS for platform in sorted(PLATFORMS)]
IDS = [f"py{python}-{platform}" for python, platform in TARGETS]


@pytest.fixture(scope="session")
def resolutions(tmp_path_factory) -> dict:
    """pip's answer for requirements.txt on each target: ``{(python, platform): result}``.

    The first target (the oldest Python, Linux) gets every pin; the others only the pins whose
    wheel there is not pure Python or excludes their Python (a pure wheel installs wherever its
    Requires-Python admits the Python), which saves most of pip's time. The metadata of the pins
    left out comes from the first answer.
    """
    pins = read_pins(FULL)

    def run(target, reference=None):
        python, platform = target
        environment = PLATFORMS[platform].environment(python)
        selected = select(pins, environment)
        shared = {name: fields for name, fields in portable(reference or {}, environment).items()
                  if name in selected and fields["version"] == selected[name].version}
        needed = {name: pin for name, pin in selected.items() if name not in shared}
        workdir = tmp_path_factory.mktemp(f"resolve-{python}-{platform}")
        result = resolve(needed, python, PLATFORMS[platform], workdir)
        return target, {**result, "metadata": {**shared, **result["metadata"]}}

    first, rest = TARGETS[0], TARGETS[1:]
    reference = run(first)[1]
    # pip's time goes to fetching and parsing index pages: overlap the waits on both cores.
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        others = pool.map(lambda target: run(target, reference["metadata"]), rest)
        return {first: reference, **dict(others)}


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_every_pin_has_a_wheel(resolutions, target):
    result = resolutions[target]
    assert result["ok"], f"requirements.txt on Python {target[0]}, {target[1]}:\n{result['error']}"


@pytest.mark.parametrize("path", [FULL, LEARNER], ids=lambda p: p.name)
@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_every_needed_dependency_is_pinned(resolutions, target, path):
    python, platform = target
    result = resolutions[target]
    if not result["ok"]:
        pytest.fail(f"no metadata: pip failed on Python {python}, {platform} (see "
                    "test_every_pin_has_a_wheel)", pytrace=False)
    environment = PLATFORMS[platform].environment(python)
    pins = select(read_pins(path), environment)
    unresolved = sorted(set(pins) - set(result["metadata"]))
    assert not unresolved, f"{path.name} pins these, requirements.txt does not: {unresolved}"
    problems = unmet_dependencies(pins, result["metadata"], environment)
    assert not problems, f"{path.name} on Python {python}, {platform}:\n" + "\n".join(problems)


def test_a_pin_without_a_wheel_for_the_target_fails(tmp_path):
    """The check can fail: numpy 1.26 has no wheels for Python 3.13."""
    pin = Pin("numpy", "1.26.4", None, "numpy==1.26.4", "test:1")
    linux = PLATFORMS["linux"]
    assert resolve({"numpy": pin}, "3.12", linux, tmp_path)["ok"]
    result = resolve({"numpy": pin}, "3.13", linux, tmp_path)
    assert not result["ok"]
    assert "numpy==1.26.4" in result["error"]


@pytest.mark.parametrize("name", sorted(SOURCE_ONLY))
def test_source_only_pins_are_pure_python_sdists(name, tmp_path):
    """A pin resolved without a wheel (SOURCE_ONLY) is pinned at the version given there, is on
    PyPI as a source distribution without compiled code and needs nothing but what is given."""
    import tarfile

    fields = SOURCE_ONLY[name]
    assert {pin.name: pin.version for pin in read_pins(FULL)}.get(name) == fields["version"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:",
               "--no-build-isolation", "--index-url", PYPI, "--quiet", "--disable-pip-version-check",
               "-d", str(tmp_path), f"{name}=={fields['version']}"]
    proc = subprocess.run(command, capture_output=True, text=True, env=pip_environment(),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        pkg_info = next(member for member in archive.getmembers()
                        if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"))
        metadata = archive.extractfile(pkg_info).read().decode()
    compiled = [n for n in names if n.endswith((".c", ".cpp", ".pyx", ".f", ".rs"))]
    assert not compiled, f"{name} has code to compile: {compiled[:5]}"
    assert f"\nVersion: {fields['version']}\n" in metadata
    assert [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.startswith("Requires-Dist:")] == fields["requires_dist"]
