# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet scale (issue 14): F scale sets of N instances on automatic OS upgrade, one new image, every run to its end.

For each size, one fresh child process (so peak RSS is the size's own):
  create   publishes the base image, then creates each scale set and enables automatic OS upgrade on
           it, one store transaction per scale set (as a playbook loop of `vmss` + `vmss_upgrade_policy`
           would); moves the clock past the platform's first-rollout delay. Timed: the whole creation.
  advance  publishes the new image, then `sim_clock` advances PT12H at a time until no run is active.
           Timed: the advances (each one transaction, COMMIT included).
  floor    the least work the same outcome needs on this machine, measured in the same child on a copy
           of the store as it was before the advance: the instance rows read as plain tuples, each
           instance's transitions (reimage, boot, health, done) as a tight loop over tuples, the new
           image version put into each row's stored text, one `executemany` of the changed rows, COMMIT.
Every engine figure is reported as a multiple of that floor, and the cost's growth as a fitted exponent
against the number of scale sets (fixed size) and against the size (fixed number of scale sets).

Each size up to 100,000 instances runs --repeats times (default 3), each time in fresh processes, and its
figures are the medians: on this shared VM one minute can be 20% slower than the next, which a single run
put straight into the fitted exponents. Sizes up to 10,000 instances run --repeats-small times (default 7):
their advance takes tens of milliseconds, where one slow moment is a large share, and the smallest size
weighs as much as the largest in an exponent's fit (10 x 100 once measured 33 ms, once 40 ms: 1.075 or 1.02).
Sizes beyond 100,000 run once (1,000 x 1,000 takes minutes).

    python bench/fleet.py [--grid default|quick|full] [--sizes 10x100,100x100] [--repeats 3] [--repeats-small 7]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common as c

# Ubuntu 22.04 is on Azure's list of images automatic OS upgrade supports (azure-behaviour §2).
IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-LTS"}
BASE, TARGET = "22.04.202501010", "22.04.202502010"
PROBABILITY = 0.01
REPEATED_UP_TO = 100_000  # instances: larger sizes run once
SMALL_UP_TO = 10_000  # instances: these sizes run --repeats-small times
GRIDS = {
    "quick": ("10x100", "100x100", "100x10", "100x1000"),
    # Sizes of the table, then the two series the exponents are fitted on.
    "default": ("10x100", "100x100", "1000x100", "100x10", "100x1000", "1000x1000"),
    "full": ("10x100", "100x100", "300x100", "1000x100", "100x10", "100x300", "100x1000", "1000x1000"),
}


def _image(version: str) -> c.Params:
    return c.Params(IMAGE, location="eastus", version=version, state="present")


def _scale_set(index: int, n: int) -> c.Params:
    params = c.vmss_params(n, zones=(), probability=PROBABILITY)
    params.update(
        name=f"vmss{index:04d}",
        image={**IMAGE, "version": "latest", "id": None},
        instances=[f"s{index:04d}-{i:04d}" for i in range(n)],
    )
    return params


def _policy(index: int) -> c.Params:
    return c.Params(
        resource_group=c.RESOURCE_GROUP, name=f"vmss{index:04d}", mode="Rolling", automatic_os_upgrade={"enabled": True}
    )


def _active_runs(store: Any) -> int:
    row = store.conn.execute(
        "SELECT count(*) FROM runs WHERE json_extract(doc, '$.status') IN ('RollingForward', 'Cancelling')"
    ).fetchone()
    return int(row[0])


def child_create(f: int, n: int, path: Path) -> dict[str, Any]:
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set

    store = c.fresh_store(path)
    t0 = time.perf_counter()
    with store.transaction():
        c.act(publish_image, store, _image(BASE))
    for index in range(f):
        with store.transaction():
            c.act(ensure_scale_set, store, _scale_set(index, n))
            c.act(set_upgrade_policy, store, _policy(index))
    with store.transaction():
        c.act(move_clock, store, c.Params(advance="PT4H"))
    seconds = time.perf_counter() - t0
    store.close()
    return {"create_s": seconds, "create_maxrss_mb": c.maxrss_mb()}


def child_advance(path: Path) -> dict[str, Any]:
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    store = Store.open(str(path))
    t0 = time.perf_counter()
    with store.transaction():
        c.act(publish_image, store, _image(TARGET))
    counts: dict[str, int] = {}
    advances = 0
    while True:
        with store.transaction():
            events = c.act(move_clock, store, c.Params(advance="PT12H"))["events"]
        advances += 1
        for event in events:
            counts[event["type"]] = counts.get(event["type"], 0) + 1
        if not _active_runs(store) or advances >= 10:
            break
    seconds = time.perf_counter() - t0
    outcome = {
        row[0]: row[1]
        for row in store.conn.execute(
            "SELECT json_extract(doc, '$.status'), count(*) FROM runs GROUP BY json_extract(doc, '$.status')"
        )
    }
    store.close()
    return {"advance_s": seconds, "advances": advances, "events": counts, "runs": outcome, "maxrss_mb": c.maxrss_mb()}


def floor(path: Path) -> dict[str, Any]:
    """The least work the same outcome needs: see the module docstring. Runs on a copy of the store."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rows = conn.execute("SELECT scale_set, instance_id, doc FROM instances ORDER BY scale_set, instance_id").fetchall()
    draw = random.Random(c.SEED).random
    changed = []
    transitions = 0
    by_set: dict[str, list[tuple[str, int, str]]] = {}
    for row in rows:
        by_set.setdefault(row[0], []).append(row)
    for members in by_set.values():
        batch = max(1, len(members) // 5)  # Azure's default batch: 20% (azure-behaviour §5)
        for start in range(0, len(members), batch):
            for key, instance_id, doc in members[start : start + batch]:
                state = (key, instance_id, "Updating", BASE)
                state = (key, instance_id, "Booting", TARGET)
                healthy = draw() >= PROBABILITY
                state = (key, instance_id, "Healthy" if healthy else "Unhealthy", TARGET)
                if not healthy:
                    state = (key, instance_id, "Healthy", BASE)  # rolled back
                transitions += 4
                changed.append((doc.replace(BASE, state[3]), key, instance_id))
    conn.executemany("UPDATE instances SET doc = ? WHERE scale_set = ? AND instance_id = ?", changed)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return {"floor_s": seconds, "floor_rows": len(changed), "floor_transitions": transitions}


def child(f: int, n: int) -> dict[str, Any]:
    path = c.OUT / f"fleet-{f}x{n}.sqlite"
    copy = c.OUT / f"fleet-{f}x{n}-floor.sqlite"
    spawned = {**spawn("--child-create", f"{f}x{n}", str(path))}
    c.copy_store(path, copy)
    spawned.update(spawn("--child-advance", f"{f}x{n}", str(path)))
    spawned.update(floor(copy))
    for store in (path, copy):
        c.remove_store(store)
    return spawned


def spawn(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"fleet.py {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def parse_size(text: str) -> tuple[int, int]:
    f, dummy, n = text.partition("x")
    return int(f), int(n)


def exponents(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fitted exponents of the advance time: against F at the most common N, and against N at the most common F."""
    out: dict[str, Any] = {}
    for axis, fixed in (("f", "n"), ("n", "f")):
        values = [r[fixed] for r in rows]
        common = max(set(values), key=values.count) if values else None
        points = sorted((r[axis], r["advance_s"]) for r in rows if r[fixed] == common)
        if len({p[0] for p in points}) >= 2:
            out[f"against_{axis}"] = {
                f"at_{fixed}": common,
                "points": points,
                "exponent": c.fit_exponent(points),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", choices=sorted(GRIDS), default="default")
    parser.add_argument("--sizes", help="comma-separated FxN, instead of the grid")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each size up to 100,000 instances")
    parser.add_argument("--repeats-small", type=int, default=7, help="runs of each size up to 10,000 instances")
    parser.add_argument("--child-create", nargs=2, metavar=("FxN", "STORE"))
    parser.add_argument("--child-advance", nargs=2, metavar=("FxN", "STORE"))
    args = parser.parse_args()
    if args.child_create:
        print(json.dumps(child_create(*parse_size(args.child_create[0]), Path(args.child_create[1]))))
        return
    if args.child_advance:
        print(json.dumps(child_advance(Path(args.child_advance[1]))))
        return
    c.import_collection()
    sizes = [parse_size(s) for s in (args.sizes.split(",") if args.sizes else GRIDS[args.grid])]
    rows = []
    for f, n in sizes:
        c.log(f"fleet {f} x {n} ...")
        repeats = args.repeats_small if f * n <= SMALL_UP_TO else args.repeats if f * n <= REPEATED_UP_TO else 1
        samples = [child(f, n) for _rep in range(repeats)]
        for sample in samples:
            sample["advance_over_floor"] = sample["advance_s"] / sample["floor_s"]
        row = {"f": f, "n": n, "instances": f * n, "repeats": len(samples), **samples[0]}
        for key in ("create_s", "advance_s", "floor_s", "advance_over_floor", "maxrss_mb"):
            row[key] = c.median([sample[key] for sample in samples])
        c.log(
            f"  create {row['create_s']:.2f}s, advance {row['advance_s']:.2f}s ({row['advance_over_floor']:.1f}x floor"
            f" {row['floor_s']:.3f}s), peak RSS {row['maxrss_mb']:.0f} MB, runs {row['runs']}"
        )
        rows.append(row)
    data = {"machine": c.machine(), "source": c.source_state(), "rows": rows, "exponents": exponents(rows)}
    path = c.write_json("fleet.json", data)
    print(json.dumps(data["exponents"], indent=1))
    c.log(f"wrote {path}")


if __name__ == "__main__":
    main()
