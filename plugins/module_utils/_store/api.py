# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the core may ask of an open store, as a type: ``store.Store`` is the class that does it.

The core (actions, model, engine, views) names this ``Store``, not store.py's, so that a read-only module's AnsiballZ
payload carries none of the writes, the encoder and the event queue: AnsiballZ packs every file a module
names in an import, ``TYPE_CHECKING`` ones included (issue 14 item 3). A read-only module's glue gives its
action a ``ReadStore`` (reading.py), which has the reading half of this and a transaction that never commits.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol


class Store(Protocol):
    path: str
    conn: sqlite3.Connection
    # Per-call caches and the writes they owe the store before COMMIT.
    extras: dict[str, Any]
    before_commit: list[Any]

    @property
    def in_transaction(self) -> bool: ...

    @property
    def created(self) -> bool: ...

    # -- reading (ReadStore) -----------------------------------------------------------------------

    def now(self) -> int: ...

    def get_doc(self, table: str, where: dict[str, Any]) -> dict[str, Any] | None: ...

    def list_docs(self, table: str, where: dict[str, Any], order: str = "rowid") -> list[dict[str, Any]]: ...

    def instance_rows(self, scale_set: str) -> Iterator[tuple[int, str]]: ...

    def instance_texts(self, scale_set: str, size: int) -> Iterator[list[str]]: ...

    def recent_runs(self, scale_set: str, kind: str, since: int | None, limit: int | None) -> list[dict[str, Any]]: ...

    # -- writing (Store) ---------------------------------------------------------------------------

    def set_now(self, seconds: int) -> None: ...

    def fingerprint_salt(self) -> bytes: ...

    def put_doc(self, table: str, key: dict[str, Any], doc: Mapping[str, Any]) -> None: ...

    def put_docs(self, table: str, rows: list[tuple[dict[str, Any], Mapping[str, Any]]]) -> None: ...

    def write_instances(self, scale_set: str, changed: Iterable[tuple[int, str]], removed: list[int]) -> None: ...

    def encode(self, doc: Any) -> str: ...

    def delete_docs(self, table: str, where: dict[str, Any]) -> None: ...

    # -- the event queue (Store) -------------------------------------------------------------------

    def write_events(self) -> None: ...

    def schedule(self, due: int, kind: str, subject: str, payload: dict[str, Any] | None = None) -> int: ...

    def next_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None: ...

    def pop_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None: ...

    def pending_events(self, subject: str | None = None, kind: str | None = None) -> list[dict[str, Any]]: ...

    def cancel_events(self, subject: str, kind: str | None = None) -> None: ...

    def cancel_events_under(self, subject: str) -> None: ...

    def reschedule_event(self, subject: str, kind: str, due: int | None, payload: dict[str, Any]) -> None: ...

    def delete_event(self, seq: int) -> None: ...
