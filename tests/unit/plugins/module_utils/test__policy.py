# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vmss_upgrade_policy core: merging options, validation, requirement checks, what is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import RequirementsNotMet
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._model import policy, scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import DEFAULT_UPGRADE_POLICY, group_keys
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import UPGRADE_POLICY_SCHEMA, validate
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit._harness import dump

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest", "id": None}
WINDOWS = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-Datacenter",
    "version": "1.0.0",
    "id": None,
}
GALLERY = f"/subscriptions/{SUB}/resourceGroups/img/providers/Microsoft.Compute/galleries/gal/images/web"
HEALTH = {
    "name": "health",
    "publisher": "Microsoft.ManagedServices",
    "type": "ApplicationHealthLinux",
    "type_handler_version": "2.0",
    "provision_after_extensions": None,
    "settings": {"port": 80},
    "protected_settings": None,
    "credential_expiry": None,
}
PROBE = {"id": None, "protocol": "tcp", "port": 80, "request_path": None, "load_balancer_sku": "Standard"}
HOSTS = [f"web-{n:02d}" for n in range(1, 11)]

# Azure's UpgradePolicy, AutomaticOSUpgradePolicy and RollingUpgradePolicy property names.
REST_KEYS = {
    "mode": None,
    "automaticOSUpgradePolicy": {
        "enableAutomaticOSUpgrade",
        "disableAutomaticRollback",
        "useRollingUpgradePolicy",
        "osRollingUpgradeDeferral",
    },
    "rollingUpgradePolicy": {
        "maxBatchInstancePercent",
        "maxUnhealthyInstancePercent",
        "maxUnhealthyUpgradedInstancePercent",
        "pauseTimeBetweenBatches",
        "enableCrossZoneUpgrade",
        "prioritizeUnhealthyInstances",
        "rollbackFailedInstancesOnPolicyBreach",
        "maxSurge",
    },
}


def assert_azure_shape(value: dict[str, Any]) -> None:
    validate(value, UPGRADE_POLICY_SCHEMA)
    assert set(value) == set(REST_KEYS)
    for group, keys in REST_KEYS.items():
        if keys is not None:
            assert set(value[group]) == keys


# -- helpers ---------------------------------------------------------------------------------------


def vmss_params(name: str = "web", **given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource_group": RG,
        "name": name,
        "state": "present",
        "location": None,
        "api_version": None,
        "os_type": None,
        "image": dict(UBUNTU),
        "windows_configuration": None,
        "extensions": None,
        "health_probe": PROBE,
        "service_fabric": None,
        "single_placement_group": None,
        "zones": None,
        "instances": HOSTS,
        "simulation": None,
        "update_instances": None,
    }
    out.update(given)
    return out


def options(
    name: str = "web",
    mode: str | None = None,
    auto: dict[str, Any] | None = None,
    rolling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Module parameters as AnsibleModule hands them: every sub-option present, None when not given."""

    def fill(given: dict[str, Any] | None, keys: list[str]) -> dict[str, Any] | None:
        return None if given is None else {k: given.get(k) for k in keys} | given

    return {
        "resource_group": RG,
        "name": name,
        "mode": mode,
        "automatic_os_upgrade": fill(auto, group_keys("automatic_os_upgrade")),
        "rolling_upgrade_policy": fill(rolling, group_keys("rolling_upgrade_policy")),
    }


def publish(store: Store, version: str = "1.0.0", image: dict[str, Any] | None = None) -> None:
    image = image or UBUNTU
    with store.transaction():
        act(
            publish_image,
            store,
            SUB,
            {
                "state": "present",
                "publisher": image["publisher"],
                "offer": image["offer"],
                "sku": image["sku"],
                "version": version,
                "location": "eastus",
                "gallery_image_id": None,
                "target_regions": None,
                "exclude_from_latest": None,
            },
        )


def create(store: Store, name: str = "web", **given: Any) -> dict[str, Any]:
    with store.transaction():
        return act(ensure_scale_set, store, SUB, vmss_params(name, **given))


def apply(store: Store, **given: Any) -> dict[str, Any]:
    with store.transaction():
        return act(set_upgrade_policy, store, SUB, options(**given))


def record(store: Store, name: str = "web") -> Record:
    with store.transaction(commit=False):
        return scaleset.load_or_fail(store, SUB, RG, name)


@pytest.fixture
def web(store: Store) -> Store:
    """A store with a 10-instance Ubuntu scale set on latest with a probe: meets every requirement."""
    publish(store)
    create(store)
    return store


# -- merging and validating options ----------------------------------------------------------------


def test_unset_options_keep_their_value(web: Store) -> None:
    apply(web, mode="Rolling", rolling={"max_batch_instance_percent": 50, "pause_time_between_batches": "PT2M"})
    result = apply(web, auto={"enabled": True})
    assert result["upgrade_policy"]["mode"] == "Rolling"
    assert result["upgrade_policy"]["rollingUpgradePolicy"]["maxBatchInstancePercent"] == 50
    assert result["upgrade_policy"]["rollingUpgradePolicy"]["pauseTimeBetweenBatches"] == "PT2M"
    assert result["upgrade_policy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True
    assert_azure_shape(result["upgrade_policy"])


def test_every_option_reaches_its_rest_field(web: Store) -> None:
    result = apply(
        web,
        mode="Automatic",
        auto={
            "enabled": True,
            "disable_automatic_rollback": True,
            "use_rolling_upgrade_policy": True,
            "os_rolling_upgrade_deferral": True,
        },
        rolling={
            "max_batch_instance_percent": 10,
            "max_unhealthy_instance_percent": 30,
            "max_unhealthy_upgraded_instance_percent": 0,
            "pause_time_between_batches": "pt1h",
            "enable_cross_zone_upgrade": True,
            "prioritize_unhealthy_instances": True,
            "rollback_failed_instances_on_policy_breach": True,
            "max_surge": True,
        },
    )
    assert result["upgrade_policy"] == {
        "mode": "Automatic",
        "automaticOSUpgradePolicy": {
            "enableAutomaticOSUpgrade": True,
            "disableAutomaticRollback": True,
            "useRollingUpgradePolicy": True,
            "osRollingUpgradeDeferral": True,
        },
        "rollingUpgradePolicy": {
            "maxBatchInstancePercent": 10,
            "maxUnhealthyInstancePercent": 30,
            "maxUnhealthyUpgradedInstancePercent": 0,
            "pauseTimeBetweenBatches": "PT1H",
            "enableCrossZoneUpgrade": True,
            "prioritizeUnhealthyInstances": True,
            "rollbackFailedInstancesOnPolicyBreach": True,
            "maxSurge": True,
        },
    }
    assert record(web)["model"]["properties"]["upgradePolicy"] == result["upgrade_policy"]


BAD_OPTIONS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"rolling": {"max_batch_instance_percent": 3}},
        "rolling_upgrade_policy.max_batch_instance_percent",
        "a whole number from 5 to 100",
    ),
    (
        {"rolling": {"max_batch_instance_percent": 101}},
        "rolling_upgrade_policy.max_batch_instance_percent",
        "a whole number from 5 to 100",
    ),
    (
        {"rolling": {"max_unhealthy_instance_percent": 4}},
        "rolling_upgrade_policy.max_unhealthy_instance_percent",
        "a whole number from 5 to 100",
    ),
    (
        {"rolling": {"max_unhealthy_upgraded_instance_percent": -1}},
        "rolling_upgrade_policy.max_unhealthy_upgraded_instance_percent",
        "a whole number from 0 to 100",
    ),
    (
        {"rolling": {"max_unhealthy_upgraded_instance_percent": 101}},
        "rolling_upgrade_policy.max_unhealthy_upgraded_instance_percent",
        "a whole number from 0 to 100",
    ),
    (
        {"rolling": {"pause_time_between_batches": "5 minutes"}},
        "rolling_upgrade_policy.pause_time_between_batches",
        "ISO 8601 duration",
    ),
    (
        {"rolling": {"pause_time_between_batches": "P1M"}},
        "rolling_upgrade_policy.pause_time_between_batches",
        "ISO 8601 duration",
    ),
    ({"rolling": {"max_surge": "yes"}}, "rolling_upgrade_policy.max_surge", "true or false"),
    (
        {"rolling": {"max_batch_instance_percent": True}},
        "rolling_upgrade_policy.max_batch_instance_percent",
        "a whole number",
    ),
    ({"mode": "Sometimes"}, "mode", "one of Automatic, Manual, Rolling"),
    ({"auto": {"enabled": "true"}}, "automatic_os_upgrade.enabled", "true or false"),
]


@pytest.mark.parametrize(
    ("given", "option", "allowed"), BAD_OPTIONS, ids=[b[1] + "=" + repr(b[0]) for b in BAD_OPTIONS]
)
def test_bad_values_name_the_option_and_what_is_allowed(
    web: Store, given: dict[str, Any], option: str, allowed: str
) -> None:
    before = dump(web)
    with pytest.raises(InvalidInput) as info:
        apply(web, **given)
    assert info.value.message.startswith(f"{option}: ")
    assert allowed in info.value.message
    assert dump(web) == before


def test_unknown_sub_option_is_refused(web: Store) -> None:
    params = options()
    params["rolling_upgrade_policy"] = {"max_batch_percent": 10}
    with (
        web.transaction(),
        pytest.raises(InvalidInput, match=r"^rolling_upgrade_policy: unknown option max_batch_percent"),
    ):
        act(set_upgrade_policy, web, SUB, params)


def test_missing_scale_set(web: Store) -> None:
    with pytest.raises(NotFound, match="scale set nope"):
        apply(web, name="nope", mode="Manual")


def test_merge_fills_a_partial_policy() -> None:
    merged = policy.merge({"mode": "Rolling"}, options())
    expected = copy.deepcopy(DEFAULT_UPGRADE_POLICY)
    expected["mode"] = "Rolling"
    assert merged == expected


# -- changed, idempotence, what is written ----------------------------------------------------------


def test_same_policy_twice_is_not_a_change(web: Store) -> None:
    given = {"mode": "Rolling", "auto": {"enabled": True}, "rolling": {"max_batch_instance_percent": 30}}
    first = apply(web, **given)
    assert first["before"] != first["after"]
    stored = dump(web)
    second = apply(web, **given)
    assert second["before"] == second["after"]
    assert second["upgrade_policy"] == first["upgrade_policy"]
    assert dump(web) == stored


def test_nothing_given_changes_nothing(web: Store) -> None:
    result = apply(web)
    assert result["before"] == result["after"]
    assert result["upgrade_policy"] == DEFAULT_UPGRADE_POLICY
    assert result["findings"] == []


def test_diff_snapshots_hold_the_policy(web: Store) -> None:
    result = apply(web, mode="Rolling")
    assert result["before"] == {"upgrade_policy": DEFAULT_UPGRADE_POLICY}
    assert result["after"]["upgrade_policy"]["mode"] == "Rolling"


# -- requirements ----------------------------------------------------------------------------------


def test_unmet_requirements_fail_with_all_findings_and_write_nothing(store: Store) -> None:
    publish(store, image=WINDOWS)
    create(
        store,
        os_type="windows",
        image=dict(WINDOWS),
        health_probe=None,
        windows_configuration={"enable_automatic_updates": True, "patch_mode": None},
    )
    before = dump(store)
    with pytest.raises(RequirementsNotMet) as info:
        apply(store, auto={"enabled": True})
    error = info.value
    codes = [f["code"] for f in error.details["findings"] if f["severity"] == "error"]
    assert codes == ["ImageVersionNotLatest", "HealthSourceMissing", "WindowsAutomaticUpdatesEnabled"]
    assert "3 unmet requirements (ImageVersionNotLatest, HealthSourceMissing, WindowsAutomaticUpdatesEnabled)" in (
        error.message
    )
    assert error.details["upgrade_policy"] == DEFAULT_UPGRADE_POLICY
    assert dump(store) == before


def test_rolling_mode_without_health_source_is_azures_400(web: Store) -> None:
    create(web, "bare", health_probe={})
    with pytest.raises(RequirementsNotMet) as info:
        apply(web, name="bare", mode="Rolling")
    assert [f["code"] for f in info.value.details["findings"]] == ["HealthSourceMissing"]
    assert "because a health probe or health extension was not provided" in info.value.details["findings"][0]["message"]


def test_probe_and_extension_are_ambiguous(web: Store) -> None:
    create(web, extensions=[HEALTH])
    with pytest.raises(RequirementsNotMet) as info:
        apply(web, auto={"enabled": True})
    assert [f["code"] for f in info.value.details["findings"]] == ["HealthSourceAmbiguous"]


def test_policy_field_newer_than_the_api_version(web: Store) -> None:
    create(web, api_version="2021-03-01")
    with pytest.raises(RequirementsNotMet) as info:
        apply(web, rolling={"max_surge": True})
    assert [f["code"] for f in info.value.details["findings"]] == ["PolicyFieldRequiresNewerApiVersion"]
    assert apply(web, rolling={"max_surge": False})["before"] == apply(web)["after"]  # the default counts as unset


def test_gallery_image_waits_for_the_opt_in(store: Store) -> None:
    with store.transaction():
        act(
            publish_image,
            store,
            SUB,
            {
                "state": "present",
                "gallery_image_id": GALLERY,
                "version": "1.0.0",
                "target_regions": ["eastus"],
                "exclude_from_latest": None,
            },
        )
    create(store, image={"publisher": None, "offer": None, "sku": None, "version": None, "id": GALLERY})
    with pytest.raises(RequirementsNotMet) as info:
        apply(store, auto={"enabled": True})
    assert [f["code"] for f in info.value.details["findings"]] == ["GalleryFeatureNotRegistered"]
    with store.transaction():
        act(register_feature, store, SUB, {"register_provider": True, "wait": True})
    assert apply(store, auto={"enabled": True})["upgrade_policy"]["automaticOSUpgradePolicy"][
        "enableAutomaticOSUpgrade"
    ]


def test_warnings_do_not_fail(web: Store) -> None:
    create(web, instances=["a", "b"])
    result = apply(web, auto={"enabled": True})
    assert [f["code"] for f in result["findings"]] == [
        "PolicyStopsOnFirstUnhealthyInstance",
        "PolicyStopsOnFirstFailedUpgrade",
    ]
    assert all(f["severity"] == "warning" for f in result["findings"])
    assert result["warnings"] and result["warnings"][0].startswith("PolicyStopsOnFirstUnhealthyInstance: ")
    assert record(web)["model"]["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"]


# -- Windows Update ----------------------------------------------------------------------------------


def test_enabling_turns_windows_update_off_when_unset(store: Store) -> None:
    image = dict(WINDOWS, version="latest")
    publish(store, image=WINDOWS)
    create(store, os_type="windows", image=image)
    model_version = record(store)["model_version"]
    result = apply(store, auto={"enabled": True})
    assert result["before"]["windows_configuration"] == {}
    assert result["after"]["windows_configuration"] == {"enableAutomaticUpdates": False}
    saved = record(store)
    config = saved["model"]["properties"]["virtualMachineProfile"]["osProfile"]["windowsConfiguration"]
    assert config == {"enableAutomaticUpdates": False}
    assert saved["model_version"] == model_version + 1
    again = apply(store, auto={"enabled": True})
    assert again["before"] == again["after"]


def test_windows_update_explicitly_false_stays(store: Store) -> None:
    publish(store, image=WINDOWS)
    create(
        store,
        os_type="windows",
        image=dict(WINDOWS, version="latest"),
        windows_configuration={"enable_automatic_updates": False, "patch_mode": "AutomaticByOS"},
    )
    model_version = record(store)["model_version"]
    apply(store, auto={"enabled": True})
    assert record(store)["model_version"] == model_version


# -- the platform's clock ----------------------------------------------------------------------------


def test_enabling_records_the_time_and_disabling_clears_it(web: Store) -> None:
    with web.transaction():
        act(move_clock, web, SUB, {"advance": "PT1H"})
    apply(web, auto={"enabled": True})
    assert record(web)["automatic_os_upgrade_enabled_at"] == EPOCH + 3600
    with web.transaction():
        act(move_clock, web, SUB, {"advance": "PT1H"})
    apply(web, mode="Rolling")  # still enabled: the clock keeps its start
    assert record(web)["automatic_os_upgrade_enabled_at"] == EPOCH + 3600
    apply(web, auto={"enabled": False})
    assert record(web)["automatic_os_upgrade_enabled_at"] is None


def test_enabling_schedules_the_first_platform_rollout(web: Store) -> None:
    publish(web, "1.0.1")
    key = scaleset.record_key(record(web))
    apply(web, auto={"enabled": True})
    with web.transaction(commit=False):
        due = [e["due"] for e in web.pending_events(key, platform.EVENT_KIND)]
    assert due == [EPOCH + 3 * 3600]
    apply(web, auto={"enabled": False})
    with web.transaction(commit=False):
        assert web.pending_events(key, platform.EVENT_KIND) == []
