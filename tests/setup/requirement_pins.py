"""The pinned requirement files, the platforms learners install them on, and what pip makes of them.

pip evaluates environment markers (``; sys_platform == "win32"``) against the interpreter that
runs it, even with ``--python-version`` and ``--platform``. So the pins that apply to a target
are selected here with the target's own marker values, pip checks that each of them has a binary
wheel for the target (``--no-deps``), and :func:`unmet_dependencies` checks, from the metadata pip
reports, that every dependency the target needs is pinned at a version that satisfies it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version as metadata_version
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "requirements.txt"
LEARNER = ROOT / "requirements-learner.txt"
PYPI = "https://pypi.org/simple/"
CACHE_SECONDS = 24 * 3600
CACHE_FORMAT = "2"  # change when the cached fields change


#: Pins that PyPI publishes only as a source distribution of pure Python (no wheel), which pip
#: builds into a wheel on any system: pip cannot resolve them with ``--only-binary``, so their
#: metadata is given here and test_requirements_resolve.py checks it against PyPI's sdist.
SOURCE_ONLY = {
    "jieba": {"version": "0.42.1", "requires_dist": [], "requires_python": "", "pure": True},
}


def load_setup_script():
    """scripts/setup.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("course_setup", ROOT / "scripts" / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SUPPORTED_PYTHONS = ["%d.%d" % v for v in load_setup_script().SUPPORTED_PYTHONS]


@dataclass(frozen=True)
class Pin:
    """One line ``name==version[ ; marker]`` of a requirement file."""
    name: str  # canonical (PEP 503) name
    version: str
    marker: Marker | None
    line: str
    where: str  # "file:line number", for messages

    def applies_to(self, environment: dict) -> bool:
        return self.marker is None or self.marker.evaluate(environment)


def read_pins(path: Path) -> list[Pin]:
    """Every requirement in ``path``; each must be an exact ``==`` pin, else ValueError."""
    pins = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path.name}:{number}"
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or requirement.extras:
            raise ValueError(f"{where}: {line!r} is not an exact pin (name==version, no extras)")
        pins.append(Pin(canonicalize_name(requirement.name), specifiers[0].version,
                        requirement.marker, line, where))
    return pins


@dataclass(frozen=True)
class Platform:
    """A platform learners install on: pip's wheel tags for it and its marker values."""
    name: str
    wheel_tags: tuple[str, ...]
    markers: dict

    def environment(self, python: str) -> dict:
        """Marker values of CPython ``python`` ("3.12") on this platform (its first release)."""
        return {"implementation_name": "cpython", "implementation_version": f"{python}.0",
                "platform_python_implementation": "CPython", "python_version": python,
                "python_full_version": f"{python}.0", "platform_release": "",
                "platform_version": "", **self.markers}


# The oldest systems covered: glibc 2.28 (Debian 10, Ubuntu 20.04, RHEL 8), macOS 12 on Apple
# silicon, 64-bit Windows 10. pip expands a macOS tag to older macOS versions but not a
# manylinux_2_x tag to older glibc versions, hence the list.
PLATFORMS = {
    "linux": Platform(
        "linux",
        tuple(f"manylinux_2_{minor}_x86_64" for minor in range(17, 29)) + ("manylinux2014_x86_64",),
        {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux",
         "platform_machine": "x86_64"}),
    "macos": Platform(
        "macos", ("macosx_12_0_arm64",),
        {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin",
         "platform_machine": "arm64"}),
    "windows": Platform(
        "windows", ("win_amd64",),
        {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
         "platform_machine": "AMD64"}),
}


def select(pins: list[Pin], environment: dict) -> dict[str, Pin]:
    """The pins that apply in ``environment``, by name; two for one name is a ValueError."""
    chosen: dict[str, Pin] = {}
    for pin in pins:
        if not pin.applies_to(environment):
            continue
        if pin.name in chosen:
            raise ValueError(f"{chosen[pin.name].where} and {pin.where} both pin {pin.name} for "
                             f"Python {environment['python_version']} on "
                             f"{environment['sys_platform']}")
        chosen[pin.name] = pin
    return chosen


def pip_environment() -> dict:
    """The environment for pip without this machine's configuration (local indexes, find-links,
    constraints): what a learner's pip sees with the public package index."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


def resolution_cache() -> Path:
    """Where successful resolutions are kept for a day (pins do not lose their wheels)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nn-course" / "pin-resolution"


def resolve(pins: dict[str, Pin], python: str, platform: Platform, workdir: Path) -> dict:
    """Ask pip (against PyPI) for a binary wheel of every pin for ``python`` on ``platform``
    (the pins of :data:`SOURCE_ONLY` aside: their metadata is added as given there).

    Returns ``{"ok": bool, "error": str, "metadata": {name: metadata}, "cached": bool}``, the
    metadata holding the version, ``requires_dist``, ``requires_python`` and whether the wheel
    is pure Python.
    A success is cached for a day under the pins, target and pip version; a failure never is.
    """
    source_only = {name: SOURCE_ONLY[name] for name in pins if name in SOURCE_ONLY}
    pins = {name: pin for name, pin in pins.items() if name not in source_only}
    pinned = "".join(f"{pin.name}=={pin.version}\n" for pin in pins.values())
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--no-deps", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", python, "--index-url", PYPI, "--quiet",
               "--disable-pip-version-check", "--no-input"]
    for tag in platform.wheel_tags:
        command += ["--platform", tag]
    key_text = "\n".join([CACHE_FORMAT, pinned, *command[1:], metadata_version("pip")])
    key = hashlib.sha256(key_text.encode()).hexdigest()
    cached = resolution_cache() / f"{key}.json"
    if cached.exists() and time.time() - cached.stat().st_mtime < CACHE_SECONDS:
        result = json.loads(cached.read_text())
        result["metadata"].update(source_only)
        return {**result, "cached": True}

    requirements = workdir / "requirements.txt"
    requirements.write_text(pinned)
    report = workdir / "report.json"
    command += ["--report", str(report), "-r", str(requirements)]
    proc = subprocess.run(command, capture_output=True, text=True, env=pip_environment(),
                          timeout=600)
    if proc.returncode != 0:
        return {"ok": False, "error": proc.stderr.strip(), "metadata": {}, "cached": False}
    metadata = {}
    for item in json.loads(report.read_text())["install"]:
        fields = item["metadata"]
        metadata[canonicalize_name(fields["name"])] = {
            "version": fields["version"], "requires_dist": fields.get("requires_dist", []),
            "requires_python": fields.get("requires_python", ""),
            "pure": item["download_info"]["url"].endswith("-none-any.whl")}
    result = {"ok": True, "error": "", "metadata": metadata}
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    metadata.update(source_only)
    return {**result, "cached": False}


def portable(metadata: dict[str, dict], environment: dict) -> dict[str, dict]:
    """The packages of a resolution whose wheel installs unchanged in ``environment``: pure
    Python wheels whose Requires-Python admits its Python."""
    python = environment["python_full_version"]
    return {name: fields for name, fields in metadata.items()
            if fields["pure"] and SpecifierSet(fields["requires_python"]).contains(python)}


def unmet_dependencies(pins: dict[str, Pin], metadata: dict[str, dict],
                       environment: dict) -> list[str]:
    """Every dependency of a pinned package (with the extras asked for) that, in ``environment``,
    is not pinned or is pinned at a version outside the range its dependent allows."""
    problems = []
    pending = [(name, "") for name in pins]
    seen = set()
    while pending:
        name, extra = pending.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for text in metadata[name].get("requires_dist", []):
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({**environment,
                                                                       "extra": extra}):
                continue
            dependency = canonicalize_name(requirement.name)
            pin = pins.get(dependency)
            if pin is None:
                problems.append(f"{name} needs {requirement}, which is not pinned")
                continue
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{name} needs {requirement}, but {pin.where} pins "
                                f"{pin.version}")
            pending += [(dependency, "")] + [(dependency, canonicalize_name(e))
                                             for e in requirement.extras]
    return sorted(set(problems))
