"""The ledger's error codes and the error its services raise.

Codes are stable API: the exception handler renders them and tests assert them.
"""

from __future__ import annotations

import enum
from typing import Any

from config.errors import DomainError


class LedgerErrorCode(enum.StrEnum):
    UNBALANCED = "unbalanced"
    CURRENCY_MISMATCH = "currency_mismatch"
    CURRENCY_UNSUPPORTED = "currency_unsupported"
    TOO_FEW_LEGS = "too_few_legs"
    TOO_MANY_LEGS = "too_many_legs"
    AMOUNT_INVALID = "amount_invalid"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_CONFLICT = "account_conflict"
    ACCOUNT_KIND_INVALID = "account_kind_invalid"
    ACCOUNT_NAME_INVALID = "account_name_invalid"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_CONFLICT = "idempotency_key_conflict"
    ALREADY_REVERSED = "already_reversed"
    TRANSACTION_NOT_FOUND = "transaction_not_found"
    BATCH_TOO_LARGE = "batch_too_large"
    FIELD_INVALID = "field_invalid"
    EFFECTIVE_AT_INVALID = "effective_at_invalid"


_HTTP_STATUS: dict[LedgerErrorCode, int] = {
    LedgerErrorCode.ACCOUNT_NOT_FOUND: 404,
    LedgerErrorCode.TRANSACTION_NOT_FOUND: 404,
    LedgerErrorCode.IDEMPOTENCY_KEY_CONFLICT: 409,
    LedgerErrorCode.ALREADY_REVERSED: 409,
    LedgerErrorCode.ACCOUNT_CONFLICT: 409,
}


class LedgerError(DomainError):
    """An expected failure of a ledger service; nothing was written."""

    def __init__(
        self,
        code: LedgerErrorCode,
        message: str,
        *,
        param: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            code, message, param=param, details=details, http_status=_HTTP_STATUS.get(code, 422)
        )
