"""Pure webhook rules: signatures (checked against the standardwebhooks package),
secrets, callback URL policy, subscription queries, retry delays, the payload."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain.events import AppendOrderEventInput, FeedOrder, OrderEventRecord
from domain.webhooks import (
    CallbackRejected,
    check_address,
    check_callback,
    new_secret,
    order_webhook_event,
    parse_query,
    retry_delay,
    sign,
    signature_headers,
    webhook_body,
)


def test_secret_is_whsec_and_random() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    body = b'{"eventId":"e1","x":"\xc3\xa5"}'
    now = int(datetime.now(UTC).timestamp())
    headers = signature_headers(secret, "msg_1", now, body)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(now)
    assert headers["webhook-signature"].startswith("v1,")
    Webhook(secret).verify(body, headers)
    # The package's own signature is the same string.
    expected = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), body.decode())
    assert headers["webhook-signature"] == expected


def test_tampering_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = signature_headers(secret, "msg_1", now, b"{}")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"x":1}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(b"{}", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b"{}", {**headers, "webhook-id": "msg_2"})


def test_signing_refuses_a_malformed_secret() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        sign("whsec_not base64!", "m", 1, b"")


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/x",
        "https://127.0.0.1/x",
        "https://127.1.2.3:8443/x",
        "https://localhost/x",
        "https://api.localhost/x",
        "https://[::1]/x",
        "https://10.0.0.1/x",
        "https://172.16.5.4/x",
        "https://192.168.1.1/x",
        "https://100.64.0.1/x",
        "https://169.254.169.254/x",
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://[::ffff:192.168.1.1]/x",
        "https://0.0.0.0/x",
        "https://224.0.0.1/x",
        "https://me:pw@93.184.215.14/x",
        "https://93.184.215.14:0/x",
        "https://93.184.215.14:99999/x",
        "gopher://93.184.215.14/x",
        "https:///x",
        "https://" + "a" * 2000 + ".com/",
    ],
)
def test_production_rules_refuse(url: str) -> None:
    with pytest.raises(CallbackRejected):
        check_callback(url, require_https=True, allow_private=False)


def test_production_rules_accept_public_https() -> None:
    host = check_callback(
        "https://93.184.215.14:8443/x?t=1", require_https=True, allow_private=False
    )
    assert host == ("93.184.215.14", 8443, True)
    named = check_callback("https://hooks.example.com/x", require_https=True, allow_private=False)
    assert named == ("hooks.example.com", 443, False)  # resolved and checked at I/O time


def test_dev_rules_allow_private_and_http_but_not_nonsense() -> None:
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://10.0.0.1/x"):
        check_callback(url, require_https=False, allow_private=True)
    for url in ("http://0.0.0.0/x", "http://224.0.0.1/x", "ftp://127.0.0.1/x"):
        with pytest.raises(CallbackRejected):
            check_callback(url, require_https=False, allow_private=True)


def test_resolved_addresses_are_checked_too() -> None:
    check_address("93.184.215.14", allow_private=False)
    for address in ("127.0.0.1", "10.1.1.1", "fe80::1%eth0", "::ffff:127.0.0.1"):
        with pytest.raises(CallbackRejected):
            check_address(address, allow_private=False)
    check_address("10.1.1.1", allow_private=True)


def test_query_parsing() -> None:
    assert parse_query(None) is None
    assert parse_query("  ") is None
    assert parse_query("eventType=DONE_SUCCESS,DONE_FAILED") == ["DONE_FAILED", "DONE_SUCCESS"]
    assert parse_query("eventType=DONE_SUCCESS&eventType=ORDER_RECEIVED") == [
        "DONE_SUCCESS",
        "ORDER_RECEIVED",
    ]
    assert parse_query("eventType=ProductOrderStateChangeEvent") is None
    assert parse_query("?eventType=DONE_FAILED") == ["DONE_FAILED"]
    for bad in ("eventType=NOPE", "state=DONE_SUCCESS", "eventType=", "garbage"):
        with pytest.raises(ValueError):
            parse_query(bad)


def test_retry_delays_follow_the_schedule_with_jitter_and_repeat_the_last() -> None:
    schedule = [0, 5, 300, 1800]
    assert retry_delay(schedule, 1, 0.5) == pytest.approx(5)
    assert retry_delay(schedule, 2, 0.5) == pytest.approx(300)
    assert retry_delay(schedule, 3, 0.0) == pytest.approx(1800 * 0.9)
    assert retry_delay(schedule, 3, 0.999) == pytest.approx(1800 * 1.1, rel=1e-3)
    assert retry_delay(schedule, 50, 0.5) == pytest.approx(1800)  # never gives up
    assert retry_delay([0, 0], 1, 0.5) > 0


def _record(event_type: str, payload: dict[str, object]) -> OrderEventRecord:
    event = AppendOrderEventInput(
        dedupe_key="k",
        customer_number="1-ABCDE",
        order_id="a1b2",
        event_type=event_type,
        order=FeedOrder(
            path="/api/2.3.1/orders/a1b2",
            accessId="STTA0001",
            service="BB-100-10",
            operation="ACTIVATE",
            state=event_type,
            message="broken" if event_type == "DONE_FAILED" else "",
        ),
        payload=payload,
    )
    return OrderEventRecord(
        **event.model_dump(),
        event_id="0b6f3f3e-0000-4000-8000-000000000001",
        seq=7,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_payload_is_tmf_style() -> None:
    record = _record("DONE_SUCCESS", {"orderId": 88000000012, "serviceId": "77000000001"})
    event = order_webhook_event(record, "https://iod.example/")
    body = webhook_body(event)
    assert body.startswith(b'{"eventId":"0b6f3f3e-0000-4000-8000-000000000001"')
    data = event.model_dump(mode="json", exclude_none=True)
    assert data["eventTime"] == "2026-01-02T03:04:05Z"
    assert data["eventType"] == "ProductOrderStateChangeEvent"
    assert data["event"]["productOrder"] == {
        "id": "a1b2",
        "href": "https://iod.example/api/2.3.1/orders/a1b2",
        "state": "completed",
        "orderId": "88000000012",
        "serviceId": "77000000001",
    }
    assert data["event"]["serviceActivation"]["accessId"] == "STTA0001"


@pytest.mark.parametrize(
    ("event_type", "payload", "state"),
    [
        ("ORDER_RECEIVED", {}, "acknowledged"),
        ("ORDER_IN_PROGRESS", {}, "inProgress"),
        ("DONE_FAILED", {"errorCode": "STEP_FAILED"}, "failed"),
        ("DONE_FAILED", {"errorCode": "ORDER_CANCELLED"}, "cancelled"),
        ("ORDER_CANCELLED", {}, "cancelled"),
    ],
)
def test_tmf_states(event_type: str, payload: dict[str, object], state: str) -> None:
    order = order_webhook_event(_record(event_type, payload), "http://x").event.productOrder
    assert order is not None and order.state == state
