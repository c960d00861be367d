# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a scale set must meet to carry an upgrade policy (azure-behaviour §1 and §2), as findings.

Each rule is enforced in one function here, whose docstring cites its section; the facts it reads come
from one place each (the policy table and thresholds in ``_model.policy``, the health source in
``_model.health``, the image reference in ``_model.catalogue``, API versions in ``_common.versions``).

Every check is a pure function of the scale set record (see ``_scaleset``), the policy that would be
written, and plain facts the caller looked up (instance counts, whether the subscription completed
the gallery opt-in), so that each rule can be tested from a table. A finding is a dict
``{code, path, message, severity}``; ``path`` is the JSON path in the scale set's REST model
(``apiVersion`` for the API version, which Azure takes from the request).

Errors make the policy module fail and write nothing; warnings are returned beside a success.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, supported_images
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    extensions_of,
    is_health_extension,
    is_service_fabric_extension,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import DEFAULT_FEATURE, DEFAULT_NAMESPACE
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import has_health_probe, health_source
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import (
    ENABLED,
    POLICY,
    POLICY_FIELDS,
    automatic_os_upgrade_enabled,
    automatic_upgrade_uses_rolling_policy,
    exceeds,
    field_value,
    rolling_numbers,
    tolerated,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record, RollingPolicy

Finding = dict[str, str]

ERROR = "error"
WARNING = "warning"

# Azure's own text for the 400 BadRequest on mode Rolling without a health source (azure-behaviour §1).
ROLLING_WITHOUT_HEALTH_SOURCE = (
    "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health probe or "
    "health extension was not provided."
)
# §2 rule 5 is the API version of enableAutomaticOSUpgrade in the policy table (§1).
AUTOMATIC_OS_UPGRADE_API_VERSION = str(ENABLED.api_version)
WINDOWS_RULES_API_VERSION = "2019-03-01"  # §2 rule 6
SERVICE_FABRIC_MIN_EXTENSION_VERSION = (1, 1)  # §2 rule 7
GALLERY_FEATURE = f"{DEFAULT_NAMESPACE}/{DEFAULT_FEATURE}"  # §2 rule 3, the feature of _model.features

PROFILE = "properties.virtualMachineProfile"
IMAGE_REFERENCE = f"{PROFILE}.storageProfile.imageReference"
HEALTH_PROBE = f"{PROFILE}.networkProfile.healthProbe"
WINDOWS_CONFIGURATION = f"{PROFILE}.osProfile.windowsConfiguration"
EXTENSIONS = f"{PROFILE}.extensionProfile.extensions"


class RequirementsNotMet(AzsimError):
    """The policy cannot be written: ``details['findings']`` lists every unmet requirement (and warnings)."""

    CODE = "InvalidParameter"


def finding(code: str, path: str, message: str, severity: str = ERROR) -> Finding:
    return {"code": code, "path": path, "message": message, "severity": severity}


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f["severity"] == ERROR]


def summarize(findings: list[Finding]) -> str:
    """``3 unmet requirements (A, B, C)``: the count and the codes, for a one-line task message."""
    failed = errors(findings)
    codes = ", ".join(f["code"] for f in failed)
    noun = "requirement" if len(failed) == 1 else "requirements"
    return f"{len(failed)} unmet {noun} ({codes})"


def _image_reference(record: Record) -> dict[str, Any]:
    return dict(
        record["model"]["properties"]["virtualMachineProfile"].get("storageProfile", {}).get("imageReference", {})
    )


def _subscription(record: Record) -> str:
    return str(record["model"]["id"]).split("/")[2]


def _name(record: Record) -> str:
    return str(record["model"]["name"])


# -- azure-behaviour §1 ----------------------------------------------------------------------------


def api_version_findings(policy: dict[str, Any], api_version: str) -> list[Finding]:
    """azure-behaviour §1: a field the scale set's API version predates, set to a value other than its default.

    A field counts as set when it differs from its default (design.md, precise points). The API version
    of each field is its row of POLICY_FIELDS. ``enableAutomaticOSUpgrade`` is left to §2 rule 5
    (``ApiVersionTooOld``), which says the same thing in the words of the requirements page, so that one
    cause gives one finding.
    """
    out: list[Finding] = []
    for field in POLICY_FIELDS:
        if field.api_version is None or field is ENABLED:
            continue
        value = field_value(policy, field)
        if value != field.default and not api_at_least(api_version, field.api_version):
            out.append(
                finding(
                    "PolicyFieldRequiresNewerApiVersion",
                    field.path,
                    f"{field.option} ({field.rest}) = {value!r} needs Compute API version "
                    f"{field.api_version} or later; the scale set uses {api_version}. Leave it at its default "
                    f"({field.default!r}) or raise the scale set's api_version (azsim.vmss.vmss)",
                )
            )
    return out


def rolling_mode_findings(record: Record) -> list[Finding]:
    """azure-behaviour §1: ``mode: Rolling`` needs a health source (Azure's 400 BadRequest)."""
    if health_source(record) is not None:
        return flexible_health_findings(record)
    return [finding("HealthSourceMissing", HEALTH_PROBE, ROLLING_WITHOUT_HEALTH_SOURCE)]


def flexible_health_findings(record: Record) -> list[Finding]:
    """azure-behaviour-2 FX-1: on Flexible the health source must be the Application Health extension; a load
    balancer probe alone is refused with the §1 text (SIMULATOR CHOICE). No source at all is the generic rule's."""
    if not is_flexible(record) or health_source(record) in (None, "extension", "both"):
        return []
    return [finding("HealthSourceMissing", EXTENSIONS, ROLLING_WITHOUT_HEALTH_SOURCE)]


# -- azure-behaviour §2 ----------------------------------------------------------------------------


def image_findings(record: Record, gallery_opt_in: bool) -> list[Finding]:
    """azure-behaviour §2 rules 1 to 3: version latest, a supported image, the gallery opt-in.

    Whether the reference follows latest is catalogue.pinned_version (also behind §4's manual upgrade);
    the supported platform images are the table of ``supported_images``; the opt-in is
    features.gallery_opt_in_complete, looked up by the caller.
    """
    ref = _image_reference(record)
    out: list[Finding] = []
    pinned = catalogue.pinned_version(ref)
    if "id" in ref:
        image_id = str(ref["id"])
        if pinned is not None:
            out.append(
                finding(
                    "ImageVersionNotLatest",
                    f"{IMAGE_REFERENCE}.id",
                    f"the scale set references gallery image version {image_id}; automatic OS image upgrade needs "
                    "the gallery image referenced without /versions/<version>, so that it follows the latest version",
                )
            )
        if not catalogue.is_gallery_image(image_id):
            out.append(
                finding(
                    "UnsupportedImage",
                    f"{IMAGE_REFERENCE}.id",
                    f"{image_id} is a custom image outside an Azure Compute Gallery; automatic OS image upgrade "
                    "supports only gallery images and the supported platform images",
                )
            )
        elif not gallery_opt_in:
            out.append(
                finding(
                    "GalleryFeatureNotRegistered",
                    f"{IMAGE_REFERENCE}.id",
                    f"a gallery image needs subscription {_subscription(record)} opted in: feature {GALLERY_FEATURE} "
                    "Registered, then the Microsoft.Compute provider registered again after that (azsim.vmss."
                    "feature_registration with register_provider: true and wait: true)",
                )
            )
        return out
    if pinned is not None:
        out.append(
            finding(
                "ImageVersionNotLatest",
                f"{IMAGE_REFERENCE}.version",
                f"the image version is pinned to {pinned}; automatic OS image upgrade needs version: latest",
            )
        )
    publisher, offer, sku = (str(ref.get(k, "")) for k in ("publisher", "offer", "sku"))
    if not supported_images.is_supported(publisher, offer, sku):
        out.append(
            finding(
                "UnsupportedImage",
                IMAGE_REFERENCE,
                f"platform image {publisher}:{offer}:{sku} is not supported by automatic OS image upgrade; use a "
                f"supported platform image (offers: {', '.join(supported_images.supported_offers())}) or an Azure "
                "Compute Gallery image",
            )
        )
    return out


def _probe_findings(record: Record) -> list[Finding]:
    """azure-behaviour §2 rule 4: with several placement groups the probe must be on a Standard load balancer."""
    probe: Mapping[str, Any] = record.get("health_probe") or {}
    if not has_health_probe(record):
        return []
    single = record["model"]["properties"].get("singlePlacementGroup", True)
    if single is False and probe and probe.get("load_balancer_sku") == "Basic":
        return [
            finding(
                "StandardLoadBalancerRequired",
                f"{HEALTH_PROBE}.id",
                "the scale set uses several placement groups (singlePlacementGroup: false), so its health probe must "
                "be on a Standard load balancer; this one is on a Basic load balancer (health_probe.load_balancer_sku)",
            )
        ]
    return []


def health_findings(record: Record) -> list[Finding]:
    """azure-behaviour §2 rule 4, for scale sets that are not Service Fabric: exactly one health source."""
    source = health_source(record)
    if source is None:
        return [
            finding(
                "HealthSourceMissing",
                HEALTH_PROBE,
                "automatic OS image upgrade needs a health source: a load balancer health probe "
                "(networkProfile.healthProbe, option health_probe) or the Application Health extension "
                "(Microsoft.ManagedServices ApplicationHealthLinux/ApplicationHealthWindows)",
            )
        ]
    if source == "both":
        return [
            finding(
                "HealthSourceAmbiguous",
                HEALTH_PROBE,
                "the scale set has both a health probe and the Application Health extension; only one source of "
                "health monitoring can be used, remove one of them",
            )
        ]
    return _probe_findings(record)


def api_findings(api_version: str) -> list[Finding]:
    """azure-behaviour §2 rule 5: Compute API version 2018-10-01 or later (the table's enableAutomaticOSUpgrade)."""
    if api_at_least(api_version, AUTOMATIC_OS_UPGRADE_API_VERSION):
        return []
    return [
        finding(
            "ApiVersionTooOld",
            "apiVersion",
            f"automatic OS image upgrade needs Compute API version {AUTOMATIC_OS_UPGRADE_API_VERSION} or later; the "
            f"scale set uses {api_version} (option api_version of azsim.vmss.vmss)",
        )
    ]


def windows_findings(record: Record) -> list[Finding]:
    """azure-behaviour §2 rule 6, from API 2019-03-01: Windows Update off, patch mode not AutomaticByPlatform.

    An unset enableAutomaticUpdates passes: enabling sets it to false (design.md, Windows; done by
    ``_actions.policy``).
    """
    if record.get("os_type") != "windows" or not api_at_least(record["api_version"], WINDOWS_RULES_API_VERSION):
        return []
    config = (
        record["model"]["properties"]["virtualMachineProfile"].get("osProfile", {}).get("windowsConfiguration") or {}
    )
    out: list[Finding] = []
    if config.get("enableAutomaticUpdates") is True:
        out.append(
            finding(
                "WindowsAutomaticUpdatesEnabled",
                f"{WINDOWS_CONFIGURATION}.enableAutomaticUpdates",
                "Windows Update inside the VMs is on (windows_configuration.enable_automatic_updates: true); with "
                "automatic OS image upgrade it must be false. Set it false, or leave it unset and it is set false",
            )
        )
    if (config.get("patchSettings") or {}).get("patchMode") == "AutomaticByPlatform":
        out.append(
            finding(
                "WindowsPatchModeAutomaticByPlatform",
                f"{WINDOWS_CONFIGURATION}.patchSettings.patchMode",
                "patch mode AutomaticByPlatform cannot be combined with automatic OS image upgrade; use Manual or "
                "AutomaticByOS (windows_configuration.patch_mode)",
            )
        )
    return out


def is_service_fabric(record: Record) -> bool:
    """Service Fabric node types take §2 rule 7 instead of rule 4."""
    return bool(record.get("service_fabric")) or any(
        is_service_fabric_extension(e) for e in extensions_of(record["model"])
    )


def _handler_version(value: str) -> tuple[int, ...] | None:
    if not re.match(r"^\d+(\.\d+)*$", value or ""):
        return None
    return tuple(int(p) for p in value.split("."))


def service_fabric_findings(record: Record) -> list[Finding]:
    """azure-behaviour §2 rule 7: durability, the extension's version and durability, no Application Health
    extension."""
    settings: Mapping[str, Any] = record.get("service_fabric") or {}
    extensions = extensions_of(record["model"])
    sf_index = next((i for i, e in enumerate(extensions) if is_service_fabric_extension(e)), None)
    sf_ext = extensions[sf_index] if sf_index is not None else None
    ext_durability = ((sf_ext or {}).get("properties", {}).get("settings") or {}).get("durabilityLevel")
    durability = settings.get("durability") or ext_durability
    out: list[Finding] = []
    durability_path = (
        f"{EXTENSIONS}[{sf_index}].properties.settings.durabilityLevel" if sf_index is not None else EXTENSIONS
    )
    if str(durability or "").lower() == "bronze":
        if not settings.get("stateless_only"):
            out.append(
                finding(
                    "ServiceFabricDurabilityTooLow",
                    durability_path,
                    "Service Fabric durability Bronze supports automatic OS image upgrade only for stateless-only "
                    "node types; use Silver or Gold (service_fabric.durability), or mark the node type "
                    "stateless-only (service_fabric.stateless_only) and give it a health probe",
                )
            )
        elif not has_health_probe(record):
            out.append(
                finding(
                    "HealthSourceMissing",
                    HEALTH_PROBE,
                    "a Service Fabric node type with Bronze durability (stateless-only) needs a load balancer health "
                    "probe for automatic OS image upgrade (option health_probe)",
                )
            )
    if sf_ext is None:
        out.append(
            finding(
                "ServiceFabricExtensionVersionTooOld",
                EXTENSIONS,
                "the scale set is a Service Fabric node type but its model has no Service Fabric extension "
                "(publisher Microsoft.Azure.ServiceFabric, typeHandlerVersion 1.1 or later)",
            )
        )
    else:
        version = str(sf_ext["properties"].get("typeHandlerVersion", ""))
        parsed = _handler_version(version)
        if parsed is None or parsed < SERVICE_FABRIC_MIN_EXTENSION_VERSION:
            out.append(
                finding(
                    "ServiceFabricExtensionVersionTooOld",
                    f"{EXTENSIONS}[{sf_index}].properties.typeHandlerVersion",
                    f"the Service Fabric extension {sf_ext['name']} has typeHandlerVersion {version}; automatic OS "
                    "image upgrade needs 1.1 or later",
                )
            )
        cluster = settings.get("durability")
        if cluster and str(ext_durability or "").lower() != str(cluster).lower():
            out.append(
                finding(
                    "ServiceFabricDurabilityMismatch",
                    durability_path,
                    f"the cluster's durability is {cluster} but the Service Fabric extension's durabilityLevel is "
                    f"{ext_durability or 'not set'}; they must match (service_fabric.durability and "
                    "service_fabric.extension_durability), a mismatch makes upgrades fail",
                )
            )
    for index, extension in enumerate(extensions):
        if is_health_extension(extension):
            out.append(
                finding(
                    "ServiceFabricHealthProbeNotSupported",
                    f"{EXTENSIONS}[{index}]",
                    f"application health probes are not supported on Service Fabric scale sets; remove the Application "
                    f"Health extension {extension['name']}",
                )
            )
    return out + _probe_findings(record)


def automatic_os_upgrade_findings(record: Record, gallery_opt_in: bool) -> list[Finding]:
    """Every requirement of azure-behaviour §2 (rule 8 is found only at upgrade time:
    extensions.expired_credentials)."""
    out = image_findings(record, gallery_opt_in)
    out += service_fabric_findings(record) if is_service_fabric(record) else health_findings(record)
    out += flexible_health_findings(record)
    out += api_findings(record["api_version"])
    out += windows_findings(record)
    return out


# -- warnings: what the policy does on this fleet ----------------------------------------------------


def fleet_warnings(policy: dict[str, Any], instance_count: int, unhealthy_count: int = 0) -> list[Finding]:
    """Thresholds that stop a run on this fleet sooner than their percentages suggest.

    Only the numbers that some run will use are looked at (azure-behaviour §1 bullet 1, policy.rolling_numbers):
    the rolling policy under ``mode: Rolling`` or with ``useRollingUpgradePolicy``, Azure's fixed 20% for
    automatic upgrades without it. "More than p% of N" is policy.tolerated / policy.exceeds (§3 rules 1 and 6).
    """
    if instance_count <= 0:
        return []
    enabled = automatic_os_upgrade_enabled(policy)
    uses_rolling = automatic_upgrade_uses_rolling_policy(policy)
    sets: list[tuple[str, RollingPolicy, str]] = []
    if enabled and not uses_rolling:
        sets.append(
            (
                f"{POLICY}.automaticOSUpgradePolicy.useRollingUpgradePolicy",
                rolling_numbers(policy, platform_os_upgrade=True),
                "automatic OS upgrades (fixed 20% thresholds, useRollingUpgradePolicy is false)",
            )
        )
    if policy.get("mode") == "Rolling" or (enabled and uses_rolling):
        sets.append(
            (
                f"{POLICY}.rollingUpgradePolicy",
                rolling_numbers(policy, platform_os_upgrade=False),
                "the rolling upgrade policy",
            )
        )
    out: list[Finding] = []
    for base, numbers, what in sets:
        fixed = base.endswith("useRollingUpgradePolicy")
        unhealthy = int(numbers["maxUnhealthyInstancePercent"])
        upgraded = int(numbers["maxUnhealthyUpgradedInstancePercent"])
        path_unhealthy = base if fixed else f"{base}.maxUnhealthyInstancePercent"
        path_upgraded = base if fixed else f"{base}.maxUnhealthyUpgradedInstancePercent"
        if tolerated(instance_count, unhealthy) == 0:
            out.append(
                finding(
                    "PolicyStopsOnFirstUnhealthyInstance",
                    path_unhealthy,
                    f"with {what}, maxUnhealthyInstancePercent {unhealthy}% of {instance_count} instances is 0: any "
                    "single unhealthy instance, for any reason, stops a run before its next batch",
                    WARNING,
                )
            )
        if upgraded > 0 and tolerated(instance_count, upgraded) == 0:
            out.append(
                finding(
                    "PolicyStopsOnFirstFailedUpgrade",
                    path_upgraded,
                    f"with {what}, maxUnhealthyUpgradedInstancePercent {upgraded}% of {instance_count} instances is 0: "
                    "the first instance that fails its upgrade stops the run",
                    WARNING,
                )
            )
        if exceeds(unhealthy_count, instance_count, unhealthy):
            out.append(
                finding(
                    "UnhealthyInstancesExceedPolicy",
                    path_unhealthy,
                    f"{unhealthy_count} of {instance_count} instances are unhealthy now, more than "
                    f"maxUnhealthyInstancePercent {unhealthy}% allows ({what}): a run started now stops before its "
                    "first batch (MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade)",
                    WARNING,
                )
            )
    return out


# -- everything at once ----------------------------------------------------------------------------


def check_policy(
    record: Record,
    policy: dict[str, Any],
    instance_count: int,
    gallery_opt_in: bool,
    unhealthy_count: int = 0,
) -> list[Finding]:
    """Every finding for writing ``policy`` onto the scale set ``record``: errors first, then warnings.

    One cause gives one finding: a code at a path found by two rules (a missing health source under
    both ``mode: Rolling`` and automatic OS upgrade) is kept once, with the first rule's message.
    """
    found: list[Finding] = []
    if policy.get("mode") == "Rolling":
        found += rolling_mode_findings(record)
    if automatic_os_upgrade_enabled(policy):
        found += automatic_os_upgrade_findings(record, gallery_opt_in)
    found += api_version_findings(policy, record["api_version"])
    found += fleet_warnings(policy, instance_count, unhealthy_count)
    seen: set[tuple[str, str]] = set()
    unique: list[Finding] = []
    for item in found:
        key = (item["code"], item["path"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return errors(unique) + [f for f in unique if f["severity"] != ERROR]
