# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azure.azcollection's own modules against the ARM endpoint, then this collection's modules on the same store.

The azcollection runs as its users run it: ansible-core and the "trimmed install" of arm-endpoint-research
§1 in a venv outside the clone, cached and keyed on tests/arm/requirements-azcollection.txt, with the
collection from Galaxy or the PyPI ``ansible`` wheel (tests/arm/azcollection_venv.py). The first run
builds it (minutes, 1.2 GB); if it cannot be built the test FAILS naming what is missing. Connection
settings come from the endpoint's ``env`` block only (``auth_source: env``), as docs/azure-endpoint.md
tells users: ARM_CLOUD_METADATA_URL, AZURE_CLOUD_ENVIRONMENT, instance discovery off, both CA variables.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.tests.arm.azcollection_venv import azcollection
from ansible_collections.azsim.vmss.tests.arm.sdk_venv import VenvError
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint
from ansible_collections.azsim.vmss.tests.unit._playbook_runner import run_playbook

pytestmark = [pytest.mark.system, pytest.mark.clients]

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
VMSS_PATH = "/subscriptions/{sub}/resourceGroups/rg-azc/providers/Microsoft.Compute/virtualMachineScaleSets/azcvmss"

CREATE = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - azure.azcollection.azure_rm_resourcegroup:
        name: rg-azc
        location: eastus
      register: group
    - azure.azcollection.azure_rm_virtualnetwork:
        resource_group: rg-azc
        name: vnet
        address_prefixes_cidr: [10.1.0.0/16]
      register: vnet
    - azure.azcollection.azure_rm_subnet:
        resource_group: rg-azc
        virtual_network_name: vnet
        name: default
        address_prefix_cidr: 10.1.0.0/24
      register: subnet
    - azure.azcollection.azure_rm_virtualmachinescaleset: &vmss
        resource_group: rg-azc
        name: azcvmss
        vm_size: Standard_B1s
        capacity: 2
        orchestration_mode: Uniform
        upgrade_policy: Manual
        virtual_network_name: vnet
        subnet_name: default
        admin_username: azureuser
        admin_password: "Azsim-Test-Pass-1"
        ssh_password_enabled: true
        managed_disk_type: Standard_LRS
        image: {image}
      register: created
    - name: The same task again changes nothing
      azure.azcollection.azure_rm_virtualmachinescaleset: *vmss
      register: again
    - azure.azcollection.azure_rm_virtualmachinescaleset_info:
        resource_group: rg-azc
        name: azcvmss
      register: info
    - ansible.builtin.copy:
        dest: "{{{{ playbook_dir }}}}/created.json"
        content: "{{{{ {{'group': group.changed, 'vnet': vnet.changed, 'subnet': subnet.changed,
                     'created': created.changed, 'again': again.changed,
                     'info': info.vmss}} | to_json }}}}"
"""

UPGRADE = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Follow latest again (azure_rm_virtualmachinescaleset pinned the version it resolved)
      azure.azcollection.azure_rm_resource:
        url: "{path}"
        api_version: "2024-11-01"
        method: PATCH
        body: {{properties: {{virtualMachineProfile: {{storageProfile: {{imageReference: {{version: latest}}}}}}}}}}
      register: patched
    - name: The seed's POST osRollingUpgrade
      azure.azcollection.azure_rm_resource:
        url: "{path}/osRollingUpgrade"
        api_version: "2024-11-01"
        method: POST
        status_code: [200, 202]
        polling_timeout: 60
        polling_interval: 1
      register: started
    - name: Without api_version, the module takes the provider's newest for virtualMachineScaleSets
      azure.azcollection.azure_rm_resource_info:
        url: "{path}/rollingUpgrades/latest"
      register: latest
    - ansible.builtin.copy:
        dest: "{{{{ playbook_dir }}}}/upgraded.json"
        content: "{{{{ {{'started': started.response, 'latest': latest.response[0]}} | to_json }}}}"
"""

READ_BACK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - azsim.vmss.vmss_info:
        resource_group: rg-azc
        name: azcvmss
      register: vmss
    - azsim.vmss.vmss_upgrade_history:
        resource_group: rg-azc
        name: azcvmss
      register: history
    - ansible.builtin.copy:
        dest: "{{ playbook_dir }}/read_back.json"
        content: "{{ {'vmss': vmss, 'history': history} | to_json }}"
"""


@pytest.fixture(scope="session")
def azcollection_venv() -> tuple[Path, Path]:
    try:
        return azcollection()
    except VenvError as exc:
        pytest.fail(f"the azure.azcollection real-client test needs its venv and it could not be built:\n{exc}")


def azure_playbook(
    venv: tuple[Path, Path], info: dict[str, Any], tmp_path: Path, text: str
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook of the azcollection venv, configured only by the endpoint's env block."""
    python, collections = venv
    (tmp_path / "home").mkdir(exist_ok=True)
    playbook = tmp_path / "play.yml"
    playbook.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_", "REQUESTS_CA", "SSL_CERT"))}
    env.update(info["env"])
    env.update(
        {
            "HOME": str(tmp_path / "home"),  # azcollection reads ~/.azure/credentials from HOME (research §6)
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_PYTHON_INTERPRETER": str(python),
        }
    )
    return subprocess.run(
        [str(python.parent / "ansible-playbook"), str(playbook)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def test_azcollection_creates_and_upgrades_a_scale_set_that_this_collection_reads_back(
    azcollection_venv: tuple[Path, Path], tmp_path: Path
) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        created = azure_playbook(azcollection_venv, info, tmp_path, CREATE.format(image=json.dumps(IMAGE)))
        assert created.returncode == 0, created.stdout[-6000:] + created.stderr[-3000:]
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        path = VMSS_PATH.format(sub=info["subscription_id"])
        upgraded = azure_playbook(azcollection_venv, info, tmp_path, UPGRADE.format(path=path))
        assert upgraded.returncode == 0, upgraded.stdout[-6000:] + upgraded.stderr[-3000:]
        (tmp_path / "read_back.yml").write_text(READ_BACK)
        read_back = run_playbook([str(tmp_path / "read_back.yml")], tmp_path, store)  # this collection's modules
    assert read_back.returncode == 0, read_back.stdout[-4000:] + read_back.stderr[-2000:]
    first = read(tmp_path / "created.json")
    assert first["group"] and first["vnet"] and first["subnet"] and first["created"]
    assert first["again"] is False, "a second identical azure_rm_virtualmachinescaleset run changes nothing"
    (vmss,) = first["info"]
    assert vmss["name"] == "azcvmss" and vmss["sku"]["capacity"] == 2 and vmss["sku"]["name"] == "Standard_B1s"
    second = read(tmp_path / "upgraded.json")
    assert second["started"]["status"] == "Succeeded", second["started"]
    assert second["latest"]["properties"]["runningStatus"]["code"] == "Completed"
    assert second["latest"]["properties"]["progress"]["successfulInstanceCount"] == 2
    third = read(tmp_path / "read_back.json")
    instances = third["vmss"]["instances"]
    assert [i["os_disk"]["image_version"] for i in instances] == ["1.1.0", "1.1.0"]
    assert third["history"]["history"][0]["properties"]["runningStatus"]["code"] == "Completed"
