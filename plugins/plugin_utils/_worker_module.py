# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for AnsibleModule that runs a module's ``main()`` inside the task's worker. PRIVATE to the collection.

A module run as its own process gets its arguments from AnsiballZ, and prints its result as JSON and exits.
Inside the worker (plugin_utils/_module_action.py) there is no process to exit: ``WorkerModule`` validates the task's
arguments with ansible-core's own ``ArgumentSpecValidator`` (the checks and messages AnsibleModule uses), and
``exit_json``/``fail_json`` raise ``ModuleExit`` carrying the result, shaped as the module's JSON would have been:
secrets masked, the invocation echoed when ansible-core would echo it, and passed through JSON so that the result
holds only what a module's result can (lists, not tuples; string keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NoReturn

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError


class ModuleExit(BaseException):
    """``exit_json``/``fail_json``: a BaseException, as SystemExit is, so no ``except Exception`` takes it."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("module exited")
        self.result = result


@dataclass(frozen=True)
class WorkerCall:
    """What a module's process learns from the ``_ansible_*`` arguments, for one call in the worker."""

    args: Mapping[str, Any]
    name: str  # as the task names the module: the ``(name)`` of "Unsupported parameters for (name) module"
    check_mode: bool
    diff: bool
    invocation: bool  # ansible-core 2.21 echoes the arguments only when asked (INJECT_INVOCATION); earlier, always
    warnings: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    # What the controller's module encoder makes of a value JSON has no type for.
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def plain_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """The task's arguments as the module's process would decode them: plain JSON values, no templating tags."""
    decoded: dict[str, Any] = json.loads(json.dumps(dict(args), default=_plain))
    return decoded


class WorkerModule(AnsibleModule):  # type: ignore[misc]  # ansible-core is untyped
    """AnsibleModule's interface as the collection's glue uses it (_front/module_glue.py), for one call in the worker.

    ``__init__`` does what AnsibleModule's does with the arguments: validate against the spec, fill defaults and
    conversions in, collect the values to mask, and fail with the same message on the first error. It does not touch
    the process (no locale, no syslog, no working directory): the worker is ansible-core's, and lives on.
    """

    def __init__(
        self,
        call: WorkerCall,
        argument_spec: dict[str, Any],
        bypass_checks: bool = False,
        no_log: bool = False,
        mutually_exclusive: Any = None,
        required_together: Any = None,
        required_one_of: Any = None,
        add_file_common_args: bool = False,
        supports_check_mode: bool = False,
        required_if: Any = None,
        required_by: Any = None,
    ) -> None:
        # pylint: disable=super-init-not-called  # AnsibleModule.__init__ reads AnsiballZ's arguments and the process
        del bypass_checks, no_log, add_file_common_args  # no module of the collection uses them
        self._call = call
        self._name = call.name
        self.argument_spec = argument_spec
        self.supports_check_mode = supports_check_mode
        self.check_mode = call.check_mode
        self._diff = call.diff
        self.no_log_values: set[str] = set()
        # What add_path_info asks of SELinux, found on first use as AnsibleModule does.
        self._selinux_enabled = None
        self._selinux_mls_enabled = None
        self._selinux_initial_context = None
        self.params: dict[str, Any] = dict(call.args)
        validator = ArgumentSpecValidator(
            argument_spec, mutually_exclusive, required_together, required_one_of, required_if, required_by
        )
        result = validator.validate(self.params)
        self.params.update(result.validated_parameters)
        self.no_log_values.update(result._no_log_values)  # pylint: disable=protected-access  # as AnsibleModule
        for alias in result._warnings:  # pylint: disable=protected-access
            self.warn(f"Both option {alias['option']} and its alias {alias['alias']} are set.")
        if result.error_messages:  # ``errors`` has no length: it is true even when empty
            msg = result.errors.msg
            if isinstance(result.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({self._name}) module: {msg}"
            self.fail_json(msg=msg)
        if self.check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg=f"remote module ({self._name}) does not support check mode")

    def warn(self, warning: Any) -> None:
        self._call.warnings.append(str(warning))

    def exit_json(self, **kwargs: Any) -> NoReturn:
        raise ModuleExit(self._formatted(kwargs))

    def fail_json(self, msg: Any, **kwargs: Any) -> NoReturn:
        kwargs.update(failed=True, msg=str(msg))
        raise ModuleExit(self._formatted(kwargs))

    def _formatted(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """AnsibleModule's ``_return_formatted``: a file's details beside its ``dest``, invocation, warnings, and the
        secrets masked (bools and None kept)."""
        self.add_path_info(kwargs)
        if self._call.invocation and "invocation" not in kwargs:
            kwargs["invocation"] = {"module_args": self.params}
        if self._call.warnings:
            kwargs["warnings"] = list(self._call.warnings)
        masked: dict[str, Any] = kwargs
        if self.no_log_values:  # remove_values copies the whole result to look for them (7% of a large call)
            preserved = {k: v for k, v in kwargs.items() if v is None or isinstance(v, bool)}
            masked = remove_values(kwargs, self.no_log_values)
            masked.update(preserved)
        shaped: dict[str, Any] = json.loads(json.dumps(masked, default=_plain))
        return shaped
