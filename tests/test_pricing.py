"""Seed 001 steps 3 and 4 over HTTP: prices per speed, and quotes stored with their expiry."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.main import create_app
from config.settings import Settings
from store.quotes import get_own_quote, get_quote
from tests.problems import assert_problem

PRICE = "/Product/v1/price"
PRICE_REQUEST = "/Product/v1/priceRequest"
SEED_SITE = "PL0001247634"

SEED_PRICE_REQUEST: dict[str, Any] = {
    "sourceSystem": "NaaS ExternalAPI",
    "customerPriceRequestDescription": "NaaS Price Request",
    "customerPurchaseOrderNumber": "PO-12345",
    "customerNumber": "1-ABCDE",
    "currencyCode": "USD",
    "masterSiteId": SEED_SITE,
    "productCode": "718",
    "partnerId": "43558",
    "productName": "Internet On-Demand",
    "speed": "100 Mbps",
}
REQUIRED = [
    "sourceSystem",
    "customerNumber",
    "currencyCode",
    "masterSiteId",
    "partnerId",
    "productCode",
    "speed",
]
SEED_ADDRESS = {
    "masterSiteId": SEED_SITE,
    "streetAddress": "100 CenturyLink Dr",
    "city": "Monroe",
    "stateOrProvince": "LA",
    "locality": "Ouachita Parish",
    "country": "US",
    "postCode": "71203",
    "postCodeExtension": "2041",
}


def price_request(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SEED_PRICE_REQUEST)
    body.update(changes)
    return body


# --- Step 3: GET /Product/v1/price -------------------------------------------------------


async def test_prices_at_the_seed_site_as_in_the_seed(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    response = await api.get(
        PRICE, params={"masterSiteId": SEED_SITE, "productCode": "718"}, headers=acme
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"location", "pricePerSpeed"}
    assert body["location"] == [SEED_ADDRESS]
    assert {
        "speed": "100 Mbps",
        "price": "$0.46",
        "term": "Hourly Rate",
        "displayValue": "100 Mbps",
    } in body["pricePerSpeed"]
    by_speed = {p["speed"]: p for p in body["pricePerSpeed"]}
    assert list(by_speed) == [
        "10 Mbps",
        "50 Mbps",
        "100 Mbps",
        "200 Mbps",
        "500 Mbps",
        "1000 Mbps",
        "2000 Mbps",
        "5000 Mbps",
        "10000 Mbps",
    ]
    assert by_speed["1000 Mbps"] == {
        "speed": "1000 Mbps",
        "price": "$2.30",
        "term": "Hourly Rate",
        "displayValue": "1 Gbps",
    }
    assert by_speed["10000 Mbps"]["price"] == "$12.50"
    assert all(p["term"] == "Hourly Rate" for p in body["pricePerSpeed"])
    rates = [Decimal(p["price"].removeprefix("$")) for p in body["pricePerSpeed"]]
    assert rates == sorted(rates)


async def test_edge_sites_offer_fewer_speeds(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    site = await pool.fetchval(
        "SELECT master_site_id FROM locations WHERE city = 'Houston' AND partner_id = '43558'"
    )
    body = (
        await api.get(PRICE, params={"masterSiteId": site, "productCode": "718"}, headers=acme)
    ).json()
    speeds = [p["speed"] for p in body["pricePerSpeed"]]
    assert speeds[-1] == "1000 Mbps" and "10000 Mbps" not in speeds
    assert body["location"][0]["city"] == "Houston"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"productCode": "718"}, 400, "masterSiteId"),
        ({"masterSiteId": SEED_SITE}, 400, "productCode"),
        ({"masterSiteId": "", "productCode": "718"}, 400, "masterSiteId"),
        ({"masterSiteId": "PL0000000000", "productCode": "718"}, 404, "masterSiteId"),
        ({"masterSiteId": "PL0001258311", "productCode": "718"}, 404, "masterSiteId"),
        ({"masterSiteId": SEED_SITE, "productCode": "719"}, 404, "productCode"),
        ({"masterSiteId": "x" * 65, "productCode": "718"}, 400, "masterSiteId"),
    ],
)
async def test_price_lookup_problems(
    api: httpx.AsyncClient, acme: dict[str, str], params: dict[str, str], status: int, field: str
) -> None:
    assert_problem(await api.get(PRICE, params=params, headers=acme), status, field)


# --- Step 4: POST /Product/v1/priceRequest ------------------------------------------------


async def test_seed_price_request_returns_a_quote_as_in_the_seed(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool, settings: Settings
) -> None:
    response = await api.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "priceRequest", "price", "expiresAt"}
    assert re.fullmatch(r"NaaS-[1-9]\d*", body["id"])
    assert response.headers["Location"] == f"{PRICE_REQUEST}/{body['id']}"
    assert body["priceRequest"] == SEED_PRICE_REQUEST
    assert list(body["priceRequest"]) == list(SEED_PRICE_REQUEST)  # echoed in the client's order
    again = await api.get(f"{PRICE_REQUEST}/{body['id']}", headers=acme)
    assert list(again.json()["priceRequest"]) == list(SEED_PRICE_REQUEST)
    assert body["price"] == [
        {"speed": "100 Mbps", "price": "$0.46", "term": "Hourly Rate"},
        {"speed": "100 Mbps", "price": "$331.20", "term": "Monthly Rate"},
    ]

    row = await pool.fetchrow("SELECT * FROM quotes WHERE id = $1", body["id"])
    assert row is not None
    assert row["customer_number"] == "1-ABCDE"
    assert row["master_site_id"] == SEED_SITE
    assert row["partner_id"] == "43558"
    assert row["product_code"] == "718"
    assert row["speed"] == "100 Mbps"
    assert row["currency_code"] == "USD"
    assert row["hourly_rate"] == Decimal("0.46")
    assert row["monthly_rate"] == Decimal("331.20")
    assert row["price_request"] == SEED_PRICE_REQUEST
    assert row["consumed_by"] is None and row["consumed_at"] is None
    assert settings.quote_ttl_seconds == 900
    assert row["expires_at"] - row["created_at"] == timedelta(minutes=15)
    assert body["expiresAt"].startswith(row["expires_at"].strftime("%Y-%m-%dT%H:%M:%S"))


async def test_get_quote_returns_the_stored_quote(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    created = (await api.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)).json()
    async with pool.acquire() as conn:
        quote = await get_quote(conn, created["id"])
        assert await get_quote(conn, "NaaS-0") is None
    assert quote is not None
    assert quote.id == created["id"]
    assert quote.customer_number == "1-ABCDE"
    assert (quote.master_site_id, quote.partner_id, quote.product_code) == (
        SEED_SITE,
        "43558",
        "718",
    )
    assert (quote.speed, quote.currency_code) == ("100 Mbps", "USD")
    assert quote.hourly_rate == Decimal("0.46") and quote.monthly_rate == Decimal("331.20")
    assert quote.expires_at - quote.created_at == timedelta(seconds=900)
    assert quote.consumed_by is None and quote.consumed_at is None
    assert quote.price_request == SEED_PRICE_REQUEST


async def test_quote_ids_are_unique_and_never_reused(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    ids = [
        (await api.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)).json()["id"]
        for _ in range(3)
    ]
    numbers = [int(i.removeprefix("NaaS-")) for i in ids]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    await pool.execute("DELETE FROM quotes WHERE id = $1", ids[-1])
    again = (await api.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)).json()["id"]
    assert int(again.removeprefix("NaaS-")) > numbers[-1]


@pytest.mark.parametrize(
    ("speed", "canonical", "hourly", "monthly"),
    [
        ("100 mbps", "100 Mbps", "$0.46", "$331.20"),
        ("1000 Mbps", "1000 Mbps", "$2.30", "$1656.00"),
        ("1 Gbps", "1000 Mbps", "$2.30", "$1656.00"),
        ("10 gbps", "10000 Mbps", "$12.50", "$9000.00"),
        ("10 Mbps", "10 Mbps", "$0.12", "$86.40"),
    ],
)
async def test_speeds_are_matched_whatever_their_spelling(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    speed: str,
    canonical: str,
    hourly: str,
    monthly: str,
) -> None:
    response = await api.post(PRICE_REQUEST, headers=acme, json=price_request(speed=speed))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["priceRequest"]["speed"] == speed  # the request is echoed as sent
    assert body["price"] == [
        {"speed": canonical, "price": hourly, "term": "Hourly Rate"},
        {"speed": canonical, "price": monthly, "term": "Monthly Rate"},
    ]


async def test_currency_code_is_not_case_sensitive(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    response = await api.post(PRICE_REQUEST, headers=acme, json=price_request(currencyCode="usd"))
    assert response.status_code == 201, response.text
    stored = await pool.fetchval(
        "SELECT currency_code FROM quotes WHERE id = $1", response.json()["id"]
    )
    assert stored == "USD"


async def test_optional_properties_may_be_left_out(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    minimal = {key: SEED_PRICE_REQUEST[key] for key in REQUIRED}
    response = await api.post(PRICE_REQUEST, headers=acme, json=minimal)
    assert response.status_code == 201, response.text
    assert response.json()["priceRequest"] == minimal


async def test_quote_lifetime_follows_the_setting(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client, acme: dict[str, str]
) -> None:
    app = create_app(
        settings.model_copy(update={"quote_ttl_seconds": 60}), pool=pool, temporal=temporal_client
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://iod.test") as short:
        response = await short.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)
    assert response.status_code == 201, response.text
    row = await pool.fetchrow(
        "SELECT created_at, expires_at FROM quotes WHERE id = $1", response.json()["id"]
    )
    assert row is not None
    assert row["expires_at"] - row["created_at"] == timedelta(seconds=60)


@pytest.mark.parametrize("field", REQUIRED)
async def test_each_required_property_is_400_when_missing(
    api: httpx.AsyncClient, acme: dict[str, str], field: str
) -> None:
    body = price_request()
    del body[field]
    problem = assert_problem(await api.post(PRICE_REQUEST, headers=acme, json=body), 400, field)
    assert [e["code"] for e in problem["errors"]] == ["required"]
    blank = price_request(**{field: "  "})
    assert_problem(await api.post(PRICE_REQUEST, headers=acme, json=blank), 400, field)
    null = price_request(**{field: None})
    assert_problem(await api.post(PRICE_REQUEST, headers=acme, json=null), 400, field)


async def test_an_empty_body_names_every_required_property(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    problem = assert_problem(await api.post(PRICE_REQUEST, headers=acme, json={}), 400)
    assert sorted(e["field"] for e in problem["errors"]) == sorted(REQUIRED)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sourceSystem": "NaaS InternalAPI"}, "sourceSystem"),
        ({"sourceSystem": "naas externalapi"}, "sourceSystem"),
        ({"currencyCode": "EUR"}, "currencyCode"),
        ({"currencyCode": "US"}, "currencyCode"),
        ({"currencyCode": "US Dollar"}, "currencyCode"),
        ({"productCode": "719"}, "productCode"),
        ({"productCode": 718}, "productCode"),
        ({"speed": "fast"}, "speed"),
        ({"speed": "100"}, "speed"),
        ({"speed": 100}, "speed"),
        ({"customerNumber": ["1-ABCDE"]}, "customerNumber"),
        ({"masterSiteId": "P" * 65}, "masterSiteId"),
        ({"customerPurchaseOrderNumber": "x" * 256}, "customerPurchaseOrderNumber"),
    ],
)
async def test_invalid_values_are_400_naming_the_property(
    api: httpx.AsyncClient, acme: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = await api.post(PRICE_REQUEST, headers=acme, json=price_request(**changes))
    problem = assert_problem(response, 400, field)
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"masterSiteId": "PL0000000000"}, "masterSiteId", "unknown_site"),
        ({"masterSiteId": "PL0001258311"}, "masterSiteId", "unknown_site"),  # not NaaS-enabled
        ({"partnerId": "99999"}, "partnerId", "unknown_partner"),
        ({"partnerId": "362232"}, "partnerId", "partner_mismatch"),
        ({"speed": "300 Mbps"}, "speed", "speed_not_offered"),
        ({"speed": "100 Gbps"}, "speed", "speed_not_offered"),
    ],
)
async def test_what_the_catalogue_does_not_offer_is_422(
    api: httpx.AsyncClient, acme: dict[str, str], changes: dict[str, Any], field: str, code: str
) -> None:
    response = await api.post(PRICE_REQUEST, headers=acme, json=price_request(**changes))
    problem = assert_problem(response, 422, field)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]


async def test_speed_not_offered_lists_the_offered_speeds(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    site = await pool.fetchval(
        "SELECT master_site_id FROM locations WHERE city = 'Hillsboro' AND partner_id = '362232'"
    )
    body = price_request(masterSiteId=site, partnerId="362232", speed="10 Gbps")
    problem = assert_problem(await api.post(PRICE_REQUEST, headers=acme, json=body), 422, "speed")
    assert "1000 Mbps" in problem["errors"][0]["message"]
    body["speed"] = "1 Gbps"
    assert (await api.post(PRICE_REQUEST, headers=acme, json=body)).status_code == 201


async def test_every_catalogue_problem_is_named_at_once(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM quotes")
    body = price_request(masterSiteId="PL0000000000", partnerId="99999")
    problem = assert_problem(await api.post(PRICE_REQUEST, headers=acme, json=body), 422)
    assert {e["field"] for e in problem["errors"]} == {"masterSiteId", "partnerId"}
    assert await pool.fetchval("SELECT count(*) FROM quotes") == before


async def test_a_customer_prices_only_for_its_own_customer_number(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str], pool: asyncpg.Pool
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM quotes")
    forged = await api.post(
        PRICE_REQUEST, headers=globex, json=price_request(customerNumber="1-ABCDE")
    )
    assert assert_problem(forged, 403, "customerNumber")["errors"][0]["code"] == (
        "forbidden_customer"
    )
    unknown = await api.post(PRICE_REQUEST, headers=acme, json=price_request(customerNumber="1-X"))
    assert_problem(unknown, 403, "customerNumber")
    assert await pool.fetchval("SELECT count(*) FROM quotes") == before

    own = await api.post(
        PRICE_REQUEST, headers=globex, json=price_request(customerNumber="1-XYZ99")
    )
    assert own.status_code == 201
    owner = await pool.fetchval(
        "SELECT customer_number FROM quotes WHERE id = $1", own.json()["id"]
    )
    assert owner == "1-XYZ99"


async def test_a_customer_sees_only_its_own_quotes(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str], pool: asyncpg.Pool
) -> None:
    created = await api.post(PRICE_REQUEST, headers=acme, json=SEED_PRICE_REQUEST)
    quote_id = created.json()["id"]
    mine = await api.get(f"{PRICE_REQUEST}/{quote_id}", headers=acme)
    assert mine.status_code == 200
    assert mine.json() == created.json()
    theirs = await api.get(f"{PRICE_REQUEST}/{quote_id}", headers=globex)
    assert_problem(theirs, 404, "id")
    assert_problem(await api.get(f"{PRICE_REQUEST}/NaaS-0", headers=acme), 404, "id")
    assert_problem(await api.get(f"{PRICE_REQUEST}/{'9' * 65}", headers=acme), 400, "id")
    async with pool.acquire() as conn:
        assert await get_own_quote(conn, "1-XYZ99", quote_id) is None
        found = await get_own_quote(conn, "1-ABCDE", quote_id)
        assert found is not None and found.id == quote_id


async def test_pricing_needs_a_token_before_anything_else(api: httpx.AsyncClient) -> None:
    assert_problem(await api.post(PRICE_REQUEST, json={}), 401, "Authorization")
    assert_problem(await api.post(PRICE_REQUEST, json=SEED_PRICE_REQUEST), 401, "Authorization")
    assert_problem(await api.get(PRICE), 401, "Authorization")
    assert_problem(await api.get(f"{PRICE_REQUEST}/NaaS-1"), 401, "Authorization")


async def test_malformed_bodies_are_400(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    broken = await api.post(
        PRICE_REQUEST,
        headers={**acme, "Content-Type": "application/json"},
        content=b'{"sourceSystem": ',
    )
    assert_problem(broken, 400)
    listed = await api.post(PRICE_REQUEST, headers=acme, json=[SEED_PRICE_REQUEST])
    assert_problem(listed, 400)
