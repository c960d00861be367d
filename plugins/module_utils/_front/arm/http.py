# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A request, a response, and a route's context: how a route reaches the store (one transaction per call).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.requestlog import RequestLog
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.storepool import StorePool
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

ClockMode = Literal["instant", "manual", "scaled"]
CLOCK_MODES: tuple[ClockMode, ...] = ("instant", "manual", "scaled")
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """What one endpoint serves: its store, state files, public base URL and clock."""

    store_path: str
    files: StateFiles
    base_url: str  # https://127.0.0.1:PORT (no trailing slash)
    clock: ClockMode = "instant"
    page_size: int = 100
    clock_scale: float = 1.0  # virtual seconds per wall second, for clock "scaled"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_id: str
    virtual_time: str | None = None  # the store's clock when the request's transaction ended (request log)

    def param(self, name: str) -> str | None:
        """A query parameter by name, case-insensitively (ARM's api-version, $skiptoken, ...)."""
        wanted = name.lower()
        return next((v for k, v in self.query.items() if k.lower() == wanted), None)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}`` (a POST without a body is accepted)."""
        if not self.body.strip():
            return {}
        try:
            doc = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(
                400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {exc}."
            ) from None
        if not isinstance(doc, dict):
            raise ArmError(
                400, "InvalidRequestContent", f"The request content must be a JSON object, not {type(doc).__name__}."
            )
        return doc


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes | None = None  # the body already encoded (a kept answer, answers.py); None: encode ``body``


@dataclass
class Ctx:
    """What a route gets: the request and the endpoint's settings, and ``run`` to call an action."""

    request: Request
    settings: Settings
    log: RequestLog = field(default_factory=RequestLog)
    stores: StorePool | None = None  # the endpoint's kept connections (storepool.py)

    @property
    def api_version(self) -> str:
        return self.request.param("api-version") or ""

    @property
    def instant(self) -> bool:
        return self.settings.clock == "instant"

    def run(self, subscription_id: str, action: Callable[[Call], T], commit: bool = True) -> T:
        """Call ``action`` in one store transaction, as the Ansible glue does; errors propagate.

        ``commit=False`` (a GET) reads in a read transaction, which waits for no writer; an action that writes
        anyway (to throw it away) is run again in a write transaction that is rolled back, as check mode is.
        """
        stores = self.stores
        if stores is None:  # a Ctx of its own (tests): the store opened for this call alone, as a module does
            store = Store.open(self.settings.store_path)
            try:
                with store.transaction(commit=commit):
                    return self._call(store, subscription_id, action)
            finally:
                store.close()
        if commit:
            with stores.write() as store:
                return self._call(store, subscription_id, action)
        try:
            with stores.read() as store:
                return self._call(store, subscription_id, action)
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
        with stores.write(commit=False) as store:
            return self._call(store, subscription_id, action)

    def _call(self, store: Store, subscription_id: str, action: Callable[[Call], T]) -> T:
        self.request.virtual_time = format_timestamp(store.now())  # what a refused request saw
        result = action(Call(store, subscription_id))
        self.request.virtual_time = format_timestamp(store.now())
        return result

    def url(self, path: str, **query: str) -> str:
        """An absolute URL on this endpoint."""
        text = self.settings.base_url.rstrip("/") + path
        if query:
            text += "?" + urlencode(query, safe="$/:")
        return text
