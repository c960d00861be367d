# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module end to end: one vmss_os_rolling_upgrade task (wait: true), vmss_info and vmss_upgrade_history
against ansible.builtin.ping.

For each N, a store is built in-process (scale set of N instances, zones 1-3, 1% faults, image 1.1.0
published), then bench/playbooks/module_vs_ping.yml runs on a fresh copy of it: ping, the upgrade,
the scale set's info and its upgrade history (the reads of a set of N instances after the run), ping,
all on localhost (connection local). bench/callback_plugins/bench_timer.py records each
task's duration (task start to its result). The baseline is the ping task of the same playbook run
(the mean of the two pings, before and after); the figure is the upgrade task's duration divided by
it, median over the repeats; the reads likewise (info_ratio, history_ratio).

    python bench/module_vs_ping.py [--sizes 10,100,1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import _common as c

SIZES = (10, 100, 1_000)
PLAYBOOK = c.BENCH / "playbooks" / "module_vs_ping.yml"


# Where a sample of the module's own process goes: the first rule whose frame is on its stack.
MODULE_RULES: tuple[tuple[str, str], ...] = (
    ("the core (rolling_upgrade)", "rolling_upgrade (rolling_upgrade.py"),
    ("exit_json (result checks, JSON)", "AnsibleModule.exit_json ("),
    ("store open/close and glue", "AzsimModule.run ("),
    ("imports (from the AnsiballZ zip)", "_find_and_load ("),
)
WORKER_RULES: tuple[tuple[str, str], ...] = (
    ("AnsiballZ build (modify_module)", "modify_module ("),
    ("running the module (connection local)", "_low_level_execute_command ("),
)


def _share(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


def where_the_task_goes(store: Any, inventory: Any) -> dict[str, Any]:
    """py-spy over the whole ansible-playbook run (subprocesses too): the upgrade task's samples by kind."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "py-spy"
    if not exe.exists():
        exe = Path(shutil.which("py-spy") or "/nonexistent")
    if not exe.exists():
        return {"error": "py-spy is not installed"}
    out = c.OUT / "module.py-spy.txt"
    timings = c.OUT / "module-spy.timings.json"
    cmd = [
        str(exe),
        "record",
        "--subprocesses",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--",
        sys.executable,
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(inventory),
        str(PLAYBOOK),
    ]
    env = c.ansible_env(AZSIM_VMSS_STORE=str(store), BENCH_TIMINGS=str(timings))
    proc = subprocess.run(cmd, cwd=str(c.ROOT), env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.exists():
        return {"error": f"py-spy could not sample ({proc.returncode}): {(proc.stderr or proc.stdout)[-400:]}"}
    stacks: list[tuple[list[int], list[str], int]] = []
    for line in out.read_text().splitlines():
        stack, _sep, samples = line.rpartition(" ")
        frames = stack.split(";")
        stacks.append(([i for i, f in enumerate(frames) if f.startswith("process ")], frames, int(samples)))
    # The worker that ran the upgrade task is the process whose child chain leads to the module's process.
    workers: set[str] = set()
    for procs, frames, _count in stacks:
        chain = [frames[i] for i in procs]
        for i, name in enumerate(chain):
            if "AnsiballZ_vmss_os_rolling_upgrade" in name:
                workers.update(p for p in chain[:i] if "ansible-playbook" in p and p != chain[0])
                break
    module: dict[str, int] = {}
    worker: dict[str, int] = {}
    for procs, frames, count in stacks:
        name, own = frames[procs[-1]], frames[procs[-1] + 1 :]
        if "AnsiballZ_vmss_os_rolling_upgrade.py" in name and "/bin/sh" not in name:
            kinds, target = MODULE_RULES, module
        elif name in workers:
            kinds, target = WORKER_RULES, worker
        else:
            continue
        if not own:
            kind = "interpreter start-up and exit (no Python frame)"
        else:
            kind = next((label for label, marker in kinds if any(f.startswith(marker) for f in own)), "other")
        target[kind] = target.get(kind, 0) + count
    if not module:
        return {"error": "py-spy recorded no sample of the module's process"}
    spied = json.loads(timings.read_text()) if timings.exists() else {}
    return {
        "rate_hz": 200,
        "module_process": _share(module),
        "module_samples": sum(module.values()),
        "worker_process": _share(worker),
        "worker_samples": sum(worker.values()),
        "task_s_under_py_spy": next(
            (t["duration_s"] for t in spied.get("tasks", []) if t["name"] == "rolling upgrade"), None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-py-spy", action="store_true", help="skip the breakdown of the task at the largest N")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    c.import_collection()
    inventory = c.local_inventory(c.OUT / "controller.ini", ["localhost"], group="controller")
    templates = {}
    for n in sizes:
        templates[n] = c.OUT / f"module-{n}.template.sqlite"
        c.build_store_file(templates[n], n)

    samples: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    for rep in range(args.repeats):
        for n in sizes:
            store = c.OUT / f"module-{n}.sqlite"
            c.copy_store(templates[n], store)
            timings = c.run_playbook(
                PLAYBOOK, inventory, c.OUT / f"module-{n}.timings.json", AZSIM_VMSS_STORE=str(store)
            )
            upgrade = [t for t in timings["tasks"] if t["name"] == "rolling upgrade"][0]
            if "changed" not in upgrade["results"]:
                raise SystemExit(f"the upgrade task did not report changed: {upgrade}")
            pings = [c.task_seconds(timings, "ping before"), c.task_seconds(timings, "ping after")]
            ping = sum(pings) / 2
            info, history = c.task_seconds(timings, "scale set info"), c.task_seconds(timings, "upgrade history")
            sample = {
                "upgrade_s": upgrade["duration_s"],
                "ping_s": ping,
                "pings_s": pings,
                "ratio": upgrade["duration_s"] / ping,
                "info_s": info,
                "info_ratio": info / ping,
                "history_s": history,
                "history_ratio": history / ping,
                "playbook_s": timings["playbook_s"],
                "process_s": timings["process_s"],
            }
            samples[n].append(sample)
            c.log(
                f"module N={n:>5} rep {rep + 1}/{args.repeats}: upgrade {sample['upgrade_s'] * 1000:.0f}ms, "
                f"ping {ping * 1000:.0f}ms, ratio {sample['ratio']:.2f}; info {sample['info_ratio']:.2f}, "
                f"history {sample['history_ratio']:.2f}"
            )
            c.remove_store(store)
    for template in templates.values():
        c.remove_store(template)
    rows = [
        {
            "n": n,
            "upgrade_s": c.median([s["upgrade_s"] for s in samples[n]]),
            "ping_s": c.median([s["ping_s"] for s in samples[n]]),
            "ratio": c.median([s["ratio"] for s in samples[n]]),
            **{k: c.median([s[k] for s in samples[n]]) for k in ("info_s", "info_ratio", "history_s", "history_ratio")},
            "samples": samples[n],
        }
        for n in sizes
    ]
    breakdown = None
    if not args.no_py_spy:
        n = max(sizes)
        store = c.OUT / f"module-{n}.sqlite"
        c.build_store_file(store, n)
        breakdown = where_the_task_goes(store, inventory)
        c.remove_store(store)
        c.log(f"module_vs_ping py-spy N={n}: {breakdown.get('error') or breakdown['module_process']}")
    path = c.write_json(
        "module_vs_ping.json",
        {"sizes": sizes, "repeats": args.repeats, "rows": rows, "breakdown": breakdown, "breakdown_n": max(sizes)},
    )
    c.log(f"module_vs_ping: wrote {path}")


if __name__ == "__main__":
    main()
