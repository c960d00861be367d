# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names: resource group and scale set names follow Azure's rules, in every module that takes them.

Azure's rules (learn.microsoft.com, "Naming rules and restrictions for Azure resources"):
- resource group: 1 to 90 characters; letters and digits (Unicode letters count), '_', '-', '.', '('
  and ')'; not ending in '.';
- virtual machine scale set: 1 to 64 characters; ASCII letters and digits, '_', '-', '.'; starting with
  a letter or digit; ending with a letter, digit or '_'.

A name that breaks them is refused by every module that takes it, with a message that names the
option, the value and the rule, and before anything is written: an existing store stays byte-identical,
and a store that does not exist yet is not created. A name that follows them works everywhere.

The rules are tables on the two checks (``check_resource_group`` and ``check_scale_set_name``, in
``_common/names.py``); each refused name also goes once through ``main()`` of ``vmss`` (the module that
writes), which must fail with the check's own message and write nothing. Every module reaches the checks
through the glue, which runs them before it opens the store: one wiring test per module (one bad resource
group, one bad scale set name) holds each of them to that.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.modules import (
    vm_image,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import call

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
GOOD_RG = "rg-names"
GOOD_NAME = "web"

VALID_RESOURCE_GROUPS = [
    "a",
    "rg",
    "RG-web_01.prod",
    "rg(1)",
    "(rg)",
    "-rg",
    "_rg",
    ".rg",
    "1",
    "a" * 90,
    "Ressourcengruppe-Äöü",
    "资源组",
    "группа_1",
]
INVALID_RESOURCE_GROUPS = [
    pytest.param("", id="empty"),
    pytest.param("rg.", id="ends-with-period"),
    pytest.param("..", id="only-periods"),
    pytest.param("a" * 91, id="91-characters"),
    pytest.param("rg web", id="space"),
    pytest.param(" rg", id="leading-space"),
    pytest.param("rg/web", id="slash"),
    pytest.param("../rg", id="path-traversal"),
    pytest.param("rg\\web", id="backslash"),
    pytest.param("rg#1", id="hash"),
    pytest.param("rg?x=1", id="query"),
    pytest.param("rg%2F", id="percent"),
    pytest.param("rg:1", id="colon"),
    pytest.param("rg*", id="asterisk"),
    pytest.param("rg\n", id="newline"),
    pytest.param("rg\x00x", id="nul"),
    pytest.param("rg\t", id="tab"),
    pytest.param("rg'1", id="quote"),
    pytest.param('rg"1', id="double-quote"),
    pytest.param("rg<1>", id="angle-brackets"),
    pytest.param("rg&x", id="ampersand"),
    pytest.param("rg+x", id="plus"),
    pytest.param("rg,x", id="comma"),
    pytest.param("rg;x", id="semicolon"),
    pytest.param("rg@x", id="at"),
    pytest.param("rg[1]", id="square-brackets"),
    pytest.param("rg{1}", id="braces"),
    pytest.param("rg😀", id="emoji"),
]
VALID_SCALE_SETS = ["a", "web", "Web01", "1web", "web-01", "web_01", "web.01", "web_", "w" * 64, "a-b.c_d"]
INVALID_SCALE_SETS = [
    pytest.param("", id="empty"),
    pytest.param("-web", id="starts-with-hyphen"),
    pytest.param("_web", id="starts-with-underscore"),
    pytest.param(".web", id="starts-with-period"),
    pytest.param("web-", id="ends-with-hyphen"),
    pytest.param("web.", id="ends-with-period"),
    pytest.param("w" * 65, id="65-characters"),
    pytest.param("web 01", id="space"),
    pytest.param("web/01", id="slash"),
    pytest.param("../web", id="path-traversal"),
    pytest.param("web\\01", id="backslash"),
    pytest.param("wéb", id="non-ascii-letter"),
    pytest.param("веб", id="cyrillic"),
    pytest.param("web#1", id="hash"),
    pytest.param("web?x", id="question-mark"),
    pytest.param("web:1", id="colon"),
    pytest.param("web\n", id="newline"),
    pytest.param("web\x00", id="nul"),
    pytest.param("web(1)", id="parentheses"),
    pytest.param("web@x", id="at"),
    pytest.param("web%", id="percent"),
    pytest.param("web*", id="asterisk"),
    pytest.param("web😀", id="emoji"),
]

# Every module that takes a resource group and a scale set name, with arguments that otherwise work.
TAKE_BOTH: dict[str, tuple[Any, dict[str, Any]]] = {
    "vmss": (
        vmss,
        {
            "image": {**IMAGE, "version": "latest"},
            "instances": ["web-a", "web-b"],
            "health_probe": {"protocol": "tcp", "port": 22},
        },
    ),
    "vmss_info": (vmss_info, {}),
    "vmss_upgrade_policy": (vmss_upgrade_policy, {"rolling_upgrade_policy": {"max_batch_instance_percent": 50}}),
    "vmss_os_rolling_upgrade": (vmss_os_rolling_upgrade, {}),
    "vmss_upgrade_history": (vmss_upgrade_history, {}),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A closed store with image 1.0.0 and the scale set rg-names/web; its bytes."""
    path = tmp_path_factory.mktemp("names") / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), **IMAGE, "version": "1.0.0"})["rc"] == 0
    module, args = TAKE_BOTH["vmss"]
    assert call(module, {"store": str(path), "resource_group": GOOD_RG, "name": GOOD_NAME, **args})["rc"] == 0
    return path.read_bytes()


@pytest.fixture
def store(tmp_path: Path, template: bytes) -> Path:
    path = tmp_path / "vmss.sqlite"
    path.write_bytes(template)
    return path


def refusal(check: Callable[[object], str], value: str) -> str:
    """The message ``check`` refuses ``value`` with."""
    with pytest.raises(InvalidInput) as refused:
        check(value)
    return refused.value.message


def assert_names_the_rule(msg: str, option: str, value: str, rule: str) -> None:
    assert "internal error" not in msg, msg
    assert msg.startswith(f"{option}: {value!r} is not a valid "), msg
    assert rule in msg, msg


def _folder(path: Path) -> list[str]:
    return sorted(os.listdir(path.parent))


def assert_refused_before_anything_is_written(
    module_name: str, option: str, value: str, msg: str, store: Path, tmp_path: Path
) -> None:
    """The module fails with ``msg`` when ``option`` is ``value``: on a store that stays byte-identical (and
    its folder as it was), and on a store path that does not exist yet, which is not created."""
    module, args = TAKE_BOTH[module_name]
    names = {"resource_group": GOOD_RG, "name": GOOD_NAME, option: value}
    before = store.read_bytes(), _folder(store)
    if "\x00" in value:
        # From Python 3.12 syslog refuses a NUL, so ansible-core's log of the invocation fails the module (its
        # message names no_target_syslog) before azsim.vmss sees the value. Refused and nothing written all the
        # same; then as with no_target_syslog set (``_ansible_no_log``, what the controller sends for it), the
        # value reaches azsim.vmss, whose own refusal is checked below on every Python.
        result = call(module, {"store": str(store), **names, **args})
        assert result["rc"] == 1 and result.get("failed") is True, result
        assert (store.read_bytes(), _folder(store)) == before
        args = {**args, "_ansible_no_log": True}
    result = call(module, {"store": str(store), **names, **args})
    assert result["rc"] == 1 and result.get("failed") is True, result
    assert result["msg"] == msg
    assert (store.read_bytes(), _folder(store)) == before

    missing = tmp_path / "new" / "vmss.sqlite"
    result = call(module, {"store": str(missing), **names, **args})
    assert result["rc"] == 1 and result.get("failed") is True, result
    assert result["msg"] == msg
    assert not missing.parent.exists(), "a refused name created the store"


# -- the rules: tables on the checks, each refusal also through vmss's main() ----------------------


@pytest.mark.parametrize("value", INVALID_RESOURCE_GROUPS)
def test_invalid_resource_group_is_refused_before_anything_is_written(store: Path, tmp_path: Path, value: str) -> None:
    msg = refusal(check_resource_group, value)
    assert_names_the_rule(msg, "resource_group", value, "1 to 90")
    assert_refused_before_anything_is_written("vmss", "resource_group", value, msg, store, tmp_path)


@pytest.mark.parametrize("value", INVALID_SCALE_SETS)
def test_invalid_scale_set_name_is_refused_before_anything_is_written(store: Path, tmp_path: Path, value: str) -> None:
    msg = refusal(check_scale_set_name, value)
    assert_names_the_rule(msg, "name", value, "1 to 64")
    assert_refused_before_anything_is_written("vmss", "name", value, msg, store, tmp_path)


# -- the wiring: every module that takes the names checks them before it opens the store -----------


@pytest.mark.parametrize("module_name", sorted(TAKE_BOTH))
def test_every_module_checks_the_names_before_anything_is_written(
    store: Path, tmp_path: Path, module_name: str
) -> None:
    for option, check, value in (
        ("resource_group", check_resource_group, "../rg"),
        ("name", check_scale_set_name, "../web"),
    ):
        msg = refusal(check, value)
        assert_refused_before_anything_is_written(module_name, option, value, msg, store, tmp_path)


# -- names that follow the rules -------------------------------------------------------------------


def _every_module_works(store: Path, resource_group: str, name: str) -> None:
    common = {"store": str(store), "resource_group": resource_group, "name": name}
    for module_name in ("vmss", "vmss_upgrade_policy", "vmss_os_rolling_upgrade", "vmss_upgrade_history", "vmss_info"):
        module, args = TAKE_BOTH[module_name]
        result = call(module, {**common, **args})
        assert result["rc"] == 0, (module_name, result.get("msg"))
    info = call(vmss_info, common)
    assert info["exists"] is True
    assert info["vmss"]["name"] == name
    assert f"/resourceGroups/{resource_group}/" in info["vmss"]["id"]
    listed = call(vmss_info, {"store": str(store), "resource_group": resource_group})
    assert [v["vmss"]["name"] for v in listed["scale_sets"]] == [name]


@pytest.mark.parametrize("value", VALID_RESOURCE_GROUPS)
def test_valid_resource_group_works_everywhere(store: Path, value: str) -> None:
    assert check_resource_group(value) == value
    _every_module_works(store, value, GOOD_NAME)


@pytest.mark.parametrize("value", VALID_SCALE_SETS)
def test_valid_scale_set_name_works_everywhere(store: Path, value: str) -> None:
    assert check_scale_set_name(value) == value
    _every_module_works(store, "rg-valid", value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a b", id="space"),
        pytest.param("a/b", id="slash"),
        pytest.param("", id="empty"),
        pytest.param("x" * 256, id="256-characters"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a\nb", id="newline"),
    ],
)
def test_invalid_instance_name_is_refused_and_nothing_is_written(store: Path, value: str) -> None:
    """Instance names are inventory host names: printable, no spaces or '/', up to 255 characters."""
    before = store.read_bytes(), _folder(store)
    module, args = TAKE_BOTH["vmss"]
    result = call(
        module,
        {"store": str(store), "resource_group": GOOD_RG, "name": GOOD_NAME, **{**args, "instances": ["ok-1", value]}},
    )
    assert result["rc"] == 1 and result["msg"].startswith("instances[1].name: "), result
    assert (store.read_bytes(), _folder(store)) == before
