# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON Schemas (Draft 2020-12) of the REST-shaped model the store keeps, and their validation.

The upgrade policy's schema is generated from ``_model.policy.POLICY_FIELDS``, the one table of its fields.

The schemas live in Python, not in .json files, because module_utils travel to the module as
Python only. Errors name the JSON path of the offending value in the REST model.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import DURATION_PATTERN
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import (
    GALLERY_IMAGE_ID_BODY,
    IMAGE_NAME_PATTERN,
    LOCATION_PATTERN,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import VERSION_BODY, VERSION_PATTERN
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import POLICY_FIELDS, PolicyField

# Patterns end in (?!\n)$: jsonschema matches with re.search, where a bare $ also matches before a final newline.
# Durations, image versions, locations and names use the patterns of the functions that check the options
# (isotime, versions, names), so that a rule is written once.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z(?!\n)$"

_BOOL = {"type": "boolean"}


def policy_field_schema(field: PolicyField) -> dict[str, Any]:
    """The JSON Schema of one upgrade-policy field, from its row of ``POLICY_FIELDS`` (azure-behaviour §1)."""
    if field.kind == "choice":
        return {"enum": list(field.choices)}
    if field.kind == "bool":
        return dict(_BOOL)
    if field.kind == "int":
        return {"type": "integer", "minimum": field.minimum, "maximum": field.maximum}
    return {"type": "string", "pattern": DURATION_PATTERN}


def upgrade_policy_schema() -> dict[str, Any]:
    """``properties.upgradePolicy``: every field of ``POLICY_FIELDS`` and nothing else; the top-level ones required."""
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in POLICY_FIELDS if f.group is None],
        "properties": {},
    }
    for field in POLICY_FIELDS:
        properties = schema["properties"]
        if field.group is not None:
            group = properties.setdefault(
                field.group, {"type": "object", "additionalProperties": False, "properties": {}}
            )
            properties = group["properties"]
        properties[field.name] = policy_field_schema(field)
    return schema


UPGRADE_POLICY_SCHEMA: dict[str, Any] = upgrade_policy_schema()

_IMAGE_REFERENCE = {
    "oneOf": [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["publisher", "offer", "sku", "version"],
            "properties": {
                "publisher": {"type": "string", "pattern": IMAGE_NAME_PATTERN},
                "offer": {"type": "string", "pattern": IMAGE_NAME_PATTERN},
                "sku": {"type": "string", "pattern": IMAGE_NAME_PATTERN},
                "version": {"anyOf": [{"const": "latest"}, {"type": "string", "pattern": VERSION_PATTERN}]},
            },
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "pattern": rf"(?i)^{GALLERY_IMAGE_ID_BODY}(/versions/{VERSION_BODY})?(?!\n)$"}
            },
        },
    ]
}

_EXTENSION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "properties"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}(?!\n)$"},
        "properties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["publisher", "type", "typeHandlerVersion"],
            "properties": {
                "publisher": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "typeHandlerVersion": {"type": "string", "pattern": r"^\d+\.\d+(?!\n)$"},
                "autoUpgradeMinorVersion": _BOOL,
                "enableAutomaticUpgrade": _BOOL,
                "provisionAfterExtensions": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "settings": {"type": "object"},
            },
        },
    },
}

VMSS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "type", "location", "sku", "properties"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "type": {"const": "Microsoft.Compute/virtualMachineScaleSets"},
        "location": {"type": "string", "pattern": LOCATION_PATTERN},
        "zones": {"type": "array", "items": {"enum": ["1", "2", "3"]}, "uniqueItems": True},
        "sku": {
            "type": "object",
            "required": ["name", "capacity"],
            "properties": {"capacity": {"type": "integer", "minimum": 0, "maximum": 1000000}},
        },
        "properties": {
            "type": "object",
            "required": ["upgradePolicy", "virtualMachineProfile", "singlePlacementGroup"],
            "properties": {
                "singlePlacementGroup": _BOOL,
                "orchestrationMode": {"enum": ["Uniform", "Flexible"]},
                "upgradePolicy": UPGRADE_POLICY_SCHEMA,
                "virtualMachineProfile": {
                    "type": "object",
                    "required": ["storageProfile", "osProfile"],
                    "properties": {
                        "storageProfile": {
                            "type": "object",
                            "required": ["imageReference", "osDisk"],
                            "properties": {
                                "imageReference": _IMAGE_REFERENCE,
                                "osDisk": {
                                    "type": "object",
                                    "required": ["osType"],
                                    "properties": {"osType": {"enum": ["Linux", "Windows"]}},
                                },
                            },
                        },
                        "osProfile": {
                            "type": "object",
                            "properties": {
                                "windowsConfiguration": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "enableAutomaticUpdates": _BOOL,
                                        "patchSettings": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "properties": {
                                                "patchMode": {
                                                    "enum": ["Manual", "AutomaticByOS", "AutomaticByPlatform"]
                                                }
                                            },
                                        },
                                    },
                                },
                            },
                        },
                        "networkProfile": {
                            "type": "object",
                            "properties": {
                                "healthProbe": {
                                    "type": "object",
                                    "required": ["id"],
                                    "properties": {"id": {"type": "string", "minLength": 1}},
                                }
                            },
                        },
                        "extensionProfile": {
                            "type": "object",
                            "properties": {"extensions": {"type": "array", "items": _EXTENSION}},
                        },
                    },
                },
            },
        },
    },
}

_FAULT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {
            "enum": [
                "boot_unhealthy",
                "slow_boot",
                "app_initializing",
                "extension_failure",
                "rollback_failure",
                "unhealthy_at",
                "repair_failure",
            ]
        },
        "instances": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "image_version": {"type": "string", "pattern": VERSION_PATTERN},
        "delay": {"type": "string", "pattern": DURATION_PATTERN},
        "extension": {"type": "string", "minLength": 1},
        "at": {"type": "string", "pattern": DURATION_PATTERN},
    },
    "not": {"required": ["instances", "probability"]},
    "allOf": [
        {"if": {"properties": {"type": {"const": "slow_boot"}}}, "then": {"required": ["delay"]}},
        {"if": {"properties": {"type": {"const": "app_initializing"}}}, "then": {"required": ["delay"]}},
        {"if": {"properties": {"type": {"const": "extension_failure"}}}, "then": {"required": ["extension"]}},
        {"if": {"properties": {"type": {"const": "unhealthy_at"}}}, "then": {"required": ["at"]}},
    ],
}

SIMULATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        "reimage_duration": {"type": "string", "pattern": DURATION_PATTERN},
        "boot_duration": {"type": "string", "pattern": DURATION_PATTERN},
        "first_rollout_delay": {"type": "string", "pattern": DURATION_PATTERN},
        "rollout_delay": {"type": "string", "pattern": DURATION_PATTERN},
        "faults": {"type": "array", "items": _FAULT},
        "surge_quota": {"type": "integer", "minimum": 0, "maximum": 1000000},
        # azure-behaviour-2 EX-1: the versions each extension type's publisher released in the region.
        "extension_versions": {
            "type": "object",
            "propertyNames": {"pattern": r"^[^.\s]+(\.[^.\s]+)+(?!\n)$"},
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^\d+(\.\d+){1,3}(?!\n)$"},
                "uniqueItems": True,
            },
        },
    },
}


def json_path(parts: Any, root: str = "") -> str:
    """``properties.extensions[0].name`` from a jsonschema error's path."""
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(the document)"


def _explain(error: Any) -> str:
    """One readable sentence for a schema error, preferring the most specific cause."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        return _explain(deepest)
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed; allowed: {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        return f"{error.instance!r} does not have the expected form ({error.validator_value})"
    if error.validator == "not" and isinstance(error.instance, dict):
        return "give either instances or probability, not both"
    return str(error.message)


def validate(doc: Any, schema: dict[str, Any], root: str = "") -> None:
    """Raise InvalidInput naming the JSON path of the first error, in a stable order."""
    import jsonschema  # pylint: disable=import-outside-toplevel  # only where a document is validated (_common.libraries)

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        error = errors[0]
        if error.validator in ("oneOf", "anyOf") and error.context:
            deepest = max(error.context, key=lambda e: len(e.absolute_path))
            path = json_path(list(error.absolute_path) + list(deepest.relative_path), root)
        else:
            path = json_path(error.absolute_path, root)
        raise InvalidInput(f"{path}: {_explain(error)}", path=path)
