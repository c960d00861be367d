# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image versions: Major.Minor.Build, three 32-bit integers, ordered part by part."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import is_version, newest, parse_version

MAX_PART = 2**31 - 1


@pytest.mark.parametrize(
    ("higher", "lower"),
    [
        ("1.10.0", "1.9.0"),
        ("1.0.10", "1.0.9"),
        ("2.0.0", "1.99.99"),
        ("10.0.0", "9.9.9"),
        ("0.0.1", "0.0.0"),
        ("20.04.202501010", "20.04.202412310"),
        ("22.04.202501010", "20.04.999999999"),
        ("20.4.202501010", "20.04.202412310"),  # leading zeros do not count
        (f"{MAX_PART}.0.0", f"{MAX_PART - 1}.{MAX_PART}.{MAX_PART}"),
    ],
)
def test_ordering(higher: str, lower: str) -> None:
    assert parse_version(higher, "version") > parse_version(lower, "version")
    assert newest([lower, higher]) == higher
    assert newest([higher, lower]) == higher


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1.0.0", (1, 0, 0)),
        ("0.0.0", (0, 0, 0)),
        ("20.04.202501010", (20, 4, 202501010)),
        ("01.002.0003", (1, 2, 3)),
        (f"{MAX_PART}.{MAX_PART}.{MAX_PART}", (MAX_PART, MAX_PART, MAX_PART)),
    ],
)
def test_parse_version(text: str, parts: tuple[int, int, int]) -> None:
    assert parse_version(text, "version") == parts
    assert is_version(text)


@pytest.mark.parametrize(("a", "b"), [("1.0.0", "1.0.0"), ("1.2.3", "01.02.03"), ("20.04.1", "20.4.1")])
def test_equal_versions(a: str, b: str) -> None:
    assert parse_version(a, "version") == parse_version(b, "version")


NOT_A_VERSION = "is not an image version; use Major.Minor.Build with whole numbers, e.g. 1.0.0"
TOO_LARGE = "has a part larger than 2147483647, which Azure does not allow"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("1.0", NOT_A_VERSION),
        ("1", NOT_A_VERSION),
        ("1.0.0.0", NOT_A_VERSION),
        ("latest", NOT_A_VERSION),
        ("Latest", NOT_A_VERSION),
        ("a.b.c", NOT_A_VERSION),
        ("1.0.x", NOT_A_VERSION),
        ("1..0", NOT_A_VERSION),
        (".1.0", NOT_A_VERSION),
        ("1.0.", NOT_A_VERSION),
        ("-1.0.0", NOT_A_VERSION),
        ("+1.0.0", NOT_A_VERSION),
        ("1.0.-0", NOT_A_VERSION),
        (" 1.0.0", NOT_A_VERSION),
        ("1.0.0 ", NOT_A_VERSION),
        ("1.0.0\n", NOT_A_VERSION),  # a bare $ would match before a final newline
        ("1.0.0\nlatest", NOT_A_VERSION),
        ("1_0.0.0", NOT_A_VERSION),
        ("1.0.0-beta", NOT_A_VERSION),
        ("v1.0.0", NOT_A_VERSION),
        ("", NOT_A_VERSION),
        ("99999999999.0.0", NOT_A_VERSION),  # 11 digits
        ("\u0661.\u0662.\u0663", NOT_A_VERSION),  # Arabic-Indic digits: \d without re.ASCII takes them
        ("\uff11.\uff10.\uff10", NOT_A_VERSION),  # full-width digits
        (None, NOT_A_VERSION),
        (1, NOT_A_VERSION),
        (1.0, NOT_A_VERSION),
        ((1, 0, 0), NOT_A_VERSION),
        (f"{MAX_PART + 1}.0.0", TOO_LARGE),
        (f"0.{MAX_PART + 1}.0", TOO_LARGE),
        (f"0.0.{MAX_PART + 1}", TOO_LARGE),
        ("9999999999.0.0", TOO_LARGE),
    ],
)
@pytest.mark.parametrize("where", ["image.version", "versions[2]"])
def test_rejections_name_the_option(value: object, why: str, where: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_version(value, where)
    assert info.value.message == f"{where}: {value!r} {why}"
    assert not is_version(value)


def test_newest() -> None:
    assert newest([]) is None
    assert newest(["1.0.0"]) == "1.0.0"
    assert newest(["1.9.0", "1.10.0", "1.2.30"]) == "1.10.0"
    assert newest(["1.2.3", "01.02.03"]) == "1.2.3"  # a tie keeps the first


def test_newest_refuses_an_invalid_version() -> None:
    with pytest.raises(InvalidInput, match="^version: 'latest' "):
        newest(["1.0.0", "latest"])


_PART = st.integers(min_value=0, max_value=MAX_PART)
_TRIPLE = st.tuples(_PART, _PART, _PART)


@given(st.lists(_TRIPLE, max_size=30))
def test_sorting_by_parse_version_is_sorting_the_integer_tuples(triples: list[tuple[int, int, int]]) -> None:
    texts = [".".join(map(str, t)) for t in triples]
    assert [parse_version(t, "v") for t in sorted(texts, key=lambda t: parse_version(t, "v"))] == sorted(triples)
    if texts:
        assert parse_version(newest(texts), "v") == max(triples)


@given(_TRIPLE, st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
def test_leading_zeros_do_not_change_the_version(triple: tuple[int, int, int], z1: int, z2: int, z3: int) -> None:
    text = ".".join("0" * z + str(p) for z, p in zip((z1, z2, z3), triple))
    if all(len(part) <= 10 for part in text.split(".")):
        assert parse_version(text, "v") == triple


@given(st.one_of(st.text(max_size=20), st.from_regex(r"\d{1,11}\.\d{1,11}\.\d{1,11}", fullmatch=True)))
def test_only_invalid_input_escapes_and_is_version_agrees(text: str) -> None:
    try:
        parts = parse_version(text, "v")
    except InvalidInput:
        assert not is_version(text)
        return
    assert is_version(text)
    assert text == ".".join(str(int(p)).zfill(len(p)) for p in text.split("."))  # plain ASCII digits only
    assert all(0 <= p <= MAX_PART for p in parts)
