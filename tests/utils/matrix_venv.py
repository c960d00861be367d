# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The venv of one leg of the ansible-core matrix: found or built, then its path printed on stdout.

Usage: python tests/utils/matrix_venv.py ANSIBLE_CORE PYTHON [INTERPRETER]
e.g.   python tests/utils/matrix_venv.py 2.20 3.12

The leg's venv holds what the default venv holds (requirements.txt and tests/requirements.txt), with
requirements.txt's ansible-core line replaced by the leg's pin file tests/matrix/ansible-core-<ANSIBLE_CORE>.txt,
so the unit tests, ansible-test and its plugins see the same tools on every leg.

The interpreter is INTERPRETER when given (the Makefile's PYTHON<major><minor>, e.g. PYTHON312=...), else the
first working ``python<PYTHON>`` on PATH, else the newest ``$PYENV_ROOT/versions/<PYTHON>.*/bin/python<PYTHON>``
(``~/.pyenv`` without PYENV_ROOT): pyenv puts a shim for every version it has on PATH, and the shim fails
unless that version is selected, so a candidate counts only once it runs and reports the right version.
No interpreter: exit 1 with a message naming what is missing and how to get it, never a silent skip.

The venv lives outside the clone, ``~/.cache/azsim-vmss/matrix-ansible-core-<ANSIBLE_CORE>-py<PYTHON>-<hash>``
(AZSIM_VMSS_CACHE moves the cache, as for the real-client venv of tests/arm/sdk_venv.py), so a fresh clone
reuses it. The hash covers the three requirement files and the interpreter (path and full version): change
any of them and the next run builds a new venv beside the old one (other work trees may still use that
one, so it is not removed). It is built under a lock and marked complete last; a venv without the mark is
half-built and is built again.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
TEST_REQUIREMENTS = ROOT / "tests" / "requirements.txt"
PIN_DIR = ROOT / "tests" / "matrix"
COMPLETE = ".azsim-matrix-complete"
# A requirement line naming ansible-core (PEP 503 normalised: ansible_core, Ansible-Core, ...).
_ANSIBLE_CORE_LINE = re.compile(r"^\s*ansible[-_.]core\s*(?:[<>=!~;\[]|$)", re.IGNORECASE)
_PROBE = "import sys, venv, ensurepip; print('%d.%d.%d' % sys.version_info[:3])"


class LegError(Exception):
    """The leg cannot run; the message says what is missing and how to get it."""


def _probe(candidate: str, python: str) -> str | None:
    """The full version of CANDIDATE if it runs, is Python PYTHON and can make venvs; else None."""
    try:
        done = subprocess.run([candidate, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = done.stdout.strip()
    if done.returncode != 0 or not version.startswith(python + "."):
        return None
    return version


def _pyenv_candidates(python: str) -> list[str]:
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = glob.glob(os.path.join(pyenv_root, "versions", f"{python}.*", "bin", f"python{python}"))

    def version_key(path: str) -> tuple[int, ...]:
        release = Path(path).parent.parent.name[len(python) + 1 :]
        return tuple(int(part) if part.isdigit() else -1 for part in release.split("."))

    return sorted(found, key=version_key, reverse=True)


def find_interpreter(python: str, given: str | None) -> tuple[str, str]:
    """(path, full version) of the Python PYTHON interpreter for a leg; LegError names what is missing."""
    if given:
        version = _probe(given, python)
        if version is None:
            raise LegError(
                f"{given} (given for Python {python}) does not run as Python {python} with the venv and ensurepip "
                "modules; give another or leave it unset to search PATH and pyenv"
            )
        return given, version
    tried = []
    on_path = shutil.which(f"python{python}")
    for candidate in ([on_path] if on_path else []) + _pyenv_candidates(python):
        version = _probe(candidate, python)
        if version is not None:
            return candidate, version
        tried.append(candidate)
    pyenv_root = os.environ.get("PYENV_ROOT") or "~/.pyenv"
    tried_text = f" (tried, not working: {', '.join(tried)})" if tried else ""
    raise LegError(
        f"Python {python} is missing: no working python{python} on PATH nor under {pyenv_root}/versions/{python}.*/bin"
        f"{tried_text}. Install it (`pyenv install {python}`, or `apt-get install python{python} python{python}-venv` "
        f"where Debian has it) or name one: make test PYTHON{python.replace('.', '')}=/path/to/python{python}"
    )


def leg_requirements(ansible_core: str) -> str:
    """The leg's requirements: requirements.txt without ansible-core, tests/requirements.txt, the pin file."""
    pin = PIN_DIR / f"ansible-core-{ansible_core}.txt"
    if not pin.is_file():
        raise LegError(f"no pin file for ansible-core {ansible_core}: {pin.relative_to(ROOT)} is missing")
    pin_text = pin.read_text(encoding="utf-8")
    if not any(_ANSIBLE_CORE_LINE.match(line) for line in pin_text.splitlines()):
        raise LegError(f"{pin.relative_to(ROOT)} names no ansible-core requirement")
    runtime = [
        line for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines() if not _ANSIBLE_CORE_LINE.match(line)
    ]
    return "\n".join(
        [
            f"# {REQUIREMENTS.name} without its ansible-core line",
            *runtime,
            f"# {TEST_REQUIREMENTS.relative_to(ROOT)}",
            TEST_REQUIREMENTS.read_text(encoding="utf-8"),
            f"# {pin.relative_to(ROOT)}",
            pin_text,
        ]
    )


def venv_path(ansible_core: str, python: str, interpreter: str, version: str, requirements: str) -> Path:
    cache = Path(os.environ.get("AZSIM_VMSS_CACHE") or Path.home() / ".cache" / "azsim-vmss")
    key = "\0".join([requirements, os.path.realpath(interpreter), version])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache / f"matrix-ansible-core-{ansible_core}-py{python}-{digest}"


def _run(command: list[str], what: str) -> None:
    # pip's progress goes to stderr: stdout carries only the venv path the Makefile reads.
    done = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if done.returncode != 0:
        raise LegError(f"{what} failed (exit {done.returncode}): {' '.join(command)}")


def _build(venv: Path, ansible_core: str, interpreter: str, requirements: str) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    print(f"matrix: building {venv} with {interpreter}", file=sys.stderr)
    try:
        _run([interpreter, "-m", "venv", str(venv)], "creating the venv")
        requirements_file = venv / "azsim-requirements.txt"
        requirements_file.write_text(requirements, encoding="utf-8")
        python = str(venv / "bin" / "python")
        _run(
            [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", str(requirements_file)],
            "pip install (needs PyPI or a mirror)",
        )
        check = "import ansible.release; print(ansible.release.__version__)"
        installed = subprocess.run([python, "-c", check], capture_output=True, text=True, check=False).stdout.strip()
        if not installed.startswith(ansible_core + "."):
            raise LegError(f"the venv got ansible-core {installed or 'nothing'}, not {ansible_core}.x: check the pins")
        (venv / COMPLETE).write_text(installed + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise


def ensure_venv(ansible_core: str, python: str, given: str | None) -> Path:
    interpreter, version = find_interpreter(python, given)
    requirements = leg_requirements(ansible_core)
    venv = venv_path(ansible_core, python, interpreter, version, requirements)
    if (venv / COMPLETE).exists() and (venv / "bin" / "python").exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / COMPLETE).exists():
            _build(venv, ansible_core, interpreter, requirements)
    return venv


def main() -> None:
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    ansible_core, python = sys.argv[1], sys.argv[2]
    given = sys.argv[3] if len(sys.argv) == 4 and sys.argv[3] else None
    try:
        venv = ensure_venv(ansible_core, python, given)
    except LegError as error:
        raise SystemExit(f"matrix ansible-core {ansible_core} (Python {python}): {error}") from None
    print(venv)


if __name__ == "__main__":
    main()
