"""Catalogue rules: speeds, country codes, pages."""

from __future__ import annotations

import pytest

from domain.catalog import (
    PageRequest,
    Speed,
    SpeedError,
    normalise_speed,
    parse_speed,
    supported_country_code,
)


@pytest.mark.parametrize(
    ("text", "mbps"),
    [
        ("100 Mbps", 100),
        ("100 mbps", 100),
        ("100Mbps", 100),
        (" 100  MBPS ", 100),
        ("1000 mbps", 1000),
        ("1 Gbps", 1000),
        ("1 gbps", 1000),
        ("1.5 Gbps", 1500),
        ("10 G", 10_000),
        ("500 M", 500),
        ("10 Mb/s", 10),
    ],
)
def test_parse_speed(text: str, mbps: int) -> None:
    assert parse_speed(text) == Speed(mbps)


@pytest.mark.parametrize(
    "text", ["", "100", "fast", "100 kbps", "0 Mbps", "0.5 Mbps", "1.2345 Gbps", "-1 Gbps", "1e3 M"]
)
def test_parse_speed_refuses_non_speeds(text: str) -> None:
    with pytest.raises(SpeedError):
        parse_speed(text)


def test_canonical_and_display_forms() -> None:
    assert normalise_speed("100 mbps") == "100 Mbps"
    assert normalise_speed("1 gbps") == "1000 Mbps"
    assert parse_speed("1000 Mbps").display == "1 Gbps"
    assert parse_speed("10 Gbps").display == "10 Gbps"
    assert parse_speed("1500 Mbps").display == "1500 Mbps"
    assert parse_speed("500 Mbps").display == "500 Mbps"
    assert sorted([parse_speed("1 Gbps"), parse_speed("50 Mbps"), parse_speed("200 Mbps")]) == [
        Speed(50),
        Speed(200),
        Speed(1000),
    ]


def test_only_the_us_country_code_is_supported() -> None:
    assert supported_country_code("100") == "100"
    assert supported_country_code(" 100 ") == "100"
    for bad in ("840", "US", "", "1000"):
        with pytest.raises(ValueError, match="100"):
            supported_country_code(bad)


def test_page_request_bounds_and_offset() -> None:
    assert PageRequest().offset == 0 and PageRequest().limit == 10
    assert PageRequest(number=3, size=25).offset == 50
    for number, size in ((0, 10), (1, 0), (1, 101), (1_000_001, 10)):
        with pytest.raises(ValueError):
            PageRequest(number=number, size=size)
