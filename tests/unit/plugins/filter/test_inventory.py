# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scale_set_from_hosts: instances, zones and fault rules from inventory hosts' azsim_* variables."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.filter.inventory import FilterModule, scale_set_from_hosts

SLOW = {"type": "slow_boot", "delay": "PT7M"}


def test_the_filters_by_name() -> None:
    assert set(FilterModule().filters()) == {"scale_set_from_hosts"}


@pytest.mark.parametrize(
    ("hostvars", "expected"),
    [
        pytest.param({"web-01": {}}, {"instances": [{"name": "web-01"}], "zones": [], "faults": []}, id="bare"),
        pytest.param(
            {
                "web-01": {
                    "azsim_zone": 2,
                    "azsim_update_domain": "3",
                    "azsim_health": "Unhealthy",
                    "azsim_power_state": "stopped",
                    "azsim_data_disks": [{"lun": 0, "disk_size_gb": 128}],
                    "ansible_host": "10.0.0.1",
                }
            },
            {
                "instances": [
                    {
                        "name": "web-01",
                        "zone": "2",
                        "update_domain": 3,
                        "health": "Unhealthy",
                        "power_state": "stopped",
                        "data_disks": [{"lun": 0, "disk_size_gb": 128}],
                    }
                ],
                "zones": ["2"],
                "faults": [],
            },
            id="every-variable",
        ),
        pytest.param(
            {
                "web-01": {"azsim_faults": ["boot_unhealthy", SLOW]},
                "web-02": {"azsim_faults": [{"type": "rollback_failure", "instances": ["web-09"]}]},
            },
            {
                "instances": [{"name": "web-01"}, {"name": "web-02"}],
                "zones": [],
                "faults": [
                    {"type": "boot_unhealthy", "instances": ["web-01"]},
                    {"type": "slow_boot", "delay": "PT7M", "instances": ["web-01"]},
                    {"type": "rollback_failure", "instances": ["web-02"]},
                ],
            },
            id="faults-apply-to-their-host",
        ),
        pytest.param(
            {"web-01": {"azsim_zone": "3"}, "web-02": {"azsim_zone": "1"}, "web-03": {"azsim_zone": "3"}, "web-04": {}},
            {
                "instances": [
                    {"name": "web-01", "zone": "3"},
                    {"name": "web-02", "zone": "1"},
                    {"name": "web-03", "zone": "3"},
                    {"name": "web-04"},
                ],
                "zones": ["1", "3"],
                "faults": [],
            },
            id="zones-once-sorted",
        ),
    ],
)
def test_scale_set_from_hosts(hostvars: dict[str, dict[str, Any]], expected: dict[str, Any]) -> None:
    assert scale_set_from_hosts(list(hostvars), hostvars) == expected


def test_the_hosts_own_fault_dicts_are_not_changed() -> None:
    hostvars = {"web-01": {"azsim_faults": [SLOW]}}
    scale_set_from_hosts(["web-01"], hostvars)
    assert hostvars["web-01"]["azsim_faults"] == [{"type": "slow_boot", "delay": "PT7M"}]


def test_only_the_hosts_given_in_their_order() -> None:
    hostvars: dict[str, dict[str, Any]] = {"a": {}, "b": {}, "c": {}}
    assert [i["name"] for i in scale_set_from_hosts(["c", "a"], hostvars)["instances"]] == ["c", "a"]


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"azsim_faults": "boot_unhealthy"}, r"host web-01: azsim_faults must be a list .* got 'boot_unhealthy'"),
        ({"azsim_faults": {"type": "slow_boot"}}, r"host web-01: azsim_faults must be a list"),
        ({"azsim_faults": ["boot_unhealthy", 3]}, r"host web-01: azsim_faults\[1\] must be a fault type .* got 3"),
        ({"azsim_update_domain": "two"}, r"host web-01: azsim_update_domain must be a whole number, got 'two'"),
        ({"azsim_update_domain": True}, r"host web-01: azsim_update_domain must be a whole number, got True"),
    ],
)
def test_bad_host_variables_are_named(variables: dict[str, Any], error: str) -> None:
    with pytest.raises(AnsibleFilterError, match=error):
        scale_set_from_hosts(["web-01"], {"web-01": variables})


def test_a_host_without_variables_names_what_it_takes() -> None:
    with pytest.raises(
        AnsibleFilterError, match=r"scale_set_from_hosts takes a list of inventory host names.*'web-09'"
    ):
        scale_set_from_hosts(["web-09"], {})


HOST_VARS = st.fixed_dictionaries(
    {},
    optional={
        "azsim_zone": st.sampled_from(["1", "2", "3", 1, 2]),
        "azsim_update_domain": st.integers(0, 19),
        "azsim_faults": st.lists(st.sampled_from(["boot_unhealthy", "rollback_failure", SLOW]), max_size=3),
    },
)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}-[0-9]{2}", fullmatch=True), HOST_VARS, max_size=15))
def test_one_instance_per_host_and_each_fault_on_its_own_host(hostvars: dict[str, dict[str, Any]]) -> None:
    hosts = list(hostvars)
    scale_set = scale_set_from_hosts(hosts, hostvars)
    assert [i["name"] for i in scale_set["instances"]] == hosts
    assert scale_set["zones"] == sorted({str(v["azsim_zone"]) for v in hostvars.values() if "azsim_zone" in v})
    assert [(f["instances"], f["type"]) for f in scale_set["faults"]] == [
        ([host], fault if isinstance(fault, str) else fault["type"])
        for host in hosts
        for fault in hostvars[host].get("azsim_faults", [])
    ]
