# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""feature_registration through main(): the JSON a playbook would get, and what the store holds afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model import features
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.modules import feature_registration
from ansible_collections.azsim.vmss.tests.unit._harness import run as harness_run

SUB = "00000000-0000-0000-0000-000000000000"


def run(args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run the module as Ansible would; (exit code, parsed result)."""
    return harness_run(feature_registration, args)


def look(path: Path) -> tuple[str, str, bool]:
    """(virtual now, feature state, gallery opt-in complete) in the store."""
    store = Store.open(str(path))
    try:
        with store.transaction(commit=False):
            feature = features.load_feature(store, SUB, "Microsoft.Compute", "AutomaticOSUpgradeWithGalleryImage")
            return format_timestamp(store.now()), feature["state"], features.gallery_opt_in_complete(store, SUB)
    finally:
        store.close()


def test_defaults_start_the_gallery_feature_registration(store_path: Path) -> None:
    rc, result = run({"store": str(store_path)})
    assert (rc, result["changed"]) == (0, True)
    assert result["feature"] == {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Features/providers/Microsoft.Compute/features/"
        "AutomaticOSUpgradeWithGalleryImage",
        "name": "Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage",
        "type": "Microsoft.Features/providers/features",
        "properties": {"state": "Registering"},
    }
    assert result["provider"] == {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Compute",
        "namespace": "Microsoft.Compute",
        "registrationState": "NotRegistered",
    }
    assert result["opt_in_complete"] is False
    assert look(store_path) == ("2025-01-01T00:00:00Z", "Registering", False)


def test_wait_and_register_provider_complete_the_opt_in(store_path: Path) -> None:
    rc, result = run({"store": str(store_path), "register_provider": True, "wait": True})
    assert (rc, result["changed"]) == (0, True)
    assert result["feature"]["properties"]["state"] == "Registered"
    assert result["provider"]["registrationState"] == "Registered"
    assert result["opt_in_complete"] is True
    assert [e["type"] for e in result["events"]] == [
        "FeatureRegistered",
        "ProviderRegistrationStarted",
        "ProviderRegistered",
    ]
    assert look(store_path) == ("2025-01-01T00:17:00Z", "Registered", True)
    rc, again = run({"store": str(store_path), "register_provider": True, "wait": True})
    assert (rc, again["changed"]) == (0, False)


def test_check_mode_writes_nothing(store_path: Path) -> None:
    Store.open(str(store_path)).close()
    rc, result = run({"store": str(store_path), "wait": True, "register_provider": True, "_ansible_check_mode": True})
    assert (rc, result["changed"]) == (0, True)
    assert result["feature"]["properties"]["state"] == "Registered"
    assert look(store_path) == ("2025-01-01T00:00:00Z", "NotRegistered", False)


def test_diff(store_path: Path) -> None:
    rc, result = run({"store": str(store_path), "_ansible_diff": True})
    assert rc == 0
    assert result["diff"]["before"]["feature"]["properties"]["state"] == "NotRegistered"
    assert result["diff"]["after"]["feature"]["properties"]["state"] == "Registering"


def test_unregister(store_path: Path) -> None:
    run({"store": str(store_path), "wait": True})
    rc, result = run({"store": str(store_path), "state": "unregistered", "wait": True, "registration_duration": "PT1M"})
    assert (rc, result["changed"]) == (0, True)
    assert result["feature"]["properties"]["state"] == "Unregistered"
    assert look(store_path) == ("2025-01-01T00:16:00Z", "Unregistered", False)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"registration_duration": "a while"}, "registration_duration: 'a while' is not an ISO 8601 duration"),
        ({"namespace": "compute"}, "namespace: 'compute' is not a resource provider namespace"),
        ({"state": "present"}, "state"),
    ],
)
def test_bad_options(store_path: Path, args: dict[str, Any], needle: str) -> None:
    rc, result = run({"store": str(store_path), **args})
    assert rc == 1
    assert needle in result["msg"]
    assert "exception" not in result
