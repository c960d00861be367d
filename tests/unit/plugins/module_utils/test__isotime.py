# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO 8601 durations and timestamps on whole seconds of virtual time."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import (
    MAX_DURATION,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
)

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 604800
LAST_SECOND_OF_9999 = 253402300799  # 9999-12-31T23:59:59Z, the last instant format_timestamp can write


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0S", 0),
        ("P0D", 0),
        ("PT5M", 5 * MINUTE),
        ("PT3H", 3 * HOUR),
        ("P63D", 63 * DAY),
        ("PT1H30M", HOUR + 30 * MINUTE),
        ("P1W", WEEK),
        ("P1W2D", WEEK + 2 * DAY),
        ("P1DT2H3M4S", DAY + 2 * HOUR + 3 * MINUTE + 4),
        ("PT36H", 36 * HOUR),  # no carrying rules: 36 hours are 36 hours
        ("PT90S", 90),
        ("PT0005M", 5 * MINUTE),
        ("pt5m", 5 * MINUTE),  # lower case is accepted (the code upper-cases)
        ("p1dt1h", DAY + HOUR),
        (" PT5M ", 5 * MINUTE),  # surrounding blanks are stripped
        ("P36600D", MAX_DURATION),  # exactly the 100-year limit is allowed
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text, "advance") == seconds


def test_max_duration_is_100_years_of_366_days() -> None:
    assert MAX_DURATION == 100 * 366 * DAY


@pytest.mark.parametrize(
    "value",
    [
        "5 minutes",
        "P",
        "PT",
        "P1DT",
        "PT5",
        "5M",
        "P1M",  # months: not a fixed length
        "P1Y",  # years: likewise
        "P1Y2M",
        "PT0.5S",  # fractions
        "PT1,5S",
        "",
        "   ",
        None,
        5,
        300.0,
        True,
        ["PT5M"],
        "-PT5M",
        "+PT5M",
        "P-1D",
        "PT5M ago",
        "PT1H1H",
        "PT5M30H",  # units out of order
        "P2DT3H\nPT1H",
        "P36601D",  # over 100 years
        "PT3162240001S",
        "P99999999999999999999D",
        "PT５M",  # full-width digit: \d without re.ASCII takes it
        "P١D",  # Arabic-Indic digit
    ],
)
@pytest.mark.parametrize("where", ["advance", "upgrade_policy.pause_time_between_batches"])
def test_parse_duration_rejections_name_the_option(value: object, where: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_duration(value, where)
    assert info.value.message.startswith(f"{where}: {value!r} ")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (1, "PT1S"),
        (60, "PT1M"),
        (3600, "PT1H"),
        (5400, "PT1H30M"),
        (86400, "P1D"),
        (WEEK, "P7D"),
        (63 * DAY, "P63D"),
        (DAY + 1, "P1DT1S"),
        (DAY + HOUR + MINUTE + 1, "P1DT1H1M1S"),
        (DAY - 1, "PT23H59M59S"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


_FORMATTED = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@given(st.integers(min_value=0, max_value=10**8))
def test_format_duration_round_trips_and_is_the_shortest_form(seconds: int) -> None:
    text = format_duration(seconds)
    assert parse_duration(text, "x") == seconds
    if seconds == 0:
        assert text == "PT0S"
        return
    match = _FORMATTED.fullmatch(text)
    assert match is not None
    days, hours, minutes, secs = match.groups()
    parts = [p for p in (days, hours, minutes, secs) if p is not None]
    assert all(p == str(int(p)) and int(p) > 0 for p in parts)  # no zero parts, no leading zeros
    assert int(hours or 0) < 24 and int(minutes or 0) < 60 and int(secs or 0) < 60  # carried upwards
    assert text.endswith("T") is False


@given(
    weeks=st.integers(0, 50),
    days=st.integers(0, 400),
    hours=st.integers(0, 100),
    minutes=st.integers(0, 1000),
    secs=st.integers(0, 10**5),
)
def test_parse_duration_adds_the_parts(weeks: int, days: int, hours: int, minutes: int, secs: int) -> None:
    text = f"P{weeks}W{days}DT{hours}H{minutes}M{secs}S"
    assert parse_duration(text, "x") == weeks * WEEK + days * DAY + hours * HOUR + minutes * MINUTE + secs


# -- timestamps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2025-01-01T00:00:00Z", 1735689600),
        ("2025-01-01T03:00:00Z", 1735689600 + 3 * HOUR),
        ("2025-01-01T05:00:00+02:00", 1735689600 + 3 * HOUR),
        ("2024-12-31T22:00:00-05:00", 1735689600 + 3 * HOUR),
        ("2025-01-01T00:00:00-00:00", 1735689600),
        ("2025-01-01T00:00:00+00:00", 1735689600),
        ("2025-01-01T00:00:00.999Z", 1735689600),  # fractions of a second are cut off
        ("2024-02-29T12:00:00Z", 1709208000),  # a leap day
        (" 2025-01-01T00:00:00Z ", 1735689600),
        ("9999-12-31T23:59:59Z", LAST_SECOND_OF_9999),
    ],
)
def test_parse_timestamp(text: str, seconds: int) -> None:
    assert parse_timestamp(text, "to") == seconds


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-01T00:00:00",  # no zone
        "2025-01-01T00:00:00.5",
        "2025-01-01",
        "2025-01-01T00:00Z",
        "2025-01-01 00:00:00Z",
        "2025-01-01T00:00:00z",
        "2025-01-01T00:00:00 UTC",
        "2025-01-01T00:00:00+0200",
        "20250101T000000Z",
        "yesterday",
        "now",
        "",
        None,
        1735689600,
        "2025-02-30T00:00:00Z",  # no such day
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T23:59:60Z",  # leap seconds do not exist in virtual time
        "2025-01-01T00:00:00+24:00",
        "0000-01-01T00:00:00Z",
        "２０２５-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",  # after 9999-12-31T23:59:59Z: no format_timestamp could write it
    ],
)
def test_parse_timestamp_rejections_name_the_option(value: object) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_timestamp(value, "to")
    assert info.value.message.startswith(f"to: {value!r} ")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "1970-01-01T00:00:00Z"), (1735689600, "2025-01-01T00:00:00Z"), (1735700400, "2025-01-01T03:00:00Z")],
)
def test_format_timestamp(seconds: int, text: str) -> None:
    assert format_timestamp(seconds) == text


@given(st.integers(min_value=0, max_value=LAST_SECOND_OF_9999))
def test_timestamps_round_trip(seconds: int) -> None:
    text = format_timestamp(seconds)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text)
    assert parse_timestamp(text, "to") == seconds
    assert format_timestamp(parse_timestamp(text, "to")) == text


@given(
    seconds=st.integers(min_value=2 * DAY, max_value=LAST_SECOND_OF_9999 - 2 * DAY),
    offset_minutes=st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
)
def test_an_offset_names_the_same_instant(seconds: int, offset_minutes: int) -> None:
    import datetime

    zone = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    local = datetime.datetime.fromtimestamp(seconds, tz=zone).isoformat()
    assert parse_timestamp(local, "to") == seconds


@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", fullmatch=True),
    )
)
def test_parse_timestamp_accepts_only_what_it_can_format(text: str) -> None:
    """Only InvalidInput escapes, and whatever parses can be written back (no ValueError at format time)."""
    try:
        seconds = parse_timestamp(text, "to")
    except InvalidInput as exc:
        assert exc.message.startswith("to: ")
    else:
        format_timestamp(seconds)
