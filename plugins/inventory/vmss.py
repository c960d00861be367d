# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vmss
short_description: The simulated scale sets' instances as inventory hosts
version_added: 0.1.0
author:
  - azsim.vmss developers (@azsim)
description:
  - Reads the azsim.vmss store and adds every instance of its simulated scale sets as a host, named by its
    inventory (host) name, as given in the module's O(azsim.vmss.vmss#module:instances) option.
  - Host variables are named as the C(azure.azcollection.azure_rm) inventory plugin names them for a scale set
    VM (C(id), C(name), C(computer_name), C(location), C(availability_zone), C(powerstate),
    C(provisioning_state), C(tags), C(vmss), C(resource_group), C(image), C(os_disk), ...), so that filters,
    groups and plays written for Azure carry over; the simulator's own are prefixed C(azsim_) (see the
    examples for the list).
  - The source is a YAML file whose name ends in C(.azsim_vmss.yml) or C(.azsim_vmss.yaml), or is exactly
    C(azsim_vmss.yml) or C(azsim_vmss.yaml), and whose O(plugin) is V(azsim.vmss.vmss).
  - The store is only read, as the read-only modules read it. A store that does not exist is an error, never
    created; reading the inventory writes nothing.
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks this file as a source of this plugin.
    required: true
    type: str
    choices: [azsim.vmss.vmss]
  store:
    description:
      - The simulator's state file, as the O(azsim.vmss.vmss#module:store) option of every module.
      - Without it, the environment variable E(AZSIM_VMSS_STORE), else C(~/.ansible/azsim/vmss.sqlite).
    type: path
    env:
      - name: AZSIM_VMSS_STORE
  subscription_id:
    description:
      - The subscription whose scale sets become hosts.
      - Without it, the environment variable E(AZURE_SUBSCRIPTION_ID), else
        C(00000000-0000-0000-0000-000000000000), as the modules.
    type: str
    env:
      - name: AZURE_SUBSCRIPTION_ID
  resource_groups:
    description:
      - The resource groups whose scale sets' instances become hosts (compared without case, as Azure does).
      - V(*) or an empty list includes every resource group, like C(include_vmss_resource_groups) of
        C(azure_rm).
    type: list
    elements: str
    default: ['*']
  hostnames:
    description:
      - Jinja2 expressions, in order of preference, that name a host; the first that gives a non-empty string
        is taken. They see the host's variables.
      - V(default) is the instance's inventory name (C(default_inventory_hostname)), as given to
        M(azsim.vmss.vmss). As with C(azure_rm), an expression may use C(default_inventory_hostname).
      - Two scale sets may have instances of the same name; such a host is added once, with the variables of
        the last, and a warning. Name hosts apart, for example with
        V(default_inventory_hostname + '.' + vmss.name).
    type: list
    elements: str
    default: [default]
  include_host_filters:
    description:
      - Jinja2 conditionals over the host's variables; a host is included when any is true (as in
        C(azure_rm)). The default includes every host.
    type: list
    elements: str
    default: ['true']
  exclude_host_filters:
    description:
      - Jinja2 conditionals over the host's variables; a host is left out when any is true. Applied after
        O(include_host_filters).
    type: list
    elements: str
    default: []
notes:
  - Groups exist only as O(groups) and O(keyed_groups) make them; the examples group by image version, by last
    upgrade result and by scale set.
  - Nothing connects to the hosts. Tasks that need a connection should use C(ansible_connection=local) (set it
    with O(compose)) or run on the controller, as every azsim.vmss module does.
  - ansible-core 2.19 and later warn that the host variables C(name) and C(tags) use reserved names, as they do for
    C(azure_rm), whose names these are; the variables are set all the same.
  - Values read from the store are data, never templates. C(ansible-inventory --list) therefore wraps each string
    in an C(__ansible_unsafe) object, which C(from_json(profile='inventory_legacy')) reads back.
  - With O(cache) on, the hosts are read from the cache until it expires, so that changes made to the store
    meanwhile are not seen; the cache key includes the store's path and the subscription.
seealso:
  - module: azsim.vmss.vmss_info
  - name: azure_rm inventory plugin
    description: The Azure inventory plugin whose host variable names this plugin follows.
    link: https://docs.ansible.com/ansible/latest/collections/azure/azcollection/azure_rm_inventory.html
"""

EXAMPLES = r"""
# demo.azsim_vmss.yml: every instance of resource group rg-demo, grouped by what the last rollout did to it.
# Use it with: ansible-inventory -i demo.azsim_vmss.yml --graph
plugin: azsim.vmss.vmss
store: build/demo/vmss.sqlite
resource_groups: [rg-demo]
keyed_groups:
  # azsim_image_version_24_04_202501010: the hosts running image 24.04.202501010 (dots become underscores).
  - prefix: azsim_image_version
    key: azsim_os_image_version
  # azsim_result_upgraded, azsim_result_rolled_back, ...; azsim_result_none before any OS upgrade.
  - prefix: azsim_result
    key: azsim_upgrade_result | default('none', true)
  # azsim_vmss_web: the instances of scale set web.
  - prefix: azsim_vmss
    key: vmss.name
  # azsim_health_Healthy, azsim_health_Unhealthy, ...
  - prefix: azsim_health
    key: azsim_health
groups:
  behind_the_model: not azsim_latest_model_applied
  protected: azsim_protection_policy.protectFromScaleSetActions
compose:
  ansible_connection: "'local'"
exclude_host_filters:
  - powerstate != 'running'

# Host variables of each instance, as azure_rm names them:
#   id, name (<scale set>_<instance id>), computer_name (the inventory name), location,
#   availability_zone (Azure's zones list, e.g. ['1'], or None), powerstate (running, stopped, deallocated),
#   provisioning_state (succeeded, failed, updating), tags, resource_group (lower case), resource_type, vmid,
#   vmss ({id, name}), os_profile ({system}), image, os_disk ({name, operating_system_type, id}), data_disks,
#   virtual_machine_size, plan, default_inventory_hostname, public_ipv4_addresses, public_dns_hostnames and
#   private_ipv4_addresses (empty: nothing is networked).
# and the simulator's:
#   azsim_subscription_id, azsim_resource_group, azsim_scale_set, azsim_instance_id, azsim_zone,
#   azsim_update_domain, azsim_os_image_version, azsim_latest_model_applied, azsim_health
#   (Healthy, Unhealthy, Unknown, Initializing), azsim_extensions ([{name, provisioning_state}]),
#   azsim_protection_policy ({protectFromScaleSetActions, protectFromScaleIn}),
#   azsim_upgrade_result and azsim_batch (the instance in the last OS upgrade: upgraded, rolled_back,
#   rollback_failed, failed, skipped, pending; None before any), azsim_last_upgrade
#   ({status, start, end, target_image_version, started_by} of that upgrade, or None).
"""

import hashlib
from typing import Any

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._front.inventory_source import (
    read_hosts,
    store_path,
    subscription,
)

# A source file this plugin claims: *.azsim_vmss.yml/.yaml, or exactly azsim_vmss.yml/.yaml.
SUFFIXES = ("azsim_vmss.yml", "azsim_vmss.yaml")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):  # type: ignore[misc]  # ansible-core is untyped
    NAME = "azsim.vmss.vmss"

    def verify_file(self, path: str) -> bool:
        if not super().verify_file(path):
            return False
        base = path.replace("\\", "/").rsplit("/", 1)[-1]
        return any(base == suffix or base.endswith("." + suffix) for suffix in SUFFIXES)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        hosts = self._hosts(path, cache)
        strict = bool(self.get_option("strict"))
        seen: dict[str, str] = {}
        for host in hosts:
            hostvars = host["hostvars"]
            if not self._wanted(host["name"], hostvars, strict):
                continue
            name = self._hostname(host["name"], hostvars, strict)
            scale_set = hostvars["vmss"]["id"]
            if name in seen and seen[name] != scale_set:
                self.display.warning(
                    f"azsim.vmss.vmss inventory {path}: host {name} is an instance of both {seen[name]} and "
                    f"{scale_set}; it gets the variables of the last. Name hosts apart with the hostnames option"
                )
            seen[name] = scale_set
            self.inventory.add_host(name)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)

    def _hosts(self, path: str, cache: bool) -> list[Any]:
        """The hosts from the store, or from the cache when it is on and holds them (Ansible's Cacheable pattern)."""
        store = self.get_option("store")
        subscription_id = self.get_option("subscription_id")
        # The same inventory file may point at another store (AZSIM_VMSS_STORE) or subscription: part of the key.
        where = f"{store_path(store)}\0{subscription(subscription_id)}"
        key = f"{self.get_cache_key(path)}_{hashlib.sha256(where.encode()).hexdigest()[:8]}"
        use_cache = bool(self.get_option("cache"))
        update = use_cache and not cache
        if use_cache and cache:
            try:
                cached: list[Any] = self._cache[key]
                return cached
            except KeyError:
                update = True
        try:
            hosts = list(read_hosts(store, subscription_id, self.get_option("resource_groups")))
        except AzsimError as exc:
            raise AnsibleParserError(f"azsim.vmss.vmss inventory {path}: {exc.message}") from None
        if update:
            self._cache[key] = hosts
        return hosts

    def _wanted(self, name: str, hostvars: dict[str, Any], strict: bool) -> bool:
        """azure_rm's filters: included when any include filter is true, then left out when any exclude filter is."""
        include = self.get_option("include_host_filters")
        if not any(self._condition(c, name, hostvars, strict) for c in include):
            return False
        return not any(self._condition(c, name, hostvars, strict) for c in self.get_option("exclude_host_filters"))

    def _condition(self, condition: str, name: str, hostvars: dict[str, Any], strict: bool) -> bool:
        try:
            return bool(boolean(self._compose(condition, hostvars), strict=False))
        except Exception as exc:
            if strict:
                raise AnsibleParserError(
                    f"azsim.vmss.vmss: could not evaluate the filter {condition!r} for host {name}: {to_text(exc)}"
                ) from exc
            return False

    def _hostname(self, default: str, hostvars: dict[str, Any], strict: bool) -> str:
        errors = []
        for preference in self.get_option("hostnames"):
            if preference == "default":
                return default
            try:
                value = self._compose(preference, hostvars)
            except Exception as exc:
                if strict:
                    raise AnsibleError(f"azsim.vmss.vmss: could not compose {preference!r} as a host name: {exc}")
                errors.append(f"{preference}: {to_text(exc)}")
                continue
            if value:
                return str(to_text(value))
        raise AnsibleError(
            f"azsim.vmss.vmss: no host name for instance {default}: every hostnames expression was empty or failed "
            f"({'; '.join(errors) or 'no errors'}); add 'default' as the last one"
        )
