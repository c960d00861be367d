# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Feature and provider registration on the virtual clock (azure-behaviour §6) and the gallery opt-in gate."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import registrations
from ansible_collections.azsim.vmss.plugins.module_utils._engine.handlers import HANDLERS
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model import features
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._call import act as call_action

SUB = "00000000-0000-0000-0000-000000000000"
OTHER = "11111111-1111-1111-1111-111111111111"
FEATURE_ID = (
    f"/subscriptions/{SUB}/providers/Microsoft.Features/providers/Microsoft.Compute/features/"
    "AutomaticOSUpgradeWithGalleryImage"
)
PROVIDER_ID = f"/subscriptions/{SUB}/providers/Microsoft.Compute"
MINUTE = 60


def act(store: Store, sub: str = SUB, **options: Any) -> dict[str, Any]:
    """feature_registration with the module's defaults, in one transaction."""
    params: dict[str, Any] = {
        "namespace": "Microsoft.Compute",
        "feature": "AutomaticOSUpgradeWithGalleryImage",
        "state": "registered",
        "register_provider": False,
        "wait": False,
        "registration_duration": "PT15M",
    }
    params.update(options)
    with store.transaction():
        return call_action(register_feature, store, sub, params)


def clock(store: Store, advance_by: str) -> list[dict[str, Any]]:
    with store.transaction():
        return list(call_action(move_clock, store, "sub", {"advance": advance_by})["events"])


def gate(store: Store, sub: str = SUB) -> bool:
    with store.transaction(commit=False):
        return features.gallery_opt_in_complete(store, sub)


def now(store: Store) -> str:
    with store.transaction(commit=False):
        return format_timestamp(store.now())


def states(result: dict[str, Any]) -> tuple[str, str]:
    return result["feature"]["properties"]["state"], result["provider"]["registrationState"]


# -- shapes ----------------------------------------------------------------------------------------


def test_a_new_subscription_has_nothing_registered(store: Store) -> None:
    result = act(store, state="unregistered")
    assert result["before"] == result["after"]
    assert result["feature"] == {
        "id": FEATURE_ID,
        "name": "Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage",
        "type": "Microsoft.Features/providers/features",
        "properties": {"state": "NotRegistered"},
    }
    assert result["provider"] == {
        "id": PROVIDER_ID,
        "namespace": "Microsoft.Compute",
        "registrationState": "NotRegistered",
    }
    assert not gate(store)


@pytest.mark.parametrize(
    ("kind", "function"),
    [(features.FEATURE_EVENT, "on_feature_state"), (features.PROVIDER_EVENT, "on_provider_state")],
)
def test_handlers_are_in_the_table(kind: str, function: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The table imports registrations only when such an event fires (issue 14); the event still reaches it.
    seen: list[Any] = []

    def handler(store: Any, event: Any) -> list[dict[str, Any]]:
        seen.append((store, event))
        return [{"type": "seen"}]

    monkeypatch.setattr(registrations, function, handler)
    assert HANDLERS[kind]("store", "event") == [{"type": "seen"}]  # type: ignore[arg-type]  # only passed through
    assert seen == [("store", "event")]


# -- the feature's state machine -------------------------------------------------------------------


def test_registration_takes_fifteen_virtual_minutes(store: Store) -> None:
    result = act(store)
    assert states(result) == ("Registering", "NotRegistered")
    assert result["before"] != result["after"]
    assert clock(store, "PT14M") == []
    events = clock(store, "PT1M")
    assert events == [
        {
            "time": "2025-01-01T00:15:00Z",
            "type": "FeatureRegistered",
            "subject": FEATURE_ID,
            "feature": "Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage",
            "state": "Registered",
        }
    ]
    assert states(act(store)) == ("Registered", "NotRegistered")


@pytest.mark.parametrize("before", ["Registering", "Registered"])
def test_registering_again_changes_nothing(store: Store, before: str) -> None:
    act(store)
    if before == "Registered":
        clock(store, "PT15M")
    result = act(store)
    assert result["before"] == result["after"]
    assert states(result)[0] == before
    assert len(store.pending_events(kind=features.FEATURE_EVENT)) == (1 if before == "Registering" else 0)


def test_registration_duration_is_a_setting(store: Store) -> None:
    act(store, registration_duration="PT1H")
    assert clock(store, "PT59M") == []
    assert [e["type"] for e in clock(store, "PT1M")] == ["FeatureRegistered"]


def test_unregistering(store: Store) -> None:
    act(store, wait=True)
    result = act(store, state="unregistered")
    assert states(result)[0] == "Unregistering"
    assert [e["type"] for e in clock(store, "PT15M")] == ["FeatureUnregistered"]
    again = act(store, state="unregistered")
    assert states(again)[0] == "Unregistered"
    assert again["before"] == again["after"]


def test_registering_during_unregistration_cancels_it(store: Store) -> None:
    act(store, wait=True)
    act(store, state="unregistered")
    clock(store, "PT5M")
    assert states(act(store))[0] == "Registering"
    events = clock(store, "PT1H")
    assert [e["type"] for e in events] == ["FeatureRegistered"]
    assert events[0]["time"] == "2025-01-01T00:35:00Z"


def test_a_superseded_event_does_nothing(store: Store) -> None:
    act(store)
    with store.transaction():
        doc = features.load_feature(store, SUB, "Microsoft.Compute", "AutomaticOSUpgradeWithGalleryImage")
        doc["state"] = "Unregistered"
        features.save_feature(store, doc)
    assert clock(store, "PT15M") == []


# -- the provider and the opt-in gate ----------------------------------------------------------------


def test_the_feature_alone_does_not_complete_the_opt_in(store: Store) -> None:
    act(store, wait=True)
    assert not gate(store)


def test_a_provider_registered_before_the_feature_does_not_count(store: Store) -> None:
    act(store, feature="SomethingElse", register_provider=True, wait=True)  # registers Microsoft.Compute
    result = act(store)
    assert states(result) == ("Registering", "Registered")
    clock(store, "PT15M")
    assert not gate(store)
    assert not act(store)["opt_in_complete"]


def test_register_provider_once_registered(store: Store) -> None:
    act(store, wait=True)
    result = act(store, register_provider=True)
    assert states(result) == ("Registered", "Registering")
    assert [e["type"] for e in result["events"]] == ["ProviderRegistrationStarted"]
    assert not gate(store)
    events = clock(store, "PT2M")
    assert events == [
        {
            "time": "2025-01-01T00:17:00Z",
            "type": "ProviderRegistered",
            "subject": PROVIDER_ID,
            "namespace": "Microsoft.Compute",
            "registrationState": "Registered",
        }
    ]
    assert gate(store)
    assert not gate(store, OTHER)  # once per subscription
    again = act(store, register_provider=True)
    assert again["before"] == again["after"] and again["events"] == []


def test_register_provider_while_registering_waits_for_the_feature(store: Store) -> None:
    act(store)
    clock(store, "PT5M")
    result = act(store, register_provider=True)
    assert states(result) == ("Registering", "NotRegistered")
    assert result["after"]["provider_registration_on_feature_registered"] is True
    assert result["before"] != result["after"]
    events = clock(store, "PT1H")
    assert [(e["time"], e["type"]) for e in events] == [
        ("2025-01-01T00:15:00Z", "FeatureRegistered"),
        ("2025-01-01T00:15:00Z", "ProviderRegistrationStarted"),
        ("2025-01-01T00:17:00Z", "ProviderRegistered"),
    ]
    assert gate(store)


def test_unregistering_drops_a_waiting_provider_registration(store: Store) -> None:
    act(store, register_provider=True)
    act(store, state="unregistered", register_provider=True)
    assert [e["type"] for e in clock(store, "PT1H")] == ["FeatureUnregistered"]
    assert not gate(store)


def test_registering_again_after_unregistering_needs_the_provider_again(store: Store) -> None:
    act(store, register_provider=True, wait=True)
    assert gate(store)
    act(store, state="unregistered", wait=True)
    assert not gate(store)
    act(store, wait=True)
    assert not gate(store)
    act(store, register_provider=True, wait=True)
    assert gate(store)


# -- wait ------------------------------------------------------------------------------------------


def test_wait_stops_the_clock_when_registered(store: Store) -> None:
    result = act(store, wait=True)
    assert states(result) == ("Registered", "NotRegistered")
    assert now(store) == "2025-01-01T00:15:00Z"
    assert [e["type"] for e in result["events"]] == ["FeatureRegistered"]


def test_wait_with_provider_stops_when_the_opt_in_is_complete(store: Store) -> None:
    result = act(store, register_provider=True, wait=True)
    assert states(result) == ("Registered", "Registered")
    assert result["opt_in_complete"] is True
    assert now(store) == "2025-01-01T00:17:00Z"
    assert [e["type"] for e in result["events"]] == [
        "FeatureRegistered",
        "ProviderRegistrationStarted",
        "ProviderRegistered",
    ]


def test_wait_when_already_there_does_not_move_the_clock(store: Store) -> None:
    act(store, register_provider=True, wait=True)
    result = act(store, register_provider=True, wait=True)
    assert result["before"] == result["after"] and result["events"] == []
    assert now(store) == "2025-01-01T00:17:00Z"


def test_wait_for_unregistration(store: Store) -> None:
    act(store, wait=True)
    result = act(store, state="unregistered", wait=True, registration_duration="PT5M")
    assert states(result)[0] == "Unregistered"
    assert now(store) == "2025-01-01T00:20:00Z"


def test_wait_runs_other_due_events_too(store: Store) -> None:
    act(store, feature="Other", registration_duration="PT5M")
    result = act(store, wait=True)
    assert [e["type"] for e in result["events"]] == ["FeatureRegistered", "FeatureRegistered"]


def test_advance_alone_completes_registrations(store: Store) -> None:
    act(store, register_provider=True)
    with store.transaction():
        reports = advance(store, EPOCH + 20 * MINUTE)
    assert [r["type"] for r in reports] == ["FeatureRegistered", "ProviderRegistrationStarted", "ProviderRegistered"]
    assert gate(store)


# -- input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"namespace": "Compute"}, "namespace"),
        ({"namespace": "Microsoft..Compute"}, "namespace"),
        ({"feature": "has space"}, "feature"),
        ({"feature": ""}, None),  # empty means the default, as the module's default would give
        ({"registration_duration": "15 minutes"}, "registration_duration"),
        ({"state": "present"}, "state"),
    ],
)
def test_bad_input_names_the_option(store: Store, options: dict[str, Any], option: str | None) -> None:
    if option is None:
        assert states(act(store, **options))[0] == "Registering"
        return
    with pytest.raises(InvalidInput, match=f"^{option}: "):
        act(store, **options)
    assert not store.pending_events()


def test_other_namespaces_and_subscriptions_are_separate(store: Store) -> None:
    result = act(store, OTHER, namespace="Microsoft.ContainerService", feature="Preview", wait=True)
    assert result["feature"]["id"] == (
        f"/subscriptions/{OTHER}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/Preview"
    )
    assert result["feature"]["name"] == "Microsoft.ContainerService/Preview"
    assert result["provider"]["id"] == f"/subscriptions/{OTHER}/providers/Microsoft.ContainerService"
    assert states(act(store, state="unregistered"))[0] == "NotRegistered"


def test_names_are_case_insensitive(store: Store) -> None:
    act(store, wait=True)
    result = act(store, namespace="microsoft.compute", feature="automaticosupgradewithgalleryimage")
    assert result["before"] == result["after"]
    assert result["feature"]["properties"]["state"] == "Registered"
