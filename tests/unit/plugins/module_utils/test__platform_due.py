# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the platform asks before it schedules a run (azure-behaviour §4), answered without decoding a fleet.

Issue 14: publishing an image asks every scale set with automatic OS upgrade what ``latest`` now is and
whether an instance is behind it. The catalogue's answer is kept for the transaction (until it publishes),
and "is an instance behind" is asked in SQL when the call has not loaded the scale set's instances. Both
must answer what the Python rules answer: ``catalogue.latest_available`` without the cache, and
``is_protected_from_scale_set_actions`` with the instances' image versions (azure-behaviour-2 IP-6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import is_protected_from_scale_set_actions
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import KEY, Sim, sim  # noqa: F401 pylint: disable=unused-import

IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-LTS"}
# Every way an instance's protection can be stored (IP-1: never set means unprotected), with either version.
PROTECTIONS: list[Any] = [
    None,
    {},
    {"protectFromScaleIn": True, "protectFromScaleSetActions": False},
    {"protectFromScaleIn": True},
    {"protectFromScaleSetActions": True},
    {"protectFromScaleIn": True, "protectFromScaleSetActions": True},
]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(str(tmp_path / "vmss.sqlite"))
    yield opened
    opened.close()


def _publish(store: Store, version: str, location: str, present: bool) -> None:
    catalogue.publish_platform(store, IMAGE["publisher"], IMAGE["offer"], IMAGE["sku"], version, location, present)


def _instance(number: int, version: str, protection: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"instance_id": str(number), "os_disk": {"image_version": version}}
    if protection != "missing":
        doc["protection_policy"] = protection
    return doc


@pytest.mark.parametrize("behind", [*PROTECTIONS, "missing"], ids=repr)
@pytest.mark.parametrize("loaded", [False, True], ids=["sql", "loaded"])
def test_an_instance_behind_is_found_as_the_rule_finds_it_azure_behaviour_2_ip_6(
    store: Store, behind: Any, loaded: bool
) -> None:
    """One instance on 1.0.0 with ``behind``'s protection, the others on 1.1.0 (unprotected and protected)."""
    docs = [
        _instance(0, "1.0.0", behind),
        _instance(1, "1.1.0", None),
        _instance(2, "1.1.0", {"protectFromScaleIn": 1}),
    ]
    with store.transaction():
        store.put_docs("instances", [({"scale_set": "k", "instance_id": int(d["instance_id"])}, d) for d in docs])
    with store.transaction(commit=False):
        fleet = fleet_of(store)
        if loaded:
            fleet.instances("k")
        for version in ("1.0.0", "1.1.0", "2.0.0"):
            wanted = any(
                i["os_disk"]["image_version"] != version and not is_protected_from_scale_set_actions(i) for i in docs
            )
            assert fleet.any_instance_behind("k", version) is wanted, version
        assert fleet.any_instance_behind("other", "1.0.0") is False  # no instances: none behind


def test_the_call_s_own_changes_count_when_it_loaded_the_instances(store: Store) -> None:
    with store.transaction():
        store.put_docs("instances", [({"scale_set": "k", "instance_id": 0}, _instance(0, "1.0.0", None))])
    with store.transaction(commit=False):
        fleet = fleet_of(store)
        assert fleet.any_instance_behind("k", "1.1.0")
        fleet.instances("k")[0]["os_disk"]["image_version"] = "1.1.0"  # reimaged in this call, not written yet
        assert not fleet.any_instance_behind("k", "1.1.0")
        assert scaleset.any_instance_behind(store, "k", "1.1.0")  # what is stored is still behind


def test_latest_is_kept_for_the_transaction_until_it_publishes_azure_behaviour_4(store: Store) -> None:
    reference = {**IMAGE, "version": "latest"}
    with store.transaction():
        assert catalogue.latest_available(store, reference, "eastus") is None
        _publish(store, "1.0.0", "eastus", True)
        assert catalogue.latest_available(store, reference, "eastus") == ("1.0.0", store.now())
        assert catalogue.latest_available(store, reference, "westus") is None
        _publish(store, "1.1.0", "eastus", True)
        assert catalogue.latest_available(store, reference, "East US") == ("1.1.0", store.now())
        _publish(store, "1.1.0", "eastus", False)
        assert catalogue.latest_available(store, reference, "eastus") == ("1.0.0", store.now())
    with store.transaction():
        # Another process may publish between two calls: nothing is kept from one call to the next.
        store.conn.execute("DELETE FROM images")
        assert catalogue.latest_available(store, reference, "eastus") is None


def test_a_platform_run_stays_unscheduled_when_publishing_finds_only_protected_instances_behind_azure_behaviour_2_ip_6(
    sim: Sim,
) -> None:
    """The publish call never loads the instances: it asks SQL, which must skip the protected ones too."""
    sim.vmss(names=[{"name": "w0", "protection": {"from_scale_set_actions": True}}, "w1"])
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.start()  # a user's run takes w1 to 1.1.0 before the platform tries that version
    assert sim.instances()["w1"]["os_disk"]["image_version"] == "1.1.0"
    assert sim.instances()["w0"]["os_disk"]["image_version"] == "1.0.0"
    assert sim.pending_platform_start() is None
    sim.publish("1.1.0", location="westus")  # the catalogue changed: every scale set is asked again
    assert sim.pending_platform_start() is None
    sim.publish("1.2.0")
    assert sim.pending_platform_start() is not None


def test_whether_the_newest_run_is_active_is_answered_without_decoding_it(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The platforms ask it of every scale set a new image reaches (azure-behaviour §4: one run at a time); a
    finished run of a large scale set is a document nothing else in the call reads."""
    sim.vmss(4)
    sim.publish("1.1.0")
    sim.start(wait=False)  # run 1, still rolling forward
    decoded: list[str] = []

    def count(self: Store, table: str, where: dict[str, Any]) -> Any:
        decoded.append(table)
        return get_doc(self, table, where)

    get_doc = Store.get_doc
    monkeypatch.setattr(Store, "get_doc", count)

    def ask(change: bool = False) -> bool:
        with sim.store.transaction(commit=False):
            fleet = fleet_of(sim.store)
            if change:  # loaded and changed in this call, not stored yet: the call's own state counts
                run = fleet.latest_run(KEY)
                assert run is not None
                run["status"] = "Completed"
            return fleet.latest_run_active(KEY)

    assert ask() is True and "runs" not in decoded
    assert ask(change=True) is False and "runs" in decoded
    sim.advance("PT1H")
    decoded.clear()
    assert ask() is False and "runs" not in decoded
    with sim.store.transaction(commit=False):
        assert fleet_of(sim.store).latest_run_active("no-such-key") is False  # no run at all
