# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kept GET answers (_front/arm/answers.py): the bytes a read route answers, kept while the store is unchanged.

What keeping them must not change: a kept answer is the one the route would make now (status, headers, body,
the request log's virtual time); any write by anyone (the endpoint, a module's connection, another process)
drops it; a store file replaced or made unsafe is noticed as without it; a clock that moves without writes
(``scaled``) keeps nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import app as arm_app
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.answers import Answers, Kept, keep
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import ArmApp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Response, Settings
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.requestlog import RequestLog
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit._arm import (
    BASE_URL,
    RG,
    SUBSCRIPTION,
    UBUNTU,
    VMSS,
    Answer,
    WsgiClient,
    in_store,
    make_app,
    scale_set_body,
    state_files,
)

PER_REQUEST = {"x-ms-request-id", "x-ms-correlation-request-id"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


def created(client: WsgiClient, store_path: Path, capacity: int = 3) -> None:
    """The scale set ``web`` of ``capacity`` instances on image 1.0.0, created with a PUT (no automatic OS
    upgrade: nothing but the test moves it)."""
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    assert client.arm("PUT", VMSS, scale_set_body(capacity, automatic=False)).status == 201


def upgraded(client: WsgiClient, store_path: Path) -> str:
    """A scale set of 3 on 1.0.0 upgraded to 1.1.0 by osRollingUpgrade; its operation's status path."""
    created(client, store_path)
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    started = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert started.status == 202, started
    return (started.header("Azure-AsyncOperation") or "").split(BASE_URL, 1)[1]


def same(kept: Answer, made: Answer) -> bool:
    """The same answer but for the ids every request gets anew."""
    drop = {k: v for k, v in kept.headers.items() if k not in PER_REQUEST}
    return (
        kept.status == made.status
        and kept.raw == made.raw
        and drop == {k: v for k, v in made.headers.items() if k not in PER_REQUEST}
    )


def logged(client: WsgiClient) -> dict[str, Any]:
    """The request log's last entry, but for what every request gets anew."""
    entry = dict(client.app.log.entries()[-1])
    return {k: v for k, v in entry.items() if k not in ("seq", "request_id", "client_request_id")}


def get(client: WsgiClient, path: str) -> Answer:
    """A GET of a path that may already carry its query (an operation's status URL)."""
    if "api-version=" in path:
        return client.raw("GET", path, headers={"Authorization": f"Bearer {client.token()}"})
    return client.arm("GET", path)


def test_every_kept_route_answers_as_it_would_without_keeping(store_path: Path, files: StateFiles) -> None:
    """Each route marked ``kept`` answers the same bytes from the kept answer as from the store (the claim that
    its answer depends only on path, query, settings and store); the list covers every route so marked."""
    client = WsgiClient(make_app(store_path, files))
    operation = upgraded(client, store_path)
    fresh = WsgiClient(make_app(store_path, files))
    fresh.app.answers = None  # every answer made from the store
    paths = [
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachineScaleSets",
        f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets",
        VMSS,
        f"{VMSS}/virtualMachines",
        f"{VMSS}/rollingUpgrades/latest",
        f"{VMSS}/osUpgradeHistory",
        f"{VMSS}/instanceView",
        f"{VMSS}/virtualMachines/0",
        f"{VMSS}/virtualMachines/0?$expand=instanceView",
        f"{VMSS}/virtualMachines/0/instanceView",
        operation,
        operation + "&monitor=true",
    ]
    covered = set()
    for path in paths:
        made = get(client, path)
        assert made.status == 200, (path, made)
        made_entry = logged(client)
        hits = client.app.answers.hits if client.app.answers else 0
        kept = get(client, path)
        assert client.app.answers is not None and client.app.answers.hits == hits + 1, f"{path} was not kept"
        assert same(kept, made) and same(kept, get(fresh, path)), path
        assert logged(client) == made_entry == logged(fresh), path
        covered.add(arm_app._match("GET", path.split("?", 1)[0])[0])
    assert covered == {route for route in arm_app.ROUTES if route.kept}


def test_a_kept_answer_has_its_own_request_ids_and_log_entry(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    upgraded(client, store_path)
    first = client.arm("GET", f"{VMSS}/rollingUpgrades/latest", headers={"x-ms-client-request-id": "one"})
    second = client.arm("GET", f"{VMSS}/rollingUpgrades/latest", headers={"x-ms-client-request-id": "two"})
    assert first.raw == second.raw and client.app.answers is not None and client.app.answers.hits >= 1
    assert first.header("x-ms-request-id") != second.header("x-ms-request-id")
    assert (first.header("x-ms-client-request-id"), second.header("x-ms-client-request-id")) == ("one", "two")
    entries = client.app.log.entries()[-2:]
    assert [e["client_request_id"] for e in entries] == ["one", "two"]
    assert entries[0]["virtual_time"] is not None and entries[0]["virtual_time"] == entries[1]["virtual_time"]


def test_a_write_through_the_endpoint_drops_kept_answers(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    created(client, store_path, capacity=3)
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 3
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 3  # kept
    assert client.arm("PATCH", VMSS, {"sku": {"capacity": 5}}).status == 200
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 5
    assert len(client.arm("GET", f"{VMSS}/virtualMachines").json["value"]) == 5


def test_a_module_action_on_another_connection_drops_kept_answers(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    created(client, store_path, capacity=3)
    assert len(client.arm("GET", f"{VMSS}/virtualMachines").json["value"]) == 3
    assert len(client.arm("GET", f"{VMSS}/virtualMachines").json["value"]) == 3  # kept
    in_store(store_path, ensure_scale_set, resource_group="rg", name="web", instances=["a", "b", "c", "d"])
    assert len(client.arm("GET", f"{VMSS}/virtualMachines").json["value"]) == 4


def test_a_write_by_another_process_drops_kept_answers(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    created(client, store_path, capacity=3)
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 3
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 3  # kept
    module = (
        "import sys\n"
        "from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call\n"
        "from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set\n"
        "from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store\n"
        "store = Store.open(sys.argv[1])\n"
        "with store.transaction():\n"
        f"    ensure_scale_set(Call(store, {SUBSCRIPTION!r}), 'rg', 'web', instances=['a', 'b'])\n"
        "store.close()\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    subprocess.run([sys.executable, "-c", module, str(store_path)], check=True, timeout=120, env=env)
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 2


def test_moving_the_manual_clock_drops_kept_answers(store_path: Path, files: StateFiles) -> None:
    """With the manual clock a run moves only when the clock does, and moving it is a write."""
    client = WsgiClient(make_app(store_path, files, clock="manual"))
    created(client, store_path, capacity=5)
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    for dummy in range(2):
        latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
        assert latest["properties"]["runningStatus"]["code"] == "RollingForward"
    moved = client.raw("POST", "/azsim/clock", json.dumps({"advance": "PT1H"}).encode())
    assert moved.status == 200
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "Completed"


def test_the_scaled_clock_keeps_nothing(store_path: Path, files: StateFiles) -> None:
    """Time passes between two requests without a write: two GETs a wall minute apart see the run move."""
    wall = [0.0]
    Store.open(str(store_path)).close()
    app = ArmApp(Settings(str(store_path), files, BASE_URL, "scaled", 100, 60.0), wall=lambda: wall[0])
    assert app.answers is None
    client = WsgiClient(app)
    created(client, store_path, capacity=5)
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    before = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]
    wall[0] += 60.0  # an hour of virtual time
    after = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]
    assert before["runningStatus"]["code"] == "RollingForward"
    assert after["runningStatus"]["code"] == "Completed"


def test_a_kept_answer_is_not_served_from_an_unsafe_or_replaced_file(
    store_path: Path, files: StateFiles, tmp_path: Path
) -> None:
    client = WsgiClient(make_app(store_path, files))
    created(client, store_path)
    assert client.arm("GET", VMSS).status == client.arm("GET", VMSS).status == 200  # the second kept
    os.chmod(store_path, 0o666)
    refused = client.arm("GET", VMSS)
    assert refused.status == 503 and "chmod" in refused.json["error"]["message"], refused
    os.chmod(store_path, 0o600)
    assert client.arm("GET", VMSS).status == 200
    other = tmp_path / "other" / "vmss.sqlite"
    Store.open(str(other)).close()
    os.replace(other, store_path)  # another store at the path, as after a restore by file copy
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    assert client.arm("GET", VMSS).status == 404, "the new file is read, not the kept answer"


def test_a_kept_body_is_its_bytes_and_what_the_request_log_reads() -> None:
    """The decoded body is not kept (a VM list is megabytes decoded), but an operation's error is: the request log
    records its code for a kept answer as for a fresh one."""
    failed = Response(200, {"name": "op", "status": "Failed", "error": {"code": "OperationFailed", "message": "m"}})
    kept = keep(failed, "2025-01-01T00:00:00Z")
    assert kept.payload == json.dumps(failed.body).encode() and failed.payload == kept.payload
    assert kept.body == {"error": {"code": "OperationFailed", "message": "m"}}
    again = kept.response()
    log = RequestLog()
    log.add(
        method="GET",
        path="/p",
        api_version=None,
        status=again.status,
        body=again.body,
        request_id="r",
        client_request_id=None,
        virtual_time=kept.virtual_time,
    )
    assert log.entries()[0]["error_code"] == "OperationFailed"
    assert keep(Response(202, None, {"Location": "x"}), None).response() == Response(202, None, {"Location": "x"}, b"")
    assert keep(Response(200, {"value": []}), None).body == {}


def test_answers_are_bounded_and_belong_to_one_version() -> None:
    answers = Answers(size=3, max_bytes=100)

    def kept(size: int) -> Kept:
        return Kept(200, {}, (), b"x" * size, None)

    assert answers.get(1, "a") is None
    for key in "abcd":
        answers.put(1, key, kept(10))
    assert answers.get(1, "a") is None and answers.get(1, "d") is not None, "the oldest went first"
    answers.put(1, "big", kept(91))
    assert [answers.get(1, k) is not None for k in ("c", "d", "big")] == [False, False, True], "bytes bound it too"
    answers.put(1, "huge", kept(101))
    assert answers.get(1, "huge") is None, "an answer over the whole budget is not kept"
    assert answers.get(2, "big") is None, "another version drops every answer"
    answers.put(1, "late", kept(1))  # computed at version 1 by a request that started before version 2 was seen
    assert answers.get(2, "late") is None
