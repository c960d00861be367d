# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that describe a simulated scale set from inventory hosts.

- ``scale_set_from_hosts``: the instances, zones and per-host fault rules of azsim.vmss.vmss, from the hosts'
  azsim_* variables (the os_rolling_upgrade role and the demo build their scale sets with it).

The documentation of each filter is in the ``<filter>.yml`` file beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.azsim.vmss.plugins.plugin_utils._filter_input import expects

# Host variable -> the instance key it sets, taken as it is.
_AS_IS = {"azsim_health": "health", "azsim_power_state": "power_state", "azsim_data_disks": "data_disks"}


def _fault_rules(host: str, faults: Any) -> list[dict[str, Any]]:
    """The host's azsim_faults as fault rules of azsim.vmss.vmss that apply to HOST alone: a fault type (string)
    becomes {type}, a dict is copied; either gets instances: [HOST]."""
    if isinstance(faults, (str, bytes)) or not isinstance(faults, Sequence):
        raise AnsibleFilterError(
            f"azsim.vmss.scale_set_from_hosts: host {host}: azsim_faults must be a list of fault types or fault dicts, "
            f"got {faults!r}"
        )
    rules = []
    for index, fault in enumerate(faults):
        if isinstance(fault, str):
            rule: dict[str, Any] = {"type": fault}
        elif isinstance(fault, Mapping):
            rule = dict(fault)
        else:
            raise AnsibleFilterError(
                f"azsim.vmss.scale_set_from_hosts: host {host}: azsim_faults[{index}] must be a fault type such as "
                f"boot_unhealthy or a dict such as {{type: slow_boot, delay: PT7M}}, got {fault!r}"
            )
        rule["instances"] = [host]
        rules.append(rule)
    return rules


def _update_domain(host: str, value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(
            f"azsim.vmss.scale_set_from_hosts: host {host}: azsim_update_domain must be a whole number, got {value!r}"
        ) from None


@expects("a list of inventory host names, and hostvars")
def scale_set_from_hosts(hosts: Sequence[str], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{instances, zones, faults} for azsim.vmss.vmss from HOSTS, in their order: each host an instance named after
    it, with zone, update_domain, health, power_state and data_disks from its azsim_* variables when set; the zones
    the hosts name, sorted; and each host's azsim_faults as fault rules for that host."""
    instances = []
    zones = set()
    faults = []
    for host in hosts:
        variables = hostvars[host]
        instance: dict[str, Any] = {"name": host}
        if "azsim_zone" in variables:
            instance["zone"] = str(variables["azsim_zone"])
            zones.add(instance["zone"])
        if "azsim_update_domain" in variables:
            instance["update_domain"] = _update_domain(host, variables["azsim_update_domain"])
        for variable, key in _AS_IS.items():
            if variable in variables:
                instance[key] = variables[variable]
        instances.append(instance)
        faults += _fault_rules(host, variables.get("azsim_faults", []))
    return {"instances": instances, "zones": sorted(zones), "faults": faults}


class FilterModule:
    """Scale sets from inventory hosts."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"scale_set_from_hosts": scale_set_from_hosts}
