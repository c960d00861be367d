# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension versions: what a publisher released, what an instance has installed, and which are behind.

The released versions of an extension type are a simulator setting of the scale set
(``simulation.extension_versions``: ``{"<publisher>.<type>": ["1.2", "1.3", "2.0"]}``), standing for what
the publisher has released in the scale set's region. An instance records the version it installed of each
extension (``Instance.extension_versions``) only when that is not the model's ``typeHandlerVersion``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import extensions_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def type_key(extension: dict[str, Any]) -> str:
    """``<publisher>.<type>``, the name Azure's extension image catalogue lists a type under."""
    props = extension["properties"]
    return f"{props['publisher']}.{props['type']}"


def released(record: Record, extension: dict[str, Any]) -> str:
    """The version an instance gets of ``extension`` now (azure-behaviour-2 EX-1, SIMULATOR CHOICE).

    With ``autoUpgradeMinorVersion: true`` the newest released version of the same major as
    ``typeHandlerVersion``, not older than it; otherwise ``typeHandlerVersion`` exactly.
    """
    props = extension["properties"]
    wanted = str(props["typeHandlerVersion"])
    if not props.get("autoUpgradeMinorVersion", False):
        return wanted
    catalogue: dict[str, list[str]] = record["simulation"].get("extension_versions") or {}
    major = version_key(wanted)[0]
    floor = version_key(wanted)
    same_major = [
        v for v in catalogue.get(type_key(extension), []) if version_key(v)[0] == major and version_key(v) >= floor
    ]
    return max(same_major, key=version_key) if same_major else wanted


def installed(instance: Instance, extension: dict[str, Any]) -> str:
    wanted = str(extension["properties"]["typeHandlerVersion"])
    return instance.get("extension_versions", {}).get(extension["name"], wanted)


def outdated(record: Record, instance: Instance, names: list[str] | None = None) -> list[str]:
    """Names of the model's extensions (of ``names``, if given) the instance runs older than released (EX-1)."""
    return [
        e["name"]
        for e in extensions_of(record["model"])
        if (names is None or e["name"] in names)
        and version_key(released(record, e)) > version_key(installed(instance, e))
    ]


def automatic(record: Record) -> list[str]:
    """The extensions the platform upgrades by itself (EX-2: ``enableAutomaticUpgrade``)."""
    return [e["name"] for e in extensions_of(record["model"]) if e["properties"].get("enableAutomaticUpgrade")]


def releases(record: Record) -> dict[str, str | None]:
    """Each model extension's ``released`` version, None where it is ``typeHandlerVersion`` (nothing to record).

    What ``install`` applies; a caller installing on many instances at once reads it once.
    """
    found: dict[str, str | None] = {}
    for extension in extensions_of(record["model"]):
        version = released(record, extension)
        found[extension["name"]] = None if version == str(extension["properties"]["typeHandlerVersion"]) else version
    return found


def install(
    record: Record, instance: Instance, names: set[str] | None = None, released_now: dict[str, str | None] | None = None
) -> None:
    """The instance installs the released version of the named extensions (all of the model's when None).

    Only versions other than ``typeHandlerVersion`` are recorded, so a scale set without released versions
    keeps the instance shape it always had. ``released_now`` is ``releases(record)``, when the caller has it.
    """
    current = releases(record) if released_now is None else released_now
    versions = {n: v for n, v in instance.get("extension_versions", {}).items() if n in current}
    for name, version in current.items():
        if names is not None and name not in names:
            continue
        if version is not None:
            versions[name] = version
        else:
            versions.pop(name, None)
    if versions:
        instance["extension_versions"] = versions
    else:
        instance.pop("extension_versions", None)
