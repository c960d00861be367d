# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension sequencing (provisionAfterExtensions) and provisioning on one instance.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import heapq
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import UNKNOWN
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import ExtensionSecret, ExtensionState, Record

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
    publisher: str = extension["properties"]["publisher"]
    return publisher.lower() == SERVICE_FABRIC_PUBLISHER.lower()


def sequence(extensions: list[dict[str, Any]], where: str = "extensions") -> list[str]:
    """Extension names in the order they run: each after those it names; otherwise the earlier listed first.

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
    # Kahn's algorithm: of the extensions whose predecessors are done, the earliest listed runs next.
    position = {name: i for i, name in enumerate(names)}
    waiting = {name: set(deps) for name, deps in after.items()}
    ready = [position[name] for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for other, deps in waiting.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, position[other])
    if len(order) < len(names):
        raise InvalidInput(
            f"{where}: provision_after_extensions has a cycle ({' -> '.join(_cycle(waiting, names))}); extensions "
            "cannot wait for each other"
        )
    return order


def _cycle(waiting: dict[str, set[str]], names: list[str]) -> list[str]:
    """One cycle among the extensions Kahn's algorithm could not order, as a path that closes on itself."""
    path = [next(name for name in names if waiting[name])]
    while True:
        step = min(waiting[path[-1]], key=names.index)
        if step in path:
            return path[path.index(step) :] + [step]
        path.append(step)


def comparable_secrets(
    secrets: dict[str, ExtensionSecret], before: dict[str, ExtensionSecret]
) -> dict[str, ExtensionSecret]:
    """``secrets`` as they compare with ``before`` to tell a rotation: a fingerprint that ``before`` holds as
    UNKNOWN (a store migrated from schema 3, whose old fingerprint could not be converted without the
    secret) counts as unchanged, so the first write after the upgrade records it without a new model."""
    out: dict[str, ExtensionSecret] = {}
    for name, secret in secrets.items():
        old = before.get(name, {}).get("protected_settings_fingerprint")
        if old == UNKNOWN and secret.get("protected_settings_fingerprint") is not None:
            secret = {**secret, "protected_settings_fingerprint": UNKNOWN}
        out[name] = secret
    return out


def expired_credentials(record: Record, now: int) -> set[str]:
    """Extensions whose credential (SAS token, certificate) has expired at ``now``.

    azure-behaviour §2 rule 8 and §4 "Credentials": found only when extensions run (a new instance, a run's
    first batch); such an extension fails to provision.
    """
    expired = set()
    for name, secret in record["extension_secrets"].items():
        expiry = secret.get("credential_expiry")
        if expiry is not None and expiry <= now:
            expired.add(name)
    return expired


def provision(extensions: list[dict[str, Any]], failing: set[str]) -> list[ExtensionState]:
    """Provisioning states in run order; an extension fails if in ``failing`` or if one it waits for failed."""
    after = {e["name"]: e["properties"].get("provisionAfterExtensions", []) for e in extensions}
    states: dict[str, str] = {}
    for name in sequence(extensions):
        ok = name not in failing and all(states[dep] == "Succeeded" for dep in after[name])
        states[name] = "Succeeded" if ok else "Failed"
    return [{"name": name, "provisioning_state": state} for name, state in states.items()]
