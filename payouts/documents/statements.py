"""A statement as the API's JSON, as CSV rows and as a PDF: the same figures three ways.

All three take the `Statement` that `payouts.selectors.statements` reads, and write
each amount from the same micros: the API and the CSV as exact decimal strings in the
minor unit (`"7205.4"`), beside the API's whole minor units rounded down; the PDF as
money people read (`€72.054`, through `ledger.display`). Nothing here adds anything up
that the selector did not.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ledger.display import date_words, money_from_micros, money_from_minor
from ledger.money import micros_minor_decimal
from payouts.documents.pdf import Column, Document, DocumentTable, render_pdf
from payouts.selectors.statements import Statement, StatementLine, minor_rounded_down

CSV_HEADER = (
    "kind",
    "work",
    "work_title",
    "licensee",
    "licensee_name",
    "license",
    "use",
    "units",
    "unit_amount_decimal",
    "gross_decimal",
    "commission_decimal",
    "net_decimal",
)
KIND_WORDS = {
    "sale": "Sale",
    "per_unit": "Per unit",
    "pool": "Pool share",
    "minimum": "Minimum top-up",
    "adjustment": "Adjustment",
    "other": "Other",
}


def _rate_text(rate: Decimal | None) -> str | None:
    return None if rate is None else format(rate.normalize(), "f")


def _amount_fields(name: str, micros: int, currency: str) -> dict[str, Any]:
    return {
        name: minor_rounded_down(micros, currency),
        f"{name}_decimal": micros_minor_decimal(micros, currency),
    }


def line_render(line: StatementLine, currency: str) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "work": line.work_id,
        "work_title": line.work_title,
        "licensee": line.licensee_id,
        "licensee_name": line.licensee_name or None,
        "license": line.license_id,
        "use": line.use or None,
        "units": line.units,
        "unit_amount_decimal": _rate_text(line.unit_amount_decimal),
        "gross_decimal": micros_minor_decimal(line.gross_micros, currency),
        "commission_decimal": micros_minor_decimal(line.commission_micros, currency),
        "net_decimal": micros_minor_decimal(line.net_micros, currency),
    }


def statement_render(statement: Statement) -> dict[str, Any]:
    """The API's `statement` object (API.md "Statements")."""
    currency = statement.currency
    return {
        "id": statement.id,
        "object": "statement",
        "period": statement.period,
        "status": statement.status,
        "currency": currency,
        **_amount_fields("opening_balance", statement.opening_micros, currency),
        **_amount_fields("earned", statement.earned_micros, currency),
        **_amount_fields("paid", statement.paid_micros, currency),
        **_amount_fields("closing_balance", statement.closing_micros, currency),
        "commission_basis_points": statement.commission_basis_points,
        "totals": {
            "gross_decimal": micros_minor_decimal(statement.gross_micros, currency),
            "commission_decimal": micros_minor_decimal(statement.commission_micros, currency),
            "net_decimal": micros_minor_decimal(statement.net_micros, currency),
        },
        "lines": [line_render(line, currency) for line in statement.lines],
    }


def _csv_safe(value: object) -> object:
    # A title starting with = + - @ would run as a formula in a spreadsheet; numbers
    # (a negative adjustment's "-420") are written as numbers.
    if isinstance(value, str) and value[:1] in {"=", "+", "@", "\t", "\r"}:
        return "'" + value
    if isinstance(value, str) and value[:1] == "-" and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def statement_csv_rows(statement: Statement) -> Iterator[list[object]]:
    """The lines, one row each, then the totals and balances as rows named in `kind`."""
    yield list(CSV_HEADER)
    currency = statement.currency
    for line in statement.lines:
        rendered = line_render(line, currency)
        yield [_csv_safe(rendered[column]) for column in CSV_HEADER]
    blank = [""] * (len(CSV_HEADER) - 4)
    yield [
        "total",
        *blank,
        micros_minor_decimal(statement.gross_micros, currency),
        micros_minor_decimal(statement.commission_micros, currency),
        micros_minor_decimal(statement.net_micros, currency),
    ]
    for name, micros in (
        ("opening_balance", statement.opening_micros),
        ("earned", statement.earned_micros),
        ("paid", statement.paid_micros),
        ("closing_balance", statement.closing_micros),
    ):
        yield [name, *blank, "", "", micros_minor_decimal(micros, currency)]


def statement_csv_text(statement: Statement) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in statement_csv_rows(statement):
        writer.writerow(row)
    return buffer.getvalue()


def statement_period_words(statement: Statement) -> str:
    last_day = (statement.ends_at - datetime.timedelta(days=1)).date()
    return f"{date_words(statement.starts_at.date())} to {date_words(last_day)}"


def _line_row(line: StatementLine, currency: str) -> list[str]:
    rate = (
        ""
        if line.unit_amount_decimal is None
        else money_from_minor(line.unit_amount_decimal, currency)
    )
    return [
        line.work_title,
        line.licensee_name,
        line.use,
        KIND_WORDS.get(line.kind, line.kind),
        "" if line.units is None else f"{line.units:,}",
        rate,
        money_from_micros(line.gross_micros, currency),
        money_from_micros(line.commission_micros, currency),
        money_from_micros(line.net_micros, currency),
    ]


def statement_document(statement: Statement) -> Document:
    currency = statement.currency
    money = lambda micros: money_from_micros(micros, currency)  # noqa: E731
    rate = Decimal(statement.commission_basis_points) / 100
    return Document(
        title=f"Statement for {statement.starts_at:%B %Y} ({currency.upper()})",
        subject=statement.id,
        facts=[
            ("Creator", statement.creator.display_name),
            ("Period", statement_period_words(statement)),
            ("Status", "final (royalty run posted)" if statement.status == "final" else "open"),
            ("Platform commission", f"{rate:.2f}% ({statement.commission_basis_points} bp)"),
            ("Statement", statement.id),
        ],
        tables=[
            DocumentTable(
                title="Where each amount came from",
                columns=[
                    Column("Work"),
                    Column("Licensee"),
                    Column("Use"),
                    Column("Kind"),
                    Column("Units", numeric=True),
                    Column("Rate", numeric=True),
                    Column("Gross", numeric=True),
                    Column("Commission", numeric=True),
                    Column("Net", numeric=True),
                ],
                rows=[_line_row(line, currency) for line in statement.lines],
                empty_text="Nothing was earned in this period.",
            )
        ],
        totals=[
            ("Gross", money(statement.gross_micros)),
            ("Commission", money(statement.commission_micros)),
            ("Opening balance", money(statement.opening_micros)),
            ("Earned", money(statement.earned_micros)),
            ("Paid out", money(statement.paid_micros)),
            ("Closing balance", money(statement.closing_micros)),
        ],
        notes=[
            "Amounts are exact to the micro; sub-cent remainders stay owed and carry "
            "to the next period. Payouts pay whole minor units."
        ],
        footer=f"Accord statement {statement.id}",
        landscape=True,
    )


def statement_pdf(statement: Statement) -> bytes:
    return render_pdf(statement_document(statement))
