"""Catalogue rules: the Internet On-Demand product, speeds, country codes, paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PRODUCT_CODE = "718"
PRODUCT_NAME = "Internet On-Demand"
PRODUCT_FAMILY = "Internet On-Demand"
SOURCE_SYSTEM = "NaaS ExternalAPI"
DEFAULT_CIRCUIT_TYPE = "Hosted-NNI Internet"

US_COUNTRY_CODE = "100"
"""The operator's billing country code of the US, the only one the API filters on."""
SUPPORTED_COUNTRY_CODES = frozenset({US_COUNTRY_CODE})

HOURLY_TERM = "Hourly Rate"
MONTHLY_TERM = "Monthly Rate"

MAX_PAGE_SIZE = 100
MAX_PAGE_NUMBER = 1_000_000

_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mg])(?:bps|b/s|b)?\s*$", re.IGNORECASE)
_MAX_MBPS = 400_000


class SpeedError(ValueError):
    """Text that is not a bandwidth such as ``100 Mbps`` or ``1 Gbps``."""


@dataclass(frozen=True, order=True)
class Speed:
    """A bandwidth in whole Mbps; ordered by bandwidth."""

    mbps: int

    @property
    def canonical(self) -> str:
        """How speeds are stored and compared: always in Mbps, ``"1000 Mbps"``."""
        return f"{self.mbps} Mbps"

    @property
    def display(self) -> str:
        """For people: whole gigabits in Gbps (``"1 Gbps"``), the rest in Mbps."""
        if self.mbps >= 1000 and self.mbps % 1000 == 0:
            return f"{self.mbps // 1000} Gbps"
        return f"{self.mbps} Mbps"


def parse_speed(text: str) -> Speed:
    """``"100 mbps"``, ``"100Mbps"``, ``"1 Gbps"``, ``"1.5 gbps"``, ``"1000 M"`` → a Speed."""
    match = _SPEED.match(text)
    if match is None:
        raise SpeedError(f"'{text}' is not a speed such as '100 Mbps' or '1 Gbps'")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        raise SpeedError(f"'{text}' is not a speed") from None
    mbps = number * (1000 if match.group(2).lower() == "g" else 1)
    if mbps != mbps.to_integral_value() or not 1 <= mbps <= _MAX_MBPS:
        raise SpeedError(f"'{text}' is not a whole number of Mbps between 1 and {_MAX_MBPS}")
    return Speed(int(mbps))


def normalise_speed(text: str) -> str:
    """The canonical form of a speed: ``"1 gbps"`` → ``"1000 Mbps"``."""
    return parse_speed(text).canonical


def supported_country_code(code: str) -> str:
    stripped = code.strip()
    if stripped not in SUPPORTED_COUNTRY_CODES:
        raise ValueError(f"country code '{code}' is not supported; use {US_COUNTRY_CODE} (US)")
    return stripped


@dataclass(frozen=True)
class PageRequest:
    """``pageNumber`` (from 1) and ``pageSize`` as the API takes them."""

    number: int = 1
    size: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.number <= MAX_PAGE_NUMBER:
            raise ValueError(f"pageNumber must be between 1 and {MAX_PAGE_NUMBER}")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise ValueError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        return self.size
