# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An instance's stored text, put together from the texts of its parts (issue 14: the write-back of a run).

The store encodes a document with sorted keys and no spaces (``Store.encode``). An instance with exactly the usual
keys has the same text every time but for its values, and most of its values are the same few strings across a
scale set (health, power and provisioning state, zone, image versions): their texts are kept once, and the
instance's text is those texts put into the fixed frame of its keys, about 40% less work than the general encoder
sorting and encoding every key again. Any instance the frame does not fit exactly is encoded the general way, so
the text is the same either way (``tests/unit/plugins/module_utils/test__instance_text.py``).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import USUAL_KEYS
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, OsDisk

# The text of each repeated string value seen, and of None. Only strings are added: a lookup of any other value (an
# int, a bool) finds nothing and is encoded the general way. Bounded: an odd store with many distinct values only
# stops adding.
_TEXTS: dict[Any, str] = {None: "null"}
_MOST_TEXTS = 4_096


def instance_text(instance: Instance, encode: Callable[[Any], str]) -> str:
    """``encode(instance)``, the same text, for an instance with the usual keys (``USUAL_KEYS``) made faster."""
    if tuple(instance) != USUAL_KEYS:
        return encode(instance)
    generation, model_version = instance["disk_generation"], instance["model_version"]
    domain = instance["update_domain"]
    # Exactly int: a bool, a float or an int of another class (its own format) would not print as JSON does.
    if generation.__class__ is not int or model_version.__class__ is not int or domain.__class__ is not int:
        return encode(instance)
    disks, extensions = instance["data_disks"], instance["extensions"]
    known = _TEXTS.get  # a kept text is never empty: ``or`` falls back only when there is none
    try:
        health, power = instance["health"], instance["power_state"]
        provisioning, zone = instance["provisioning_state"], instance["zone"]
        return (
            f'{{"data_disks":{encode(disks) if disks else "[]"},"disk_generation":{generation},'
            f'"extensions":{encode(extensions) if extensions else "[]"},'
            f'"health":{known(health) or _text(health, encode)},'
            f'"instance_id":{encode_basestring_ascii(instance["instance_id"])},'
            f'"model_version":{model_version},"name":{encode_basestring_ascii(instance["name"])},'
            f'"os_disk":{_disk_text(instance["os_disk"], encode)},'
            f'"power_state":{known(power) or _text(power, encode)},'
            f'"previous_os_disk":{_disk_text(instance["previous_os_disk"], encode)},'
            f'"provisioning_state":{known(provisioning) or _text(provisioning, encode)},"update_domain":{domain},'
            f'"zone":{known(zone) or _text(zone, encode)}}}'
        )
    except TypeError:  # a name or id that is not a string, a value that is no key: the general way says what
        return encode(instance)


def _text(value: Any, encode: Callable[[Any], str]) -> str:
    text = _TEXTS.get(value)
    if text is None:
        text = encode(value)
        if isinstance(value, str) and len(_TEXTS) < _MOST_TEXTS:
            _TEXTS[value] = text
    return text


def _disk_text(disk: OsDisk | None, encode: Callable[[Any], str]) -> str:
    if disk is None:
        return "null"
    if len(disk) != 2 or "image_version" not in disk or "name" not in disk:
        return encode(disk)
    # Sorted keys: image_version before name, whatever order the dict holds them in.
    version = disk["image_version"]
    return (
        f'{{"image_version":{_TEXTS.get(version) or _text(version, encode)},'
        f'"name":{encode_basestring_ascii(disk["name"])}}}'
    )
