"""Money as exact decimals: rates, the hourly → monthly rule, currency codes, display.

Amounts are never floats: ``$0.46`` an hour is ``$331.20`` a month, exactly.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HOURS_PER_MONTH = 720
"""A month of Internet On-Demand is billed as 30 days of 24 hours."""

SUPPORTED_CURRENCIES = frozenset({"USD"})
CENT = Decimal("0.01")
RATE_PLACES = 4
"""Hourly rates are kept to 1/100 of a cent (``numeric(12,4)``)."""

_SYMBOLS = {"USD": "$"}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MONEY = re.compile(r"^\s*(-)?\s*\$\s*(\d+(?:\.\d+)?)\s*$")


class CurrencyError(ValueError):
    """A currency code that is malformed or not supported."""


def normalise_currency(code: str) -> str:
    """``"usd"`` → ``"USD"``: a three-letter ISO 4217 code, case-insensitive."""
    upper = code.strip().upper()
    if not _CURRENCY.match(upper):
        raise CurrencyError(f"'{code}' is not a three-letter ISO currency code")
    return upper


def supported_currency(code: str) -> str:
    """The normalised code when it is supported (only ``USD``), else :class:`CurrencyError`."""
    upper = normalise_currency(code)
    if upper not in SUPPORTED_CURRENCIES:
        supported = ", ".join(sorted(SUPPORTED_CURRENCIES))
        raise CurrencyError(f"currency {upper} is not supported; use {supported}")
    return upper


def hourly_rate(value: Decimal | str | int) -> Decimal:
    """A valid hourly rate: non-negative, at most four decimal places."""
    try:
        rate = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a decimal amount") from None
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"'{value}' is not a non-negative amount")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise ValueError(f"'{value}' has more than {RATE_PLACES} decimal places")
    return rate


def monthly_rate(hourly: Decimal) -> Decimal:
    """The monthly rate of an hourly rate: 720 hours, rounded half-up to the cent."""
    return (hourly * HOURS_PER_MONTH).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """``Decimal("331.2")`` → ``"$331.20"``; ``Decimal("0.4650")`` → ``"$0.465"``.

    Always at least two decimals; sub-cent digits of rates are kept, trailing zeros
    beyond the cent are dropped. No thousands separator, so clients can parse it.
    """
    code = normalise_currency(currency)
    if not amount.is_finite():
        raise ValueError("only finite amounts can be formatted")
    magnitude = abs(amount)
    if magnitude == magnitude.quantize(CENT):
        text = f"{magnitude.quantize(CENT):f}"
    else:
        text = f"{magnitude.normalize():f}"
    symbol = _SYMBOLS.get(code)
    body = f"{symbol}{text}" if symbol else f"{code} {text}"
    return f"-{body}" if amount < 0 else body


def parse_money(text: str) -> Decimal:
    """``"$331.20"`` → ``Decimal("331.20")`` (dollar amounts as this API prints them)."""
    match = _MONEY.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a dollar amount such as $0.46")
    value = Decimal(match.group(2))
    return -value if match.group(1) else value
