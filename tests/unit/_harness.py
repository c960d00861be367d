# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tests' one harness: a module's main() run as Ansible runs it, and a store read whole.

``run_printed`` is the runner (conventions, habit 8): ``patch_module_args``, ``main()`` must exit, and what it
printed must be one JSON object; the exit code must be 0 (``exit_json``) or 1 (``fail_json``). It reads
stdout itself rather than through pytest's ``capsys``, so it also works in module-scoped fixtures, inside
hypothesis properties and in forked children. ``run`` and ``call`` are the two shapes the tests use;
``ok`` and ``failed`` unwrap a ``run`` result that must have succeeded or failed.

``dump`` and ``tables`` are the two ways a test says "the store is as it was": every statement that
rebuilds it (``iterdump``), or every row of every table with the schema and the header fields;
``folder_snapshot`` says it of the files: the store's folder byte for byte, sidecar files included.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

# A module call bound to a store: call(module, check=False, **args) → run's (rc, result).
Call = Callable[..., tuple[int, dict[str, Any]]]


def _as_a_new_process() -> None:
    """Forget warnings and deprecations earlier calls left in ansible-core's module-global lists.

    Ansible runs each module in a process of its own, so a result only ever carries its own warnings; in one
    pytest worker, a warning a module raised in an earlier test (and exit_json did not consume) would be printed
    again by the next module that exits.
    """
    for name in ("_global_warnings", "_global_deprecations"):
        found = getattr(ansible_warnings, name, None)
        if isinstance(found, (dict, list)):
            found.clear()


def run_printed(module: ModuleType, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """The module's exit code, the JSON result it printed, and the printed text itself."""
    _as_a_new_process()
    out = io.StringIO()
    code: int | str | None = "did not exit"
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit as exc:
            code = exc.code
    if code == "did not exit":  # pragma: no cover - only a broken module returns
        raise AssertionError(f"{module.__name__}.main() returned instead of exiting")
    printed = out.getvalue()
    try:
        result = json.loads(printed)
    except ValueError:
        raise AssertionError(f"{module.__name__} printed something that is not JSON: {printed[:2000]!r}") from None
    assert isinstance(result, dict), f"{module.__name__} printed JSON that is not an object: {printed[:2000]!r}"
    rc = 0 if code is None else code
    assert rc in (0, 1), f"{module.__name__} exited with {code!r}"
    assert isinstance(rc, int)
    return rc, result, printed


def run(module: ModuleType, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The module's exit code and the JSON result it printed."""
    rc, result, _printed = run_printed(module, args)
    return rc, result


def call(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """The JSON result the module printed, with its exit code added as ``rc``."""
    rc, result = run(module, args)
    result["rc"] = rc
    return result


def dump(store: Store | str | os.PathLike[str]) -> list[str]:
    """Every table of a store as SQL (``iterdump``), to show that a call changed nothing.

    Given an open ``Store``, its own connection is read (what it sees inside a transaction included);
    given a path, a new connection.
    """
    if isinstance(store, Store):
        return list(store.conn.iterdump())
    conn = sqlite3.connect(os.fspath(store))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def tables(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every row of every table (``sqlite_sequence`` too), the schema, and the header's ``user_version`` and
    ``application_id``: what "the store reads as" means. The connection is query-only rather than
    read-only, so that closing it removes the -wal and -shm files it opened (a read-only one cannot)."""
    conn = sqlite3.connect(os.fspath(path), isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out: dict[str, Any] = {
            name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in names
        }
        schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        out["#schema"] = sorted(schema, key=repr)
        out["#user_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
        out["#application_id"] = conn.execute("PRAGMA application_id").fetchone()[0]
        return out
    finally:
        conn.close()


def ok(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    rc, data = result
    assert rc == 0, data
    return data


def failed(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    rc, data = result
    assert rc == 1 and data["failed"] is True, data
    return data


def folder_snapshot(folder: Path) -> dict[str, Any]:
    """Every entry under ``folder``: type, mode, owner, size, mtime and bytes of regular files."""
    snap: dict[str, Any] = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            full = Path(root, name)
            st = os.lstat(full)
            entry: dict[str, Any] = {
                "mode": st.st_mode,
                "uid": st.st_uid,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
            }
            if stat.S_ISREG(st.st_mode):
                entry["bytes"] = full.read_bytes()
            snap[str(full.relative_to(folder))] = entry
    return snap
