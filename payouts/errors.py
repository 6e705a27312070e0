"""The payouts app's error codes (API.md's `code` field) and the error its services raise."""

from __future__ import annotations

import enum

from config.errors import DomainError


class PayoutsErrorCode(enum.StrEnum):
    PERIOD_INVALID = "period_invalid"
    PERIOD_OPEN = "period_open"
    PERIOD_POSTED = "period_posted"
    ROYALTY_RUN_NOT_FOUND = "royalty_run_not_found"
    ROYALTY_RUN_NOT_COMPUTED = "royalty_run_not_computed"
    SECOND_APPROVER_REQUIRED = "second_approver_required"
    NOT_A_FINANCE_USER = "not_a_finance_user"
    NOT_FOUND = "not_found"
    INVOICE_NOT_FOUND = "invoice_not_found"
    INVOICE_NOT_OPEN = "invoice_not_open"


_STATUS = {
    PayoutsErrorCode.PERIOD_INVALID: 400,
    PayoutsErrorCode.PERIOD_OPEN: 422,
    PayoutsErrorCode.PERIOD_POSTED: 409,
    PayoutsErrorCode.ROYALTY_RUN_NOT_FOUND: 404,
    PayoutsErrorCode.ROYALTY_RUN_NOT_COMPUTED: 409,
    PayoutsErrorCode.SECOND_APPROVER_REQUIRED: 409,
    PayoutsErrorCode.NOT_A_FINANCE_USER: 403,
    PayoutsErrorCode.NOT_FOUND: 404,
    PayoutsErrorCode.INVOICE_NOT_FOUND: 404,
    PayoutsErrorCode.INVOICE_NOT_OPEN: 409,
}


class PayoutsError(DomainError):
    """An expected failure of a payouts service, its HTTP status implied by the code."""

    def __init__(self, code: PayoutsErrorCode, message: str, *, param: str | None = None) -> None:
        super().__init__(code, message, param=param, http_status=_STATUS[code])


class PayoutErrorCode(enum.StrEnum):
    CURRENCY_UNSUPPORTED = "currency_unsupported"
    PARAMETER_INVALID = "parameter_invalid"
    # Not found, or not the caller's: never told apart (404).
    BATCH_NOT_FOUND = "payout_batch_not_found"
    ITEM_NOT_FOUND = "payout_item_not_found"
    CREATOR_NOT_FOUND = "creator_not_found"
    # State machine.
    BATCH_NOT_DRAFT = "payout_batch_not_draft"
    BATCH_NOT_APPROVED = "payout_batch_not_approved"
    BATCH_EMPTY = "payout_batch_empty"
    SECOND_APPROVER_REQUIRED = "second_approver_required"
    ITEM_NOT_FAILED = "payout_item_not_failed"
    CREATOR_IN_OPEN_BATCH = "creator_in_open_batch"
    ITEM_SUPERSEDED = "payout_item_superseded"
    # Holds.
    CREATOR_ALREADY_HELD = "creator_already_held"
    CREATOR_NOT_HELD = "creator_not_held"
    # Onboarding.
    PAYOUT_ACCOUNT_MISSING = "payout_account_missing"


class PayoutError(DomainError):
    """A payout service refused: a rule broken (422), a conflict (409), not found (404)."""
