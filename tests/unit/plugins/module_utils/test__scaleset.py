# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated scale set as plain Python: REST model, instances, extensions, model versions, names."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import (
    check_instance_name,
    check_resource_group,
    check_scale_set_name,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import provision, sequence
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import VMSS_SCHEMA, validate
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit._harness import dump

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-web"
VMSS_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal/images/web"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
SECRET = "s3cr3t-Sas-Token-0451"
HOUR = 3600


# -- helpers ---------------------------------------------------------------------------------------------


def params(**given_options: Any) -> dict[str, Any]:
    """Module parameters as AnsibleModule hands them over: every option present, None when not given."""
    out: dict[str, Any] = {
        "resource_group": RG,
        "name": "web",
        "state": "present",
        "location": None,
        "api_version": None,
        "os_type": None,
        "image": None,
        "windows_configuration": None,
        "extensions": None,
        "health_probe": None,
        "service_fabric": None,
        "single_placement_group": None,
        "zones": None,
        "instances": None,
        "simulation": None,
    }
    out.update(given_options)
    return out


def ext(name: str, after: list[str] | None = None, **options: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "publisher": "Contoso.Tools",
        "type": "Agent",
        "type_handler_version": "1.0",
        "provision_after_extensions": after,
        "settings": None,
        "protected_settings": None,
        "credential_expiry": None,
    }
    out.update(options)
    return out


def probe(protocol: str = "tcp", port: int = 80, request_path: str | None = None) -> dict[str, Any]:
    return {
        "id": None,
        "protocol": protocol,
        "port": port,
        "request_path": request_path,
        "load_balancer_sku": "Standard",
    }


def publish(store: Store, version: str, location: str = "eastus") -> None:
    catalogue.publish_platform(store, UBUNTU["publisher"], UBUNTU["offer"], UBUNTU["sku"], version, location, True)


def ensure(store: Store, **options: Any) -> dict[str, Any]:
    return act(ensure_scale_set, store, SUB, params(**options))


def create(store: Store, **options: Any) -> dict[str, Any]:
    options.setdefault("image", dict(UBUNTU))
    return ensure(store, **options)


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in result["instances"]}


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "store.sqlite"))
    try:
        with opened.transaction():
            publish(opened, "1.0.0")
            yield opened
    finally:
        opened.close()


# -- the model in Azure's REST shape -------------------------------------------------------------------


def test_model_is_azures_rest_shape(store: Store) -> None:
    result = create(
        store,
        instances=["web-01", "web-02", "web-03"],
        extensions=[
            ext(
                "health",
                publisher="Microsoft.ManagedServices",
                type="ApplicationHealthLinux",
                type_handler_version="2.0",
                settings={"protocol": "http", "port": 80, "requestPath": "/health"},
            ),
            ext(
                "custom",
                after=["health"],
                settings={"fileUris": ["https://example.invalid/x.sh"]},
                protected_settings={"storageAccountKey": SECRET, "commandToExecute": "sh x.sh"},
            ),
        ],
    )
    vmss = result["vmss"]
    assert vmss["id"] == VMSS_ID
    assert vmss["name"] == "web"
    assert vmss["type"] == "Microsoft.Compute/virtualMachineScaleSets"
    assert vmss["location"] == "eastus"
    assert vmss["sku"]["capacity"] == 3
    props = vmss["properties"]
    assert props["upgradePolicy"] == {
        "mode": "Manual",
        "automaticOSUpgradePolicy": {
            "enableAutomaticOSUpgrade": False,
            "disableAutomaticRollback": False,
            "useRollingUpgradePolicy": False,
            "osRollingUpgradeDeferral": False,
        },
        "rollingUpgradePolicy": {
            "maxBatchInstancePercent": 20,
            "maxUnhealthyInstancePercent": 20,
            "maxUnhealthyUpgradedInstancePercent": 20,
            "pauseTimeBetweenBatches": "PT0S",
            "enableCrossZoneUpgrade": False,
            "prioritizeUnhealthyInstances": False,
            "rollbackFailedInstancesOnPolicyBreach": False,
            "maxSurge": False,
        },
    }
    assert props["singlePlacementGroup"] is True
    profile = props["virtualMachineProfile"]
    assert profile["storageProfile"]["imageReference"] == UBUNTU
    assert profile["storageProfile"]["osDisk"]["osType"] == "Linux"
    assert "linuxConfiguration" in profile["osProfile"]
    assert "networkProfile" not in profile
    extensions = profile["extensionProfile"]["extensions"]
    assert [e["name"] for e in extensions] == ["health", "custom"]
    assert extensions[0]["properties"]["publisher"] == "Microsoft.ManagedServices"
    assert extensions[0]["properties"]["typeHandlerVersion"] == "2.0"
    assert extensions[0]["properties"]["settings"] == {"protocol": "http", "port": 80, "requestPath": "/health"}
    assert extensions[1]["properties"]["provisionAfterExtensions"] == ["health"]
    assert "provisionAfterExtensions" not in extensions[0]["properties"]
    validate(vmss, VMSS_SCHEMA)  # the returned model is itself valid
    instance = result["instances"][0]
    assert set(instance) >= {
        "instance_id",
        "name",
        "zone",
        "update_domain",
        "os_disk",
        "previous_os_disk",
        "data_disks",
        "power_state",
        "health",
        "provisioning_state",
        "extensions",
        "latest_model_applied",
    }
    assert not set(instance) & {"model_version", "disk_generation"}  # internal bookkeeping stays inside
    assert instance["os_disk"]["name"].startswith("web_0_OsDisk_1_")


def test_protected_settings_are_never_returned_nor_stored(store: Store) -> None:
    extensions = [ext("custom", protected_settings={"storageAccountKey": SECRET})]
    results = [
        create(store, instances=["a"], extensions=extensions),
        ensure(store, extensions=[ext("custom", protected_settings={"storageAccountKey": SECRET + "-2"})]),
        act(scale_set_info, store, SUB, {"resource_group": RG, "name": "web"}),
        act(scale_set_info, store, SUB, {"resource_group": RG, "name": None}),
        ensure(store, state="absent"),
    ]
    for result in results:
        text = json.dumps(result)
        assert SECRET not in text
        assert "storageAccountKey" not in text
        assert "protectedSettings" not in text
        assert "protected_settings" not in text
    stored = "\n".join(dump(store))
    assert SECRET not in stored
    assert "storageAccountKey" not in stored


def test_gallery_windows_and_probe_model(store: Store) -> None:
    catalogue.publish_gallery(store, GALLERY, "1.0.0", ["eastus"], None, True)
    result = ensure(
        store,
        image={"id": GALLERY, "publisher": None, "offer": None, "sku": None, "version": None},
        os_type="windows",
        windows_configuration={"enable_automatic_updates": False, "patch_mode": "AutomaticByOS"},
        health_probe=probe("http", 8080, "/healthz"),
        instances=["w1"],
    )
    profile = result["vmss"]["properties"]["virtualMachineProfile"]
    assert profile["storageProfile"]["imageReference"] == {"id": GALLERY}
    assert profile["storageProfile"]["osDisk"]["osType"] == "Windows"
    assert profile["osProfile"]["windowsConfiguration"] == {
        "enableAutomaticUpdates": False,
        "patchSettings": {"patchMode": "AutomaticByOS"},
    }
    assert "linuxConfiguration" not in profile["osProfile"]
    assert profile["networkProfile"]["healthProbe"]["id"] == (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/loadBalancers/web-lb/probes/http-8080"
    )
    assert result["instances"][0]["os_disk"]["image_version"] == "1.0.0"


# -- instances: ids, scaling, placement --------------------------------------------------------------------


def ids(result: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["instance_id"] for i in result["instances"]}


def test_instance_ids_are_stable_per_host_name_across_runs(tmp_path: Any) -> None:
    path = str(tmp_path / "store.sqlite")

    def run(**options: Any) -> dict[str, Any]:  # one module call: its own open store and transaction
        opened = Store.open(path)
        try:
            with opened.transaction():
                publish(opened, "1.0.0")
                return create(opened, **options)
        finally:
            opened.close()

    assert ids(run(instances=["a", "b", "c"])) == {"a": "0", "b": "1", "c": "2"}
    assert ids(run(instances=["c", "b", "a"])) == {"a": "0", "b": "1", "c": "2"}  # list order is irrelevant
    assert ids(run(instances=["a", "c"])) == {"a": "0", "c": "2"}  # scale in
    assert ids(run(instances=["a", "c", "d"])) == {"a": "0", "c": "2", "d": "3"}  # a new name, a new id
    assert ids(run(instances=["a", "b", "c", "d"])) == {"a": "0", "b": "1", "c": "2", "d": "3"}  # b is back as 1
    assert ids(run(instances=["e"])) == {"e": "4"}
    assert ids(run(instances=["d", "e", "b"])) == {"b": "1", "d": "3", "e": "4"}
    result = run(instances=["a", "b", "c", "d", "e", "f"])
    assert ids(result) == {"a": "0", "b": "1", "c": "2", "d": "3", "e": "4", "f": "5"}
    assert [i["instance_id"] for i in result["instances"]] == ["0", "1", "2", "3", "4", "5"]  # ordered by id


def test_scale_out_and_in(store: Store) -> None:
    result = create(store, instances=["a", "b"])
    assert result["vmss"]["sku"]["capacity"] == 2
    result = ensure(store, instances=["a", "b", "c", "d"])
    assert result["vmss"]["sku"]["capacity"] == 4
    assert sorted(by_name(result)) == ["a", "b", "c", "d"]
    result = ensure(store, instances=["d"])
    assert result["vmss"]["sku"]["capacity"] == 1
    assert list(by_name(result)) == ["d"]
    stored = scaleset.load_instances(store, VMSS_ID.lower())
    assert [i["name"] for i in stored] == ["d"]
    result = ensure(store, instances=[])
    assert result["vmss"]["sku"]["capacity"] == 0
    assert result["instances"] == []
    assert scaleset.load_instances(store, VMSS_ID.lower()) == []


def test_instances_not_given_are_kept(store: Store) -> None:
    create(store, instances=["a", "b"])
    result = ensure(store, single_placement_group=False)
    assert sorted(by_name(result)) == ["a", "b"]


def test_new_instances_get_latest_resolved_exactly(store: Store) -> None:
    publish(store, "1.10.0")
    publish(store, "1.9.0")
    result = create(store, instances=["a"])
    assert by_name(result)["a"]["os_disk"]["image_version"] == "1.10.0"
    assert (
        result["vmss"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]["version"] == "latest"
    )
    store.set_now(EPOCH + HOUR)
    publish(store, "1.11.0")
    result = ensure(store, instances=["a", "b"])
    assert by_name(result)["a"]["os_disk"]["image_version"] == "1.10.0"  # later publications do not touch it
    assert by_name(result)["b"]["os_disk"]["image_version"] == "1.11.0"
    again = ensure(store, instances=["a", "b"])
    assert again["before"] == again["after"]
    for instance in again["instances"]:
        assert instance["os_disk"]["image_version"] != "latest"


def test_new_instances_get_a_pinned_version(store: Store) -> None:
    publish(store, "2.0.0")
    result = create(store, image={**UBUNTU, "version": "1.0.0"}, instances=["a"])
    assert by_name(result)["a"]["os_disk"]["image_version"] == "1.0.0"


def test_new_instances_follow_the_location_of_the_scale_set(store: Store) -> None:
    publish(store, "3.0.0", "westus")
    result = create(store, location="West US", instances=["a"])
    assert result["vmss"]["location"] == "westus"
    assert by_name(result)["a"]["os_disk"]["image_version"] == "3.0.0"


def test_zones_round_robin_by_instance_id(store: Store) -> None:
    result = create(store, zones=["1", "2", "3"], instances=[f"h{n}" for n in range(7)])
    assert [(i["instance_id"], i["zone"]) for i in result["instances"]] == [
        ("0", "1"),
        ("1", "2"),
        ("2", "3"),
        ("3", "1"),
        ("4", "2"),
        ("5", "3"),
        ("6", "1"),
    ]
    assert result["vmss"]["zones"] == ["1", "2", "3"]


def test_zones_explicit_and_numeric(store: Store) -> None:
    result = create(
        store,
        zones=["1", "2"],
        instances=[{"name": "a", "zone": "2"}, {"name": "b", "zone": 1}, "c", "d"],
    )
    zones = {n: i["zone"] for n, i in by_name(result).items()}
    assert zones == {"a": "2", "b": "1", "c": "1", "d": "2"}  # c is id 2, d id 3


def test_no_zones_means_zone_none(store: Store) -> None:
    result = create(store, instances=["a"])
    assert by_name(result)["a"]["zone"] is None
    assert "zones" not in result["vmss"]


def test_update_domain_defaults_to_id_mod_5(store: Store) -> None:
    names = [f"h{n}" for n in range(12)]
    result = create(store, instances=names)
    assert [i["update_domain"] for i in result["instances"]] == [n % 5 for n in range(12)]
    result = create(store, name="web2", instances=[{"name": "x", "update_domain": 17}, "y"])
    assert by_name(result)["x"]["update_domain"] == 17
    assert by_name(result)["y"]["update_domain"] == 1


def test_instance_dict_attributes(store: Store) -> None:
    result = create(
        store,
        instances=[
            {"name": "a", "health": "Unhealthy", "power_state": "running"},
            {"name": "b", "power_state": "stopped"},
            {"name": "c", "data_disks": [{"lun": 0, "disk_size_gb": 256}, {"lun": 3, "name": "logs"}]},
        ],
    )
    a, b, c = (by_name(result)[n] for n in "abc")
    assert (a["health"], a["power_state"]) == ("Unhealthy", "running")
    assert (b["health"], b["power_state"]) == ("Unhealthy", "stopped")  # a stopped instance answers nothing
    assert c["data_disks"] == [
        {"lun": 0, "name": "web_c_disk0", "disk_size_gb": 256},
        {"lun": 3, "name": "logs", "disk_size_gb": 128},
    ]


def test_restating_the_power_state_keeps_health(store: Store) -> None:
    create(store, instances=[{"name": "a", "health": "Unhealthy"}, {"name": "b", "power_state": "stopped"}])
    result = ensure(store, instances=[{"name": "a", "power_state": "running"}, {"name": "b", "power_state": "stopped"}])
    assert result["before"] == result["after"]
    assert by_name(result)["a"]["health"] == "Unhealthy"
    result = ensure(store, instances=[{"name": "a", "power_state": "running"}, {"name": "b", "power_state": "running"}])
    assert by_name(result)["b"]["health"] == "Healthy"  # started again: health is assessed again
    assert by_name(result)["a"]["health"] == "Unhealthy"
    result = ensure(store, instances=[{"name": "a", "power_state": "deallocated"}, "b"])
    assert by_name(result)["a"]["health"] == "Unhealthy"
    assert by_name(result)["a"]["power_state"] == "deallocated"


@pytest.mark.parametrize(
    ("instances", "zones", "message"),
    [
        ([{"name": "a", "colour": "red"}], None, r"^instances\[0\]: unknown key colour"),
        (["a", {"name": "b", "zone": "1", "az": "1"}], ["1"], r"^instances\[1\]: unknown key az"),
        ([{"name": "a", "zone": "4"}], ["1", "2"], r"^instances\[0\]\.zone: '4' is not one of .*\(1, 2\)"),
        ([{"name": "a", "zone": "1"}], None, r"^instances\[0\]\.zone: '1'.*set zones on the scale set"),
        (["a", {"name": "b", "health": "Sick"}], None, r"^instances\[1\]\.health: 'Sick'.*Healthy"),
        ([{"name": "a", "health": "healthy"}], None, r"^instances\[0\]\.health: "),
        ([{"name": "a", "power_state": "on"}], None, r"^instances\[0\]\.power_state: 'on'.*running"),
        (["a", "b", "a"], None, r"^instances\[2\]\.name: 'a' is listed twice"),
        (["a", {"name": "a"}], None, r"^instances\[1\]\.name: 'a' is listed twice"),
        ([{"zone": "1"}], ["1"], r"^instances\[0\]\.name: None"),
        (["web 01"], None, r"^instances\[0\]\.name: 'web 01'"),
        (["a", "x/y"], None, r"^instances\[1\]\.name: 'x/y'"),
        ([""], None, r"^instances\[0\]\.name: ''"),
        ([42], None, r"^instances\[0\]: give a host name or a dict"),
        ([["a"]], None, r"^instances\[0\]: give a host name or a dict"),
        ([{"name": "a", "update_domain": 20}], None, r"^instances\[0\]\.update_domain: 20"),
        ([{"name": "a", "update_domain": -1}], None, r"^instances\[0\]\.update_domain: -1"),
        ([{"name": "a", "update_domain": True}], None, r"^instances\[0\]\.update_domain: True"),
        ([{"name": "a", "update_domain": "2"}], None, r"^instances\[0\]\.update_domain: '2'"),
        ([{"name": "a", "data_disks": {"lun": 0}}], None, r"^instances\[0\]\.data_disks: give a list"),
        ([{"name": "a", "data_disks": [{"lun": 0}, {"lun": 0}]}], None, r"^instances\[0\]\.data_disks\[1\]\.lun: 0"),
        ([{"name": "a", "data_disks": [{"lun": 64}]}], None, r"^instances\[0\]\.data_disks\[0\]\.lun: 64"),
        (
            [{"name": "a", "data_disks": [{"lun": 1, "size": 5}]}],
            None,
            r"^instances\[0\]\.data_disks\[0\]: unknown key size",
        ),
        (
            [{"name": "a", "data_disks": [{"lun": 1, "disk_size_gb": 0}]}],
            None,
            r"^instances\[0\]\.data_disks\[0\]\.disk_size_gb: 0",
        ),
    ],
)
def test_bad_instances_name_the_path_and_write_nothing(
    store: Store, instances: list[Any], zones: list[str] | None, message: str
) -> None:
    create(store, instances=["keep"])
    before = dump(store)
    with pytest.raises(InvalidInput, match=message):
        ensure(store, zones=zones, instances=instances)
    assert dump(store) == before
    with pytest.raises(InvalidInput, match=message):  # the same on creation
        create(store, name="fresh", zones=zones, instances=instances)
    assert dump(store) == before


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ({"name": "a", "zone": "1"}, {"name": "a", "zone": "2"}, r"^instances\[0\]\.zone: instance a is in zone '1'"),
        ("a", {"name": "a", "zone": "2"}, r"^instances\[0\]\.zone: instance a is in zone '1'"),  # id 0 → zone 1
        (
            {"name": "a", "update_domain": 3},
            {"name": "a", "update_domain": 4},
            r"^instances\[0\]\.update_domain: instance a is in update domain 3",
        ),
    ],
)
def test_an_instance_cannot_move(store: Store, first: Any, second: Any, message: str) -> None:
    create(store, zones=["1", "2"], instances=[first])
    before = dump(store)
    with pytest.raises(InvalidInput, match=message):
        ensure(store, instances=[second])
    assert dump(store) == before
    same = ensure(store, instances=[first])  # restating the placement is fine
    assert same["before"] == same["after"]


# -- extensions ------------------------------------------------------------------------------------------


def rest_extensions(spec: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "properties": {
                "publisher": "P",
                "type": "T",
                "typeHandlerVersion": "1.0",
                **({"provisionAfterExtensions": after} if after else {}),
            },
        }
        for name, after in spec
    ]


@pytest.mark.parametrize(
    ("spec", "order"),
    [
        ([("a", []), ("b", []), ("c", [])], ["a", "b", "c"]),
        ([("c", []), ("a", []), ("b", [])], ["c", "a", "b"]),
        ([("a", ["b"]), ("b", [])], ["b", "a"]),
        ([("a", ["c"]), ("b", ["a"]), ("c", [])], ["c", "a", "b"]),
        ([("a", ["b", "c"]), ("b", []), ("c", [])], ["b", "c", "a"]),
        ([("a", ["c", "b"]), ("b", []), ("c", [])], ["b", "c", "a"]),
        ([("a", []), ("b", ["d"]), ("c", []), ("d", [])], ["a", "c", "d", "b"]),
        ([("x", ["y"]), ("y", ["z"]), ("z", [])], ["z", "y", "x"]),
        ([("h", []), ("a", ["h"]), ("b", ["h"]), ("c", ["a", "b"])], ["h", "a", "b", "c"]),
    ],
)
def test_extension_sequencing_order(spec: list[tuple[str, list[str]]], order: list[str]) -> None:
    assert sequence(rest_extensions(spec)) == order


@st.composite
def acyclic_extensions(draw: Any) -> list[tuple[str, list[str]]]:
    count = draw(st.integers(min_value=0, max_value=8))
    names = [f"e{n}" for n in range(count)]
    rank = draw(st.permutations(names))  # a hidden order that every dependency respects
    spec = []
    for name in names:
        earlier = list(rank[: rank.index(name)])
        after = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        spec.append((name, after))
    return spec


@settings(deadline=None)
@given(acyclic_extensions())
def test_extension_sequencing_is_a_topological_order(spec: list[tuple[str, list[str]]]) -> None:
    order = sequence(rest_extensions(spec))
    assert sorted(order) == sorted(name for name, _after in spec)
    position = {name: index for index, name in enumerate(order)}
    for name, after in spec:
        for dep in after:
            assert position[dep] < position[name]
    free = [name for name, after in spec if not after]
    dependents_free = [n for n in order if n in free and not any(n in a for _x, a in spec)]
    listed = [name for name, _after in spec if name in dependents_free]
    assert dependents_free == listed  # unconstrained extensions keep their listed order


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([("a", ["a"])], r"cycle \(a -> a\)"),
        ([("a", ["b"]), ("b", ["a"])], r"cycle \(a -> b -> a\)"),
        ([("a", []), ("b", ["c"]), ("c", ["d"]), ("d", ["b"])], r"cycle \(b -> c -> d -> b\)"),
    ],
)
def test_extension_cycles_are_errors(store: Store, spec: list[tuple[str, list[str]]], message: str) -> None:
    with pytest.raises(InvalidInput, match=r"^extensions: provision_after_extensions has a " + message):
        create(store, extensions=[ext(name, after or None) for name, after in spec])
    assert scaleset.load(store, SUB, RG, "web") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([("a", ["ghost"])], r"^extensions\[0\]\.provision_after_extensions: 'ghost' is not an extension"),
        ([("a", []), ("b", ["A"])], r"^extensions\[1\]\.provision_after_extensions: 'A' is not an extension"),
        ([("a", []), ("a", [])], r"^extensions\[1\]\.name: 'a' is listed twice"),
        ([("a", []), ("A", [])], r"^extensions\[1\]\.name: 'A' is listed twice"),
    ],
)
def test_extension_reference_errors_name_the_path(
    store: Store, spec: list[tuple[str, list[str]]], message: str
) -> None:
    create(store, instances=["a"])
    before = dump(store)
    with pytest.raises(InvalidInput, match=message):
        ensure(store, extensions=[ext(name, after or None) for name, after in spec])
    assert dump(store) == before


def test_provision_fails_dependents_of_a_failure() -> None:
    extensions = rest_extensions([("a", ["c"]), ("b", []), ("c", []), ("d", ["a"])])
    assert provision(extensions, {"c"}) == [
        {"name": "b", "provisioning_state": "Succeeded"},
        {"name": "c", "provisioning_state": "Failed"},
        {"name": "a", "provisioning_state": "Failed"},
        {"name": "d", "provisioning_state": "Failed"},
    ]
    assert all(e["provisioning_state"] == "Succeeded" for e in provision(extensions, set()))


def chain(expiry: str | None) -> list[dict[str, Any]]:
    return [ext("a", ["c"]), ext("b"), ext("c", credential_expiry=expiry)]


@pytest.mark.parametrize(
    ("expiry", "failed"),
    [
        ("2024-12-31T23:59:59Z", {"c", "a"}),
        ("2025-01-01T00:00:00Z", {"c", "a"}),  # expires at now: already expired
        ("2025-01-01T00:00:01Z", set()),
        ("2025-01-01T00:59:59+01:00", {"c", "a"}),  # 2024-12-31T23:59:59Z
        ("2025-01-01T01:00:01+01:00", set()),  # 2025-01-01T00:00:01Z
        (None, set()),
    ],
)
def test_expired_credential_fails_the_extension_and_its_dependents(
    store: Store, expiry: str | None, failed: set[str]
) -> None:
    result = create(store, instances=["a"], extensions=chain(expiry))
    instance = by_name(result)["a"]
    assert [e["name"] for e in instance["extensions"]] == ["b", "c", "a"]
    assert {e["name"] for e in instance["extensions"] if e["provisioning_state"] == "Failed"} == failed
    assert instance["health"] == ("Unhealthy" if failed else "Healthy")  # no health source: Azure's own rule


def test_expired_credential_with_a_health_probe_leaves_health_to_the_probe(store: Store) -> None:
    result = create(store, instances=["a"], extensions=chain("2024-01-01T00:00:00Z"), health_probe=probe())
    instance = by_name(result)["a"]
    assert {e["name"]: e["provisioning_state"] for e in instance["extensions"]}["c"] == "Failed"
    assert instance["health"] == "Healthy"


def test_expiry_only_affects_new_instances(store: Store) -> None:
    create(store, instances=["old"], extensions=chain("2025-01-01T01:00:00Z"))
    store.set_now(EPOCH + 2 * HOUR)
    result = ensure(store, instances=["old", "new"])
    states = {n: {e["name"]: e["provisioning_state"] for e in i["extensions"]} for n, i in by_name(result).items()}
    assert states["old"] == {"a": "Succeeded", "b": "Succeeded", "c": "Succeeded"}
    assert states["new"] == {"a": "Failed", "b": "Succeeded", "c": "Failed"}
    assert result["simulator"]["credential_expiry"]["c"] == "2025-01-01T01:00:00Z"


def test_bad_credential_expiry_names_the_path(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"^extensions\[1\]\.credential_expiry: 'next week'"):
        create(store, extensions=[ext("a"), ext("b", credential_expiry="next week")])


# -- model changes ---------------------------------------------------------------------------------------

BASE_EXTENSIONS = [
    ext("custom", settings={"x": 1}, protected_settings={"key": SECRET}, credential_expiry="2026-01-01T00:00:00Z")
]


def model_versions(result: dict[str, Any]) -> tuple[int, list[bool]]:
    return result["simulator"]["model_version"], [i["latest_model_applied"] for i in result["instances"]]


@pytest.mark.parametrize(
    ("change", "bumps"),
    [
        ({"extensions": BASE_EXTENSIONS + [ext("new")]}, True),
        ({"extensions": [{**BASE_EXTENSIONS[0], "credential_expiry": "2027-01-01T00:00:00Z"}]}, True),
        ({"extensions": [{**BASE_EXTENSIONS[0], "protected_settings": {"key": "rotated"}}]}, True),
        ({"extensions": [{**BASE_EXTENSIONS[0], "protected_settings": None}]}, True),
        ({"extensions": [{**BASE_EXTENSIONS[0], "settings": {"x": 2}}]}, True),
        ({"extensions": [{**BASE_EXTENSIONS[0], "type_handler_version": "1.1"}]}, True),
        ({"extensions": []}, True),
        ({"image": {**UBUNTU, "version": "1.0.0"}}, True),
        ({"health_probe": probe()}, True),
        ({"extensions": copy.deepcopy(BASE_EXTENSIONS)}, False),
        ({"image": dict(UBUNTU)}, False),
        ({"location": "East US"}, False),
        (
            {
                "simulation": {
                    "seed": 7,
                    "reimage_duration": None,
                    "boot_duration": None,
                    "first_rollout_delay": None,
                    "rollout_delay": None,
                    "faults": None,
                }
            },
            False,
        ),
        ({}, False),
    ],
)
def test_model_changes_bump_the_model_version(store: Store, change: dict[str, Any], bumps: bool) -> None:
    create(store, instances=["a", "b"], extensions=copy.deepcopy(BASE_EXTENSIONS))
    result = ensure(store, instances=["a", "b"], **copy.deepcopy(change))
    if bumps:
        assert model_versions(result) == (2, [False, False])
        assert result["before"] != result["after"]
        grown = ensure(store, instances=["a", "b", "c"], **copy.deepcopy(change))
        assert model_versions(grown) == (2, [False, False, True])  # a new instance gets the current model
    else:
        assert model_versions(result) == (1, [True, True])


def test_identical_rerun_changes_nothing(store: Store) -> None:
    options = {
        "instances": ["a", {"name": "b", "zone": "2", "data_disks": [{"lun": 0}]}],
        "zones": ["1", "2"],
        "extensions": copy.deepcopy(BASE_EXTENSIONS),
        "health_probe": probe("http", 80, "/health"),
        "simulation": {
            "seed": 3,
            "reimage_duration": "PT2M",
            "boot_duration": None,
            "first_rollout_delay": None,
            "rollout_delay": None,
            "faults": [{"type": "boot_unhealthy", "instances": ["a"]}],
        },
    }
    first = create(store, **copy.deepcopy(options))
    stored = dump(store)
    store.set_now(EPOCH + 24 * HOUR)
    second = create(store, **copy.deepcopy(options))
    assert second["before"] == second["after"] == first["after"]
    assert model_versions(second) == (1, [True, True])
    assert [line for line in dump(store) if 'INSERT INTO "meta"' not in line] == [
        line for line in stored if 'INSERT INTO "meta"' not in line
    ]


def test_absent_deletes_the_scale_set_and_its_instances(store: Store) -> None:
    create(store, instances=["a", "b"])
    result = ensure(store, state="absent")
    assert result["after"] == {} and result["vmss"] is None and result["instances"] == []
    assert result["before"]["vmss"]["id"] == VMSS_ID
    assert scaleset.load(store, SUB, RG, "web") is None
    assert scaleset.load_instances(store, VMSS_ID.lower()) == []
    again = ensure(store, state="absent")
    assert again["before"] == again["after"] == {}


def test_location_cannot_change(store: Store) -> None:
    publish(store, "1.0.0", "westus")
    create(store, instances=["a"])
    before = dump(store)
    with pytest.raises(InvalidInput, match=r"^location: scale set web is in eastus; .*westus"):
        ensure(store, location="westus")
    assert dump(store) == before
    assert ensure(store, location="EAST US")["before"] == ensure(store, location="eastus")["after"]


def test_image_missing_from_catalogue_on_create(store: Store) -> None:
    with pytest.raises(NotFound, match=r"^image: .*Canonical:other:server:latest.*eastus"):
        create(store, image={**UBUNTU, "offer": "other"})
    with pytest.raises(NotFound, match=r"^image: .*server:latest available in westus"):
        create(store, location="westus", instances=[])
    with pytest.raises(NotFound, match=r"^image: .*version 1\.0\.0"):
        create(store, image={"id": f"{GALLERY}/versions/1.0.0"})
    assert scaleset.load(store, SUB, RG, "web") is None


def test_image_missing_from_catalogue_on_update(store: Store) -> None:
    catalogue.publish_gallery(store, GALLERY, "1.0.0", ["westus"], None, True)
    create(store, image={**UBUNTU, "version": "1.0.0"}, instances=["a"])
    before = dump(store)
    for image, named in [
        ({**UBUNTU, "version": "9.9.9"}, r"server:9\.9\.9 available in eastus"),
        ({**UBUNTU, "offer": "other"}, r"Canonical:other:server:latest available in eastus"),
        ({"id": GALLERY}, r"gallery image .* available in eastus"),  # replicated elsewhere only
    ]:
        with pytest.raises(NotFound, match=r"^image: the catalogue has no .*" + named):
            ensure(store, image=image)
        assert dump(store) == before
    publish(store, "1.1.0")
    assert ensure(store, image={**UBUNTU, "version": "1.1.0"})["simulator"]["model_version"] == 2


def test_an_unchanged_reference_is_not_resolved_again(store: Store) -> None:
    create(store, image={**UBUNTU, "version": "1.0.0"}, instances=["a"])
    catalogue.publish_platform(store, UBUNTU["publisher"], UBUNTU["offer"], UBUNTU["sku"], "1.0.0", "eastus", False)
    again = ensure(store, image={**UBUNTU, "version": "1.0.0"}, instances=["a"])  # withdrawn meanwhile: no error
    assert again["before"] == again["after"]
    with pytest.raises(NotFound):  # but a new instance needs it
        ensure(store, instances=["a", "b"])


def test_image_is_required_on_create(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"^image: required to create scale set web"):
        ensure(store, instances=["a"])


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            {"publisher": "Canonical", "offer": None, "sku": None, "version": None, "id": None},
            r"^image: offer, sku missing",
        ),
        ({**UBUNTU, "version": "1.0"}, r"^image\.version: '1\.0'"),
        ({"id": "/subscriptions/x/images/y"}, r"^image\.id: "),
        ({"id": GALLERY, "publisher": "Canonical"}, r"^image: give either id"),
    ],
)
def test_bad_image_names_the_option(store: Store, image: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        create(store, image=image)


# -- schema validation names the JSON path ----------------------------------------------------------------


def simulation(**given_settings: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: None for k in ("seed", "reimage_duration", "boot_duration", "first_rollout_delay", "rollout_delay", "faults")
    }
    out.update(given_settings)
    return out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"simulation": simulation(faults=[{"type": "boot_unhealthy", "probability": 1.5}])},
            r"^simulation\.faults\[0\]\.probability: 1\.5",
        ),
        (
            {
                "simulation": simulation(
                    faults=[{"type": "boot_unhealthy"}, {"type": "boot_unhealthy", "probability": -0.1}]
                )
            },
            r"^simulation\.faults\[1\]\.probability: -0\.1",
        ),
        (
            {"simulation": simulation(faults=[{"type": "meteor"}])},
            r"^simulation\.faults\[0\]\.type: 'meteor' is not allowed",
        ),
        (
            {"simulation": simulation(faults=[{"type": "slow_boot"}])},
            r"^simulation\.faults\[0\]: 'delay' is a required",
        ),
        ({"simulation": simulation(faults=[{"type": "extension_failure"}])}, r"^simulation\.faults\[0\]: 'extension'"),
        ({"simulation": simulation(faults=[{"type": "unhealthy_at"}])}, r"^simulation\.faults\[0\]: 'at'"),
        (
            {"simulation": simulation(faults=[{"type": "boot_unhealthy", "instances": ["a"], "probability": 0.5}])},
            r"^simulation\.faults\[0\]: give either instances or probability",
        ),
        (
            {"simulation": simulation(faults=[{"type": "boot_unhealthy", "image_version": "2"}])},
            r"^simulation\.faults\[0\]\.image_version: '2'",
        ),
        ({"simulation": simulation(faults=[{"type": "boot_unhealthy", "when": "now"}])}, r"^simulation\.faults\[0\]: "),
        ({"simulation": simulation(seed=-1)}, r"^simulation\.seed: -1"),
        ({"simulation": simulation(reimage_duration="3 minutes")}, r"^simulation\.reimage_duration: '3 minutes'"),
        ({"simulation": simulation(boot_duration="P1M")}, r"^simulation\.boot_duration: 'P1M'"),
        (
            {"extensions": [ext("a", type_handler_version="abc")]},
            r"^properties\.virtualMachineProfile\.extensionProfile\.extensions\[0\]"
            r"\.properties\.typeHandlerVersion: 'abc'",
        ),
        (
            {"extensions": [ext("a"), ext("bad name")]},
            r"^properties\.virtualMachineProfile\.extensionProfile\.extensions\[1\]\.name: 'bad name'",
        ),
        ({"zones": ["1", "4"]}, r"^zones\[1\]: '4' is not allowed"),
        ({"api_version": "2024-11"}, r"^api_version: '2024-11'"),
        ({"api_version": "2024-11-01\n"}, r"^api_version: "),
        ({"health_probe": probe("http", 80, None)}, r"^health_probe\.request_path: required"),
        ({"health_probe": probe("tcp", 70000)}, r"^health_probe: "),
        (
            {"windows_configuration": {"enable_automatic_updates": False, "patch_mode": None}},
            r"^windows_configuration: only for os_type windows",
        ),
    ],
)
def test_validation_errors_name_the_path(store: Store, options: dict[str, Any], message: str) -> None:
    create(store, instances=["a"])
    before = dump(store)
    with pytest.raises(InvalidInput, match=message):
        ensure(store, **options)
    assert dump(store) == before


def test_valid_simulation_settings_are_kept(store: Store) -> None:
    faults = [
        {"type": "slow_boot", "delay": "PT10M", "probability": 0.5, "image_version": "1.1.0"},
        {"type": "extension_failure", "extension": "custom", "instances": ["a"]},
        {"type": "unhealthy_at", "at": "PT2M", "instances": ["a"]},
    ]
    result = create(store, simulation=simulation(seed=9, faults=faults), instances=["a"], extensions=[ext("custom")])
    assert result["simulator"]["simulation"] == {
        "seed": 9,
        "reimage_duration": "PT3M",
        "boot_duration": "PT1M",
        "first_rollout_delay": "PT3H",
        "rollout_delay": "PT30M",
        "faults": faults,
    }
    result = ensure(store, simulation=simulation(boot_duration="PT2M"))  # keys not given keep their value
    assert result["simulator"]["simulation"]["seed"] == 9
    assert result["simulator"]["simulation"]["faults"] == faults
    assert result["simulator"]["simulation"]["boot_duration"] == "PT2M"


# -- names -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("rg", True),
        ("a", True),
        ("a" * 90, True),
        ("rg-web_1.(prod)", True),
        ("Résumé", True),
        ("(x)", True),
        ("rg.", False),
        ("", False),
        ("a" * 91, False),
        ("rg web", False),
        ("rg/web", False),
        ("rg\n", False),
        ("rg#", False),
        (None, False),
        (5, False),
    ],
)
def test_resource_group_names(value: Any, ok: bool) -> None:
    if ok:
        assert check_resource_group(value) == value
    else:
        with pytest.raises(InvalidInput, match=r"^resource_group: "):
            check_resource_group(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("web", True),
        ("w", True),
        ("9", True),
        ("web-01", True),
        ("web_", True),
        ("w.e.b", True),
        ("a" * 64, True),
        ("", False),
        ("-web", False),
        ("_web", False),
        (".web", False),
        ("web-", False),
        ("web.", False),
        ("a" * 65, False),
        ("web set", False),
        ("wéb", False),
        ("web\n", False),
        ("web/x", False),
        (None, False),
    ],
)
def test_scale_set_names(value: Any, ok: bool) -> None:
    if ok:
        assert check_scale_set_name(value) == value
    else:
        with pytest.raises(InvalidInput, match=r"^name: "):
            check_scale_set_name(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("web-01", True),
        ("web-01.example.com", True),
        ("10.0.0.4", True),
        ("host:2222", True),
        ("a" * 255, True),
        ("", False),
        ("a b", False),
        ("a/b", False),
        ("a" * 256, False),
        ("tab\there", False),
        ("host\n", False),
        (None, False),
        (7, False),
    ],
)
def test_instance_names(value: Any, ok: bool) -> None:
    if ok:
        assert check_instance_name(value, "instances[3].name") == value
    else:
        with pytest.raises(InvalidInput, match=r"^instances\[3\]\.name: "):
            check_instance_name(value, "instances[3].name")


@pytest.mark.parametrize(
    ("resource_group", "name", "message"),
    [("rg.", "web", r"^resource_group: 'rg\.'"), (RG, "web-", r"^name: 'web-'"), (RG, "-", r"^name: '-'")],
)
def test_ensure_checks_names_before_anything(store: Store, resource_group: str, name: str, message: str) -> None:
    before = dump(store)
    with pytest.raises(InvalidInput, match=message):
        act(ensure_scale_set, store, SUB, params(resource_group=resource_group, name=name, image=dict(UBUNTU)))
    with pytest.raises(InvalidInput, match=message):
        act(scale_set_info, store, SUB, {"resource_group": resource_group, "name": name})
    assert dump(store) == before


# -- info ------------------------------------------------------------------------------------------------


def test_info_one_and_all(store: Store) -> None:
    create(store, name="web", instances=["a"])
    create(store, name="api", instances=["b", "c"])
    create(store, resource_group="rg-other", name="db")
    one = act(scale_set_info, store, SUB, {"resource_group": RG, "name": "web"})
    assert one["exists"] is True
    assert one["vmss"]["id"] == VMSS_ID
    assert [i["name"] for i in one["instances"]] == ["a"]
    assert "scale_sets" not in one  # returned once, not again in scale_sets (issue 14: compact results)
    every = act(scale_set_info, store, SUB, {"resource_group": RG.upper(), "name": None})
    assert sorted(s["vmss"]["name"] for s in every["scale_sets"]) == ["api", "web"]
    assert "exists" not in every
    missing = act(scale_set_info, store, SUB, {"resource_group": RG, "name": "nope"})
    assert missing["exists"] is False and missing["vmss"] is None and missing["instances"] == []
    other_sub = act(scale_set_info, store, "11111111-1111-1111-1111-111111111111", {"resource_group": RG, "name": None})
    assert other_sub["scale_sets"] == []


def test_removing_a_zone_that_still_holds_instances_is_refused(store: Store) -> None:
    create(store, zones=["1", "2"], instances=["a", "b"])  # a in zone 1, b in zone 2 (round robin by id)
    before = dump(store)
    with pytest.raises(InvalidInput, match=r"^zones: instance b is in zone 2, which this change would remove"):
        ensure(store, zones=["1"])
    assert dump(store) == before


def test_info_with_an_empty_name_is_an_error_not_a_listing(store: Store) -> None:
    create(store)
    with pytest.raises(InvalidInput, match=r"^name: '' is not a valid scale set name"):
        act(scale_set_info, store, SUB, {"resource_group": "rg", "name": ""})


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (
            "properties.virtualMachineProfile.extensionProfile.extensions[0].properties.typeHandlerVersion",
            {"extensions": [{**ext("a"), "type_handler_version": "1.0\n"}]},
        ),
        (
            "simulation.faults[0].image_version",
            {"simulation": {"faults": [{"type": "boot_unhealthy", "image_version": "1.0.0\n"}]}},
        ),
        ("simulation.reimage_duration", {"simulation": {"reimage_duration": "PT3M\n"}}),
    ],
)
def test_schema_patterns_refuse_a_trailing_newline(store: Store, path: str, options: dict[str, Any]) -> None:
    """jsonschema matches `pattern` with re.search, where a bare `$` accepts a final newline."""
    with pytest.raises(InvalidInput, match="^" + re.escape(path) + ":"):
        create(store, **options)
