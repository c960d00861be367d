# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requirement checks (azure-behaviour §1, §2) as tables: each rule with a passing and a failing model."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._checks import requirements as req
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._model import supported_images as images
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import DEFAULT_UPGRADE_POLICY
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record

SUB = "00000000-0000-0000-0000-000000000000"
VMSS_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
GALLERY = (
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/img/providers/Microsoft.Compute/"
    "galleries/g/images/web"
)
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
WINDOWS = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-Datacenter",
    "version": "latest",
}
PROBE_ID = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb/probes/http"

# The codes design.md fixes for errors, and the warnings this collection adds.
ERROR_CODES = {
    "ImageVersionNotLatest",
    "UnsupportedImage",
    "GalleryFeatureNotRegistered",
    "HealthSourceMissing",
    "HealthSourceAmbiguous",
    "StandardLoadBalancerRequired",
    "ApiVersionTooOld",
    "PolicyFieldRequiresNewerApiVersion",
    "WindowsAutomaticUpdatesEnabled",
    "WindowsPatchModeAutomaticByPlatform",
    "ServiceFabricDurabilityTooLow",
    "ServiceFabricExtensionVersionTooOld",
    "ServiceFabricDurabilityMismatch",
    "ServiceFabricHealthProbeNotSupported",
}
WARNING_CODES = {
    "PolicyStopsOnFirstUnhealthyInstance",
    "PolicyStopsOnFirstFailedUpgrade",
    "UnhealthyInstancesExceedPolicy",
}


# -- building models -------------------------------------------------------------------------------


def health_extension(name: str = "health") -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            "publisher": "Microsoft.ManagedServices",
            "type": "ApplicationHealthLinux",
            "typeHandlerVersion": "2.0",
            "settings": {"protocol": "http", "port": 80},
        },
    }


def sf_extension(version: str = "1.1", durability: str | None = "Silver") -> dict[str, Any]:
    settings = {} if durability is None else {"durabilityLevel": durability}
    return {
        "name": "ServiceFabricNode",
        "properties": {
            "publisher": "Microsoft.Azure.ServiceFabric",
            "type": "ServiceFabricNode",
            "typeHandlerVersion": version,
            "settings": settings,
        },
    }


def model(
    image: dict[str, Any] | None = None,
    *,
    os_type: str = "linux",
    api_version: str = "2024-11-01",
    probe: str | None = "Standard",
    extensions: list[dict[str, Any]] | None = None,
    single_placement_group: bool = True,
    windows: dict[str, Any] | None = None,
    service_fabric: dict[str, Any] | None = None,
) -> Record:
    """A scale set record as _model.scaleset keeps it (the keys the checks read); by default one that meets every
    requirement."""
    profile: dict[str, Any] = {
        "storageProfile": {"imageReference": dict(image or UBUNTU), "osDisk": {"osType": os_type.capitalize()}},
        "osProfile": {"computerNamePrefix": "web"},
    }
    if os_type == "windows":
        profile["osProfile"]["windowsConfiguration"] = dict(windows or {})
    if probe is not None:
        profile["networkProfile"] = {"healthProbe": {"id": PROBE_ID}}
    if extensions:
        profile["extensionProfile"] = {"extensions": extensions}
    return cast(
        Record,
        {
            "model": {
                "id": VMSS_ID,
                "name": "web",
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "location": "eastus",
                "properties": {
                    "singlePlacementGroup": single_placement_group,
                    "upgradePolicy": copy.deepcopy(DEFAULT_UPGRADE_POLICY),
                    "virtualMachineProfile": profile,
                },
            },
            "api_version": api_version,
            "os_type": os_type,
            "health_probe": None if probe is None else {"id": PROBE_ID, "load_balancer_sku": probe},
            "service_fabric": service_fabric,
        },
    )


def policy(mode: str = "Manual", enabled: bool = True, **rolling: Any) -> dict[str, Any]:
    out = copy.deepcopy(DEFAULT_UPGRADE_POLICY)
    out["mode"] = mode
    out["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] = enabled
    out["rollingUpgradePolicy"].update(rolling)
    return out


def codes(findings: list[dict[str, str]]) -> list[str]:
    return [f["code"] for f in findings if f["severity"] == "error"]


def check(record: Record, opt_in: bool = True) -> list[str]:
    """Error codes of enabling automatic OS upgrade on a 10-instance scale set (no fleet warnings there)."""
    return codes(req.check_policy(record, policy(), 10, opt_in))


SF_SILVER = {"durability": "Silver", "extension_durability": "Silver", "stateless_only": False}
SF_BRONZE = {"durability": "Bronze", "extension_durability": "Bronze", "stateless_only": False}
SF_BRONZE_STATELESS = {"durability": "Bronze", "extension_durability": "Bronze", "stateless_only": True}

# (rule, model, gallery opt-in complete, the error codes expected). Each rule has a passing and a failing model.
RULES: list[tuple[str, Record, bool, list[str]]] = [
    # 1. version latest / gallery image without a version
    ("1 platform latest", model(), False, []),
    ("1 platform pinned", model({**UBUNTU, "version": "24.04.202501010"}), False, ["ImageVersionNotLatest"]),
    ("1 gallery without version", model({"id": GALLERY}), True, []),
    ("1 gallery version pinned", model({"id": GALLERY + "/versions/1.0.0"}), True, ["ImageVersionNotLatest"]),
    # 2. supported platform image (seed and current tables) or a gallery image
    ("2 current table", model({**UBUNTU, "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2"}), False, []),
    ("2 seed table", model({**WINDOWS, "sku": "2016-Datacenter-with-Containers"}, os_type="windows"), False, []),
    (
        "2 azure linux",
        model(
            {"publisher": "MicrosoftCblMariner", "offer": "Azure-Linux", "sku": "azure-linux-3", "version": "latest"}
        ),
        False,
        [],
    ),
    (
        "2 unsupported",
        model({**UBUNTU, "publisher": "Debian", "offer": "debian-12", "sku": "12"}),
        False,
        ["UnsupportedImage"],
    ),
    # 3. gallery opt-in
    ("3 gallery opted in", model({"id": GALLERY}), True, []),
    ("3 gallery not opted in", model({"id": GALLERY}), False, ["GalleryFeatureNotRegistered"]),
    # 4. exactly one health source (not Service Fabric), Standard load balancer with several placement groups
    ("4 probe", model(probe="Standard"), False, []),
    ("4 health extension", model(probe=None, extensions=[health_extension()]), False, []),
    ("4 no health source", model(probe=None), False, ["HealthSourceMissing"]),
    ("4 both", model(extensions=[health_extension()]), False, ["HealthSourceAmbiguous"]),
    ("4 basic lb, one placement group", model(probe="Basic"), False, []),
    ("4 standard lb, placement groups", model(probe="Standard", single_placement_group=False), False, []),
    (
        "4 basic lb, placement groups",
        model(probe="Basic", single_placement_group=False),
        False,
        ["StandardLoadBalancerRequired"],
    ),
    # 5. Compute API version
    ("5 api 2018-10-01", model(api_version="2018-10-01"), False, []),
    ("5 api 2018-06-01", model(api_version="2018-06-01"), False, ["ApiVersionTooOld"]),
    # 6. Windows, from API 2019-03-01
    ("6 updates unset", model(WINDOWS, os_type="windows"), False, []),
    ("6 updates false", model(WINDOWS, os_type="windows", windows={"enableAutomaticUpdates": False}), False, []),
    (
        "6 updates true",
        model(WINDOWS, os_type="windows", windows={"enableAutomaticUpdates": True}),
        False,
        ["WindowsAutomaticUpdatesEnabled"],
    ),
    (
        "6 updates true before 2019-03-01",
        model(WINDOWS, os_type="windows", api_version="2018-10-01", windows={"enableAutomaticUpdates": True}),
        False,
        [],
    ),
    (
        "6 patch mode by OS",
        model(WINDOWS, os_type="windows", windows={"patchSettings": {"patchMode": "AutomaticByOS"}}),
        False,
        [],
    ),
    (
        "6 patch mode by platform",
        model(WINDOWS, os_type="windows", windows={"patchSettings": {"patchMode": "AutomaticByPlatform"}}),
        False,
        ["WindowsPatchModeAutomaticByPlatform"],
    ),
    # 7. Service Fabric
    ("7 silver, no health source", model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension()]), False, []),
    (
        "7 bronze",
        model(probe=None, service_fabric=SF_BRONZE, extensions=[sf_extension(durability="Bronze")]),
        False,
        ["ServiceFabricDurabilityTooLow"],
    ),
    (
        "7 bronze stateless with probe",
        model(service_fabric=SF_BRONZE_STATELESS, extensions=[sf_extension(durability="Bronze")]),
        False,
        [],
    ),
    (
        "7 bronze stateless without probe",
        model(probe=None, service_fabric=SF_BRONZE_STATELESS, extensions=[sf_extension(durability="Bronze")]),
        False,
        ["HealthSourceMissing"],
    ),
    ("7 extension 1.2", model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension("1.2")]), False, []),
    (
        "7 extension 1.0",
        model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension("1.0")]),
        False,
        ["ServiceFabricExtensionVersionTooOld"],
    ),
    ("7 no extension", model(probe=None, service_fabric=SF_SILVER), False, ["ServiceFabricExtensionVersionTooOld"]),
    (
        "7 durability gold both",
        model(
            probe=None, service_fabric={**SF_SILVER, "durability": "Gold"}, extensions=[sf_extension(durability="gold")]
        ),
        False,
        [],
    ),
    (
        "7 durability mismatch",
        model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension(durability="Gold")]),
        False,
        ["ServiceFabricDurabilityMismatch"],
    ),
    (
        "7 extension without durability",
        model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension(durability=None)]),
        False,
        ["ServiceFabricDurabilityMismatch"],
    ),
    (
        "7 application health extension",
        model(probe=None, service_fabric=SF_SILVER, extensions=[sf_extension(), health_extension()]),
        False,
        ["ServiceFabricHealthProbeNotSupported"],
    ),
    ("7 probe is allowed", model(service_fabric=SF_SILVER, extensions=[sf_extension()]), False, []),
]


@pytest.mark.parametrize(("record", "opt_in", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_requirement_rule(record: Record, opt_in: bool, expected: list[str]) -> None:
    assert check(record, opt_in) == expected


def test_every_rule_has_a_passing_and_a_failing_model() -> None:
    by_rule: dict[str, set[bool]] = {}
    for name, _record, _opt_in, expected in RULES:
        by_rule.setdefault(name.split()[0], set()).add(bool(expected))
    assert by_rule == {str(n): {True, False} for n in range(1, 8)}


def test_all_unmet_requirements_are_reported_at_once() -> None:
    record = model(
        {**WINDOWS, "version": "1.0.0"}, os_type="windows", probe=None, windows={"enableAutomaticUpdates": True}
    )
    findings = req.check_policy(record, policy(), 10, False)
    assert codes(findings) == ["ImageVersionNotLatest", "HealthSourceMissing", "WindowsAutomaticUpdatesEnabled"]
    paths = {f["code"]: f["path"] for f in findings}
    assert paths == {
        "ImageVersionNotLatest": "properties.virtualMachineProfile.storageProfile.imageReference.version",
        "HealthSourceMissing": "properties.virtualMachineProfile.networkProfile.healthProbe",
        "WindowsAutomaticUpdatesEnabled": (
            "properties.virtualMachineProfile.osProfile.windowsConfiguration.enableAutomaticUpdates"
        ),
    }


def test_requirements_are_not_checked_while_automatic_upgrade_stays_off() -> None:
    record = model({**UBUNTU, "publisher": "Debian", "version": "1.0.0"}, probe=None)
    assert req.check_policy(record, policy(enabled=False), 2, False) == []


# -- mode: Rolling -----------------------------------------------------------------------------------


ROLLING: list[tuple[str, Record, list[str]]] = [
    ("probe", model(), []),
    ("health extension", model(probe=None, extensions=[health_extension()]), []),
    ("both", model(extensions=[health_extension()]), []),  # ambiguity matters only to automatic OS upgrade
    ("none", model(probe=None), ["HealthSourceMissing"]),
]


@pytest.mark.parametrize(("record", "expected"), [r[1:] for r in ROLLING], ids=[r[0] for r in ROLLING])
def test_rolling_mode_needs_a_health_source(record: Record, expected: list[str]) -> None:
    findings = req.check_policy(record, policy("Rolling", enabled=False), 10, False)
    assert codes(findings) == expected
    if expected:
        assert findings[0]["message"] == (
            "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health probe or "
            "health extension was not provided."
        )


def test_one_cause_gives_one_finding() -> None:
    findings = req.check_policy(model(probe=None), policy("Rolling"), 10, False)
    assert codes(findings) == ["HealthSourceMissing"]


# -- §1: fields newer than the scale set's API version -----------------------------------------------

API_FIELDS: list[tuple[str, str, str, Any, list[str]]] = [
    ("cross zone default", "2020-06-01", "enableCrossZoneUpgrade", False, []),
    ("cross zone set", "2020-06-01", "enableCrossZoneUpgrade", True, ["PolicyFieldRequiresNewerApiVersion"]),
    ("cross zone on its version", "2020-12-01", "enableCrossZoneUpgrade", True, []),
    ("max surge set", "2022-08-01", "maxSurge", True, ["PolicyFieldRequiresNewerApiVersion"]),
    ("max surge on its version", "2022-11-01", "maxSurge", True, []),
    ("batch percent on old api", "2017-03-30", "maxBatchInstancePercent", 50, []),
    (
        "batch percent before the field",
        "2016-04-30-preview",
        "maxBatchInstancePercent",
        50,
        ["PolicyFieldRequiresNewerApiVersion"],
    ),
    ("pause default before the field", "2016-04-30-preview", "pauseTimeBetweenBatches", "PT0S", []),
]


@pytest.mark.parametrize(
    ("api", "name", "value", "expected"), [r[1:] for r in API_FIELDS], ids=[r[0] for r in API_FIELDS]
)
def test_policy_field_needs_its_api_version(api: str, name: str, value: Any, expected: list[str]) -> None:
    wanted = policy(enabled=False, **{name: value})
    findings = req.check_policy(model(api_version=api), wanted, 10, False)
    assert codes(findings) == expected
    if expected:
        assert findings[0]["path"] == f"properties.upgradePolicy.rollingUpgradePolicy.{name}"
        assert api in findings[0]["message"]


@pytest.mark.parametrize(
    ("api", "name", "expected"),
    [
        ("2022-01-01", "useRollingUpgradePolicy", ["PolicyFieldRequiresNewerApiVersion"]),
        ("2022-03-01", "useRollingUpgradePolicy", []),
        ("2023-07-01", "osRollingUpgradeDeferral", ["PolicyFieldRequiresNewerApiVersion"]),
        ("2023-09-01", "osRollingUpgradeDeferral", []),
    ],
)
def test_automatic_policy_fields_need_their_api_version(api: str, name: str, expected: list[str]) -> None:
    wanted = policy(enabled=False)
    wanted["automaticOSUpgradePolicy"][name] = True
    assert codes(req.check_policy(model(api_version=api), wanted, 10, False)) == expected


def test_enabling_on_an_old_api_is_one_finding() -> None:
    assert check(model(api_version="2017-12-01")) == ["ApiVersionTooOld"]


# -- warnings ----------------------------------------------------------------------------------------


def warnings(findings: list[dict[str, str]]) -> list[str]:
    return [f["code"] for f in findings if f["severity"] == "warning"]


def test_default_thresholds_trip_on_two_instances() -> None:
    findings = req.check_policy(model(), policy(), 2, False)
    assert codes(findings) == []
    assert warnings(findings) == ["PolicyStopsOnFirstUnhealthyInstance", "PolicyStopsOnFirstFailedUpgrade"]
    assert "20% of 2 instances is 0" in findings[0]["message"]


@pytest.mark.parametrize(
    ("count", "mode", "enabled", "rolling", "expected"),
    [
        (10, "Manual", True, {}, []),
        (4, "Manual", True, {}, ["PolicyStopsOnFirstUnhealthyInstance", "PolicyStopsOnFirstFailedUpgrade"]),
        (5, "Manual", True, {}, []),
        (2, "Manual", False, {}, []),  # nothing runs by itself: no warning
        (2, "Rolling", False, {"maxUnhealthyInstancePercent": 50, "maxUnhealthyUpgradedInstancePercent": 0}, []),
        (2, "Rolling", False, {"maxUnhealthyInstancePercent": 49}, ["PolicyStopsOnFirstUnhealthyInstance"]),
        (0, "Rolling", True, {}, []),
    ],
)
def test_fleet_warnings(count: int, mode: str, enabled: bool, rolling: dict[str, Any], expected: list[str]) -> None:
    base = {"maxUnhealthyInstancePercent": 50, "maxUnhealthyUpgradedInstancePercent": 50}
    base.update(rolling)
    wanted = policy(mode, enabled, **(base if mode == "Rolling" else {}))
    assert warnings(req.check_policy(model(), wanted, count, False)) == expected


def test_use_rolling_upgrade_policy_moves_the_warning_to_the_rolling_policy() -> None:
    wanted = policy(maxUnhealthyInstancePercent=10, maxUnhealthyUpgradedInstancePercent=10)
    wanted["automaticOSUpgradePolicy"]["useRollingUpgradePolicy"] = True
    findings = req.check_policy(model(), wanted, 9, False)
    assert [(f["code"], f["path"]) for f in findings] == [
        (
            "PolicyStopsOnFirstUnhealthyInstance",
            "properties.upgradePolicy.rollingUpgradePolicy.maxUnhealthyInstancePercent",
        ),
        (
            "PolicyStopsOnFirstFailedUpgrade",
            "properties.upgradePolicy.rollingUpgradePolicy.maxUnhealthyUpgradedInstancePercent",
        ),
    ]


def test_unhealthy_instances_now_would_stop_a_run() -> None:
    findings = req.check_policy(model(), policy(), 10, False, unhealthy_count=3)
    assert warnings(findings) == ["UnhealthyInstancesExceedPolicy"]
    assert req.check_policy(model(), policy(), 10, False, unhealthy_count=2) == []


def test_errors_come_before_warnings() -> None:
    findings = req.check_policy(model(probe=None), policy(), 2, False)
    assert [f["severity"] for f in findings] == ["error", "warning", "warning"]


@given(count=st.integers(1, 500), percent=st.integers(5, 100))
def test_warning_exactly_when_one_unhealthy_instance_exceeds_the_threshold(count: int, percent: int) -> None:
    wanted = policy("Rolling", False, maxUnhealthyInstancePercent=percent, maxUnhealthyUpgradedInstancePercent=100)
    tripped = "PolicyStopsOnFirstUnhealthyInstance" in warnings(req.fleet_warnings(wanted, count))
    # Azure's check is strict: more than percent% of count instances.
    assert tripped == (1 * 100 > percent * count)


# -- findings' shape ---------------------------------------------------------------------------------

_MODELS: list[Record] = [r[1] for r in RULES] + [r[1] for r in ROLLING]


@given(
    index=st.integers(0, len(_MODELS) - 1),
    mode=st.sampled_from(["Automatic", "Manual", "Rolling"]),
    enabled=st.booleans(),
    count=st.integers(0, 50),
    unhealthy=st.integers(0, 50),
    opt_in=st.booleans(),
    api=st.sampled_from(["2016-04-30-preview", "2018-06-01", "2019-03-01", "2021-03-01", "2024-11-01"]),
)
def test_every_finding_is_well_formed(
    index: int, mode: str, enabled: bool, count: int, unhealthy: int, opt_in: bool, api: str
) -> None:
    record = copy.deepcopy(_MODELS[index])
    record["api_version"] = api
    findings = req.check_policy(record, policy(mode, enabled, maxSurge=True), count, opt_in, min(unhealthy, count))
    keys = [(f["code"], f["path"]) for f in findings]
    assert len(keys) == len(set(keys))
    for item in findings:
        assert set(item) == {"code", "path", "message", "severity"}
        assert item["severity"] in ("error", "warning")
        assert item["code"] in (ERROR_CODES if item["severity"] == "error" else WARNING_CODES)
        assert item["path"] == "apiVersion" or item["path"].startswith("properties.")
        assert item["message"]


def test_summary_names_count_and_codes() -> None:
    findings = [req.finding("A", "p", "m"), req.finding("B", "p", "m"), req.finding("W", "p", "m", "warning")]
    assert req.summarize(findings) == "2 unmet requirements (A, B)"
    assert req.summarize(findings[:1]) == "1 unmet requirement (A)"


@pytest.mark.parametrize(
    ("version", "minimum", "expected"),
    [
        ("2018-10-01", "2018-10-01", True),
        ("2018-09-30", "2018-10-01", False),
        ("2019-03-01-preview", "2019-03-01", True),
        ("2024-11-01", "2017-03-30", True),
        ("garbage", "2017-03-30", False),
    ],
)
def test_api_at_least(version: str, minimum: str, expected: bool) -> None:
    assert api_at_least(version, minimum) is expected


# -- the supported image table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "expected"),
    [
        ("Canonical", "UbuntuServer", "18.04-LTS", True),  # seed
        ("openlogic", "centos", "7.5", True),  # seed, any case
        ("MicrosoftWindowsServer", "WindowsServer", "Datacenter-Core-1903-with-Containers-smalldisk", True),  # seed
        ("Canonical", "0001-com-ubuntu-server-focal", "20_04-LTS", True),
        ("Canonical", "ubuntu-24_04-lts", "server", True),
        ("MicrosoftCblMariner", "Cbl-Mariner", "cbl-mariner-2-gen2", True),
        ("MicrosoftSqlServer", "SQL2019-ws2022", "enterprise", True),
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", True),
        ("MicrosoftWindowsServer", "WindowsServer", "2025-Datacenter", False),
        ("Canonical", "UbuntuServer", "14.04-LTS", False),
        ("RedHat", "RHEL", "9-lvm", False),
    ],
)
def test_supported_images(publisher: str, offer: str, sku: str, expected: bool) -> None:
    assert images.is_supported(publisher, offer, sku) is expected


def test_supported_tables_have_no_duplicates_within_a_table() -> None:
    for table in (images.SEED, images.CURRENT, images.SIMULATOR):
        lowered = [tuple(p.lower() for p in row) for row in table]
        assert len(lowered) == len(set(lowered))
