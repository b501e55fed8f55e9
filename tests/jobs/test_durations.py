"""Durations typed by people ("1h30m") and written back for them ("1h 30m")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1.5h", 5400),
        (".5m", 30),
        ("90", 90),
        ("2.5", 2.5),
        (" 2H ", 7200),
        ("850 ms", 0.85),
        ("0", 0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5x", "", "h", "1h x", "x1h", "1.5.5h", "-5m", "1 h 30", "١٥m", "inf", "nan"])
def test_parse_duration_refuses_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    assert str(raised.value) == (
        f"{text!r} is not a duration: use a number with s, m, h, d or w, like 90s, 15m, 2h or 1d"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5400, "1h 30m"),
        (45, "45s"),
        (183600, "2d 3h"),
        (0.85, "850 ms"),
        (0.0004, "0s"),
        (0, "0s"),
        (59.6, "1m"),
        (93784, "1d 2h 3m 4s"),
        (-90, "-1m 30s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9))
def test_whole_seconds_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=999))
def test_milliseconds_round_trip(millis: int) -> None:
    assert parse_duration(format_duration(millis / 1000)) == pytest.approx(millis / 1000)
