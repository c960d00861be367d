# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint as a daemon: what module ``arm_endpoint`` starts, finds again, and stops.

``ensure_started`` spawns ``server.py`` as a detached process (its own session, stdin from /dev/null,
stdout and stderr to ``endpoint.log`` in the state directory, which the server rotates), records its
pid in ``endpoint.pid``, and waits, bounded, until the server has written ``endpoint.json`` (its JSON
line, mode 0600) and answers over TLS with its own CA. An endpoint already running with the same settings is left alone
(``changed: false``); one with other settings is stopped and started again. A pid file whose process
is gone, or whose pid now belongs to another program (``/proc/<pid>/cmdline`` names neither the server
nor this state directory), is stale and ignored. ``ensure_stopped`` sends SIGTERM and waits for the
exit. In check mode nothing is spawned, signalled or written.

Under Ansible the collection's code is in AnsiballZ's payload zip, removed when the module exits: the
zip is copied to the state directory first, and the server runs from that copy.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import ipaddress
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import server
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import CLOCK_MODES
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.wallclock import check_scale

SERVER_MODULE = server.__name__
PID_FILE, INFO_FILE, LOG_FILE, LOCK_FILE, CODE_ZIP, PORT_FILE = (
    "endpoint.pid",
    "endpoint.json",
    "endpoint.log",
    "endpoint.lock",
    "endpoint-code.zip",
    "endpoint.port",
)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
_POLL = 0.1
# Where the server module sits below the directory (or zip) that must be on the server's PYTHONPATH.
_TAIL = os.path.join(*SERVER_MODULE.split(".")) + ".py"

# What a result shows of the endpoint (the server's JSON line), in the order of design.md's Start.
RETURNED = (
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
)


class DaemonError(Exception):
    """The endpoint could not be started or stopped; the message says why (and shows the log's tail)."""


@dataclass(frozen=True)
class Wanted:
    """The settings of the endpoint a task asks for (module options, resolved)."""

    store: str
    state_dir: str
    host: str = "127.0.0.1"
    port: int = server.DEFAULT_PORT
    clock: str = "instant"
    clock_scale: float | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    subscription_id: str | None = None
    allow_remote: bool = False


def default_state_dir(store: str) -> str:
    """``arm-endpoint/`` beside the store, as ``make serve`` uses."""
    return os.path.join(os.path.dirname(os.path.abspath(os.path.expanduser(store))), "arm-endpoint")


def resolve(wanted: Wanted) -> Wanted:
    """``wanted`` with absolute paths, checked: a ValueError names the option and what is allowed."""
    store = os.path.abspath(os.path.expanduser(wanted.store))
    state_dir = os.path.abspath(os.path.expanduser(wanted.state_dir or default_state_dir(store)))
    if not 0 <= wanted.port <= 65535:
        raise ValueError(f"port: {wanted.port} is not a TCP port; give 0 (a free one) to 65535")
    if wanted.clock not in CLOCK_MODES:
        raise ValueError(f"clock: {wanted.clock!r} is not allowed; use one of {', '.join(CLOCK_MODES)}")
    scale = wanted.clock_scale
    if wanted.clock == "scaled":
        scale = check_scale(1.0 if scale is None else scale)
    elif scale is not None:
        raise ValueError(f"clock_scale: only with clock: scaled (clock is {wanted.clock})")
    if not _loopback(wanted.host) and not wanted.allow_remote:
        raise ValueError(
            f"host: {wanted.host!r} is not a loopback address; the endpoint binds elsewhere only with "
            "allow_remote: true, as anyone who reaches it can change the store"
        )
    return Wanted(
        store,
        state_dir,
        wanted.host,
        wanted.port,
        wanted.clock,
        scale,
        wanted.tenant_id,
        wanted.client_id,
        wanted.client_secret,
        wanted.subscription_id,
        wanted.allow_remote,
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- finding a running endpoint -------------------------------------------------------------------


def _read_pid(state_dir: str) -> int | None:
    try:
        with open(os.path.join(state_dir, PID_FILE), encoding="utf-8") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that has exited: reaped now
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _ours(pid: int, state_dir: str) -> bool:
    """Whether ``pid`` is this state directory's server, not a program that reused the pid."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = [part.decode("utf-8", "replace") for part in handle.read().split(b"\0")]
    except FileNotFoundError:
        return _alive(pid) and not os.path.isdir("/proc")  # no /proc (not Linux): the pid is all there is
    except OSError:
        return False
    return SERVER_MODULE in argv and state_dir in argv


def running_pid(state_dir: str) -> tuple[int | None, bool]:
    """The pid of this state directory's live server (or None), and whether a stale pid file is there."""
    pid = _read_pid(state_dir)
    if pid is None:
        return None, os.path.exists(os.path.join(state_dir, PID_FILE))
    if _alive(pid) and _ours(pid, state_dir):
        return pid, False
    return None, True


def _read_info(state_dir: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(state_dir, INFO_FILE), encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def answers(info: dict[str, Any], timeout: float = 5.0) -> bool:
    """Whether the endpoint answers its metadata route over TLS, trusting only its own CA."""
    try:
        url = urlsplit(info["metadata_url_single"])
        context = ssl.create_default_context(cafile=info["ca_cert"])
        connection = http.client.HTTPSConnection(url.hostname or "", url.port, timeout=timeout, context=context)
        try:
            connection.request("GET", f"{url.path}?{url.query}")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    except (OSError, KeyError, ValueError, ssl.SSLError, http.client.HTTPException):
        return False


def differences(wanted: Wanted, info: dict[str, Any]) -> list[str]:
    """The options whose wanted value the running endpoint (its JSON line) does not have."""
    found = []
    if info.get("store") != wanted.store:
        found.append("store")
    if info.get("host") != wanted.host:
        found.append("host")
    port = urlsplit(str(info.get("base_url", ""))).port
    if wanted.port != 0 and port != wanted.port:
        found.append("port")
    if info.get("clock") != wanted.clock:
        found.append("clock")
    elif wanted.clock == "scaled" and info.get("clock_scale") != wanted.clock_scale:
        found.append("clock_scale")
    for name in ("tenant_id", "client_id", "client_secret", "subscription_id"):
        value = getattr(wanted, name)
        if value is not None and info.get(name) != value:
            found.append(name)
    return found


# -- starting and stopping ------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(state_dir: str) -> Iterator[None]:
    """One task at a time per state directory (parallel forks on one host start one endpoint)."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(state_dir, LOCK_FILE), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _code_path(state_dir: str) -> str:
    """What to put on the server's PYTHONPATH: the tree holding the collection, or a copy of AnsiballZ's zip."""
    here = server.__file__ or ""
    if not here.endswith(_TAIL):
        raise DaemonError(f"cannot tell where the collection's code is (server module at {here!r})")
    root = here[: -len(_TAIL)].rstrip(os.sep)
    if os.path.isdir(root):
        return root
    if os.path.isfile(root):  # a zip (AnsiballZ): it is removed when the module exits, the server outlives it
        copy = os.path.join(state_dir, CODE_ZIP)
        shutil.copyfile(root, copy + ".tmp")
        os.replace(copy + ".tmp", copy)
        return copy
    raise DaemonError(f"cannot find the collection's code at {root!r}")


def _last_port(state_dir: str) -> int | None:
    try:
        with open(os.path.join(state_dir, PORT_FILE), encoding="utf-8") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and 0 < int(text) <= 65535 else None


def _start(wanted: Wanted, timeout: float) -> dict[str, Any]:
    """Spawn the server; with port 0, on the port it had last time if that is still free.

    Clients keep the base URL they were set up with (az's registered cloud, azure-cli-core's cached
    cloud list), so a restart with other settings, or a stop and start, does not move the endpoint.
    """
    last = _last_port(wanted.state_dir) if wanted.port == 0 else None
    if last is not None:
        try:
            info = _spawn(replace(wanted, port=last), timeout)
        except DaemonError:
            info = _spawn(wanted, timeout)  # taken meanwhile: any free port
    else:
        info = _spawn(wanted, timeout)
    port = urlsplit(str(info.get("base_url", ""))).port
    with open(os.path.join(wanted.state_dir, PORT_FILE), "w", encoding="utf-8") as handle:
        handle.write(f"{port}\n")
    return info


def _command(wanted: Wanted) -> list[str]:
    command = [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--store",
        wanted.store,
        "--state-dir",
        wanted.state_dir,
        "--host",
        wanted.host,
        "--port",
        str(wanted.port),
        "--clock",
        wanted.clock,
        "--info-file",
        os.path.join(wanted.state_dir, INFO_FILE),
        # The server rotates it; stdout and stderr still go to it for what happens before logging is set up.
        "--log-file",
        os.path.join(wanted.state_dir, LOG_FILE),
    ]
    if wanted.clock_scale is not None:
        command += ["--clock-scale", repr(wanted.clock_scale)]
    for flag, value in (
        ("--tenant", wanted.tenant_id),
        ("--client-id", wanted.client_id),
        ("--subscription", wanted.subscription_id),
    ):
        if value is not None:
            command += [flag, value]
    if wanted.allow_remote:
        command.append("--allow-remote")
    return command


def log_tail(state_dir: str, lines: int = 20) -> str:
    try:
        with open(os.path.join(state_dir, LOG_FILE), encoding="utf-8", errors="replace") as handle:
            return "\n".join(handle.read().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _remove(state_dir: str, *names: str) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(state_dir, name))


def _spawn(wanted: Wanted, timeout: float) -> dict[str, Any]:
    state_dir = wanted.state_dir
    _remove(state_dir, INFO_FILE)
    env = {k: v for k, v in os.environ.items() if k != "AZSIM_ARM_CLIENT_SECRET"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_code_path(state_dir), env.get("PYTHONPATH")) if p)
    if wanted.client_secret is not None:
        env["AZSIM_ARM_CLIENT_SECRET"] = wanted.client_secret  # not on the command line: the process list shows it
    log_fd = os.open(os.path.join(state_dir, LOG_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        # run_command (what ansible-bad-function asks for) waits for the command; the endpoint must outlive the task.
        process = subprocess.Popen(  # pylint: disable=consider-using-with,ansible-bad-function
            _command(wanted),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            cwd=state_dir,
            env=env,
            close_fds=True,
            start_new_session=True,  # its own session: no terminal, no signal from the task's process group
        )
    finally:
        os.close(log_fd)
    with open(os.path.join(state_dir, PID_FILE), "w", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _remove(state_dir, PID_FILE)
            raise DaemonError(
                f"the endpoint exited at start (exit code {process.returncode}); the end of "
                f"{os.path.join(state_dir, LOG_FILE)}:\n{log_tail(state_dir)}"
            )
        info = _read_info(state_dir)
        if info is not None and info.get("pid") == process.pid and answers(info, timeout=2.0):
            return info
        time.sleep(_POLL)
    _terminate(process.pid, state_dir)
    raise DaemonError(
        f"the endpoint did not answer over TLS within {timeout:.0f} s and was stopped; the end of "
        f"{os.path.join(state_dir, LOG_FILE)}:\n{log_tail(state_dir)}"
    )


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)
    return True


def _terminate(pid: int, state_dir: str, timeout: float = STOP_TIMEOUT) -> list[str]:
    """SIGTERM (the server's clean stop), then wait; SIGKILL only if it did not exit in time."""
    warnings = []
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        warnings.append(f"the endpoint (pid {pid}) did not stop within {timeout:.0f} s of SIGTERM; it was killed")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, timeout)
    _remove(state_dir, PID_FILE, INFO_FILE)
    return warnings


def _shown(wanted: Wanted, state: str) -> dict[str, Any]:
    """What the diff shows: the state and the settings, never a secret."""
    shown = {k: v for k, v in asdict(wanted).items() if k != "client_secret"}
    shown["state"] = state
    return shown


def _result(info: dict[str, Any], wanted: Wanted) -> dict[str, Any]:
    result = {name: info.get(name) for name in RETURNED}
    state_dir = wanted.state_dir
    result.update(
        store=wanted.store,
        state_dir=state_dir,
        clock=info.get("clock"),
        clock_scale=info.get("clock_scale"),
        log_file=os.path.join(state_dir, LOG_FILE),
        pid_file=os.path.join(state_dir, PID_FILE),
    )
    return result


def ensure_started(wanted: Wanted, check_mode: bool = False, timeout: float = START_TIMEOUT) -> dict[str, Any]:
    """Start the endpoint unless it runs with these settings already; the module's result."""
    wanted = resolve(wanted)
    pid, _stale = running_pid(wanted.state_dir)
    info = _read_info(wanted.state_dir) if pid is not None else None
    if pid is not None and info is not None and info.get("pid") == pid:
        changes = differences(wanted, info)
        if not changes and answers(info):
            return {"changed": False, **_result(info, wanted)}
        reason = f"settings changed: {', '.join(changes)}" if changes else "it did not answer"
    else:
        reason = "not running"
    before = {"state": "stopped"} if pid is None else {**_shown(wanted, "started"), "pid": pid}
    if check_mode:
        return {
            "changed": True,
            "msg": f"would start the endpoint ({reason})",
            "store": wanted.store,
            "state_dir": wanted.state_dir,
            "diff": {"before": before, "after": _shown(wanted, "started")},
        }
    warnings: list[str] = []
    with _locked(wanted.state_dir):
        pid, _stale = running_pid(wanted.state_dir)
        if pid is not None:
            warnings += _terminate(pid, wanted.state_dir)
        info = _start(wanted, timeout)
    after = {**_shown(wanted, "started"), "pid": info["pid"]}
    return {
        "changed": True,
        "msg": f"started the endpoint ({reason})",
        "warnings": warnings,
        "diff": {"before": before, "after": after},
        **_result(info, wanted),
    }


def ensure_stopped(store: str, state_dir: str | None, check_mode: bool = False) -> dict[str, Any]:
    """Stop this state directory's endpoint if it runs (SIGTERM, then wait); the module's result."""
    store = os.path.abspath(os.path.expanduser(store))
    state_dir = os.path.abspath(os.path.expanduser(state_dir or default_state_dir(store)))
    pid, stale = running_pid(state_dir)
    base = {"store": store, "state_dir": state_dir}
    if pid is None:
        if stale and not check_mode:
            _remove(state_dir, PID_FILE, INFO_FILE)  # a dead endpoint's bookkeeping, not the endpoint: no change
        return {"changed": False, "pid": None, **base}
    diff = {"before": {"state": "started", "pid": pid}, "after": {"state": "stopped"}}
    if check_mode:
        return {"changed": True, "pid": pid, "diff": diff, **base}
    with _locked(state_dir):
        warnings = _terminate(pid, state_dir)
    return {"changed": True, "pid": pid, "diff": diff, "warnings": warnings, **base}
