"""Request and response bodies of the catalogue, pricing and billing-account endpoints."""
