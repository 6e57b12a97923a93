"""Every rule of the seed's orderRequest property table gets a 400 naming its field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.ordering import SEED_ORDER, order_body
from tests.problems import assert_problem

Body = dict[str, Any]


def _item(body: Body) -> Body:
    item: Body = body["productOrderItem"][0]
    return item


def _char(body: Body, index: int) -> Body:
    char: Body = _item(body)["product"]["productCharacteristic"][index]
    return char


def _set(path: Callable[[Body], None]) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        path(body)
        return body

    return apply


CASES: list[tuple[str, Callable[[Body], Body], str]] = [
    ("externalId too long", _set(lambda b: b.update(externalId="X" * 21)), "externalId"),
    ("externalId missing", _set(lambda b: b.pop("externalId")), "externalId"),
    (
        "billingAccount.id missing",
        _set(lambda b: b["billingAccount"].pop("id")),
        "billingAccount.id",
    ),
    (
        "billingAccount.name missing",
        _set(lambda b: b["billingAccount"].pop("name")),
        "billingAccount.name",
    ),
    ("wrong channel id", _set(lambda b: b["channel"][0].update(id="98")), "channel[0].id"),
    ("wrong channel name", _set(lambda b: b["channel"][0].update(name="Web")), "channel[0].id"),
    ("no channel", _set(lambda b: b.update(channel=[])), "channel"),
    ("quantity 2", _set(lambda b: _item(b).update(quantity=2)), "productOrderItem[0].quantity"),
    (
        "unknown action",
        _set(lambda b: _item(b).update(action="upgrade")),
        "productOrderItem[0].action",
    ),
    (
        "two items",
        _set(lambda b: b["productOrderItem"].append(copy.deepcopy(_item(b)))),
        "productOrderItem",
    ),
    ("no items", _set(lambda b: b.update(productOrderItem=[])), "productOrderItem"),
    (
        "wrong specification",
        _set(lambda b: _item(b)["product"]["productSpecification"].update(id="5002")),
        "productOrderItem[0].product.productSpecification.id",
    ),
    (
        "wrong offering",
        _set(lambda b: _item(b)["productOffering"].update(id="719")),
        "productOrderItem[0].productOffering.id",
    ),
    (
        "VLAN not auto",
        _set(lambda b: _char(b, 1).update(value="Manual")),
        "productOrderItem[0].product.productCharacteristic[1].value",
    ),
    (
        "block /27",
        _set(lambda b: _char(b, 2).update(value="/27")),
        "productOrderItem[0].product.productCharacteristic[2].value",
    ),
    (
        "routing BGP",
        _set(lambda b: _char(b, 3).update(value="BGP")),
        "productOrderItem[0].product.productCharacteristic[3].value",
    ),
    (
        "service name missing",
        _set(lambda b: _item(b)["product"]["productCharacteristic"].pop(0)),
        "productOrderItem[0].product.productCharacteristic",
    ),
    (
        "service name blank",
        _set(lambda b: _char(b, 0).update(value="  ")),
        "productOrderItem[0].product.productCharacteristic[0].value",
    ),
    (
        "unknown characteristic",
        _set(
            lambda b: _item(b)["product"]["productCharacteristic"].append(
                {"name": "Colour", "value": "blue"}
            )
        ),
        "productOrderItem[0].product.productCharacteristic[4].name",
    ),
    ("quote missing", _set(lambda b: b.update(quote=[])), "quote[0].id"),
    ("quote id empty", _set(lambda b: b["quote"][0].update(id="")), "quote[0].id"),
    (
        "non-US phone",
        _set(lambda b: b["relatedContactInformation"][0].update(number="+441632960961")),
        "relatedContactInformation[0].number",
    ),
    (
        "phone not E.164",
        _set(lambda b: b["relatedContactInformation"][0].update(number="615-769-1234")),
        "relatedContactInformation[0].number",
    ),
    (
        "bad e-mail",
        _set(lambda b: b["relatedContactInformation"][0].update(emailAddress="first.lastname@")),
        "relatedContactInformation[0].emailAddress",
    ),
    (
        "no contact",
        _set(lambda b: b.update(relatedContactInformation=[])),
        "relatedContactInformation",
    ),
    (
        "contact role missing",
        _set(lambda b: b["relatedContactInformation"][0].pop("role")),
        "relatedContactInformation[0].role",
    ),
    (
        "modify without serviceId",
        _set(lambda b: _item(b).update(action="modify")),
        "productOrderItem[0].product.id",
    ),
    (
        "delete without serviceId",
        _set(lambda b: _item(b).update(action="delete")),
        "productOrderItem[0].product.id",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_order_request_is_400_naming_the_field(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    case: str,
    mutate: Callable[[Body], Body],
    field: str,
) -> None:
    body = mutate(order_body("NaaS-1"))
    response = await api.post("/Customer/v3/Ordering/orderRequest", headers=acme, json=body)
    assert_problem(response, 400, field)


async def test_body_that_is_not_json_is_400(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    response = await api.post(
        "/Customer/v3/Ordering/orderRequest",
        headers={**acme, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert_problem(response, 400)


async def test_seed_example_body_passes_shape_validation(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    """The seed's own example only fails on its made-up quote, not on its shape."""
    response = await api.post("/Customer/v3/Ordering/orderRequest", headers=acme, json=SEED_ORDER)
    assert_problem(response, 422, "quote[0].id")


async def test_numeric_external_id_as_in_seed_000_is_accepted_as_text(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    body = order_body("NaaS-1")
    body["externalId"] = 1702578835
    response = await api.post("/Customer/v3/Ordering/orderRequest", headers=acme, json=body)
    assert_problem(response, 422, "quote[0].id")  # got past validation to the quote check
