# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store growth: history and latest-status reads with 10,000 recorded runs of one scale set.

Building 10,000 runs: a scale set of 10 instances (zones 1-3, 1% faults) runs one real manual OS
upgrade; its run document is then copied 9,999 times straight through the Store API (put_docs, one
transaction), each copy with the next run_id and its times shifted 30 minutes later, and the virtual
clock set to the last run's end. Faster than 10,000 real runs (each would need a newer image
version), and the documents are exactly what the engine writes.

Reads, each in its own read-only transaction on a store opened once (as vmss_upgrade_history's glue
does, minus Ansible); also with Store.open and close included, as each module call pays:
  history   history.upgrade_history, all: false (osUpgradeHistory's last five, rollingUpgrades/latest,
            and the last OS run's batches and instance results): what vmss_upgrade_history returns
  latest    the latest run and its rollingUpgrades/latest view (Fleet.latest_run + runs.latest_view),
            the read every vmss_os_rolling_upgrade call starts with
  all       history.upgrade_history, all: true (every one of the 10,000 runs); no target, for scale
Median of up to --repeats reads each (at least 3; fewer when slow); ratio against the baseline
timed in this process. One more history read runs under cProfile: its top functions are kept.

    python bench/store_reads.py [--runs 10000] [--instances 10] [--repeats 25]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as c

SHIFT = 1800
BUDGET_S = 4.0
TIME_KEYS = ("start", "end", "last_action_time", "resolved")


def shifted(doc: Any, seconds: int) -> Any:
    """A copy of a run document with every timestamp moved ``seconds`` later."""
    if isinstance(doc, dict):
        return {
            k: (v + seconds if k in TIME_KEYS and isinstance(v, int) else shifted(v, seconds)) for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [shifted(v, seconds) for v in doc]
    return doc


def build(path: Any, runs: int, instances: int) -> dict[str, Any]:
    from ansible_collections.azsim.vmss.plugins.module_utils._actions import rolling_upgrade

    store = c.fresh_store(path)
    try:
        c.build_scale_set(store, instances)
        with store.transaction():
            c.act(rolling_upgrade.os_rolling_upgrade, store, c.rolling_params())
        row = store.conn.execute("SELECT scale_set, run_id, kind, start, doc FROM runs").fetchone()
        key, first_id, kind = row[0], row[1], row[2]
        doc = json.loads(row[4])
        t0 = time.perf_counter()
        with store.transaction():
            docs = []
            for i in range(1, runs):
                clone = shifted(copy.deepcopy(doc), i * SHIFT)
                clone["run_id"] = first_id + i
                docs.append(
                    ({"scale_set": key, "run_id": clone["run_id"], "kind": kind, "start": clone["start"]}, clone)
                )
            store.put_docs("runs", docs)
            store.set_now(max(store.now(), docs[-1][1]["end"] if docs else doc["end"]))
        seconds = time.perf_counter() - t0
        count = store.conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        return {"runs": count, "insert_s": seconds, "run_doc_bytes": len(row[4]), "instances": instances}
    finally:
        store.close()


def cprofile_top(action: Callable[[], Any], top: int = 8) -> list[dict[str, Any]]:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [
        {
            "function": f"{Path(f[0]).name}:{f[1]}({f[2]})" if f[0] != "~" else f[2],
            "ncalls": nc,
            "tottime_s": tt,
            "cumtime_s": ct,
        }
        for f, (_cc, nc, tt, ct, _callers) in raw.items()
    ]
    return sorted(rows, key=lambda r: -r["tottime_s"])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()

    c.import_collection()
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import upgrade_history
    from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
    from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
    from ansible_collections.azsim.vmss.plugins.module_utils._views import runs

    path = c.OUT / "store-reads.sqlite"
    built = build(path, args.runs, args.instances)
    c.log(
        f"store_reads: {built['runs']} runs inserted in {built['insert_s']:.2f}s "
        f"({built['run_doc_bytes']} bytes per run document)"
    )
    params = c.Params(resource_group=c.RESOURCE_GROUP, name=c.NAME)

    def history(store: Any) -> Any:
        return c.act(upgrade_history, store, c.Params(params, all=False))

    def everything(store: Any) -> Any:
        return c.act(upgrade_history, store, c.Params(params, all=True))

    def latest(store: Any) -> Any:
        fleet = fleet_of(store)
        key = store.conn.execute("SELECT key FROM scale_sets").fetchone()[0]
        run = fleet.latest_run(key)
        record = fleet.record(key)
        return runs.latest_view(run, record) if run and record else None

    def timed(action: Callable[[Any], Any], with_open: bool) -> tuple[float, Any]:
        if with_open:
            t0 = time.perf_counter()
            store = Store.open(str(path))
            with store.transaction(commit=False):
                result = action(store)
            store.close()
            return time.perf_counter() - t0, result
        with shared.transaction(commit=False):
            t0 = time.perf_counter()
            result = action(shared)
            seconds = time.perf_counter() - t0
        return seconds, result

    shared = Store.open(str(path))
    baseline = c.baseline_seconds()
    reads = {}
    checks: dict[str, Callable[[Any], bool]] = {
        "history": lambda r: len(r["history"]) == 5 and r["latest"] is not None,
        "latest": lambda r: r is not None and r["properties"]["runningStatus"]["code"] == "Completed",
        "all": lambda r: len(r["history"]) == built["runs"],
    }
    for name, action in (("history", history), ("latest", latest), ("all", everything)):
        call: list[float] = []
        opened: list[float] = []
        # Up to --repeats reads, at least 3, and no more once a read kind has taken BUDGET_S.
        while len(call) < args.repeats and (len(call) < 3 or sum(call) + sum(opened) < BUDGET_S):
            seconds, result = timed(action, False)
            call.append(seconds)
            opened.append(timed(action, True)[0])
        repeats = len(call)
        if not checks[name](result):
            raise SystemExit(f"store_reads: the {name} read returned something unexpected")
        reads[name] = {
            "call_s": c.median(call),
            "with_open_s": c.median(opened),
            "ratio": c.median(call) / baseline,
            "repeats": repeats,
        }
        c.log(
            f"store_reads {name:<8}: {reads[name]['call_s'] * 1000:.2f}ms in its transaction, "
            f"{reads[name]['with_open_s'] * 1000:.2f}ms with Store.open"
        )
    profile = cprofile_top(lambda: timed(history, False))
    baseline = (baseline + c.baseline_seconds()) / 2
    for read in reads.values():
        read["ratio"] = read["call_s"] / baseline
    shared.close()
    c.remove_store(path)
    path_json = c.write_json(
        "store_reads.json", {**built, "baseline_s": baseline, "reads": reads, "history_profile": profile}
    )
    c.log(f"store_reads: wrote {path_json}")


if __name__ == "__main__":
    main()
