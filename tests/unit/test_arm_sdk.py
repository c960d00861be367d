# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real azure-mgmt-compute SDK and azure-identity against the ARM endpoint, over HTTPS (issue 13).

The SDK runs in its own venv outside the clone, cached and keyed on tests/arm/requirements-sdk.txt
(tests/arm/sdk_venv.py); the first run builds it from PyPI (about 25 s). If it cannot be built this
test FAILS, naming what is missing: a real-client test that skips proves nothing.
The endpoint runs in a thread on a free port against a temporary store; between the SDK's phases the
collection's own action publishes a newer image in that same store, as a playbook would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import KNOWN_API_VERSIONS
from ansible_collections.azsim.vmss.tests.arm.sdk_venv import VenvError, client_python
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint

pytestmark = [pytest.mark.system, pytest.mark.clients]  # each test runs the SDK in its own venv, in subprocesses

HERE = Path(__file__).resolve().parent.parent / "arm"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
GALLERY_IMAGE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-gallery/providers/Microsoft.Compute/"
    "galleries/gallery/images/app"
)


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    try:
        return client_python(
            HERE / "requirements-sdk.txt",
            "sdk",
            "azure.mgmt.compute, azure.identity, azure.mgmt.resource, azure.mgmt.resource.features",
        )
    except VenvError as exc:
        pytest.fail(
            f"the azure-mgmt-compute real-client test needs its venv and it could not be built:\n{exc}", pytrace=False
        )


def sdk(python: Path, phase: str, info: dict[str, Any], script: str = "sdk_client.py") -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REQUESTS_CA", "SSL_CERT"))}
    env["AZSIM_ARM_INFO"] = json.dumps(info)
    done = subprocess.run(
        [str(python), str(HERE / script), phase],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"SDK phase {phase} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_sdk_create_get_list_upgrade_latest_history_errors(sdk_python: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        created = sdk(sdk_python, "create", info)
        assert created["vms"] == ["sdkvmss_0", "sdkvmss_1", "sdkvmss_2"]
        assert created["exact_versions"] == ["1.0.0"]
        assert created["listed"] == ["sdkvmss"] and created["list_all"] == ["sdkvmss"]

        in_store(store, publish_image, **UBUNTU, version="1.1.0")  # the collection's own action, same store
        upgraded = sdk(sdk_python, "upgrade", info)
    assert upgraded["latest"] == {"code": "Completed", "last_action": "Start", "successful": 3, "failed": 0}
    assert upgraded["exact_versions"] == ["1.1.0"]
    assert upgraded["history"] == [{"code": "Completed", "started_by": "User", "target": "1.1.0"}]
    assert upgraded["lro_seconds"] < 5, "the LRO must be terminal on the first poll, never the 30 s default wait"
    errors = upgraded["errors"]
    assert errors["cancel_idle"] == {"status": 409, "code": "OperationNotAllowed", "type": "ResourceExistsError"}
    assert errors["missing"] == {"status": 404, "code": "ResourceNotFound"}
    assert "AADSTS7000215" in errors["wrong_secret"]["message"]
    assert info["client_secret"] not in json.dumps(upgraded)


UNHEALTHY = "Instance found to be unhealthy or unreachable."


def test_sdk_faulted_run_error_deserializes_into_api_error_then_delete(sdk_python: Path, tmp_path: Path) -> None:
    """azure-behaviour-2 ER-1, ER-3, ER-5, ER-11 in the SDK's own models; DELETE as an LRO (design.md state absent)."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        sdk(sdk_python, "create", info)
        faults = [{"type": "boot_unhealthy", "instances": ["sdkvmss_0"]}]
        in_store(store, ensure_scale_set, resource_group="rg-sdk", name="sdkvmss", simulation={"faults": faults})
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        seen = sdk(sdk_python, "faulted", info)
    error = {
        "code": "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade",
        "target": None,
        "message": "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value defined in "
        "the RollingUpgradePolicy. 33% of instances are in an unhealthy state after being upgraded - more than the "
        f"threshold of 20% configured in the RollingUpgradePolicy. The most impactful error is:  {UNHEALTHY} For "
        "details on rolling upgrades, use http://aka.ms/AzureVMSSRollingUpgrade",
        "details": [
            {
                "code": "RollingUpgradeInstanceUnhealthyError",
                "target": "sdkvmss/virtualMachines/0",
                "message": UNHEALTHY,
            }
        ],
    }
    assert seen["latest"] == {"code": "Faulted", "error": error}
    assert seen["history_error"] == error
    assert seen["lro"] == {"type": "HttpResponseError", "error": error}
    assert seen["deleted"] is True


def test_sdk_409s_while_a_run_goes_on(sdk_python: Path, tmp_path: Path) -> None:
    """azure-behaviour-2 CF-1, CF-2, CF-3 as the SDK sees them: ResourceExistsError with OperationNotAllowed."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state", clock="manual") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        sdk(sdk_python, "create", info)
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        seen = sdk(sdk_python, "conflicts", info)
    assert seen["running"] == "RollingForward"
    for key, operation in (("second_start", "osRollingUpgrade"), ("put", "PUT"), ("delete", "DELETE")):
        refusal = seen[key]
        assert (refusal["status"], refusal["code"]) == (409, "OperationNotAllowed"), key
        assert f"Operation '{operation}' is not allowed on Virtual Machine Scale Set 'sdkvmss'" in refusal["message"]


def routes(python: Path, phase: str, info: dict[str, Any]) -> dict[str, Any]:
    return sdk(python, phase, info, script="sdk_routes_client.py")


def test_sdk_patch_instance_views_sizes_manual_upgrade_galleries(sdk_python: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        for version, exclude in (("1.0.0", False), ("1.1.0", True)):
            in_store(
                store,
                publish_image,
                gallery_image_id=GALLERY_IMAGE,
                version=version,
                target_regions=["eastus", "westus"],
                exclude_from_latest=exclude,
            )
        seen = routes(sdk_python, "compute_routes", info)
    assert seen["created_capacity"] == 3 and seen["patched_capacity"] == 4
    assert seen["patched_policy"] == 34, "begin_update (PATCH) keeps what it does not send"
    assert seen["summary"] == [["ProvisioningState/succeeded", 4]]
    assert seen["vm_statuses"] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert seen["vm_health"] == "HealthState/healthy" and seen["expanded"] == "routes_3"
    assert "Standard_D2s_v3" in seen["sizes"] and "Standard_B1s" in seen["sizes"]
    assert seen["gallery"] == [["1.0.0", False, "Succeeded"], ["1.1.0", True, "Succeeded"]]
    assert seen["gallery_regions"] == ["eastus", "westus"] and seen["replication"] == "Completed"


def test_sdk_image_catalogue_and_latest(sdk_python: Path, tmp_path: Path) -> None:
    """az vm image show --urn ...:latest asks versions?$orderby=name desc&$top=1 (arm-endpoint-research §2.4)."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        for version in ("1.0.0", "1.10.0", "1.9.0"):
            in_store(store, publish_image, **UBUNTU, version=version)
        in_store(store, publish_image, **UBUNTU, version="7.0.0", location="westus")
        seen = routes(sdk_python, "images", info)
    assert seen["publishers"] == ["Canonical"] and seen["offers"] == ["ubuntu-24_04-lts"] and seen["skus"] == ["server"]
    assert seen["versions"] == ["1.0.0", "1.9.0", "1.10.0"], "ordered as versions, only those of the location"
    assert seen["latest"] == ["1.10.0"]
    assert seen["os"] == "Linux" and seen["auto_upgrade_supported"] is True


def test_sdk_resource_groups_providers_and_feature_client(sdk_python: Path, tmp_path: Path) -> None:
    """The seed's opt-in with azure-mgmt-resource's FeatureClient and providers (azure-behaviour §6)."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        seen = routes(sdk_python, "resources", info)
    assert seen["existed"] is False and seen["exists"] is True and seen["after_delete"] is False
    assert seen["group"] == ["rg-sdk-res", "eastus", {"team": "sdk"}, "Succeeded"]
    assert seen["groups"] == ["rg-sdk-res"]
    assert seen["feature_before"] == "NotRegistered"
    assert seen["feature_registered"] == ["Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage", "Registered"]
    assert seen["features_listed"] == ["Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage"]
    assert seen["provider"] == "Registered" and seen["api_version_0"] == KNOWN_API_VERSIONS[-1]


def test_sdk_approve_without_instance_ids_approves_the_deferred_run_d11(sdk_python: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        assert routes(sdk_python, "create", info) == {"capacity": 4}
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        in_store(store, move_clock, advance="PT4H")  # the platform's run starts and waits for approval
        approved = routes(sdk_python, "approve", info)
        in_store(store, move_clock, advance="PT2H")
        after = routes(sdk_python, "latest", info)
    assert approved["code"] == "RollingForward" and approved["successful"] == 0, "approved, not yet upgraded"
    assert after["code"] == "Completed" and after["successful"] == 4


def test_sdk_without_retry_after_the_first_poll_is_terminal(sdk_python: Path, tmp_path: Path) -> None:
    """No Retry-After costs an SDK client 30 s per unfinished poll (arm-endpoint-research §2.6 rule 2): with
    the headers stripped by a client policy, each LRO must take exactly one status poll."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        seen = routes(sdk_python, "no_retry_after", info)
    assert seen["stripped"] >= 2, "the endpoint did send Retry-After; the policy removed it"
    assert seen["put_polls"] == 1 and seen["post_polls"] == 1, seen
    assert seen["final_gets"] == 1, "after a terminal status, the POST's one GET of Location (research §2.6)"


def test_sdk_lifecycle_hook_events_list_get_update(sdk_python: Path, tmp_path: Path) -> None:
    """azure-behaviour-2 LH-2, LH-4, LH-7, LH-8, LH-11, LH-16 in azure-mgmt-compute 39's own models."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state", clock="manual") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        created = sdk(sdk_python, "hooks_create", info)
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        in_store(store, move_clock, advance="PT3H")  # §4: the platform's first rollout; its first batch waits
        seen = sdk(sdk_python, "hooks_decide", info)
    assert created["hook"] == {
        "type": "UpgradeAutoOSRollingBatchStarting",
        "wait_seconds": 1800.0,
        "default_action": "Approve",
    }
    assert seen["listed"] == {
        "type": "Microsoft.Compute/virtualMachineScaleSets/lifecycleHookEvents",
        "hook_type": "UpgradeAutoOSRollingBatchStarting",
        "state": "Active",
        "targets": [["0", "Waiting"]],
        "default_action": "Approve",
        "times": ["2025-01-01T03:00:00Z", "2025-01-01T03:30:00Z", "2025-01-01T07:00:00Z"],
    }
    assert seen["updated"] == {"state": "Completed", "targets": ["Approved"]}
    assert seen["missing"] == {"status": 404, "code": "NotFound"}


AGENT = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"
MONITOR = {"name": "monitor", "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent",
           "type_handler_version": "1.0"}  # fmt: skip


def _with_released_agent(store: Path) -> None:
    """The SDK-created scale set gets the agent 1.0 (rolled out), then the publisher releases 1.2."""
    in_store(store, ensure_scale_set, resource_group="rg-sdk", name="sdkvmss", extensions=[MONITOR],
             simulation={"extension_versions": {AGENT: ["1.0"]}})  # fmt: skip
    in_store(store, move_clock, advance="PT1H")
    in_store(store, ensure_scale_set, resource_group="rg-sdk", name="sdkvmss",
             simulation={"extension_versions": {AGENT: ["1.0", "1.2"]}})  # fmt: skip


@pytest.mark.system
def test_sdk_begin_start_extension_upgrade_runs_and_stays_out_of_history(sdk_python: Path, tmp_path: Path) -> None:
    """azure-behaviour-2 EX-1, EX-3, EX-4 through azure-mgmt-compute's begin_start_extension_upgrade."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        sdk(sdk_python, "create", info)
        _with_released_agent(store)
        seen = sdk(sdk_python, "extension", info)
    assert seen["latest"] == {"code": "Completed", "successful": 3, "max_batch": 34}
    assert seen["history"] == 0


@pytest.mark.system
def test_sdk_extension_run_holds_the_one_rolling_slot(sdk_python: Path, tmp_path: Path) -> None:
    """azure-behaviour-2 EX-5, D13, CF-1: both starts during an extension run are ResourceExistsError 409."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state", clock="manual") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        sdk(sdk_python, "create", info)
        _with_released_agent(store)
        in_store(store, publish_image, **UBUNTU, version="1.1.0")
        seen = sdk(sdk_python, "extension_conflict", info)
    assert seen["running"] == "RollingForward"
    for key, operation in (("os_start", "osRollingUpgrade"), ("extension_start", "extensionRollingUpgrade")):
        assert (seen[key]["status"], seen[key]["code"]) == (409, "OperationNotAllowed"), key
        assert f"Operation '{operation}' is not allowed on Virtual Machine Scale Set 'sdkvmss'" in seen[key]["message"]


@pytest.mark.system
def test_sdk_repairs_policy_and_orchestration_service_state_in_the_sdks_models(
    sdk_python: Path, tmp_path: Path
) -> None:
    """azure-behaviour-2 AR-1, AR-8, AR-9: the policy validates as the SDK's AutomaticRepairsPolicy; the instance
    view's orchestrationServices as OrchestrationServiceSummary; Suspend by begin_set_orchestration_service_state."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        sdk(sdk_python, "create", info)
        seen = sdk(sdk_python, "repairs", info)
    assert seen["policy"] == {"enabled": True, "grace_period": "PT30M", "repair_action": "Reimage"}
    assert seen["services"] == [[["AutomaticRepairs", "Running"]], [["AutomaticRepairs", "Suspended"]]]
