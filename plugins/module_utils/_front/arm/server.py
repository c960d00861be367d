# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint served over HTTPS by cheroot: start, describe (the JSON line), stop; ``make serve``.

``ArmServer`` binds (port 0 picks a free one), serves on a thread pool, and stops cleanly: in a thread
for tests (like moto's ``ThreadedMotoServer``), in the foreground for ``make serve``, where SIGTERM and
SIGINT stop it and release the port. It binds loopback unless told ``allow_remote``. The client secret
is printed once, in the JSON line the caller asked for; it and the token key are never logged.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import signal
import sys
import threading
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import logfile
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import ArmApp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import CLOCK_MODES, ClockMode, Settings
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import prepare
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.wallclock import check_scale
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store, default_path

DEFAULT_PORT = 8443
THREADS = 16
# cheroot keeps at most 10 idle keep-alive connections by default (closing the others after each answer) and
# listens with a backlog of 5: 32 clients then reconnect after nearly every request, and a SYN the full backlog
# drops waits 1 s to be retried. bench/arm_endpoint.py measured it on a handler that does nothing: p99 ~1 s
# and ~800 requests/s with cheroot's defaults, p99 < 40 ms and ~3,000 requests/s with these.
KEEP_ALIVE_CONNECTIONS = 256
LISTEN_BACKLOG = 128


# ``az cloud register --endpoint-resource-manager https://H:P/`` asks for ``//metadata/endpoints`` (it appends
# the path to the URL's trailing slash). cheroot reads a target starting with ``//`` as an absolute URI (a
# host named "metadata") and refuses it with 400 before the application sees it: the extra slashes of the
# request line are collapsed first, as ARM does.
_LEADING_SLASHES = re.compile(rb"^([A-Za-z]+ )/{2,}")


class _FirstLineFixed:
    """A read file whose request lines have one leading slash; everything else passes through."""

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile

    def readline(self, *args: Any) -> bytes:
        return _LEADING_SLASHES.sub(rb"\1/", self._rfile.readline(*args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rfile, name)


def _connection_class() -> Any:
    from cheroot import server as cheroot_server  # pylint: disable=import-outside-toplevel

    class Request(cheroot_server.HTTPRequest):
        def read_request_line(self) -> Any:
            rfile = self.rfile
            self.rfile = _FirstLineFixed(rfile)
            try:
                return super().read_request_line()  # type: ignore[no-untyped-call]
            finally:
                self.rfile = rfile

    class Connection(cheroot_server.HTTPConnection):
        RequestHandlerClass = Request

    return Connection


# azure-cli-core caches the cloud list of ARM_CLOUD_METADATA_URL in AZURE_CONFIG_DIR and never fetches it
# again (arm-endpoint-research §2.3, "the cache trap"): after the endpoint moves to another port, azcollection
# would fail with "'StopIteration' object has no attribute 'message'". The config dir is this endpoint's own.
CLOUD_CACHE = "cloudEndpoints.json"


def forget_stale_cloud_cache(azure_config_dir: str, base_url: str) -> bool:
    """Remove azure-cli-core's cached cloud list if it names another base URL than ``base_url``."""
    path = os.path.join(azure_config_dir, CLOUD_CACHE)
    try:
        with open(path, encoding="utf-8") as handle:
            cached = handle.read()
    except OSError:
        return False
    if base_url in cached:
        return False
    os.unlink(path)
    return True


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ArmServer:
    """One endpoint: its state files, store and TLS server."""

    def __init__(
        self,
        store_path: str,
        state_dir: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        clock: ClockMode = "instant",
        clock_scale: float = 1.0,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        subscription_id: str | None = None,
        page_size: int = 100,
        threads: int = THREADS,
        allow_remote: bool = False,
    ) -> None:
        if not _loopback(host) and not allow_remote:
            raise ValueError(
                f"host {host!r} is not a loopback address; the endpoint binds elsewhere only with "
                "allow_remote (--allow-remote), as anyone who reaches it can change the store"
            )
        if clock not in CLOCK_MODES:
            raise ValueError(f"clock {clock!r}: use one of {', '.join(CLOCK_MODES)}")
        self.clock_scale = check_scale(clock_scale)
        self.store_path = os.path.abspath(os.path.expanduser(store_path))
        self.state_dir = state_dir or os.path.join(os.path.dirname(self.store_path), "arm-endpoint")
        self.host, self.port, self.clock, self.page_size = host, port, clock, page_size
        self.files = prepare(
            self.state_dir,
            host,
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            subscription_id=subscription_id,
        )
        Store.open(self.store_path).close()  # a store that cannot be used fails now, not on the first request
        self.app = ArmApp(self._settings(port))
        self._threads = threads
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _settings(self, port: int) -> Settings:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        return Settings(
            self.store_path, self.files, f"https://{shown}:{port}", self.clock, self.page_size, self.clock_scale
        )

    def bind(self) -> None:
        """Listen (TLS) on host and port; afterwards ``port`` is the real one."""
        from cheroot import wsgi  # pylint: disable=import-outside-toplevel  # only the endpoint needs cheroot
        from cheroot.ssl.builtin import BuiltinSSLAdapter  # pylint: disable=import-outside-toplevel

        server = wsgi.Server(
            (self.host, self.port),
            self.app,
            numthreads=self._threads,
            server_name="azsim-arm",
            request_queue_size=LISTEN_BACKLOG,
        )
        server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
        server.ConnectionClass = _connection_class()
        server.ssl_adapter = BuiltinSSLAdapter(self.files.server_cert, self.files.server_key)
        server.prepare()
        self.port = int(server.bind_addr[1])
        self.app.settings = self._settings(self.port)
        self._server = server
        forget_stale_cloud_cache(self.files.azure_config_dir, self.app.settings.base_url + "/")

    def info(self) -> dict[str, Any]:
        """What clients need (design.md, "Azure endpoint"): URLs, CA, identity and the env block."""
        base = self.app.settings.base_url + "/"
        identity = self.files.identity
        metadata = f"{base}metadata/endpoints?api-version=2019-05-01"
        env = {
            "REQUESTS_CA_BUNDLE": self.files.ca_cert,
            "SSL_CERT_FILE": self.files.ca_cert,
            "ARM_CLOUD_METADATA_URL": metadata,
            "AZURE_CONFIG_DIR": self.files.azure_config_dir,
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
            "AZURE_CLOUD_ENVIRONMENT": base,
            "AZURE_SUBSCRIPTION_ID": identity.subscription_id,
            "AZURE_TENANT": identity.tenant_id,
            "AZURE_CLIENT_ID": identity.client_id,
            "AZURE_SECRET": identity.client_secret,
        }
        return {
            "base_url": base,
            "metadata_url": metadata,
            "metadata_url_single": f"{base}metadata/endpoints?api-version=2022-09-01",
            "ca_cert": self.files.ca_cert,
            "tenant_id": identity.tenant_id,
            "subscription_id": identity.subscription_id,
            "client_id": identity.client_id,
            "client_secret": identity.client_secret,
            "azure_config_dir": self.files.azure_config_dir,
            "store": self.store_path,
            "state_dir": self.files.state_dir,
            "clock": self.clock,
            "clock_scale": self.clock_scale if self.clock == "scaled" else None,
            "host": self.host,
            "pid": os.getpid(),
            "env": env,
        }

    def serve(self) -> None:
        """Serve until ``stop``; binds first if needed."""
        if self._server is None:
            self.bind()
        self._server.serve()

    def start(self) -> dict[str, Any]:
        """Bind, serve on a background thread, and return ``info()`` (the pytest fixture's way)."""
        self.bind()
        self._thread = threading.Thread(target=self._server.serve, name="azsim-arm", daemon=True)
        self._thread.start()
        return self.info()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.app.close()


def write_private_json(path: str, doc: dict[str, Any]) -> None:
    """Write ``doc`` as JSON, readable by its owner only (it holds the client secret), replacing atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(doc, sort_keys=True).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _forget(info_file: str, pid: int) -> None:
    """Remove the info file on a clean stop, unless a newer server has written its own there meanwhile."""
    try:
        with open(info_file, encoding="utf-8") as handle:
            if json.load(handle).get("pid") == pid:
                os.unlink(info_file)
    except (OSError, ValueError):
        pass


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="azsim-arm", description="Serve the azsim.vmss Azure Resource Manager endpoint."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--store", default=None, help="the store (default: as every module)")
    parser.add_argument("--state-dir", default=None, help="CA, certificate, keys (default: beside the store)")
    parser.add_argument("--clock", choices=CLOCK_MODES, default="instant")
    parser.add_argument(
        "--clock-scale", type=float, default=1.0, help="with --clock scaled: virtual seconds per wall second"
    )
    parser.add_argument("--tenant", default=None)
    parser.add_argument("--subscription", default=None)
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--client-secret", default=None, help="better: AZSIM_ARM_CLIENT_SECRET in the environment")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--allow-remote", action="store_true")
    parser.add_argument(
        "--info-file",
        default=None,
        help="write the JSON line to this file (mode 0600) instead of stdout, which then holds no secret "
        "(the arm_endpoint module's daemon)",
    )
    parser.add_argument(
        "--log-file",
        default=None,
        help=f"log requests to this file, rotated at {logfile.MAX_BYTES // 2**20} MiB (default: stderr, unrotated)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """``make serve``: one JSON line on stdout, then serve until SIGTERM or SIGINT."""
    args = _arguments(argv)
    stop_logging = logfile.start(args.log_file)
    try:
        return _serve(args)
    finally:
        stop_logging()


def _serve(args: argparse.Namespace) -> int:
    try:
        server = ArmServer(
            args.store or default_path(),
            args.state_dir,
            host=args.host,
            port=args.port,
            clock=args.clock,
            clock_scale=args.clock_scale,
            tenant_id=args.tenant,
            client_id=args.client_id,
            client_secret=args.client_secret or os.environ.get("AZSIM_ARM_CLIENT_SECRET"),
            subscription_id=args.subscription,
            page_size=args.page_size,
            allow_remote=args.allow_remote,
        )
        server.bind()
    except (ValueError, OSError, AzsimError) as exc:
        sys.stderr.write(f"azsim-arm: {exc}\n")
        return 2
    stopping = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve, name="azsim-arm", daemon=True)
    thread.start()
    info = server.info()
    if args.info_file:
        write_private_json(args.info_file, info)
        sys.stdout.write(f"azsim-arm: serving {info['base_url']} (pid {info['pid']}); details in {args.info_file}\n")
    else:
        sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        if not thread.is_alive():
            return 1
    server.stop()
    thread.join(timeout=10)
    if args.info_file:
        _forget(args.info_file, info["pid"])
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
