# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint finds a request's route through a table by last segment: the same route as trying every one in turn.

Every route's path is made concrete (each ``(?P<name>...)`` a value), then varied: its case, a trailing slash, a
segment more, a non-ASCII letter that IGNORECASE folds. For each path and method, ``_match`` must answer what
trying ROUTES in order answers: the same route and parameters, or the same 404 or 405.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import app
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError

GROUP = re.compile(r"\(\?P<(?P<name>\w+)>\[\^/\]\+\)")
OPTIONAL = re.compile(r"\(\?:(?P<text>[^()]*)\)\?")  # the token route's (?:/v2.0)?: taken


def _reference(method: str, path: str) -> tuple[object, dict[str, str]] | tuple[int, str]:
    """What trying every route in ROUTES' order answers."""
    return _answer(lambda: app._first_match(app.ROUTES, method, path))


def _table(method: str, path: str) -> tuple[object, dict[str, str]] | tuple[int, str]:
    return _answer(lambda: app._match(method, path))


def _answer(match: Callable[[], tuple[app.Route, dict[str, str]]]) -> tuple[object, dict[str, str]] | tuple[int, str]:
    try:
        return match()
    except ArmError as exc:
        return (exc.status, exc.code)


def _concrete(route: app.Route) -> str:
    source = route.pattern.pattern[1:-1]
    path = OPTIONAL.sub(lambda m: m.group("text"), GROUP.sub(lambda m: f"v-{m.group('name')}", source))
    return path.replace("\\.", ".")


PATHS = sorted({_concrete(route) for route in app.ROUTES})


def _variants(path: str) -> list[str]:
    head, _sep, last = path.rpartition("/")
    return [
        path,
        path.upper(),
        path.lower(),
        path + "/",
        path + "/extra",
        f"{head}/{last.replace('s', 'ſ')}",  # LATIN SMALL LETTER LONG S: IGNORECASE folds it to s
        f"{head}/{last.replace('k', 'K')}",  # KELVIN SIGN: folded to k
        head,
    ]


def test_every_route_is_made_concrete() -> None:
    assert len(PATHS) > 40
    assert not [path for path in PATHS if "(?" in path or "[^" in path]


@pytest.mark.parametrize("path", PATHS)
def test_the_table_finds_what_trying_every_route_finds(path: str) -> None:
    for variant in _variants(path):
        for method in ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"):
            assert _table(method, variant) == _reference(method, variant), (method, variant)


def test_a_route_ending_in_plain_text_is_under_its_text_only() -> None:
    table = app._BY_LAST_SEGMENT
    latest = [route for route in app.ROUTES if route.pattern.pattern.endswith("/rollingUpgrades/latest$")]
    assert latest and all(route in table["latest"] for route in latest)
    assert not any(route in table[None] for route in latest)
    assert len(table["latest"]) < len(app.ROUTES) // 2
