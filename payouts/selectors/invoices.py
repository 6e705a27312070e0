"""Reading invoices: an organisation's own only, and one document the API and the PDF share.

`invoice_document` turns an invoice and its items into plain values (amounts in the
minor unit, rounded down, with the exact decimal beside them, as statements show
them); the API renders it as JSON and the PDF prints it, so both show the same
numbers from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ledger.money import minor_unit_micros, round_down_to_minor
from licensing.models import LicenseeOrganization
from payouts.errors import PayoutsError, PayoutsErrorCode
from payouts.models import Invoice
from payouts.periods import period_window


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
    id: str
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


def micros_decimal(amount_micros: int, currency: str) -> str:
    """Micros as an exact decimal string in the currency's minor unit ("1234.5", "-0.25")."""
    unit = minor_unit_micros(currency)
    sign = "-" if amount_micros < 0 else ""
    whole, fraction = divmod(abs(amount_micros), unit)
    digits = len(str(unit)) - 1
    text = f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return f"{sign}{text}"


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
        raise PayoutsError(PayoutsErrorCode.INVOICE_NOT_FOUND, "No such invoice.")
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
            amount_decimal=micros_decimal(item.amount_micros, currency),
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
        total_decimal=micros_decimal(invoice.total_micros, currency),
        carried_in_decimal=micros_decimal(invoice.carried_in_micros, currency),
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
