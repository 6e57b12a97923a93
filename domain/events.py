"""Order events: the append-only log behind the feed, the webhooks and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ORDER_EVENT_TYPES = (
    "ORDER_RECEIVED",
    "ORDER_IN_PROGRESS",
    "DONE_SUCCESS",
    "DONE_FAILED",
    "ORDER_CANCELLED",
)
"""The event types the order workflow appends (webhook subscriptions may filter on them)."""

FEED_EVENT_TYPES = ("DONE_SUCCESS", "DONE_FAILED")
"""The only event types the Service Activation 2.3.1 feed shows (seed 002)."""


class FeedOrder(BaseModel):
    """The order as the Service Activation feed shows it (seed 002)."""

    path: str = Field(description="The order's own path, e.g. `/api/2.3.1/orders/{id}`")
    accessId: str
    service: str
    operation: Literal["ACTIVATE", "DEACTIVATE"]
    state: str = Field(description="`DONE_SUCCESS` or `DONE_FAILED` in the feed")
    message: str = Field(default="", description="Why the order failed; empty on success")


class FeedEvent(BaseModel):
    """One entry of `GET /api/2.3.1/orderevents/`."""

    event: str = Field(description="Unique over all events; pass the last one read as `since`")
    order: FeedOrder


class AppendOrderEventInput(BaseModel):
    """What the order workflow appends; ``dedupe_key`` makes the append idempotent."""

    dedupe_key: str = Field(min_length=1, max_length=500)
    customer_number: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    event_type: str = Field(pattern=r"^[A-Z][A-Z_]*$")
    order: FeedOrder
    payload: dict[str, Any]


class OrderEventRecord(AppendOrderEventInput):
    """An event as stored: immutable, ordered per customer by ``seq``."""

    event_id: str
    seq: int
    created_at: datetime
