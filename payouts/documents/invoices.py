"""An invoice as a PDF: the same document the API renders, printed by `documents.pdf`."""

from __future__ import annotations

from decimal import Decimal

from ledger.display import date_words, money_from_minor
from payouts.documents.pdf import Column, Document, DocumentTable, render_pdf
from payouts.selectors.invoices import InvoiceDocument

_STATUS_WORDS = {"open": "Open", "paid": "Paid", "void": "Void"}


def _money(amount_decimal: str, currency: str) -> str:
    """The exact amount as money, with the sub-unit digits when there are any."""
    return money_from_minor(Decimal(amount_decimal), currency)


def invoice_pdf_document(document: InvoiceDocument) -> Document:
    currency = document.currency
    facts = [
        ("Invoice", document.id),
        ("Billed to", f"{document.organization_name} ({document.organization})"),
        ("Period", document.period),
        ("Issued", date_words(document.created_at)),
        ("Due", date_words(document.due_at)),
        ("Status", _STATUS_WORDS.get(document.status, document.status)),
        ("Billing", "card on file" if document.billing == "card" else "invoice"),
    ]
    if document.paid_at:
        facts.append(("Paid", date_words(document.paid_at)))
    elif document.failure_code:
        facts.append(("Last card attempt", f"declined: {document.failure_message}"))
    rows = [
        [
            line.description,
            line.license,
            "" if line.units is None else f"{line.units:,}",
            _money(line.amount_decimal, currency),
        ]
        for line in document.lines
    ]
    table = DocumentTable(
        columns=[
            Column("Description"),
            Column("License"),
            Column("Units", numeric=True),
            Column("Amount", numeric=True),
        ],
        rows=rows,
        empty_text="Nothing was billed in this period.",
    )
    totals = [("Total of the lines", _money(document.total_decimal, currency))]
    if document.carried_in_decimal != "0":
        totals.append(
            (
                "Brought forward (under one minor unit)",
                _money(document.carried_in_decimal, currency),
            )
        )
    totals.append(("Amount due", money_from_minor(document.amount_due, currency)))
    return Document(
        title=f"Invoice {document.id}",
        facts=facts,
        tables=[table],
        totals=totals,
        footer=f"Accord · invoice {document.id} · {document.period}",
        subject=f"Invoice for {document.period}",
        notes=(
            "Amounts are exact; the amount due is rounded down to the currency's minor unit "
            "and what is left is carried to the next invoice.",
        ),
    )


def invoice_pdf(document: InvoiceDocument) -> bytes:
    return render_pdf(invoice_pdf_document(document))
