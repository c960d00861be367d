# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module arm_endpoint (design.md, "Azure endpoint", Start): the endpoint as a daemon, run through main().

Each test starts real server processes (port 0, a temporary store and state directory) and stops them
in a ``finally``; hence ``system``.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import daemon
from ansible_collections.azsim.vmss.plugins.modules import arm_endpoint
from ansible_collections.azsim.vmss.tests.unit._harness import run, run_printed

pytestmark = pytest.mark.system


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    paths = {"store": str(tmp_path / "s" / "vmss.sqlite"), "state_dir": str(tmp_path / "state")}
    try:
        yield paths
    finally:
        pid, _stale = daemon.running_pid(paths["state_dir"])
        if pid is not None:
            daemon.ensure_stopped(paths["store"], paths["state_dir"])


def endpoint(where: dict[str, str], **args: Any) -> dict[str, Any]:
    rc, result = run(arm_endpoint, {**where, "port": 0, "_ansible_diff": True, **args})
    assert rc == 0, result
    return result


def metadata(result: dict[str, Any]) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=result["ca_cert"])
    with urllib.request.urlopen(result["metadata_url_single"], context=context, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def alive(pid: int) -> bool:
    return daemon._alive(pid)


def test_check_mode_then_start_then_the_same_again(where: dict[str, str]) -> None:
    checked = endpoint(where, _ansible_check_mode=True)
    assert checked["changed"] is True and checked["diff"]["before"] == {"state": "stopped"}
    assert not os.path.exists(where["state_dir"]) and not os.path.exists(where["store"]), "check mode wrote"

    started = endpoint(where)
    assert started["changed"] is True and alive(started["pid"])
    assert metadata(started)["resourceManager"] == started["base_url"]
    assert set(started) >= set(daemon.RETURNED)
    assert started["env"]["REQUESTS_CA_BUNDLE"] == started["ca_cert"]
    assert started["env"]["AZURE_CONFIG_DIR"] == started["azure_config_dir"]
    with open(started["pid_file"], encoding="utf-8") as handle:
        assert int(handle.read()) == started["pid"]

    again = endpoint(where)
    assert again["changed"] is False and again["pid"] == started["pid"] and "diff" not in again
    assert again["client_secret"] == started["client_secret"]
    checked_again = endpoint(where, _ansible_check_mode=True)
    assert checked_again["changed"] is False

    log = Path(started["log_file"]).read_text()
    assert "GET /metadata/endpoints 200" in log
    assert started["client_secret"] not in log, "the secret is never logged"


def test_other_settings_restart_it_and_stop_stops_it(where: dict[str, str]) -> None:
    started = endpoint(where)
    manual = endpoint(where, clock="manual")
    assert manual["changed"] is True and manual["clock"] == "manual" and manual["pid"] != started["pid"]
    assert "settings changed: clock" in manual["msg"]
    assert not alive(started["pid"])
    scaled = endpoint(where, clock="scaled", clock_scale=60)
    assert scaled["changed"] is True and scaled["clock_scale"] == 60.0
    assert endpoint(where, clock="scaled", clock_scale=60)["changed"] is False

    checked = endpoint(where, state="stopped", _ansible_check_mode=True)
    assert checked["changed"] is True and alive(scaled["pid"]), "check mode stopped it"
    stopped = endpoint(where, state="stopped")
    assert stopped["changed"] is True and stopped["pid"] == scaled["pid"] and not stopped.get("warnings")
    assert not alive(scaled["pid"]), "SIGTERM stopped it (no SIGKILL warning)"
    assert not os.path.exists(scaled["pid_file"])
    port = int(scaled["base_url"].rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ConnectionRefusedError):  # the port was released
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert endpoint(where, state="stopped")["changed"] is False


def test_a_stale_pid_file_of_a_dead_process_is_ignored(where: dict[str, str]) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    os.makedirs(where["state_dir"])
    pid_file = Path(where["state_dir"]) / daemon.PID_FILE
    pid_file.write_text(gone.stdout)
    assert endpoint(where, state="stopped")["changed"] is False
    assert not pid_file.exists(), "the stale pid file was removed"
    pid_file.write_text(gone.stdout)
    started = endpoint(where)
    assert started["changed"] is True and started["pid"] != int(gone.stdout) and alive(started["pid"])


def test_a_pid_reused_by_another_program_is_not_signalled(where: dict[str, str]) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.makedirs(where["state_dir"])
        (Path(where["state_dir"]) / daemon.PID_FILE).write_text(f"{other.pid}\n")
        assert endpoint(where, state="stopped")["changed"] is False
        started = endpoint(where)
        assert started["changed"] is True and started["pid"] != other.pid
        assert other.poll() is None, "another program's process was signalled"
    finally:
        other.kill()
        other.wait()


def test_a_given_secret_is_masked_in_the_result_and_kept_off_the_command_line(where: dict[str, str]) -> None:
    secret = "s3cret-given-by-the-user"
    rc, result, printed = run_printed(arm_endpoint, {**where, "port": 0, "client_secret": secret})
    assert rc == 0, result
    assert secret not in printed
    # ansible-core's masking of a value given to a no_log option (the whole value is replaced by this marker).
    assert result["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["env"]["AZURE_SECRET"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert secret not in Path(f"/proc/{result['pid']}/cmdline").read_bytes().decode()
    identity = json.loads((Path(where["state_dir"]) / "identity.json").read_text())
    assert identity["client_secret"] == secret  # the endpoint checks this one (AADSTS7000215 otherwise)


def test_refusals_name_the_option_and_write_nothing(where: dict[str, str]) -> None:
    for args, option in (
        ({"host": "10.1.2.3"}, "host"),
        ({"clock_scale": 5.0}, "clock_scale"),
        ({"clock": "scaled", "clock_scale": 0.0}, "clock_scale"),
        ({"port": 70000}, "port"),
    ):
        rc, result = run(arm_endpoint, {**where, **args})
        assert rc == 1 and result["msg"].startswith(f"{option}:"), result
        assert not os.path.exists(where["state_dir"])


def test_a_port_in_use_fails_with_the_log_tail(where: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        rc, result = run(arm_endpoint, {**where, "port": busy.getsockname()[1]})
    assert rc == 1 and "exited at start" in result["msg"] and "Address already in use" in result["msg"], result
    assert not (Path(where["state_dir"]) / daemon.PID_FILE).exists()


def test_an_endpoint_that_does_not_answer_in_time_is_stopped_and_the_log_shown(where: dict[str, str]) -> None:
    wanted = daemon.Wanted(store=where["store"], state_dir=where["state_dir"], port=0)
    with pytest.raises(daemon.DaemonError, match=r"did not answer over TLS within 0 s and was stopped; the end of"):
        daemon.ensure_started(wanted, timeout=0.0)
    assert daemon.running_pid(where["state_dir"]) == (None, False), "no pid file is left"


def test_port_0_keeps_the_port_it_had_so_clients_stay_set_up(where: dict[str, str]) -> None:
    """az's registered cloud and azure-cli-core's cached cloud list name the base URL (research §2.3)."""
    started = endpoint(where)
    restarted = endpoint(where, clock="manual")
    assert restarted["changed"] is True and restarted["base_url"] == started["base_url"]
    endpoint(where, state="stopped")
    again = endpoint(where, clock="manual")
    assert again["base_url"] == started["base_url"]


def test_a_cached_cloud_list_naming_another_port_is_removed_at_start(where: dict[str, str]) -> None:
    cache = Path(where["state_dir"]) / "azure-config" / "cloudEndpoints.json"
    cache.parent.mkdir(parents=True)
    cache.write_text('[{"name": "azsim", "endpoints": {"resource_manager": "https://127.0.0.1:1/"}}]')
    started = endpoint(where)
    assert not cache.exists(), "a stale cache would make azcollection fail after the endpoint moved"
    cache.write_text(json.dumps([{"name": "azsim", "endpoints": {"resource_manager": started["base_url"]}}]))
    endpoint(where, clock="manual")  # a restart on the same port keeps a cache that is right
    assert cache.exists()
