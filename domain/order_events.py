"""What an order tells the event log at each milestone: pure, used by the workflow and
by the activities that append inside their own transaction."""

from __future__ import annotations

from domain.events import AppendOrderEventInput, FeedOrder
from domain.orders import AcceptedOrder, OrderSpec


def order_event(
    spec: OrderSpec,
    accepted: AcceptedOrder,
    event_type: str,
    feed_state: str,
    message: str = "",
    *,
    order_number: str | None = None,
    service_id: str | None = None,
    error_code: str | None = None,
) -> AppendOrderEventInput:
    """The event ``event_type`` of this order; appending it twice stores it once."""
    path = (
        f"/api/2.3.1/orders/{spec.order_request_id}"
        if spec.channel == "sa"
        else f"/Customer/v3/Ordering/orderRequest/{spec.order_request_id}"
    )
    access_id = (
        spec.sa.access_id if spec.sa else (service_id or spec.order_request_id.replace("-", ""))
    )
    service = spec.sa.service if spec.sa else f"IOD-{accepted.speed.replace(' ', '')}"
    return AppendOrderEventInput(
        dedupe_key=f"{spec.workflow_id}:{event_type}",
        customer_number=spec.customer_number,
        order_id=spec.order_request_id,
        event_type=event_type,
        order=FeedOrder(
            path=path,
            accessId=access_id,
            service=service,
            operation="DEACTIVATE" if spec.action == "delete" else "ACTIVATE",
            state=feed_state,
            message=message,
        ),
        payload={
            "externalId": spec.external_id,
            "action": spec.action,
            "orderId": order_number,
            "serviceId": service_id,
            "errorCode": error_code,
            "speed": accepted.speed,
            "masterSiteId": accepted.master_site_id,
        },
    )
