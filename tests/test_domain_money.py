"""Money rules: exact decimals, the monthly rate, currency codes and display."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.money import (
    CurrencyError,
    format_money,
    hourly_rate,
    monthly_rate,
    normalise_currency,
    parse_money,
    supported_currency,
)


def test_monthly_rate_is_720_hours_exactly() -> None:
    assert monthly_rate(Decimal("0.46")) == Decimal("331.20")
    assert format_money(monthly_rate(Decimal("0.46"))) == "$331.20"  # not $331.20000000000005
    assert monthly_rate(Decimal("2.30")) == Decimal("1656.00")
    assert monthly_rate(Decimal("0")) == Decimal("0.00")


def test_monthly_rate_rounds_half_up_to_the_cent() -> None:
    assert monthly_rate(Decimal("0.0001")) == Decimal("0.07")  # 0.072
    assert monthly_rate(Decimal("0.4567")) == Decimal("328.82")  # 328.824
    assert monthly_rate(Decimal("0.00125")) == Decimal("0.90")  # 0.9 exactly
    assert monthly_rate(Decimal("0.0125")) == Decimal("9.00")
    assert monthly_rate(Decimal("0.1234")) == Decimal("88.85")  # 88.848


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0.46"), "$0.46"),
        (Decimal("0.4600"), "$0.46"),
        (Decimal("331.2"), "$331.20"),
        (Decimal("12.5"), "$12.50"),
        (Decimal("1E+3"), "$1000.00"),
        (Decimal("1656.00"), "$1656.00"),
        (Decimal("0.465"), "$0.465"),
        (Decimal("0.4567"), "$0.4567"),
        (Decimal("0"), "$0.00"),
        (Decimal("-1.5"), "-$1.50"),
    ],
)
def test_format_money(amount: Decimal, text: str) -> None:
    assert format_money(amount) == text
    assert parse_money(text) == amount


def test_format_money_of_other_currencies_uses_the_code() -> None:
    assert format_money(Decimal("3.5"), "cad") == "CAD 3.50"
    with pytest.raises(CurrencyError):
        format_money(Decimal("1"), "dollars")
    with pytest.raises(ValueError):
        format_money(Decimal("NaN"))


@pytest.mark.parametrize("text", ["0.46", "$", "$1,000.00", "USD 1", "$ 1.2.3", ""])
def test_parse_money_refuses_what_it_does_not_print(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


def test_currency_codes_are_case_insensitive_and_only_usd_is_supported() -> None:
    assert normalise_currency(" usd ") == "USD"
    assert supported_currency("usd") == "USD"
    assert supported_currency("UsD") == "USD"
    assert normalise_currency("eur") == "EUR"
    with pytest.raises(CurrencyError, match="not supported"):
        supported_currency("EUR")
    for bad in ("US", "USDD", "U$D", "", "12 "):
        with pytest.raises(CurrencyError, match="three-letter"):
            supported_currency(bad)


def test_hourly_rates_are_non_negative_with_at_most_four_places() -> None:
    assert hourly_rate("0.46") == Decimal("0.46")
    assert hourly_rate(Decimal("12.5000")) == Decimal("12.5")
    assert hourly_rate(3) == Decimal(3)
    for bad in ("-0.01", "0.00001", "abc", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            hourly_rate(bad)
