"""Webhooks, the pure parts: Standard Webhooks signing, secrets, callback URL rules,
subscription queries, retry delays and the payload sent to subscribers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, Field

from domain.events import ORDER_EVENT_TYPES, FeedOrder, OrderEventRecord

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_CALLBACK_LENGTH = 2000

ORDER_EVENT_NAME = "ProductOrderStateChangeEvent"
TEST_EVENT_NAME = "WebhookTestEvent"
TMF_WILDCARDS = frozenset({ORDER_EVENT_NAME})
"""Query values that mean "every order event" (what TMF hub clients usually send)."""


# --- secrets and signatures -------------------------------------------------------


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _secret_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("not a whsec_ signing secret") from err


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


# --- callback URLs ----------------------------------------------------------------


class CallbackRejected(ValueError):
    """The callback URL may not be used; the message says why (safe to show)."""


class CallbackHost(NamedTuple):
    host: str
    port: int
    is_address: bool
    """The host is an IP address literal (already checked); a name must be resolved."""


def check_callback(url: str, *, require_https: bool, allow_private: bool) -> CallbackHost:
    """Syntax and policy of a callback URL; returns its host (a name must be resolved and
    its addresses checked with :func:`check_address` too: that needs I/O).

    https only when ``require_https``; no credentials in the URL; no loopback, private,
    link-local, multicast or otherwise non-public address unless ``allow_private``.
    """
    if len(url) > MAX_CALLBACK_LENGTH:
        raise CallbackRejected(f"the callback URL is longer than {MAX_CALLBACK_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise CallbackRejected(f"the callback is not a valid URL: {err}") from None
    if parts.scheme not in ("http", "https"):
        raise CallbackRejected("the callback must be an http(s) URL")
    if require_https and parts.scheme != "https":
        raise CallbackRejected("the callback must use https")
    if parts.username is not None or parts.password is not None:
        raise CallbackRejected("the callback URL may not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise CallbackRejected("the callback URL has no host")
    if port == 0:
        raise CallbackRejected("the callback URL has an invalid port")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not allow_private and (
            host.lower() == "localhost" or host.lower().endswith(".localhost")
        ):
            raise CallbackRejected("the callback may not point at this host") from None
        return CallbackHost(host, port, is_address=False)
    check_address(str(address), allow_private=allow_private)
    return CallbackHost(host, port, is_address=True)


def check_address(address: str, *, allow_private: bool) -> None:
    """Refuse an address a callback must not reach (also applied to resolved hosts)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        raise CallbackRejected(f"the callback may not point at {ip}")
    if allow_private:
        return
    if ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or not ip.is_global:
        raise CallbackRejected(
            f"the callback may not point at a private, loopback or link-local address ({ip})"
        )


# --- subscription query -----------------------------------------------------------


def parse_query(query: str | None) -> list[str] | None:
    """``eventType=DONE_SUCCESS,DONE_FAILED`` → the types delivered; None means all.

    ``eventType`` may repeat; ``ProductOrderStateChangeEvent`` means every order event.
    """
    if query is None or not query.strip():
        return None
    wanted: set[str] = set()
    everything = False
    for key, value in parse_qsl(query.strip().lstrip("?"), keep_blank_values=True):
        if key != "eventType":
            raise ValueError(f"unsupported query key {key!r}; only eventType is supported")
        for name in (v.strip() for v in value.split(",")):
            if name in TMF_WILDCARDS:
                everything = True
            elif name in ORDER_EVENT_TYPES:
                wanted.add(name)
            else:
                known = ", ".join((*ORDER_EVENT_TYPES, *sorted(TMF_WILDCARDS)))
                raise ValueError(f"unknown eventType {name!r}; known: {known}")
    if everything:
        return None
    if not wanted:
        raise ValueError("the query names no eventType")
    return sorted(wanted)


# --- retries ----------------------------------------------------------------------

MIN_RETRY_DELAY = 0.05


def retry_delay(schedule: Sequence[float], failed_attempts: int, jitter: float) -> float:
    """Seconds to wait after ``failed_attempts`` failures (≥ 1) of one message.

    ``schedule[i]`` is the delay before attempt ``i + 1`` (``schedule[0]``, normally 0,
    is the first attempt, sent at once); past its end the last delay repeats, so a
    receiver that stays down keeps being retried. ``jitter`` in [0, 1) spreads the delay
    by ±10 % so that retries after an outage don't arrive in lockstep.
    """
    if not schedule:
        return 60.0
    base = schedule[min(max(failed_attempts, 1), len(schedule) - 1)]
    return max(MIN_RETRY_DELAY, base * (0.9 + 0.2 * jitter))


# --- payload ----------------------------------------------------------------------


class WebhookProductOrder(BaseModel):
    """The order the event is about (TMF622 ``productOrder``)."""

    id: str = Field(description="The order reference: the order request id")
    href: str = Field(description="Where to GET the order")
    state: Literal["acknowledged", "inProgress", "completed", "failed", "cancelled"] = Field(
        description="TMF622 order state"
    )
    externalId: str | None = None
    orderId: str | None = Field(default=None, description="The 88… order number, once known")
    serviceId: str | None = Field(default=None, description="The 77… service id, once known")
    errorCode: str | None = None
    message: str | None = Field(default=None, description="Why the order failed")


class WebhookEventBody(BaseModel):
    orderEventType: str = Field(
        description="The order event type (what a subscription's `query` filters on): "
        + ", ".join(ORDER_EVENT_TYPES)
        + "; `TEST` for test events"
    )
    productOrder: WebhookProductOrder | None = None
    serviceActivation: FeedOrder | None = Field(
        default=None, description="The same order as the Service Activation 2.3.1 feed shows it"
    )


class WebhookEvent(BaseModel):
    """The body POSTed to a callback, signed per Standard Webhooks.

    Headers: `webhook-id` (the `eventId`; the same on every retry and redelivery, so
    receivers can deduplicate), `webhook-timestamp` (unix seconds of this attempt) and
    `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under the
    subscription's `whsec_` secret). Answer 2xx once stored; anything else is retried with
    exponential backoff for hours; 410 Gone disables the subscription. Per subscription,
    events arrive in the order they happened: one is retried until delivered before the
    next is sent.
    """

    eventId: str
    eventTime: datetime
    eventType: Literal["ProductOrderStateChangeEvent", "WebhookTestEvent"]
    event: WebhookEventBody


_TMF_STATES: dict[
    str, Literal["acknowledged", "inProgress", "completed", "failed", "cancelled"]
] = {
    "ORDER_RECEIVED": "acknowledged",
    "ORDER_IN_PROGRESS": "inProgress",
    "DONE_SUCCESS": "completed",
    "DONE_FAILED": "failed",
    "ORDER_CANCELLED": "cancelled",
}


def order_webhook_event(record: OrderEventRecord, base_url: str) -> WebhookEvent:
    payload = record.payload
    state = _TMF_STATES.get(record.event_type, "inProgress")
    if state == "failed" and payload.get("errorCode") == "ORDER_CANCELLED":
        state = "cancelled"
    href = record.order.path
    if href.startswith("/"):
        href = base_url.rstrip("/") + href
    return WebhookEvent(
        eventId=record.event_id,
        eventTime=record.created_at,
        eventType=ORDER_EVENT_NAME,
        event=WebhookEventBody(
            orderEventType=record.event_type,
            productOrder=WebhookProductOrder(
                id=record.order_id,
                href=href,
                state=state,
                externalId=_text(payload.get("externalId")),
                orderId=_text(payload.get("orderId")),
                serviceId=_text(payload.get("serviceId")),
                errorCode=_text(payload.get("errorCode")),
                message=record.order.message or None,
            ),
            serviceActivation=record.order,
        ),
    )


def ping_webhook_event(message_id: str, now: datetime) -> WebhookEvent:
    return WebhookEvent(
        eventId=message_id,
        eventTime=now,
        eventType=TEST_EVENT_NAME,
        event=WebhookEventBody(orderEventType="TEST"),
    )


def webhook_body(event: WebhookEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# --- workflow and activity inputs/outputs -----------------------------------------


def delivery_workflow_id(subscription_id: str) -> str:
    return f"webhook-subscription-{subscription_id}"


class WebhookDeliveryInput(BaseModel):
    """Start (or continue) delivering one subscription's events in log order."""

    subscription_id: str
    customer_number: str
    cursor_seq: int | None = None
    """Deliver events after this seq; None: from the subscription's stored cursor."""
    history_limit: int = 5_000
    """Continue as new once the history is this long (or the server suggests it)."""


class WakeSignal(BaseModel):
    """New events were appended (``seq`` is the newest); fetch the next batch."""

    seq: int = 0


class RedeliverSignal(BaseModel):
    """Deliver again every event after ``after_seq`` (the cursor only moves back)."""

    after_seq: int


class FetchBatchInput(BaseModel):
    subscription_id: str
    after_seq: int | None
    limit: int


class EventRef(BaseModel):
    seq: int
    event_id: str
    event_type: str


class EventBatch(BaseModel):
    active: bool
    """False once the subscription is disabled or deleted: the workflow ends."""
    after_seq: int
    """The cursor the batch was read after (the stored one when none was given)."""
    events: list[EventRef]
    """The events to deliver, in order (those the subscription's query selects)."""
    scanned_to: int
    """The last seq looked at (events up to it that don't match the query are skipped)."""


class DeliverEventInput(BaseModel):
    subscription_id: str
    seq: int


class SendTestInput(BaseModel):
    subscription_id: str
    message_id: str


class DeliveryResult(BaseModel):
    outcome: Literal["delivered", "failed", "gone", "inactive"]
    status_code: int | None = None
    error: str | None = None


class WebhookDeliveryOutcome(BaseModel):
    reason: Literal["inactive", "gone"]
    cursor_seq: int | None
