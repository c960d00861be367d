# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET answers kept for as long as the store is unchanged: the same request is not read and encoded again.

A read route's answer is a function of the request (its route, path and query: no header, no body), the
endpoint's settings, and the store's content, virtual clock included. With the clock ``instant`` or ``manual``
the virtual time moves only by a write to the store, so an answer stays right until the store changes:
``StorePool.version()`` (SQLite's ``data_version``: any commit by any connection of any process; the pool's
generation: the file opened anew) names the content an answer was computed from, and every kept answer
goes when it differs. With the clock ``scaled`` time passes between two requests without a write, so nothing
is kept (``ArmApp`` makes no cache then).

Only what the route returned is kept (status, its headers, the body's bytes, and of the body what the request
log reads: its ``error``) with the virtual time its transaction saw (the request log's); the request ids and
correlation headers are made for every request, and authentication and api-version checks are made before a
kept answer is looked for. At most ``MAX_ENTRIES`` answers and ``MAX_BYTES`` of bodies are kept, the oldest
dropped first (a list of a large scale set's VMs is megabytes).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Response

MAX_ENTRIES = 4096  # a bench's 640 scale sets, each with a few read routes, with room to spare
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Kept:
    """One answer as a route returned it, and the virtual time its transaction saw."""

    status: int
    body: Any  # None for an answer without a body; else only its "error" (what the request log reads), or {}
    headers: tuple[tuple[str, str], ...]
    payload: bytes
    virtual_time: str | None

    def response(self) -> Response:
        """A Response of its own (callers may change it: a HEAD drops the body) holding the kept bytes."""
        return Response(self.status, self.body, dict(self.headers), self.payload)


def keep(response: Response, virtual_time: str | None) -> Kept:
    """What to keep of ``response``; its body is encoded here, once, and the response carries those bytes."""
    body = response.body
    if response.payload is None:
        response.payload = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        # The decoded body is several times its bytes: the request log needs only its error (an operation's status).
        body = {"error": body["error"]} if isinstance(body, dict) and "error" in body else {}
    return Kept(response.status, body, tuple(response.headers.items()), response.payload, virtual_time)


class Answers:
    """The kept answers of one store version; safe to use from the server's request threads."""

    def __init__(self, size: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._size, self._max_bytes = size, max_bytes
        self._lock = threading.Lock()
        self._version: Hashable = None
        self._kept: dict[Hashable, Kept] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, version: Hashable, key: Hashable) -> Kept | None:
        """The answer kept for ``key`` at ``version``; None when there is none (every older one is dropped)."""
        with self._lock:
            if version != self._version:
                self._version, self._kept, self._bytes = version, {}, 0
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, version: Hashable, key: Hashable, kept: Kept) -> None:
        """Keep ``kept`` if the store is still at ``version`` as far as this cache knows (a request that saw a
        newer version meanwhile has dropped the older answers; this one must not come back among them)."""
        size = len(kept.payload)
        with self._lock:
            if version != self._version or key in self._kept or size > self._max_bytes:
                return
            while self._kept and (len(self._kept) >= self._size or self._bytes + size > self._max_bytes):
                self._bytes -= len(self._kept.pop(next(iter(self._kept))).payload)  # the oldest kept
            self._kept[key] = kept
            self._bytes += size

    def clear(self) -> None:
        with self._lock:
            self._version, self._kept, self._bytes = None, {}, 0
