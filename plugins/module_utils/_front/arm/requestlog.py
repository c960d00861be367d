# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request log behind ``GET /azsim/requests``: what was asked and answered, for tests to assert on.

An entry holds the method, path, api-version, status, error code, request ids and the virtual time:
never a body, a query string other than api-version, or a header (the Authorization header and token
requests' client secrets stay out). The last ``MAX_ENTRIES`` are kept in memory, numbered from 1 so a
reader can ask only for those after the last one it saw.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, TypedDict

MAX_ENTRIES = 1000


class Entry(TypedDict):
    seq: int
    method: str
    path: str
    api_version: str | None
    status: int
    error_code: str | None
    request_id: str
    client_request_id: str | None
    virtual_time: str | None


class RequestLog:
    """A bounded, thread-safe log of the endpoint's answers (cheroot serves on a thread pool)."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0
        self._virtual_time: str | None = None

    def add(
        self,
        *,
        method: str,
        path: str,
        api_version: str | None,
        status: int,
        body: Any,
        request_id: str,
        client_request_id: str | None,
        virtual_time: str | None,
    ) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        with self._lock:
            # A request that did not reach the store (a token, the metadata) happened at the last time seen.
            self._virtual_time = virtual_time or self._virtual_time
            self._seq += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "method": method,
                    "path": path,
                    "api_version": api_version,
                    "status": status,
                    "error_code": code if isinstance(code, str) else None,
                    "request_id": request_id,
                    "client_request_id": client_request_id,
                    "virtual_time": self._virtual_time,
                }
            )

    def entries(self, since: int = 0) -> list[Entry]:
        """The kept entries numbered after ``since``, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > since]  # type: ignore[misc]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
