# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins run a module in the task's worker; the task returns what the module's own process returns.

One playbook drives every kind of result a module gives through ``module_defaults``: created, unchanged, check mode
with a diff, a warning, Azure's refusal, Ansible's own argument errors (unknown option, bad choice, options that
exclude each other, a dict option given a number), a read, a clock move, and a task ``environment:`` that picks the
store. It runs twice on new stores, in the worker (the default) and as processes (``azsim_vmss_in_process=false``):
the registered results and the stores' contents must be the same, and ``-vvv`` shows which way each run went.

Either way, check mode on every module that writes, the reads and refused calls leave the store's folder byte for
byte as it was (no -wal or -shm beside it, the same mtime); a bug inside the core keeps its traceback for
ansible-core to show; and what the worker cannot do (another connection, async, become) runs as a process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.tests.unit._harness import folder_snapshot
from ansible_collections.azsim.vmss.tests.unit._playbook_runner import run_playbook

PLAYBOOK = """
- name: Every kind of module result
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{ playbook_dir }}/main.sqlite"
  vars:
    web: &web
      resource_group: rg-web
      name: web
  tasks:
    - name: Publish the image the scale set starts from
      azsim.vmss.vm_image:
        <<: &image {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
        version: 1.0.0
      register: published

    - name: Create the scale set in check mode
      azsim.vmss.vmss: &build
        <<: *web
        image: {<<: *image, version: latest}
        health_probe: {protocol: http, port: 80, request_path: /health}
        instances: [web-00, web-01]
      check_mode: true
      diff: true
      register: create_check

    - name: Create the scale set
      azsim.vmss.vmss: *build
      diff: true
      register: created

    - name: Create it again
      azsim.vmss.vmss: *build
      register: again

    - name: Enable automatic OS upgrade (a fleet-size warning)
      azsim.vmss.vmss_upgrade_policy:
        <<: *web
        automatic_os_upgrade: {enabled: true}
      register: warned

    - name: Roll out with a batch size Azure refuses
      azsim.vmss.vmss_upgrade_policy:
        <<: *web
        mode: Rolling
        rolling_upgrade_policy: {max_batch_instance_percent: 101}
      ignore_errors: true
      register: refused

    - name: An option the module does not have
      azsim.vmss.sim_clock:
        advance: PT1M
        colour: blue
      ignore_errors: true
      register: unknown_option

    - name: A choice the module does not offer
      azsim.vmss.vmss_upgrade_policy:
        <<: *web
        mode: Sometimes
      ignore_errors: true
      register: bad_choice

    - name: Options that exclude each other
      azsim.vmss.sim_clock:
        advance: PT1M
        to: "2025-01-02T00:00:00Z"
      ignore_errors: true
      register: exclusive

    - name: A number for an option with sub-options
      azsim.vmss.vmss:
        <<: *web
        health_probe: 5
      ignore_errors: true
      register: scalar

    - name: Publish a new image version
      azsim.vmss.vm_image:
        <<: *image
        version: 1.1.0
      register: published_new

    - name: Let the platform roll the new image out
      azsim.vmss.sim_clock:
        advance: PT12H
      register: moved

    - name: Read the scale set
      azsim.vmss.vmss_info: *web
      register: info

    - name: Read the history
      azsim.vmss.vmss_upgrade_history: *web
      register: history

    - name: Write the upgrade report page (a result with a file's details beside its dest)
      azsim.vmss.vmss_upgrade_report:
        <<: *web
        dest: "{{ playbook_dir }}/report.html"
      register: report

    - name: Keep the results
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/results.json"
        content: "{{ results | to_nice_json }}"
        mode: "0600"
      vars:
        results:
          published: "{{ published }}"
          published_new: "{{ published_new }}"
          create_check: "{{ create_check }}"
          created: "{{ created }}"
          again: "{{ again }}"
          warned: "{{ warned }}"
          refused: "{{ refused }}"
          unknown_option: "{{ unknown_option }}"
          bad_choice: "{{ bad_choice }}"
          exclusive: "{{ exclusive }}"
          scalar: "{{ scalar }}"
          moved: "{{ moved }}"
          info: "{{ info }}"
          history: "{{ history }}"
          report: "{{ report }}"

- name: A store named by the task's environment
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Publish an image into the store the environment names
      azsim.vmss.vm_image:
        publisher: Canonical
        offer: ubuntu-24_04-lts
        sku: server
        version: 2.0.0
      environment:
        AZSIM_VMSS_STORE: "{{ playbook_dir }}/from-environment.sqlite"
      register: from_environment

    - name: Keep the result
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/from-environment.json"
        content: "{{ from_environment | to_nice_json }}"
        mode: "0600"
"""


def _store_rows(path: Path) -> dict[str, list[Any]]:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: db.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall() for table in tables}


def _run(tmp_path: Path, in_process: bool) -> tuple[dict[str, Any], str]:
    run_dir = tmp_path / ("worker" if in_process else "process")
    run_dir.mkdir()
    (run_dir / "playbook.yml").write_text(PLAYBOOK)
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"hosts": {"localhost": localhost}}}
    (run_dir / "inventory.json").write_text(json.dumps(inventory))
    extra = [] if in_process else ["-e", json.dumps({"azsim_vmss_in_process": False})]
    # ansible-core 2.21 echoes a module's arguments only when asked; earlier versions ignore the variable.
    proc = run_playbook(
        ["-vvv", "-i", "inventory.json", *extra, "playbook.yml"],
        run_dir,
        run_dir / "unused.sqlite",
        env={"ANSIBLE_INJECT_INVOCATION": "true"},
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    results = json.loads((run_dir / "results.json").read_text())
    results["from_environment"] = json.loads((run_dir / "from-environment.json").read_text())
    return json.loads(json.dumps(results).replace(str(run_dir), "RUN_DIR")), output


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("module_action")
    worker, worker_output = _run(tmp_path, in_process=True)
    process, process_output = _run(tmp_path, in_process=False)
    return {
        "tmp_path": tmp_path,
        "worker": worker,
        "process": process,
        "worker_output": worker_output,
        "process_output": process_output,
    }


def test_each_way_ran_as_it_says(both_ways: dict[str, Any]) -> None:
    # A module run as a process is shipped as an AnsiballZ payload; in the worker, none of ours is.
    assert "AnsiballZ_vmss.py" in both_ways["process_output"]
    assert "AnsiballZ_sim_clock.py" in both_ways["process_output"]
    for name in ("vmss", "vm_image", "sim_clock", "vmss_info", "vmss_upgrade_policy", "vmss_upgrade_history"):
        assert f"AnsiballZ_{name}.py" not in both_ways["worker_output"]
    assert "AnsiballZ_copy.py" in both_ways["worker_output"]  # ansible.builtin's modules still run as processes


def test_the_results_are_the_same(both_ways: dict[str, Any]) -> None:
    worker, process = both_ways["worker"], both_ways["process"]
    assert worker.keys() == process.keys()
    for task in worker:
        assert worker[task] == process[task], task
    # ... and they are the results the playbook asked for, so that the comparison compared something.
    assert worker["create_check"]["changed"] is True and worker["create_check"]["diff"]["after"]
    assert worker["created"]["changed"] is True and worker["again"]["changed"] is False
    assert worker["warned"]["findings"][0]["code"] == "PolicyStopsOnFirstUnhealthyInstance"
    assert worker["refused"]["failed"] is True and worker["refused"]["error"]["code"]
    unknown = "Unsupported parameters for (azsim.vmss.sim_clock) module: colour"
    assert worker["unknown_option"]["msg"].startswith(unknown)
    assert "mode" in worker["bad_choice"]["msg"] and "Sometimes" in worker["bad_choice"]["msg"]
    assert "mutually exclusive" in worker["exclusive"]["msg"]
    assert worker["scalar"]["msg"].startswith("health_probe: 5 is not allowed")
    assert worker["moved"]["events"] and worker["history"]["changed"] is False
    assert worker["info"]["exists"] is True and worker["info"]["vmss"]["name"] == "web"
    assert worker["from_environment"]["changed"] is True
    assert worker["report"]["dest"] == "RUN_DIR/report.html" and worker["report"]["state"] == "file"


def test_the_arguments_are_echoed_alike(both_ways: dict[str, Any]) -> None:
    # -vvv shows each result's ``invocation``, the arguments after validation (defaults filled in).
    worker, process = both_ways["worker_output"], both_ways["process_output"]
    assert worker.count('"module_args": {') == process.count('"module_args": {')
    store = f'"store": "{both_ways["tmp_path"]}/%s/main.sqlite"'
    assert worker.count(store % "worker") == process.count(store % "process") > 10


def test_warnings_reach_the_user(both_ways: dict[str, Any]) -> None:
    # A registered result keeps no ``warnings``: ansible-core displays them, once per warning, either way.
    for output in (both_ways["worker_output"], both_ways["process_output"]):
        assert output.count("[WARNING]: PolicyStopsOnFirstUnhealthyInstance") == 1, output


def test_the_stores_are_the_same(both_ways: dict[str, Any]) -> None:
    tmp_path = both_ways["tmp_path"]
    for store in ("main.sqlite", "from-environment.sqlite"):
        assert (tmp_path / "worker" / store).exists() and (tmp_path / "process" / store).exists()
        worker = _store_rows(tmp_path / "worker" / store)
        assert worker == _store_rows(tmp_path / "process" / store), store
        assert any(worker.values())
    assert not (tmp_path / "worker" / "unused.sqlite").exists()


FALLBACK_PLAYBOOK = """
- name: Tasks the worker leaves to the module's own process
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{ playbook_dir }}/fallback.sqlite"
  tasks:
    - name: Over a connection that is not local
      azsim.vmss.vm_image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 1.0.0}
      vars:
        ansible_connection: relay
      register: remote

    - name: As an async task
      azsim.vmss.vm_image_info: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
      async: 60
      poll: 1
      register: in_background

    - name: With become (to root, which as root needs no password)
      azsim.vmss.sim_clock:
        advance: PT1M
      become: true
      become_method: ansible.builtin.su
      when: as_root | bool
      register: became

    - name: Keep the results
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/results.json"
        content: "{{ {'remote': remote, 'in_background': in_background, 'became': became} | to_nice_json }}"
        mode: "0600"
"""

# A connection plugin that is not ``local`` to the action plugin, though it runs commands here.
RELAY = """
from ansible.plugins.connection.local import Connection as Local


class Connection(Local):
    transport = "relay"
"""


def test_what_the_worker_cannot_do_runs_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "playbook.yml").write_text(FALLBACK_PLAYBOOK)
    (tmp_path / "connection_plugins").mkdir()
    (tmp_path / "connection_plugins" / "relay.py").write_text(RELAY)
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": {"localhost": localhost}}}))
    # An absolute async folder: ansible-core's async_status would look under the real home, not the test's HOME.
    environment = {"ANSIBLE_ASYNC_DIR": str(tmp_path / "async")}
    as_root = os.geteuid() == 0  # become as another user would need its password
    args = ["-vvv", "-i", "inventory.json", "-e", json.dumps({"as_root": as_root}), "playbook.yml"]
    proc = run_playbook(args, tmp_path, tmp_path / "unused.sqlite", environment)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "AnsiballZ_vm_image.py" in output and "AnsiballZ_vm_image_info.py" in output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["remote"]["changed"] is True and results["remote"]["image"]["version"] == "1.0.0"
    assert results["in_background"]["finished"] == 1
    assert [v["version"] for v in results["in_background"]["versions"]] == ["1.0.0"]
    if as_root:
        assert "AnsiballZ_sim_clock.py" in output and results["became"]["changed"] is True


def test_a_value_of_azsim_vmss_in_process_that_is_not_a_boolean_fails_the_task(tmp_path: Path) -> None:
    playbook = """
- name: A bad azsim_vmss_in_process
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Publish an image
      azsim.vmss.vm_image:
        publisher: Canonical
        offer: ubuntu-24_04-lts
        sku: server
        version: 1.0.0
        store: "{{ playbook_dir }}/never.sqlite"
"""
    (tmp_path / "playbook.yml").write_text(playbook)
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": {"localhost": localhost}}}))
    args = ["-i", "inventory.json", "-e", json.dumps({"azsim_vmss_in_process": "sometimes"}), "playbook.yml"]
    proc = run_playbook(args, tmp_path, tmp_path / "unused.sqlite")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "azsim_vmss_in_process: 'sometimes' is not a boolean; use true" in output
    assert not (tmp_path / "never.sqlite").exists() and not (tmp_path / "unused.sqlite").exists()


# Loaded at the start of every Python the playbook starts (PYTHONPATH): the module's process, or ansible-playbook,
# whose workers run the module. It makes the clock's action raise, as a bug in the core would.
INJECTED_FAULT = """
import importlib.abc
import importlib.util
import sys

TARGET = "ansible_collections.azsim.vmss.plugins.module_utils._actions.clock"


def _bug(*args, **kwargs):
    raise RuntimeError("injected by the test")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        loaded = spec.loader.exec_module

        def exec_module(module):
            loaded(module)
            module.move_clock = _bug

        spec.loader.exec_module = exec_module
        return spec


class _First(list):
    # ansible-core inserts its collection finder first: this one stays ahead of it.
    def insert(self, index, item):
        ahead = self and isinstance(self[0], _Finder) and not isinstance(item, _Finder)
        super().insert(max(index, 1) if ahead else index, item)


sys.meta_path = _First([_Finder(), *sys.meta_path])
"""


@pytest.mark.parametrize("in_process", [True, False], ids=["worker", "process"])
def test_an_internal_error_shows_its_traceback_either_way(tmp_path: Path, in_process: bool) -> None:
    # The glue turns an unexpected exception into a message, and keeps its traceback for ansible-core, which shows
    # it when asked (DISPLAY_TRACEBACK): what a bug report needs, the same from the worker as from the process.
    playbook = """
- name: A bug in the core
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Move the clock
      azsim.vmss.sim_clock:
        advance: PT1H
"""
    (tmp_path / "playbook.yml").write_text(playbook)
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(INJECTED_FAULT)
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": {"localhost": localhost}}}))
    extra = [] if in_process else ["-e", json.dumps({"azsim_vmss_in_process": False})]
    path = os.pathsep.join(p for p in (str(tmp_path / "hook"), os.environ.get("PYTHONPATH", "")) if p)
    environment = {"PYTHONPATH": path, "ANSIBLE_DISPLAY_TRACEBACK": "error"}
    proc = run_playbook(["-vvv", "-i", "inventory.json", *extra, "playbook.yml"], tmp_path, tmp_path / "s", environment)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert ("AnsiballZ_sim_clock.py" in output) is not in_process, output
    assert "internal error in azsim.vmss (RuntimeError: injected by the test); the store was left as it was" in output
    # The frame that raised, from the module's traceback (not only ansible-core's own frames).
    assert 'raise RuntimeError("injected by the test")' in output, output
    assert "(traceback missing)" not in output, output


SETUP_PLAYBOOK = """
- name: A store with a scale set and a newer image to roll out
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{ playbook_dir }}/store/vmss.sqlite"
  tasks:
    - azsim.vmss.vm_image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 1.0.0}
    - azsim.vmss.vmss:
        resource_group: rg-web
        name: web
        image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: latest}
        health_probe: {protocol: http, port: 80, request_path: /health}
        instances: [web-00, web-01, web-02, web-03, web-04]
    - azsim.vmss.vmss_upgrade_policy: {resource_group: rg-web, name: web, mode: Rolling}
    - azsim.vmss.vm_image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 1.1.0}
"""

# Every task here leaves the store as it was: check mode on each module that writes, the reads, and calls that are
# refused (by Azure's rules, by the glue, by Ansible's argument checks).
UNTOUCHED_PLAYBOOK = """
- name: Nothing changes the store
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{ playbook_dir }}/store/vmss.sqlite"
  vars:
    web: &web {resource_group: rg-web, name: web}
  tasks:
    - name: Check mode on every module that writes
      check_mode: true
      block:
        - azsim.vmss.vm_image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 2.0.0}
        - azsim.vmss.vmss: {<<: *web, instances: [web-00, web-01, web-02, web-03, web-04, web-05]}
        - azsim.vmss.vmss_upgrade_policy: {<<: *web, rolling_upgrade_policy: {max_batch_instance_percent: 50}}
        - azsim.vmss.vmss_os_rolling_upgrade: {<<: *web, state: started, wait: true}
        - azsim.vmss.sim_clock: {advance: PT1H}
        - azsim.vmss.feature_registration: {namespace: Microsoft.Compute, feature: AutomaticRepairs, state: registered}
        - azsim.vmss.store_snapshot: {dest: "{{ playbook_dir }}/snapshot.sqlite"}
        - azsim.vmss.vmss_upgrade_report: {<<: *web, dest: "{{ playbook_dir }}/report.html"}

    - name: Reads
      block:
        - azsim.vmss.vmss_info: *web
        - azsim.vmss.vmss_upgrade_history: *web
        - azsim.vmss.vm_image_info: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
        - azsim.vmss.vmss_lifecycle_hook_event_info: *web

    - name: Refused calls
      ignore_errors: true
      block:
        - azsim.vmss.vmss_upgrade_policy: {<<: *web, rolling_upgrade_policy: {max_batch_instance_percent: 101}}
        - azsim.vmss.vmss_os_rolling_upgrade: {resource_group: rg-web, name: nowhere, state: started}
        - azsim.vmss.vmss: {resource_group: rg-web, name: "bad_name!", instances: [a]}
        - azsim.vmss.sim_clock: {advance: PT1M, colour: blue}
"""


def _store_folder_after(tmp_path: Path, in_process: bool) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The store's folder (every file's bytes, mode, size, mtime) before and after the playbook that must not touch
    it, run one way."""
    (tmp_path / "store").mkdir()
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": {"localhost": localhost}}}))
    (tmp_path / "setup.yml").write_text(SETUP_PLAYBOOK)
    (tmp_path / "untouched.yml").write_text(UNTOUCHED_PLAYBOOK)
    proc = run_playbook(["-i", "inventory.json", "setup.yml"], tmp_path, tmp_path / "unused.sqlite")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = folder_snapshot(tmp_path / "store")
    extra = [] if in_process else ["-e", json.dumps({"azsim_vmss_in_process": False})]
    proc = run_playbook(["-vvv", "-i", "inventory.json", *extra, "untouched.yml"], tmp_path, tmp_path / "unused.sqlite")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return before, folder_snapshot(tmp_path / "store"), output


@pytest.mark.parametrize("in_process", [True, False], ids=["worker", "process"])
def test_check_mode_reads_and_refusals_leave_the_store_byte_for_byte(tmp_path: Path, in_process: bool) -> None:
    before, after, output = _store_folder_after(tmp_path, in_process)
    assert ("AnsiballZ_vmss_info.py" in output) is not in_process, output
    assert list(before) == ["vmss.sqlite"]  # no -wal, -shm or -journal left beside it, before or after
    assert after == before
    assert output.count("...ignoring") == 4, output  # each refusal was one
    assert not (tmp_path / "snapshot.sqlite").exists() and not (tmp_path / "report.html").exists()
    assert not (tmp_path / "unused.sqlite").exists()
