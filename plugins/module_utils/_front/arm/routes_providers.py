# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft.Features and resource providers (arm-endpoint-research §3.2): the seed's feature registration.

Registration takes virtual time (azure-behaviour §6). With the instant clock a register request moves
the clock until the feature (or provider) is ``Registered`` and answers that; with the manual clock it
answers ``Registering`` and the clock decides. A provider lists its ``resourceTypes`` with
``apiVersions`` newest first: azure_rm_resource without ``api_version`` takes the first (research §2.5).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, RestDoc
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import (
    FeatureTarget,
    register_feature,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.providers import (
    feature,
    list_features,
    list_providers,
    provider,
    register_provider,
    unregister_provider,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import KNOWN_API_VERSIONS
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response

# Newest first, from the one list the scale set rules check (azure_rm_resource without api_version takes the first,
# research §2.5), so that a version the provider advertises is always one a PUT accepts.
COMPUTE_API_VERSIONS = tuple(reversed(KNOWN_API_VERSIONS))
_NETWORK_API_VERSIONS = ("2024-05-01", "2024-03-01", "2023-11-01", "2023-09-01", "2023-05-01", "2022-09-01")
_RESOURCES_API_VERSIONS = ("2025-04-01", "2024-11-01", "2024-03-01", "2022-09-01", "2021-04-01", "2020-06-01")
_FEATURES_API_VERSIONS = ("2021-07-01", "2015-12-01")

# The resource types this endpoint serves, per provider namespace (lower-case key).
RESOURCE_TYPES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "microsoft.compute": tuple(
        (t, COMPUTE_API_VERSIONS)
        for t in (
            "virtualMachineScaleSets",
            "virtualMachineScaleSets/virtualMachines",
            "virtualMachineScaleSets/virtualMachines/instanceView",
            "locations",
            "locations/operations",
            "locations/vmSizes",
            "locations/publishers",
            "galleries",
            "galleries/images",
            "galleries/images/versions",
        )
    ),
    "microsoft.network": tuple((t, _NETWORK_API_VERSIONS) for t in ("virtualNetworks", "virtualNetworks/subnets")),
    "microsoft.resources": tuple(
        (t, _RESOURCES_API_VERSIONS) for t in ("resourceGroups", "subscriptions", "subscriptions/resourceGroups")
    ),
    "microsoft.features": tuple((t, _FEATURES_API_VERSIONS) for t in ("features", "providers", "featureProviders")),
}


def provider_doc(view: RestDoc) -> RestDoc:
    """A provider as Azure answers it: registration state, policy, and the resource types with api-versions."""
    types = RESOURCE_TYPES.get(str(view["namespace"]).lower(), ())
    return {
        "id": view["id"],
        "namespace": view["namespace"],
        "registrationState": view["registrationState"],
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [
            {"resourceType": name, "locations": [], "apiVersions": list(versions)} for name, versions in types
        ],
    }


def get_feature(ctx: Ctx, p: dict[str, str]) -> Response:
    view = ctx.run(p["subscription"], lambda call: feature(call, p["namespace"], p["feature"]), commit=False)
    return Response(200, view)


def _change_feature(ctx: Ctx, p: dict[str, str], state: FeatureTarget) -> Response:
    def action(call: Call) -> RestDoc:
        result = register_feature(
            call,
            namespace=p["namespace"],
            feature=p["feature"],
            state=state,
            wait=ctx.instant,
        )
        return result["feature"]

    return Response(200, ctx.run(p["subscription"], action))


def register(ctx: Ctx, p: dict[str, str]) -> Response:
    return _change_feature(ctx, p, "registered")


def unregister(ctx: Ctx, p: dict[str, str]) -> Response:
    return _change_feature(ctx, p, "unregistered")


def features(ctx: Ctx, p: dict[str, str]) -> Response:
    namespace = p.get("namespace")
    views = ctx.run(p["subscription"], lambda call: list_features(call, namespace), commit=False)
    return Response(200, {"value": views})


def get_provider(ctx: Ctx, p: dict[str, str]) -> Response:
    view = ctx.run(p["subscription"], lambda call: provider(call, p["namespace"]), commit=False)
    return Response(200, provider_doc(view))


def providers(ctx: Ctx, p: dict[str, str]) -> Response:
    views: list[dict[str, Any]] = ctx.run(p["subscription"], list_providers, commit=False)
    return Response(200, {"value": [provider_doc(v) for v in views]})


def register_namespace(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> RestDoc:
        return register_provider(call, p["namespace"], wait=ctx.instant)["provider"]

    return Response(200, provider_doc(ctx.run(p["subscription"], action)))


def unregister_namespace(ctx: Ctx, p: dict[str, str]) -> Response:
    """Providers_Unregister: 200 with the provider; the instant clock answers it ``NotRegistered``."""

    def action(call: Call) -> RestDoc:
        return unregister_provider(call, p["namespace"], wait=ctx.instant)["provider"]

    return Response(200, provider_doc(ctx.run(p["subscription"], action)))
