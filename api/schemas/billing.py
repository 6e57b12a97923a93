"""Step 5 of seed 001: the caller's billing accounts, field names as in the seed."""

from __future__ import annotations

from pydantic import BaseModel, Field

from store.billing import BillingAccount


class StringAddress(BaseModel):
    streetAddress: str
    city: str
    stateOrProvince: str | None
    country: str
    postcode: str | None


class BillingAccountOut(BaseModel):
    name: str
    id: str
    invoiceDisplayNumber: str
    stringAddress: list[StringAddress]
    currency: str
    countryCode: str
    hqCountry: str = Field(description="Internet On-Demand orders need an account with `US`")

    @classmethod
    def of(cls, account: BillingAccount) -> BillingAccountOut:
        return cls(
            name=account.name,
            id=account.id,
            invoiceDisplayNumber=account.invoice_display_number,
            stringAddress=[
                StringAddress(
                    streetAddress=account.street_address,
                    city=account.city,
                    stateOrProvince=account.state_or_province,
                    country=account.country,
                    postcode=account.postcode,
                )
            ],
            currency=account.currency,
            countryCode=account.country_code,
            hqCountry=account.hq_country,
        )


class BillingAccountList(BaseModel):
    billingAccount: list[BillingAccountOut]
    pageNumber: int
    pageSize: int
    resultCount: int
