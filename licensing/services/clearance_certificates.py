"""The one certificate of a purchased clearance: which manifest, and what covers each item.

Signed like a license's certificate (`licensing.certificates.signing`: Ed25519, compact
JWS, canonical JSON), so anyone verifies it offline with the JWKS published at
`/.well-known/accord-keys.json` and any JOSE library. The statement names the
organisation, the use, the manifest's `manifest_sha256` (which the team recomputes
from its own files), and for every item its identifier and the license that covers it
(bought by this clearance or held before) or its status (`reserved`, `unknown`).
Items are `[identifier, license-or-status]` pairs in manifest order: a statement of a
hundred thousand items stays a few megabytes.

`starts_at` is the moment of purchase, `ends_at` is null: what each license permits,
and until when, is in that license's own certificate.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from licensing.certificates.signing import certificate_sign
from licensing.models import Clearance, ClearanceItem
from licensing.selectors.licenses import CERTIFICATE_ISSUER

STATEMENT_KIND = "dataset_clearance"


def clearance_statement(clearance: Clearance) -> dict[str, Any]:
    """What a clearance's certificate says, read from its items in manifest order."""
    rows = (
        ClearanceItem.objects.filter(clearance=clearance)
        .order_by("position")
        .values_list("identifier", "status", "license__public_id")
    )
    items = [
        [identifier, license_id if license_id else status]
        for identifier, status, license_id in rows.iterator(chunk_size=10_000)
    ]
    organization = clearance.organization
    return {
        "iss": CERTIFICATE_ISSUER,
        "kind": STATEMENT_KIND,
        "clearance": clearance.public_id,
        "licensee": {"id": organization.public_id, "name": organization.name},
        "use": clearance.use,
        "manifest_sha256": clearance.manifest_sha256,
        "counts": {
            status: getattr(clearance, f"{status}_count") for status in ClearanceItem.Status.values
        },
        "amount": clearance.quote_amount,
        "currency": clearance.currency,
        "items": items,
        "starts_at": clearance.purchased_at.isoformat(),
        "ends_at": None,
        "issued_at": timezone.now().isoformat(),
    }


def clearance_certificate_sign(*, clearance: Clearance) -> str:
    """Sign the statement of a clearance whose purchase is being recorded."""
    assert clearance.purchased_at is not None, "a clearance is certified when purchased"
    return certificate_sign(statement=clearance_statement(clearance))
