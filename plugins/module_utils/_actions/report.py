# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: a picture of the recent OS upgrade runs of a scale set or a resource group, as one HTML file.

The store is only read. What changes is ``dest``: written when its content would differ, atomically (a
temporary file in the same folder, renamed over it), never in check mode. The page is a pure function of
the store (_views/report_html.py), so an unchanged store rewrites nothing.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, address
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError, InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Durations
from ansible_collections.azsim.vmss.plugins.module_utils._views.report_html import Report, ScaleSetReport, render
from ansible_collections.azsim.vmss.plugins.module_utils._views.timeline import run_picture

# More runs than this per scale set make a page nobody reads; the store keeps them all the same.
MAX_RUNS = 50


class DrawnRun(TypedDict):
    scale_set: str
    run_id: int
    status: str
    started_by: str
    start: str
    end: str | None
    target_version: str | None


class ReportResult(Outcome):
    dest: str
    runs: list[DrawnRun]


def _durations(record: Record) -> Durations:
    sim = record["simulation"]
    return {
        "reimage": parse_duration(sim["reimage_duration"], "simulation.reimage_duration"),
        "boot": parse_duration(sim["boot_duration"], "simulation.boot_duration"),
    }


def _records(call: Call, resource_group: str, name: str | None) -> list[Record]:
    if name is not None:
        try:
            return [address(call, resource_group, name)[1]]
        except NotFound as exc:
            raise NotFound(f"name: {exc.message}") from None
    records = scaleset.list_records(call.store, call.subscription_id, check_resource_group(resource_group))
    if not records:
        raise NotFound(
            f"resource_group: {resource_group} has no scale sets in the store (subscription {call.subscription_id}); "
            "create one with azsim.vmss.vmss, or check resource_group and subscription_id"
        )
    return records


def gather(call: Call, records: list[Record], runs: int) -> tuple[Report, list[DrawnRun]]:
    """The report's data: for each scale set (ordered by id) its ``runs`` newest OS upgrade runs."""
    store = call.store
    fleet = fleet_of(store)
    now = store.now()
    scale_sets: list[ScaleSetReport] = []
    drawn: list[DrawnRun] = []
    for record in records:
        key = scaleset.record_key(record)
        instances = fleet.instances(key)
        durations = _durations(record)
        recent = fleet.recent_runs(key, "os", None, runs)
        model = record["model"]
        scale_sets.append(
            {
                "id": model["id"],
                "name": model["name"],
                "resource_group": model["id"].split("/")[4],
                "location": model["location"],
                "instance_count": len(instances),
                "runs": [run_picture(run, instances, durations, now) for run in recent],
            }
        )
        drawn += [
            {
                "scale_set": model["name"],
                "run_id": run["run_id"],
                "status": run["status"],
                "started_by": run["started_by"],
                "start": format_timestamp(run["start"]),
                "end": format_timestamp(run["end"]) if run["end"] is not None else None,
                "target_version": run["target_version"],
            }
            for run in recent
        ]
    report: Report = {
        "subscription_id": call.subscription_id,
        # As the store spells it, whatever case the task used: the same store gives the same page.
        "resource_group": scale_sets[0]["resource_group"],
        "now": now,
        "scale_sets": scale_sets,
    }
    return report, drawn


def check_dest(dest: str) -> str:
    """The absolute path to write; refuses a folder, a missing folder or a path that is not a regular file."""
    if not dest:
        raise InvalidInput("dest: must be the path of the HTML file to write")
    path = os.path.abspath(os.path.expanduser(dest))
    if os.path.isdir(path):
        raise InvalidInput(
            f"dest: {path} is a directory; give the path of the HTML file to write, "
            f"for example {os.path.join(path, 'upgrade-report.html')}"
        )
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise InvalidInput(
            f"dest: the folder {folder} does not exist; create it first (ansible.builtin.file with state: directory)"
        )
    if os.path.lexists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise InvalidInput(f"dest: {path} exists and is not a regular file; give the path of an HTML file")
    return path


def _existing(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AzsimError(f"dest: {path} cannot be read ({exc.strerror}); check its permissions") from None


def write_atomically(path: str, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one rename, so a reader never sees half a page.

    An existing file keeps its mode; a new one gets the usual 0666 less the umask.
    """
    folder = os.path.dirname(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        raise AzsimError(f"dest: {path} could not be written ({exc.strerror}); nothing was changed") from None


def _snapshot(path: str, content: bytes | None) -> dict[str, Any]:
    """What diff mode shows of the page: its size and hash, not the whole HTML."""
    if content is None:
        return {}
    return {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def upgrade_report(call: Call, resource_group: str, dest: str, name: str | None = None, runs: int = 5) -> ReportResult:
    """Write the HTML report of the newest ``runs`` OS upgrade runs to ``dest`` if its content differs."""
    if not 1 <= runs <= MAX_RUNS:
        raise InvalidInput(f"runs: {runs} is not allowed; give a whole number from 1 to {MAX_RUNS}")
    path = check_dest(dest)
    report, drawn = gather(call, _records(call, resource_group, name), runs)
    content = render(report).encode("utf-8")
    before = _existing(path)
    changed = before != content
    if changed and not call.check_mode:
        write_atomically(path, content)
    return {
        "changed": changed,
        "dest": path,
        "runs": drawn,
        "before": _snapshot(path, before),
        "after": _snapshot(path, content),
    }
