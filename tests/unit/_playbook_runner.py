# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-playbook as a user runs it, isolated from this machine's home and configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def collections_dir() -> Path:
    """Where ansible finds azsim.vmss: the tree above a staged copy, else build/ (tests/unit/conftest.py links it)."""
    if ROOT.parts[-3] == "ansible_collections":
        return ROOT.parents[2]
    return ROOT / "build"


def ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else "ansible-playbook"


def run_playbook(
    args: list[str], tmp_path: Path, store: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook ARGS with STORE as the store and HOME in TMP_PATH (never ~/.ansible); ENV adds variables."""
    (tmp_path / "home").mkdir(exist_ok=True)
    environment = dict(os.environ)
    environment.update(
        {
            "AZSIM_VMSS_STORE": str(store),
            "ANSIBLE_COLLECTIONS_PATH": str(collections_dir()),
            "HOME": str(tmp_path / "home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            **(env or {}),
        }
    )
    environment.pop("ANSIBLE_CONFIG", None)
    environment.pop("AZURE_SUBSCRIPTION_ID", None)
    return subprocess.run(
        [ansible_playbook(), *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
