# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's naming rules for the resources the simulator addresses, checked before anything is written.

Each rule is here once. The ``*_PATTERN`` strings serve both the checks of the options (``re``) and the
JSON Schemas of the stored model (``_model.schema``); they end in ``(?!\n)$`` because jsonschema matches
with ``re.search``, where a bare ``$`` also matches before a final newline.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re
import unicodedata

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

# Resource groups: 1-90 of letters (any script), digits, '_', '-', '.', '(' and ')'; not ending in '.'.
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{1,90}$")
# Scale sets: 1-64 of letters, digits, '_', '-', '.'; starting with a letter or digit; not ending in '.' or '-'.
_SCALE_SET = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_])?$")
# Instances are inventory hosts: any printable name without spaces or '/', up to 255 characters.
_INSTANCE = re.compile(r"^[^\s/\x00-\x1f\x7f]{1,255}$")
# Subscriptions: a GUID.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Data disks (Microsoft.Compute/disks): 1-80 of letters, digits, '_', '-', '.'; first a letter or digit; not ending
# in '-' or '.'.
_DISK = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,78}[A-Za-z0-9_])?")
# Locations, once spaces are removed and letters lowered (East US is eastus): a letter, then 1-39 letters or digits.
LOCATION_PATTERN = r"^[a-z][a-z0-9]{1,39}(?!\n)$"
# Image publishers, offers and SKUs: 1-128 letters, digits, '_', '.', '-', starting with a letter or digit.
IMAGE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}(?!\n)$"
# An Azure Compute Gallery image (compared without regard to case); an image version id adds /versions/<version>.
GALLERY_IMAGE_ID_BODY = (
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/galleries/[^/]+/images/[^/]+"
)


def check_resource_group(value: object, where: str = "resource_group") -> str:
    if not isinstance(value, str) or not _RESOURCE_GROUP.fullmatch(value) or value.endswith("."):
        raise InvalidInput(
            f"{where}: {value!r} is not a valid resource group name; use 1 to 90 letters, digits, '_', '-', '.', "
            "'(' or ')', not ending in '.'"
        )
    return value


def check_scale_set_name(value: object, where: str = "name") -> str:
    if not isinstance(value, str) or not _SCALE_SET.fullmatch(value):
        raise InvalidInput(
            f"{where}: {value!r} is not a valid scale set name; use 1 to 64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit and ending with a letter, digit or '_'"
        )
    return value


def check_instance_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _INSTANCE.fullmatch(value):
        raise InvalidInput(
            f"{where}: {value!r} is not a usable instance (host) name; use 1 to 255 printable characters without "
            "spaces or '/'"
        )
    # Unicode's control, format (zero-width, bidirectional marks), separator, private-use, surrogate and
    # unassigned characters are invisible or ambiguous: 'h1' and 'h1\u200b' would be two hosts that print alike.
    hidden = next((c for c in value if unicodedata.category(c)[0] in "CZ"), None)
    if hidden is not None:
        raise InvalidInput(
            f"{where}: {value!r} holds the invisible character U+{ord(hidden):04X} "
            f"({unicodedata.name(hidden, unicodedata.category(hidden))}); use 1 to 255 printable characters without "
            "spaces, '/', or control, zero-width or bidirectional characters"
        )
    return value


def check_subscription_id(value: object, where: str = "subscription_id") -> str:
    """A subscription id is a GUID (8-4-4-4-12 hex digits), as Azure's subscription ids are; it goes into ids and
    ARM paths (/subscriptions/{id}/...), so nothing else may pass."""
    if not is_subscription_id(value):
        raise InvalidInput(
            f"{where}: {_shown(value)} is not a subscription id; give a GUID such as "
            "00000000-0000-0000-0000-000000000000 (8-4-4-4-12 hexadecimal digits)",
            option=where,
        )
    return str(value)


def is_subscription_id(value: object) -> bool:
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def check_disk_name(value: object, where: str) -> str:
    r"""Azure's rule for Microsoft.Compute/disks: 1 to 80 alphanumerics, '_', '-' or '.', starting with an
    alphanumeric, not ending in '-' or '.' (Azure's own check, ^[^_\W][\w-._]{0,79}(?<![-.])$, and "Naming rules and
    restrictions for Azure resources", Microsoft.Compute; ASCII here, as the other names)."""
    if not isinstance(value, str) or not _DISK.fullmatch(value):
        raise InvalidInput(
            f"{where}: {_shown(value)} is not a valid disk name; use 1 to 80 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit and not ending in '-' or '.'"
        )
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
