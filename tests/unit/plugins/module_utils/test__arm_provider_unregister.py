# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``POST /subscriptions/{s}/providers/{ns}/unregister`` (the spec's Providers_Unregister: 200 with the
provider), on both clocks, and what it does to the gallery opt-in (azure-behaviour §6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, in_store, make_app, state_files
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils.test__arm_routes import FEATURE, SUB, dump

COMPUTE = f"{SUB}/providers/Microsoft.Compute"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-providers-state"))


def test_unregister_ends_not_registered_and_undoes_the_gallery_opt_in(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    assert client.arm("POST", f"{FEATURE}/register").status == 200
    assert client.arm("POST", f"{COMPUTE}/register").json["registrationState"] == "Registered"
    assert in_store(store_path, lambda call: gallery_opt_in_complete(call.store, SUBSCRIPTION))
    answer = client.arm("POST", f"{COMPUTE}/unregister")
    assert answer.status == 200, answer
    assert answer.json["namespace"] == "Microsoft.Compute" and answer.json["registrationState"] == "NotRegistered"
    assert client.arm("GET", COMPUTE).json["registrationState"] == "NotRegistered"
    # azure-behaviour §6: the opt-in needs the provider registered after the feature; it no longer is.
    assert not in_store(store_path, lambda call: gallery_opt_in_complete(call.store, SUBSCRIPTION))


def test_unregister_takes_virtual_time_on_the_manual_clock(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files, clock="manual"))
    client.arm("POST", f"{COMPUTE}/register")
    assert client.raw("POST", "/azsim/clock", b'{"advance": "PT5M"}').status == 200
    assert client.arm("GET", COMPUTE).json["registrationState"] == "Registered"
    assert client.arm("POST", f"{COMPUTE}/unregister").json["registrationState"] == "Unregistering"
    assert client.raw("POST", "/azsim/clock", b'{"advance": "PT5M"}').status == 200
    assert client.arm("GET", COMPUTE).json["registrationState"] == "NotRegistered"


def test_unregister_of_a_provider_never_registered_writes_nothing(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    client.arm("GET", COMPUTE)
    before = dump(store_path)
    answer = client.arm("POST", f"{COMPUTE}/unregister")
    assert answer.status == 200 and answer.json["registrationState"] == "NotRegistered", answer
    assert dump(store_path) == before
    assert client.arm("POST", f"{SUB}/providers/not-a-namespace/unregister").status == 400
