# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module end to end: one vmss_os_rolling_upgrade task (wait: true), vmss_info and vmss_upgrade_history
against ansible.builtin.ping, both ways into a module.

For each N, a store is built in-process (scale set of N instances, zones 1-3, 1% faults, image 1.1.0
published), then bench/playbooks/module_vs_ping.yml runs on a fresh copy of it: ping, the upgrade,
the scale set's info and its upgrade history (the reads of a set of N instances after the run), ping,
all on localhost (connection local). bench/callback_plugins/bench_timer.py records each
task's duration (task start to its result). The baseline is the ping task of the same playbook run
(the mean of the two pings, before and after); the figure is the upgrade task's duration divided by
it, median over the repeats; the reads likewise (info_ratio, history_ratio).

The figures of record are the default way, as a user gets them: the collection's action plugin runs the module's
main() inside Ansible's worker (plugins/plugin_utils/_module_action.py). Each repeat also runs the same playbook
with ``-e azsim_vmss_in_process=false`` on a fresh copy of the store: the module as its own process (AnsiballZ), as
before the action plugins (row["process"]), for what the action plugin saves.

Unless --no-py-spy, py-spy records the playbook at the largest N once each way: the default way's forked worker
that ran the upgrade (imports, validation, store, core, glue, result shaping, Ansible around the action), and the
process way's module process and its worker.

    python bench/module_vs_ping.py [--sizes 10,100,1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import _common as c

SIZES = (10, 100, 1_000)
PLAYBOOK = c.BENCH / "playbooks" / "module_vs_ping.yml"
# py-spy pauses the process it samples: faster than 200 Hz it slows the imports (compiling) several times over.
# The worker way's task is short (a few hundred ms), so its playbook is recorded SPY_RUNS times and the samples summed.
RATE_HZ = {"worker_way": 200, "process_way": 200}
SPY_RUNS = {"worker_way": 3, "process_way": 1}


PROCESS_WAY = {"azsim_vmss_in_process": False}  # the variable that makes the action plugin run the module's process
TASK = "rolling upgrade"

# Where a sample goes: the first rule with a frame on the sample's stack that starts with (or, for a "(" marker,
# holds) its marker. The default way: the forked worker of ansible-playbook that ran the task, which imports the
# module and calls its main() through the action plugin (plugins/plugin_utils/_module_action.py).
WORKER_WAY_RULES: tuple[tuple[str, str], ...] = (
    # ansible-core's collection loader compiles a collection's .py from source on every import (it keeps no
    # bytecode), and each task's worker is forked afresh from a main process that has not imported the module.
    (
        "imports: compiling the collection's source (the collection loader keeps no bytecode)",
        "_AnsibleCollectionPkgLoaderBase.get_code (",
    ),
    ("imports: the rest (executing the modules, finding them; jsonschema)", "_find_and_load ("),
    ("argument validation (WorkerModule: ArgumentSpecValidator)", "WorkerModule.__init__ ("),
    ("result shaping (exit_json: masking, JSON round trip)", "WorkerModule.exit_json ("),
    ("result shaping (exit_json: masking, JSON round trip)", "WorkerModule.fail_json ("),
    ("the store (open, reads, writes, commit, close)", "(module_utils/_store/"),
    ("the core (the action, the engine, the model)", "(module_utils/_actions/"),
    ("the glue (AzsimModule: names, options, changed/diff)", "AzsimModule."),
    ("the action plugin's own work (ActionBase.run, the arguments, the environment)", ""),
)
AROUND_THE_ACTION = (
    "Ansible's worker around the action (TaskExecutor: templating, connection, result to the main process)"
)
WORKER_START_EXIT = "the worker's start and exit (fork, before and after TaskExecutor)"
# The process way (azsim_vmss_in_process: false): the module's own process (AnsiballZ) and the worker that starts it.
# Python shortens the module_utils' file names inside the AnsiballZ zip (no package part), so these go by function.
MODULE_RULES: tuple[tuple[str, str], ...] = (
    ("imports (from the AnsiballZ zip)", "_find_and_load ("),
    ("argument validation (AnsibleModule.__init__)", "AnsibleModule.__init__ ("),
    ("exit_json (result checks, JSON)", "AnsibleModule.exit_json ("),
    ("the store transaction and the action (AzsimModule.run)", "AzsimModule.run ("),
)
WORKER_RULES: tuple[tuple[str, str], ...] = (
    ("AnsiballZ build (modify_module)", "modify_module ("),
    ("running the module (connection local)", "_low_level_execute_command ("),
)
# In ansible-playbook's main process, before the task's start (so outside every task's time): the strategy loads
# the task's action plugin, the first of the collection's importing the glue (_module_action.py) once per playbook.
PLUGIN_LOAD_MARKER = "PluginLoader.get ("


def _share(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


def _kind(rules: tuple[tuple[str, str], ...], own: list[str]) -> str:
    if not own:
        return "interpreter start-up and exit (no Python frame)"
    for label, marker in rules:
        if not marker:
            return label
        if marker.startswith("("):
            if any(marker in f for f in own):
                return label
        elif any(f.startswith(marker) for f in own):
            return label
    return "other"


Stack = tuple[list[int], list[str], int]


def _record(store: Any, inventory: Any, extra_vars: dict[str, Any] | None, tag: str) -> tuple[list[Stack], Any] | str:
    """py-spy over one whole ansible-playbook run (subprocesses too): its stacks, and the tasks' timings."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "py-spy"
    if not exe.exists():
        exe = Path(shutil.which("py-spy") or "/nonexistent")
    if not exe.exists():
        return "py-spy is not installed"
    out = c.OUT / f"module-{tag}.py-spy.txt"
    timings = c.OUT / f"module-spy-{tag}.timings.json"
    cmd = [
        str(exe),
        "record",
        "--subprocesses",
        "--rate",
        str(RATE_HZ[tag]),
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
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    env = c.ansible_env(AZSIM_VMSS_STORE=str(store), BENCH_TIMINGS=str(timings))
    proc = subprocess.run(cmd, cwd=str(c.ROOT), env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.exists():
        return f"py-spy could not sample ({proc.returncode}): {(proc.stderr or proc.stdout)[-400:]}"
    stacks: list[Stack] = []
    for line in out.read_text().splitlines():
        stack, _sep, samples = line.rpartition(" ")
        frames = stack.split(";")
        stacks.append(([i for i, f in enumerate(frames) if f.startswith("process ")], frames, int(samples)))
    spied = json.loads(timings.read_text()) if timings.exists() else {}
    task_s = next((t["duration_s"] for t in spied.get("tasks", []) if t["name"] == TASK), None)
    return stacks, task_s


def _worker_way(stacks: list[Stack], task_s: Any, runs: int) -> dict[str, Any]:
    """The default way: the samples of the forked worker that ran the upgrade task, by kind."""
    # That worker is the one that imported the module (each task's worker is forked afresh from the main process,
    # which never imports a module: so the module's name is on the stacks of that worker only).
    workers = {
        frames[procs[-1]]
        for procs, frames, _count in stacks
        if len(procs) == 2 and any("(vmss_os_rolling_upgrade.py:" in f for f in frames[procs[-1] + 1 :])
    }
    worker: dict[str, int] = {}
    plugin_load = 0
    for procs, frames, count in stacks:
        own = frames[procs[-1] + 1 :]
        if len(procs) == 1:
            if any(f.startswith(PLUGIN_LOAD_MARKER) for f in own) and any("_module_action.py" in f for f in own):
                plugin_load += count
            continue
        if frames[procs[-1]] not in workers:
            continue
        if not any(f.startswith("TaskExecutor.run (") for f in own):
            kind = WORKER_START_EXIT
        elif not any(f.startswith("ModuleAction.run (") for f in own):
            kind = AROUND_THE_ACTION
        else:
            kind = _kind(WORKER_WAY_RULES, own)
        worker[kind] = worker.get(kind, 0) + count
    if not worker:
        return {"error": "py-spy recorded no sample of the worker that ran the task in-process"}
    return {
        "worker": _share(worker),
        "worker_samples": sum(worker.values()),
        "rate_hz": RATE_HZ["worker_way"],
        "runs": runs,
        "worker_s": sum(worker.values()) / RATE_HZ["worker_way"] / runs,  # per run
        "workers": len(workers),
        "plugin_load_s": plugin_load / RATE_HZ["worker_way"] / runs,
        "task_s_under_py_spy": task_s,  # the median over the runs
    }


def _process_way(stacks: list[Stack], task_s: Any, runs: int) -> dict[str, Any]:
    """The process way: the module's own process, and the worker that built and started it, by kind."""
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
        kind = _kind(kinds, own)
        target[kind] = target.get(kind, 0) + count
    if not module:
        return {"error": "py-spy recorded no sample of the module's process"}
    return {
        "rate_hz": RATE_HZ["process_way"],
        "runs": runs,
        "module_process": _share(module),
        "module_samples": sum(module.values()),
        "worker_process": _share(worker),
        "worker_samples": sum(worker.values()),
        "task_s_under_py_spy": task_s,
    }


def where_the_task_goes(template: Any, inventory: Any) -> dict[str, Any]:
    """The upgrade task's samples by kind, both ways, each on a fresh copy of the store."""
    out: dict[str, Any] = {}
    for way, extra_vars, breakdown in (
        ("worker_way", None, _worker_way),
        ("process_way", PROCESS_WAY, _process_way),
    ):
        stacks: list[Stack] = []
        task_s: list[float] = []
        error = ""
        for _run in range(SPY_RUNS[way]):
            store = c.OUT / f"module-spy-{way}.sqlite"
            c.copy_store(template, store)
            got = _record(store, inventory, extra_vars, way)
            c.remove_store(store)
            if isinstance(got, str):
                error = got
                break
            stacks += got[0]
            task_s += [got[1]] if got[1] is not None else []
        median_s = c.median(task_s) if task_s else None
        out[way] = {"error": error} if error else breakdown(stacks, median_s, SPY_RUNS[way])
    return out


def one_run(store: Any, inventory: Any, n: int, extra_vars: dict[str, Any] | None) -> dict[str, Any]:
    """One playbook run: the upgrade, the two reads and the pings, each against the mean of the two pings."""
    way = "process" if extra_vars else "worker"
    timings = c.run_playbook(
        PLAYBOOK, inventory, c.OUT / f"module-{n}-{way}.timings.json", extra_vars, AZSIM_VMSS_STORE=str(store)
    )
    upgrade = [t for t in timings["tasks"] if t["name"] == TASK][0]
    if "changed" not in upgrade["results"]:
        raise SystemExit(f"the upgrade task did not report changed ({way} way): {upgrade}")
    pings = [c.task_seconds(timings, "ping before"), c.task_seconds(timings, "ping after")]
    ping = sum(pings) / 2
    info, history = c.task_seconds(timings, "scale set info"), c.task_seconds(timings, "upgrade history")
    return {
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


MEDIANS = ("upgrade_s", "ping_s", "ratio", "info_s", "info_ratio", "history_s", "history_ratio")


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
    process: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    for rep in range(args.repeats):
        for n in sizes:
            # Both ways on fresh copies of the same store, one after the other, so that both see the same machine.
            store = c.OUT / f"module-{n}.sqlite"
            for extra_vars, target in ((None, samples), (PROCESS_WAY, process)):
                c.copy_store(templates[n], store)
                target[n].append(one_run(store, inventory, n, extra_vars))
                c.remove_store(store)
            w, p = samples[n][-1], process[n][-1]
            c.log(
                f"module N={n:>5} rep {rep + 1}/{args.repeats}: upgrade {w['upgrade_s'] * 1000:.0f}ms, "
                f"ping {w['ping_s'] * 1000:.0f}ms, ratio {w['ratio']:.2f}; info {w['info_ratio']:.2f}, "
                f"history {w['history_ratio']:.2f} | process way: upgrade {p['upgrade_s'] * 1000:.0f}ms, ratio "
                f"{p['ratio']:.2f}; info {p['info_ratio']:.2f}, history {p['history_ratio']:.2f}"
            )
    rows = [
        {
            "n": n,
            **{k: c.median([s[k] for s in samples[n]]) for k in MEDIANS},
            "samples": samples[n],
            "process": {**{k: c.median([s[k] for s in process[n]]) for k in MEDIANS}, "samples": process[n]},
        }
        for n in sizes
    ]
    breakdown = None
    if not args.no_py_spy:
        n = max(sizes)
        breakdown = where_the_task_goes(templates[n], inventory)
        w, p = breakdown["worker_way"], breakdown["process_way"]
        c.log(
            f"module_vs_ping py-spy N={n}: worker way {w.get('error') or w['worker']}"
            f"; process way {p.get('error') or p['module_process']}"
        )
    for template in templates.values():
        c.remove_store(template)
    path = c.write_json(
        "module_vs_ping.json",
        {"sizes": sizes, "repeats": args.repeats, "rows": rows, "breakdown": breakdown, "breakdown_n": max(sizes)},
    )
    c.log(f"module_vs_ping: wrote {path}")


if __name__ == "__main__":
    main()
