# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Driving the simulator from Python the way the modules drive it, for the orchestrator's tests.

``Sim`` wraps one store and makes every call a transaction of its own, exactly as one module call
is (so whatever a test observes went through the store, not only through in-memory caches). The
option dicts are complete, with ``None`` for what a task leaves out, as AnsibleModule hands them to
the core. The tests import it, fixtures included, by its full collection path (as ansible-test's
collection loader needs): ``from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers
import Sim, sim``. (conftest.py here belongs to another helper, so these fixtures live in this module.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import upgrade_history
from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import os_rolling_upgrade
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import group_keys
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit._harness import dump

T = TypeVar("T")

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg"
NAME = "web"
KEY = scaleset.scale_set_id(SUB, RG, NAME).lower()
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
GALLERY_IMAGE = f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal/images/web"
PROBE = {"id": None, "protocol": "http", "port": 80, "request_path": "/health", "load_balancer_sku": "Standard"}
HEALTH_EXTENSION = {
    "name": "health",
    "publisher": "Microsoft.ManagedServices",
    "type": "ApplicationHealthLinux",
    "type_handler_version": "2.0",
    "provision_after_extensions": None,
    "settings": {"protocol": "http", "port": 80, "requestPath": "/health"},
    "protected_settings": None,
    "credential_expiry": None,
}
SIMULATION_KEYS = (
    "seed",
    "reimage_duration",
    "boot_duration",
    "first_rollout_delay",
    "rollout_delay",
    "faults",
    "surge_quota",
    "run_timeout",
    "strict_preview_features",
)
VMSS_KEYS = (
    "location",
    "api_version",
    "os_type",
    "image",
    "windows_configuration",
    "extensions",
    "health_probe",
    "service_fabric",
    "single_placement_group",
    "zones",
    "instances",
    "update_instances",
    "simulation",
)


def ts(value: str) -> int:
    return parse_timestamp(value, "test")


def at(minutes: float, base: int = EPOCH) -> str:
    """The timestamp ``minutes`` of virtual time after ``base`` (the new store's epoch by default)."""
    return format_timestamp(base + int(minutes * 60))


def extension(
    name: str, after: list[str] | None = None, expiry: str | None = None, secret: str | None = None
) -> dict[str, Any]:
    """A CustomScript-like extension option (not a health source)."""
    return {
        "name": name,
        "publisher": "Microsoft.Azure.Extensions",
        "type": "CustomScript",
        "type_handler_version": "2.1",
        "provision_after_extensions": after,
        "settings": None,
        "protected_settings": {"sas": secret} if secret else None,
        "credential_expiry": expiry,
    }


def fault(kind: str, **rule: Any) -> dict[str, Any]:
    return {"type": kind, **rule}


class Sim:
    """One store, driven through the core functions the modules call, one transaction per call."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- plumbing ------------------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, commit: bool = True, **kwargs: Any) -> T:
        with self.store.transaction(commit=commit):
            return fn(self.store, *args, **kwargs)

    def act(
        self, action: Callable[..., Any], params: dict[str, Any], check: bool = False, commit: bool = True
    ) -> dict[str, Any]:
        """Call an action as the modules do, with the module's options."""
        with self.store.transaction(commit=commit):
            return act(action, self.store, SUB, params, check)

    def now(self) -> int:
        return self.store.now()

    def dump(self) -> list[str]:
        """Everything in the store, for bit-for-bit comparisons, but the store's random fingerprint key.

        That key only makes fingerprints of protected settings unguessable; it differs between stores
        by design and takes no part in a run.
        """
        return [line for line in dump(self.store.path) if "'fingerprint_salt'" not in line]

    # -- world ---------------------------------------------------------------------------------

    def publish(self, version: str, location: str = "eastus", **image: Any) -> dict[str, Any]:
        """vm_image: publish a platform image version (the platform then looks for a newer latest)."""
        params = {
            "publisher": None,
            "offer": None,
            "sku": None,
            "location": location,
            "gallery_image_id": None,
            "version": version,
            "target_regions": None,
            "exclude_from_latest": None,
            "state": "present",
        }
        params.update(IMAGE)
        params.update(image)
        return self.act(publish_image, params)

    def publish_gallery(
        self, version: str, regions: list[str] | None = None, exclude: bool | None = None
    ) -> dict[str, Any]:
        """vm_image with gallery_image_id: publish or re-replicate a gallery image version."""
        params = {
            "publisher": None,
            "offer": None,
            "sku": None,
            "location": None,
            "gallery_image_id": GALLERY_IMAGE,
            "version": version,
            "target_regions": regions,
            "exclude_from_latest": exclude,
            "state": "present",
        }
        return self.act(publish_image, params)

    def opt_in_gallery(self) -> dict[str, Any]:
        """feature_registration: AutomaticOSUpgradeWithGalleryImage registered, provider re-registered (§2.3)."""
        params = {
            "namespace": "Microsoft.Compute",
            "feature": "AutomaticOSUpgradeWithGalleryImage",
            "state": "registered",
            "register_provider": True,
            "wait": True,
        }
        return self.act(register_feature, params)

    def vmss(
        self,
        n: int | None = None,
        *,
        names: list[Any] | None = None,
        probe: bool | None = None,
        image: dict[str, Any] | None = None,
        simulation: dict[str, Any] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Create or update the scale set ``rg/web``; ``n`` instances named w0, w1, ... unless ``names``."""
        params: dict[str, Any] = {k: None for k in VMSS_KEYS}
        params.update(resource_group=RG, name=NAME, state="present")
        if names is not None:
            params["instances"] = names
        elif n is not None:
            params["instances"] = [f"w{i}" for i in range(n)]
        if image is not None:
            params["image"] = {"publisher": None, "offer": None, "sku": None, "version": None, "id": None, **image}
        elif self.record() is None:
            params["image"] = {**IMAGE, "version": "latest", "id": None}
        if probe is None:
            probe = self.record() is None and not options.get("extensions")
        if probe:
            params["health_probe"] = dict(PROBE)
        if simulation is not None:
            params["simulation"] = {k: simulation.get(k) for k in SIMULATION_KEYS}
        params.update(options)
        return self.act(ensure_scale_set, params)

    def policy(
        self, mode: str | None = None, automatic: dict[str, Any] | None = None, rolling: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """vmss_upgrade_policy with snake_case options (only those given change)."""
        auto_keys = group_keys("automatic_os_upgrade")
        rolling_keys = group_keys("rolling_upgrade_policy")
        params = {
            "resource_group": RG,
            "name": NAME,
            "mode": mode,
            "automatic_os_upgrade": {k: automatic.get(k) for k in auto_keys} if automatic is not None else None,
            "rolling_upgrade_policy": {k: rolling.get(k) for k in rolling_keys} if rolling is not None else None,
        }
        return self.act(set_upgrade_policy, params)

    def rolling(self, **policy: Any) -> dict[str, Any]:
        return self.policy(rolling=policy)

    def enable_automatic(self, **automatic: Any) -> dict[str, Any]:
        return self.policy(automatic={"enabled": True, **automatic})

    # -- runs ----------------------------------------------------------------------------------

    def upgrade(
        self, state: str = "started", wait: bool = True, check: bool = False, fail_on_fault: bool = False, **params: Any
    ) -> dict[str, Any]:
        """vmss_os_rolling_upgrade; Faulted does not fail unless asked (the tests look at the run)."""
        full = {
            "resource_group": RG,
            "name": NAME,
            "state": state,
            "wait": wait,
            "wait_timeout": "PT24H",
            "fail_on_fault": fail_on_fault,
            "fail_if_idle": False,
            "instance_ids": None,
            **params,
        }
        return self.act(os_rolling_upgrade, full, check, commit=not check)

    def start(self, **params: Any) -> dict[str, Any]:
        return self.upgrade("started", **params)

    def cancel(self, **params: Any) -> dict[str, Any]:
        return self.upgrade("cancelled", **params)

    def approve(self, ids: list[str], wait: bool = False) -> dict[str, Any]:
        return self.upgrade("approved", wait=wait, instance_ids=ids)

    def advance(self, duration: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.act(move_clock, {"advance": duration})["events"]
        return events

    def advance_to(self, when: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.act(move_clock, {"to": when})["events"]
        return events

    def history(self, everything: bool = False) -> dict[str, Any]:
        return self.act(upgrade_history, {"resource_group": RG, "name": NAME, "all": everything}, commit=False)

    # -- raw state -----------------------------------------------------------------------------

    def record(self) -> Record | None:
        return self.call(lambda s: fleet_of(s).record(KEY), commit=False)

    def edit_record(self, change: Callable[[Record], None]) -> None:
        """Change the stored record directly, then let the platform reschedule (design.md's escape hatch)."""

        def edit(store: Store) -> None:
            record = scaleset.load(store, SUB, RG, NAME)
            assert record is not None
            change(record)
            scaleset.save(store, record)
            platform.reschedule(store, record)

        self.call(edit)

    def run(self, run_id: int | None = None) -> Run:
        def read(store: Store) -> Run | None:
            fleet = fleet_of(store)
            return fleet.latest_run(KEY) if run_id is None else fleet.run(KEY, run_id)

        found = self.call(read, commit=False)
        assert found is not None, "no run recorded"
        return found

    def runs(self) -> list[dict[str, Any]]:
        """Every run of the scale set, oldest first, as stored."""
        return self.call(lambda s: s.list_docs("runs", {"scale_set": KEY}, "run_id"), commit=False)

    def instances(self) -> dict[str, Instance]:
        """Instances by name, as stored."""
        return {i["name"]: i for i in self.call(lambda s: fleet_of(s).instances(KEY), commit=False)}

    def view(self) -> dict[str, Any]:
        """What vmss_os_rolling_upgrade would return about the latest run, without starting anything."""
        view = self.call(lambda s: runs.run_view(s, KEY, fleet_of(s).latest_run(KEY)), commit=False)
        return dict(view)  # a RunView, read as the plain JSON object the module returns

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.call(lambda s: s.pending_events(kind=kind), commit=False)

    def pending_platform_start(self) -> str | None:
        events = self.events(platform.EVENT_KIND)
        return format_timestamp(events[0]["due"]) if events else None


def latest_props(result: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = result["rolling_upgrade"]["properties"]
    return props


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in result["instances"]}


def batch_names(result: dict[str, Any]) -> list[list[str]]:
    return [b["instances"] for b in result["batches"]]


def batch_times(result: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(b["start"], b["end"]) for b in result["batches"]]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """A new store (clock at 2025-01-01T00:00:00Z) with image 1.0.0 published in eastus."""
    store = Store.open(str(tmp_path / "sim" / "vmss.sqlite"))
    try:
        world = Sim(store)
        world.publish("1.0.0")
        yield world
    finally:
        store.close()


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[Callable[[str], Sim]]:
    """Several independent stores in one test (same seed, same fleet → same result)."""
    opened: list[Store] = []

    def make(label: str) -> Sim:
        store = Store.open(str(tmp_path / label / "vmss.sqlite"))
        opened.append(store)
        world = Sim(store)
        world.publish("1.0.0")
        return world

    try:
        yield make
    finally:
        for store in opened:
            store.close()
