"""The customer's services: what completed orders built (seed 001 step 7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import PoolDep, PrincipalDep
from api.schemas.paging import PageNumber, PageSize, page_of
from store.services import InventoryItem, list_inventory

router = APIRouter(tags=["Inventory"])


@router.get("/ProductInventory/v1/inventory", summary="List your services")
async def get_inventory(
    principal: PrincipalDep,
    pool: PoolDep,
    serviceId: Annotated[str | None, Query(max_length=32)] = None,
    pageNumber: PageNumber = 1,
    pageSize: PageSize = 10,
) -> dict[str, Any]:
    page = page_of(pageNumber, pageSize)
    async with pool.acquire() as conn:
        items, total = await list_inventory(
            conn,
            principal.customer_number,
            service_id=serviceId,
            offset=page.offset,
            limit=page.size,
        )
    return {
        "serviceInventory": [_service(item) for item in items],
        "pageNumber": pageNumber,
        "pageSize": pageSize,
        "resultCount": total,
    }


def _service(item: InventoryItem) -> dict[str, Any]:
    return {
        "serviceId": item.service_id,
        "status": item.status,
        "product": {
            "productCharacteristic": [
                {"name": "Bandwidth", "value": item.speed},
                {"name": "Customer Service Name", "value": item.customer_service_name},
                {"name": "IPV4 Block Size", "value": item.ipv4_block_size},
                {"name": "IPV4 Block", "value": item.ipv4_block},
                {"name": "VLAN", "value": str(item.vlan_id) if item.vlan_id else None},
            ]
        },
        "location": {
            "masterSiteId": item.master_site_id,
            "streetAddress": item.street_address,
            "city": item.city,
            "stateOrProvince": item.state_or_province,
            "country": item.country,
            "postCode": item.post_code,
        },
        "billingAccount": {"id": item.billing_account_id, "name": item.billing_account_name},
        "activatedAt": item.activated_at,
        "disconnectedAt": item.disconnected_at,
    }
