# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint as a process (what ``make serve`` runs): the JSON line, TLS with its own CA, SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import logfile
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server import ArmServer
from ansible_collections.azsim.vmss.tests.unit._arm import threaded_endpoint

MODULE = "ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server"


def _get(url: str, ca: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=10) as answer:
        return answer.status, answer.read()


def test_serve_prints_the_json_line_serves_tls_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "--port",
            "0",
            "--store",
            str(tmp_path / "s" / "vmss.sqlite"),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert set(info) >= {
            "base_url",
            "metadata_url",
            "metadata_url_single",
            "ca_cert",
            "tenant_id",
            "subscription_id",
            "client_id",
            "client_secret",
            "azure_config_dir",
            "pid",
            "env",
        }
        assert info["pid"] == process.pid and info["base_url"].startswith("https://127.0.0.1:")
        status, body = _get(info["metadata_url_single"], info["ca_cert"])
        assert status == 200 and json.loads(body)["resourceManager"] == info["base_url"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    assert info["client_secret"] not in process.stderr.read()
    port = int(info["base_url"].rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ConnectionRefusedError):  # nothing listens there any more: the port was released
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_state_is_made_once_with_private_keys(tmp_path: Path) -> None:
    store, state = tmp_path / "vmss.sqlite", tmp_path / "state"
    with threaded_endpoint(store, state) as first:
        pass
    with threaded_endpoint(store, state) as second:
        status, _body = _get(second["metadata_url"], second["ca_cert"])
    assert status == 200
    assert (first["client_secret"], first["tenant_id"]) == (second["client_secret"], second["tenant_id"])
    for name in ("ca.key", "server.key", "token.key", "identity.json"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name


def test_binds_loopback_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        ArmServer(str(tmp_path / "vmss.sqlite"), host="0.0.0.0")


def test_a_request_line_with_a_double_slash_is_served(tmp_path: Path) -> None:
    """``az cloud register --endpoint-resource-manager https://H:P/`` asks for ``//metadata/endpoints``."""
    with threaded_endpoint(tmp_path / "s" / "vmss.sqlite", tmp_path / "state") as info:
        port = int(info["base_url"].rsplit(":", 1)[1].strip("/"))
        context = ssl.create_default_context(cafile=info["ca_cert"])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(
                    b"GET //metadata/endpoints?api-version=2022-09-01 HTTP/1.1\r\n"
                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                answer = b""
                while chunk := tls.recv(65536):
                    answer += chunk
    head, _sep, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["resourceManager"] == info["base_url"]


def test_the_request_log_rotates_and_stays_private(tmp_path: Path) -> None:
    """A long-lived endpoint logs every request: the file must stay bounded, and 0600 like the daemon's log."""
    path = tmp_path / "endpoint.log"
    stop = logfile.start(str(path), max_bytes=2_000)
    try:
        log = logging.getLogger("azsim.vmss.arm")
        for number in range(200):
            log.info("GET /subscriptions/x/rollingUpgrades/latest 200 request-%03d", number)
    finally:
        stop()
    files = sorted(tmp_path.glob("endpoint.log*"))
    assert [f.name for f in files] == ["endpoint.log", *(f"endpoint.log.{n}" for n in range(1, logfile.BACKUPS + 1))]
    for file in files:
        assert file.stat().st_size <= 2_000, file
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert "request-199" in path.read_text(encoding="utf-8"), "the newest lines are in endpoint.log"


def test_the_log_writes_every_line_in_order_with_its_arguments_and_tracebacks(tmp_path: Path) -> None:
    """The writer takes lines in batches (logfile.FLUSH_S): each line as logging formats it, in the order logged,
    a traceback under its line, a mutable argument as it was when logged, all of them written by stop()."""
    path = tmp_path / "endpoint.log"
    stop = logfile.start(str(path))
    try:
        log = logging.getLogger("azsim.vmss.arm")
        changing = ["before"]
        log.info("request %s %d %s", "GET", 200, changing)
        changing[0] = "after"
        for number in range(500):
            log.info("GET /p %s request-%03d", 200, number)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("request %s: internal error", "r-1")
    finally:
        stop()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("azsim.vmss.arm request GET 200 ['before']"), lines[0]
    assert [line.rsplit(" ", 1)[-1] for line in lines[1:501]] == [f"request-{n:03d}" for n in range(500)]
    assert lines[501].endswith("request r-1: internal error") and "ValueError: boom" in lines[-1]
