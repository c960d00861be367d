# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the bench scripts share: paths, the scale set they build, the baseline, ansible-playbook runs.

Measurements, not tests: nothing here asserts a time. Every figure is also given as a ratio against
a baseline timed in the same process (these machines are shared and noisy), so that figures from two
runs of `make bench` can be compared even when the machine was busier in one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = Path(os.environ.get("BENCH_BUILD", ROOT / "build")).resolve()
OUT = BUILD / "bench"

SUB = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-bench"
NAME = "web"
SEED = 7
FAULT_PROBABILITY = 0.01
ZONES = ("1", "2", "3")
IMAGE = {"publisher": "Canonical", "offer": "ubuntu", "sku": "server"}
BASE_VERSION = "1.0.0"
TARGET_VERSION = "1.1.0"


def import_collection() -> None:
    """Make ``ansible_collections.azsim.vmss`` importable the way `make link` lays it out."""
    link = BUILD / "ansible_collections" / "azsim" / "vmss"
    if not link.exists():
        raise SystemExit(f"{link} is missing: run `make link` (or `make bench`, which does) first")
    if str(BUILD) not in sys.path:
        sys.path.insert(0, str(BUILD))


class Params(dict):  # type: ignore[type-arg]
    """Module parameters as AnsibleModule hands them over: an option that is not given is None."""

    def __missing__(self, key: str) -> None:
        return None


def act(action: Any, store: Any, params: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """Call an action as the vmss modules do: a Call, and the module's options as named arguments."""
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call

    options = {("every_run" if k == "all" else k): v for k, v in params.items()}
    return dict(action(Call(store, SUB, check_mode), **options))


def image_params(version: str) -> Params:
    return Params(IMAGE, version=version, location="eastus", state="present")


def vmss_params(n: int, zones: tuple[str, ...] = ZONES, probability: float = FAULT_PROBABILITY) -> Params:
    return Params(
        resource_group=RESOURCE_GROUP,
        name=NAME,
        state="present",
        image={**IMAGE, "version": "latest", "id": None},
        health_probe={
            "id": None,
            "protocol": "http",
            "port": 80,
            "request_path": "/health",
            "load_balancer_sku": "Standard",
        },
        zones=list(zones) if zones else None,
        instances=[f"web-{i:06d}" for i in range(n)],
        # azure-behaviour-2 D9: more than 100 instances need several placement groups.
        single_placement_group=False if n > 100 else None,
        simulation={
            "seed": SEED,
            "reimage_duration": None,
            "boot_duration": None,
            "first_rollout_delay": None,
            "rollout_delay": None,
            "faults": [{"type": "boot_unhealthy", "probability": probability}] if probability else [],
        },
    )


def rolling_params(**overrides: Any) -> Params:
    return Params(
        resource_group=RESOURCE_GROUP,
        name=NAME,
        state="started",
        wait=True,
        wait_timeout="P30D",
        fail_on_fault=False,
        fail_if_idle=False,
        **overrides,
    )


def fresh_store(path: Path) -> Any:
    """A new, empty store at ``path`` (any old one and its WAL files removed)."""
    import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    remove_store(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store.open(str(path))


def remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_store(src: Path, dst: Path) -> None:
    """Copy a closed store (its WAL was checkpointed when the last connection closed)."""
    remove_store(dst)
    shutil.copyfile(src, dst)


def build_scale_set(
    store: Any, n: int, zones: tuple[str, ...] = ZONES, probability: float = FAULT_PROBABILITY
) -> dict[str, float]:
    """Publish the base image, create the scale set of ``n`` instances, publish the target image.

    Each step is one transaction, as each would be one module call. Returns the seconds of each
    (wall; and CPU for the creation).
    """
    import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    with store.transaction():
        act(publish_image, store, image_params(BASE_VERSION))
    t1, cpu1 = time.perf_counter(), time.process_time()
    with store.transaction(), beyond_azures_limit(n):
        act(ensure_scale_set, store, vmss_params(n, zones, probability))
    t2, cpu2 = time.perf_counter(), time.process_time()
    with store.transaction():
        act(publish_image, store, image_params(TARGET_VERSION))
    t3 = time.perf_counter()
    times.update(publish_base_s=t1 - t0, create_s=t2 - t1, create_cpu_s=cpu2 - cpu1, publish_target_s=t3 - t2)
    return times


@contextlib.contextmanager
def beyond_azures_limit(n: int) -> Iterator[None]:
    """The engine is measured up to N=100,000 on purpose, past the 1,000 instances a user may create
    (azure-behaviour-2 D9, ``_model.capacity``): the limit is raised for this one creation only."""
    from ansible_collections.azsim.vmss.plugins.module_utils._model import capacity

    saved = capacity.MAX_INSTANCES
    capacity.MAX_INSTANCES = max(saved, n)
    try:
        yield
    finally:
        capacity.MAX_INSTANCES = saved


def build_store_file(path: Path, n: int, **kwargs: Any) -> dict[str, float]:
    store = fresh_store(path)
    try:
        return build_scale_set(store, n, **kwargs)
    finally:
        store.close()


# -- the baseline ----------------------------------------------------------------------------------

BASELINE_NAME = "a fixed pure-Python loop (20,000 small dicts built and summed; median of 9)"


def _baseline_work() -> int:
    acc = 0
    rows = []
    for i in range(20_000):
        row: dict[str, Any] = {"instance_id": str(i), "zone": str(i % 3 + 1), "n": i}
        rows.append(row)
        acc += len(row["instance_id"]) + row["n"] % 7
    return acc + len(rows)


def baseline_seconds(repeats: int = 9) -> float:
    """Seconds of the fixed workload: the yardstick every engine figure is divided by."""
    times = []
    for dummy in range(repeats):
        t0 = time.perf_counter()
        _baseline_work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- small helpers ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def maxrss_mb() -> float:
    """Peak resident set of this process so far, in MiB.

    VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, so a child started by a parent that had
    grown (the fleet bench's floor runs in the parent) reported the parent's peak as its own (100 x 10 showed
    136 MB after 1,000 x 100). VmHWM belongs to the process's own memory map, which exec replaces.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fit_exponent(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) against log(N)."""
    import math

    xs = [math.log(n) for n, t in points]
    ys = [math.log(t) for n, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def write_json(name: str, data: Any) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def read_json(name: str) -> Any:
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:  # pragma: no cover - the venv has ansible-core
        ansible_version = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "ansible_core": ansible_version,
        "sqlite": __import__("sqlite3").sqlite_version,
    }


def source_state() -> str:
    """The commit measured, and whether plugins/ had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "plugins"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {commit}" + (" with uncommitted changes in plugins/" if dirty else "")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- ansible-playbook ------------------------------------------------------------------------------


def ansible_env(**extra: str) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        PATH=f"{bindir}:{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(BUILD),
        ANSIBLE_CALLBACK_PLUGINS=str(BENCH / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="bench_timer",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def local_inventory(path: Path, hosts: list[str], group: str = "fleet") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"[{group}]",
        *hosts,
        "",
        f"[{group}:vars]",
        "ansible_connection=local",
        f"ansible_python_interpreter={sys.executable}",
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def run_playbook(
    playbook: Path, inventory: Path, timings: Path, extra_vars: dict[str, Any] | None = None, **env: str
) -> dict[str, Any]:
    """Run ansible-playbook; return what bench_timer recorded (task durations, playbook duration)."""
    timings.unlink(missing_ok=True)
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=str(ROOT),
        env=ansible_env(BENCH_TIMINGS=str(timings), **env),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not timings.exists():
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(timings.read_text())
    data["process_s"] = wall
    return data


def task_seconds(timings: dict[str, Any], name: str) -> float:
    """Total duration of the tasks called ``name`` (a serial play runs a task once per batch)."""
    found = [t for t in timings["tasks"] if t["name"] == name]
    if not found:
        raise SystemExit(f"no task {name!r} in the timings: {[t['name'] for t in timings['tasks']]}")
    return float(sum(t["duration_s"] for t in found))
