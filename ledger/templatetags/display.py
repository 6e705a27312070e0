"""Template filters for money and dates: `{% load display %}`, then

    {{ offer_version.amount|money:offer_version.currency }}       £12.50 (minor units)
    {{ version.unit_amount_decimal|money:version.currency }}      €0.000003 (a rate)
    {{ balance_micros|money_micros:"eur" }}                       €1,234.56 (the books)
    {{ license.created_at|date_words }}                           3 December 2026
    {{ license.created_at|datetime_words }}                       3 December 2026, 10:42 UTC

They wrap `ledger.display`, so a page written with them shows amounts exactly as the
portal's lists do. An empty amount renders as "—" rather than failing the page.
"""

from __future__ import annotations

from django import template

from ledger import display

register = template.Library()


@register.filter
def money(amount_minor, currency: str) -> str:
    if amount_minor is None or amount_minor == "":
        return "—"
    return display.money_from_minor(amount_minor, currency)


@register.filter
def money_micros(amount_micros, currency: str) -> str:
    if amount_micros is None or amount_micros == "":
        return "—"
    return display.money_from_micros(int(amount_micros), currency)


@register.filter
def date_words(value) -> str:
    return display.date_words(value)


@register.filter
def datetime_words(value) -> str:
    return display.datetime_words(value)
