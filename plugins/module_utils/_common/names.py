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

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

# Resource groups: 1-90 of letters (any script), digits, '_', '-', '.', '(' and ')'; not ending in '.'.
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{1,90}$")
# Scale sets: 1-64 of letters, digits, '_', '-', '.'; starting with a letter or digit; not ending in '.' or '-'.
_SCALE_SET = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_])?$")
# Instances are inventory hosts: any printable name without spaces or '/', up to 255 characters.
_INSTANCE = re.compile(r"^[^\s/\x00-\x1f\x7f]{1,255}$")
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
    return value
