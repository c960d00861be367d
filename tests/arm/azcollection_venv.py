# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure.azcollection client: its cached venv (tests/arm/sdk_venv.py) plus the collection beside it.

The venv is the "trimmed install" of arm-endpoint-research §1, keyed on requirements-azcollection.txt.
The collection goes into ``<venv>/collections/ansible_collections/azure/azcollection``: from Galaxy when
galaxy.ansible.com answers, else from the PyPI ``ansible`` wheel the pin file names (only the
azcollection folder is extracted: the wheel's other collections are not needed). Both are built once,
under the venv's lock, and marked complete last.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from ansible_collections.azsim.vmss.tests.arm.sdk_venv import VenvError, client_python

PIN_FILE = Path(__file__).resolve().parent / "requirements-azcollection.txt"
_SOURCE = re.compile(r"^# azcollection: azure\.azcollection==(?P<version>\S+) from ansible==(?P<ansible>\S+)$", re.M)
_MEMBER = "ansible_collections/azure/azcollection/"


def _source() -> tuple[str, str]:
    found = _SOURCE.search(PIN_FILE.read_text())
    if found is None:
        raise VenvError(f"{PIN_FILE}: no '# azcollection: azure.azcollection==X from ansible==Y' line")
    return found["version"], found["ansible"]


def _from_galaxy(python: Path, target: Path, version: str) -> bool:
    galaxy = python.parent / "ansible-galaxy"
    done = subprocess.run(
        [str(galaxy), "collection", "install", f"azure.azcollection:=={version}", "-p", str(target), "--timeout", "15"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return done.returncode == 0 and (target / _MEMBER / "MANIFEST.json").exists()


def _from_pypi_wheel(python: Path, target: Path, ansible_version: str) -> None:
    wheels = target.parent / "wheels"
    done = subprocess.run(
        # The wheel may ask for a newer Python than the venv's: only the collection's files are used.
        [
            str(python),
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--ignore-requires-python",
            "-q",
            f"ansible=={ansible_version}",
            "-d",
            str(wheels),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    wheel = next(iter(sorted(wheels.glob(f"ansible-{ansible_version}-*.whl"))), None)
    if done.returncode != 0 or wheel is None:
        raise VenvError(
            f"cannot download ansible=={ansible_version} from PyPI for azure.azcollection:\n{done.stderr[-2000:]}"
        )
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target, [m for m in archive.namelist() if m.startswith(_MEMBER)])
    shutil.rmtree(wheels, ignore_errors=True)


def azcollection() -> tuple[Path, Path]:
    """(python of the venv, the collections path holding azure.azcollection), built now if missing."""
    python = client_python(PIN_FILE, "azcollection", "ansible, azure.mgmt.compute, azure.cli.core, msgraph")
    venv = python.parent.parent
    collections = venv / "collections"
    complete = venv / ".collection-complete"
    if complete.exists():
        return python, collections
    with open(venv.parent / f".{venv.name}.collection.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete.exists():
            return python, collections
        shutil.rmtree(collections, ignore_errors=True)
        version, ansible_version = _source()
        if not _from_galaxy(python, collections, version):
            _from_pypi_wheel(python, collections, ansible_version)
        manifest = (collections / _MEMBER / "MANIFEST.json").read_text()
        if f'"version": "{version}"' not in manifest:
            raise VenvError(f"the azure.azcollection installed is not version {version}")
        complete.write_text(version)
    return python, collections
