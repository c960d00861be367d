# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module's AnsiballZ payload holds: the source a module costs at every call (issue 14 items 3, 4).

The controller walks every module_utils file a module names in an import (function-level ones too),
parses each one and packs it (ansible-core's ``recursive_finder``, the part of ``modify_module`` that
dominates a task's worker); the module's process then compiles, from source, each packed file it imports,
since the zip keeps no bytecode. So what a call costs beyond a `ping` grows with the collection source
its module packs. This counts it with ansible-core's own walk, so it is exact and does not depend on the
machine's load, unlike the timings of bench/module_vs_ping.py: compare it between two commits.

    python bench/module_payload.py [--modules vmss_info,vmss_upgrade_history] [--files]
"""

from __future__ import annotations

import argparse
import datetime
import io
import zipfile
from typing import Any

import _common as c

MODULES_DIR = c.BUILD / "ansible_collections" / "azsim" / "vmss" / "plugins" / "modules"
COLLECTION = "ansible_collections/azsim/vmss/"


def payload(module: str) -> dict[str, Any]:
    """The files ansible-core packs for ``module``, split into the collection's and ansible-core's."""
    # Imported after init_plugin_loader (main): the walk finds the collection's files through it.
    from ansible._internal._datatag._tags import Origin
    from ansible.executor.module_common import _builder, recursive_finder

    path = MODULES_DIR / f"{module}.py"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as packed:
        recursive_finder(
            module,
            f"ansible_collections.azsim.vmss.plugins.modules.{module}",
            Origin(path=str(path)).tag(path.read_bytes()),
            packed,
            datetime.datetime(2025, 1, 1),
            _builder.ExtensionManager.create(task_vars={}),
        )
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as packed:
        ours = {i.filename[len(COLLECTION) :]: packed.read(i) for i in packed.infolist() if COLLECTION in i.filename}
        core = [i for i in packed.infolist() if COLLECTION not in i.filename]
    return {
        "module": module,
        "files": len(ours),
        "bytes": sum(len(data) for data in ours.values()),
        "lines": sum(data.count(b"\n") for data in ours.values()),
        "ansible_core_files": len(core),
        "ansible_core_bytes": sum(i.file_size for i in core),
        "by_file": {name: len(data) for name, data in sorted(ours.items(), key=lambda kv: -len(kv[1]))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", help="comma-separated module names (default: every module)")
    parser.add_argument("--files", action="store_true", help="list each module's packed files, largest first")
    args = parser.parse_args()
    c.import_collection()
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(c.BUILD)])
    names = args.modules.split(",") if args.modules else sorted(p.stem for p in MODULES_DIR.glob("[!_]*.py"))
    rows = [payload(name) for name in names]
    for row in rows:
        c.log(
            f"{row['module']:32} {row['files']:3} files {row['bytes'] / 1024:6.0f} KiB {row['lines']:6} lines "
            f"(ansible-core: {row['ansible_core_files']} files {row['ansible_core_bytes'] / 1024:.0f} KiB)"
        )
        if args.files:
            for name, size in row["by_file"].items():
                c.log(f"    {size:7} {name}")
    path = c.write_json("module_payload.json", {"rows": rows})
    c.log(f"module_payload: wrote {path}")


if __name__ == "__main__":
    main()
