#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: store_snapshot
short_description: Keep the simulator's state in a snapshot file, or restore the store from one
version_added: 0.1.0
description:
  - With O(state=present), writes the store's whole state (every scale set, run, image, event and the virtual clock)
    to O(dest), one self-contained file made with SQLite's backup API. The store's C(-wal) is included as SQLite reads
    it, and no task can commit to the store while the copy is taken. O(dest) is replaced atomically, so a reader sees
    the old snapshot or the new one, never half of one.
  - With O(state=restored), makes the store hold exactly the state of the snapshot O(src), inside one transaction of
    the store (all or nothing; tasks running at the same time wait for it, as for any write). A snapshot of an older
    version of the collection is migrated on the way in; the file O(src) is only read.
  - A plain file copy of a store is safe only with its C(-wal) and while no task runs (see the store documentation);
    this module is the safe way.
options:
  state:
    description:
      - V(present) takes a snapshot into O(dest); V(restored) restores the store from O(src).
    type: str
    choices: [present, restored]
    default: present
  dest:
    description:
      - Where to write the snapshot, with O(state=present). Created C(0600), its missing folders C(0700).
      - A file already there is replaced only if it is a snapshot or store of azsim.vmss of this user (not a symlink,
        not writable by group or others, with no C(-wal) or C(-journal) beside it); any other file is refused and left
        untouched.
      - When it already holds the store's state, nothing is written and the task is not changed.
    type: path
  src:
    description:
      - The snapshot to restore, with O(state=restored). It must be a regular file of this user, not writable by group
        or others, not a symlink, with no C(-wal) or C(-journal) beside it, and a store or snapshot of azsim.vmss of a
        schema version this collection understands.
      - When the store already holds its state, nothing is written and the task is not changed.
    type: path
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
  - azsim.vmss._attributes.idempotent
attributes:
  check_mode:
    details:
      - O(state=present) writes no file in check mode; O(state=restored) runs the restore inside the store's
        transaction and rolls it back.
  diff_mode:
    details:
      - Returns C(diff) with summaries (counts, the virtual time and a digest of the whole state) of the snapshot
        (O(state=present)) or of the store (O(state=restored)) before and after.
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Keep the state before a risky rehearsal
  azsim.vmss.store_snapshot:
    dest: "{{ playbook_dir }}/states/before-rollout.sqlite"

- name: Go back to it
  azsim.vmss.store_snapshot:
    state: restored
    src: "{{ playbook_dir }}/states/before-rollout.sqlite"
"""

RETURN = r"""
snapshot:
  description: The snapshot file, C(path) and a summary of what it holds (as RV(store)).
  returned: always
  type: dict
  sample:
    path: /home/me/states/before-rollout.sqlite
    schema_version: 4
    now: "2025-01-01T03:00:00Z"
    scale_sets: 1
    instances: 3
    runs: 1
    images: 2
    events: 0
    content_sha256: 4f1c...
store:
  description:
    - What the store holds after the task (O(state=restored)) or held when the snapshot was taken (O(state=present)).
    - C(schema_version), C(now) (the virtual clock), the number of C(scale_sets), C(instances), C(runs), C(images)
      and scheduled C(events), and C(content_sha256), a digest of every row (two equal digests are the same state).
  returned: always
  type: dict
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.store_snapshot import store_snapshot
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import AzsimModule


def main() -> None:
    module = AzsimModule(
        {
            "state": {"type": "str", "choices": ["present", "restored"], "default": "present"},
            "dest": {"type": "path"},
            "src": {"type": "path"},
        },
        required_if=[("state", "present", ["dest"]), ("state", "restored", ["src"])],
        mutually_exclusive=[("dest", "src")],
    )
    module.run(store_snapshot)


if __name__ == "__main__":
    main()
