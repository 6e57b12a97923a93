"""Custom search attributes, so operators can filter orders in the Temporal UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_NUMBER = SearchAttributeKey.for_keyword("CustomerNumber")
EXTERNAL_ID = SearchAttributeKey.for_keyword("ExternalId")
ORDER_STATE = SearchAttributeKey.for_keyword("OrderState")
QUOTE_ID = SearchAttributeKey.for_keyword("QuoteId")
SERVICE_ID = SearchAttributeKey.for_keyword("ServiceId")
ORDER_ACTION = SearchAttributeKey.for_keyword("OrderAction")

ALL_KEYS = [CUSTOMER_NUMBER, EXTERNAL_ID, ORDER_STATE, QUOTE_ID, SERVICE_ID, ORDER_ACTION]
