# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cached venv for a real client, keyed on its pin file: built once, outside the clone, reused after.

One helper for every real client (the SDK: requirements-sdk.txt, "sdk"; the az CLI: requirements-az.txt,
"az"). ``client_python(pin_file, name, check_import)`` returns the venv's python, building
``~/.cache/azsim-vmss/venv-<name>-<hash>`` first if needed (``AZSIM_VMSS_CACHE`` moves the cache). The
hash covers the pin file and the Python version, so a changed pin builds a new venv and the old stays
until removed. A venv is built under a lock and marked complete last, so parallel test workers neither
race nor use a half-built venv. A build that fails raises ``VenvError`` with what is missing and pip's
last words.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


class VenvError(RuntimeError):
    """The client venv cannot be built; the message names the pin file and what failed."""


def cache_dir() -> Path:
    return Path(os.environ.get("AZSIM_VMSS_CACHE") or Path.home() / ".cache" / "azsim-vmss")


def venv_path(pin_file: Path, name: str) -> Path:
    digest = hashlib.sha256(pin_file.read_bytes() + f"{sys.version_info[:2]}".encode()).hexdigest()[:16]
    return cache_dir() / f"venv-{name}-{digest}"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def client_python(pin_file: Path, name: str, check_import: str) -> Path:
    """The python of the cached venv for ``pin_file`` (built now if missing); ``check_import`` proves it works."""
    venv = venv_path(pin_file, name)
    if _ready(venv):
        return _python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ready(venv):
            return _python(venv)
        _build(venv, pin_file, check_import)
    return _python(venv)


def client_script(pin_file: Path, name: str, check_import: str, script: str) -> Path:
    """A console script of the client's venv (``az``), building the venv first if needed."""
    path = client_python(pin_file, name, check_import).parent / script
    if not path.exists():
        raise VenvError(f"the venv built from {pin_file} has no {script} in {path.parent}")
    return path


def _ready(venv: Path) -> bool:
    return (venv / ".complete").exists() and _python(venv).exists()


def _run(command: list[str], what: str, pin_file: Path) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise VenvError(
            f"cannot build the real-client venv from {pin_file}: {what} failed (exit {done.returncode}).\n"
            f"command: {' '.join(command)}\n{tail}"
        )


def _build(venv: Path, pin_file: Path, check_import: str) -> None:
    # Built where it will live (a venv's scripts name their own path, so it cannot be moved later), under
    # the lock; ``.complete`` is written last, so a venv without it is a half-built one and is rebuilt.
    try:
        if venv.exists():
            shutil.rmtree(venv)
        _run([sys.executable, "-m", "venv", str(venv)], "python -m venv", pin_file)
        _run(
            [
                str(_python(venv)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-q",
                "-r",
                str(pin_file),
            ],
            f"pip install -r {pin_file.name} (needs PyPI or a mirror)",
            pin_file,
        )
        _run([str(_python(venv)), "-c", f"import {check_import}"], f"import {check_import} in the new venv", pin_file)
        (venv / ".complete").write_text(pin_file.read_text())
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
