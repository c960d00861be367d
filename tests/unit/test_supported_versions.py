# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection claims to run on is what `make test` tests (issue 15 part 1).

The tested ansible-core releases are the default venv's (requirements.txt) and one per leg of the Makefile's
MATRIX, each leg with its pin file tests/matrix/ansible-core-<version>.txt. meta/runtime.yml's requires_ansible
and every role's min_ansible_version must name the oldest of them, and the tested releases must follow each
other with no gap, so that ">= the oldest" claims no release that is not tested (up to the newest).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
_CORE_RANGE = re.compile(r"^\s*ansible-core\s*>=\s*(\d+)\.(\d+)\s*,\s*<\s*(\d+)\.(\d+)\s*$", re.MULTILINE)


def _one_minor(text: str, where: str) -> tuple[int, int]:
    """The one ansible-core minor release a requirements text allows (``>=2.20,<2.21``)."""
    found = _CORE_RANGE.findall(text)
    assert len(found) == 1, f"{where}: expected one line 'ansible-core>=X.Y,<X.Y+1', found {found}"
    low_major, low_minor, high_major, high_minor = (int(part) for part in found[0])
    assert (high_major, high_minor) == (low_major, low_minor + 1), f"{where}: allows more than one minor release"
    return low_major, low_minor


def _matrix_legs() -> dict[str, str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^MATRIX := (.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile defines no MATRIX"
    return dict(leg.split(":") for leg in found.group(1).split())


def _tested_releases() -> list[tuple[int, int]]:
    default = _one_minor((ROOT / "requirements.txt").read_text(encoding="utf-8"), "requirements.txt")
    legs = [_one_minor(pin.read_text(encoding="utf-8"), pin.name) for pin in sorted(ROOT.glob("tests/matrix/*.txt"))]
    return sorted([default, *legs])


def test_every_pin_file_is_a_leg_of_the_matrix_and_every_leg_has_one() -> None:
    pins = {pin.name for pin in ROOT.glob("tests/matrix/ansible-core-*.txt")}
    legs = {f"ansible-core-{version}.txt" for version in _matrix_legs()}
    assert pins == legs
    for version in _matrix_legs():
        major, minor = (int(part) for part in version.split("."))
        pin = ROOT / "tests" / "matrix" / f"ansible-core-{version}.txt"
        assert _one_minor(pin.read_text(encoding="utf-8"), pin.name) == (major, minor)


def test_the_tested_releases_follow_each_other() -> None:
    releases = _tested_releases()
    assert len(releases) == len(set(releases)), releases
    for older, newer in zip(releases, releases[1:]):
        assert newer == (older[0], older[1] + 1), f"untested release between {older} and {newer}"


def test_requires_ansible_is_the_oldest_tested_release() -> None:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    major, minor = _tested_releases()[0]
    assert runtime["requires_ansible"] == f">={major}.{minor}.0"


def test_every_role_claims_the_oldest_tested_release() -> None:
    major, minor = _tested_releases()[0]
    roles = sorted(ROOT.glob("roles/*/meta/main.yml"))
    assert roles
    for meta in roles:
        info = yaml.safe_load(meta.read_text(encoding="utf-8"))["galaxy_info"]
        assert str(info["min_ansible_version"]) == f"{major}.{minor}.0", meta
