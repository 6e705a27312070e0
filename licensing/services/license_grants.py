"""Granting a paid, invoiced or free license: its row, terms, posting and invoice line.

Both ways of buying end here: a purchase (`licensing.services.purchases`) and a
dataset clearance (`licensing.services.clearance_purchases`), so a clearance's
licenses are exactly a purchase's. Runs in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ledger.money import minor_to_micros
from licensing.accounts import license_pool, organization_receivable, platform_stripe_balance
from licensing.certificates.signing import certificate_sign
from licensing.models import InvoiceLine, License, LicenseeOrganization, OfferVersion, Purchase
from licensing.sales import SaleLine, commission_basis_points, sale_post
from licensing.selectors.licenses import WORKS_LISTED, license_statement
from licensing.selectors.purchases import Quote
from licensing.services.offers import offer_version_digest, offer_version_mark_licensed

Pricing = OfferVersion.Pricing


def _terms_frozen(purchase: Purchase, quote: Quote) -> OfferVersion:
    """The version a license is granted under: the one its purchase froze, unchanged.

    The purchase's claim marked the version licensed, so it can no longer be edited;
    a purchase written before that rule is frozen now. Either way the terms must be
    the ones the purchase priced, or nothing is granted: the money would not match.
    """
    version = quote.version
    if version.licensed_at is None:
        version = offer_version_mark_licensed(offer_version=version)
        version.offer = quote.offer
    if purchase.offer_version_digest and (
        offer_version_digest(version) != purchase.offer_version_digest
    ):
        raise RuntimeError(f"{purchase.public_id}: its offer version changed after it was priced")
    return version


def license_grant(*, purchase: Purchase, quote: Quote, at: datetime | None = None) -> License:
    """Write the license, its posting and invoice line, and sign it (caller's transaction).

    Everything the license row holds (its posting, its certificate) is known before it
    is written, so it is written once; its works follow in one INSERT.
    """
    organization = purchase.organization
    version = _terms_frozen(purchase, quote)
    assert version.pk == purchase.offer_version_id
    starts_at = at or timezone.now()
    granted = License(
        organization=organization,
        offer_version=version,
        purchase=purchase,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=version.term_days) if version.term_days else None,
        amount=quote.amount,
        currency=version.currency,
        commission_basis_points=commission_basis_points(),
    )
    if quote.amount > 0:
        granted.ledger_transaction_id = _sale_post(organization, granted, quote).pk
    granted.certificate = certificate_sign(statement=license_statement(granted, quote.works))
    granted.save(force_insert=True)
    links = [License.works.through(license=granted, work=work) for work in quote.works]
    if len(links) == 1:  # most licenses: save() is a third fewer calls than bulk_create
        links[0].save(force_insert=True)
    else:
        License.works.through.objects.bulk_create(links)
    if quote.amount > 0 and organization.billing == LicenseeOrganization.Billing.INVOICE:
        _invoice_line_add(organization, granted, quote)
    setattr(granted, WORKS_LISTED, sorted(quote.works, key=lambda work: -work.pk))
    return granted


def _invoice_line_add(organization: LicenseeOrganization, granted: License, quote: Quote) -> None:
    InvoiceLine.objects.create(
        organization=organization,
        license=granted,
        # The month it is billed in: now, also for a license whose term began earlier.
        period=timezone.now().strftime("%Y-%m"),
        description=f"License {granted.public_id}: {quote.offer} (v{quote.version.version})",
        amount=quote.amount,
        currency=quote.currency,
    )


def _sale_post(organization: LicenseeOrganization, granted: License, quote: Quote):
    currency = quote.currency
    if organization.billing == LicenseeOrganization.Billing.CARD:
        debit = platform_stripe_balance(currency)
    else:
        debit = organization_receivable(organization.public_id, currency)
    pool = None
    if quote.version.pricing == Pricing.POOL:
        lines = [SaleLine(minor_to_micros(quote.amount, currency), None)]
        pool = license_pool(granted.public_id, currency)
    else:
        per_work = minor_to_micros(quote.version.amount or 0, currency)
        lines = [SaleLine(per_work, quote.owners[work.pk]) for work in quote.works]
    return sale_post(
        license_public_id=granted.public_id,
        debit=debit,
        lines=lines,
        currency=currency,
        commission_basis_points=granted.commission_basis_points,
        pool=pool,
        memo=f"{organization.name} bought {granted.public_id}",
        effective_at=granted.starts_at,
    )
