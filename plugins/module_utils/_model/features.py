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

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

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
    """Whether the provider's latest registration started once the feature was already Registered
    (azure-behaviour §6)."""
    return (
        feature["state"] == REGISTERED
        and feature["registered_at"] is not None
        and provider["state"] in (REGISTERING, REGISTERED)
        and provider["started_at"] is not None
        and provider["started_at"] >= feature["registered_at"]
    )


def opt_in_complete(feature: dict[str, Any], provider: dict[str, Any]) -> bool:
    """The opt-in took effect: the feature Registered, then the provider registered again, and done (§6)."""
    return provider_carries_feature(feature, provider) and provider["state"] == REGISTERED


def gallery_opt_in_complete(store: Store, subscription_id: str) -> bool:
    """The gate for automatic OS upgrade of gallery images in this subscription (azure-behaviour §2 rule 3)."""
    feature = load_feature(store, subscription_id, DEFAULT_NAMESPACE, DEFAULT_FEATURE)
    provider = load_provider(store, subscription_id, DEFAULT_NAMESPACE)
    return opt_in_complete(feature, provider)


# -- transitions -----------------------------------------------------------------------------------


# -- the feature_registration module ---------------------------------------------------------------
