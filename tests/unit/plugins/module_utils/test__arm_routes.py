# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARM routes beyond the first increment, through the WSGI callable (no network): PATCH, instance
views, approve, manual upgrade, the image catalogue, galleries, Microsoft.Features, providers, resource
groups and the generic store. The real SDK deserialises the same answers in tests/unit/test_arm_sdk.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import KNOWN_API_VERSIONS
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, in_store, make_app, state_files

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
SUB = f"/subscriptions/{SUBSCRIPTION}"
RG = f"{SUB}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"
LOC = f"{SUB}/providers/Microsoft.Compute/locations/eastus"
SKU = f"{LOC}/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server"
GALLERY_IMAGE = f"{RG}/providers/Microsoft.Compute/galleries/g/images/app"
FEATURE = f"{SUB}/providers/Microsoft.Features/providers/Microsoft.Compute/features/AutomaticOSUpgradeWithGalleryImage"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    return WsgiClient(make_app(store_path, files))


@pytest.fixture
def manual(store_path: Path, files: StateFiles) -> WsgiClient:
    return WsgiClient(make_app(store_path, files, clock="manual"))


def publish(store_path: Path, version: str, location: str = "eastus", **image: str) -> None:
    in_store(store_path, publish_image, **(image or UBUNTU), version=version, location=location)


def body(capacity: int = 3, mode: str = "Rolling", auto: bool = False, **auto_extra: Any) -> dict[str, Any]:
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {
                "mode": mode,
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"},
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": auto, **auto_extra},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
            },
        },
    }


def dump(store_path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(store_path)
    try:
        return [
            (table, conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())  # noqa: S608 - our own names
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
    finally:
        conn.close()


def operation_path(url: str | None) -> str:
    assert url is not None and url.startswith("https://127.0.0.1:8443/")
    return url.removeprefix("https://127.0.0.1:8443").split("?")[0]


@pytest.fixture
def scale_set(client: WsgiClient, store_path: Path) -> dict[str, Any]:
    publish(store_path, "1.0.0")
    answer = client.arm("PUT", VMSS, body())
    assert answer.status == 201, answer
    return dict(answer.json)


# -- PATCH -----------------------------------------------------------------------------------------


def test_patch_changes_only_what_it_sends(client: WsgiClient, scale_set: dict[str, Any]) -> None:
    answer = client.arm("PATCH", VMSS, {"sku": {"capacity": 5}})
    assert answer.status == 200, answer
    assert answer.json["sku"] == {**scale_set["sku"], "capacity": 5}
    assert answer.json["properties"]["upgradePolicy"] == scale_set["properties"]["upgradePolicy"]
    assert answer.header("Azure-AsyncOperation") and answer.header("Retry-After") == "1"
    policy = client.arm(
        "PATCH", VMSS, {"properties": {"upgradePolicy": {"rollingUpgradePolicy": {"maxBatchInstancePercent": 50}}}}
    ).json["properties"]["upgradePolicy"]
    assert policy["rollingUpgradePolicy"]["maxBatchInstancePercent"] == 50
    assert policy["rollingUpgradePolicy"]["pauseTimeBetweenBatches"] == "PT0S", "a PATCH merges, it does not replace"
    assert len(client.arm("GET", f"{VMSS}/virtualMachines").json["value"]) == 5


def test_patch_is_refused_as_a_put_is_and_writes_nothing(
    client: WsgiClient, scale_set: dict[str, Any], store_path: Path
) -> None:
    before = dump(store_path)
    wrong = client.arm(
        "PATCH", VMSS, {"properties": {"upgradePolicy": {"rollingUpgradePolicy": {"maxBatchInstancePercent": 500}}}}
    )
    assert wrong.status == 400 and wrong.json["error"]["code"] == "InvalidParameter", wrong
    unhealthy_source = client.arm(
        "PATCH",
        VMSS,
        {"properties": {"virtualMachineProfile": {"networkProfile": {"healthProbe": None}}}},
    )
    assert unhealthy_source.status == 400, "Rolling mode needs a health source (azure-behaviour §2)"
    assert dump(store_path) == before


def test_patch_of_a_scale_set_that_does_not_exist_is_404_not_a_create(client: WsgiClient, store_path: Path) -> None:
    publish(store_path, "1.0.0")
    answer = client.arm("PATCH", VMSS, body())
    assert answer.status == 404 and answer.json["error"]["code"] == "ResourceNotFound"
    assert client.arm("GET", VMSS).status == 404


# -- instance views --------------------------------------------------------------------------------


def test_instance_views_of_the_scale_set_and_one_vm(client: WsgiClient, scale_set: dict[str, Any]) -> None:
    view = client.arm("GET", f"{VMSS}/instanceView")
    assert view.status == 200, view
    assert view.json["virtualMachine"]["statusesSummary"] == [{"code": "ProvisioningState/succeeded", "count": 3}]
    assert view.json["statuses"][0]["code"] == "ProvisioningState/succeeded"
    vm = client.arm("GET", f"{VMSS}/virtualMachines/1/instanceView").json
    codes = [s["code"] for s in vm["statuses"]]
    assert codes == ["ProvisioningState/succeeded", "PowerState/running"]
    assert vm["vmHealth"]["status"]["code"] == "HealthState/healthy", "a health probe reports health"
    assert vm["computerName"] == "web_1"
    single = client.arm("GET", f"{VMSS}/virtualMachines/1?$expand=instanceView").json
    assert single["instanceId"] == "1" and single["properties"]["instanceView"]["computerName"] == "web_1"
    assert "instanceView" not in client.arm("GET", f"{VMSS}/virtualMachines/1").json["properties"]
    missing = client.arm("GET", f"{VMSS}/virtualMachines/9/instanceView")
    assert missing.status == 404 and missing.json["error"]["code"] == "ResourceNotFound"


# -- manual upgrade and approval -------------------------------------------------------------------


def test_manual_upgrade_brings_only_the_named_instances_to_the_model(client: WsgiClient, store_path: Path) -> None:
    """azure-behaviour §4 Manual mode: a model change waits for manualUpgrade of each instance."""
    publish(store_path, "1.0.0")
    assert client.arm("PUT", VMSS, body(mode="Manual")).status == 201
    extension = {
        "name": "tools",
        "properties": {"publisher": "Contoso", "type": "Tools", "typeHandlerVersion": "1.0", "settings": {"a": 1}},
    }
    patched = client.arm(
        "PATCH", VMSS, {"properties": {"virtualMachineProfile": {"extensionProfile": {"extensions": [extension]}}}}
    )
    assert patched.status == 200, patched

    def applied() -> dict[str, bool]:
        vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
        return {vm["instanceId"]: vm["properties"]["latestModelApplied"] for vm in vms}

    assert applied() == {"0": False, "1": False, "2": False}
    answer = client.arm("POST", f"{VMSS}/manualupgrade", {"instanceIds": ["0", "2"]})
    assert answer.status == 202 and answer.header("Azure-AsyncOperation"), answer
    op = client.arm("GET", operation_path(answer.header("Azure-AsyncOperation")))
    assert op.json["status"] == "Succeeded", op
    assert applied() == {"0": True, "1": False, "2": True}
    wrong_bodies: list[dict[str, Any]] = [{}, {"instanceIds": []}, {"instanceIds": [0]}]
    for wrong in wrong_bodies:
        refused = client.arm("POST", f"{VMSS}/manualupgrade", wrong)
        assert refused.status == 400 and refused.json["error"]["target"] == "instanceIds"
    unknown = client.arm("POST", f"{VMSS}/manualupgrade", {"instanceIds": ["7"]})
    assert unknown.status == 404


def test_approve_without_instance_ids_approves_every_waiting_instance_d11(manual: WsgiClient, store_path: Path) -> None:
    """osRollingUpgradeDeferral: a platform run waits for approval; approveRollingUpgrade without instanceIds
    approves all (Azure's API reference; design D11)."""
    publish(store_path, "1.0.0")
    doc = body(capacity=5, auto=True, osRollingUpgradeDeferral=True)
    assert manual.arm("PUT", VMSS, doc, api_version="2024-07-01").status == 201
    idle = manual.arm("POST", f"{VMSS}/approveRollingUpgrade")
    assert idle.status == 409 and idle.json["error"]["code"] == "OperationNotAllowed", idle
    publish(store_path, "1.1.0")
    assert manual.raw("POST", "/azsim/clock", b'{"advance": "PT4H"}').status == 200
    waiting = manual.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert waiting["properties"]["runningStatus"]["code"] == "RollingForward"
    assert waiting["properties"]["progress"]["successfulInstanceCount"] == 0
    answer = manual.arm("POST", f"{VMSS}/approveRollingUpgrade", api_version="2024-07-01")
    assert answer.status == 202 and answer.header("Location"), answer
    assert manual.raw("POST", "/azsim/clock", b'{"advance": "PT2H"}').status == 200
    done = manual.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]
    assert done["runningStatus"]["code"] == "Completed", done
    assert done["progress"]["successfulInstanceCount"] == 5
    bad = manual.arm("POST", f"{VMSS}/approveRollingUpgrade", {"instanceIds": "0"})
    assert bad.status == 400 and bad.json["error"]["target"] == "instanceIds"


# -- the image catalogue ---------------------------------------------------------------------------


def test_catalogue_lists_are_bare_arrays_per_location(client: WsgiClient, store_path: Path) -> None:
    for version in ("1.0.0", "1.10.0", "1.2.0"):
        publish(store_path, version)
    publish(store_path, "9.0.0", location="westeurope")
    publish(store_path, "2.0.0", publisher="MicrosoftWindowsServer", offer="WindowsServer", sku="2022-datacenter")
    publishers = client.arm("GET", f"{LOC}/publishers").json
    assert [p["name"] for p in publishers] == ["Canonical", "MicrosoftWindowsServer"]
    assert (
        publishers[0]["id"]
        == f"/Subscriptions/{SUBSCRIPTION}/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical"
    )
    offers = client.arm("GET", f"{LOC}/publishers/canonical/artifacttypes/vmimage/offers").json
    assert [o["name"] for o in offers] == ["ubuntu-24_04-lts"]
    skus = client.arm("GET", f"{LOC}/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus").json
    assert [s["name"] for s in skus] == ["server"]
    versions = client.arm("GET", f"{SKU}/versions").json
    assert [v["name"] for v in versions] == ["1.0.0", "1.2.0", "1.10.0"], "versions order as versions"
    assert all(set(v) == {"name", "location", "id"} for v in versions)
    assert client.arm("GET", f"{SKU.replace('eastus', 'westus')}/versions").json == []


def test_latest_is_orderby_name_desc_top_1_as_az_asks(client: WsgiClient, store_path: Path) -> None:
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        publish(store_path, version)
    latest = client.arm("GET", f"{SKU}/versions?$expand=properties&$orderby=name%20desc&$top=1").json
    assert [v["name"] for v in latest] == ["1.10.0"]
    assert latest[0]["properties"]["automaticOSUpgradeProperties"] == {"automaticOSUpgradeSupported": True}
    assert client.arm("GET", f"{SKU}/versions?$top=0").json == []
    for query, target in (("$orderby=size", "$orderby"), ("$top=x", "$top"), ("$filter=name%20eq%20'1'", "$filter")):
        refused = client.arm("GET", f"{SKU}/versions?{query}")
        assert refused.status == 400 and refused.json["error"]["target"] == target, refused


def test_one_version_with_its_properties_and_a_missing_one_is_404(client: WsgiClient, store_path: Path) -> None:
    publish(store_path, "1.0.0")
    publish(store_path, "2.0.0", publisher="MicrosoftWindowsServer", offer="WindowsServer", sku="2022-datacenter")
    image = client.arm("GET", f"{SKU}/versions/1.0.0").json
    assert image["name"] == "1.0.0" and image["location"] == "eastus"
    assert image["properties"]["osDiskImage"] == {"operatingSystem": "Linux"}
    windows = client.arm(
        "GET",
        f"{LOC}/publishers/MicrosoftWindowsServer/artifacttypes/vmimage/offers/WindowsServer/skus/2022-datacenter/versions/2.0.0",
    ).json
    assert windows["properties"]["osDiskImage"] == {"operatingSystem": "Windows"}
    missing = client.arm("GET", f"{SKU}/versions/3.0.0")
    assert missing.status == 404 and "publish it with azsim.vmss.vm_image" in missing.json["error"]["message"]


def test_gallery_image_versions_show_regions_and_exclude_from_latest(client: WsgiClient, store_path: Path) -> None:
    image_id = GALLERY_IMAGE
    in_store(store_path, publish_image, gallery_image_id=image_id, version="1.0.0", target_regions=["eastus"])
    in_store(
        store_path,
        publish_image,
        gallery_image_id=image_id,
        version="1.1.0",
        target_regions=["eastus", "westus"],
        exclude_from_latest=True,
    )
    listed = client.arm("GET", f"{GALLERY_IMAGE}/versions").json["value"]
    assert [v["name"] for v in listed] == ["1.0.0", "1.1.0"]
    one = client.arm("GET", f"{GALLERY_IMAGE}/versions/1.1.0").json
    assert one["type"] == "Microsoft.Compute/galleries/images/versions"
    assert one["properties"]["publishingProfile"]["excludeFromLatest"] is True
    assert [r["name"] for r in one["properties"]["publishingProfile"]["targetRegions"]] == ["eastus", "westus"]
    assert client.arm("GET", f"{GALLERY_IMAGE}/versions/2.0.0").status == 404


def test_vm_sizes_list_the_size_azcollection_checks(client: WsgiClient) -> None:
    sizes = client.arm("GET", f"{LOC}/vmSizes").json["value"]
    b1s = next(s for s in sizes if s["name"] == "Standard_B1s")
    assert b1s == {
        "name": "Standard_B1s",
        "numberOfCores": 1,
        "memoryInMB": 1024,
        "maxDataDiskCount": 2,
        "osDiskSizeInMB": 1047552,
        "resourceDiskSizeInMB": 4096,
    }


# -- Microsoft.Features and providers ---------------------------------------------------------------


def test_feature_register_with_the_manual_clock_is_registering_until_the_clock_moves(
    manual: WsgiClient, store_path: Path
) -> None:
    """azure-behaviour §6: registration takes time (PT15M by default)."""
    assert manual.arm("GET", FEATURE, api_version="2021-07-01").json["properties"]["state"] == "NotRegistered"
    answer = manual.arm("POST", f"{FEATURE}/register", api_version="2021-07-01")
    assert answer.status == 200
    assert answer.json == {
        "id": FEATURE,
        "name": "Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage",
        "type": "Microsoft.Features/providers/features",
        "properties": {"state": "Registering"},
    }
    manual.raw("POST", "/azsim/clock", b'{"advance": "PT15M"}')
    assert manual.arm("GET", FEATURE).json["properties"]["state"] == "Registered"
    listed = manual.arm("GET", f"{SUB}/providers/Microsoft.Features/features").json["value"]
    assert [f["name"] for f in listed] == ["Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage"]
    by_namespace = manual.arm("GET", f"{SUB}/providers/Microsoft.Features/providers/Microsoft.Network/features")
    assert by_namespace.json["value"] == []


def test_the_seed_opt_in_feature_then_provider_completes_the_gallery_gate(client: WsgiClient, store_path: Path) -> None:
    """azure-behaviour §6: the provider registered after the feature carries it (instant clock: each is done)."""
    assert client.arm("POST", f"{FEATURE}/register").json["properties"]["state"] == "Registered"
    assert not in_store(store_path, lambda call: gallery_opt_in_complete(call.store, SUBSCRIPTION))
    provider = client.arm("POST", f"{SUB}/providers/Microsoft.Compute/register", api_version="2025-04-01").json
    assert provider["registrationState"] == "Registered"
    assert in_store(store_path, lambda call: gallery_opt_in_complete(call.store, SUBSCRIPTION))
    unregistered = client.arm("POST", f"{FEATURE}/unregister").json["properties"]["state"]
    assert unregistered == "Unregistered"


def test_providers_list_resource_types_with_api_versions_newest_first(client: WsgiClient) -> None:
    compute = client.arm("GET", f"{SUB}/providers/Microsoft.Compute", api_version="2015-01-01").json
    assert compute["namespace"] == "Microsoft.Compute" and compute["registrationState"] == "NotRegistered"
    vmss = next(t for t in compute["resourceTypes"] if t["resourceType"] == "virtualMachineScaleSets")
    # One list: what the provider advertises is exactly what a scale set PUT accepts (check_api_version).
    assert vmss["apiVersions"] == sorted(KNOWN_API_VERSIONS, reverse=True)
    assert vmss["apiVersions"][0] == KNOWN_API_VERSIONS[-1] and "2023-09-01" in vmss["apiVersions"]
    listed = [p["namespace"] for p in client.arm("GET", f"{SUB}/providers").json["value"]]
    assert {"Microsoft.Compute", "Microsoft.Features", "Microsoft.Network", "Microsoft.Resources"} <= set(listed)
    assert client.arm("GET", f"{SUB}/providers/not-a-namespace").status == 400


# -- resource groups and the generic store ---------------------------------------------------------


def test_resource_group_lifecycle_head_put_get_list_delete(client: WsgiClient, store_path: Path) -> None:
    assert client.arm("HEAD", RG).status == 404
    created = client.arm("PUT", RG, {"location": "East US", "tags": {"team": "a"}}, api_version="2025-04-01")
    assert created.status == 201 and created.json == {
        "id": RG,
        "name": "rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "eastus",
        "properties": {"provisioningState": "Succeeded"},
        "tags": {"team": "a"},
    }
    before = dump(store_path)
    again = client.arm(
        "PUT", RG.replace("resourceGroups", "resourcegroups"), {"location": "eastus", "tags": {"team": "a"}}
    )
    assert again.status == 200 and dump(store_path) == before, "a second identical PUT writes nothing"
    head = client.arm("HEAD", RG)
    assert head.status == 204 and head.raw == b""
    moved = client.arm("PUT", RG, {"location": "westus"})
    assert moved.status == 409 and moved.json["error"]["code"] == "InvalidResourceGroupLocation"
    assert client.arm("PUT", f"{SUB}/resourceGroups/other", {}).json["error"]["code"] == "LocationRequired"
    assert [g["name"] for g in client.arm("GET", f"{SUB}/resourcegroups").json["value"]] == ["rg"]
    assert client.arm("DELETE", RG).status == 200
    assert client.arm("GET", RG).json["error"]["code"] == "ResourceGroupNotFound"
    assert client.arm("DELETE", RG).status == 404


def test_a_group_holding_a_scale_set_made_by_a_module_exists(client: WsgiClient, store_path: Path) -> None:
    publish(store_path, "1.0.0", location="westeurope")
    in_store(
        store_path,
        ensure_scale_set,
        resource_group="modules-rg",
        name="web",
        location="westeurope",
        image={**UBUNTU, "version": "latest"},
    )
    group = client.arm("GET", f"{SUB}/resourceGroups/modules-rg").json
    assert group["location"] == "westeurope" and group["name"] == "modules-rg"
    resources = client.arm("GET", f"{SUB}/resourceGroups/modules-rg/resources").json["value"]
    assert [r["type"] for r in resources] == ["Microsoft.Compute/virtualMachineScaleSets"]


def test_vnet_and_subnet_are_stored_as_given_with_succeeded(client: WsgiClient, store_path: Path) -> None:
    missing_group = client.arm("PUT", VNET, {"location": "eastus", "properties": {}})
    assert missing_group.status == 404 and missing_group.json["error"]["code"] == "ResourceGroupNotFound"
    client.arm("PUT", RG, {"location": "eastus"})
    spec: dict[str, Any] = {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    vnet = client.arm("PUT", VNET, spec, api_version="2024-03-01")
    assert vnet.status == 201, vnet
    assert vnet.json["id"] == VNET and vnet.json["type"] == "Microsoft.Network/virtualNetworks"
    assert vnet.json["properties"] == {**spec["properties"], "provisioningState": "Succeeded", "subnets": []}
    subnet = client.arm("PUT", f"{VNET}/subnets/default", {"properties": {"addressPrefix": "10.0.1.0/24"}})
    assert subnet.status == 201
    assert subnet.json["properties"] == {"addressPrefix": "10.0.1.0/24", "provisioningState": "Succeeded"}
    assert client.arm("GET", f"{VNET}/subnets/default").json == subnet.json
    assert client.arm("GET", VNET).json["properties"]["subnets"] == [subnet.json]
    before = dump(store_path)
    assert client.arm("PUT", VNET, spec).status == 200
    assert dump(store_path) == before, "a network PUT without subnets keeps them and writes nothing"
    orphan = client.arm("PUT", f"{RG}/providers/Microsoft.Network/virtualNetworks/none/subnets/s", {"properties": {}})
    assert orphan.status == 404
    assert [r["name"] for r in client.arm("GET", f"{RG}/resources").json["value"]] == ["vnet"]
    assert client.arm("DELETE", VNET).status == 200
    assert client.arm("GET", f"{VNET}/subnets/default").status == 404
    assert client.arm("DELETE", VNET).status == 204


def test_deleting_a_group_deletes_its_scale_sets(
    client: WsgiClient, scale_set: dict[str, Any], store_path: Path
) -> None:
    client.arm("PUT", RG, {"location": "eastus"})
    assert client.arm("DELETE", RG).status == 200
    assert client.arm("GET", VMSS).status == 404
    assert not in_store(store_path, scale_set_info, resource_group="rg", name="web")["exists"]


# -- what a PUT holds beyond the model -------------------------------------------------------------


def azcollection_like_body() -> dict[str, Any]:
    """What azure_rm_virtualmachinescaleset PUTs: a VM size, NICs, OS disk settings and an admin password."""
    doc = body(capacity=2, mode="Manual")
    doc["sku"]["name"] = "Standard_B1s"
    profile = doc["properties"]["virtualMachineProfile"]
    profile["osProfile"] = {"computerNamePrefix": "web", "adminUsername": "azure", "adminPassword": "S3cret-pass!"}
    profile["storageProfile"]["osDisk"] = {
        "createOption": "FromImage",
        "caching": "ReadOnly",
        "managedDisk": {"storageAccountType": "Standard_LRS"},
        "osType": "Linux",
    }
    profile["networkProfile"]["networkInterfaceConfigurations"] = [
        {
            "name": "web",
            "properties": {
                "primary": True,
                "ipConfigurations": [{"name": "default", "properties": {"subnet": {"id": f"{VNET}/subnets/default"}}}],
            },
        }
    ]
    doc["properties"]["orchestrationMode"] = "Uniform"
    return doc


def test_a_get_echoes_what_the_put_held_beyond_the_model_but_no_secret(client: WsgiClient, store_path: Path) -> None:
    """azure_rm_virtualmachinescaleset compares its GET with its options (arm-endpoint-research §3.3)."""
    publish(store_path, "1.0.0")
    sent = azcollection_like_body()
    created = client.arm("PUT", VMSS, sent)
    assert created.status == 201, created
    got = client.arm("GET", VMSS).json
    profile = got["properties"]["virtualMachineProfile"]
    assert got["sku"] == {"name": "Standard_B1s", "tier": "Standard", "capacity": 2}
    assert profile["storageProfile"]["osDisk"]["caching"] == "ReadOnly"
    assert (
        profile["networkProfile"]["networkInterfaceConfigurations"]
        == sent["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]
    )
    assert profile["networkProfile"]["healthProbe"] == {"id": PROBE}, "the model's fields stay the model's"
    assert got["properties"]["orchestrationMode"] == "Uniform"
    assert "adminPassword" not in profile["osProfile"] and profile["osProfile"]["adminUsername"] == "azure"
    for file in store_path.parent.glob(f"{store_path.name}*"):  # the database and its WAL
        assert b"S3cret-pass!" not in file.read_bytes(), f"a password is never kept ({file.name})"
    vm = client.arm("GET", f"{VMSS}/virtualMachines/0").json
    assert vm["sku"]["name"] == "Standard_B1s"
    before = dump(store_path)
    assert client.arm("PUT", VMSS, sent).status == 200
    assert dump(store_path) == before, "the same PUT again writes nothing"
    assert client.arm("DELETE", VMSS).status == 202
    in_store(store_path, ensure_scale_set, resource_group="rg", name="web", image={**UBUNTU, "version": "latest"})
    again = client.arm("GET", VMSS).json
    assert again["sku"]["name"] == "Standard_D2s_v3", "a scale set made again does not inherit the old one's extras"
    assert "networkInterfaceConfigurations" not in again["properties"]["virtualMachineProfile"].get(
        "networkProfile", {}
    )


def test_patch_gets_the_puts_conflicts_during_a_rolling_upgrade(manual: WsgiClient, store_path: Path) -> None:
    """PATCH runs through ensure_scale_set as a PUT does: removing an instance in flight, or changing the VM
    model during a run in Rolling mode (azure-behaviour-2 CF-2), is a 409, and nothing is written."""
    publish(store_path, "1.0.0")
    assert manual.arm("PUT", VMSS, body(capacity=5)).status == 201
    publish(store_path, "1.1.0")
    assert manual.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    manual.raw("POST", "/azsim/clock", b'{"advance": "PT1M"}')  # the first batch (instance 0) is in flight
    before = dump(store_path)
    refused = manual.arm("PATCH", VMSS, {"sku": {"capacity": 0}})
    assert refused.status == 409, refused
    extension = {"name": "tools", "properties": {"publisher": "Contoso", "type": "Tools", "typeHandlerVersion": "1.0"}}
    model_change = manual.arm(
        "PATCH", VMSS, {"properties": {"virtualMachineProfile": {"extensionProfile": {"extensions": [extension]}}}}
    )
    assert model_change.status == 409 and model_change.json["error"]["code"] == "OperationNotAllowed", model_change
    assert dump(store_path) == before
