# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``GET /azsim/openapi.json``: an OpenAPI 3 document made from the route table, so it cannot drift.

Each route's regular expression is turned back into OpenAPI path templates: a named group becomes
``{name}``, an optional or alternative group ``(?:…)`` becomes one template per variant, escaped
characters lose their backslash. A pattern using any other regular-expression syntax raises
``ValueError`` instead of being guessed at, so a new route that cannot be described fails the test
that asks every route to appear (tests/unit/plugins/module_utils/test__arm_admin.py).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

_NAMED = re.compile(r"\(\?P<(?P<name>\w+)>")
_SPECIAL = set("()[]{}*+?|^$\\")
_ESCAPED = set("./-_~:")
API_VERSION_PATTERN = r"^\d{4}-\d{2}-\d{2}(-[A-Za-z]+)?$"


class RouteLike(Protocol):
    @property
    def methods(self) -> tuple[str, ...]: ...

    @property
    def pattern(self) -> re.Pattern[str]: ...

    @property
    def arm(self) -> bool: ...

    @property
    def api_version(self) -> bool: ...

    @property
    def handler(self) -> Any: ...


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the group opened at ``start``."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\\":
            continue
        if char == "(" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == ")" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced group in route pattern {text!r}")


def _split_alternatives(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for index, char in enumerate(text):
        escaped = index > 0 and text[index - 1] == "\\"
        if char == "(" and not escaped:
            depth += 1
        elif char == ")" and not escaped:
            depth -= 1
        if char == "|" and depth == 0 and not escaped:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _expand(text: str) -> list[str]:
    """Every variant of ``text`` with the first ``(?:…)`` group resolved, recursively."""
    start = text.find("(?:")
    if start < 0:
        return [text]
    end = _closing(text, start)
    inner, rest = text[start + 3 : end], text[end + 1 :]
    options = _split_alternatives(inner)
    if rest.startswith("?"):
        rest = rest[1:]
        options.append("")
    return [variant for option in options for variant in _expand(text[:start] + option + rest)]


def _unescape(text: str, source: str) -> str:
    out, index = "", 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _ESCAPED:
            out += text[index + 1]
            index += 2
            continue
        if char in _SPECIAL:
            raise ValueError(f"route pattern {source!r}: {char!r} cannot be written as an OpenAPI path")
        out += char
        index += 1
    return out


def templates(pattern: str) -> list[str]:
    """The OpenAPI path templates a route's regular expression matches (``{name}`` for each named group)."""
    body = pattern.removeprefix("^").removesuffix("$")
    named = body
    while (found := _NAMED.search(named)) is not None:
        end = _closing(named, found.start())
        named = named[: found.start()] + "\x00" + found.group("name") + "\x01" + named[end + 1 :]
    paths = []
    for variant in _expand(named):
        text = _unescape(variant, pattern).replace("\x00", "{").replace("\x01", "}")
        paths.append(text)
    return paths


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "target": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

_SUCCESS = {"GET": ("200",), "HEAD": ("200",), "PUT": ("200", "201"), "PATCH": ("200", "202"), "POST": ("200", "202")}
_SUCCESS_DELETE = ("200", "202", "204")


def _operation(route: RouteLike, method: str, path: str, operation_id: str) -> dict[str, Any]:
    doc = (getattr(route.handler, "__doc__", None) or "").strip().splitlines()
    summary = doc[0] if doc else route.handler.__name__.replace("_", " ")
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
        for name in re.findall(r"\{(\w+)\}", path)
    ]
    if route.arm or route.api_version:
        # The form app.py checks (InvalidApiVersionParameter otherwise): YYYY-MM-DD with an optional suffix.
        version = {"type": "string", "pattern": API_VERSION_PATTERN}
        parameters.append({"name": "api-version", "in": "query", "required": True, "schema": version})
    codes = _SUCCESS_DELETE if method == "DELETE" else _SUCCESS.get(method, ("200",))
    responses: dict[str, Any] = {code: {"description": "Success."} for code in codes}
    responses["default"] = {
        "description": "An error in Azure's envelope.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["arm" if route.arm else "endpoint"],
        "parameters": parameters,
        "responses": responses,
    }
    if route.arm:
        operation["security"] = [{"bearer": []}]
    if method in ("PUT", "PATCH", "POST"):
        media = "application/x-www-form-urlencoded" if path.endswith("/token") else "application/json"
        operation["requestBody"] = {"required": False, "content": {media: {"schema": {"type": "object"}}}}
    return operation


def document(routes: Iterable[RouteLike], base_url: str, version: str = "1.0.0") -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``routes`` served at ``base_url``."""
    paths: dict[str, dict[str, Any]] = {}
    seen_ids: set[str] = set()
    for route in routes:
        methods = list(route.methods)
        if "GET" in methods and "HEAD" not in methods:
            methods.append("HEAD")  # every GET route answers HEAD (ARM's existence checks)
        for path in templates(route.pattern.pattern):
            for method in methods:
                base_id = f"{method.lower()}_{route.handler.__name__}"
                operation_id, count = base_id, 1
                while operation_id in seen_ids:
                    count += 1
                    operation_id = f"{base_id}_{count}"
                seen_ids.add(operation_id)
                paths.setdefault(path, {})[method.lower()] = _operation(route, method, path, operation_id)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "azsim.vmss Azure Resource Manager endpoint",
            "version": version,
            "description": "Every route this endpoint serves, made from its route table.",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Error": _ERROR_SCHEMA},
        },
    }
