# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() as Ansible would, and reading a store whole, for the module tests."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args


def run_printed(
    module: Any, args: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """The module's exit code, the JSON result it printed, and the text itself (conventions: through main())."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            module.main()
    out = capsys.readouterr().out
    return int(caught.value.code or 0), json.loads(out), out


def run(module: Any, args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """The module's exit code and the JSON result it printed."""
    rc, result, _printed = run_printed(module, args, capsys)
    return rc, result


def dump(path: str) -> list[str]:
    """Every table of the store at ``path`` as SQL, to show that a call changed nothing."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()
