#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_image_info
short_description: List the versions of an image in the simulated catalogue and say which is latest
version_added: 0.1.0
description:
  - Lists the versions of a platform image in a location, like C(az vm image list --all), or of a gallery image,
    oldest first, and returns the version that C(latest) resolves to for a scale set in O(location).
  - Azure's rules apply. A gallery version counts for C(latest) only in regions it is replicated to, and only
    when it is not C(excludeFromLatest).
options:
  location:
    description: The location a scale set would be in.
    type: str
    default: eastus
  publisher:
    description: Publisher of a platform image. Give O(publisher), O(offer) and O(sku) together.
    type: str
  offer:
    description: Offer of a platform image.
    type: str
  sku:
    description: SKU of a platform image.
    type: str
  gallery_image_id:
    description: Id of a gallery image definition; mutually exclusive with O(publisher), O(offer) and O(sku).
    type: str
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.info_module
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: What is the latest Ubuntu 24.04 image in eastus?
  azsim.vmss.vm_image_info:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    location: eastus
  register: ubuntu

- name: Show it
  ansible.builtin.debug:
    msg: "latest is {{ ubuntu.latest }} of {{ ubuntu.versions | map(attribute='version') | join(', ') }}"

- name: What would a gallery scale set in westeurope get?
  azsim.vmss.vm_image_info:
    gallery_image_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal/images/web
    location: westeurope
"""

RETURN = r"""
location:
  description: The location C(latest) was resolved for, in Azure's normal form.
  returned: always
  type: str
  sample: eastus
versions:
  description: The versions, oldest first. Platform images list only those published in O(location).
  returned: always
  type: list
  elements: dict
  contains:
    version:
      description: The version.
      type: str
      returned: always
    published:
      description: Virtual time of publication.
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
latest:
  description: The version a scale set in O(location) gets for C(latest); null when there is none.
  returned: always
  type: str
  sample: 24.04.202501010
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import image_versions
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import AzsimModule


def main() -> None:
    module = AzsimModule(
        {
            "location": {"type": "str", "default": "eastus"},
            "publisher": {"type": "str"},
            "offer": {"type": "str"},
            "sku": {"type": "str"},
            "gallery_image_id": {"type": "str"},
        },
        read_only=True,
        mutually_exclusive=[
            ("gallery_image_id", "publisher"),
            ("gallery_image_id", "offer"),
            ("gallery_image_id", "sku"),
        ],
        required_one_of=[("gallery_image_id", "publisher")],
        required_together=[("publisher", "offer", "sku")],
    )
    module.run(image_versions)


if __name__ == "__main__":
    main()
