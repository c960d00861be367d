# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one glue layer between Ansible and the pure core, as a read-only module needs it.

Every module builds an ``AzsimModule`` and hands ``run`` one core function: a read-only module this one, which
opens a ``ReadStore``; a module that writes ansible_module.py's, which opens a ``Store``. Apart so that a
read-only module's AnsiballZ payload carries none of the store's writes (issue 14 item 3). This layer resolves the
common options, opens the store, wraps the call in one transaction (rolled back in check mode),
turns before/after snapshots into ``changed`` and ``diff``, and turns the core's exceptions into
``fail_json``. Nothing below it imports Ansible.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
import os
import sqlite3
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, cast

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.libraries import (
    HAS_JSONSCHEMA,
    JSONSCHEMA_IMPORT_ERROR,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import (
    check_resource_group,
    check_scale_set_name,
    check_subscription_id,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.reading import ReadStore, default_path

if TYPE_CHECKING:
    from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


COMMON_OPTIONS = ("store", "subscription_id")

# What reads a module's arguments and reports its result. In a module's own process (AnsiballZ) that is AnsibleModule.
# The collection's action plugins run a module inside the task's worker on the controller when its connection is local
# (plugin_utils/_module_action.py), and put a stand-in with AnsibleModule's interface here for the length of the call.
_module_factory: list[Callable[..., AnsibleModule]] = [AnsibleModule]


@contextmanager
def module_factory(factory: Callable[..., AnsibleModule]) -> Iterator[None]:
    """Every AzsimModule made inside the block reads its arguments and reports through ``factory``."""
    _module_factory.append(factory)
    try:
        yield
    finally:
        _module_factory.pop()


def requirements_met() -> bool:
    """Whether this Python has what the core needs (jsonschema); a module fails on it with missing_required_lib."""
    return HAS_JSONSCHEMA


def _new_module(**kwargs: Any) -> AnsibleModule:
    return _module_factory[-1](**kwargs)


def common_argument_spec() -> dict[str, Any]:
    return {
        "store": {"type": "path"},
        "subscription_id": {"type": "str"},
    }


def scale_set_argument_spec(name_required: bool = True) -> dict[str, Any]:
    """The options that address a scale set; documented by the doc fragment azsim.vmss.common.scale_set."""
    return {
        "resource_group": {"type": "str", "required": True},
        "name": {"type": "str", "required": name_required},
    }


def _refuse_scalar_for_suboptions(spec: dict[str, Any]) -> None:
    """fail_json naming the option with sub-options that was given a bool or a number, if there is one."""
    reporter = _new_module(argument_spec={name: {"type": "raw"} for name in spec}, supports_check_mode=True)
    params = reporter.params
    # The reporter knows no sub-options, so it must be told which values are secret.
    reporter.no_log_values.update(_secret_values(spec, params))
    for name, option in spec.items():
        value = params.get(name)
        if "options" not in option or value is None:
            continue
        # ansible-core walks a list given for a dict option, and a list of dicts, item by item.
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            if item is None or isinstance(item, (bool, int, float)):
                allowed = f"give a dict of its options ({', '.join(sorted(option['options']))})"
                if option.get("type") == "list" and isinstance(value, list):
                    reporter.fail_json(msg=f"{name}[{index}]: {item!r} is not allowed; {allowed}")
                reporter.fail_json(msg=f"{name}: {value!r} is not allowed; {allowed}, or leave it out")


def _leaves(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    return set() if value is None or isinstance(value, bool) else {str(value)}


# The largest whole number ansible-core's type checks convert without raising.
_LARGEST_INT = 2**63 - 1


def _huge_number_path(value: Any, path: str) -> str | None:
    """The option path of the first whole number in ``value`` that does not fit in 64 bits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return path if abs(value) > _LARGEST_INT else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _huge_number_path(item, f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]")
        if found:
            return found
    return None


def _refuse_huge_numbers(spec: dict[str, Any]) -> None:
    """fail_json naming the option that holds a number too large for ansible-core's checks, if there is one."""
    reporter = _new_module(argument_spec={name: {"type": "raw"} for name in spec}, supports_check_mode=True)
    for name in spec:
        path = _huge_number_path(reporter.params.get(name), name)
        if path is not None:
            reporter.fail_json(msg=f"{path}: the number is too large; whole numbers go up to {_LARGEST_INT}")


def _secret_values(spec: dict[str, Any], params: dict[str, Any]) -> set[str]:
    """Every value held by a no_log option or sub-option, as ansible-core compares them (strings)."""
    found: set[str] = set()
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            continue
        if option.get("no_log"):
            found |= _leaves(value)
        elif "options" in option:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    found |= _secret_values(option["options"], item)
    return found


class AzsimModule:
    def __init__(self, argument_spec: dict[str, Any], read_only: bool = False, **kwargs: Any) -> None:
        spec = common_argument_spec()
        spec.update(argument_spec)
        self.read_only = read_only
        try:
            self.module = _new_module(argument_spec=spec, supports_check_mode=True, **kwargs)
        except TypeError:
            # ansible-core (2.19 and earlier, ansible/ansible#81631) raises instead of failing when an option
            # with sub-options is given a bool or a number (``health_probe: false``): say so in a result.
            _refuse_scalar_for_suboptions(spec)
            raise
        except OverflowError:
            # Its int check raises too, for a number past 64 bits inside a list (``port: [2**63]``).
            _refuse_huge_numbers(spec)
            raise
        # ansible-core masks the value a no_log option was given, but a dict option given as a ``k=v``
        # string is converted after that: the converted values must be masked too, in every result.
        self.module.no_log_values.update(_secret_values(spec, self.module.params))

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.module.params
        return params

    def fail(self, msg: str, **details: Any) -> NoReturn:
        self.module.fail_json(msg=msg, **details)
        raise AssertionError("fail_json returned")  # pragma: no cover - fail_json exits

    def options(self, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The module's own options as an action's named arguments (the common options are the Call's)."""
        rename = rename or {}
        return {rename.get(k, k): v for k, v in self.module.params.items() if k not in COMMON_OPTIONS}

    def run(self, action: Callable[..., Mapping[str, Any]], rename: Mapping[str, str] | None = None) -> NoReturn:
        """Call ``action`` with the module's options, in one store transaction, and exit with its result.

        The action gets a ``Call`` and the options as named arguments (``rename`` maps an option to
        the argument's name where they differ). It returns the module result. Three optional keys are
        consumed here: ``before`` and ``after`` (snapshots for ``changed`` unless given, and for
        ``diff``), and ``warnings``.
        A result with ``failed: true`` is committed (the store records what happened) and then fails.
        """
        if not HAS_JSONSCHEMA:
            self.fail(missing_required_lib("jsonschema"), exception=JSONSCHEMA_IMPORT_ERROR)
        params = self.module.params
        path = params.get("store") or default_path()
        subscription = params.get("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID") or DEFAULT_SUBSCRIPTION
        try:
            check_subscription_id(
                subscription, "subscription_id" if params.get("subscription_id") else "AZURE_SUBSCRIPTION_ID"
            )
            self._check_names(params)
            commit = not (self.module.check_mode or self.read_only)
            # A read never creates, migrates or converts the store. A write that will not commit (check
            # mode) still runs on a store: a missing one is made for the call and removed again, and a
            # migration happens inside the transaction that is rolled back.
            store = self.open_store(path)
            try:
                with store.transaction(commit=commit):
                    # A read-only module's action only reads, so the ReadStore it gets has what it asks (the reading
                    # half of api.Store); its transaction never commits, so nothing it could write would stay.
                    core_store = cast("Store", store)
                    result = dict(
                        action(Call(core_store, subscription, self.module.check_mode), **self.options(rename))
                    )
            finally:
                store.close()
        except AzsimError as exc:
            # design.md, round 2: a refusal carries Azure's error as error.code / error.message; msg says more.
            details = {k: v for k, v in exc.details.items() if k != "azure_message"}
            self.fail(exc.message, **details, error=exc.azure_error())
        except sqlite3.OperationalError as exc:  # the disk or the file system, not the data: full, I/O error
            self.fail(
                f"store {os.path.abspath(os.path.expanduser(path))}: could not be used ({exc}); nothing was changed. "
                "Run the task again; if this persists, check the disk and the permissions of the store and its folder"
            )
        except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:  # damage SQLite finds only when it is read
            self.fail(
                f"store {os.path.abspath(os.path.expanduser(path))}: is damaged ({type(exc).__name__}: {exc}); "
                "nothing was changed. Move it aside and let azsim.vmss create a new one, or point the store option "
                "elsewhere"
            )
        except Exception as exc:  # a traceback must not reach the user as the only message
            self.fail(
                f"internal error in azsim.vmss ({type(exc).__name__}: {exc}); the store was left as it was. "
                "Please report this with the task that caused it",
                exception=traceback.format_exc(),
            )
        self._finish(result)

    def open_store(self, path: str) -> ReadStore:
        """The store for this call: a read never creates, migrates or converts it (``ReadStore.open``, mode read)."""
        if not self.read_only:
            raise TypeError("a module that writes uses _front/ansible_module.py's AzsimModule, which opens a Store")
        return ReadStore.open(path, mode="read")

    def _check_names(self, params: dict[str, Any]) -> None:
        """Azure's naming rules, checked before the store is opened: a bad name writes nothing, not even a new store."""
        spec = self.module.argument_spec
        if "resource_group" not in spec:
            return
        if params.get("resource_group") is not None:
            check_resource_group(params["resource_group"])
        if "name" in spec and params.get("name") is not None:  # modules with a resource group: name = scale set
            check_scale_set_name(params["name"])

    def _finish(self, result: dict[str, Any]) -> NoReturn:
        has_snapshots = "before" in result or "after" in result
        before = result.pop("before", None)
        after = result.pop("after", None)
        if "changed" not in result:
            result["changed"] = has_snapshots and before != after
        # A read-only module returns snapshots only of what it changes outside the store (a report file).
        if self.module._diff and has_snapshots:
            result["diff"] = {
                "before": before if before is not None else {},
                "after": after if after is not None else {},
            }
        for warning in result.pop("warnings", []):
            self.module.warn(warning)
        if result.get("failed"):
            msg = result.pop("msg", "failed")
            result.pop("failed")
            self.module.fail_json(msg=msg, **result)
        self.module.exit_json(**result)
        raise AssertionError("exit_json returned")  # pragma: no cover - exit_json exits
