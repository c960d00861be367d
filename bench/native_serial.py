# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Against the native way: the same rollout as an Ansible ``serial: "20%"`` play over N local hosts.

Native: bench/playbooks/native_serial.yml over an inventory of N hosts (connection local), serial
20%, max_fail_percentage 20, one ansible.builtin.ping per host, Ansible's default forks (5).
Ours: bench/playbooks/rolling_upgrade_task.yml, the one vmss_os_rolling_upgrade task over a scale
set of the same N instances (zones 1-3, 1% faults), run the default way: connection local, so the collection's
action plugin calls the module's main() inside the task's worker (no module process; bench/module_vs_ping.py
measures both ways). Both timed by bench/callback_plugins/bench_timer.py
from the playbook's start to its stats (Ansible's start-up and inventory parsing left out of both),
and our task alone. The figure is native / ours, median over the repeats; each repeat runs both.

    python bench/native_serial.py [--sizes 50,200] [--repeats 3]
"""

from __future__ import annotations

import argparse
from typing import Any

import _common as c

SIZES = (50, 200)
NATIVE = c.BENCH / "playbooks" / "native_serial.yml"
OURS = c.BENCH / "playbooks" / "rolling_upgrade_task.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    c.import_collection()
    controller = c.local_inventory(c.OUT / "controller.ini", ["localhost"], group="controller")
    samples: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    templates = {}
    fleets = {}
    for n in sizes:
        templates[n] = c.OUT / f"native-{n}.template.sqlite"
        c.build_store_file(templates[n], n)
        fleets[n] = c.local_inventory(c.OUT / f"fleet-{n}.ini", [f"web-{i:06d}" for i in range(n)])

    for rep in range(args.repeats):
        for n in sizes:
            native = c.run_playbook(NATIVE, fleets[n], c.OUT / f"native-{n}.timings.json")
            batches = [t for t in native["tasks"] if t["name"] == "upgrade stand-in"]
            hosts = sum(sum(t["results"].values()) for t in batches)
            if hosts != n:
                raise SystemExit(f"the native play reached {hosts} hosts of {n}: {native}")
            store = c.OUT / f"native-{n}.sqlite"
            c.copy_store(templates[n], store)
            ours = c.run_playbook(OURS, controller, c.OUT / f"ours-{n}.timings.json", AZSIM_VMSS_STORE=str(store))
            c.remove_store(store)
            sample = {
                "native_playbook_s": native["playbook_s"],
                "native_process_s": native["process_s"],
                "native_batches": len(batches),
                "ours_playbook_s": ours["playbook_s"],
                "ours_task_s": c.task_seconds(ours, "rolling upgrade"),
                "ours_process_s": ours["process_s"],
            }
            sample["ratio"] = sample["native_playbook_s"] / sample["ours_playbook_s"]
            sample["ratio_vs_task"] = sample["native_playbook_s"] / sample["ours_task_s"]
            sample["ratio_process"] = sample["native_process_s"] / sample["ours_process_s"]
            samples[n].append(sample)
            c.log(
                f"native N={n:>4} rep {rep + 1}/{args.repeats}: serial play {native['playbook_s']:.2f}s "
                f"({len(batches)} batches), ours {ours['playbook_s']:.2f}s (task {sample['ours_task_s']:.2f}s), "
                f"ratio {sample['ratio']:.1f}"
            )
    for template in templates.values():
        c.remove_store(template)

    keys = (
        "native_playbook_s",
        "native_process_s",
        "ours_playbook_s",
        "ours_task_s",
        "ours_process_s",
        "ratio",
        "ratio_vs_task",
        "ratio_process",
        "native_batches",
    )
    rows = [{"n": n, **{k: c.median([s[k] for s in samples[n]]) for k in keys}, "samples": samples[n]} for n in sizes]
    path = c.write_json("native_serial.json", {"sizes": sizes, "repeats": args.repeats, "forks": 5, "rows": rows})
    c.log(f"native_serial: wrote {path}")


if __name__ == "__main__":
    main()
