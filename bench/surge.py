# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One full manual rolling OS upgrade with and without maxSurge, on the scale set engine.py builds.

maxSurge creates an instance per upgraded one and deletes the old one (azure-behaviour-2 MS-3), so a run
writes twice the instance rows and replaces every id; this measures what that costs against the same run
in place. For each N and each repeat, one fresh store per mode, built as engine.py builds it (zones 1-3,
1% boot_unhealthy faults, seed 7); maxSurge is set through vmss_upgrade_policy's core. Timed: the
run's transaction, COMMIT included. Prints one JSON line per N with the median seconds of each mode.

    python bench/surge.py [--sizes 1000,10000,30000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import _common as c


def one_run(n: int, surge: bool, label: str) -> float:
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import os_rolling_upgrade

    path = c.OUT / f"surge-{label}-{n}.sqlite"
    c.build_store_file(path, n)
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    store = Store.open(str(path))
    try:
        if surge:
            params: dict[str, Any] = {
                "resource_group": c.RESOURCE_GROUP,
                "name": c.NAME,
                "mode": None,
                "automatic_os_upgrade": None,
                "rolling_upgrade_policy": {"max_surge": True},
            }
            with store.transaction():
                c.act(set_upgrade_policy, store, params)
        t0 = time.perf_counter()
        with store.transaction():
            result = c.act(os_rolling_upgrade, store, c.rolling_params())
        seconds = time.perf_counter() - t0
        props = result["rolling_upgrade"]["properties"]
        assert props["runningStatus"]["code"] == "Completed" and props["policy"]["maxSurge"] is surge
        return seconds
    finally:
        store.close()
        c.remove_store(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    c.OUT.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        in_place = statistics.median(one_run(n, False, "in-place") for dummy in range(args.repeats))
        surged = statistics.median(one_run(n, True, "surge") for dummy in range(args.repeats))
        print(
            json.dumps(
                {
                    "n": n,
                    "in_place_s": round(in_place, 3),
                    "max_surge_s": round(surged, 3),
                    "ratio": round(surged / in_place, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
