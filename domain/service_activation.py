"""The open-network Service Activation API 2.3.1 dialect (seed 002 and its orders API)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.order_request import refuse_nul
from domain.orders import OrderState

# Service codes offered through the Service Activation API: BB-<down>-<up> in Mbit/s.
SERVICES: dict[str, str] = {
    "BB-100-10": "100 Mbps",
    "BB-100-100": "100 Mbps",
    "BB-250-100": "250 Mbps",
    "BB-500-500": "500 Mbps",
    "BB-1000-1000": "1 Gbps",
}
ACCESS_ID = re.compile(r"^[a-zA-Z0-9]{1,32}$")
BASE_PATH = "/api/2.3.1/orders"


class Equipment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return refuse_nul(value)

    vendorId: Annotated[str, Field(min_length=1, max_length=64)]
    macAddress: Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$")]


class SaOrderBody(BaseModel):
    """``POST /api/2.3.1/orders/``: every field is present (``forcedTakeover`` too), of
    its JSON type (strict: ``0`` is not ``false``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    accessId: Annotated[str, Field(json_schema_extra={"pattern": ACCESS_ID.pattern})]
    service: Annotated[str, Field(json_schema_extra={"enum": list(SERVICES)})]
    operation: Literal["ACTIVATE", "DEACTIVATE"]
    forcedTakeover: bool
    equipment: list[Equipment]
    spReference: Annotated[str, Field(max_length=255)]

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return refuse_nul(value)

    @field_validator("accessId")
    @classmethod
    def _access_id(cls, value: str) -> str:
        if not ACCESS_ID.match(value):
            raise ValueError("accessId must be 1 to 32 letters or digits")
        return value

    @field_validator("service")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICES:
            raise ValueError(f"unknown service {value!r}; known: {', '.join(SERVICES)}")
        return value

    @property
    def speed(self) -> str:
        return SERVICES[self.service]


def sa_state(state: OrderState) -> str:
    """RECEIVED until the order ends DONE_SUCCESS or DONE_FAILED (final)."""
    if state == OrderState.SUCCEEDED:
        return "DONE_SUCCESS"
    if state in (OrderState.FAILED, OrderState.CANCELLED):
        return "DONE_FAILED"
    return "RECEIVED"
