# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input: every module's argument space, through ``main()``, never gives a traceback.

A hypothesis property per module draws arguments that are mostly plausible (so calls go deep: the
scale sets, images and runs of a shared pre-built store are addressed by their real names) and partly
hostile: wrong types, huge and negative numbers, negative and absurd durations, Unicode, NUL and
path-like names, and deeply nested settings; with check mode and diff mode on or off. Each call runs
on a fresh copy of the pre-built store and must end in either success or ``fail_json`` with a message:
never an exception out of ``main()``, never output that is not JSON, never the glue's "internal error".
And a failed call changes nothing in the store (the store's bytes, or failing that a dump of every
table, equal the copy's) -- except a run that the module started and that then failed (a Faulted run,
or one still going at ``wait_timeout``), which design.md says is recorded; those results carry
``rolling_upgrade``. Check mode and the read-only modules change nothing either, success or not.

Examples per module: ten times the hypothesis profile's (tests/unit/conftest.py): 2,000 under ``ci`` (`make units`,
`make test`, CI=true), 100 under ``dev``. The 100,000-instance calls and a few hostile store paths are explicit
examples beside the property.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.modules import (
    feature_registration,
    sim_clock,
    vm_image,
    vm_image_info,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

# Thousands of hypothesis examples and 100,000-instance calls: the system tier (pyproject.toml), left out of
# `make units-fast`.
pytestmark = pytest.mark.system

# Each module's argument space is far wider than any core property's: ten times the profile's examples.
EXAMPLES = 10 * settings().max_examples
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg"
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-gal/providers/Microsoft.Compute/galleries/gal/images/img"
MODULES: dict[str, Any] = {
    "feature_registration": feature_registration,
    "sim_clock": sim_clock,
    "vm_image": vm_image,
    "vm_image_info": vm_image_info,
    "vmss": vmss,
    "vmss_info": vmss_info,
    "vmss_os_rolling_upgrade": vmss_os_rolling_upgrade,
    "vmss_upgrade_history": vmss_upgrade_history,
    "vmss_upgrade_policy": vmss_upgrade_policy,
}
READ_ONLY = {"vm_image_info", "vmss_info", "vmss_upgrade_history"}
INSTANCE_NAMES = [f"web-{i}" for i in range(6)]


# -- hostile values -------------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "\t",
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "~root",
    "$HOME",
    "{{ 7 * 7 }}",
    "%s%s%n",
    "'; DROP TABLE scale_sets; --",
    '" OR 1=1 --',
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1e308",
    "PT",
    "P",
    "PT-5M",
    "-PT5M",
    "P-1D",
    "PT5.5M",
    "PT99999999999999999999S",
    "P9999999999W",
    "PT0S",
    "P1M",
    "P1Y",
    "P36600D",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "2025-13-40T25:61:61Z",
    "2024-12-31T23:59:59Z",
    "2025-01-01T00:00:00.999999999Z",
    "latest",
    "LATEST",
    "1.0.0",
    "1.1.0",
    "99999999999999999999999.0.0",
    "1..0",
    "-1.0.0",
    "1.0.0.0.0.0",
    "eastus",
    "East US",
    "x" * 5000,
    "é" * 300,
    "😀",
    "\u202e",
    "\ufeff",
    "web",
    "web-0",
    "rg",
    "all",
    "Rolling",
    "started",
    "present",
    "absent",
    GALLERY,
    f"{GALLERY}/versions/1.0.0",
    f"{GALLERY}/versions/../../x",
    "/subscriptions//resourceGroups/",
]
HOSTILE_INTS = [-1, 0, 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**30)]
hostile_text = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=40))
hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(HOSTILE_INTS),
    st.integers(),
    st.floats(),
    hostile_text,
)
hostile = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=12,
)


def _nest(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for level in range(depth):
        value = {f"k{level % 3}": value, "n": level}
    return value


# Deeper than ~400 levels, Ansible's own JSON encoder (controller to module) hits Python's recursion limit.
deeply_nested = st.integers(min_value=1, max_value=300).map(_nest)


duration = st.one_of(
    st.sampled_from(["PT0S", "PT1M", "PT5M", "PT3H", "P1D", "P2W", "PT1H30M", "pt1m"]),
    st.integers(0, 10**6).map(lambda n: f"PT{n}S"),
)
timestamp = st.sampled_from(
    [
        "2025-01-01T00:00:00Z",
        "2025-01-01T01:00:00Z",
        "2025-06-01T00:00:00+02:00",
        "2024-01-01T00:00:00Z",
        "2030-01-01T00:00:00-05:00",
    ]
)
boolean = st.booleans()
version = st.sampled_from(["1.0.0", "1.1.0", "2.0.0", "1.0.1", "latest", "10.20.30"])
location = st.sampled_from(["eastus", "westeurope", "East US", "northeurope"])
rg_name = st.sampled_from([RG, RG, "rg-gal", "other", "RG"])
scale_set_name = st.sampled_from(["web", "web", "busy", "busy", "missing", "WEB", "new"])
instance_name = st.sampled_from(INSTANCE_NAMES + ["new-1", "new-2"])
percent = st.integers(-5, 120)


def _strategies(clean: bool) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Each module's arguments: plausible values only (``clean``), or with hostile ones mixed in."""

    def opt(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return valid if clean else st.one_of(valid, valid, valid, hostile)

    def options(
        required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {k: opt(v) for k, v in required.items()}, optional={k: opt(v) for k, v in optional.items()}
        )

    platform = {
        "publisher": st.just(IMAGE["publisher"]),
        "offer": st.just(IMAGE["offer"]),
        "sku": st.just(IMAGE["sku"]),
    }
    image_option = options(
        {},
        {
            "publisher": st.sampled_from(["Canonical", "MicrosoftWindowsServer"]),
            "offer": st.sampled_from(["ubuntu-24_04-lts", "WindowsServer"]),
            "sku": st.sampled_from(["server", "2022-datacenter"]),
            "version": version,
            "id": st.sampled_from([GALLERY, f"{GALLERY}/versions/1.0.0"]),
        },
    )
    if clean:
        image_option = st.one_of(st.just({**IMAGE, "version": "latest"}), st.just({"id": GALLERY}), image_option)
    extension_option = options(
        {
            "name": st.sampled_from(["config", "health", "other"]),
            "publisher": st.sampled_from(["Microsoft.Azure.Extensions", "Microsoft.ManagedServices"]),
            "type": st.sampled_from(["CustomScript", "ApplicationHealthLinux"]),
            "type_handler_version": st.sampled_from(["2.1", "1.0", "2.0"]),
        },
        {
            "provision_after_extensions": st.lists(st.sampled_from(["config", "health", "nope"]), max_size=3),
            "settings": st.one_of(deeply_nested, st.just({"protocol": "http", "port": 80, "requestPath": "/"})),
            "protected_settings": st.one_of(deeply_nested, st.just({"key": "s3cret"})),
            "credential_expiry": timestamp,
        },
    )
    instance_dict = options(
        {"name": instance_name},
        {
            "zone": st.sampled_from(["1", "2", "3", "4"]),
            "update_domain": st.integers(-2, 25),
            "health": st.sampled_from(["Healthy", "Unhealthy", "Unknown", "Initializing", "Sick"]),
            "power_state": st.sampled_from(["running", "stopped", "deallocated", "exploded"]),
            "data_disks": st.lists(
                options(
                    {"lun": st.integers(-1, 70)}, {"disk_size_gb": st.integers(0, 40000), "name": st.text(max_size=10)}
                ),
                max_size=3,
            ),
        },
    )
    fault_rule = options(
        {
            "type": st.sampled_from(
                ["boot_unhealthy", "slow_boot", "extension_failure", "rollback_failure", "unhealthy_at", "meteor"]
            )
        },
        {
            "instances": st.lists(instance_name, max_size=3),
            "probability": st.floats(-1, 2),
            "image_version": version,
            "delay": duration,
            "extension": st.sampled_from(["config", "health"]),
            "at": duration,
        },
    )
    images = {
        "location": location,
        "target_regions": st.lists(location, max_size=3),
        "exclude_from_latest": boolean,
        "state": st.sampled_from(["present", "absent"]),
    }
    vm_image_args = options({"version": version}, {**platform, "gallery_image_id": st.just(GALLERY), **images})
    vm_image_info_args = options({}, {**platform, "location": location, "gallery_image_id": st.just(GALLERY)})
    if clean:  # publisher, offer and sku go together; gallery_image_id goes alone
        vm_image_args = st.one_of(
            options({"version": version, **platform}, {"location": location, "state": images["state"]}),
            options({"version": version, "gallery_image_id": st.just(GALLERY)}, images),
        )
        vm_image_info_args = st.one_of(
            options(platform, {"location": location}),
            options({"gallery_image_id": st.just(GALLERY)}, {"location": location}),
        )
    return {
        "sim_clock": options({}, {"advance": duration} if clean else {"advance": duration, "to": timestamp}),
        "vm_image": vm_image_args,
        "vm_image_info": vm_image_info_args,
        "vmss": options(
            {"resource_group": rg_name, "name": scale_set_name},
            {
                "state": st.sampled_from(["present", "present", "absent"]),
                "location": location,
                "api_version": st.sampled_from(["2024-11-01", "2017-03-30", "2018-10-01", "2024-11-01-preview", "x"]),
                "os_type": st.sampled_from(["linux", "windows"]),
                "image": image_option,
                "windows_configuration": options(
                    {},
                    {
                        "enable_automatic_updates": boolean,
                        "patch_mode": st.sampled_from(["Manual", "AutomaticByOS", "AutomaticByPlatform"]),
                    },
                ),
                "extensions": st.lists(extension_option, max_size=3),
                "health_probe": options(
                    {},
                    {
                        "id": st.just("/subscriptions/x/probe"),
                        "protocol": st.sampled_from(["tcp", "http", "https"]),
                        "port": st.integers(-1, 70000),
                        "request_path": st.just("/health"),
                        "load_balancer_sku": st.sampled_from(["Standard", "Basic"]),
                    },
                ),
                "service_fabric": options(
                    {},
                    {
                        "durability": st.sampled_from(["Bronze", "Silver", "Gold"]),
                        "extension_durability": st.sampled_from(["Bronze", "Silver", "Gold"]),
                        "stateless_only": boolean,
                    },
                ),
                "single_placement_group": boolean,
                "zones": st.lists(st.sampled_from(["1", "2", "3"]), max_size=3),
                "instances": st.lists(st.one_of(instance_name, instance_dict), max_size=8),
                "update_instances": st.lists(st.one_of(instance_name, st.just("all")), max_size=3),
                "simulation": options(
                    {},
                    {
                        "seed": st.integers(-1, 2**64),
                        "reimage_duration": duration,
                        "boot_duration": duration,
                        "first_rollout_delay": duration,
                        "rollout_delay": duration,
                        "faults": st.lists(fault_rule, max_size=3),
                    },
                ),
            },
        ),
        "vmss_info": options({"resource_group": rg_name}, {"name": scale_set_name}),
        "vmss_os_rolling_upgrade": options(
            {"resource_group": rg_name, "name": scale_set_name},
            {
                "state": st.sampled_from(["started", "cancelled", "approved"]),
                "wait": boolean,
                "wait_timeout": duration,
                "fail_on_fault": boolean,
                "fail_if_idle": boolean,
                "instance_ids": st.lists(st.one_of(instance_name, st.sampled_from(["0", "1", "99", "-1"])), max_size=4),
            },
        ),
        "vmss_upgrade_history": options({"resource_group": rg_name, "name": scale_set_name}, {"all": boolean}),
        "vmss_upgrade_policy": options(
            {"resource_group": rg_name, "name": scale_set_name},
            {
                "mode": st.sampled_from(["Automatic", "Manual", "Rolling"]),
                "automatic_os_upgrade": options(
                    {},
                    {
                        k: boolean
                        for k in (
                            "enabled",
                            "disable_automatic_rollback",
                            "use_rolling_upgrade_policy",
                            "os_rolling_upgrade_deferral",
                        )
                    },
                ),
                "rolling_upgrade_policy": options(
                    {},
                    {
                        "max_batch_instance_percent": percent,
                        "max_unhealthy_instance_percent": percent,
                        "max_unhealthy_upgraded_instance_percent": percent,
                        "pause_time_between_batches": duration,
                        **{
                            k: boolean
                            for k in (
                                "enable_cross_zone_upgrade",
                                "prioritize_unhealthy_instances",
                                "rollback_failed_instances_on_policy_breach",
                                "max_surge",
                            )
                        },
                    },
                ),
            },
        ),
        "feature_registration": options(
            {},
            {
                "namespace": st.sampled_from(["Microsoft.Compute", "Microsoft.Network"]),
                "feature": st.sampled_from(["AutomaticOSUpgradeWithGalleryImage", "Other"]),
                "state": st.sampled_from(["registered", "unregistered"]),
                "register_provider": boolean,
                "wait": boolean,
                "registration_duration": duration,
            },
        ),
    }


CLEAN = _strategies(clean=True)
FUZZED = _strategies(clean=False)
# Half plausible (so that calls reach deep into the core), half with hostile values mixed in.
STRATEGIES = {name: st.one_of(CLEAN[name], FUZZED[name]) for name in CLEAN}
# Ansible's own flags and the common options, for every module.
COMMON = st.fixed_dictionaries(
    {},
    optional={
        "_ansible_check_mode": st.booleans(),
        "_ansible_diff": st.booleans(),
        "subscription_id": st.one_of(st.just(SUB), hostile_text),
    },
)


# -- running a module -----------------------------------------------------------------------------


def _build(path: Path) -> None:
    store = str(path)

    def ok(module: Any, args: dict[str, Any]) -> dict[str, Any]:
        code, result = run(module, {"store": store, **args})
        assert code == 0, result
        return result

    ok(vm_image, {**IMAGE, "version": "1.0.0"})
    ok(vm_image, {"gallery_image_id": GALLERY, "version": "1.0.0", "target_regions": ["eastus"]})
    ok(
        vmss,
        {
            "resource_group": RG,
            "name": "web",
            "image": {**IMAGE, "version": "latest"},
            "zones": ["1", "2", "3"],
            "health_probe": {"protocol": "tcp", "port": 22},
            "instances": INSTANCE_NAMES,
            "extensions": [
                {
                    "name": "config",
                    "publisher": "Microsoft.Azure.Extensions",
                    "type": "CustomScript",
                    "type_handler_version": "2.1",
                    "protected_settings": {"key": "s3cret"},
                }
            ],
            "simulation": {"seed": 7, "faults": [{"type": "slow_boot", "instances": ["web-1"], "delay": "PT2M"}]},
        },
    )
    ok(
        vmss,
        {
            "resource_group": RG,
            "name": "busy",
            "image": {**IMAGE, "version": "latest"},
            "health_probe": {"protocol": "tcp", "port": 22},
            "instances": [f"busy-{i}" for i in range(4)],
        },
    )
    ok(vm_image, {**IMAGE, "version": "1.1.0"})
    ok(vmss_os_rolling_upgrade, {"resource_group": RG, "name": "busy", "wait": False})
    ok(feature_registration, {})


class Template:
    def __init__(self, folder: Path) -> None:
        path = folder / "template.sqlite"
        _build(path)
        assert not Path(f"{path}-wal").exists()
        self.data = path.read_bytes()
        self.dump = dump(path)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the per-example stores live: on tmpfs when there is one, because SQLite's fsync at every
    checkpoint, not the module, is what an example costs on a disk (and durability is not tested here)."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="azsim-hostile-", dir="/dev/shm"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("hostile-scratch")


@pytest.fixture(scope="module")
def template(scratch: Path) -> Template:
    folder = scratch / "template"
    folder.mkdir()
    return Template(folder)


def fresh_copy(path: Path, template: Template) -> None:
    for side in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{side}")
    path.write_bytes(template.data)


def unchanged(path: Path, template: Template) -> bool:
    return not Path(f"{path}-wal").exists() and (path.read_bytes() == template.data or dump(path) == template.dump)


def check_call(name: str, args: dict[str, Any], path: Path, template: Template) -> dict[str, Any]:
    fresh_copy(path, template)
    code, result = run(MODULES[name], {**args, "store": str(path)})
    failed = bool(result.get("failed"))
    assert code == (1 if failed else 0), result
    if failed:
        msg = result.get("msg")
        assert isinstance(msg, str) and msg.strip(), result
        assert "internal error" not in msg, msg
        assert "Traceback" not in msg and "exception" not in result, result
        if "rolling_upgrade" not in result:  # a started run that then failed is recorded, by design
            assert unchanged(path, template), f"a failed call changed the store: {msg}"
    if args.get("_ansible_check_mode") or name in READ_ONLY:
        assert unchanged(path, template), "check mode or a read-only module changed the store"
    return result


# -- the property ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODULES))
def test_hostile_arguments_give_success_or_a_clean_failure(name: str, template: Template, scratch: Path) -> None:
    (scratch / name).mkdir()
    path = scratch / name / "vmss.sqlite"

    @SETTINGS
    @given(args=STRATEGIES[name], common=COMMON)
    def property_(args: dict[str, Any], common: dict[str, Any]) -> None:
        check_call(name, {**common, **args}, path, template)

    property_()


# -- explicit examples ----------------------------------------------------------------------------


@pytest.fixture
def store(scratch: Path, template: Template) -> Path:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    path = folder / "vmss.sqlite"
    fresh_copy(path, template)
    return path


@pytest.mark.parametrize("single_placement_group", [True, False])
def test_100000_instances(store: Path, template: Template, single_placement_group: bool) -> None:
    """A scale set of 100,000 instances is refused with Azure's limit (azure-behaviour-2 D9), at once."""
    names = [f"node-{i:06d}" for i in range(100_000)]
    args = {"resource_group": RG, "name": "huge", "image": {**IMAGE, "version": "latest"}, "instances": names}
    result = check_call("vmss", {**args, "single_placement_group": single_placement_group}, store, template)
    limit = "100" if single_placement_group else "1,000"
    assert result["failed"] is True and result["code"] == "InvalidParameter", result
    assert result["msg"].startswith("instances: 100,000 instances (sku.capacity 100000) are more than a scale set "), (
        result
    )
    assert f"may hold ({limit})" in result["msg"]


def test_1000_instances_with_one_bad_name_changes_nothing(store: Path, template: Template) -> None:
    names = [f"node-{i:06d}" for i in range(999)] + ["bad name"]
    result = check_call(
        "vmss",
        {
            "resource_group": RG,
            "name": "wide",
            "image": {**IMAGE, "version": "latest"},
            "single_placement_group": False,
            "instances": names,
        },
        store,
        template,
    )
    assert result["failed"] is True and result["msg"].startswith("instances[999].name: ")


@pytest.mark.parametrize("ids", [[str(i) for i in range(100_000)], ["web-0"] * 100_000])
def test_100000_instance_ids_to_approve(store: Path, template: Template, ids: list[str]) -> None:
    check_call(
        "vmss_os_rolling_upgrade",
        {"resource_group": RG, "name": "busy", "state": "approved", "instance_ids": ids},
        store,
        template,
    )


@pytest.mark.parametrize("depth", [10, 100, 300])
def test_deeply_nested_settings(store: Path, template: Template, depth: int) -> None:
    extension = {
        "name": "config",
        "publisher": "Microsoft.Azure.Extensions",
        "type": "CustomScript",
        "type_handler_version": "2.1",
        "settings": _nest(depth),
        "protected_settings": _nest(depth),
    }
    check_call("vmss", {"resource_group": RG, "name": "web", "extensions": [extension]}, store, template)


def test_a_list_holding_a_huge_number_for_an_int_sub_option(store: Path, template: Template) -> None:
    """Found by the property above: ansible-core's int check raises OverflowError out of AnsibleModule() for a
    list holding a number past 2**63; the glue names the option instead of showing a traceback."""
    result = check_call(
        "vmss", {"resource_group": RG, "name": "web", "health_probe": {"port": [2**63, None, None]}}, store, template
    )
    assert result["msg"] == "health_probe.port[0]: the number is too large; whole numbers go up to 9223372036854775807"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: str(d / "a\x00b.sqlite"), id="nul"),
        pytest.param(lambda d: str(d / ("x" * 5000)), id="too-long"),
        pytest.param(lambda d: str(d / ("y" * 300) / "vmss.sqlite"), id="component-too-long"),
        pytest.param(lambda d: str(d / "file" / "vmss.sqlite"), id="through-a-file"),
        pytest.param(lambda d: "/dev/null", id="dev-null"),
        pytest.param(lambda d: "/", id="root"),
    ],
)
def test_hostile_store_paths(tmp_path: Path, make: Any) -> None:
    (tmp_path / "file").write_text("x")
    store = make(tmp_path)
    internal: dict[str, Any] = {}
    if "\x00" in store:
        # From Python 3.12 syslog refuses a NUL, so ansible-core's log of the invocation fails the module before
        # azsim.vmss sees the path: refused, nothing made. Then as with no_target_syslog set (``_ansible_no_log``,
        # what the controller sends for it), the path reaches azsim.vmss, whose own refusal is checked below.
        code, result = run(sim_clock, {"store": store})
        assert code == 1 and result["failed"] is True
        assert sorted(os.listdir(tmp_path)) == ["file"]
        internal = {"_ansible_no_log": True}
    code, result = run(sim_clock, {"store": store, **internal})
    assert code == 1 and result["failed"] is True
    assert "internal error" not in result["msg"] and result["msg"].startswith("store "), result["msg"]
    assert sorted(os.listdir(tmp_path)) == ["file"]


END_OF_TIME_CALLS = [
    ("sim_clock", {"to": "9999-12-31T23:59:59-01:00"}),
    ("sim_clock", {"advance": "PT2H"}),
    ("sim_clock", {"advance": "P36500D"}),
    ("vm_image", {**IMAGE, "version": "3.0.0"}),
    ("vm_image", {"gallery_image_id": GALLERY, "version": "3.0.0", "target_regions": ["eastus"]}),
    (
        "vmss",
        {
            "resource_group": RG,
            "name": "late",
            "image": {**IMAGE, "version": "latest"},
            "instances": ["l-1"],
            "extensions": [
                {
                    "name": "config",
                    "publisher": "Microsoft.Azure.Extensions",
                    "type": "CustomScript",
                    "type_handler_version": "2.1",
                    "credential_expiry": "9999-12-31T23:59:59Z",
                }
            ],
        },
    ),
    ("vmss_upgrade_policy", {"resource_group": RG, "name": "web", "automatic_os_upgrade": {"enabled": True}}),
    (
        "vmss_upgrade_policy",
        {"resource_group": RG, "name": "web", "rolling_upgrade_policy": {"pause_time_between_batches": "PT59M"}},
    ),
    ("vmss_os_rolling_upgrade", {"resource_group": RG, "name": "web"}),
    ("vmss_os_rolling_upgrade", {"resource_group": RG, "name": "web", "wait": False}),
    ("vmss_os_rolling_upgrade", {"resource_group": RG, "name": "busy", "state": "cancelled"}),
    ("vmss_upgrade_history", {"resource_group": RG, "name": "busy", "all": True}),
    ("vmss_info", {"resource_group": RG}),
    ("feature_registration", {"state": "unregistered", "wait": True}),
    ("feature_registration", {"register_provider": True, "wait": True, "registration_duration": "P1D"}),
]


@pytest.mark.parametrize(
    ("name", "args"), END_OF_TIME_CALLS, ids=[f"{n}-{i}" for i, (n, _a) in enumerate(END_OF_TIME_CALLS)]
)
def test_at_the_end_of_time(store: Path, template: Template, name: str, args: dict[str, Any]) -> None:
    """The virtual clock an hour before 9999-12-31T23:59:59Z, the last instant a timestamp can name:
    whatever would run past it is refused by name, never a crash."""
    code, result = run(sim_clock, {"store": str(store), "to": "9999-12-31T23:00:00Z"})
    assert code == 0, result
    late = Template.__new__(Template)
    late.data, late.dump = store.read_bytes(), dump(store)
    check_call(name, args, store, late)


def test_the_strategies_reach_success_too(template: Template, scratch: Path) -> None:
    """A property that only ever sees refusals proves little: the plausible side must also succeed."""
    path = Path(tempfile.mkdtemp(dir=scratch)) / "vmss.sqlite"
    successes: dict[str, int] = dict.fromkeys(MODULES, 0)

    for name in MODULES:

        @settings(
            max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
        )
        @given(args=CLEAN[name])
        def count(args: dict[str, Any]) -> None:
            result = check_call(current, args, path, template)
            successes[current] += not result.get("failed")

        current = name
        count()
    assert all(count >= 5 for count in successes.values()), successes


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
