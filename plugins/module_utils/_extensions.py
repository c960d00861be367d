# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension sequencing (provisionAfterExtensions) and provisioning on one instance."""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._errors import InvalidInput

HEALTH_EXTENSION_PUBLISHER = "Microsoft.ManagedServices"
HEALTH_EXTENSION_TYPES = ("ApplicationHealthLinux", "ApplicationHealthWindows")
SERVICE_FABRIC_PUBLISHER = "Microsoft.Azure.ServiceFabric"


def extensions_of(model: dict[str, Any]) -> list[dict[str, Any]]:
    profile = model["properties"]["virtualMachineProfile"]
    return list(profile.get("extensionProfile", {}).get("extensions", []))


def is_health_extension(extension: dict[str, Any]) -> bool:
    props = extension["properties"]
    return props["publisher"].lower() == HEALTH_EXTENSION_PUBLISHER.lower() and props["type"] in HEALTH_EXTENSION_TYPES


def is_service_fabric_extension(extension: dict[str, Any]) -> bool:
    return extension["properties"]["publisher"].lower() == SERVICE_FABRIC_PUBLISHER.lower()


def sequence(extensions: list[dict[str, Any]], where: str = "extensions") -> list[str]:
    """Extension names in the order they run: each after those it names, otherwise in listed order.

    Unknown names and cycles in provisionAfterExtensions are errors, as Azure refuses such a model.
    """
    names = [e["name"] for e in extensions]
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name.lower() in seen:
            raise InvalidInput(f"{where}[{index}].name: {name!r} is listed twice; extension names must be unique")
        seen.add(name.lower())
    after = {e["name"]: list(e["properties"].get("provisionAfterExtensions", [])) for e in extensions}
    for index, extension in enumerate(extensions):
        for dep in after[extension["name"]]:
            if dep not in after:
                raise InvalidInput(
                    f"{where}[{index}].provision_after_extensions: {dep!r} is not an extension of this scale set; "
                    f"known: {', '.join(names)}"
                )
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise InvalidInput(
                f"{where}: provision_after_extensions has a cycle ({' -> '.join(cycle)}); extensions cannot wait "
                "for each other"
            )
        state[name] = "visiting"
        for dep in after[name]:
            visit(dep, path + [name])
        state[name] = "done"
        order.append(name)

    for name in names:
        visit(name, [])
    return order


def provision(
    extensions: list[dict[str, Any]], failing: set[str]
) -> list[dict[str, str]]:
    """Provisioning states in run order; an extension fails if in ``failing`` or if one it waits for failed."""
    after = {e["name"]: e["properties"].get("provisionAfterExtensions", []) for e in extensions}
    states: dict[str, str] = {}
    for name in sequence(extensions):
        ok = name not in failing and all(states[dep] == "Succeeded" for dep in after[name])
        states[name] = "Succeeded" if ok else "Failed"
    return [{"name": name, "provisioning_state": state} for name, state in states.items()]
