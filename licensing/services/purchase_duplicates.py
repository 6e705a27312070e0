"""The duplicate check of a purchase: works the organisation already holds, or is buying.

A purchase runs it before money moves, inside the transaction that writes its
purchase row (`licensing.services.purchases`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, LicenseeOrganization, Purchase
from licensing.selectors.purchases import Quote

# A pending card purchase older than this is left for its webhook or its own retry and
# no longer blocks buying the same works again (its buyer may never come back).
PENDING_PURCHASE_BLOCKS = timedelta(minutes=15)


def already_licensed_check(
    *,
    organization: LicenseeOrganization,
    quote: Quote,
    at: datetime | None = None,
    request_key: str | None = None,
) -> None:
    """Refuse (409 `already_licensed`) works the organisation holds for this use.

    Held: under an active license whose term meets the new one, or being bought by a
    recent pending card purchase (else ten concurrent requests without a shared
    Idempotency-Key would charge ten times). The organisation's row is locked first,
    so concurrent purchases by one organisation check one after the other. What the
    request with `request_key` bought itself (a retry) does not count.
    """
    LicenseeOrganization.objects.select_for_update().filter(pk=organization.pk).first()
    starts_at = at or timezone.now()
    version = quote.version
    ends_at = starts_at + timedelta(days=version.term_days) if version.term_days else None
    work_pks = [work.pk for work in quote.works]
    held = License.objects.filter(
        organization=organization,
        status=License.Status.ACTIVE,
        offer_version__offer__use=quote.offer.use,
        works__in=work_pks,
    ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at))
    if request_key is not None:
        held = held.exclude(purchase__request_key=request_key)
    if ends_at is not None:
        held = held.filter(starts_at__lt=ends_at)
    found = list(held.values_list("public_id", "works__public_id").order_by("id")[:100])
    if not found:
        found = _pending_purchases_of(organization, quote, request_key)
    if found:
        raise _already_licensed(found, quote.offer.use)


def _pending_purchases_of(
    organization: LicenseeOrganization, quote: Quote, request_key: str | None
) -> list[tuple[str, str]]:
    asked = {work.public_id for work in quote.works}
    pending = (
        Purchase.objects.filter(
            organization=organization,
            status=Purchase.Status.PENDING,
            offer_version__offer__use=quote.offer.use,
            created_at__gte=timezone.now() - PENDING_PURCHASE_BLOCKS,
        )
        .exclude(request_key=request_key or "")
        .values_list("public_id", "work_ids")
    )
    return [
        (purchase_id, work_id)
        for purchase_id, work_ids in pending[:100]
        for work_id in work_ids
        if work_id in asked
    ]


def _already_licensed(found: list[tuple[str, str]], use: str) -> LicensingError:
    holder, work_id = found[0]
    noun = "license" if holder.startswith("lic_") else "purchase under way"
    return LicensingError(
        LicensingErrorCode.ALREADY_LICENSED,
        f"You already hold {work_id} for {use} under {noun} {holder}; send"
        ' "allow_duplicate": true to buy it again.',
        param="works",
        details=[
            {
                "param": "works",
                "code": "already_licensed",
                "message": work_id,
                ("license" if holder.startswith("lic_") else "purchase"): holder,
            }
            for holder, work_id in found
        ],
    )
