# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scale set's instances: their disks, as upgrades, reimages, repairs and new instances replace them.

The ``instances`` option (new instances, changes to them, scaling) is _model/wanted_instances.py: apart, so that
the calls that upgrade or repair do not carry it into their AnsiballZ payload (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import new_disk
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import DataDisk, Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import record_key

UPDATE_DOMAINS = 5  # azure-behaviour §3 rule 3: an instance's update domain defaults to instanceId % 5


def os_disk_name(record: Record, instance_id: int, generation: int) -> str:
    """A new OS disk name, Azure's pattern, with a suffix drawn from the scale set's seed: the first 32 hex digits
    of sha256 of ``seed:key:instance_id:osdisk:generation``."""
    return DiskNamer(record)(instance_id, generation)


class DiskNamer:
    """``os_disk_name`` for the disks of one scale set: the hash of its head and the names' head looked up once
    for many disks (issue 14: a run names a new disk for every instance, a batch at a time)."""

    __slots__ = ("_digest", "_prefix")

    def __init__(self, record: Record) -> None:
        self._digest, self._prefix = _disk_naming(
            record["simulation"]["seed"], record_key(record), record["model"]["name"]
        )

    def __call__(self, instance_id: int, generation: int) -> str:
        digest = self._digest.copy()
        digest.update(f"{instance_id}:osdisk:{generation}".encode())
        return f"{self._prefix}{instance_id}_OsDisk_{generation}_{digest.hexdigest()[:32]}"


@functools.lru_cache(maxsize=1024)
def _disk_naming(seed: object, key: str, name: str) -> tuple[Any, str]:
    """sha256 fed with ``seed:key:``, to copy for each disk of the scale set, and the names' ``name_`` head: a run
    names a new disk for every instance (issue 14), and neither need be made again each time."""
    return hashlib.sha256(f"{seed}:{key}:".encode()), f"{name}_"


def new_os_disk(record: Record, instance: Instance, image_version: str, namer: DiskNamer | None = None) -> None:
    """The instance gets a new OS disk of ``image_version``; the old one stays as ``previous_os_disk`` (§3.4 rule 5
    restores it). Upgrades, reimages and repairs all replace the disk this way. ``namer``: the record's
    ``DiskNamer``, when the caller names many disks."""
    generation = instance["disk_generation"] + 1
    instance["disk_generation"] = generation
    instance["previous_os_disk"] = instance["os_disk"]
    name = (namer or DiskNamer(record))(int(instance["instance_id"]), generation)
    instance["os_disk"] = new_disk(name, image_version)


def fresh_data_disks(record: Record, disks: list[DataDisk], instance_id: int) -> list[DataDisk]:
    """New, empty data disks of the same layout (lun, size) for a new VM that replaces another.

    azure-behaviour-2 AR-6: a Replace keeps no data disk ("data disks kept: No"); the new VM gets its disks from
    the layout the old one had, under new names (Azure's pattern with the new instance id, a suffix from the seed).
    """
    seed = record["simulation"]["seed"]
    fresh: list[DataDisk] = []
    for disk in disks:
        digest = hashlib.sha256(f"{seed}:{record_key(record)}:{instance_id}:disk{disk['lun']}".encode()).hexdigest()
        name = f"{record['model']['name']}_{instance_id}_disk{disk['lun']}_{digest[:32]}"
        fresh.append({"lun": disk["lun"], "name": name, "disk_size_gb": disk["disk_size_gb"]})
    return fresh
