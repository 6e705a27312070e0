"""The licensing app's models, one module per group of entities.

`catalogue` (creators, works, shares, collections, offers and their versions),
`licensees` (organisations, members, API keys), `licenses` (purchases, licenses,
invoice lines), `usage` (declared usage, its dedup keys, corrections, closed
periods), `clearances` (dataset clearances and their items). Everything is
re-exported here, so `from licensing.models import Work` keeps working and migrations
keep their paths.
"""

from licensing.models.base import AMOUNT_MAX, BASIS_POINTS_TOTAL, PUBLIC_ID_LENGTH, history_user
from licensing.models.catalogue import (
    Collection,
    Creator,
    Offer,
    OfferVersion,
    RightsShare,
    Use,
    Work,
    collection_public_id,
    creator_public_id,
    offer_public_id,
    offer_version_public_id,
    work_public_id,
)
from licensing.models.clearances import Clearance, ClearanceItem, clearance_public_id
from licensing.models.licensees import (
    ApiKey,
    LicenseeOrganization,
    OrganizationMembership,
    api_key_public_id,
    organization_public_id,
)
from licensing.models.licenses import (
    InvoiceLine,
    License,
    Purchase,
    license_public_id,
    purchase_public_id,
)
from licensing.models.usage import (
    UsageCorrection,
    UsageEvent,
    UsageEventKey,
    UsageFlag,
    UsagePeriod,
)

__all__ = [
    "AMOUNT_MAX",
    "BASIS_POINTS_TOTAL",
    "PUBLIC_ID_LENGTH",
    "ApiKey",
    "Clearance",
    "ClearanceItem",
    "Collection",
    "Creator",
    "InvoiceLine",
    "License",
    "LicenseeOrganization",
    "Offer",
    "OfferVersion",
    "OrganizationMembership",
    "Purchase",
    "RightsShare",
    "UsageCorrection",
    "UsageEvent",
    "UsageEventKey",
    "UsageFlag",
    "UsagePeriod",
    "Use",
    "Work",
    "api_key_public_id",
    "clearance_public_id",
    "collection_public_id",
    "creator_public_id",
    "history_user",
    "license_public_id",
    "offer_public_id",
    "offer_version_public_id",
    "organization_public_id",
    "purchase_public_id",
    "work_public_id",
]
