# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parallel forks: ansible-playbook with 16 forks (and two ansible-playbook processes at once) against one store.

Every host of a generated inventory (16 local-connection hosts) drives, with ``delegate_to: localhost``,
four tasks against the same store: a policy change on its own scale set, a policy change on one scale
set that every host shares (each host sets a different field, so a lost read-modify-write shows as a
missing field), an OS rolling upgrade of its own scale set (``wait: true``, which moves the shared
virtual clock by the run's length), and a ``sim_clock`` advance of its own length.

The guarantee: every task succeeds (no "database is locked", no lock timeout) and the final store,
normalized so that the order in which the forks ran does not matter, equals what the same tasks give
one at a time (run in-process here, through each module's ``main()``). The virtual clock is also checked
by arithmetic: it moved by exactly the sum of the advances plus the sum of the runs' lengths.

Pipelining is on (``ANSIBLE_PIPELINING``) only to keep the file under a minute: it changes how the module
reaches its process, not what the processes do to the store.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vmss,
    vmss_os_rolling_upgrade,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import call

# Ansible-playbook with 16 forks: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

HOSTS = 16
RG = "rg-forks"
SHARED = "shared"
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
INSTANCES_PER_SET = 5
MODULES = {
    "vmss_upgrade_policy": vmss_upgrade_policy,
    "vmss_os_rolling_upgrade": vmss_os_rolling_upgrade,
    "sim_clock": sim_clock,
}
# One field of the shared scale set's policy per host (hosts 12-15 repeat 0-3 with the same value,
# so the end result does not depend on the order): a lost update leaves a field at its default.
SHARED_FIELDS: list[dict[str, Any]] = [
    {"mode": "Rolling"},
    {"rolling_upgrade_policy": {"max_batch_instance_percent": 50}},
    {"rolling_upgrade_policy": {"max_unhealthy_instance_percent": 60}},
    {"rolling_upgrade_policy": {"max_unhealthy_upgraded_instance_percent": 70}},
    {"rolling_upgrade_policy": {"pause_time_between_batches": "PT5S"}},
    {"rolling_upgrade_policy": {"enable_cross_zone_upgrade": True}},
    {"rolling_upgrade_policy": {"prioritize_unhealthy_instances": True}},
    {"rolling_upgrade_policy": {"rollback_failed_instances_on_policy_breach": True}},
    {"rolling_upgrade_policy": {"max_surge": True}},
    {"automatic_os_upgrade": {"disable_automatic_rollback": True}},
    {"automatic_os_upgrade": {"use_rolling_upgrade_policy": True}},
    {"automatic_os_upgrade": {"os_rolling_upgrade_deferral": True}},
]
BATCH_PERCENTS = (20, 25, 34, 40, 50, 60, 100)
EPOCH = 1735689600

PLAYBOOK = """
- name: Sixteen forks against one store
  hosts: sims
  gather_facts: false
  strategy: {strategy}
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{{{ azsim_store }}}}"
  tasks:
    - name: Policy of the host's own scale set
      azsim.vmss.vmss_upgrade_policy:
        resource_group: {rg}
        name: "{{{{ own }}}}"
        mode: Rolling
        rolling_upgrade_policy:
          max_batch_instance_percent: "{{{{ batch_percent }}}}"
      delegate_to: localhost

    - name: One field of the shared scale set's policy
      azsim.vmss.vmss_upgrade_policy:
        resource_group: {rg}
        name: {shared}
        mode: "{{{{ shared_field.mode | default(omit) }}}}"
        automatic_os_upgrade: "{{{{ shared_field.automatic_os_upgrade | default(omit) }}}}"
        rolling_upgrade_policy: "{{{{ shared_field.rolling_upgrade_policy | default(omit) }}}}"
      delegate_to: localhost

    - name: OS rolling upgrade of the host's own scale set, to its end
      azsim.vmss.vmss_os_rolling_upgrade:
        resource_group: {rg}
        name: "{{{{ own }}}}"
        wait: true
      delegate_to: localhost

    - name: Advance the shared virtual clock
      azsim.vmss.sim_clock:
        advance: "{{{{ advance }}}}"
      delegate_to: localhost
"""


# -- helpers --------------------------------------------------------------------------------------


def _collections_dir() -> str:
    for entry in sys.path:
        if os.path.isdir(os.path.join(entry, "ansible_collections", "azsim", "vmss", "plugins")):
            return entry
    raise RuntimeError("ansible_collections.azsim.vmss is not on sys.path (tests/unit/conftest.py puts it there)")


def host_vars(label: str, index: int) -> dict[str, Any]:
    return {
        "own": f"{label}-{index}",
        "batch_percent": BATCH_PERCENTS[index % len(BATCH_PERCENTS)],
        "shared_field": SHARED_FIELDS[index % len(SHARED_FIELDS)],
        "advance": f"PT{index + 1}M",
    }


def host_tasks(store: str, hvars: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The playbook's four tasks for one host, as (module, args): the one-at-a-time reference."""
    return [
        (
            "vmss_upgrade_policy",
            {
                "store": store,
                "resource_group": RG,
                "name": hvars["own"],
                "mode": "Rolling",
                "rolling_upgrade_policy": {"max_batch_instance_percent": hvars["batch_percent"]},
            },
        ),
        ("vmss_upgrade_policy", {"store": store, "resource_group": RG, "name": SHARED, **hvars["shared_field"]}),
        ("vmss_os_rolling_upgrade", {"store": store, "resource_group": RG, "name": hvars["own"], "wait": True}),
        ("sim_clock", {"store": store, "advance": hvars["advance"]}),
    ]


def build_store(path: Path, labels: list[str], hosts: int) -> None:
    """Image 1.0.0, the shared scale set and one scale set per host on it, then image 1.1.0 published."""
    store = str(path)
    assert call(vm_image, {"store": store, **IMAGE, "version": "1.0.0"})["rc"] == 0
    names = [SHARED] + [host_vars(label, i)["own"] for label in labels for i in range(hosts)]
    for name in names:
        result = call(
            vmss,
            {
                "store": store,
                "resource_group": RG,
                "name": name,
                "image": {**IMAGE, "version": "latest"},
                "health_probe": {"protocol": "tcp", "port": 22},
                "instances": [f"{name}-vm{i}" for i in range(INSTANCES_PER_SET)],
            },
        )
        assert result["rc"] == 0, result
    assert call(vm_image, {"store": store, **IMAGE, "version": "1.1.0"})["rc"] == 0


def one_at_a_time(path: Path, labels: list[str], hosts: int) -> None:
    """The reference: every task of every host, in-process, one after the other."""
    for label in labels:
        per_host = [host_tasks(str(path), host_vars(label, i)) for i in range(hosts)]
        for step in range(len(per_host[0])):
            for tasks in per_host:
                module, args = tasks[step]
                result = call(MODULES[module], args)
                assert result["rc"] == 0 and not result.get("failed"), (module, args, result)


def write_inventory(folder: Path, label: str, store: Path, count: int) -> Path:
    hosts = {f"{label}{i}": {"ansible_connection": "local", **host_vars(label, i)} for i in range(count)}
    inventory = {
        "all": {
            "vars": {"ansible_python_interpreter": sys.executable, "azsim_store": str(store)},
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"sims": {"hosts": hosts}},
        }
    }
    path = folder / f"inventory-{label}.json"
    path.write_text(json.dumps(inventory))
    return path


def start_playbook(folder: Path, label: str, store: Path, strategy: str, hosts: int) -> subprocess.Popen[str]:
    """ansible-playbook on ``hosts`` local-connection hosts with as many forks."""
    inventory = write_inventory(folder, label, store, hosts)
    playbook = folder / f"playbook-{label}.yml"
    playbook.write_text(PLAYBOOK.format(strategy=strategy, rg=RG, shared=SHARED))
    (folder / "none.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": _collections_dir(),
        "ANSIBLE_FORKS": str(hosts),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_LOCAL_TEMP": str(folder / "local-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(folder / "remote-tmp"),
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_CONFIG": str(folder / "none.cfg"),  # no ansible.cfg of the checkout or the user
        # A store that is not passed must never be ~/.ansible's.
        "AZSIM_VMSS_STORE": str(folder / "forgotten.sqlite"),
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(inventory),
            "-f",
            str(hosts),
            str(playbook),
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen[str], label: str, hosts: int) -> str:
    output = proc.communicate(timeout=300)[0]
    assert "database is locked" not in output, output
    assert "could not take the write lock" not in output, output
    assert "internal error" not in output, output
    recap = dict(re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(\d+\s+failed=\d+)", output, re.M))
    expected = {f"{label}{i}" for i in range(hosts)}
    assert {h: re.sub(r"\s+", " ", v) for h, v in recap.items() if h in expected} == {
        h: "0 failed=0" for h in expected
    }, output
    assert proc.returncode == 0, output
    return output


def normalized(path: Path) -> dict[str, Any]:
    """The store with the order of the forks taken out: per scale set its policy, its instances' image
    versions, and its runs without their start times; the clock; the queue; the catalogue."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        now = int(conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone()[0])
        sets: dict[str, Any] = {}
        for key, doc in conn.execute("SELECT key, doc FROM scale_sets ORDER BY key"):
            record = json.loads(doc)
            instances = sorted(
                (i["name"], i["os_disk"]["image_version"], i["health"], i["provisioning_state"])
                for i in (
                    json.loads(d) for (d,) in conn.execute("SELECT doc FROM instances WHERE scale_set = ?", (key,))
                )
            )
            runs = []
            for (d,) in conn.execute("SELECT doc FROM runs WHERE scale_set = ? ORDER BY run_id", (key,)):
                run = json.loads(d)
                runs.append(
                    {
                        "kind": run["kind"],
                        "status": run["status"],
                        "started_by": run["started_by"],
                        "target_version": run["target_version"],
                        "policy": run["policy"],
                        "length": run["end"] - run["start"],
                        "batches": [(len(b["instances"]), b["result"], b["end"] - b["start"]) for b in run["batches"]],
                        "results": sorted(o["result"] for o in run["outcome"].values()),
                    }
                )
            sets[key] = {
                "policy": record["model"]["properties"]["upgradePolicy"],
                "model_version": record["model_version"],
                "instances": instances,
                "runs": runs,
            }
        return {
            "now": now,
            "scale_sets": sets,
            "events": sorted(conn.execute("SELECT kind, subject FROM events").fetchall()),
            "images": sorted(conn.execute("SELECT kind, image, version FROM images").fetchall()),
            "features": sorted(conn.execute("SELECT * FROM features").fetchall()),
        }
    finally:
        conn.close()


def check_against_reference(parallel: Path, serial: Path, labels: list[str], hosts: int, clock_before: int) -> None:
    got, want = normalized(parallel), normalized(serial)
    # The guarantee itself, field by field first (readable failures), then as a whole.
    shared_key = next(k for k in want["scale_sets"] if k.endswith("/" + SHARED))
    assert got["scale_sets"][shared_key]["policy"] == want["scale_sets"][shared_key]["policy"], "lost policy update"
    for key in want["scale_sets"]:
        assert got["scale_sets"].get(key) == want["scale_sets"][key], key
    assert got == want
    # The clock: the sum of the advances plus the sum of the runs' lengths (each run ends inside its call).
    advances = sum((i + 1) * 60 for i in range(hosts)) * len(labels)
    run_lengths = sum(r["length"] for s in got["scale_sets"].values() for r in s["runs"])
    assert sum(len(s["runs"]) for s in got["scale_sets"].values()) == hosts * len(labels)
    assert got["now"] == clock_before + advances + run_lengths


def clock_of(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone()[0])
    finally:
        conn.close()


# -- the tests ------------------------------------------------------------------------------------


@pytest.fixture
def stores(tmp_path: Path) -> tuple[Path, Path]:
    serial = tmp_path / "serial" / "vmss.sqlite"
    parallel = tmp_path / "parallel" / "vmss.sqlite"
    return serial, parallel


def test_sixteen_forks_lose_nothing(tmp_path: Path, stores: tuple[Path, Path]) -> None:
    serial, parallel = stores
    build_store(serial, ["s"], HOSTS)
    build_store(parallel, ["s"], HOSTS)
    clock_before = clock_of(parallel)
    assert normalized(serial) == normalized(parallel)
    one_at_a_time(serial, ["s"], HOSTS)

    finish(start_playbook(tmp_path, "s", parallel, "linear", HOSTS), "s", HOSTS)

    check_against_reference(parallel, serial, ["s"], HOSTS, clock_before)


def test_two_playbook_processes_at_once_lose_nothing(tmp_path: Path, stores: tuple[Path, Path]) -> None:
    """Two ansible-playbook processes of 8 hosts and 8 forks each (16 workers in all), one with the linear
    and one with the free strategy, so that different kinds of task also meet."""
    serial, parallel = stores
    labels = ["a", "b"]
    hosts = HOSTS // 2
    build_store(serial, labels, hosts)
    build_store(parallel, labels, hosts)
    clock_before = clock_of(parallel)
    one_at_a_time(serial, labels, hosts)

    first = start_playbook(tmp_path, "a", parallel, "linear", hosts)
    second = start_playbook(tmp_path, "b", parallel, "free", hosts)
    finish(first, "a", hosts)
    finish(second, "b", hosts)

    check_against_reference(parallel, serial, labels, hosts, clock_before)
