"""Reading invoices: an organisation's own only, and one document the API and the PDF share.

`invoice_document` turns an invoice and its items into plain values (amounts in the
minor unit, rounded down, with the exact decimal beside them, as statements show
them); the API renders it as JSON and the PDF prints it, so both show the same
numbers from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from ledger.money import (
    micros_minor_decimal,
    minor_to_micros,
    minor_unit_micros,
    round_down_to_minor,
)
from licensing.models import InvoiceLine, License, LicenseeOrganization, OfferVersion
from licensing.selectors.usage import usage_events_of_period
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import Invoice
from payouts.periods import period_window
from payouts.rating import per_unit_micros


@dataclass(frozen=True)
class InvoiceLineDocument:
    description: str
    license: str
    kind: str
    units: int | None
    amount: int
    amount_decimal: str


@dataclass(frozen=True)
class InvoiceDocument:
    id: str | None  # None for the upcoming invoice, which is not issued yet
    period: str
    status: str
    currency: str
    organization: str
    organization_name: str
    billing: str
    lines: tuple[InvoiceLineDocument, ...]
    total: int
    total_decimal: str
    carried_in_decimal: str
    amount_due: int
    due_at: datetime
    created_at: datetime
    paid_at: datetime | None
    paid_by: str | None
    failure_code: str | None
    failure_message: str | None
    charge_attempts: int
    next_charge_at: datetime | None


def micros_rounded(amount_micros: int, currency: str) -> int:
    """Whole minor units, toward zero (the exact figure goes beside it as a decimal)."""
    return round_down_to_minor(amount_micros, currency).payable_micros // minor_unit_micros(
        currency
    )


def organization_invoices(
    *, organization: LicenseeOrganization, period: str | None = None
) -> QuerySet[Invoice]:
    """The organisation's invoices, newest first; `period` (YYYY-MM, else 400) narrows."""
    invoices = Invoice.objects.filter(organization=organization)
    if period is not None:
        period_window(period)  # malformed: 400 period_invalid
        invoices = invoices.filter(period=period)
    return invoices.select_related("organization").prefetch_related("items__license")


def organization_invoice_get(*, organization: LicenseeOrganization, public_id: str) -> Invoice:
    """One of the organisation's invoices; another's, like an unknown id, is a 404."""
    invoice = organization_invoices(organization=organization).filter(public_id=public_id).first()
    if invoice is None:
        raise PayoutError(PayoutErrorCode.INVOICE_NOT_FOUND, "No such invoice.")
    return invoice


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    currency = invoice.currency
    lines = tuple(
        InvoiceLineDocument(
            description=item.description,
            license=item.license.public_id,
            kind=item.kind,
            units=item.units,
            amount=micros_rounded(item.amount_micros, currency),
            amount_decimal=micros_minor_decimal(item.amount_micros, currency),
        )
        for item in invoice.items.all()
    )
    assert sum(item.amount_micros for item in invoice.items.all()) == invoice.total_micros
    return InvoiceDocument(
        id=invoice.public_id,
        period=invoice.period,
        status=invoice.status,
        currency=currency,
        organization=invoice.organization.public_id,
        organization_name=invoice.organization.name,
        billing=invoice.billing,
        lines=lines,
        total=micros_rounded(invoice.total_micros, currency),
        total_decimal=micros_minor_decimal(invoice.total_micros, currency),
        carried_in_decimal=micros_minor_decimal(invoice.carried_in_micros, currency),
        amount_due=invoice.amount_due,
        due_at=invoice.due_at,
        created_at=invoice.created_at,
        paid_at=invoice.paid_at,
        paid_by=invoice.paid_by or None,
        failure_code=invoice.failure_code or None,
        failure_message=invoice.failure_message or None,
        charge_attempts=invoice.charge_attempts,
        next_charge_at=invoice.next_charge_at,
    )


def _upcoming_usage(organization: LicenseeOrganization, period: str) -> list[InvoiceLineDocument]:
    """The month's per-unit usage so far, rated as the run will: once per (license, work)."""
    rows = (
        usage_events_of_period(period=period)
        .filter(organization=organization, flag__isnull=True)
        .values("license_id", "work_id")
        .annotate(units=Sum("units"))
        .order_by("license_id", "work_id")
    )
    per_license: dict[int, list[int]] = {}
    licenses = License.objects.select_related("offer_version").in_bulk(
        {row["license_id"] for row in rows}
    )
    for row in rows:
        granted = licenses[row["license_id"]]
        version = granted.offer_version
        if version.pricing != OfferVersion.Pricing.PER_UNIT or row["units"] <= 0:
            continue
        totals = per_license.setdefault(granted.pk, [0, 0])
        totals[0] += per_unit_micros(
            int(row["units"]), version.unit_amount_decimal, granted.currency
        )
        totals[1] += int(row["units"])
    lines = []
    for license_id, (gross, units) in per_license.items():
        granted = licenses[license_id]
        lines.append(
            InvoiceLineDocument(
                description=f"License {granted.public_id}: usage so far, {units:,} "
                f"{granted.offer_version.unit or 'unit'}s",
                license=granted.public_id,
                kind="per_unit",
                units=units,
                amount=micros_rounded(gross, granted.currency),
                amount_decimal=micros_minor_decimal(gross, granted.currency),
            )
        )
    return lines


def organization_invoice_upcoming(
    *, organization: LicenseeOrganization, at: datetime | None = None
) -> tuple[InvoiceDocument, int]:
    """The current month's lines so far (purchases, rated usage) and their total in micros.

    Minimums and late corrections are settled when the month's run posts, so they are
    not here; nor is anything in another currency than the organisation's.
    """
    now = at or timezone.now()
    period = now.strftime("%Y-%m")
    currency = organization.currency
    purchases = InvoiceLine.objects.filter(
        organization=organization, period=period, currency=currency
    ).select_related("license")
    lines = [
        InvoiceLineDocument(
            description=line.description,
            license=line.license.public_id,
            kind="purchase",
            units=None,
            amount=line.amount,
            amount_decimal=str(line.amount),
        )
        for line in purchases.order_by("id")
    ]
    usage = _upcoming_usage(organization, period)
    total_micros = sum(minor_to_micros(line.amount, currency) for line in lines)
    total_micros += sum(_decimal_micros(line.amount_decimal, currency) for line in usage)
    end = period_window(period)[1]
    document = InvoiceDocument(
        id=None, period=period, status="upcoming", currency=currency,
        organization=organization.public_id, organization_name=organization.name,
        billing=organization.billing, lines=tuple(lines + usage),
        total=micros_rounded(total_micros, currency),
        total_decimal=micros_minor_decimal(total_micros, currency), carried_in_decimal="0",
        amount_due=max(0, total_micros // minor_unit_micros(currency)), due_at=end,
        created_at=now, paid_at=None, paid_by=None, failure_code=None, failure_message=None,
        charge_attempts=0, next_charge_at=None,
    )  # fmt: skip
    return document, total_micros


def _decimal_micros(amount_decimal: str, currency: str) -> int:
    micros = Decimal(amount_decimal) * minor_unit_micros(currency)
    assert micros == micros.to_integral_value(), amount_decimal
    return int(micros)
