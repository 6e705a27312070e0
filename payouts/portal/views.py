"""The portal's statement and earnings pages (a creator's own; 404 for anyone else's).

Thin views over the same selectors and documents as the API, rendered inside the
admin's frame (`admin.site.admin_view`: staff login, the portal's header and theme).
Staff who are not creators have no statements: 404, as for another creator's id.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from licensing.admin.scoping import request_creator
from licensing.models import Creator
from payouts.documents.statements import (
    KIND_WORDS,
    statement_csv_text,
    statement_pdf,
    statement_period_words,
)
from payouts.errors import PayoutError
from payouts.portal.chart import earnings_chart
from payouts.selectors.earnings import earnings_for, months_parse
from payouts.selectors.statements import (
    Statement,
    statement_get,
    statement_periods,
    statements_for_period,
)


def _creator(request: HttpRequest) -> Creator:
    creator = request_creator(request)
    if creator is None:
        raise Http404("Statements belong to creators.")
    return creator


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def _statement(request: HttpRequest, statement_id: str) -> Statement:
    try:
        return statement_get(creator=_creator(request), statement_public_id=statement_id)
    except PayoutError:
        raise Http404("No such statement.") from None


def statement_list_view(request: HttpRequest) -> HttpResponse:
    creator = _creator(request)
    statements = [
        statement
        for period in statement_periods(creator=creator)
        for statement in statements_for_period(creator=creator, period=period)
    ]
    active = [s for s in statements if s.lines or s.opening_micros or s.closing_micros]
    return TemplateResponse(
        request,
        "payouts/portal/statement_list.html",
        _context(request, "Your statements", statements=statements, has_activity=bool(active)),
    )


def statement_detail_view(request: HttpRequest, statement_id: str) -> HttpResponse:
    statement = _statement(request, statement_id)
    return TemplateResponse(
        request,
        "payouts/portal/statement_detail.html",
        _context(
            request,
            f"Statement for {statement.starts_at:%B %Y}",
            statement=statement,
            kind_words=KIND_WORDS,
            period_words=statement_period_words(statement),
            commission_percent=f"{statement.commission_basis_points / 100:.2f}",
        ),
    )


def statement_csv_view(request: HttpRequest, statement_id: str) -> HttpResponse:
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_csv_text(statement), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{statement.id}.csv"'
    return response


def statement_pdf_view(request: HttpRequest, statement_id: str) -> HttpResponse:
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.id}.pdf"'
    return response


def earnings_view(request: HttpRequest) -> HttpResponse:
    creator = _creator(request)
    by = "licensee" if request.GET.get("by") == "licensee" else "work"
    currency = request.GET.get("currency") or None
    try:
        months = months_parse(request.GET.get("months"))
        earnings = earnings_for(creator=creator, months=months, currency=currency)
    except PayoutError:  # a hand-edited address: show the default view, not an error
        earnings = earnings_for(creator=creator)
    chart = earnings_chart(earnings.months, by=by)
    rows = [
        (month, [part for part in getattr(month, f"by_{by}")])
        for month in reversed(earnings.months)
    ]
    return TemplateResponse(
        request,
        "payouts/portal/earnings.html",
        _context(
            request,
            "Your earnings",
            earnings=earnings,
            chart=chart,
            by=by,
            rows=rows,
        ),
    )
