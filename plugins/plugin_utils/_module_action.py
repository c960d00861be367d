# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every module that works on the store. PRIVATE to the collection: no stable interface.

Every module of the collection runs on the controller (the store is a file there). Run as a module, each task item
costs a process: ansible-core builds the AnsiballZ payload, writes it, starts Python, which imports the module and
the core from the zip, all before the call's few milliseconds of work (docs/performance.md, section 2). When the
task's connection is local, this plugin instead imports the module in the task's worker and calls its ``main()``
there, with ``WorkerModule`` (_worker_module.py) standing in for AnsibleModule: the same glue, the same core, the
same validation messages and the same result, without the process.

It falls back to running the module as its own process, as ``ansible.builtin.normal`` does, when the worker
cannot stand in for it:

- the connection is not ``local`` (the store would be on another machine), or the task uses ``become`` (the module
  would run as another user) or ``async`` (it would outlive the task);
- the variable ``azsim_vmss_in_process`` is false (the user wants the module's own interpreter and process);
- the controller's Python cannot import the module or its requirements (jsonschema), which the module's
  interpreter may still have.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from types import ModuleType
from typing import Any, ClassVar

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.azsim.vmss.plugins.module_utils._front import module_glue
from ansible_collections.azsim.vmss.plugins.plugin_utils._worker_module import (
    ModuleExit,
    WorkerCall,
    WorkerModule,
    plain_args,
)

COLLECTION_MODULES = "ansible_collections.azsim.vmss.plugins.modules"
IN_PROCESS_VARIABLE = "azsim_vmss_in_process"


@contextmanager
def _environment(variables: Mapping[str, Any]) -> Iterator[None]:
    """The task's ``environment:`` for the call, as a module's process would get it; the worker's own afterwards."""
    saved = {name: os.environ.get(name) for name in variables}
    try:
        os.environ.update({name: str(value) for name, value in variables.items()})
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _echoes_invocation(task_vars: dict[str, Any]) -> bool:
    # ansible-core 2.21 added INJECT_INVOCATION (default false); before it a module always echoed its arguments.
    if "INJECT_INVOCATION" not in C.config.get_configuration_definitions():
        return True
    return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars))


def _import_module(name: str) -> ModuleType | None:
    """The collection's module ``name``, or None when this Python cannot import it (the module's own process may)."""
    try:
        return importlib.import_module(f"{COLLECTION_MODULES}.{name}")
    except Exception:  # pylint: disable=broad-except  # run as a process, the module reports its own error
        return None


class ModuleAction(ActionBase):  # type: ignore[misc]  # ansible-core is untyped
    _supports_check_mode = True
    _supports_async = True

    # The module of the plugin's name, imported when the plugin's class is made. ansible-core loads the plugin in its
    # main process before it forks a worker for the task, so each worker finds the module and the core imported
    # already: the collection loader compiles them from source at every import (no bytecode), which was half the
    # worker's time for a call at N=1,000 (bench/module_vs_ping.py), once for every task.
    _preloaded: ClassVar[ModuleType | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._preloaded = _import_module(cls.__module__.rpartition(".")[2])

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars if task_vars is not None else {}
        module = self._module_for_worker(task_vars)
        if module is None:
            return self._run_as_process(tmp, task_vars)
        result: dict[str, Any] = super().run(tmp, task_vars)
        del tmp  # no effect, as for ansible.builtin.normal
        environment: dict[str, Any] = {}
        self._compute_environment_string(environment)
        call = WorkerCall(
            args=plain_args(self._task.args),
            name=self._task.action,
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            invocation=_echoes_invocation(task_vars),
        )
        try:
            with _environment(environment), module_glue.module_factory(partial(WorkerModule, call)):
                module.main()
        except ModuleExit as done:
            result.update(done.result)
            return result
        result.update(failed=True, msg=f"{self._task.action} returned without a result; please report this")
        return result

    def _module_for_worker(self, task_vars: dict[str, Any]) -> ModuleType | None:
        """The module's Python module when this call can run in the worker, else None (see the docstring above)."""
        if getattr(self._connection, "transport", None) != "local" or self._task.async_val:
            return None
        if self._play_context.become:
            return None
        if not self._in_process_wanted(task_vars):
            return None
        if not module_glue.requirements_met():
            return None
        name = (getattr(self._task, "resolved_action", None) or self._task.action).rpartition(".")[2]
        module = self._preloaded
        return module if module is not None and module.__name__.endswith(f".{name}") else _import_module(name)

    def _in_process_wanted(self, task_vars: dict[str, Any]) -> bool:
        """The variable ``azsim_vmss_in_process`` (default true); a value that is not a boolean fails the task."""
        value = self._templar.template(task_vars.get(IN_PROCESS_VARIABLE, True))
        try:
            return bool(boolean(value, strict=True))
        except TypeError:
            raise AnsibleActionFail(
                f"{IN_PROCESS_VARIABLE}: {value!r} is not a boolean; use true to run the module in Ansible's worker "
                "when the connection is local, or false to run it as its own process"
            ) from None

    def _run_as_process(self, tmp: Any, task_vars: dict[str, Any]) -> dict[str, Any]:
        """What ``ansible.builtin.normal`` does: the module as its own process (AnsiballZ), async if asked."""
        result: dict[str, Any] = super().run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result
