"""The payouts app's error codes (API.md's `code` field) and the one error its services raise.

Royalty runs, payout batches, holds and reconciliation share the enum: each code
implies its HTTP status, so no caller states one.
"""

from __future__ import annotations

import enum
from typing import Any

from config.errors import DomainError


class PayoutErrorCode(enum.StrEnum):
    PARAMETER_INVALID = "parameter_invalid"
    CURRENCY_UNSUPPORTED = "currency_unsupported"
    # Periods and royalty runs.
    PERIOD_INVALID = "period_invalid"
    PERIOD_OPEN = "period_open"
    PERIOD_POSTED = "period_posted"
    ROYALTY_RUN_NOT_COMPUTED = "royalty_run_not_computed"
    # Not found, or not the caller's: never told apart (404).
    ROYALTY_RUN_NOT_FOUND = "royalty_run_not_found"
    BATCH_NOT_FOUND = "payout_batch_not_found"
    ITEM_NOT_FOUND = "payout_item_not_found"
    CREATOR_NOT_FOUND = "creator_not_found"
    STATEMENT_NOT_FOUND = "statement_not_found"
    INVOICE_NOT_FOUND = "invoice_not_found"
    NOT_FOUND = "not_found"  # an account of the books: the generic code it always answered
    # Four eyes, for runs and batches alike.
    SECOND_APPROVER_REQUIRED = "second_approver_required"
    NOT_A_FINANCE_USER = "not_a_finance_user"
    # The batch state machine.
    BATCH_NOT_DRAFT = "payout_batch_not_draft"
    BATCH_NOT_APPROVED = "payout_batch_not_approved"
    ITEM_NOT_FAILED = "payout_item_not_failed"
    CREATOR_IN_OPEN_BATCH = "creator_in_open_batch"
    ITEM_SUPERSEDED = "payout_item_superseded"
    # Holds.
    CREATOR_ALREADY_HELD = "creator_already_held"
    CREATOR_NOT_HELD = "creator_not_held"
    # Invoices.
    INVOICE_NOT_OPEN = "invoice_not_open"


_STATUS = {
    PayoutErrorCode.PARAMETER_INVALID: 400,
    PayoutErrorCode.CURRENCY_UNSUPPORTED: 400,
    PayoutErrorCode.PERIOD_INVALID: 400,
    PayoutErrorCode.PERIOD_OPEN: 422,
    PayoutErrorCode.PERIOD_POSTED: 409,
    PayoutErrorCode.ROYALTY_RUN_NOT_COMPUTED: 409,
    PayoutErrorCode.ROYALTY_RUN_NOT_FOUND: 404,
    PayoutErrorCode.BATCH_NOT_FOUND: 404,
    PayoutErrorCode.ITEM_NOT_FOUND: 404,
    PayoutErrorCode.CREATOR_NOT_FOUND: 404,
    PayoutErrorCode.STATEMENT_NOT_FOUND: 404,
    PayoutErrorCode.INVOICE_NOT_FOUND: 404,
    PayoutErrorCode.NOT_FOUND: 404,
    PayoutErrorCode.SECOND_APPROVER_REQUIRED: 409,
    PayoutErrorCode.NOT_A_FINANCE_USER: 403,
    PayoutErrorCode.BATCH_NOT_DRAFT: 409,
    PayoutErrorCode.BATCH_NOT_APPROVED: 409,
    PayoutErrorCode.ITEM_NOT_FAILED: 409,
    PayoutErrorCode.CREATOR_IN_OPEN_BATCH: 409,
    PayoutErrorCode.ITEM_SUPERSEDED: 409,
    PayoutErrorCode.CREATOR_ALREADY_HELD: 409,
    PayoutErrorCode.CREATOR_NOT_HELD: 409,
    PayoutErrorCode.INVOICE_NOT_OPEN: 409,
}


class PayoutError(DomainError):
    """A payouts service refused: bad input 400, not found 404, a conflict 409, a rule 422."""

    def __init__(
        self,
        code: PayoutErrorCode,
        message: str,
        *,
        param: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(code, message, param=param, details=details, http_status=_STATUS[code])
