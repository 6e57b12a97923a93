"""What the order workflow needs from the operator's order system and network."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel


class BackendRequest(BaseModel):
    order_request_id: str
    customer_number: str
    customer_service_name: str
    master_site_id: str
    speed: str
    support_retries: int = 0
    """How often support has re-run the order's failed step (``iod orders retry``)."""


class BackendRejected(Exception):
    """A permanent business failure: retrying the same request cannot succeed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BackendUnavailable(Exception):
    """A transient failure: the same request may succeed later."""


class ProvisioningBackend(Protocol):
    async def create_order(self, request: BackendRequest) -> str:
        """Register the order in the order system; returns its 11-digit orderId (88…)."""
        ...

    async def provision(self, request: BackendRequest, vlan_id: int, ipv4_block: str) -> str:
        """Build the service in the network; returns its 11-digit serviceId (77…)."""
        ...

    async def change_bandwidth(self, request: BackendRequest, service_id: str) -> None: ...

    async def disconnect(self, request: BackendRequest, service_id: str) -> None: ...
