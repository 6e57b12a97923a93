"""Seed 001 step 5 over HTTP: billing accounts, filters, and each customer's isolation."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from store.billing import get_billing_account, get_default_us_account
from tests.problems import assert_problem

ACCOUNTS = "/Account/v1/billingAccount"

SEED_ACCOUNT = {
    "name": "Company or account name",
    "id": "5-RHQBGCGK",
    "invoiceDisplayNumber": "5-RHQBGCGK",
    "stringAddress": [
        {
            "streetAddress": "1025 ELDORADO BLVD.,  14C-511",
            "city": "BROOMFIELD",
            "stateOrProvince": "CO",
            "country": "USA",
            "postcode": "80021",
        }
    ],
    "currency": "USD",
    "countryCode": "100",
    "hqCountry": "US",
}
ACME_IDS = {"5-BN2RFY6L", "5-GW8JSD5T", "5-PL9XVC3J", "5-RHQBGCGK", "5-TQ4HZN8R", "5-WR7MKQ2P"}
GLOBEX_IDS = {"5-MC5RVW9K", "5-XZ3KLM7Q", "5-YH6TPB4N"}


def _with_customer(headers: dict[str, str], customer: str) -> dict[str, str]:
    return {**headers, "x-customer-number": customer}


async def _list(
    api: httpx.AsyncClient, headers: dict[str, str], customer: str, **params: Any
) -> dict[str, Any]:
    response = await api.get(ACCOUNTS, params=params, headers=_with_customer(headers, customer))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_seed_request_lists_the_seed_account(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    body = await _list(api, acme, "1-ABCDE", entitled="True", countryCode="100", currencyCode="usd")
    assert set(body) == {"billingAccount", "pageNumber", "pageSize", "resultCount"}
    assert (body["pageNumber"], body["pageSize"], body["resultCount"]) == (1, 10, 4)
    assert SEED_ACCOUNT in body["billingAccount"]
    ids = {a["id"] for a in body["billingAccount"]}
    assert ids == {"5-PL9XVC3J", "5-RHQBGCGK", "5-TQ4HZN8R", "5-WR7MKQ2P"}
    for account in body["billingAccount"]:
        assert set(account) == set(SEED_ACCOUNT)
        assert (account["currency"], account["countryCode"]) == ("USD", "100")


async def test_all_accounts_headquartered_in_the_us_or_not(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    body = await _list(api, acme, "1-ABCDE")
    assert body["resultCount"] == 6
    accounts = {a["id"]: a for a in body["billingAccount"]}
    assert set(accounts) == ACME_IDS
    assert list(accounts) == sorted(accounts)
    assert accounts["5-RHQBGCGK"] == SEED_ACCOUNT
    hq = {a["hqCountry"] for a in accounts.values()}
    assert {"US", "CA", "GB"} <= hq
    # Paying in USD from a US address does not make an account US-headquartered.
    assert accounts["5-PL9XVC3J"]["currency"] == "USD"
    assert accounts["5-PL9XVC3J"]["hqCountry"] == "GB"
    canada = accounts["5-BN2RFY6L"]
    assert (canada["currency"], canada["hqCountry"]) == ("CAD", "CA")
    assert canada["stringAddress"][0]["city"] == "TORONTO"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"entitled": "true"}, ACME_IDS - {"5-GW8JSD5T"}),
        ({"entitled": "True"}, ACME_IDS - {"5-GW8JSD5T"}),
        ({"entitled": "false"}, {"5-GW8JSD5T"}),
        ({"countryCode": "100"}, ACME_IDS - {"5-BN2RFY6L"}),
        ({"currencyCode": "USD"}, ACME_IDS - {"5-BN2RFY6L"}),
        ({"currencyCode": "uSd"}, ACME_IDS - {"5-BN2RFY6L"}),
        ({"entitled": "false", "currencyCode": "usd"}, {"5-GW8JSD5T"}),
    ],
)
async def test_filters(
    api: httpx.AsyncClient, acme: dict[str, str], params: dict[str, str], expected: set[str]
) -> None:
    body = await _list(api, acme, "1-ABCDE", **params)
    assert {a["id"] for a in body["billingAccount"]} == expected
    assert body["resultCount"] == len(expected)


async def test_accounts_are_paginated(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    pages = [await _list(api, acme, "1-ABCDE", pageSize=4, pageNumber=n) for n in (1, 2, 3)]
    assert [len(p["billingAccount"]) for p in pages] == [4, 2, 0]
    assert all(p["resultCount"] == 6 and p["pageSize"] == 4 for p in pages)
    assert [p["pageNumber"] for p in pages] == [1, 2, 3]
    ids = [a["id"] for p in pages for a in p["billingAccount"]]
    assert ids == sorted(ACME_IDS)


async def test_each_customer_sees_only_its_own_accounts(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str]
) -> None:
    theirs = await _list(api, globex, "1-XYZ99", pageSize=100)
    assert {a["id"] for a in theirs["billingAccount"]} == GLOBEX_IDS
    assert theirs["resultCount"] == 3
    assert {a["hqCountry"] for a in theirs["billingAccount"]} == {"US", "DE"}
    # Asking with the other customer's number is refused, not answered with its accounts.
    for headers, other in ((globex, "1-ABCDE"), (acme, "1-XYZ99")):
        response = await api.get(ACCOUNTS, headers=_with_customer(headers, other))
        assert_problem(response, 403, "x-customer-number")
        assert "5-RHQBGCGK" not in response.text and "5-XZ3KLM7Q" not in response.text


async def test_store_lookups_are_scoped_to_the_customer(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        mine = await get_billing_account(conn, "1-ABCDE", "5-RHQBGCGK")
        assert mine is not None
        assert (mine.id, mine.name, mine.hq_country) == (
            "5-RHQBGCGK",
            "Company or account name",
            "US",
        )
        assert (mine.currency, mine.country_code, mine.entitled) == ("USD", "100", True)
        assert await get_billing_account(conn, "1-XYZ99", "5-RHQBGCGK") is None
        assert await get_billing_account(conn, "1-ABCDE", "5-XZ3KLM7Q") is None
        assert await get_billing_account(conn, "1-ABCDE", "5-NOSUCH") is None
        default = await get_default_us_account(conn, "1-ABCDE")
        assert default is not None and default.id == "5-RHQBGCGK"
        theirs = await get_default_us_account(conn, "1-XYZ99")
        assert theirs is not None and theirs.id == "5-XZ3KLM7Q"
        assert await get_default_us_account(conn, "1-NOBODY") is None


async def test_x_customer_number_is_required(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    problem = assert_problem(await api.get(ACCOUNTS, headers=acme), 400, "x-customer-number")
    assert problem["errors"][0]["code"] == "required"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"entitled": "maybe"}, "entitled"),
        ({"countryCode": "124"}, "countryCode"),
        ({"countryCode": "US"}, "countryCode"),
        ({"countryCode": "1" * 9}, "countryCode"),
        ({"currencyCode": "CAD"}, "currencyCode"),
        ({"currencyCode": "dollars"}, "currencyCode"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageNumber": -1}, "pageNumber"),
    ],
)
async def test_bad_filters_are_400_naming_them(
    api: httpx.AsyncClient, acme: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await api.get(ACCOUNTS, params=params, headers=_with_customer(acme, "1-ABCDE"))
    assert_problem(response, 400, field)


async def test_billing_accounts_need_a_token(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(ACCOUNTS), 401, "Authorization")
    no_token = await api.get(ACCOUNTS, headers={"x-customer-number": "1-ABCDE"})
    assert_problem(no_token, 401, "Authorization")
