# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet creation through Ansible (issue 14 item 4): F scale sets made by one playbook with a loop.

bench/playbooks/fleet_create.yml runs on a fresh store, on the controller (connection local): a loop of
`ansible.builtin.ping` over min(F, 100) items (Ansible's own cost per item of a looped module task:
the baseline), a loop of `ansible.builtin.debug` as long (Ansible's own cost per item of an action that runs in
the task's worker, without a process), the base image, then a loop of `vmss` and a loop of `vmss_upgrade_policy`
over the F scale sets of N instances, as a user would write it. bench/callback_plugins/bench_timer.py times each task.

Both ways into a module: the default way (--sizes, the figures of record: the collection's action plugin runs each
item's module main() inside the task's worker), measured at the size of the target, and the module as its own
process (--process-sizes, `-e azsim_vmss_in_process=false`, one AnsiballZ process per item, as before the action
plugins) at a small size, for the per-item comparison.

The core figure is bench/fleet.py's *create* for the same F x N, in a fresh process (the same work,
one transaction per scale set, without Ansible). Reported: the playbook's creation (the two loops
and the image), the core's, their quotient, and each loop's cost per item against the ping loop's.

    python bench/fleet_playbook.py [--sizes 1000x10] [--process-sizes 20x10] [--repeats 1]
"""

from __future__ import annotations

import argparse
from typing import Any

import _common as c
import fleet

PLAYBOOK = c.BENCH / "playbooks" / "fleet_create.yml"
SIZES = ("1000x10",)  # the target's size, measured directly (the ping loop stays capped at PING_ITEMS)
PROCESS_SIZES = ("20x10",)  # a process per item: a small fleet gives the per-item costs
PROCESS_WAY = {"azsim_vmss_in_process": False}
PING_ITEMS = 100  # the playbook's ping_count: at most this many
CREATE_TASKS = ("base image", "scale sets", "automatic OS upgrade")


def one_run(f: int, n: int, inventory: Any, extra_vars: dict[str, Any]) -> dict[str, Any]:
    way = "process" if extra_vars else "worker"
    store = c.OUT / f"fleet-playbook-{f}x{n}-{way}.sqlite"
    c.remove_store(store)
    timings = c.run_playbook(
        PLAYBOOK,
        inventory,
        c.OUT / f"fleet-playbook-{f}x{n}-{way}.timings.json",
        extra_vars={"count": f, "size": n, **extra_vars},
        AZSIM_VMSS_STORE=str(store),
    )
    c.remove_store(store)
    for task in ("scale sets", "automatic OS upgrade"):
        got = [t for t in timings["tasks"] if t["name"] == task][0]["results"]
        if got.get("failed") or not got.get("changed"):
            raise SystemExit(f"the task {task!r} did not change every scale set: {got}")
    ping = c.task_seconds(timings, "ping loop") / min(f, PING_ITEMS) * f  # as if F items long
    debug = c.task_seconds(timings, "debug loop") / min(f, PING_ITEMS) * f
    vmss = c.task_seconds(timings, "scale sets")
    policy = c.task_seconds(timings, "automatic OS upgrade")
    return {
        "create_s": sum(c.task_seconds(timings, t) for t in CREATE_TASKS),
        "ping_loop_s": ping,
        "debug_loop_s": debug,
        "vmss_loop_s": vmss,
        "policy_loop_s": policy,
        "vmss_item_over_ping": vmss / ping,
        "policy_item_over_ping": policy / ping,
        "playbook_s": timings["playbook_s"],
    }


def measure(sizes: str, inventory: Any, repeats: int, extra_vars: dict[str, Any]) -> list[dict[str, Any]]:
    way = "process way" if extra_vars else "default way"
    rows = []
    for f, n in (fleet.parse_size(s) for s in sizes.split(",") if s):
        samples = []
        for rep in range(repeats):
            sample = one_run(f, n, inventory, extra_vars)
            # The core's creation of the same fleet, in a fresh process as bench/fleet.py measures it.
            path = c.OUT / f"fleet-playbook-core-{f}x{n}.sqlite"
            sample["core_create_s"] = fleet.spawn("--child-create", f"{f}x{n}", str(path))["create_s"]
            c.remove_store(path)
            sample["playbook_over_core"] = sample["create_s"] / sample["core_create_s"]
            samples.append(sample)
            c.log(
                f"fleet playbook ({way}) {f} x {n} rep {rep + 1}/{repeats}: create {sample['create_s']:.1f}s "
                f"(core {sample['core_create_s']:.2f}s, {sample['playbook_over_core']:.0f}x); per item: ping "
                f"{sample['ping_loop_s'] / f * 1000:.0f}ms, debug {sample['debug_loop_s'] / f * 1000:.1f}ms, "
                f"vmss {sample['vmss_loop_s'] / f * 1000:.0f}ms "
                f"({sample['vmss_item_over_ping']:.2f}x), policy {sample['policy_loop_s'] / f * 1000:.0f}ms "
                f"({sample['policy_item_over_ping']:.2f}x)"
            )
        row: dict[str, Any] = {"f": f, "n": n, "samples": samples}
        for key in samples[0]:
            row[key] = c.median([s[key] for s in samples])
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default=",".join(SIZES), help="comma-separated FxN (scale sets x instances), the default way"
    )
    parser.add_argument(
        "--process-sizes",
        default=",".join(PROCESS_SIZES),
        help="comma-separated FxN, the module as its own process (azsim_vmss_in_process=false); empty: none",
    )
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    c.import_collection()
    inventory = c.local_inventory(c.OUT / "controller.ini", ["localhost"], group="controller")
    rows = measure(args.sizes, inventory, args.repeats, {})
    process_rows = measure(args.process_sizes, inventory, args.repeats, PROCESS_WAY)
    path = c.write_json(
        "fleet_playbook.json",
        {"machine": c.machine(), "source": c.source_state(), "rows": rows, "process_rows": process_rows},
    )
    c.log(f"fleet_playbook: wrote {path}")


if __name__ == "__main__":
    main()
