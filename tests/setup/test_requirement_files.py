"""The pin files themselves: exact pins only, the learner file a subset of the full one, one pin
per package on every supported Python and platform, and the checker's own logic (no network)."""
from __future__ import annotations

import pytest

from requirement_pins import (FULL, LEARNER, PLATFORMS, SUPPORTED_PYTHONS, Pin, portable,
                              read_pins, select, unmet_dependencies)


def test_every_learner_pin_is_a_pin_of_the_full_file():
    full = {(pin.name, str(pin.marker)): pin for pin in read_pins(FULL)}
    differences = []
    for pin in read_pins(LEARNER):
        match = full.get((pin.name, str(pin.marker)))
        if match is None or match.version != pin.version:
            found = f"{match.where} pins {match.version}" if match else "requirements.txt lacks it"
            differences.append(f"{pin.where}: {pin.line} ({found})")
    assert not differences, "requirements-learner.txt must repeat requirements.txt's pins:\n" + \
        "\n".join(differences)


def test_learner_file_leaves_out_the_maintainer_tools():
    learner = {pin.name for pin in read_pins(LEARNER)}
    maintainer_only = {"jupyter-book", "sphinx", "playwright", "nbval", "hypothesis",
                       "pytest-xdist", "django-static-mathjax"}
    assert not learner & maintainer_only
    assert {"jupyterlab", "numpy", "matplotlib", "scikit-learn", "keras", "jax",
            "jaxlib", "jupyterlab-language-pack-zh-cn"} <= learner


@pytest.mark.parametrize("path", [FULL, LEARNER], ids=lambda p: p.name)
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_one_pin_per_package_on_every_supported_python(path, platform):
    pins = read_pins(path)
    for python in SUPPORTED_PYTHONS:
        select(pins, PLATFORMS[platform].environment(python))  # raises on two pins for a name


@pytest.mark.parametrize("line", ["numpy>=2", "numpy", "numpy==2.4.6,<3", "jax[cpu]==0.10.2"])
def test_a_line_that_is_not_an_exact_pin_is_refused(tmp_path, line):
    path = tmp_path / "requirements.txt"
    path.write_text(f"# comment\nscipy==1.17.1\n{line}\n")
    with pytest.raises(ValueError, match=r"requirements.txt:3: .* is not an exact pin"):
        read_pins(path)


def test_markers_are_evaluated_for_the_target_not_this_machine(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text('contourpy==1.3.3 ; python_version < "3.15"\n'
                    'contourpy==1.4.0 ; python_version >= "3.15"\n'
                    'colorama==0.4.6 ; sys_platform == "win32"\n')
    pins = read_pins(path)
    old = select(pins, PLATFORMS["windows"].environment("3.11"))
    new = select(pins, PLATFORMS["linux"].environment("3.15"))
    assert {n: p.version for n, p in old.items()} == {"contourpy": "1.3.3", "colorama": "0.4.6"}
    assert {n: p.version for n, p in new.items()} == {"contourpy": "1.4.0"}


def test_two_pins_for_one_package_on_one_target_are_refused(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text('numpy==2.4.6\nnumpy==2.5.0 ; sys_platform == "darwin"\n')
    pins = read_pins(path)
    select(pins, PLATFORMS["linux"].environment("3.12"))
    with pytest.raises(ValueError, match="both pin numpy for Python 3.12 on darwin"):
        select(pins, PLATFORMS["macos"].environment("3.12"))


def _pins(**versions) -> dict[str, Pin]:
    return {name: Pin(name, version, None, f"{name}=={version}", f"test:{name}")
            for name, version in versions.items()}


def test_unpinned_and_out_of_range_dependencies_are_found():
    metadata = {
        "ipython": {"requires_dist": ['colorama>=0.4.4; sys_platform == "win32"',
                                      "traitlets>=5.13", 'pytest; extra == "test"']},
        "jupyter-events": {"requires_dist": ["jsonschema[format-nongpl]>=4.18"]},
        "jsonschema": {"requires_dist": ['fqdn; extra == "format-nongpl"']},
        "traitlets": {},
    }
    pins = _pins(ipython="9.0", traitlets="5.0", **{"jupyter-events": "0.12"}, jsonschema="4.26")
    linux = unmet_dependencies(pins, metadata, PLATFORMS["linux"].environment("3.12"))
    windows = unmet_dependencies(pins, metadata, PLATFORMS["windows"].environment("3.12"))
    out_of_range = "ipython needs traitlets>=5.13, but test:traitlets pins 5.0"
    extra = 'jsonschema needs fqdn; extra == "format-nongpl", which is not pinned'
    assert linux == [out_of_range, extra]
    assert windows == [
        'ipython needs colorama>=0.4.4; sys_platform == "win32", which is not pinned',
        out_of_range, extra]



def test_only_pure_wheels_for_the_python_are_portable():
    metadata = {
        "six": {"pure": True, "requires_python": ">=2.7, !=3.0.*", "version": "1.17.0"},
        "soupsieve": {"pure": True, "requires_python": ">=3.11.5", "version": "4.1.2"},
        "numpy": {"pure": False, "requires_python": ">=3.11", "version": "2.4.6"},
        "absl-py": {"pure": True, "requires_python": "", "version": "2.5.1"},
    }
    assert sorted(portable(metadata, PLATFORMS["windows"].environment("3.12"))) == [
        "absl-py", "six", "soupsieve"]
    assert sorted(portable(metadata, PLATFORMS["windows"].environment("3.11"))) == [
        "absl-py", "six"]
