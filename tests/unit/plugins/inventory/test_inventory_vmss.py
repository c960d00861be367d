# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin azsim.vmss.vmss through ansible-core's InventoryManager and DataLoader, as ansible-inventory
and ansible-playbook run it, on stores the modules built through main().

Host variables follow azure.azcollection's azure_rm inventory plugin (AzureHost.hostvars in
plugins/inventory/azure_rm.py: ``vmss: {id, name}``, ``powerstate``, ``provisioning_state`` in lower case,
``availability_zone`` as the VM's ``zones`` list); the simulator's own start with ``azsim_``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss, vmss_os_rolling_upgrade
from ansible_collections.azsim.vmss.tests.unit._harness import run

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
OLD, NEW = "24.04.202501010", "24.04.202502010"
SUB = "00000000-0000-0000-0000-000000000000"
WEB = ["web-01", "web-02", "web-03", "web-04", "web-05"]
ALL = ["api-01", *WEB]


def module(mod: Any, store: Path, **args: Any) -> dict[str, Any]:
    rc, result = run(mod, {"store": str(store), **args})
    assert rc == 0, result
    return result


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "vmss.sqlite"


@pytest.fixture
def fleet(store: Path) -> Path:
    """rg-demo/web: five instances in zones 1 and 2, web-03 stopped and web-04 faulted on the new image, rolled out
    once by hand (both fail: neither comes back healthy); rg-other/api: one instance, never upgraded."""
    module(vm_image, store, **UBUNTU, version=OLD)
    module(
        vmss,
        store,
        resource_group="rg-demo",
        name="web",
        image={**UBUNTU, "version": "latest"},
        zones=["1", "2"],
        health_probe={"protocol": "http", "port": 80, "request_path": "/health"},
        instances=["web-01", "web-02", {"name": "web-03", "power_state": "stopped"}, "web-04", "web-05"],
        simulation={"faults": [{"type": "boot_unhealthy", "instances": ["web-04"], "image_version": NEW}]},
    )
    module(
        vmss, store, resource_group="rg-other", name="api", image={**UBUNTU, "version": "latest"}, instances=["api-01"]
    )
    module(vm_image, store, **UBUNTU, version=NEW)
    upgrade = module(
        vmss_os_rolling_upgrade,
        store,
        resource_group="rg-demo",
        name="web",
        state="started",
        wait=True,
        fail_on_fault=False,
    )
    results = {i["name"]: i["result"] for i in upgrade["instances"]}
    assert results == {n: "failed" if n in ("web-03", "web-04") else "upgraded" for n in WEB}, results
    return store


def source(tmp_path: Path, config: dict[str, Any], name: str = "test.azsim_vmss.yml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"plugin": "azsim.vmss.vmss", **config}))
    return str(path)


def inventory(path: str, cache: bool = True) -> Any:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    return InventoryManager(loader=DataLoader(), sources=[path], cache=cache)


def plugin_parse(path: str) -> Any:
    """The plugin itself (its errors are AnsibleParserError; InventoryManager would make them a warning)."""
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get("azsim.vmss.vmss")
    assert plugin.verify_file(path)
    data = InventoryData()
    plugin.parse(data, DataLoader(), path, cache=False)
    return data


def hostvars(inv: Any, name: str) -> dict[str, Any]:
    return dict(inv.get_host(name).get_vars())


def groups(inv: Any) -> dict[str, list[str]]:
    return {
        name: sorted(h.name for h in group.get_hosts())
        for name, group in inv.groups.items()
        if name not in ("all", "ungrouped")
    }


def folder_state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Each entry's bytes (hashed), mode and mtime: "nothing was written"."""
    out = {}
    for entry in sorted(os.listdir(folder)):
        st = os.lstat(folder / entry)
        out[entry] = (hashlib.sha256((folder / entry).read_bytes()).hexdigest(), st.st_mode, st.st_mtime_ns)
    return out


# -- hosts and their variables --------------------------------------------------------------------------------


def test_every_instance_is_a_host_named_by_its_inventory_name(tmp_path: Path, fleet: Path) -> None:
    inv = inventory(source(tmp_path, {"store": str(fleet)}))
    assert sorted(h.name for h in inv.get_hosts()) == ALL


def test_host_variables_are_named_and_shaped_as_azure_rm_names_them(tmp_path: Path, fleet: Path) -> None:
    inv = inventory(source(tmp_path, {"store": str(fleet)}))
    web = "/subscriptions/" + SUB + "/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachineScaleSets/web"
    stopped = hostvars(inv, "web-03")
    # azure_rm: id and name of the VM (<scale set>_<instance id>), vmss {id, name}, the power state without its
    # "PowerState/" prefix, the provisioning state in lower case, the zones list.
    assert stopped["id"] == web + "/virtualMachines/2"
    assert stopped["name"] == "web_2"
    assert stopped["computer_name"] == "web-03"
    assert stopped["vmss"] == {"id": web, "name": "web"}
    assert stopped["powerstate"] == "stopped"
    assert hostvars(inv, "web-01")["powerstate"] == "running"
    assert stopped["provisioning_state"] == "succeeded"
    assert stopped["location"] == "eastus"
    assert stopped["availability_zone"] == ["1"]
    assert hostvars(inv, "web-02")["availability_zone"] == ["2"]
    assert hostvars(inv, "api-01")["availability_zone"] is None
    assert stopped["tags"] == {}
    assert stopped["resource_group"] == "rg-demo"
    assert stopped["resource_type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
    assert stopped["os_profile"] == {"system": "linux"}
    assert stopped["image"] == {**UBUNTU, "version": "latest"}
    assert stopped["default_inventory_hostname"] == "web-03"
    assert stopped["public_ipv4_addresses"] == [] and stopped["private_ipv4_addresses"] == []


def test_the_vm_id_and_vmid_are_the_ones_the_azure_endpoint_lists(tmp_path: Path, fleet: Path) -> None:
    """One instance, two front doors: the same names as GET .../virtualMachines of the ARM endpoint."""
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.rest_model import vm_view

    info = module(vmss, fleet, resource_group="rg-demo", name="web", _ansible_check_mode=True)
    inv = inventory(source(tmp_path, {"store": str(fleet)}))
    for instance in info["instances"]:
        vm = vm_view(info["vmss"], instance)
        got = hostvars(inv, instance["name"])
        assert (got["id"], got["name"], got["vmid"]) == (vm["id"], vm["name"], vm["properties"]["vmId"])
        assert got["computer_name"] == vm["properties"]["osProfile"]["computerName"]


def test_simulator_variables_carry_the_last_os_upgrade(tmp_path: Path, fleet: Path) -> None:
    """The role's fact names (azsim_os_image_version, azsim_upgrade_result, azsim_batch) and the run's history
    entry (azure-behaviour §5)."""
    inv = inventory(source(tmp_path, {"store": str(fleet)}))
    web1, web4, api = hostvars(inv, "web-01"), hostvars(inv, "web-04"), hostvars(inv, "api-01")
    assert (web1["azsim_os_image_version"], web1["azsim_upgrade_result"]) == (NEW, "upgraded")
    # A manual run does not roll back (azure-behaviour §3.5): the failed instance stays on the new disk.
    assert (web4["azsim_upgrade_result"], web4["azsim_health"]) == ("failed", "Unhealthy")
    assert isinstance(web1["azsim_batch"], int) and web1["azsim_batch"] >= 1
    assert web1["azsim_last_upgrade"]["target_image_version"] == NEW
    # Two of five upgraded instances unhealthy: more than maxUnhealthyUpgradedInstancePercent (20), the run faulted.
    assert web1["azsim_last_upgrade"]["status"] == "Faulted"
    assert web1["azsim_last_upgrade"]["started_by"] == "User"
    assert web1["azsim_latest_model_applied"] is True
    assert web1["azsim_protection_policy"] == {"protectFromScaleSetActions": False, "protectFromScaleIn": False}
    assert (web1["azsim_scale_set"], web1["azsim_resource_group"], web1["azsim_instance_id"]) == ("web", "rg-demo", "0")
    # Never upgraded: no result, no run, the image it was built with.
    assert (api["azsim_upgrade_result"], api["azsim_batch"], api["azsim_last_upgrade"]) == (None, None, None)
    assert api["azsim_os_image_version"] == OLD


# -- groups: keyed_groups, groups, compose (Constructable) -----------------------------------------------------


def test_keyed_groups_by_image_version_and_result_give_the_groups_a_play_targets(tmp_path: Path, fleet: Path) -> None:
    """issue 15: `hosts: azsim_image_version_24_04_202501010`, and a group per last result."""
    config = {
        "store": str(fleet),
        "keyed_groups": [
            {"prefix": "azsim_image_version", "key": "azsim_os_image_version"},
            {"prefix": "azsim_result", "key": "azsim_upgrade_result | default('none', true)"},
            {"prefix": "azsim_vmss", "key": "vmss.name"},
        ],
    }
    inv = inventory(source(tmp_path, config))
    found = groups(inv)
    assert found["azsim_image_version_24_04_202501010"] == ["api-01"]
    assert found["azsim_image_version_24_04_202502010"] == WEB
    assert found["azsim_result_upgraded"] == ["web-01", "web-02", "web-05"]
    assert found["azsim_result_failed"] == ["web-03", "web-04"]
    assert found["azsim_result_none"] == ["api-01"]
    assert found["azsim_vmss_web"] == WEB
    assert [h.name for h in inv.get_hosts("azsim_image_version_24_04_202501010")] == ["api-01"]


def test_groups_compose_and_leading_separator(tmp_path: Path, fleet: Path) -> None:
    config = {
        "store": str(fleet),
        "groups": {"stopped": "powerstate != 'running'", "zone_1": "'1' in (availability_zone or [])"},
        "compose": {"ansible_connection": "'local'", "scale_set": "vmss.name + '/' + azsim_instance_id"},
        "keyed_groups": [{"key": "azsim_health"}],
        "leading_separator": False,
    }
    inv = inventory(source(tmp_path, config))
    found = groups(inv)
    assert found["stopped"] == ["web-03"]
    assert found["zone_1"] == ["web-01", "web-03", "web-05"]
    assert found["Healthy"] == ["api-01", "web-01", "web-02", "web-05"]
    assert found["Unhealthy"] == ["web-03", "web-04"]
    assert hostvars(inv, "web-02")["ansible_connection"] == "local"
    assert hostvars(inv, "web-02")["scale_set"] == "web/1"


def test_a_keyed_group_on_an_unset_result_is_an_error_only_when_strict(tmp_path: Path, fleet: Path) -> None:
    from ansible.errors import AnsibleParserError

    keyed = [{"prefix": "r", "key": "azsim_upgrade_result"}]
    assert "r_upgraded" in groups(inventory(source(tmp_path, {"store": str(fleet), "keyed_groups": keyed})))
    with pytest.raises(AnsibleParserError):
        plugin_parse(source(tmp_path, {"store": str(fleet), "keyed_groups": keyed, "strict": True}))


# -- which hosts: resource groups, subscription, filters, hostnames --------------------------------------------


@pytest.mark.parametrize(
    ("resource_groups", "expected"),
    [
        (["rg-other"], ["api-01"]),
        (["RG-DEMO"], WEB),  # Azure's names compare without case
        (["*"], ALL),
        ([], ALL),
        (["rg-none"], []),
    ],
)
def test_resource_groups(tmp_path: Path, fleet: Path, resource_groups: list[str], expected: list[str]) -> None:
    inv = inventory(source(tmp_path, {"store": str(fleet), "resource_groups": resource_groups}))
    assert sorted(h.name for h in inv.get_hosts()) == expected


def test_an_invalid_resource_group_name_is_refused_naming_the_option(tmp_path: Path, fleet: Path) -> None:
    from ansible.errors import AnsibleParserError

    with pytest.raises(AnsibleParserError, match=r"resource_groups\[1\]: 'rg/\.\.' is not a valid resource group"):
        plugin_parse(source(tmp_path, {"store": str(fleet), "resource_groups": ["rg-demo", "rg/.."]}))


def test_another_subscription_has_no_hosts_and_the_environment_chooses_as_for_modules(
    tmp_path: Path, fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "11111111-1111-1111-1111-111111111111"
    assert list(inventory(source(tmp_path, {"store": str(fleet), "subscription_id": other})).get_hosts()) == []
    module(vmss, fleet, subscription_id=other, resource_group="rg", name="db", image={**UBUNTU}, instances=["db-01"])
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", other)
    assert [h.name for h in inventory(source(tmp_path, {"store": str(fleet)})).get_hosts()] == ["db-01"]


def test_the_store_defaults_as_for_every_module(tmp_path: Path, fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZSIM_VMSS_STORE", str(fleet))
    assert len(inventory(source(tmp_path, {})).get_hosts()) == 6
    monkeypatch.delenv("AZSIM_VMSS_STORE")
    home_store = tmp_path / "home" / ".ansible" / "azsim" / "vmss.sqlite"
    module(vm_image, home_store, **UBUNTU, version=OLD)
    module(vmss, home_store, resource_group="rg", name="solo", image={**UBUNTU}, instances=["solo-01"])
    assert [h.name for h in inventory(source(tmp_path, {})).get_hosts()] == ["solo-01"]


def test_include_and_exclude_host_filters(tmp_path: Path, fleet: Path) -> None:
    config = {
        "store": str(fleet),
        "include_host_filters": ["vmss.name == 'web'", "azsim_upgrade_result is none"],
        "exclude_host_filters": ["powerstate != 'running'", "azsim_health == 'Unhealthy'"],
    }
    inv = inventory(source(tmp_path, config))
    assert sorted(h.name for h in inv.get_hosts()) == ["api-01", "web-01", "web-02", "web-05"]


def test_a_filter_that_cannot_be_evaluated_fails_only_when_strict(tmp_path: Path, fleet: Path) -> None:
    from ansible.errors import AnsibleParserError

    config = {"store": str(fleet), "exclude_host_filters": ["tags.owner == 'me'"]}
    assert len(inventory(source(tmp_path, config)).get_hosts()) == 6
    with pytest.raises(AnsibleParserError, match=r"could not evaluate the filter .*tags.owner"):
        plugin_parse(source(tmp_path, {**config, "strict": True}))


def test_hostnames_take_the_first_expression_that_gives_a_name(tmp_path: Path, fleet: Path) -> None:
    inv = inventory(source(tmp_path, {"store": str(fleet), "hostnames": ["tags.vm_name | default('')", "name"]}))
    assert sorted(h.name for h in inv.get_hosts()) == ["api_0", "web_0", "web_1", "web_2", "web_3", "web_4"]
    inv = inventory(source(tmp_path, {"store": str(fleet), "hostnames": ["tags.vm_name | default('')", "default"]}))
    assert "web-01" in [h.name for h in inv.get_hosts()]


def test_instances_of_the_same_name_in_two_scale_sets_warn_and_hostnames_tell_them_apart(
    tmp_path: Path, fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module(vmss, fleet, resource_group="rg-other", name="web2", image={**UBUNTU}, instances=["web-01"])
    inv = inventory(source(tmp_path, {"store": str(fleet)}))
    assert hostvars(inv, "web-01")["vmss"]["name"] == "web2"  # ordered by scale set id: rg-other/web2 last
    assert "host web-01 is an instance of both" in capsys.readouterr().err
    apart = {"store": str(fleet), "hostnames": ["default_inventory_hostname + '.' + vmss.name"]}
    names = sorted(h.name for h in inventory(source(tmp_path, apart)).get_hosts())
    assert names == ["api-01.api", "web-01.web", "web-01.web2", "web-02.web", "web-03.web", "web-04.web", "web-05.web"]


def test_only_azsim_vmss_source_files_are_claimed(tmp_path: Path, fleet: Path) -> None:
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get("azsim.vmss.vmss")
    for name, claimed in [
        ("demo.azsim_vmss.yml", True),
        ("demo.azsim_vmss.yaml", True),
        ("azsim_vmss.yml", True),
        ("azsim_vmss.yaml", True),
        ("demoazsim_vmss.yml", False),
        ("demo.yml", False),
        ("azsim_vmss.yml.bak", False),
    ]:
        assert plugin.verify_file(source(tmp_path, {"store": str(fleet)}, name)) is claimed, name


# -- reading writes nothing -------------------------------------------------------------------------------------


def test_a_missing_store_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    from ansible.errors import AnsibleParserError

    missing = tmp_path / "nowhere" / "vmss.sqlite"
    with pytest.raises(AnsibleParserError, match=r"store .*nowhere/vmss.sqlite: does not exist; nothing was created"):
        plugin_parse(source(tmp_path, {"store": str(missing)}))
    assert not missing.parent.exists()


def test_a_file_that_is_not_a_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    from ansible.errors import AnsibleParserError

    other = tmp_path / "notes.txt"
    other.write_text("not a store\n" * 100)
    before = folder_state(tmp_path)
    with pytest.raises(AnsibleParserError, match="is not an azsim.vmss store"):
        plugin_parse(source(tmp_path, {"store": str(other)}, "x.azsim_vmss.yml"))
    after = folder_state(tmp_path)
    after.pop("x.azsim_vmss.yml")
    assert after == before


def test_reading_the_inventory_writes_nothing(tmp_path: Path, fleet: Path) -> None:
    path = source(tmp_path, {"store": str(fleet), "keyed_groups": [{"key": "azsim_health"}]})
    before = folder_state(fleet.parent)
    inventory(path)
    inventory(path)
    assert folder_state(fleet.parent) == before


# -- cache (Cacheable) --------------------------------------------------------------------------------------------


def test_the_cache_answers_until_a_refresh(tmp_path: Path, fleet: Path) -> None:
    config = {
        "store": str(fleet),
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    path = source(tmp_path, config)
    assert len(inventory(path).get_hosts()) == 6  # nothing cached yet: read, and cached
    assert os.listdir(tmp_path / "cache")
    module(vmss, fleet, resource_group="rg-other", name="api", image={**UBUNTU}, instances=["api-01", "api-02"])
    assert len(inventory(path).get_hosts()) == 6  # from the cache
    assert len(inventory(path, cache=False).get_hosts()) == 7  # a refresh (meta: refresh_inventory) reads the store
    assert len(inventory(path).get_hosts()) == 7  # and updated the cache


def test_the_example_inventory_file_gives_the_groups_it_promises(tmp_path: Path, fleet: Path) -> None:
    """playbooks/inventory/demo.azsim_vmss.yml, pointed at a store with a rolled-out rg-demo."""
    example = Path(__file__).resolve().parents[4] / "playbooks" / "inventory" / "demo.azsim_vmss.yml"
    config = yaml.safe_load(example.read_text())
    assert config["store"] == "build/demo/vmss.sqlite"
    inv = inventory(source(tmp_path, {**config, "store": str(fleet)}, "demo.azsim_vmss.yml"))
    found = groups(inv)
    assert found["azsim_image_version_24_04_202502010"] == WEB
    assert found["azsim_result_failed"] == ["web-03", "web-04"]
    assert found["azsim_result_upgraded"] == ["web-01", "web-02", "web-05"]
    assert found["azsim_vmss_web"] == WEB
    assert found["azsim_health_Unhealthy"] == ["web-03", "web-04"]
    assert "api-01" not in [h.name for h in inv.get_hosts()]  # resource_groups: [rg-demo]
    assert hostvars(inv, "web-01")["ansible_connection"] == "local"


def test_a_store_on_nfs_is_refused_as_every_module_refuses_it(
    tmp_path: Path, fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 15 part 4: SQLite's WAL is not safe on a network file system (_store/filesystems.py)."""
    from ansible.errors import AnsibleParserError

    from ansible_collections.azsim.vmss.plugins.module_utils._store import filesystems

    fake = tmp_path / "mountinfo"
    fake.write_text(
        f"1 0 0:1 / / rw - ext4 /dev/vda rw\n2 1 0:2 / {os.path.realpath(fleet.parent)} rw - nfs nas:/x rw\n"
    )
    monkeypatch.setattr(filesystems, "MOUNTINFO", str(fake))
    with pytest.raises(AnsibleParserError, match=r"vmss.sqlite: is on a nfs file system \(nas:/x mounted at "):
        plugin_parse(source(tmp_path, {"store": str(fleet)}))
