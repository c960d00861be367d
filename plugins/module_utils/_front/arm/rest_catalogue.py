# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST shapes of the image catalogue, gallery image versions and VM sizes (arm-endpoint-research §3.1, §3.3).

Image catalogue lists are bare JSON arrays of ``{name, location, id}`` (a ``{"value": ...}`` object breaks
the az CLI, research §2.4); ids keep Azure's capitalised ``/Subscriptions/.../Providers/...`` form.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.catalogue_read import PlatformVersion
from ansible_collections.azsim.vmss.plugins.module_utils._model.catalogue import platform_image_id

GALLERY_VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"
# Publishers whose images are Windows; the catalogue keeps no OS type, and these are Azure's Windows
# publishers (every other publisher of the supported-images table is Linux).
_WINDOWS_PUBLISHERS = ("microsoftwindowsserver", "microsoftwindowsdesktop", "microsoftvisualstudio")

# The VM sizes ``GET .../locations/{loc}/vmSizes`` lists (azure_rm_virtualmachinescaleset checks its
# vm_size against them). Figures are Azure's published ones for these sizes.
VM_SIZES: tuple[tuple[str, int, int, int, int, int], ...] = (
    # name, cores, memory MB, max data disks, OS disk MB, resource disk MB
    ("Standard_B1s", 1, 1024, 2, 1047552, 4096),
    ("Standard_B1ms", 1, 2048, 2, 1047552, 4096),
    ("Standard_B2s", 2, 4096, 4, 1047552, 8192),
    ("Standard_B2ms", 2, 8192, 4, 1047552, 16384),
    ("Standard_DS1_v2", 1, 3584, 4, 1047552, 7168),
    ("Standard_DS2_v2", 2, 7168, 8, 1047552, 14336),
    ("Standard_D2s_v3", 2, 8192, 4, 1047552, 16384),
    ("Standard_D4s_v3", 4, 16384, 8, 1047552, 32768),
    ("Standard_D8s_v3", 8, 32768, 16, 1047552, 65536),
    ("Standard_D2s_v5", 2, 8192, 4, 1047552, 0),
    ("Standard_D4s_v5", 4, 16384, 8, 1047552, 0),
    ("Standard_F2s_v2", 2, 4096, 4, 1047552, 16384),
    ("Standard_E2s_v3", 2, 16384, 4, 1047552, 32768),
)


def vm_sizes() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "numberOfCores": cores,
            "memoryInMB": memory,
            "maxDataDiskCount": disks,
            "osDiskSizeInMB": os_disk,
            "resourceDiskSizeInMB": resource_disk,
        }
        for name, cores, memory, disks, os_disk, resource_disk in VM_SIZES
    ]


def _catalogue_id(subscription_id: str, location: str, *parts: str) -> str:
    base = f"/Subscriptions/{subscription_id}/Providers/Microsoft.Compute/Locations/{location}"
    labels = ("Publishers", "ArtifactTypes/VMImage/Offers", "Skus", "Versions")
    return base + "".join(f"/{label}/{part}" for label, part in zip(labels, parts))


def catalogue_entry(subscription_id: str, location: str, *parts: str) -> dict[str, Any]:
    """One publisher, offer or SKU of a catalogue list: ``{name, location, id}``."""
    return {"name": parts[-1], "location": location, "id": _catalogue_id(subscription_id, location, *parts)}


def image_version(subscription_id: str, entry: PlatformVersion, with_properties: bool = True) -> dict[str, Any]:
    """A platform image version (VirtualMachineImage; the list answers it without ``properties``)."""
    doc: dict[str, Any] = {
        "name": entry["version"],
        "location": entry["location"],
        "id": platform_image_id(
            subscription_id, entry["location"], entry["publisher"], entry["offer"], entry["sku"], entry["version"]
        ),
    }
    if with_properties:
        windows = entry["publisher"].lower() in _WINDOWS_PUBLISHERS
        doc["properties"] = {
            "osDiskImage": {"operatingSystem": "Windows" if windows else "Linux"},
            "dataDiskImages": [],
            "hyperVGeneration": "V2",
            "architecture": "x64",
            "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": entry["automatic_os_upgrade_supported"]},
            "imageDeprecationStatus": {"imageState": "Active"},
        }
    return doc


def gallery_image_version(entry: dict[str, Any]) -> dict[str, Any]:
    """A gallery image version (GalleryImageVersion): where it is replicated and whether latest skips it."""
    regions = list(entry["target_regions"])
    return {
        "id": entry["id"],
        "name": entry["version"],
        "type": GALLERY_VERSION_TYPE,
        "location": regions[0] if regions else "",
        "properties": {
            "publishingProfile": {
                "targetRegions": [{"name": r, "regionalReplicaCount": 1} for r in regions],
                "excludeFromLatest": bool(entry["exclude_from_latest"]),
                "publishedDate": entry["published"],
                "replicaCount": 1,
            },
            "provisioningState": "Succeeded",
            "storageProfile": {},
            "replicationStatus": {
                "aggregatedState": "Completed",
                "summary": [{"region": r, "state": "Completed", "progress": 100} for r in regions],
            },
        },
    }
