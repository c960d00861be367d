# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preview feature and resource provider registration (azure-behaviour §6), on the virtual clock.

A feature goes ``NotRegistered`` → ``Registering`` → ``Registered`` (and ``Registered`` →
``Unregistering`` → ``Unregistered``); a provider goes ``NotRegistered`` → ``Registering`` →
``Registered``. Each transition that takes time is an event in the store's queue, so it completes
only when the clock moves (``sim_clock``, or ``wait: true`` here).

The gallery opt-in (``gallery_opt_in_complete``) is complete only when the subscription's
``Microsoft.Compute`` provider registration was started after the feature
``Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage`` became ``Registered``, and has finished:
a provider registered before the feature does not carry the feature, which is why Azure asks for
the provider to be registered again.

Stored documents (tables ``features`` and ``providers``; keys lower-case, documents keep the casing
first given)::

    feature   {subscription_id, namespace, feature, state, registered_at, changed_at, register_provider}
    provider  {subscription_id, namespace, state, started_at, registered_at}

``register_provider`` on a feature means: start the provider's registration when this feature
becomes ``Registered`` (asked for while it was still ``Registering``).
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

DEFAULT_NAMESPACE = "Microsoft.Compute"
DEFAULT_FEATURE = "AutomaticOSUpgradeWithGalleryImage"
# Azure says registration can take up to 15 minutes; the simulator takes exactly this unless told otherwise.
DEFAULT_REGISTRATION_DURATION = "PT15M"
# Azure documents no figure for a provider registration; two minutes keeps the opt-in visibly ordered.
PROVIDER_REGISTRATION_DURATION = "PT2M"

FEATURE_EVENT = "feature_state"
PROVIDER_EVENT = "provider_state"

NOT_REGISTERED = "NotRegistered"
REGISTERING = "Registering"
REGISTERED = "Registered"
UNREGISTERING = "Unregistering"
UNREGISTERED = "Unregistered"

_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
_FEATURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def check_namespace(value: object) -> str:
    if not isinstance(value, str) or not _NAMESPACE.match(value):
        raise InvalidInput(
            f"namespace: {value!r} is not a resource provider namespace; use a dotted name such as Microsoft.Compute"
        )
    return value


def check_feature(value: object) -> str:
    if not isinstance(value, str) or not _FEATURE.match(value):
        raise InvalidInput(
            f"feature: {value!r} is not a feature name; use 1 to 128 letters, digits, '_', '.' or '-', starting "
            "with a letter or digit, e.g. AutomaticOSUpgradeWithGalleryImage"
        )
    return value


# -- ids and documents -----------------------------------------------------------------------------


def feature_id(subscription_id: str, namespace: str, feature: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Features/providers/{namespace}/features/{feature}"


def provider_id(subscription_id: str, namespace: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/{namespace}"


def _feature_key(subscription_id: str, namespace: str, feature: str) -> dict[str, Any]:
    return {"subscription_id": subscription_id.lower(), "name": f"{namespace}/{feature}".lower()}


def _provider_key(subscription_id: str, namespace: str) -> dict[str, Any]:
    return {"subscription_id": subscription_id.lower(), "namespace": namespace.lower()}


def load_feature(store: Store, subscription_id: str, namespace: str, feature: str) -> dict[str, Any]:
    """The feature's document; a feature never registered is ``NotRegistered`` (and not stored)."""
    doc = store.get_doc("features", _feature_key(subscription_id, namespace, feature))
    if doc is not None:
        return doc
    return {
        "subscription_id": subscription_id,
        "namespace": namespace,
        "feature": feature,
        "state": NOT_REGISTERED,
        "registered_at": None,
        "changed_at": None,
        "register_provider": False,
    }


def load_provider(store: Store, subscription_id: str, namespace: str) -> dict[str, Any]:
    doc = store.get_doc("providers", _provider_key(subscription_id, namespace))
    if doc is not None:
        return doc
    return {
        "subscription_id": subscription_id,
        "namespace": namespace,
        "state": NOT_REGISTERED,
        "started_at": None,
        "registered_at": None,
    }


def save_feature(store: Store, doc: dict[str, Any]) -> None:
    store.put_doc("features", _feature_key(doc["subscription_id"], doc["namespace"], doc["feature"]), doc)


def save_provider(store: Store, doc: dict[str, Any]) -> None:
    store.put_doc("providers", _provider_key(doc["subscription_id"], doc["namespace"]), doc)


def feature_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Microsoft.Features' REST shape of a feature."""
    return {
        "id": feature_id(doc["subscription_id"], doc["namespace"], doc["feature"]),
        "name": f"{doc['namespace']}/{doc['feature']}",
        "type": "Microsoft.Features/providers/features",
        "properties": {"state": doc["state"]},
    }


def provider_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": provider_id(doc["subscription_id"], doc["namespace"]),
        "namespace": doc["namespace"],
        "registrationState": doc["state"],
    }


# -- the opt-in gate -------------------------------------------------------------------------------


def provider_carries_feature(feature: dict[str, Any], provider: dict[str, Any]) -> bool:
    """Whether the provider's latest registration started once the feature was already Registered."""
    return (
        feature["state"] == REGISTERED
        and feature["registered_at"] is not None
        and provider["state"] in (REGISTERING, REGISTERED)
        and provider["started_at"] is not None
        and provider["started_at"] >= feature["registered_at"]
    )


def opt_in_complete(feature: dict[str, Any], provider: dict[str, Any]) -> bool:
    return provider_carries_feature(feature, provider) and provider["state"] == REGISTERED


def gallery_opt_in_complete(store: Store, subscription_id: str) -> bool:
    """The gate for automatic OS upgrade of gallery images in this subscription (azure-behaviour §2 rule 3)."""
    feature = load_feature(store, subscription_id, DEFAULT_NAMESPACE, DEFAULT_FEATURE)
    provider = load_provider(store, subscription_id, DEFAULT_NAMESPACE)
    return opt_in_complete(feature, provider)


# -- transitions -----------------------------------------------------------------------------------


def _start_feature_transition(store: Store, doc: dict[str, Any], target: str, duration: int) -> None:
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
        {"subscription_id": doc["subscription_id"], "namespace": doc["namespace"], "feature": doc["feature"],
         "state": target},
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
    return [{"type": "ProviderRegistrationStarted", "subject": subject, "namespace": doc["namespace"],
             "registrationState": REGISTERING}]


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
    reports: list[dict[str, Any]] = [{
        "type": "FeatureRegistered" if target == REGISTERED else "FeatureUnregistered",
        "subject": event.subject,
        "feature": f"{doc['namespace']}/{doc['feature']}",
        "state": target,
    }]
    if target == REGISTERED:
        doc["registered_at"] = store.now()
        if doc.get("register_provider"):
            doc["register_provider"] = False
            reports += start_provider_registration(store, load_provider(store, doc["subscription_id"], doc["namespace"]))
    save_feature(store, doc)
    return reports


def on_provider_state(store: Store, event: Event) -> list[dict[str, Any]]:
    """A provider's registration completes (event ``provider_state``)."""
    doc = load_provider(store, event.payload["subscription_id"], event.payload["namespace"])
    if doc["state"] != REGISTERING:
        return []
    doc["state"] = REGISTERED
    doc["registered_at"] = store.now()
    save_provider(store, doc)
    return [{"type": "ProviderRegistered", "subject": event.subject, "namespace": doc["namespace"],
             "registrationState": REGISTERED}]


# -- the feature_registration module ---------------------------------------------------------------


def _snapshot(feature: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "feature": feature_view(feature),
        "provider": provider_view(provider),
        "provider_registration_on_feature_registered": bool(feature.get("register_provider")),
    }


def _reached(state: str, register_provider: bool, feature: dict[str, Any], provider: dict[str, Any]) -> bool:
    if state == "unregistered":
        return feature["state"] in (NOT_REGISTERED, UNREGISTERED)
    if feature["state"] != REGISTERED:
        return False
    return not register_provider or opt_in_complete(feature, provider)


def _wait(
    store: Store, state: str, register_provider: bool, subscription_id: str, namespace: str, feature_name: str
) -> list[dict[str, Any]]:
    """Advance the clock until the feature (and the provider, when asked) reached the target state."""
    # Imported here: _simulation imports the handler table, which imports this module.
    from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance

    def current() -> tuple[dict[str, Any], dict[str, Any]]:
        return (load_feature(store, subscription_id, namespace, feature_name),
                load_provider(store, subscription_id, namespace))

    feature, provider = current()
    if _reached(state, register_provider, feature, provider):
        return []
    pending = store.pending_events(feature_view(feature)["id"], FEATURE_EVENT)
    pending += store.pending_events(provider_view(provider)["id"], PROVIDER_EVENT)
    horizon = max([e["due"] for e in pending], default=store.now())
    if feature.get("register_provider"):
        horizon += parse_duration(PROVIDER_REGISTRATION_DURATION, "provider registration duration")
    events = advance(store, horizon, stop=lambda: _reached(state, register_provider, *current()))
    if not _reached(state, register_provider, *current()):
        raise AzsimError(
            f"feature {namespace}/{feature_name} did not reach state {state} by {format_timestamp(horizon)}; "
            "this is a bug in azsim.vmss, please report it"
        )
    return events


def registration_action(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """feature_registration: register or unregister a feature, optionally re-register its provider, wait."""
    namespace = check_namespace(params.get("namespace") or DEFAULT_NAMESPACE)
    name = check_feature(params.get("feature") or DEFAULT_FEATURE)
    state = params.get("state") or "registered"
    if state not in ("registered", "unregistered"):
        raise InvalidInput(f"state: {state!r} is not allowed; allowed: registered, unregistered")
    register_provider = bool(params.get("register_provider")) and state == "registered"
    duration = parse_duration(params.get("registration_duration") or DEFAULT_REGISTRATION_DURATION,
                              "registration_duration")
    feature = load_feature(store, subscription_id, namespace, name)
    provider = load_provider(store, subscription_id, namespace)
    before = _snapshot(feature, provider)
    stored_feature = dict(feature)
    reports: list[dict[str, Any]] = []
    if state == "registered":
        if feature["state"] in (NOT_REGISTERED, UNREGISTERING, UNREGISTERED):
            _start_feature_transition(store, feature, REGISTERED, duration)
        if register_provider:
            if feature["state"] == REGISTERED:
                if not provider_carries_feature(feature, provider):
                    now = format_timestamp(store.now())
                    reports += [{"time": now, **r} for r in start_provider_registration(store, provider)]
            else:
                feature["register_provider"] = True
    else:
        # A re-registration waiting for this feature no longer has a reason to happen.
        feature["register_provider"] = False
        if feature["state"] in (REGISTERING, REGISTERED):
            _start_feature_transition(store, feature, UNREGISTERED, duration)
    if feature != stored_feature:
        save_feature(store, feature)
    events = reports
    if params.get("wait"):
        events = events + _wait(store, state, register_provider, subscription_id, namespace, name)
    feature = load_feature(store, subscription_id, namespace, name)
    provider = load_provider(store, subscription_id, namespace)
    return {
        "before": before,
        "after": _snapshot(feature, provider),
        "feature": feature_view(feature),
        "provider": provider_view(provider),
        "opt_in_complete": opt_in_complete(feature, provider),
        "events": events,
    }
