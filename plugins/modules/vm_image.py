#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_image
short_description: Publish or remove an image version in the simulated image catalogue
version_added: 0.1.0
description:
  - Publishes a platform image version (O(publisher), O(offer), O(sku), O(version)) in one O(location), or a
    gallery image version (O(gallery_image_id), O(version)) replicated to O(target_regions).
  - The publication time is the store's virtual now. Publishing a newer version is what makes the simulated
    platform start automatic OS upgrades on scale sets that have them enabled, as the clock moves on.
  - Publishing an existing gallery version again with other O(target_regions) updates its replication; the
    version becomes available in a newly added region at that moment.
  - The catalogue of a new store is empty.
options:
  publisher:
    description: Publisher of a platform image, for example C(Canonical). Required unless O(gallery_image_id) is given.
    type: str
  offer:
    description: Offer of a platform image, for example C(ubuntu-24_04-lts).
    type: str
  sku:
    description: SKU of a platform image, for example C(server).
    type: str
  location:
    description:
      - Location of a platform image version. Azure names, case and spaces ignored (C(East US) is C(eastus)).
      - Ignored for gallery images, which use O(target_regions).
    type: str
    default: eastus
  gallery_image_id:
    description:
      - Id of an Azure Compute Gallery image definition,
        C(/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>).
      - Mutually exclusive with O(publisher), O(offer) and O(sku).
    type: str
  version:
    description:
      - The version, C(Major.Minor.Build) with whole numbers. Versions order by their numbers, so C(1.10.0) is
        newer than C(1.9.0).
    type: str
    required: true
  target_regions:
    description:
      - Gallery images only. Regions the version is replicated to. Required when the version is new.
      - When not set on an existing version, its replication is kept.
    type: list
    elements: str
  exclude_from_latest:
    description:
      - Gallery images only. An excluded version is never what C(latest) resolves to.
      - When not set, a new version is not excluded and an existing version keeps its setting.
    type: bool
  state:
    description:
      - V(present) publishes, V(absent) removes (for a platform image, from O(location) only).
    type: str
    choices: [present, absent]
    default: present
attributes:
  diff_mode:
    details:
      - Returns C(diff) with the image version before and after the task (an empty dict where it is not published),
        also in check mode.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
  - azsim.vmss._attributes.idempotent
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Publish Ubuntu 24.04 version 24.04.202501010 in eastus
  azsim.vmss.vm_image:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    version: 24.04.202501010
    location: eastus

- name: Publish a gallery image version, replicated to two regions
  azsim.vmss.vm_image:
    gallery_image_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal/images/web
    version: 1.1.0
    target_regions: [eastus, westeurope]

- name: Keep a gallery version out of latest while it is being tested
  azsim.vmss.vm_image:
    gallery_image_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal/images/web
    version: 1.2.0
    target_regions: [eastus]
    exclude_from_latest: true

- name: Withdraw a platform version from eastus
  azsim.vmss.vm_image:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    version: 24.04.202501010
    location: eastus
    state: absent
"""

RETURN = r"""
image:
  description: The image version after the task; none when it was removed.
  returned: always
  type: dict
  contains:
    id:
      description: Resource id of the version.
      type: str
      returned: always
    version:
      description: The version.
      type: str
      returned: always
    published:
      description: Virtual time the version was published (for a platform image, in O(location)).
      type: str
      returned: always
    target_regions:
      description: Regions the version is available in.
      type: list
      elements: str
      returned: always
    exclude_from_latest:
      description: Whether C(latest) skips this version.
      type: bool
      returned: always
  sample:
    id: "/Subscriptions/00000000-0000-0000-0000-000000000000/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/\
      ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/24.04.202501010"
    version: 24.04.202501010
    published: "2025-01-01T00:00:00Z"
    target_regions: [eastus]
    exclude_from_latest: false
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import AzsimModule


def main() -> None:
    module = AzsimModule(
        {
            "publisher": {"type": "str"},
            "offer": {"type": "str"},
            "sku": {"type": "str"},
            "location": {"type": "str", "default": "eastus"},
            "gallery_image_id": {"type": "str"},
            "version": {"type": "str", "required": True},
            "target_regions": {"type": "list", "elements": "str"},
            "exclude_from_latest": {"type": "bool"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        mutually_exclusive=[
            ("gallery_image_id", "publisher"),
            ("gallery_image_id", "offer"),
            ("gallery_image_id", "sku"),
        ],
        required_one_of=[("gallery_image_id", "publisher")],
        required_together=[("publisher", "offer", "sku")],
    )
    module.run(publish_image)


if __name__ == "__main__":
    main()
