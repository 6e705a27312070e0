"""Columns that show a row's amount as money and its dates in words, for any admin.

A row with `amount` (minor units) and `currency` shows `£12.50` in a "price" column
instead of `1250` beside `GBP`; `ledger.display` writes the text. Mix this into an
admin and name `price`, `created_on`, `starts_on` or `ends_on` where the raw fields
were listed; the raw fields stay sortable through `ordering`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from ledger.display import date_words, datetime_words, money_from_minor


def money_fields(model: Any) -> list[str]:
    """A read-only row's fields, its `amount` and `currency` shown as one "price"."""
    names = [field.name for field in model._meta.fields if field.name != "currency"]
    return ["price" if name == "amount" else name for name in names]


class MoneyColumnsMixin:
    @admin.display(description="Amount", ordering="amount")
    def price(self, row: Any) -> str:
        return money_from_minor(row.amount, row.currency)

    @admin.display(description="Created", ordering="created_at")
    def created_on(self, row: Any) -> str:
        return datetime_words(row.created_at)

    @admin.display(description="Starts", ordering="starts_at")
    def starts_on(self, row: Any) -> str:
        return date_words(row.starts_at)

    @admin.display(description="Ends", ordering="ends_at")
    def ends_on(self, row: Any) -> str:
        return date_words(row.ends_at) if row.ends_at else "no end"
