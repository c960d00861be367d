# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scale set's options (design.md, module vmss) written into its REST model and simulator settings.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypedDict, cast

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import fingerprint
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration, parse_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import check_api_version, parse_version
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, repairs
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    extensions_of,
    is_service_fabric_extension,
    sequence,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import normalise_hooks, set_hooks
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import (
    apply_orchestration_mode,
    check_flexible_model,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    ExtensionSecret,
    HealthProbe,
    OsType,
    Record,
    ServiceFabric,
    Simulation,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import SIMULATION_SCHEMA, VMSS_SCHEMA, validate


class ImageOption(TypedDict, total=False):
    publisher: str | None
    offer: str | None
    sku: str | None
    version: str | None
    id: str | None


class ScaleSetOptions(TypedDict, total=False):
    """What a caller may set on a scale set; an option left out (or None) keeps its current value."""

    location: str | None
    api_version: str | None
    os_type: OsType | None
    image: ImageOption | None
    windows_configuration: dict[str, Any] | None
    extensions: list[dict[str, Any]] | None
    health_probe: dict[str, Any] | None
    service_fabric: dict[str, Any] | None
    single_placement_group: bool | None
    zones: list[str] | None
    instances: list[Any] | None
    simulation: dict[str, Any] | None
    lifecycle_hooks: list[dict[str, Any]] | None
    automatic_repairs: dict[str, Any] | None
    orchestration_service: str | None
    orchestration_mode: str | None


def _image_reference(image: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    if image.get("id"):
        if any(image.get(k) for k in ("publisher", "offer", "sku", "version")):
            raise InvalidInput("image: give either id, or publisher, offer, sku and version, not both")
        gallery_id, version = catalogue.split_gallery_reference(image["id"], "image.id")
        return {"id": gallery_id + (f"/versions/{version}" if version else "")}
    missing = [k for k in ("publisher", "offer", "sku") if not image.get(k)]
    if missing:
        raise InvalidInput(
            f"image: {', '.join(missing)} missing; give publisher, offer, sku (and version, default latest), or id"
        )
    for key in ("publisher", "offer", "sku"):
        catalogue.check_image_name(image[key], f"image.{key}")
    version = image.get("version") or "latest"
    if version.lower() == "latest":
        version = "latest"
    else:
        parse_version(version, "image.version")
    return {"publisher": image["publisher"], "offer": image["offer"], "sku": image["sku"], "version": version}


def _extension_models(
    extensions: list[dict[str, Any]], salt: Callable[[], bytes]
) -> tuple[list[dict[str, Any]], dict[str, ExtensionSecret]]:
    """REST extensions and their secret fingerprints from the ``extensions`` option.

    A fingerprint (``_common.fingerprint``: scrypt under the store's random salt) only tells that the
    settings changed; each guess tested against it costs a memory-hard KDF.
    """
    models: list[dict[str, Any]] = []
    secrets: dict[str, ExtensionSecret] = {}
    for index, ext in enumerate(extensions):
        where = f"extensions[{index}]"
        for required in ("name", "publisher", "type", "type_handler_version"):
            if not ext.get(required):
                raise InvalidInput(f"{where}.{required}: required")
        props: dict[str, Any] = {
            "publisher": ext["publisher"],
            "type": ext["type"],
            "typeHandlerVersion": ext["type_handler_version"],
            "autoUpgradeMinorVersion": True,
        }
        if ext.get("enable_automatic_upgrade") is not None:
            # azure-behaviour-2 EX-2: the platform upgrades such an extension when a newer version is released.
            props["enableAutomaticUpgrade"] = bool(ext["enable_automatic_upgrade"])
        if ext.get("provision_after_extensions"):
            props["provisionAfterExtensions"] = list(ext["provision_after_extensions"])
        if ext.get("settings") is not None:
            props["settings"] = ext["settings"]
        models.append({"name": ext["name"], "properties": props})
        expiry = ext.get("credential_expiry")
        protected = ext.get("protected_settings")
        secrets[ext["name"]] = {
            "credential_expiry": parse_timestamp(expiry, f"{where}.credential_expiry") if expiry else None,
            "protected_settings_fingerprint": fingerprint(protected, salt()) if protected else None,
        }
    sequence(models)
    return models, secrets


def _health_probe(probe: dict[str, Any] | None, record: Record) -> HealthProbe | None:
    if not probe or all(v is None for k, v in probe.items() if k != "load_balancer_sku"):
        return None
    sku = probe.get("load_balancer_sku") or "Standard"
    if probe.get("id"):
        if probe.get("protocol") or probe.get("port") or probe.get("request_path"):
            raise InvalidInput("health_probe: give either id, or protocol, port and request_path, not both")
        return {"id": probe["id"], "protocol": None, "port": None, "request_path": None, "load_balancer_sku": sku}
    protocol = (probe.get("protocol") or "").lower()
    port = probe.get("port")
    if protocol not in ("tcp", "http", "https") or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput(
            "health_probe: give id, or protocol (tcp, http or https) and port (1 to 65535), and request_path for "
            "http and https"
        )
    if protocol != "tcp" and not probe.get("request_path"):
        raise InvalidInput(f"health_probe.request_path: required for protocol {protocol}, e.g. /health")
    base = record["model"]["id"].split("/providers/")[0]
    name = record["model"]["name"]
    return {
        "id": f"{base}/providers/Microsoft.Network/loadBalancers/{name}-lb/probes/{protocol}-{port}",
        "protocol": protocol,
        "port": port,
        "request_path": probe.get("request_path") if protocol != "tcp" else None,
        "load_balancer_sku": sku,
    }


def _service_fabric(value: dict[str, Any] | None, os_type: str) -> tuple[ServiceFabric | None, dict[str, Any] | None]:
    """Cluster settings and the Service Fabric node extension the model must carry."""
    if not value or all(v is None for v in value.values()):
        return None, None
    durability = value.get("durability") or "Silver"
    settings: ServiceFabric = {
        "durability": durability,
        "extension_durability": value.get("extension_durability") or durability,
        "stateless_only": bool(value.get("stateless_only")),
    }
    extension = {
        "name": "ServiceFabricNode",
        "properties": {
            "publisher": "Microsoft.Azure.ServiceFabric",
            "type": "ServiceFabricNode" if os_type == "windows" else "ServiceFabricLinuxNode",
            "typeHandlerVersion": "1.1",
            "autoUpgradeMinorVersion": True,
            "settings": {"durabilityLevel": settings["extension_durability"]},
        },
    }
    return settings, extension


def _apply_image(record: Record, params: ScaleSetOptions, subscription_id: str, creating: bool) -> None:
    model = record["model"]
    profile = model["properties"]["virtualMachineProfile"]
    image = params.get("image")
    if image:
        profile.setdefault("storageProfile", {})["imageReference"] = _image_reference(dict(image), subscription_id)
    elif creating:
        raise InvalidInput(f"image: required to create scale set {model['name']}")
    profile["storageProfile"]["osDisk"] = {
        "osType": record["os_type"].capitalize(),
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "managedDisk": {"storageAccountType": "Premium_LRS"},
    }


def _apply_os_profile(record: Record, params: ScaleSetOptions) -> None:
    model = record["model"]
    os_profile = model["properties"]["virtualMachineProfile"].setdefault(
        "osProfile", {"computerNamePrefix": model["name"][:9]}
    )
    windows = params.get("windows_configuration")
    if windows and any(v is not None for v in windows.values()):
        if record["os_type"] != "windows":
            raise InvalidInput("windows_configuration: only for os_type windows")
        config: dict[str, Any] = {}
        if windows.get("enable_automatic_updates") is not None:
            config["enableAutomaticUpdates"] = windows["enable_automatic_updates"]
        if windows.get("patch_mode"):
            config["patchSettings"] = {"patchMode": windows["patch_mode"]}
        os_profile["windowsConfiguration"] = config
    if record["os_type"] == "windows":
        os_profile.pop("linuxConfiguration", None)
        os_profile.setdefault("windowsConfiguration", {})
    else:
        os_profile.pop("windowsConfiguration", None)
        os_profile["linuxConfiguration"] = {"disablePasswordAuthentication": True}


def _apply_service_fabric(record: Record, value: dict[str, Any]) -> None:
    """The durability settings, and the Service Fabric node extension that carries them (§2 rule 7)."""
    model = record["model"]
    settings, sf_extension = _service_fabric(value, record["os_type"])
    record["service_fabric"] = settings
    current = [
        e for e in extensions_of(model) if not is_service_fabric_extension(e) or e["name"] != "ServiceFabricNode"
    ]
    if sf_extension is not None and not any(is_service_fabric_extension(e) for e in current):
        current.append(sf_extension)
    elif settings is not None:
        for ext in current:
            if is_service_fabric_extension(ext):
                ext["properties"].setdefault("settings", {})["durabilityLevel"] = settings["extension_durability"]
    model["properties"]["virtualMachineProfile"]["extensionProfile"] = {"extensions": current}


def _apply_extensions(record: Record, params: ScaleSetOptions, salt: Callable[[], bytes]) -> None:
    profile = record["model"]["properties"]["virtualMachineProfile"]
    extensions_option = params.get("extensions")
    if extensions_option is not None:
        extensions, secrets = _extension_models(extensions_option, salt)
        record["extension_secrets"] = secrets
        profile["extensionProfile"] = {"extensions": extensions}
    service_fabric = params.get("service_fabric")
    if service_fabric is not None:
        _apply_service_fabric(record, service_fabric)


def _apply_health_probe(record: Record, params: ScaleSetOptions) -> None:
    profile = record["model"]["properties"]["virtualMachineProfile"]
    probe = params.get("health_probe")
    if probe is not None:
        record["health_probe"] = _health_probe(probe, record)
    if record["health_probe"]:
        profile["networkProfile"] = {"healthProbe": {"id": record["health_probe"]["id"]}}
    else:
        profile.pop("networkProfile", None)


def _apply_placement(record: Record, params: ScaleSetOptions) -> None:
    model = record["model"]
    single_placement_group = params.get("single_placement_group")
    if single_placement_group is not None:
        model["properties"]["singlePlacementGroup"] = single_placement_group
    zones_option = params.get("zones")
    if zones_option is not None:
        zones = [str(z) for z in zones_option]
        if zones:
            model["zones"] = zones
        else:
            model.pop("zones", None)


def _apply_simulation(record: Record, params: ScaleSetOptions) -> None:
    given = params.get("simulation")
    if given is None:
        return
    simulation: dict[str, Any] = copy.deepcopy({**record["simulation"]})
    simulation.update({k: v for k, v in given.items() if v is not None})
    validate(simulation, SIMULATION_SCHEMA, "simulation")
    for option in ("reimage_duration", "boot_duration", "first_rollout_delay", "rollout_delay"):
        parse_duration(simulation[option], f"simulation.{option}")
    record["simulation"] = cast(Simulation, simulation)


def _apply_lifecycle_hooks(record: Record, params: ScaleSetOptions) -> None:
    """azure-behaviour-2 LH-1...LH-6: validated at write time; an empty list removes the profile."""
    hooks = params.get("lifecycle_hooks")
    if hooks is None:
        return
    set_hooks(record, normalise_hooks(hooks, record["api_version"]) if hooks else [])


def apply_options(
    record: Record, params: ScaleSetOptions, subscription_id: str, salt: Callable[[], bytes], creating: bool
) -> None:
    """Write the given options into the record; options left unset keep their current value.

    ``salt`` gives the store's salt for fingerprints of protected settings (made when first asked for)."""
    api_version = params.get("api_version")
    if api_version is not None:
        record["api_version"] = check_api_version(api_version)
    # azure-behaviour-2 §11, design.md round 2: chosen at creation, fixed after.
    apply_orchestration_mode(record, params.get("orchestration_mode"), creating)
    os_type = params.get("os_type")
    if os_type:
        record["os_type"] = os_type
    _apply_image(record, params, subscription_id, creating)
    _apply_os_profile(record, params)
    _apply_extensions(record, params, salt)
    _apply_health_probe(record, params)
    _apply_placement(record, params)
    _apply_simulation(record, params)
    _apply_lifecycle_hooks(record, params)
    # azure-behaviour-2 §8: the repairs policy (AR-1, AR-7), its requirements on the whole model (AR-2), then
    # setOrchestrationServiceState (AR-9, AR-11).
    repairs.apply_policy(record, params.get("automatic_repairs"))
    repairs.check_requirements(record)
    repairs.set_service(record, params.get("orchestration_service"))
    check_flexible_model(record)  # azure-behaviour-2 FX-9
    validate(record["model"], VMSS_SCHEMA)
    sequence(extensions_of(record["model"]), "properties.virtualMachineProfile.extensionProfile.extensions")
