# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``instance_text`` gives exactly ``Store.encode``'s text (issue 14: the stored bytes do not change when the
write-back puts an instance's text together from its parts), for the usual instance and every instance the frame
does not fit; and the load's short way (``SharedValues.load``) gives the same dicts as the long one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model.instance_text import instance_text
from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import (
    USUAL_KEYS,
    SharedValues,
    compact,
    new_disk,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store


def usual() -> dict[str, Any]:
    return {
        "data_disks": [],
        "disk_generation": 2,
        "extensions": [],
        "health": "Healthy",
        "instance_id": "17",
        "model_version": 3,
        "name": "web-000017",
        "os_disk": {"image_version": "1.1.0", "name": "web_17_OsDisk_2_5f43b082"},
        "power_state": "running",
        "previous_os_disk": {"image_version": "1.0.0", "name": "web_17_OsDisk_1_2addadca"},
        "provisioning_state": "Succeeded",
        "update_domain": 2,
        "zone": "1",
    }


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.update(values)


def _set_disk(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["os_disk"].update(values)


# Each change to the usual instance a test tries, by name.
_CHANGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "usual": lambda doc: None,
    "bool generation": _set(disk_generation=True),
    "float model version": _set(model_version=3.0),
    "bool domain": _set(update_domain=False),
    "no zone, no previous disk": _set(zone=None, previous_os_disk=None),
    "unicode and quotes": _set(name='w\u00e9b-"17"\\\n', health="H\u00ebalthy\u2603"),
    "data disks and extensions": _set(
        data_disks=[{"lun": 0, "name": "d0", "disk_size_gb": 32}],
        extensions=[{"name": "HealthExtension", "provisioning_state": "Failed"}],
    ),
    "disk with another key": _set_disk(encryption={"type": "platform"}),
    "disk missing its name": lambda doc: doc["os_disk"].pop("name"),
    "disk keys in another order": _set(os_disk=new_disk("web_17_OsDisk_2_5f43b082", "1.1.0")),
    "a key more": _set(protection_policy={"protect_from_scale_in": True}),
    "a key less": lambda doc: doc.pop("zone"),
    "name not a string": _set(name=17),
    "health not a string": _set(health=["Healthy"]),
    "state an int": _set(provisioning_state=1),
    "version an int": _set_disk(image_version=1),
}


def variant(change: str) -> dict[str, Any]:
    doc = usual()
    if change == "keys in another order":
        return {"name": doc.pop("name"), **doc}
    _CHANGES[change](doc)
    return doc


CHANGES = [
    "usual",
    "bool generation",
    "float model version",
    "bool domain",
    "no zone, no previous disk",
    "unicode and quotes",
    "data disks and extensions",
    "disk with another key",
    "disk missing its name",
    "disk keys in another order",
    "a key more",
    "a key less",
    "keys in another order",
    "name not a string",
    "health not a string",
    "state an int",
    "version an int",
]


@pytest.mark.parametrize("change", CHANGES)
def test_instance_text_is_the_stores_text(change: str) -> None:
    doc = cast(Instance, variant(change))
    expected = Store.encode(doc)
    assert instance_text(doc, Store.encode) == expected
    assert instance_text(doc, Store.encode) == expected  # again, from the kept texts of its values
    assert instance_text(compact(copy.deepcopy(doc)), Store.encode) == expected


def test_usual_instance_takes_the_frame() -> None:
    """The frame is used for the usual instance (a general encode would also give the right text, silently)."""
    calls: list[Any] = []

    def counting(value: Any) -> str:
        calls.append(value)
        return Store.encode(value)

    doc = cast(Instance, usual())
    assert tuple(doc) == USUAL_KEYS
    assert instance_text(doc, counting) == Store.encode(doc)
    assert doc not in calls


# A health that is a list is no shared value either way: no load of it to compare.
@pytest.mark.parametrize("change", [c for c in CHANGES if c != "health not a string"])
def test_load_short_way_equals_long_way(change: str) -> None:
    """SharedValues.load: the same dicts, keys in the same order, as sharing then compacting each instance."""
    doc = variant(change)
    text = json.dumps([doc, doc], sort_keys=change != "keys in another order")
    known = {"web-000017": "web-000017"}
    if change == "a key less":  # no zone: both ways fail alike (a document older than zones has none of the keys)
        with pytest.raises(KeyError):
            SharedValues().share(json.loads(text), known)
        with pytest.raises(KeyError):
            SharedValues().load(json.loads(text), known)
        return
    long_way: list[Instance] = json.loads(text)
    SharedValues().share(long_way, known)
    expected = [compact(i) for i in long_way]
    loaded = SharedValues().load(json.loads(text), known)
    assert loaded == expected
    assert [list(i) for i in loaded] == [list(i) for i in expected]
    assert [list(i["os_disk"]) for i in loaded] == [list(i["os_disk"]) for i in expected]
    # The second instance's repeated values are the first one's objects.
    if change == "usual":
        assert loaded[1]["health"] is loaded[0]["health"]
        assert loaded[1]["os_disk"]["image_version"] is loaded[0]["os_disk"]["image_version"]


TEXT_CHANGES = [
    *CHANGES,
    "escaped name",
    "control character in health",
    "shared extensions",
    "extensions with another key",
    "negative generation",
]


def stored_text(change: str) -> str:
    """The text the store keeps for ``variant(change)``; a few texts no encoder of ours writes, as another writer
    (or an older store) might have."""
    if change == "escaped name":
        return Store.encode({**usual(), "name": 'w\u00e9b-"17"'})
    if change == "control character in health":  # raw, unescaped: not JSON (the decoder refuses it)
        return Store.encode(usual()).replace('"Healthy"', '"Heal\x01thy"')
    if change == "shared extensions":
        return Store.encode({**usual(), "extensions": [{"name": "HealthExtension", "provisioning_state": "Succeeded"}]})
    if change == "extensions with another key":
        return Store.encode({**usual(), "extensions": [{"name": "A", "provisioning_state": "Succeeded", "x": 1}]})
    if change == "negative generation":
        return Store.encode({**usual(), "disk_generation": -1})
    if change == "keys in another order":
        return json.dumps(variant(change), separators=(",", ":"))
    return Store.encode(variant(change))


@pytest.mark.parametrize("change", TEXT_CHANGES)
def test_load_texts_equals_decoding_them(change: str) -> None:
    """SharedValues.load_texts: the same instances as decoding the texts and loading them (``load``), keys in the
    same order, repeated values shared, whether a text is parsed in the usual frame or decoded; and in the texts'
    order when both kinds are in one chunk."""
    text, plain = stored_text(change), Store.encode(usual())
    texts = [text, plain, text, plain]
    known = {"web-000017": "web-000017"}
    try:
        expected = SharedValues().load(json.loads("[" + ",".join(texts) + "]"), known)
    except (KeyError, TypeError, ValueError) as exc:  # a partial instance, a list for a string, not JSON
        with pytest.raises(type(exc)):
            SharedValues().load_texts(texts, known)
        return
    loaded = SharedValues().load_texts(texts, known)
    assert loaded == expected
    assert [list(i) for i in loaded] == [list(i) for i in expected]
    for field in ("os_disk", "previous_os_disk"):
        assert [list(i[field] or ()) for i in loaded] == [list(i[field] or ()) for i in expected]
    assert loaded[1]["health"] is loaded[3]["health"] and loaded[1]["extensions"] is loaded[3]["extensions"]
    if change == "shared extensions":
        assert loaded[0]["extensions"] is loaded[2]["extensions"]
    if change == "extensions with another key":  # not shared: such states are the instance's own
        assert loaded[0]["extensions"] is not loaded[2]["extensions"]
    assert [Store.encode(i) for i in loaded] == [Store.encode(json.loads(t)) for t in texts]


def test_load_texts_parses_the_usual_text_without_decoding_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual text takes the frame (decoding it would also give the right instance, silently)."""

    def refuse(_text: str) -> Any:
        raise AssertionError("decoded")

    shared = SharedValues()
    shared.load_texts([stored_text("shared extensions")], {})  # its extensions' text decoded once, then kept
    monkeypatch.setattr(json, "loads", refuse)
    shared.load_texts([Store.encode(usual()), stored_text("shared extensions")], {})
    with pytest.raises(AssertionError, match="decoded"):  # an escape: decoded
        shared.load_texts([Store.encode({**usual(), "name": "w\u00e9b"})], {})
