"""Pure rules of the order request and the order model (no servers)."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from domain.order_request import OrderRequestBody, response_echo, rule_violations
from domain.orders import OrderState, new_order_request_id, order_workflow_id
from domain.secrets import hash_secret, token_digest, verify_secret
from domain.service_activation import SaOrderBody, sa_state
from tests.ordering import order_body


def test_order_request_ids_are_time_based_uuids_with_a_random_node() -> None:
    ids = {new_order_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 1 for u in parsed)
    assert len({u.node for u in parsed}) > 1  # not the machine's MAC address
    assert order_workflow_id("abc") == "order-abc"


def test_seed_body_breaks_no_rule() -> None:
    body = OrderRequestBody.model_validate(order_body("NaaS-1"))
    assert rule_violations(body) == []


def test_delete_needs_no_quote_nor_characteristics() -> None:
    raw = order_body(None, action="delete", service_id="77000000001")
    raw["productOrderItem"][0]["product"]["productCharacteristic"] = []
    assert rule_violations(OrderRequestBody.model_validate(raw)) == []


def test_every_broken_rule_is_reported_at_once() -> None:
    raw = order_body("NaaS-1")
    raw["productOrderItem"][0]["quantity"] = 3
    raw["productOrderItem"][0]["productOffering"]["id"] = "1"
    raw["channel"][0]["id"] = "1"
    fields = {v.field for v in rule_violations(OrderRequestBody.model_validate(raw))}
    assert fields == {
        "productOrderItem[0].quantity",
        "productOrderItem[0].productOffering.id",
        "channel[0].id",
    }


@pytest.mark.parametrize("number", ["+16157691234", "+12125550123"])
def test_us_numbers_are_accepted(number: str) -> None:
    raw = order_body("NaaS-1")
    raw["relatedContactInformation"][0]["number"] = number
    OrderRequestBody.model_validate(raw)


@pytest.mark.parametrize("number", ["+10157691234", "+1615769123", "16157691234", "+33612345678"])
def test_other_numbers_are_refused(number: str) -> None:
    raw = order_body("NaaS-1")
    raw["relatedContactInformation"][0]["number"] = number
    with pytest.raises(ValidationError):
        OrderRequestBody.model_validate(raw)


def test_response_echo_keeps_unknown_members_and_adds_the_tmf_item_fields() -> None:
    raw = order_body("NaaS-1")
    raw["customField"] = {"a": 1}
    echo = response_echo("id-1", OrderRequestBody.model_validate(raw))
    assert echo["id"] == "id-1"
    assert echo["customField"] == {"a": 1}
    item = echo["productOrderItem"][0]  # type: ignore[index]
    assert item["@type"] == "ProductOrderItem" and item["itemPrice"] is None


def test_terminal_states() -> None:
    assert {s for s in OrderState if s.terminal} == {"SUCCEEDED", "FAILED", "CANCELLED"}
    assert sa_state(OrderState.RUNNING) == "RECEIVED"
    assert sa_state(OrderState.CANCELLED) == "DONE_FAILED"
    assert sa_state(OrderState.SUCCEEDED) == "DONE_SUCCESS"


def test_sa_body_requires_every_field() -> None:
    with pytest.raises(ValidationError):
        SaOrderBody.model_validate(
            {"accessId": "A1", "service": "BB-100-10", "operation": "ACTIVATE"}
        )


def test_secret_hashes_verify_and_are_salted() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second
    assert verify_secret("s3cret", first) and not verify_secret("other", first)
    assert not verify_secret("s3cret", "garbage")
    assert token_digest("a") != token_digest("b") and len(token_digest("a")) == 32
