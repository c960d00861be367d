# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Core engine, no Ansible: build a scale set of N instances, then one full manual rolling OS upgrade.

For each N and each repeat, two fresh child processes:
  create  publishes image 1.0.0, creates the scale set (zones 1-3, 1% boot_unhealthy faults, seed 7),
          publishes 1.1.0; each step one store transaction. Timed: the scale set's creation.
  run     opens that store and runs vmss_os_rolling_upgrade's core (state started, wait true, the
          default 20% batches) in one transaction. Timed: start -> end, including the COMMIT.
Each child reports its peak RSS (VmHWM, its own memory map's, so create and run are measured apart) and times the
baseline (see _common.BASELINE_NAME) in the same process: every time is also a ratio against it.

Then the run at the largest N once more under cProfile, and once under py-spy (when it can attach);
and the run at N=10,000 under tracemalloc, for the Python allocations of each phase of the run.

    python bench/engine.py [--sizes 10,100,1000,10000,100000] [--repeats 5] [--repeats-large 3]
                           [--profile-size 100000] [--no-profile] [--no-py-spy] [--memory-size 10000]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _common as c

SIZES = (10, 100, 1_000, 10_000, 100_000)
MODULE_UTILS = "plugins/module_utils/"


# -- child processes -------------------------------------------------------------------------------


def child_create(n: int, store_path: Path) -> dict[str, Any]:
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._store import store  # noqa: F401  import cost not timed

    times = c.build_store_file(store_path, n)
    return {**times, "maxrss_mb": c.maxrss_mb(), "baseline_s": c.baseline_seconds()}


def timed_run(store: Any, rolling_upgrade: Any) -> tuple[float, dict[str, Any]]:
    """The measured span: the module's transaction around rolling_upgrade, COMMIT included.

    Returns wall seconds and the result, with the CPU seconds of the span added as ``cpu_s``. The caller
    imports ``rolling_upgrade`` first, so that no import is timed.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    with store.transaction():
        result = c.act(rolling_upgrade, store, c.rolling_params())
    return time.perf_counter() - t0, {**result, "cpu_s": time.process_time() - cpu0}


class GcTimer:
    """Time spent in Python's cyclic garbage collector (gc.callbacks), which cProfile charges to whatever ran."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.collections = [0, 0, 0]
        self._start = (0.0, 0.0)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = (time.perf_counter(), time.process_time())
        else:
            self.seconds += time.perf_counter() - self._start[0]
            self.cpu_seconds += time.process_time() - self._start[1]
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def child_run(n: int, store_path: Path, profile: Path | None) -> dict[str, Any]:
    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import os_rolling_upgrade
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    store = Store.open(str(store_path))
    rss_before = c.maxrss_mb()
    profiler = cProfile.Profile() if profile else None
    collector = GcTimer()
    if profiler:
        profiler.enable()
    with collector:
        seconds, result = timed_run(store, os_rolling_upgrade)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    store.close()
    rss = c.maxrss_mb()
    props = result["rolling_upgrade"]["properties"]
    return {
        "run_s": seconds,
        "run_cpu_s": result["cpu_s"],
        "gc_s": collector.seconds,
        "gc_cpu_s": collector.cpu_seconds,
        "gc_collections": collector.collections,
        "maxrss_mb": rss,
        "rss_before_run_mb": rss_before,
        "status": props["runningStatus"]["code"],
        "progress": props["progress"],
        "batches": len(result["batches"]),
        "virtual_end": result["now"],
        "instances_returned": len(result["instances"]),
        # After the run, so that the baseline's allocations do not count in the run's peak.
        "baseline_s": c.baseline_seconds(),
    }


# Phases of a run whose Python allocations --child memory reports: (label, module, attribute). A phase
# that no longer exists under that name is left out.
PHASES = (
    ("start_run (loads the instances)", "_engine.run_start", "start_run"),
    ("drive (advance to the end)", "_engine.rollouts", "drive"),
    ("run_view (the module's result)", "_views.runs", "run_view"),
    ("flush (write back before COMMIT)", "_model.fleet", "Fleet.flush"),
)


def child_memory(n: int, store_path: Path) -> dict[str, Any]:
    """The run under tracemalloc: Python allocations at the start and end of each phase, and the peak within."""
    import importlib
    import tracemalloc

    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import os_rolling_upgrade
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

    phases: list[dict[str, Any]] = []

    def wrap(label: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current, peak_before = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            try:
                return func(*args, **kwargs)
            finally:
                end, peak = tracemalloc.get_traced_memory()
                phases.append(
                    {"phase": label, "start_mb": current / 2**20, "peak_mb": peak / 2**20, "end_mb": end / 2**20}
                )
                # reset_peak() forgot the peak before this phase: keep it for the overall peak.
                overall.append(max(peak_before, peak))

        return wrapper

    overall: list[int] = []
    for label, module_name, attr in PHASES:
        module = importlib.import_module(f"ansible_collections.azsim.vmss.plugins.module_utils.{module_name}")
        owner, dummy, name = attr.rpartition(".")
        target = getattr(module, owner) if owner else module
        if hasattr(target, name):
            setattr(target, name, wrap(label, getattr(target, name)))
    store = Store.open(str(store_path))
    tracemalloc.start()
    seconds, result = timed_run(store, os_rolling_upgrade)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.close()
    del result
    return {
        "n": n,
        "seconds_under_tracemalloc": seconds,
        "peak_mb": max([peak, *overall]) / 2**20,
        "phases": phases,
        "maxrss_mb": c.maxrss_mb(),
    }


def spawn(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"engine.py {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# -- profiles ----------------------------------------------------------------------------------------


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if MODULE_UTILS in filename:
        filename = filename.split(MODULE_UTILS, 1)[1]
    elif filename.startswith("~") or filename.startswith("<"):
        return name
    else:
        filename = Path(filename).name
    return f"{filename}:{line}({name})"


def summarize_cprofile(path: Path, top: int = 25) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    total = max((ct for (_cc, _nc, _tt, ct, _callers) in raw.values()), default=0.0)
    rows = [
        {"function": _where(func), "ncalls": nc, "tottime_s": tt, "cumtime_s": ct}
        for func, (_cc, nc, tt, ct, _callers) in raw.items()
    ]
    by_file: Counter[str] = Counter()
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        filename = func[0]
        if MODULE_UTILS in filename:
            key = filename.split(MODULE_UTILS, 1)[1]
        elif func[0] == "~":
            key = f"builtin {func[2]}"
        else:
            key = Path(filename).name
        by_file[key] += tt
    return {
        "total_s": total,
        "by_cumulative": sorted(rows, key=lambda r: -r["cumtime_s"])[:top],
        "by_tottime": sorted(rows, key=lambda r: -r["tottime_s"])[:top],
        "tottime_by_file": [{"where": k, "tottime_s": v} for k, v in by_file.most_common(top)],
    }


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "name (path/to/file.py:123)".
    name, dummy, rest = frame.partition(" (")
    path = rest.rstrip(")").rsplit(":", 1)[0]
    if MODULE_UTILS in path:
        path = path.split(MODULE_UTILS, 1)[1]
    else:
        path = Path(path).name
    return f"{path}({name})"


def py_spy(n: int, store_path: Path, out: Path) -> dict[str, Any] | None:
    exe = Path(sys.executable).parent / "py-spy"
    if not exe.exists():
        exe = Path(shutil.which("py-spy") or "")
    if not exe.name:
        return {"error": "py-spy is not installed"}
    cmd = [
        str(exe),
        "record",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--",
        sys.executable,
        __file__,
        "--child",
        "run",
        str(n),
        str(store_path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.exists():
        return {"error": f"py-spy could not sample ({proc.returncode}): {(proc.stderr or proc.stdout)[-400:]}"}
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, dummy, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("timed_run ") for f in frames):
            continue
        weight = int(count)
        total += weight
        names = [_frame_name(f) for f in frames[[i for i, f in enumerate(frames) if f.startswith("timed_run ")][0] :]]
        for name in set(names):
            inclusive[name] += weight
        leaf[names[-1]] += weight
    if not total:
        return {"error": "py-spy recorded no sample inside timed_run"}
    return {
        "samples": total,
        "rate_hz": 200,
        "inclusive": [{"function": k, "share": v / total} for k, v in inclusive.most_common(25)],
        "self": [{"function": k, "share": v / total} for k, v in leaf.most_common(25)],
    }


# -- the parent ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=5, help="runs per N (median taken)")
    parser.add_argument("--repeats-large", type=int, default=3, help="runs per N for N >= 100,000")
    parser.add_argument("--profile-size", type=int, default=None, help="N to profile (default: the largest)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-py-spy", action="store_true")
    parser.add_argument(
        "--memory-size", type=int, default=10_000, help="N for the run under tracemalloc (it runs ~10x slower; 0: skip)"
    )
    parser.add_argument("--child", nargs=3, metavar=("WHAT", "N", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        what, n, store = args.child[0], int(args.child[1]), Path(args.child[2])
        result: dict[str, Any]
        if what == "create":
            result = child_create(n, store)
        elif what == "memory":
            result = child_memory(n, store)
        else:
            result = child_run(n, store, args.cprofile)
        print(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    profile_size = args.profile_size or max(sizes)
    c.OUT.mkdir(parents=True, exist_ok=True)
    samples: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}

    def repeats(n: int) -> int:
        return int(args.repeats) if n < 100_000 else min(args.repeats, args.repeats_large)

    for rep in range(args.repeats):
        for n in [n for n in sizes if rep < repeats(n)]:
            store = c.OUT / f"engine-{n}.sqlite"
            created = spawn("--child", "create", str(n), str(store))
            if rep == repeats(n) - 1 and n == profile_size and not args.no_profile:
                c.copy_store(store, c.OUT / f"engine-{n}-profile.sqlite")
            ran = spawn("--child", "run", str(n), str(store))
            samples[n].append({"create": created, "run": ran})
            c.log(
                f"engine N={n:>6} rep {rep + 1}/{repeats(n)}: create {created['create_s']:.3f}s "
                f"run {ran['run_s']:.3f}s (baseline {ran['baseline_s'] * 1000:.1f}ms) "
                f"peak {ran['maxrss_mb']:.0f}MiB {ran['status']} {ran['progress']}"
            )
            c.remove_store(store)

    rows: list[dict[str, Any]] = []
    for n in sizes:
        runs = [s["run"] for s in samples[n]]
        creates = [s["create"] for s in samples[n]]
        rows.append(
            {
                "n": n,
                "run_s": c.median([r["run_s"] for r in runs]),
                "run_ratio": c.median([r["run_s"] / r["baseline_s"] for r in runs]),
                "run_cpu_s": c.median([r["run_cpu_s"] for r in runs]),
                "gc_s": c.median([r["gc_s"] for r in runs]),
                "gc_share": c.median([r["gc_cpu_s"] / r["run_cpu_s"] for r in runs]),
                "create_s": c.median([r["create_s"] for r in creates]),
                "create_ratio": c.median([r["create_s"] / r["baseline_s"] for r in creates]),
                "create_cpu_s": c.median([r["create_cpu_s"] for r in creates]),
                "run_peak_mb": c.median([r["maxrss_mb"] for r in runs]),
                "run_rss_before_mb": c.median([r["rss_before_run_mb"] for r in runs]),
                "create_peak_mb": c.median([r["maxrss_mb"] for r in creates]),
                "baseline_s": c.median([r["baseline_s"] for r in runs + creates]),
                "runs": runs,
                "creates": creates,
            }
        )
    large = [(r["n"], r["run_s"]) for r in rows if r["n"] >= 1000]
    result = {
        "sizes": sizes,
        "repeats": {str(n): repeats(n) for n in sizes},
        "baseline": c.BASELINE_NAME,
        "rows": rows,
        "exponent_run": c.fit_exponent(large) if len(large) >= 2 else None,
        "exponent_run_cpu": c.fit_exponent([(r["n"], r["run_cpu_s"]) for r in rows if r["n"] >= 1000])
        if len(large) >= 2
        else None,
        "exponent_run_all": c.fit_exponent([(r["n"], r["run_s"]) for r in rows]) if len(rows) >= 2 else None,
        "exponent_create": (
            c.fit_exponent([(r["n"], r["create_s"]) for r in rows if r["n"] >= 1000]) if len(large) >= 2 else None
        ),
        "exponent_range": f"N >= 1,000 ({', '.join(f'{n:,}' for n, t in large)})",
        "profile_size": profile_size,
    }

    if not args.no_profile:
        template = c.OUT / f"engine-{profile_size}-profile.sqlite"
        if not template.exists():
            c.build_store_file(template, profile_size)
        store = c.OUT / f"engine-{profile_size}-run.sqlite"
        prof = c.OUT / f"engine-{profile_size}.prof"
        c.copy_store(template, store)
        profiled = spawn("--child", "run", str(profile_size), str(store), "--cprofile", str(prof))
        result["cprofile"] = {
            "run_s_under_profiler": profiled["run_s"],
            "stats_file": str(prof),
            **summarize_cprofile(prof),
        }
        c.log(f"engine cProfile N={profile_size}: {profiled['run_s']:.2f}s under the profiler; stats in {prof}")
        if not args.no_py_spy:
            c.copy_store(template, store)
            result["py_spy"] = py_spy(profile_size, store, c.OUT / f"engine-{profile_size}.py-spy.txt")
            c.log(f"engine py-spy: {result['py_spy'].get('error') or str(result['py_spy']['samples']) + ' samples'}")
        c.remove_store(store)
        c.remove_store(template)

    if args.memory_size:
        store = c.OUT / f"engine-{args.memory_size}-memory.sqlite"
        c.build_store_file(store, args.memory_size)
        result["memory"] = spawn("--child", "memory", str(args.memory_size), str(store))
        c.remove_store(store)
        c.log(f"engine tracemalloc N={args.memory_size}: peak {result['memory']['peak_mb']:.0f} MiB of Python objects")

    path = c.write_json("engine.json", result)
    c.log(f"engine: wrote {path}")


if __name__ == "__main__":
    main()
