# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records how long each task took, for the bench scripts (enable with ANSIBLE_CALLBACKS_ENABLED=bench_timer).

A task's duration runs from ``v2_playbook_on_task_start`` to the last host result of that task, as
profile_tasks measures it, with ``time.perf_counter``. A play with ``serial`` runs each task once
per batch: each run is one entry. The playbook's duration runs from ``v2_playbook_on_start`` to
``v2_playbook_on_stats`` (Ansible's start-up and inventory parsing are before it). Written as JSON
to the file named by the environment variable BENCH_TIMINGS when the playbook ends.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Write task durations to the JSON file named by BENCH_TIMINGS
description: Used by the azsim.vmss bench scripts only.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):  # type: ignore[misc]  # ansible-core is untyped
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None
        self._started = time.perf_counter()
        self._plays = 0

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._started = time.perf_counter()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._plays += 1

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._current = {"name": task.get_name(), "start": time.perf_counter(), "end": None, "results": {}}
        self._tasks.append(self._current)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def _result(self, status: str) -> None:
        if self._current is not None:
            self._current["end"] = time.perf_counter()
            self._current["results"][status] = self._current["results"].get(status, 0) + 1

    def v2_runner_on_ok(self, result: Any, **kwargs: Any) -> None:
        self._result("changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._result("failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._result("skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._result("unreachable")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        ended = time.perf_counter()
        out = {
            "playbook_s": ended - self._started,
            "plays": self._plays,
            "tasks": [
                {"name": t["name"], "duration_s": (t["end"] or t["start"]) - t["start"], "results": t["results"]}
                for t in self._tasks
            ],
        }
        path = os.environ.get("BENCH_TIMINGS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(out, handle, indent=2)
