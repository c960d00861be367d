#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_upgrade_report
short_description: Write a picture of the recent OS upgrade runs of simulated scale sets as one HTML file
version_added: 0.1.0
description:
  - Writes one self-contained HTML page (inline CSS and SVG, no script, nothing fetched from the network) about the
    newest OS image upgrade runs of one scale set, or of every scale set of a resource group.
  - For each run, a timeline with one row per instance on the virtual clock (approval wait, reimage or surge, boot,
    health wait, restore and the boot after it), the batches and the pauses between them, where the run stopped and
    why, the progress and rollback counters; for each scale set, the table of its runs.
  - Colours are told apart with colour-blind vision (Okabe-Ito palette), and every phase also has its own pattern and
    label; the page has a print stylesheet.
  - The page depends only on the store, never on the wall clock, so an unchanged store gives a byte-identical file
    and the task reports no change. Model rollouts are not OS upgrades and are not drawn.
  - The store is only read; the clock does not move.
options:
  resource_group:
    description:
      - The resource group of the scale sets.
      - 1 to 90 characters; letters, digits, underscores, hyphens, periods and parentheses; not ending in a period.
    type: str
    required: true
  name:
    description:
      - The name of one scale set of O(resource_group).
      - When not set, every scale set of the resource group, ordered by name.
    type: str
  dest:
    description:
      - The HTML file to write. Its folder must exist.
      - Written only when its content would change, through a temporary file in the same folder renamed over it; an
        existing file keeps its mode.
    type: path
    required: true
  runs:
    description: How many of the newest OS upgrade runs of each scale set to draw, from 1 to 50.
    type: int
    default: 5
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
attributes:
  check_mode:
    support: full
    details:
      - Writes nothing; C(changed) says whether the file would change.
  diff_mode:
    support: partial
    details:
      - Returns the size and SHA-256 of O(dest) before and after, not the HTML itself.
  idempotent:
    support: full
    details:
      - The page depends only on the store, so a second run on an unchanged store rewrites nothing.
seealso:
  - module: azsim.vmss.vmss_upgrade_history
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Picture of the last three OS upgrades of the scale set web
  azsim.vmss.vmss_upgrade_report:
    resource_group: rg-web
    name: web
    dest: "{{ playbook_dir }}/web-upgrades.html"
    runs: 3
  register: report

- name: Every scale set of the resource group
  azsim.vmss.vmss_upgrade_report:
    resource_group: rg-web
    dest: "{{ playbook_dir }}/rg-web-upgrades.html"
"""

RETURN = r"""
dest:
  description: The absolute path of the HTML file.
  returned: always
  type: str
  sample: /tmp/web-upgrades.html
runs:
  description: The runs drawn, newest first within each scale set.
  returned: always
  type: list
  elements: dict
  contains:
    scale_set:
      description: The scale set's name.
      type: str
    run_id:
      description: The run's number within its scale set.
      type: int
    status:
      description: C(RollingForward), C(RollingBack), C(Completed), C(Faulted) or C(Cancelled).
      type: str
    started_by:
      description: C(User) or C(Platform).
      type: str
    start:
      description: Virtual time the run started.
      type: str
    end:
      description: Virtual time the run ended; null while it goes on.
      type: str
    target_version:
      description: The image version rolled out.
      type: str
  sample:
    - {scale_set: web, run_id: 1, status: Faulted, started_by: User, start: "2025-01-01T00:00:00Z",
       end: "2025-01-01T00:24:00Z", target_version: 24.04.202502010}
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.report import upgrade_report
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import AzsimModule, scale_set_argument_spec


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(name_required=False),
            "dest": {"type": "path", "required": True},
            "runs": {"type": "int", "default": 5},
        },
        read_only=True,
    )
    module.run(upgrade_report)


if __name__ == "__main__":
    main()
