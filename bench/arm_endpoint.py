# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Azure (ARM) endpoint under load (issue 13, "Performance and safety"), against the floor.

The endpoint is started as `make serve` starts it (instant clock, a fresh store, its own state dir) and
answers one JSON line; the bench takes a token from its token route, creates the scale sets with ARM PUTs
on image 1.0.0, then publishes 1.1.0 (the collection's action, on the same store) so that every scale set
has a real run to make. Then, over 32 keep-alive TLS connections (http.client, one thread each):

- *POST*: `osRollingUpgrade` once per scale set (each connection has its own scale sets): every POST
  starts a run, which the instant clock finishes inside the request (a second POST on the same scale set
  would find nothing to upgrade and start no run, azure-behaviour-2 EX-1, so there is one per scale set);
- *GET*: `rollingUpgrades/latest` of those scale sets, round robin, for a fixed time.

The floor: the same requests, the same connections and load generator, against a minimal WSGI handler of
the same library (cheroot, same TLS certificate, same thread count) that replays the endpoint's own
answers (status, headers, body) without any work. Reported: requests/s, p50 and p99 latency of each, and
the server process's CPU seconds per request (/proc/<pid>/stat: the load generator shares the cores, so the
wall-clock figures move with whatever else runs). Then, in this process, the endpoint's WSGI callable alone
(no TLS, no cheroot, no load generator): its CPU per GET (a kept answer, and none kept) and per POST.

    python bench/arm_endpoint.py [--scale-sets 640] [--capacity 3] [--get-seconds 5] [--connections 32]
                                 [--no-py-spy]

Then (unless --no-py-spy) one more GET phase with py-spy attached to the endpoint: where its time goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import _common as c

API = "2024-11-01"
RG = "rg-bench"
IMAGE: dict[str, Any] = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = "/providers/Microsoft.Network/loadBalancers/lb/probes/p"
SERVER_MODULE = "ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server"
# Where an endpoint thread's samples are, by what they are inside (one sample may count in several).
KINDS = {
    "the store opened per request (Store.open: file checks, connect, BEGIN IMMEDIATE)": "Store.open (",
    "the action in its store transaction (Ctx.run, Store.open included)": "Ctx.run (",
    "the store's version checked for a kept GET answer (StorePool.version)": "StorePool.version (",
    "TLS (ssl.py)": "(ssl.py:",
    "the request log line (logging)": "(logging/",
    "JSON": "(json/",
    "cheroot waiting for a request (select)": "select (selectors.py",
}
PROCESSES = 4  # of the load generator, the connections shared among them
REPLAYED_HEADERS = ("Content-Type", "Azure-AsyncOperation", "Location", "Retry-After")


def scale_set_body(capacity: int, sub: str) -> bytes:
    """The seed's REST example: rolling policy, automatic OS upgrade, a health probe, image `latest`."""
    doc = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"},
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": False},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**IMAGE, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": f"/subscriptions/{sub}/resourceGroups/{RG}{PROBE}"}},
            },
        },
    }
    return json.dumps(doc).encode()


def vmss_path(sub: str, i: int) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web{i:05d}"


# -- the load generator -----------------------------------------------------------------------------


class Target:
    """One server: where it is, the CA that signed it, the Authorization header."""

    def __init__(self, base_url: str, ca_cert: str, token: str = "") -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", int(parts.port or 443)
        self.context = ssl.create_default_context(cafile=ca_cert)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)


def request(
    conn: http.client.HTTPSConnection, target: Target, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = dict(target.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body if body is not None else (b"" if method != "GET" else None), headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    return answer.status, dict(answer.getheaders()), data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def load_share(
    target: Target,
    work: list[list[tuple[str, str, bytes | None]]],
    expect: int,
    seconds: float | None,
    everyone: Any,
    out: Any,
) -> None:
    """One process of the load generator: a thread per connection, each sending its list of requests in
    turn, once or round robin for ``seconds``; puts (start, end, latencies, unexpected answers) on ``out``.

    The TLS handshake is made before the clock starts (a warm-up GET of the first path), as a client that
    keeps its connection alive pays it once. ``everyone`` (a process barrier) starts all processes together.
    """
    latencies: list[list[float]] = [[] for dummy in work]
    bad: list[str] = []
    clock = [0.0, 0.0]  # start, stop: set by the barrier's action, before any thread is released

    def go() -> None:
        everyone.wait()
        clock[0] = time.perf_counter()
        clock[1] = clock[0] + (seconds or 0.0)

    ready = threading.Barrier(len(work), action=go)

    def worker(k: int) -> None:
        conn = target.connect()
        try:
            request(conn, target, "GET", work[k][0][1])
        except Exception as exc:  # pylint: disable=broad-exception-caught  # reported, not raised in a thread
            bad.append(f"warm-up: {exc!r}")
        ready.wait()
        mine, items, i = latencies[k], work[k], 0
        while i < len(items) or seconds is not None:
            if seconds is not None and time.perf_counter() >= clock[1]:
                break
            method, path, body = items[i % len(items)]
            t0 = time.perf_counter()
            try:
                status, dummy, data = request(conn, target, method, path, body)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                bad.append(f"{method} {path}: {exc!r}")
                conn.close()
                conn = target.connect()
                i += 1
                continue
            mine.append(time.perf_counter() - t0)
            if status != expect and len(bad) < 20:
                bad.append(f"{method} {path}: {status} {data[:300]!r}")
            i += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((clock[0], time.perf_counter(), [x for per in latencies for x in per], bad))


def load(
    target: Target, work: list[list[tuple[str, str, bytes | None]]], expect: int, seconds: float | None
) -> dict[str, Any]:
    """The connections' work spread over PROCESSES forked processes, started together; the figures of all.

    Several processes, so that the load generator's own GIL (32 threads doing TLS in one interpreter) is not
    what caps the figures on a 2-core machine.
    """
    ctx = multiprocessing.get_context("fork")
    groups = [work[k::PROCESSES] for k in range(PROCESSES) if work[k::PROCESSES]]
    everyone, out = ctx.Barrier(len(groups)), ctx.Queue()
    procs = [ctx.Process(target=load_share, args=(target, g, expect, seconds, everyone, out)) for g in groups]
    for p in procs:
        p.start()
    shares = [out.get(timeout=900) for p in procs]
    for p in procs:
        p.join()
    took = max(s[1] for s in shares) - min(s[0] for s in shares)
    every = [x for s in shares for x in s[2]]
    bad = [b for s in shares for b in s[3]]
    if bad:
        c.log(f"  {len(bad)} unexpected answer(s), first: {bad[0]}")
    return {
        "requests": len(every),
        "seconds": took,
        "rps": len(every) / took,
        "p50_s": percentile(every, 0.50),
        "p99_s": percentile(every, 0.99),
        "max_s": max(every, default=float("nan")),
        "unexpected": len(bad),
        "processes": len(groups),
    }


# -- the servers ------------------------------------------------------------------------------------


def spawn(args: list[str], log_path: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start a server process that prints one JSON line on stdout when it serves; return it and the line."""
    env = dict(os.environ, PYTHONPATH=str(c.BUILD))
    with open(log_path, "w", encoding="utf-8") as errors:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)  # noqa: S603
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        proc.wait(timeout=10)
        raise SystemExit(f"{args[:3]} did not start (exit {proc.returncode}); see {log_path}")
    return proc, json.loads(line)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def floor_child(state_dir: str, replay_file: str) -> None:
    """The floor: cheroot's WSGI server, the endpoint's TLS files and thread count, canned answers."""
    c.import_collection()
    from cheroot import wsgi  # pylint: disable=import-outside-toplevel
    from cheroot.ssl.builtin import BuiltinSSLAdapter  # pylint: disable=import-outside-toplevel

    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import server as arm_server
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import prepare

    files = prepare(state_dir, "127.0.0.1")
    replay = json.loads(Path(replay_file).read_text(encoding="utf-8"))
    answers = {
        method: (f"{a['status']} X", list(a["headers"].items()), a["body"].encode()) for method, a in replay.items()
    }

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        status, headers, body = answers[environ["REQUEST_METHOD"]]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # The endpoint's own cheroot settings (server.py), so that the floor differs from it only in the handler.
    server = wsgi.Server(
        ("127.0.0.1", 0),
        app,
        numthreads=arm_server.THREADS,
        server_name="floor",
        request_queue_size=arm_server.LISTEN_BACKLOG,
    )
    server.keep_alive_conn_limit = arm_server.KEEP_ALIVE_CONNECTIONS
    server.ssl_adapter = BuiltinSSLAdapter(files.server_cert, files.server_key)
    server.prepare()
    sys.stdout.write(json.dumps({"base_url": f"https://127.0.0.1:{server.bind_addr[1]}/"}) + "\n")
    sys.stdout.flush()
    server.serve()


# -- setting the endpoint up ------------------------------------------------------------------------


def token(target: Target, info: dict[str, Any]) -> str:
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": "https://management.azure.com/.default",
        }
    ).encode()
    conn = target.connect()
    conn.request(
        "POST", f"/{info['tenant_id']}/oauth2/v2.0/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    answer = conn.getresponse()
    data = json.loads(answer.read())
    conn.close()
    if answer.status != 200:
        raise SystemExit(f"the token route answered {answer.status}: {data}")
    return str(data["access_token"])


def publish(store_path: Path, version: str) -> None:
    """Publish an image version with the collection's action, as the image module does."""
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    store = Store.open(str(store_path))
    try:
        with store.transaction():
            publish_image(Call(store, c.SUB), **IMAGE, version=version)
    finally:
        store.close()


def store_open_seconds(store_path: Path, repeats: int = 200) -> float:
    """What opening and closing the store costs alone, uncontended (a route does it once per request)."""
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    samples = []
    for dummy in range(5):
        t0 = time.perf_counter()
        for dummy2 in range(repeats // 5):
            Store.open(str(store_path)).close()
        samples.append((time.perf_counter() - t0) / (repeats // 5))
    return c.median(samples)


def cpu_seconds(pid: int) -> float:
    """The CPU seconds (user and system) a process has used so far, from /proc/<pid>/stat.

    The load generator shares the machine's cores with the server, so wall-clock rates move with whatever
    else runs; the server's own CPU per request does not.
    """
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


def context_switches(pid: int) -> int:
    """The context switches of a process's threads so far (each gives up the CPU, or is made to): a thread switch
    per request is what a GIL handed over costs, beyond the instructions."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text(encoding="ascii")
        except OSError:
            continue  # a thread that ended meanwhile
        for line in text.splitlines():
            if "ctxt_switches:" in line:
                total += int(line.split()[-1])
    return total


def measured(pid: int, phase: Any) -> dict[str, Any]:
    """``phase()``'s figures, with the server's CPU seconds and context switches over it, and per request."""
    before, switches = cpu_seconds(pid), context_switches(pid)
    figures: dict[str, Any] = phase()
    figures["server_cpu_s"] = cpu_seconds(pid) - before
    requests = max(1, figures["requests"])
    figures["server_cpu_ms_per_request"] = 1000 * figures["server_cpu_s"] / requests
    figures["server_switches_per_request"] = (context_switches(pid) - switches) / requests
    return figures


def app_cpu(work_dir: Path, store_path: Path, state_dir: Path, paths: list[str]) -> dict[str, float]:
    """The endpoint's own CPU per request, without TLS, cheroot or a load generator beside it: its WSGI callable
    called in this process, one request at a time, on a copy of the store as the run left it, its log lines
    written to a file as the daemon's are. Other load on the machine moves this figure far less than the ones
    measured over the network. GETs of ``rollingUpgrades/latest`` round robin (kept answers, then none kept when
    the endpoint keeps any), then one ``osRollingUpgrade`` per scale set after a further image version."""
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import auth, logfile
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import ArmApp
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Settings
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import prepare

    copy = work_dir / "in-process" / "store.sqlite"
    copy.parent.mkdir()
    for suffix in ("", "-wal"):
        if Path(f"{store_path}{suffix}").exists():
            shutil.copyfile(f"{store_path}{suffix}", f"{copy}{suffix}")
    files = prepare(str(state_dir), "127.0.0.1")
    bearer = auth.issue_token(
        files.token_key, "bench", files.identity.tenant_id, files.identity.client_id, auth.DEFAULT_AUDIENCE
    )

    def call(app: Any, method: str, path: str) -> None:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": f"api-version={API}",
            "HTTP_AUTHORIZATION": f"Bearer {bearer}",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT_ENCODING": "identity",
            "CONTENT_LENGTH": "",
            "wsgi.input": None,
        }
        b"".join(app(environ, lambda status, headers: None))

    def per_request(method: str, targets: list[str]) -> float:
        for path in targets[:50]:
            call(app, method, path)  # warm: the connections, the kept claims, the first answers
        t0 = time.process_time()
        for path in targets:
            call(app, method, path)
        return 1000 * (time.process_time() - t0) / len(targets)

    stop_logging = logfile.start(str(copy.parent / "endpoint.log"))
    app = ArmApp(Settings(str(copy), files, "https://127.0.0.1:8443"))
    try:
        gets = [f"{p}/rollingUpgrades/latest" for p in paths] * 4
        out = {"get_ms": per_request("GET", gets)}
        if getattr(app, "answers", None) is not None:
            out["get_kept_ms"], app.answers = out["get_ms"], None
            out["get_ms"] = per_request("GET", gets)
        publish(copy, "1.2.0")

        def posts() -> None:
            for path in paths:
                call(app, "POST", f"{path}/osRollingUpgrade")

        out["post_ms"] = 1000 * _timed(posts) / len(paths)
    finally:
        app.close()
        stop_logging()
    return out


def _timed(work: Any) -> float:
    t0 = time.process_time()
    work()
    return time.process_time() - t0


def split(items: list[Any], connections: int) -> list[list[Any]]:
    return [items[k::connections] for k in range(connections)]


def py_spy_top(pid: int, out: Path, during: Any) -> dict[str, Any] | None:
    """Sample the endpoint while ``during()`` loads it: the functions with the most own samples."""
    exe = Path(sys.executable).parent / "py-spy"
    if not exe.exists():
        found = shutil.which("py-spy")
        if not found:
            return {"error": "py-spy is not installed"}
        exe = Path(found)
    cmd = [str(exe), "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--nonblocking"]
    spy = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    time.sleep(0.5)  # attached before the load starts
    during()
    spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled on SIGINT
    said = spy.communicate(timeout=30)[0]
    if not out.exists():
        return {"error": f"py-spy could not sample ({spy.returncode}): {said[-300:]}"}
    own: dict[str, int] = {}
    inside: dict[str, int] = {}
    kinds = dict.fromkeys(KINDS, 0)
    total = 0
    for line in out.read_text(encoding="utf-8").splitlines():
        stack, dummy, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            inside[frame] = inside.get(frame, 0) + int(count)
        for kind, marker in KINDS.items():
            if any(marker in frame for frame in frames):
                kinds[kind] += int(count)
    if not total:
        return {"error": "py-spy recorded no sample"}

    def top(counts: dict[str, int]) -> list[dict[str, Any]]:
        return [{"function": f, "share": n / total} for f, n in sorted(counts.items(), key=lambda kv: -kv[1])[:15]]

    shares = {kind: n / total for kind, n in kinds.items()}
    return {"samples": total, "own": top(own), "inside": top(inside), "kinds": shares}


def threads() -> int:
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import server as arm_server

    return int(arm_server.THREADS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale-sets", type=int, default=640, help="one POST each (a multiple of --connections)")
    parser.add_argument("--capacity", type=int, default=3, help="instances per scale set")
    parser.add_argument("--get-seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-py-spy", action="store_true", help="skip the further GET phase sampled by py-spy")
    parser.add_argument("--child-floor", nargs=2, metavar=("STATE_DIR", "REPLAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_floor:
        floor_child(*args.child_floor)
        return
    c.import_collection()
    work_dir = c.OUT / "arm-endpoint"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    store, state_dir = work_dir / "store.sqlite", work_dir / "state"
    c.fresh_store(store).close()
    publish(store, "1.0.0")
    endpoint, info = spawn(
        [sys.executable, "-m", SERVER_MODULE, "--port", "0", "--clock", "instant"]
        + ["--store", str(store), "--state-dir", str(state_dir)],
        work_dir / "endpoint.log",
    )
    floor = None
    try:
        target = Target(info["base_url"], info["ca_cert"])
        bearer = token(target, info)
        target = Target(info["base_url"], info["ca_cert"], bearer)
        sub, n, conns = info["subscription_id"], args.scale_sets, args.connections
        paths = [vmss_path(sub, i) for i in range(n)]
        body = scale_set_body(args.capacity, sub)
        t0 = time.perf_counter()
        put = load(target, split([("PUT", f"{p}?api-version={API}", body) for p in paths], conns), 201, None)
        c.log(f"created {n} scale sets of {args.capacity} with PUTs in {time.perf_counter() - t0:.1f}s")
        if put["unexpected"]:
            raise SystemExit("the scale sets were not all created")
        publish(store, "1.1.0")
        posts = split([("POST", f"{p}/osRollingUpgrade?api-version={API}", None) for p in paths], conns)
        gets = split([("GET", f"{p}/rollingUpgrades/latest?api-version={API}", None) for p in paths], conns)
        results: dict[str, Any] = {"post": measured(endpoint.pid, lambda: load(target, posts, 202, None))}
        results["get"] = measured(endpoint.pid, lambda: load(target, gets, 200, args.get_seconds))
        # What the floor replays: the endpoint's own answers to one POST and one GET.
        conn = target.connect()
        replay: dict[str, Any] = {}
        for method, path in (("GET", gets[0][0][1]), ("POST", posts[0][0][1])):
            status, headers, data = request(conn, target, method, path)
            keep = {k: v for k, v in headers.items() if k in REPLAYED_HEADERS}
            replay[method] = {"status": status, "headers": keep, "body": data.decode()}
        conn.close()
        latest = json.loads(replay["GET"]["body"])["properties"]
        if (
            latest["runningStatus"]["code"] != "Completed"
            or latest["progress"]["successfulInstanceCount"] != args.capacity
        ):
            raise SystemExit(f"the POST did not run the upgrade to its end: {latest}")
        profile = None
        if not args.no_py_spy:
            profile = py_spy_top(
                endpoint.pid, work_dir / "py-spy.txt", lambda: load(target, gets, 200, args.get_seconds)
            )
        replay_file = work_dir / "replay.json"
        replay_file.write_text(json.dumps(replay), encoding="utf-8")
        floor, floor_info = spawn(
            [sys.executable, str(Path(__file__).resolve()), "--child-floor", str(state_dir), str(replay_file)],
            work_dir / "floor.log",
        )
        floor_target = Target(floor_info["base_url"], info["ca_cert"], bearer)
        results["floor_post"] = measured(floor.pid, lambda: load(floor_target, posts, 202, None))
        results["floor_get"] = measured(floor.pid, lambda: load(floor_target, gets, 200, args.get_seconds))
    finally:
        stop(endpoint)
        if floor is not None:
            stop(floor)
    for name in ("post", "get"):
        mine, base = results[name], results[f"floor_{name}"]
        mine["rps_share_of_floor"] = mine["rps"] / base["rps"]
        mine["p99_over_floor"] = mine["p99_s"] / base["p99_s"]
        c.log(
            f"{name.upper():>4}: {mine['rps']:,.0f} req/s, p50 {mine['p50_s'] * 1000:.1f} ms, p99 "
            f"{mine['p99_s'] * 1000:.1f} ms ({mine['requests']:,} requests); floor {base['rps']:,.0f} req/s, p50 "
            f"{base['p50_s'] * 1000:.1f} ms, p99 {base['p99_s'] * 1000:.1f} ms; server CPU per request "
            f"{mine['server_cpu_ms_per_request']:.2f} ms (floor {base['server_cpu_ms_per_request']:.2f} ms), context "
            f"switches {mine['server_switches_per_request']:.1f} (floor {base['server_switches_per_request']:.1f})"
        )
    out = {
        "machine": c.machine(),
        "source": c.source_state(),
        "connections": args.connections,
        "scale_sets": args.scale_sets,
        "capacity": args.capacity,
        "get_seconds": args.get_seconds,
        "threads": threads(),
        **results,
        "py_spy": profile,
        "store_open_s": store_open_seconds(store),
        "app_cpu_ms": app_cpu(work_dir, store, state_dir, [vmss_path(info["subscription_id"], i) for i in range(n)]),
    }
    c.log(f"the endpoint's own CPU per request, in process: {out['app_cpu_ms']}")
    c.log(f"arm_endpoint: wrote {c.write_json('arm_endpoint.json', out)}")


if __name__ == "__main__":
    main()
