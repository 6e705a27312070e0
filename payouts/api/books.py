"""The books over HTTP (finance key): the trial balance and an account's entries.

Accounts are named by their code (`creator:crt_…:payable:eur`), which is what the
trial balance lists as `id`: row numbers never leave the database.
"""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import parse_limit
from config.api.schema import error_responses
from ledger.models import Account, Entry
from ledger.money import micros_minor_decimal
from ledger.selectors import account_entries, trial_balance
from licensing.api.operation_docs import operation_docs
from payouts.api.common import IsFinanceElseNotFound
from payouts.errors import PayoutError, PayoutErrorCode

TRIAL_SCHEMA = inline_serializer("TrialBalance", {"object": serializers.CharField()})
ENTRY_SCHEMA = inline_serializer("LedgerEntry", {"transaction": serializers.CharField()})


def _as_of(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        raise PayoutError(
            PayoutErrorCode.PARAMETER_INVALID,
            "as_of must be an RFC 3339 time with offset.",
            param="as_of",
        )
    return value


class TrialBalanceApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = Account.objects.none()

    @extend_schema(
        **operation_docs("ledger_trial_balance"),
        responses={200: TRIAL_SCHEMA, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        as_of = _as_of(request.query_params.get("as_of"))
        books = trial_balance(as_of=as_of)
        return Response(
            {
                "object": "trial_balance",
                "as_of": as_of.isoformat() if as_of else None,
                "currencies": [
                    {
                        "currency": currency,
                        "debits_decimal": micros_minor_decimal(totals.debit_micros, currency),
                        "credits_decimal": micros_minor_decimal(totals.credit_micros, currency),
                        "balanced": totals.balanced,
                    }
                    for currency, totals in sorted(books.totals.items())
                ],
                "accounts": [
                    {
                        "id": line.code,
                        "code": line.code,
                        "kind": line.kind,
                        "currency": line.currency,
                        "balance_decimal": micros_minor_decimal(line.balance_micros, line.currency),
                    }
                    for line in books.lines
                ],
            }
        )


class AccountEntriesApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = Entry.objects.none()

    @extend_schema(
        **operation_docs("ledger_account_entries"),
        responses={200: ENTRY_SCHEMA, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request: Request, account_id: str) -> Response:
        account = Account.objects.filter(code=account_id).first()
        if account is None:
            raise PayoutError(PayoutErrorCode.NOT_FOUND, "No such account.")
        page = account_entries(
            account,
            cursor=request.query_params.get("cursor") or None,
            limit=parse_limit(request.query_params.get("limit")),
        )
        return Response(
            {
                "object": "list",
                "data": [
                    {
                        "object": "ledger_entry",
                        "transaction": entry.transaction.idempotency_key,
                        "amount_decimal": micros_minor_decimal(entry.amount_micros, entry.currency),
                        "currency": entry.currency,
                        "kind": entry.transaction.kind,
                        "memo": entry.transaction.memo,
                        "effective_at": entry.effective_at.isoformat(),
                        "created_at": entry.transaction.created_at.isoformat(),
                    }
                    for entry in page.entries
                ],
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )
