#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sim_clock
short_description: Read or move the simulator's virtual clock
version_added: 0.1.0
description:
  - Reads the virtual clock of the store, or moves it forward.
  - Moving the clock runs, in time order and each at its own time, everything the simulated platform had
    scheduled meanwhile (feature registrations finishing, platform-started OS upgrades, batches of a run
    ending), and returns those as RV(events).
  - The clock of a new store starts at C(2025-01-01T00:00:00Z). It never goes back and never reads the
    wall clock.
options:
  advance:
    description:
      - Move the clock forward by this ISO 8601 duration, for example C(PT30M), C(PT3H) or C(P63D).
      - Mutually exclusive with O(to).
    type: str
  to:
    description:
      - Move the clock to this ISO 8601 UTC timestamp, for example C(2025-01-01T03:00:00Z).
      - A timestamp before the current virtual time is an error.
      - Mutually exclusive with O(advance).
    type: str
attributes:
  diff_mode:
    support: partial
    details:
      - Returns C(diff) with the virtual clock's C(now) before and after the task, also in check mode. What the
        platform did meanwhile (runs started, batches, runs ended, registrations) is in RV(events), not in the diff.
  idempotent:
    support: partial
    details:
      - O(advance) moves the clock on every call, so the same task run twice changes twice (unless the duration is
        C(PT0S)).
      - O(to) is idempotent (the second call finds the clock there already), and so is reading the clock (neither
        option).
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Let three virtual hours pass, so that the platform starts its first automatic rollout
  azsim.vmss.sim_clock:
    advance: PT3H
  register: clock

- name: Show what happened meanwhile
  ansible.builtin.debug:
    msg: "{{ clock.events | map(attribute='type') | list }}"

- name: Move to a given instant
  azsim.vmss.sim_clock:
    to: "2025-01-02T00:00:00Z"

- name: Only read the clock
  azsim.vmss.sim_clock:
  register: clock_now
"""

RETURN = r"""
now:
  description: The virtual time after the task.
  returned: always
  type: str
  sample: "2025-01-01T03:00:00Z"
previous:
  description: The virtual time before the task.
  returned: always
  type: str
  sample: "2025-01-01T00:00:00Z"
events:
  description:
    - What the simulated platform did while the clock moved, oldest first.
    - Each has C(time), C(type) and C(subject) (the resource it concerns), and details by type.
    - Lifecycle-hook events (see M(azsim.vmss.vmss_lifecycle_hook_event)) report as C(LifecycleHookEventCreated),
      C(LifecycleHookEventDefaulted) (the default action decided the targets still waiting),
      C(LifecycleHookEventCompleted) and C(LifecycleHookEventAbandoned), with the event's id as C(subject), its
      C(hook_type), C(state) and C(targets) (instance id, or the scale set's name, to action state).
    - Runs report C(RollingUpgradeStarted), C(BatchStarted), C(BatchCompleted), C(RollingBackStarted) and
      C(RollingUpgradeCompleted), C(RollingUpgradeFaulted) or C(RollingUpgradeCancelled); those of an extension
      rolling upgrade carry C(run_kind=extension).
    - Automatic repairs report C(RepairStarted) and C(RepairCompleted) (C(instance), C(instance_id), C(action),
      C(result) C(healthy) or C(unhealthy), C(previous_instance_id) after a Replace) and C(RepairsSuspended).
  returned: always
  type: list
  elements: dict
  sample:
    - time: "2025-01-01T03:00:00Z"
      type: RollingUpgradeStarted
      subject: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import AzsimModule


def main() -> None:
    module = AzsimModule(
        {"advance": {"type": "str"}, "to": {"type": "str"}},
        mutually_exclusive=[("advance", "to")],
    )
    module.run(move_clock)


if __name__ == "__main__":
    main()
