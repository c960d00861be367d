# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: register or unregister a preview feature and its provider (azure-behaviour §6).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, RestDoc
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.registrations import (
    start_feature_transition,
    start_provider_registration,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import (
    DEFAULT_FEATURE,
    DEFAULT_NAMESPACE,
    DEFAULT_REGISTRATION_DURATION,
    FEATURE_EVENT,
    NOT_REGISTERED,
    PROVIDER_EVENT,
    PROVIDER_REGISTRATION_DURATION,
    REGISTERED,
    REGISTERING,
    UNREGISTERED,
    UNREGISTERING,
    check_feature,
    check_namespace,
    feature_view,
    load_feature,
    load_provider,
    opt_in_complete,
    provider_carries_feature,
    provider_view,
    save_feature,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

FeatureTarget = Literal["registered", "unregistered"]


class FeatureResult(Outcome):
    feature: RestDoc
    provider: RestDoc
    opt_in_complete: bool
    events: list[dict[str, Any]]


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

    def current() -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            load_feature(store, subscription_id, namespace, feature_name),
            load_provider(store, subscription_id, namespace),
        )

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


def register_feature(
    call: Call,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    feature: str = DEFAULT_FEATURE,
    state: FeatureTarget = "registered",
    register_provider: bool = False,
    registration_duration: str = DEFAULT_REGISTRATION_DURATION,
    wait: bool = False,
) -> FeatureResult:
    """Register or unregister a preview feature, optionally re-register its provider, and wait (§6)."""
    store, subscription_id = call.store, call.subscription_id
    namespace = check_namespace(namespace or DEFAULT_NAMESPACE)
    name = check_feature(feature or DEFAULT_FEATURE)
    state = state or "registered"
    if state not in ("registered", "unregistered"):
        raise InvalidInput(f"state: {state!r} is not allowed; allowed: registered, unregistered")
    register_provider = register_provider and state == "registered"
    duration = parse_duration(registration_duration or DEFAULT_REGISTRATION_DURATION, "registration_duration")
    doc = load_feature(store, subscription_id, namespace, name)
    provider = load_provider(store, subscription_id, namespace)
    before = _snapshot(doc, provider)
    stored_feature = dict(doc)
    reports: list[dict[str, Any]] = []
    if state == "registered":
        if doc["state"] in (NOT_REGISTERED, UNREGISTERING, UNREGISTERED):
            start_feature_transition(store, doc, REGISTERED, duration)
        if register_provider:
            if doc["state"] == REGISTERED:
                if not provider_carries_feature(doc, provider):
                    now = format_timestamp(store.now())
                    reports += [{"time": now, **r} for r in start_provider_registration(store, provider)]
            else:
                doc["register_provider"] = True
    else:
        # A re-registration waiting for this feature no longer has a reason to happen.
        doc["register_provider"] = False
        if doc["state"] in (REGISTERING, REGISTERED):
            start_feature_transition(store, doc, UNREGISTERED, duration)
    if doc != stored_feature:
        save_feature(store, doc)
    events = reports
    if wait:
        events = events + _wait(store, state, register_provider, subscription_id, namespace, name)
    doc = load_feature(store, subscription_id, namespace, name)
    provider = load_provider(store, subscription_id, namespace)
    return {
        "before": before,
        "after": _snapshot(doc, provider),
        "feature": feature_view(doc),
        "provider": provider_view(provider),
        "opt_in_complete": opt_in_complete(doc, provider),
        "events": events,
    }
