# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A playbook of this collection and the azure-mgmt-compute SDK on one store at the same time (issue 13).

The endpoint serves the store over HTTPS (a thread, instant clock); ``ansible-playbook`` runs this
collection's modules on the same store in its own processes (four hosts, four forks), while the SDK (its
cached venv, tests/arm/sdk_shared_client.py) creates, updates and upgrades scale sets of its own through the
endpoint. The two overlap for certain, not by luck of timing: the SDK starts once the playbook's first task has
written a marker file, and the playbook's last play waits for the marker the test writes when the SDK is done.

Afterwards each side reads the other's writes (the SDK the playbook's scale sets and runs, the playbook the
SDK's), nobody saw "database is locked" or an answer of 5xx, and the store passes ``PRAGMA integrity_check``
(docs/reliability.md §1, for the endpoint and the modules together).
"""

from __future__ import annotations

import json
import os
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.tests.arm.sdk_venv import VenvError, client_python
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint
from ansible_collections.azsim.vmss.tests.unit._playbook_runner import run_playbook

pytestmark = [pytest.mark.system, pytest.mark.clients]

HERE = Path(__file__).resolve().parent.parent / "arm"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
HOSTS = 4
SDK_SETS = [f"sdk-{i}" for i in range(HOSTS)]
PLAYBOOK_SETS = [f"pb-{i}" for i in range(HOSTS)]
SHARED = {"sdk_rg": "rg-sdk", "sdk": SDK_SETS, "playbook_rg": "rg-playbook", "playbook": PLAYBOOK_SETS}
MARKER_TIMEOUT_S = 240  # how long either side waits for the other's marker before the test fails

PLAYBOOK = """
- name: The playbook has started (the SDK waits for this marker)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Publish the playbook's own image (another SKU than the SDK's, so that neither upgrades the other's)
      azsim.vmss.vm_image: {{publisher: Canonical, offer: ubuntu-24_04-lts, sku: playbook, version: 1.0.0}}
    - name: Say so
      ansible.builtin.copy: {{dest: "{started}", content: "started"}}

- name: Four forks, a scale set each, while the SDK works on the same store through the endpoint
  hosts: sims
  gather_facts: false
  tasks:
    - name: Create the host's scale set
      azsim.vmss.vmss:
        resource_group: {rg}
        name: "{{{{ own }}}}"
        image: {{publisher: Canonical, offer: ubuntu-24_04-lts, sku: playbook, version: latest}}
        health_probe: {{protocol: http, port: 80, request_path: /health}}
        instances: "{{{{ [own ~ '-a', own ~ '-b', own ~ '-c'] }}}}"
      delegate_to: localhost
    - name: Its rolling upgrade policy
      azsim.vmss.vmss_upgrade_policy:
        resource_group: {rg}
        name: "{{{{ own }}}}"
        mode: Rolling
        rolling_upgrade_policy: {{max_batch_instance_percent: 34}}
      delegate_to: localhost
    - name: A newer image of the playbook's SKU
      azsim.vmss.vm_image: {{publisher: Canonical, offer: ubuntu-24_04-lts, sku: playbook, version: 1.1.0}}
      delegate_to: localhost
      run_once: true
    - name: Roll it out
      azsim.vmss.vmss_os_rolling_upgrade:
        resource_group: {rg}
        name: "{{{{ own }}}}"
        wait: true
      delegate_to: localhost
    - name: Read the history
      azsim.vmss.vmss_upgrade_history:
        resource_group: {rg}
        name: "{{{{ own }}}}"
      delegate_to: localhost
      register: own_history
    - name: The run completed on every instance
      ansible.builtin.assert:
        that:
          - own_history.latest.properties.runningStatus.code == 'Completed'
          - own_history.history | length == 1
          - own_history.history[0].properties.targetImageReference.version == '1.1.0'

- name: After the SDK is done, read its scale sets through the modules
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait for the SDK's marker
      ansible.builtin.wait_for: {{path: "{sdk_done}", timeout: {timeout}}}
    - name: Read each of the SDK's scale sets
      azsim.vmss.vmss_info: {{resource_group: {sdk_rg}, name: "{{{{ item }}}}"}}
      loop: {sdk_sets}
      register: sdk_info
    - name: And its history
      azsim.vmss.vmss_upgrade_history: {{resource_group: {sdk_rg}, name: "{{{{ item }}}}"}}
      loop: {sdk_sets}
      register: sdk_history
    - name: Keep what was read for the test
      ansible.builtin.copy:
        dest: "{seen}"
        content: >-
          {{{{ {{'info': sdk_info.results | map(attribute='vmss') | list,
              'instances': sdk_info.results | map(attribute='instances') | list,
              'history': sdk_history.results | map(attribute='history') | list}} | to_json }}}}
"""


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    try:
        return client_python(
            HERE / "requirements-sdk.txt",
            "sdk",
            "azure.mgmt.compute, azure.identity, azure.mgmt.resource, azure.mgmt.resource.features",
        )
    except VenvError as exc:
        pytest.fail(f"the shared-store test needs the SDK's venv and it could not be built:\n{exc}", pytrace=False)


def sdk(python: Path, phase: str, info: dict[str, Any]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REQUESTS_CA", "SSL_CERT"))}
    env["AZSIM_ARM_INFO"] = json.dumps(info)
    env["AZSIM_SHARED"] = json.dumps(SHARED)
    done = subprocess.run(
        [str(python), str(HERE / "sdk_shared_client.py"), phase],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"SDK phase {phase} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    assert "database is locked" not in done.stdout + done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def wait_for_file(path: Path, playbook: threading.Thread) -> None:
    deadline = time.monotonic() + MARKER_TIMEOUT_S
    while not path.exists():
        assert playbook.is_alive(), f"the playbook ended before it wrote {path}"
        assert time.monotonic() < deadline, f"the playbook did not write {path} in {MARKER_TIMEOUT_S}s"
        time.sleep(0.1)


def write_inventory(tmp_path: Path) -> Path:
    hosts = {f"pb{i}": {"ansible_connection": "local", "own": f"pb-{i}"} for i in range(HOSTS)}
    inventory = {
        "all": {
            "vars": {"ansible_python_interpreter": sys.executable},
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"sims": {"hosts": hosts}},
        }
    }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory), encoding="utf-8")
    return path


def test_a_playbook_and_the_sdk_on_one_store_at_the_same_time(sdk_python: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    started, sdk_done, seen_file = tmp_path / "playbook-started", tmp_path / "sdk-done", tmp_path / "seen.json"
    playbook = tmp_path / "shared.yml"
    playbook.write_text(
        PLAYBOOK.format(
            started=started,
            sdk_done=sdk_done,
            seen=seen_file,
            timeout=MARKER_TIMEOUT_S,
            rg=SHARED["playbook_rg"],
            sdk_rg=SHARED["sdk_rg"],
            sdk_sets=json.dumps(SDK_SETS),
        ),
        encoding="utf-8",
    )
    inventory = write_inventory(tmp_path)
    outcome: dict[str, subprocess.CompletedProcess[str]] = {}
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        runner = threading.Thread(
            target=lambda: outcome.setdefault(
                "playbook",
                run_playbook(["-i", str(inventory), "-f", str(HOSTS), str(playbook)], tmp_path, store),
            )
        )
        runner.start()
        try:
            wait_for_file(started, runner)
            created = sdk(sdk_python, "create", info)
            in_store(store, publish_image, **UBUNTU, version="1.1.0")  # the SDK cannot publish; the test does
            upgraded = sdk(sdk_python, "upgrade", info)
        finally:
            sdk_done.write_text("done", encoding="utf-8")  # a failed SDK phase must not leave the playbook waiting
            runner.join(timeout=MARKER_TIMEOUT_S + 120)
        verified = sdk(sdk_python, "verify", info)
        log = _request_log(info)

    done = outcome["playbook"]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "database is locked" not in done.stdout + done.stderr
    assert [(e["method"], e["path"], e["status"]) for e in log if e["status"] >= 500] == []

    # The SDK's own writes, as it read them back through the endpoint.
    for name in SDK_SETS:
        assert created["scale_sets"][name] == {"capacity": 3, "batch": 34, "versions": ["1.0.0"]}, name
        assert upgraded["scale_sets"][name] == {
            "latest": ["Completed", 3],
            "history": [["Completed", "1.1.0"]],
            "versions": ["1.1.0"],
        }, name
    # The playbook's writes, as the SDK reads them through the endpoint.
    assert verified["list_all"] == sorted(SDK_SETS + PLAYBOOK_SETS)
    for name in PLAYBOOK_SETS:
        assert verified["playbook_scale_sets"][name] == {
            "latest": ["Completed", 3],
            "history": [["Completed", "1.1.0"]],
            "versions": ["1.1.0"],
        }, name
    # The SDK's writes, as the playbook's modules read them from the store.
    seen = json.loads(seen_file.read_text(encoding="utf-8"))
    assert [vmss["name"] for vmss in seen["info"]] == SDK_SETS
    assert [vmss["sku"]["capacity"] for vmss in seen["info"]] == [3] * HOSTS
    assert [sorted({i["os_disk"]["image_version"] for i in instances}) for instances in seen["instances"]] == [
        ["1.1.0"]
    ] * HOSTS
    assert [
        [
            (h["properties"]["runningStatus"]["code"], h["properties"]["targetImageReference"]["version"])
            for h in history
        ]
        for history in seen["history"]
    ] == [[("Completed", "1.1.0")]] * HOSTS

    conn = sqlite3.connect(store)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def _request_log(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The endpoint's request log (GET /azsim/requests), read with the standard library."""
    context = ssl.create_default_context(cafile=info["ca_cert"])
    with urllib.request.urlopen(info["base_url"] + "azsim/requests", context=context, timeout=30) as answer:
        return list(json.loads(answer.read())["value"])
