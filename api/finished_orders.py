"""Finished order requests kept in memory: the status reads' fast path.

A finished order (SUCCEEDED, FAILED, CANCELLED) never changes again: the workflow writes
its terminal state once and every other update of an order is for a running one only
(``store/orders.py``). So its row can be answered from memory, by every API replica
alike, with no invalidation. Running orders are always read from PostgreSQL.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg

from store import orders
from store.orders import OrderRequestRow


@dataclass(slots=True)
class _Kept:
    row: OrderRequestRow
    answers: dict[str, bytes] = field(default_factory=dict)


class FinishedOrders:
    """A bounded LRU of finished orders' rows, by order request id, with each row's
    rendered answers (a finished order's answer never changes either)."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, order_request_id: str) -> OrderRequestRow | None:
        kept = self._kept.get(order_request_id)
        if kept is None:
            return None
        self._kept.move_to_end(order_request_id)
        return kept.row

    def remember(self, row: OrderRequestRow) -> None:
        """Keep ``row`` if it is finished (a running order is never kept)."""
        if self._max <= 0 or not row.state.terminal:
            return
        if row.id not in self._kept:
            self._kept[row.id] = _Kept(row)
        self._kept.move_to_end(row.id)
        while len(self._kept) > self._max:
            self._kept.popitem(last=False)

    def answer(self, row: OrderRequestRow, view: str, render: Callable[[], bytes]) -> bytes:
        """``render()``, remembered per view while ``row`` is kept (so: finished)."""
        kept = self._kept.get(row.id)
        if kept is None or kept.row is not row:
            return render()
        body = kept.answers.get(view)
        if body is None:
            body = kept.answers[view] = render()
        return body


class _Sources(Protocol):
    @property
    def pool(self) -> asyncpg.Pool: ...

    @property
    def finished_orders(self) -> FinishedOrders: ...


async def find_order(
    sources: _Sources, customer_number: str, order_request_id: str
) -> OrderRequestRow | None:
    """The customer's own order request (never a PENDING one), from memory when finished.

    Someone else's order is None, exactly like an unknown id.
    """
    row = sources.finished_orders.get(order_request_id)
    if row is not None:
        return row if row.customer_number == customer_number else None
    async with sources.pool.acquire() as conn:
        row = await orders.get_for_customer(conn, customer_number, order_request_id)
    if row is not None:
        sources.finished_orders.remember(row)
    return row
