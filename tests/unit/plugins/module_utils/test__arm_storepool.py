# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint's store connections kept across requests (_front/arm/storepool.py; issue 13 "Performance").

What keeping them must not change (docs/reliability.md): one transaction per request, a GET that never
waits for a writer, a file replaced or made unsafe between two requests is noticed at the next one, the
connections go when the server stops, and checking another opening of the store in the same process does
not drop the kept connections' locks (the test's own calls beside a threaded endpoint).
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Request
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.storepool import StorePool
from ansible_collections.azsim.vmss.plugins.module_utils._store import files
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._arm import WsgiClient, make_app, state_files, threaded_endpoint

LIVENESS_S = 60  # a GET that waited for the writer would wait out the 120 s busy timeout


@pytest.fixture
def client(tmp_path: Path) -> WsgiClient:
    return WsgiClient(make_app(tmp_path / "vmss.sqlite", state_files(tmp_path / "state")))


def clock(client: WsgiClient, method: str = "GET", advance: str | None = None) -> Any:
    body = b"" if advance is None else f'{{"advance": "{advance}"}}'.encode()
    answer = client.raw(method, "/azsim/clock", body, {"Content-Type": "application/json"} if body else None)
    return answer.status, answer.json


def test_a_get_answers_while_another_process_holds_the_write_lock(client: WsgiClient, tmp_path: Path) -> None:
    """WAL readers neither take nor wait for the write lock: a GET is a deferred (read) transaction."""
    assert clock(client, "POST", "PT1H")[0] == 200
    writer = sqlite3.connect(tmp_path / "vmss.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a module holds it through its call
    answers: list[Any] = []
    try:
        reader = threading.Thread(target=lambda: answers.append(clock(client)), daemon=True)
        reader.start()
        reader.join(LIVENESS_S)
        assert answers, "the GET waited for the write lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert answers[0][0] == 200 and answers[0][1]["now"] == "2025-01-01T01:00:00Z"


def test_a_read_that_writes_anyway_runs_again_as_a_rolled_back_write(tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    Store.open(str(path)).close()
    pool = StorePool(str(path))
    ctx = Ctx(Request("GET", "/", {}, {}, b"", "id"), make_app(path, state_files(tmp_path / "state")).settings)
    ctx.stores = pool
    tries: list[int] = []

    def action(call: Call) -> str:
        tries.append(1)
        call.store.conn.execute("INSERT INTO meta (key, value) VALUES ('scratch', 'x')")
        return "done"

    try:
        assert ctx.run("00000000-0000-0000-0000-000000000000", action, commit=False) == "done"
    finally:
        pool.close()
    assert len(tries) == 2, "refused on the reader, then run on the writer"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'scratch'").fetchone() == (0,)
    finally:
        conn.close()


def test_a_store_replaced_between_two_requests_is_opened_again(client: WsgiClient, tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    assert clock(client, "POST", "PT2H")[1]["now"] == "2025-01-01T02:00:00Z"
    other = tmp_path / "other" / "vmss.sqlite"
    Store.open(str(other)).close()
    os.replace(other, path)  # a new store at the path (as after a restore by file copy)
    for suffix in ("-wal", "-shm"):
        with_suffix = Path(f"{path}{suffix}")
        if with_suffix.exists():
            with_suffix.unlink()
    status, body = clock(client)
    assert status == 200 and body["now"] == "2025-01-01T00:00:00Z", "the new file is read, not the kept one"
    assert clock(client, "POST", "PT1H")[1]["now"] == "2025-01-01T01:00:00Z"
    assert EPOCH == 1735689600


def test_a_store_made_writable_by_others_between_two_requests_is_refused(client: WsgiClient, tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    assert clock(client, "POST", "PT1H")[0] == 200
    os.chmod(path, 0o666)
    for method, advance in (("GET", None), ("POST", "PT1H")):
        answer = client.raw(method, "/azsim/clock", b'{"advance": "PT1H"}' if advance else b"")
        assert answer.status == 503, answer
        assert "chmod" in answer.json["error"]["message"], answer
    os.chmod(path, 0o600)
    assert clock(client)[1]["now"] == "2025-01-01T01:00:00Z", "the refused POST moved nothing"


def test_stopping_the_server_closes_the_kept_connections(tmp_path: Path) -> None:
    path = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(path, tmp_path / "state") as info:
        context = ssl.create_default_context(cafile=info["ca_cert"])
        request = urllib.request.Request(info["base_url"] + "azsim/clock", data=b'{"advance": "PT1H"}', method="POST")
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(info["base_url"] + "azsim/clock", context=context, timeout=30) as answer:
            assert answer.status == 200
        key = (os.stat(path).st_dev, os.stat(path).st_ino)
        assert key in files.HELD, "the endpoint keeps its connections between requests"
    assert key not in files.HELD
    assert not Path(f"{path}-wal").exists(), "the last connection closed checkpointed and removed the -wal"


def test_opening_the_store_beside_kept_connections_keeps_their_locks(tmp_path: Path) -> None:
    """howtocorrupt §2.2: closing any descriptor of a file drops this process's POSIX locks on it. Another
    Store.open in this process (it reads the file's header) must leave the kept connections' shared lock, or
    a connection of another process that closes takes itself for the last one and removes the -wal."""
    path = tmp_path / "vmss.sqlite"
    pool = StorePool(str(path))
    try:
        with pool.write() as store:
            store.set_now(EPOCH + 60)
        with pool.read() as store:
            assert store.now() == EPOCH + 60
        Store.open(str(path)).close()  # prepare_file, check_ours and the sidecar check read the header
        other = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM meta'); c.close()"
        )
        subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
        assert Path(f"{path}-wal").exists(), "another process's last close checkpointed and removed the -wal"
        with pool.write() as store:
            store.set_now(EPOCH + 120)
        with pool.read() as store:
            assert store.now() == EPOCH + 120
    finally:
        pool.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone() == (str(EPOCH + 120),)
    finally:
        conn.close()


def _fill(store: Store, i: int) -> None:
    store.conn.execute("CREATE TABLE IF NOT EXISTS filler (k INTEGER PRIMARY KEY, v TEXT)")
    store.conn.execute("INSERT OR REPLACE INTO filler VALUES (?, ?)", (i % 20, "x" * 4000))


def _wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_log_stays_short_under_a_constant_stream_of_reads(tmp_path: Path) -> None:
    """With a read always under way SQLite's own checkpoints cannot start the log over, so every write made
    the -wal longer for as long as the endpoint ran; the pool holds new reads off for a moment and truncates
    it once it is past wal_limit."""
    path = tmp_path / "vmss.sqlite"
    Store.open(str(path)).close()
    limit = 256 * 1024
    pool = StorePool(str(path), wal_limit=limit)
    stop = threading.Event()
    reads: list[int] = []
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                with pool.read() as store:
                    store.now()
                    stop.wait(0.003)  # a read that lasts, so that two readers overlap
                reads.append(1)
        except BaseException as exc:  # pylint: disable=broad-except  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=reader, daemon=True) for _reader in range(3)]
    for thread in threads:
        thread.start()
    sizes = []
    try:
        for i in range(400):  # about 3.2 MB of log without the limit: SQLite's own checkpoint waits for 4 MB
            with pool.write() as store:
                _fill(store, i)
            sizes.append(_wal_size(path))
    finally:
        stop.set()
        for thread in threads:
            thread.join(LIVENESS_S)
        pool.close()
    assert not failures, failures
    assert reads, "the readers ran"
    one_write = 4 * 4096  # the row's pages and the table's, as frames with their headers, at most
    assert max(sizes) <= limit + one_write, f"the -wal reached {max(sizes)} bytes, past {limit}"


def test_the_log_is_not_shortened_while_another_process_reads(tmp_path: Path) -> None:
    """The checkpoint does not wait for other processes (a module's call may hold the store for long): busy, it
    is left to a later write, and the write itself answers at once."""
    path = tmp_path / "vmss.sqlite"
    Store.open(str(path)).close()
    pool = StorePool(str(path), wal_limit=0)
    holder = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN');"
        "c.execute('SELECT count(*) FROM meta').fetchall(); print('ready', flush=True); sys.stdin.readline()"
    )
    with pool.write() as store:
        _fill(store, 0)
    reader = subprocess.Popen(  # pylint: disable=consider-using-with  # closed below
        [sys.executable, "-c", holder, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        done: list[int] = []

        def write() -> None:
            with pool.write() as store:
                _fill(store, 1)
            done.append(_wal_size(path))

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(LIVENESS_S)  # a checkpoint that waited would wait out the 120 s busy timeout
        assert done and done[0] > 0, "the write answered, and the -wal the other process reads is still there"
        reader.stdin.write("\n")  # type: ignore[union-attr]  # a PIPE
        reader.stdin.close()  # type: ignore[union-attr]
        assert reader.wait(LIVENESS_S) == 0
        with pool.write() as store:
            _fill(store, 2)
        assert _wal_size(path) == 0, "with the other process gone, the next write truncated the -wal"
    finally:
        reader.kill()
        reader.wait(LIVENESS_S)
        for stream in (reader.stdin, reader.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        pool.close()
