# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the fleet holds loaded instances in memory: a million of them at once (issue 14, 1,000 x 1,000 in 1.5 GB).

All runs of a fleet move in step, so every scale set's instances are loaded together. Decoded as they are, an
instance costs about 1.3 KB; two things bring it down without changing what the engine sees (plain dicts, the same
keys and values):

- ``SharedValues``: one object for each repeated value instead of one per instance;
- ``compact``: each instance's dict shares one key table with the others (see there).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, cast

from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    DataDisk,
    ExtensionState,
    Instance,
    OsDisk,
)


class _Table:
    """Its objects' ``__dict__`` is what ``compact`` hands out (see there)."""


# CPython's key-sharing dictionaries (PEP 412): the attribute dicts of one class's objects keep one table of keys
# between them and hold only their values, about 200 bytes for an instance's 16 keys against 464 for a dict of its
# own. One object given every key an instance may have, in the sorted order of the stored text, sets that table up.
_TEMPLATE = _Table()
for _field in sorted(Instance.__annotations__):
    setattr(_TEMPLATE, _field, None)


def compact(instance: Instance) -> Instance:
    """``instance`` again, as a dict that shares its key table with the other loaded instances.

    It is an ordinary dict: a key it adds, or one out of the table's order, makes it a dict of its own, which costs
    memory, not correctness. The stored text is sorted, so loaded instances follow the table's order.
    """
    table: dict[str, Any] = _Table().__dict__
    for field, value in instance.items():
        table[field] = value
    return cast(Instance, table)


# The keys of an instance as the engine stores it today, in the stored text's (sorted) order: ``SharedValues.load``'s
# short way.
USUAL_KEYS = (
    "data_disks",
    "disk_generation",
    "extensions",
    "health",
    "instance_id",
    "model_version",
    "name",
    "os_disk",
    "power_state",
    "previous_os_disk",
    "provisioning_state",
    "update_domain",
    "zone",
)


# A stored instance text in the usual frame, as ``Store.encode`` writes it (sorted keys, no spaces): the usual keys,
# no data disks, extensions without nested lists, and strings without any escape (``\``: the encoder escapes every
# character beyond ASCII and every control character; a raw control character, which the decoder refuses, is not
# taken either), so each string's text between its quotes is its value and
# each number an integer as JSON writes it (``int`` reads it the same). The groups, in order: disk generation,
# extensions' text, health, instance id, model version, name, OS disk version and name, power state, previous disk
# version and name (None: null), provisioning state, update domain, zone (None: null).
_STRING = r'"([^"\\\x00-\x1f]*)"'
_INTEGER = r"(-?(?:0|[1-9][0-9]*))"
_DISK = r'\{"image_version":' + _STRING + r',"name":' + _STRING + r"\}"
_USUAL_TEXT_PATTERN = (
    r'\{"data_disks":\[\],"disk_generation":'
    + _INTEGER
    + r',"extensions":(\[[^\[\]]*\]),"health":'
    + _STRING
    + r',"instance_id":'
    + _STRING
    + r',"model_version":'
    + _INTEGER
    + r',"name":'
    + _STRING
    + r',"os_disk":'
    + _DISK
    + r',"power_state":'
    + _STRING
    + r',"previous_os_disk":(?:null|'
    + _DISK
    + r'),"provisioning_state":'
    + _STRING
    + r',"update_domain":'
    + _INTEGER
    + r',"zone":(?:null|'
    + _STRING
    + r")\}"
)


@functools.lru_cache(maxsize=1)
def _usual_text() -> re.Pattern[str]:
    """``_USUAL_TEXT_PATTERN`` compiled, on the first load: a module call that loads no instance does not pay it."""
    return re.compile(_USUAL_TEXT_PATTERN, re.ASCII)


class _StoredDisk:
    """Its objects' ``__dict__`` is what ``compact_disk`` hands out."""


class _NewDisk:
    """Its objects' ``__dict__`` is what ``new_disk`` hands out."""


# The same for OS disks, two per instance once a run gave it a new one (``os_disk`` and ``previous_os_disk``): about
# 100 bytes each in a shared table against 190 for a dict of its own (issue 14: 17 MB of a 100,000-instance run). Two
# tables, one per order the keys come in: a stored disk's text is sorted, a new disk is built name first (as results
# show it); a dict that left its table's order would be a dict of its own again.
_STORED_DISK = _StoredDisk()
_STORED_DISK.image_version = None  # type: ignore[attr-defined]  # the keys in the stored text's order
_STORED_DISK.name = None  # type: ignore[attr-defined]
_NEW_DISK = _NewDisk()
_NEW_DISK.name = None  # type: ignore[attr-defined]
_NEW_DISK.image_version = None  # type: ignore[attr-defined]


def compact_disk(disk: OsDisk) -> OsDisk:
    """``disk`` again (a decoded one), as a dict that shares its key table; any other key makes it ordinary."""
    table: dict[str, Any] = _StoredDisk().__dict__
    for key, value in disk.items():  # not ``update``: into an empty dict, it copies the other's own key table
        table[key] = value
    return cast(OsDisk, table)


def new_disk(name: str, image_version: str) -> OsDisk:
    """``{"name": name, "image_version": image_version}``, as a dict that shares its key table."""
    table: dict[str, Any] = _NewDisk().__dict__
    table["name"] = name
    table["image_version"] = image_version
    return cast(OsDisk, table)


class _ViewTable:
    """Its objects' ``__dict__`` is what ``view_dict`` hands out (see there)."""


# The same for the instances as results show them (scaleset.public_instance; a run's view adds ``result`` and
# ``batch``): a run's result holds a view of each of its 100,000 instances beside the loaded ones, about 250 bytes
# each in a shared table against 470 in dicts of their own (issue 14).
_VIEW_TEMPLATE = _ViewTable()
for _field in [f for f in sorted(Instance.__annotations__) if f not in ("model_version", "disk_generation")]:
    setattr(_VIEW_TEMPLATE, _field, None)
for _field in ("latest_model_applied", "protection_policy", "result", "batch"):
    setattr(_VIEW_TEMPLATE, _field, None)


def view_dict(instance: Instance) -> dict[str, Any]:
    """A copy of ``instance``, in its order, as an ordinary dict that shares its key table with other views; keys
    taken out or added later keep it ordinary (at worst a dict of its own, as ``compact``)."""
    out: dict[str, Any] = _ViewTable().__dict__
    out.update(instance)
    return out


class SharedValues:
    """One object for each repeated value of the loaded instances (issue 14: a million instances in memory).

    The decoder makes a new string for every value: each instance's image version, health, power and provisioning
    state, zone, extension names. Equal values become one string here, and equal extension lists (the same states,
    so nearly always) one list of the same dicts, as do empty data-disk lists: about a fifth less memory per
    instance. Sharing a list or a state dict is safe because nothing changes them in place: the engine replaces an
    instance's ``extensions`` and ``data_disks`` whole (extension_runs.upgrade_extensions included); should
    something change one in place, the instances sharing it would change unmarked, which the unit tests'
    verification (``VERIFY_MARKS``) reports.
    """

    def __init__(self) -> None:
        self.strings: dict[Any, Any] = {}
        self.extensions: dict[tuple[tuple[str, str], ...], list[ExtensionState]] = {}
        self.no_disks: list[DataDisk] = []
        self.no_extensions: list[ExtensionState] = []
        # ``load_texts``: the shared list of each extensions' text seen.
        self._extension_texts: dict[str, list[ExtensionState]] = {"[]": self.no_extensions}

    def load_texts(self, texts: list[str], known: dict[str, str]) -> list[Instance]:
        """``load`` of the decoded ``texts`` (stored instance texts), the same dicts: a text in the usual frame
        (``_USUAL_TEXT_PATTERN``) is read straight into its compact dict with its values shared, without decoding
        it into a dict first; the others are decoded together, as one array, and go through ``load`` (issue 14: the
        load was a sixth of a 100,000-instance run)."""
        same = self.strings.setdefault
        match = _usual_text().fullmatch
        extension_lists = self._extension_texts
        out: list[Instance | None] = []
        append = out.append
        others: list[int] = []
        for text in texts:
            found = match(text)
            if found is None:
                others.append(len(out))
                append(None)
                continue
            (
                generation,
                extensions,
                health,
                iid,
                model_version,
                name,
                version,
                disk_name,
                power,
                previous_version,
                previous_name,
                provisioning,
                domain,
                zone,
            ) = found.groups()
            states = extension_lists.get(extensions)
            if states is None:
                states = self.extension_states(json.loads(extensions))
                if any(states is shared for shared in self.extensions.values()):
                    extension_lists[extensions] = states  # a shared list: the same for every text that has it
            # The keys in USUAL_KEYS's order, the order of the template's table; the disks' in the stored order.
            table: dict[str, Any] = _Table().__dict__
            table["data_disks"] = self.no_disks
            table["disk_generation"] = int(generation)
            table["extensions"] = states
            table["health"] = same(health, health)
            table["instance_id"] = iid
            table["model_version"] = int(model_version)
            table["name"] = known.get(name, name)
            disk: dict[str, Any] = _StoredDisk().__dict__
            disk["image_version"] = same(version, version)
            disk["name"] = disk_name
            table["os_disk"] = disk
            table["power_state"] = same(power, power)
            if previous_version is None:
                table["previous_os_disk"] = None
            else:
                previous: dict[str, Any] = _StoredDisk().__dict__
                previous["image_version"] = same(previous_version, previous_version)
                previous["name"] = previous_name
                table["previous_os_disk"] = previous
            table["provisioning_state"] = same(provisioning, provisioning)
            table["update_domain"] = int(domain)
            table["zone"] = None if zone is None else same(zone, zone)
            append(cast(Instance, table))
        if others:
            decoded: list[Instance] = json.loads("[" + ",".join([texts[at] for at in others]) + "]")
            for at, instance in zip(others, self.load(decoded, known)):
                out[at] = instance
        return cast(list[Instance], out)

    def load(self, decoded: list[Instance], known: dict[str, str]) -> list[Instance]:
        """``decoded`` (a chunk of a load) shared (``share``) and compacted (``compact``), in one pass: an instance
        with exactly the usual keys, in the stored text's order, is built straight into its compact dict with its
        values shared, instead of writing each shared value into the decoded dict and then copying it (issue 14: the
        load of a 100,000-instance run). Any other instance goes the long way; both give the same dicts."""
        same = self.strings.setdefault
        share_disk = self.shared_disk
        out: list[Instance] = []
        append = out.append
        for d in decoded:
            if tuple(d) != USUAL_KEYS:
                self.share([d], known)
                append(compact(d))
                continue
            name, disk, previous = d["name"], d["os_disk"], d["previous_os_disk"]
            health, power, provisioning, zone = d["health"], d["power_state"], d["provisioning_state"], d["zone"]
            try:
                disk = share_disk(disk)
            except KeyError:  # a disk without its version: the long way, which shares what there is
                self.share([d], known)
                append(compact(d))
                continue
            if previous is not None:
                previous = share_disk(previous)
            # The keys in USUAL_KEYS's order, the order of the template's table.
            table: dict[str, Any] = _Table().__dict__
            table["data_disks"] = d["data_disks"] or self.no_disks
            table["disk_generation"] = d["disk_generation"]
            extensions = d["extensions"]
            table["extensions"] = self.extension_states(extensions) if extensions else self.no_extensions
            table["health"] = same(health, health)
            table["instance_id"] = d["instance_id"]
            table["model_version"] = d["model_version"]
            table["name"] = known.get(name, name) if isinstance(name, str) else name
            table["os_disk"] = disk
            table["power_state"] = same(power, power)
            table["previous_os_disk"] = previous
            table["provisioning_state"] = same(provisioning, provisioning)
            table["update_domain"] = d["update_domain"]
            table["zone"] = zone if zone is None else same(zone, zone)
            append(cast(Instance, table))
        return out

    def shared_disk(self, disk: OsDisk) -> OsDisk:
        """``compact_disk(disk)`` with its image version shared; KeyError when it has none."""
        version = disk["image_version"]
        table: dict[str, Any] = _StoredDisk().__dict__
        for key, value in disk.items():  # as compact_disk: the disk's own order
            table[key] = value
        table["image_version"] = self.strings.setdefault(version, version)
        return cast(OsDisk, table)

    def share(self, instances: list[Instance], known: dict[str, str]) -> None:
        """Share the repeated values of ``instances`` in place; ``known`` maps each name to the string the
        instance's name becomes (``known_names``: the record's own), made once for all the chunks of a load."""
        same = self.strings.setdefault
        for instance in instances:
            name = instance.get("name")
            if isinstance(name, str):
                instance["name"] = known.get(name, name)
            try:
                health, power, provisioning = (
                    instance["health"],
                    instance["power_state"],
                    instance["provisioning_state"],
                )
                disk, previous, extensions = instance["os_disk"], instance["previous_os_disk"], instance["extensions"]
                instance["health"], instance["power_state"] = same(health, health), same(power, power)
                instance["provisioning_state"] = same(provisioning, provisioning)
                version = disk["image_version"]
                disk["image_version"] = same(version, version)
                instance["os_disk"] = compact_disk(disk)
            except KeyError:  # a partial document (an older store, a test's): only the keys it has
                self.share_partial(cast(dict[str, Any], instance))
                continue
            zone = instance["zone"]
            if zone is not None:
                instance["zone"] = same(zone, zone)
            if previous is not None:
                version = previous["image_version"]
                previous["image_version"] = same(version, version)
                instance["previous_os_disk"] = compact_disk(previous)
            if not instance["data_disks"]:
                instance["data_disks"] = self.no_disks
            instance["extensions"] = self.extension_states(extensions)

    @staticmethod
    def known_names(names: dict[str, int]) -> dict[str, str]:
        """For ``share``: ``names`` is the record's ``instance_ids``, whose keys (each instance's name, decoded
        with the record) the instances' names become."""
        return {name: name for name in names}

    def extension_states(self, states: list[ExtensionState]) -> list[ExtensionState]:
        """The one list of equal states; ``states`` itself when one has keys other than ExtensionState's."""
        if not states:
            return self.no_extensions
        if any(len(e) != 2 for e in states):
            return states
        key = tuple((e["name"], e["provisioning_state"]) for e in states)
        shared = self.extensions.get(key)
        if shared is None:
            same = self.strings.setdefault
            shared = self.extensions[key] = [
                {"name": same(name, name), "provisioning_state": same(state, state)} for name, state in key
            ]
        return shared

    def share_partial(self, i: dict[str, Any]) -> None:
        same = self.strings.setdefault
        for field in ("health", "power_state", "provisioning_state", "zone"):
            value = i.get(field)
            if isinstance(value, str):
                i[field] = same(value, value)
        for field in ("os_disk", "previous_os_disk"):
            disk = i.get(field)
            if isinstance(disk, dict) and isinstance(disk.get("image_version"), str):
                disk["image_version"] = same(disk["image_version"], disk["image_version"])
        if isinstance(i.get("extensions"), list):
            i["extensions"] = self.extension_states(i["extensions"])
