"""The TMF622-style ``orderRequest`` body of the Internet On-Demand API, and its rules.

Shapes and formats are pydantic models (so the OpenAPI document shows them); rules
that span fields (the product characteristics, what each action needs) are in
:func:`rule_violations`, which names the exact field of every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

CHANNEL_ID = "99"
CHANNEL_NAME = "NaaS ExternalAPI"
PRODUCT_SPECIFICATION_ID = "5001"
PRODUCT_OFFERING_ID = "718"
IPV4_BLOCK_SIZES = ("/28", "/29", "/30")

CUSTOMER_SERVICE_NAME = "Customer Service Name"
VLAN_ASSIGNMENT = "VLAN Assignment"
IPV4_BLOCK_SIZE = "IPV4 Block Size"
ROUTING_OPTIONS = "Routing Options"
REQUIRED_CHARACTERISTICS = (
    CUSTOMER_SERVICE_NAME,
    VLAN_ASSIGNMENT,
    IPV4_BLOCK_SIZE,
    ROUTING_OPTIONS,
)

# North American Numbering Plan in E.164: +1, area code and exchange not starting 0/1.
_US_PHONE = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)


def _text_from_scalar(value: object) -> object:
    """``externalId`` arrives as a string or (seed 000) as a number: keep it as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


NonEmpty = Annotated[str, Field(min_length=1)]


def refuse_nul(value: object) -> object:
    """No text of an order may hold a NUL (``\\u0000``): PostgreSQL stores none, so the
    order would be accepted here and then fail in a step (400 here instead)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain a NUL (\\u0000) character")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return refuse_nul(value)


class BillingAccountRef(_Body):
    id: NonEmpty
    name: NonEmpty


class Channel(_Body):
    id: NonEmpty
    name: NonEmpty


class Note(_Body):
    text: str


class ProductCharacteristic(_Body):
    name: NonEmpty
    valueType: str | None = "String"
    value: str


class ProductSpecification(_Body):
    id: NonEmpty
    name: str | None = None


class Product(_Body):
    id: str | None = Field(
        default=None, description="The serviceId (77…) of the service to modify or delete"
    )
    productCharacteristic: list[ProductCharacteristic] = []
    productSpecification: ProductSpecification


class ProductOffering(_Body):
    id: NonEmpty
    name: str | None = None


class ProductOrderItem(_Body):
    id: NonEmpty
    quantity: int
    action: Literal["add", "modify", "delete"]
    product: Product
    productOffering: ProductOffering


class QuoteRef(_Body):
    id: NonEmpty
    name: str | None = None


class ContactInformation(_Body):
    number: str
    emailAddress: str
    role: NonEmpty
    organization: NonEmpty
    name: NonEmpty
    numberExtension: str | None = ""

    @field_validator("number")
    @classmethod
    def _us_phone(cls, value: str) -> str:
        if not _US_PHONE.match(value):
            raise ValueError("must be a US telephone number in E.164 form, e.g. +16157691234")
        return value

    @field_validator("emailAddress")
    @classmethod
    def _email(cls, value: str) -> str:
        if len(value) > 254 or not _EMAIL.match(value):
            raise ValueError("must be a valid e-mail address")
        return value


class OrderRequestBody(_Body):
    """The body of ``POST /Customer/v3/Ordering/orderRequest`` (seed 001, step 6)."""

    externalId: Annotated[
        str, BeforeValidator(_text_from_scalar), Field(min_length=1, max_length=20)
    ]
    billingAccount: BillingAccountRef
    channel: list[Channel] = Field(min_length=1)
    note: list[Note] = []
    productOrderItem: list[ProductOrderItem] = Field(min_length=1)
    quote: list[QuoteRef] = []
    relatedContactInformation: list[ContactInformation] = Field(min_length=1)

    @property
    def item(self) -> ProductOrderItem:
        return self.productOrderItem[0]

    def characteristic(self, name: str) -> str | None:
        for c in self.item.product.productCharacteristic:
            if c.name == name:
                return c.value
        return None


@dataclass(frozen=True)
class RuleViolation:
    field: str
    code: str
    message: str


def rule_violations(body: OrderRequestBody) -> list[RuleViolation]:
    """Every cross-field rule of the seed's property table that ``body`` breaks."""
    found: list[RuleViolation] = []

    def bad(field: str, code: str, message: str) -> None:
        found.append(RuleViolation(field, code, message))

    if not any(c.id == CHANNEL_ID and c.name == CHANNEL_NAME for c in body.channel):
        bad(
            "channel[0].id",
            "invalid_channel",
            f'channel must be id "{CHANNEL_ID}", name "{CHANNEL_NAME}"',
        )
    if len(body.productOrderItem) != 1:
        bad("productOrderItem", "one_item_only", "exactly one productOrderItem is supported")
    item = body.productOrderItem[0]
    base = "productOrderItem[0]"
    if item.quantity != 1:
        bad(f"{base}.quantity", "invalid_quantity", "quantity must be 1")
    if item.product.productSpecification.id != PRODUCT_SPECIFICATION_ID:
        bad(
            f"{base}.product.productSpecification.id",
            "invalid_product_specification",
            f'productSpecification.id must be "{PRODUCT_SPECIFICATION_ID}" (NaaS Internet)',
        )
    if item.productOffering.id != PRODUCT_OFFERING_ID:
        bad(
            f"{base}.productOffering.id",
            "invalid_product_offering",
            f'productOffering.id must be "{PRODUCT_OFFERING_ID}" (NaaS Internet On-Demand)',
        )

    if item.action in ("add", "modify") and not body.quote:
        bad("quote[0].id", "required", f"a quote is required to {item.action} a service")
    if item.action in ("modify", "delete") and not item.product.id:
        bad(
            f"{base}.product.id",
            "required",
            f"the serviceId of the service to {item.action} is required",
        )

    found.extend(_characteristic_violations(body, required=item.action == "add"))
    return found


def _characteristic_violations(body: OrderRequestBody, *, required: bool) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    chars = body.item.product.productCharacteristic
    field = "productOrderItem[0].product.productCharacteristic"
    names = [c.name for c in chars]
    for name in REQUIRED_CHARACTERISTICS:
        if required and name not in names:
            found.append(RuleViolation(field, "required", f'"{name}" is required'))
    for index, c in enumerate(chars):
        where = f"{field}[{index}].value"
        if names.count(c.name) > 1:
            found.append(
                RuleViolation(
                    f"{field}[{index}].name", "duplicate", f'"{c.name}" is given more than once'
                )
            )
        elif c.name == CUSTOMER_SERVICE_NAME and not (1 <= len(c.value.strip()) <= 100):
            found.append(RuleViolation(where, "invalid", f'"{c.name}" must be 1 to 100 characters'))
        elif c.name == VLAN_ASSIGNMENT and c.value != "Auto Assign":
            found.append(RuleViolation(where, "invalid", '"VLAN Assignment" must be "Auto Assign"'))
        elif c.name == IPV4_BLOCK_SIZE and c.value not in IPV4_BLOCK_SIZES:
            found.append(
                RuleViolation(where, "invalid", '"IPV4 Block Size" must be one of /28, /29, /30')
            )
        elif c.name == ROUTING_OPTIONS and c.value != "Static":
            found.append(RuleViolation(where, "invalid", '"Routing Options" must be "Static"'))
        elif c.name not in REQUIRED_CHARACTERISTICS:
            found.append(
                RuleViolation(
                    f"{field}[{index}].name",
                    "unknown_characteristic",
                    f'unknown characteristic "{c.name}"',
                )
            )
    return found


# Fields of the seed's response item that the request does not carry.
TMF_ITEM_DEFAULTS: dict[str, object] = {
    "appointment": None,
    "billingAccount": None,
    "itemPrice": None,
    "itemTerm": None,
    "itemTotalPrice": None,
    "payment": None,
    "productOfferingQualificationItem": None,
    "productOrderItem": None,
    "productOrderItemRelationship": None,
    "qualification": None,
    "quoteItem": None,
    "state": None,
    "@baseType": None,
    "@schemaLocation": None,
    "@type": "ProductOrderItem",
}


def response_echo(order_request_id: str, body: OrderRequestBody) -> dict[str, object]:
    """The seed's response: ``id`` first, then the request as received, items completed."""
    echoed = body.model_dump(mode="json", exclude_unset=True)
    items = []
    for raw in echoed["productOrderItem"]:
        item = {k: v for k, v in raw.items() if k not in ("product", "productOffering")}
        item |= {k: v for k, v in TMF_ITEM_DEFAULTS.items() if k not in raw}
        item["product"] = raw["product"]
        item["productOffering"] = raw["productOffering"]
        items.append(_ordered_item(item))
    echoed["productOrderItem"] = items
    return {"id": order_request_id, **echoed}


_ITEM_ORDER = [
    "id",
    "quantity",
    "action",
    "appointment",
    "billingAccount",
    "itemPrice",
    "itemTerm",
    "itemTotalPrice",
    "payment",
    "product",
    "productOffering",
]


def _ordered_item(item: dict[str, object]) -> dict[str, object]:
    ordered = {k: item[k] for k in _ITEM_ORDER if k in item}
    ordered |= {k: v for k, v in item.items() if k not in ordered}
    return ordered
