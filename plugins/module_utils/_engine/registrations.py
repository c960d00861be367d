# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Feature and provider registrations moving on the virtual clock (azure-behaviour §6).

A transition that takes time is an event in the store's queue; its handler completes it when the clock
reaches it. The documents and the opt-in rule themselves live in ``_model.features``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import (
    FEATURE_EVENT,
    NOT_REGISTERED,
    PROVIDER_EVENT,
    PROVIDER_REGISTRATION_DURATION,
    REGISTERED,
    REGISTERING,
    UNREGISTERING,
    feature_view,
    load_feature,
    load_provider,
    provider_view,
    save_feature,
    save_provider,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def start_feature_transition(store: Store, doc: dict[str, Any], target: str, duration: int) -> None:
    """Registering/Unregistering now; the event makes it Registered/Unregistered after ``duration``."""
    subject = feature_view(doc)["id"]
    # A transition in the other direction that was still pending must not land afterwards.
    store.cancel_events(subject, FEATURE_EVENT)
    doc["state"] = REGISTERING if target == REGISTERED else UNREGISTERING
    doc["changed_at"] = store.now()
    store.schedule(
        store.now() + duration,
        FEATURE_EVENT,
        subject,
        {
            "subscription_id": doc["subscription_id"],
            "namespace": doc["namespace"],
            "feature": doc["feature"],
            "state": target,
        },
    )


def start_provider_registration(store: Store, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """``POST .../providers/{ns}/register``: Registering now, Registered after PROVIDER_REGISTRATION_DURATION."""
    subject = provider_view(doc)["id"]
    store.cancel_events(subject, PROVIDER_EVENT)
    doc["state"] = REGISTERING
    doc["started_at"] = store.now()
    store.schedule(
        store.now() + parse_duration(PROVIDER_REGISTRATION_DURATION, "provider registration duration"),
        PROVIDER_EVENT,
        subject,
        {"subscription_id": doc["subscription_id"], "namespace": doc["namespace"]},
    )
    save_provider(store, doc)
    return [
        {
            "type": "ProviderRegistrationStarted",
            "subject": subject,
            "namespace": doc["namespace"],
            "registrationState": REGISTERING,
        }
    ]


def start_provider_unregistration(store: Store, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """``POST .../providers/{ns}/unregister``: Unregistering now, NotRegistered after the registration duration
    (Azure's provider states; SIMULATOR CHOICE: it takes as long as a registration). A registration still
    pending is superseded, and the provider no longer carries any feature (azure-behaviour §6)."""
    subject = provider_view(doc)["id"]
    store.cancel_events(subject, PROVIDER_EVENT)
    doc["state"] = UNREGISTERING
    doc["started_at"] = None
    doc["registered_at"] = None
    store.schedule(
        store.now() + parse_duration(PROVIDER_REGISTRATION_DURATION, "provider registration duration"),
        PROVIDER_EVENT,
        subject,
        {"subscription_id": doc["subscription_id"], "namespace": doc["namespace"], "state": NOT_REGISTERED},
    )
    save_provider(store, doc)
    return [
        {
            "type": "ProviderUnregistrationStarted",
            "subject": subject,
            "namespace": doc["namespace"],
            "registrationState": UNREGISTERING,
        }
    ]


def on_feature_state(store: Store, event: Event) -> list[dict[str, Any]]:
    """A feature's registration or unregistration completes (event ``feature_state``)."""
    payload = event.payload
    doc = load_feature(store, payload["subscription_id"], payload["namespace"], payload["feature"])
    target = payload["state"]
    expected = REGISTERING if target == REGISTERED else UNREGISTERING
    if doc["state"] != expected:  # superseded meanwhile; nothing left to complete
        return []
    doc["state"] = target
    doc["changed_at"] = store.now()
    reports: list[dict[str, Any]] = [
        {
            "type": "FeatureRegistered" if target == REGISTERED else "FeatureUnregistered",
            "subject": event.subject,
            "feature": f"{doc['namespace']}/{doc['feature']}",
            "state": target,
        }
    ]
    if target == REGISTERED:
        doc["registered_at"] = store.now()
        if doc.get("register_provider"):
            doc["register_provider"] = False
            reports += start_provider_registration(
                store, load_provider(store, doc["subscription_id"], doc["namespace"])
            )
    save_feature(store, doc)
    return reports


def on_provider_state(store: Store, event: Event) -> list[dict[str, Any]]:
    """A provider's registration or unregistration completes (event ``provider_state``)."""
    doc = load_provider(store, event.payload["subscription_id"], event.payload["namespace"])
    if event.payload.get("state") == NOT_REGISTERED:
        if doc["state"] != UNREGISTERING:
            return []
        doc["state"] = NOT_REGISTERED
        save_provider(store, doc)
        return [
            {
                "type": "ProviderUnregistered",
                "subject": event.subject,
                "namespace": doc["namespace"],
                "registrationState": NOT_REGISTERED,
            }
        ]
    if doc["state"] != REGISTERING:
        return []
    doc["state"] = REGISTERED
    doc["registered_at"] = store.now()
    save_provider(store, doc)
    return [
        {
            "type": "ProviderRegistered",
            "subject": event.subject,
            "namespace": doc["namespace"],
            "registrationState": REGISTERED,
        }
    ]
