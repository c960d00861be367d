# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  store:
    description:
      - Path of the simulator's state file, a SQLite database that one or many playbooks share.
      - When not set, the environment variable E(AZSIM_VMSS_STORE), else C(~/.ansible/azsim/vmss.sqlite).
      - A new store is created with mode C(0600) and its virtual clock starts at C(2025-01-01T00:00:00Z).
      - A file that is not an azsim.vmss store is refused and left untouched.
    type: path
  subscription_id:
    description:
      - The simulated Azure subscription.
      - When not set, the environment variable E(AZURE_SUBSCRIPTION_ID), else C(00000000-0000-0000-0000-000000000000).
      - A GUID (8-4-4-4-12 hexadecimal digits), as Azure's subscription ids are; anything else is refused.
    type: str
notes:
  - "Runs on the controller only (C(delegate_to: localhost) or a C(localhost) play); nothing is copied to the
    inventory hosts, which are the simulated instances."
  - Nothing talks to Azure. Time is the store's virtual clock; nothing sleeps.
  - Each task is one store transaction, committed whole or not at all; in check mode nothing is written, and a store
    that does not exist is not created (a read-only module says it does not exist).
  - A task Azure would refuse fails with Azure's error as C(error) (C({code, message}), e.g. C(OperationNotAllowed)
    for a 409) beside C(msg), which says the same for a person; nothing is written.
requirements:
  - jsonschema >= 4.0
"""

    SCALE_SET = r"""
options:
  resource_group:
    description:
      - The resource group of the scale set.
      - 1 to 90 characters; letters, digits, underscores, hyphens, periods and parentheses; not ending in a period.
    type: str
    required: true
  name:
    description:
      - The name of the scale set.
      - 1 to 64 characters; letters, digits, underscores, hyphens and periods; starting with a letter or digit
        and not ending in a period or hyphen.
    type: str
    required: true
"""

    # The option that keeps module output bounded (issue 11 item 10): vmss, vmss_info, vmss_upgrade_history.
    INSTANCES_OUTPUT = r"""
options:
  return_all_instances:
    description:
      - Return every instance. By default a result lists at most the first 100 instances (lowest instance ids
        first) of a scale set that has more, and adds RV(instances_summary) counting all of them, so that a task's
        output stays small (1,000 instances are about a megabyte of JSON in every result and log line).
      - Scale sets of up to 100 instances are always returned whole.
    type: bool
    default: false
"""
