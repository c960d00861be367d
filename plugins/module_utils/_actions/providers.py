# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on preview features and resource providers beside ``register_feature``: read, list, register.

Registering a provider is Azure's ``POST /subscriptions/{s}/providers/{ns}/register``: the provider
goes ``Registering``, then ``Registered`` when the clock has moved PROVIDER_REGISTRATION_DURATION; a
registration started after a feature became ``Registered`` carries that feature (azure-behaviour §6).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, RestDoc
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.registrations import (
    start_provider_registration,
    start_provider_unregistration,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import (
    DEFAULT_FEATURE,
    DEFAULT_NAMESPACE,
    NOT_REGISTERED,
    PROVIDER_REGISTRATION_DURATION,
    REGISTERED,
    REGISTERING,
    UNREGISTERING,
    check_feature,
    check_namespace,
    feature_view,
    load_feature,
    load_provider,
    provider_view,
)

# Providers a subscription lists even before anybody registered one (those the endpoint serves).
KNOWN_NAMESPACES = ("Microsoft.Compute", "Microsoft.Features", "Microsoft.Network", "Microsoft.Resources")


class ProviderResult(Outcome):
    provider: RestDoc
    events: list[dict[str, Any]]


def feature(call: Call, namespace: str, name: str) -> RestDoc:
    """A preview feature's REST view; one never registered is ``NotRegistered``."""
    return feature_view(load_feature(call.store, call.subscription_id, check_namespace(namespace), check_feature(name)))


def list_features(call: Call, namespace: str | None = None) -> list[RestDoc]:
    """The features this subscription has touched, and the gallery opt-in feature of §6 always, by name."""
    if namespace is not None:
        check_namespace(namespace)
    docs = call.store.list_docs("features", {"subscription_id": call.subscription_id.lower()}, "name")
    views = {feature_view(d)["name"].lower(): feature_view(d) for d in docs}
    default = f"{DEFAULT_NAMESPACE}/{DEFAULT_FEATURE}".lower()
    if default not in views:
        views[default] = feature(call, DEFAULT_NAMESPACE, DEFAULT_FEATURE)
    wanted = None if namespace is None else namespace.lower() + "/"
    return [views[k] for k in sorted(views) if wanted is None or k.startswith(wanted)]


def provider(call: Call, namespace: str) -> RestDoc:
    """A resource provider's registration state, with when its latest registration started."""
    doc = load_provider(call.store, call.subscription_id, check_namespace(namespace))
    view = provider_view(doc)
    if doc.get("started_at") is not None:
        view["registrationStarted"] = format_timestamp(doc["started_at"])
    return view


def list_providers(call: Call) -> list[RestDoc]:
    docs = call.store.list_docs("providers", {"subscription_id": call.subscription_id.lower()}, "namespace")
    names = {d["namespace"].lower(): d["namespace"] for d in docs}
    for namespace in KNOWN_NAMESPACES:
        names.setdefault(namespace.lower(), namespace)
    return [provider(call, names[k]) for k in sorted(names)]


def register_provider(call: Call, namespace: str, *, wait: bool = False) -> ProviderResult:
    """Start a provider registration (unless one is under way); with ``wait``, move the clock until it ends."""
    store = call.store
    doc = load_provider(store, call.subscription_id, check_namespace(namespace))
    before = provider(call, namespace)
    events: list[dict[str, Any]] = []
    if doc["state"] != REGISTERING:
        # A registration of a Registered provider starts again: that is how a provider takes a feature
        # registered since (azure-behaviour §6), so it is never a no-op.
        now = format_timestamp(store.now())
        events = [{"time": now, **e} for e in start_provider_registration(store, doc)]
    if wait:
        horizon = store.now() + parse_duration(PROVIDER_REGISTRATION_DURATION, "provider registration duration")

        def registered() -> bool:
            return bool(load_provider(store, call.subscription_id, namespace)["state"] == REGISTERED)

        events += advance(store, horizon, stop=registered)
    after = provider(call, namespace)
    return {"changed": before != after, "before": before, "after": after, "provider": after, "events": events}


def unregister_provider(call: Call, namespace: str, *, wait: bool = False) -> ProviderResult:
    """Azure's ``POST /subscriptions/{s}/providers/{ns}/unregister`` (Providers_Unregister): ``Unregistering``,
    then ``NotRegistered`` when the clock has moved PROVIDER_REGISTRATION_DURATION; with ``wait``, move it there.
    A provider not registered (nor registering) is left as it is: nothing to unregister, nothing written."""
    store = call.store
    doc = load_provider(store, call.subscription_id, check_namespace(namespace))
    before = provider(call, namespace)
    events: list[dict[str, Any]] = []
    if doc["state"] in (REGISTERED, REGISTERING):
        now = format_timestamp(store.now())
        events = [{"time": now, **e} for e in start_provider_unregistration(store, doc)]
    if wait and load_provider(store, call.subscription_id, namespace)["state"] == UNREGISTERING:
        horizon = store.now() + parse_duration(PROVIDER_REGISTRATION_DURATION, "provider registration duration")

        def unregistered() -> bool:
            return bool(load_provider(store, call.subscription_id, namespace)["state"] == NOT_REGISTERED)

        events += advance(store, horizon, stop=unregistered)
    after = provider(call, namespace)
    return {"changed": before != after, "before": before, "after": after, "provider": after, "events": events}
