"""The catalogue's error codes (API.md's `code` field) and the error its services raise."""

from __future__ import annotations

import enum

from config.errors import DomainError


class LicensingErrorCode(enum.StrEnum):
    # A field that breaks a rule the serializer could not check (services called directly).
    PARAMETER_INVALID = "parameter_invalid"
    # Not found, or another tenant's: the two are never told apart (404).
    WORK_NOT_FOUND = "work_not_found"
    OFFER_NOT_FOUND = "offer_not_found"
    OFFER_VERSION_NOT_FOUND = "offer_version_not_found"
    COLLECTION_NOT_FOUND = "collection_not_found"
    CREATOR_NOT_FOUND = "creator_not_found"
    # Identifiers.
    IDENTIFIER_INVALID = "identifier_invalid"
    IDENTIFIER_TAKEN = "identifier_taken"
    REGISTRY_QUERY_INVALID = "registry_query_invalid"
    # Co-owners.
    SHARES_TOTAL_INVALID = "shares_total_invalid"
    SHARES_DUPLICATE_CREATOR = "shares_duplicate_creator"
    SHARES_EMPTY = "shares_empty"
    # Offers.
    CURRENCY_UNSUPPORTED = "currency_unsupported"
    OFFER_TARGET_INVALID = "offer_target_invalid"
    OFFER_TERMS_INVALID = "offer_terms_invalid"
    OFFER_WITHDRAWN = "offer_withdrawn"
    OFFER_STATUS_INVALID = "offer_status_invalid"
    WORK_RESERVED = "work_reserved"
    # Usage (the batch is refused as a whole; `details` names each bad event).
    USAGE_INVALID = "usage_invalid"
    WORK_HAS_LICENSES = "work_has_licenses"
    OFFER_HAS_LICENSES = "offer_has_licenses"
    COLLECTION_HAS_LICENSES = "collection_has_licenses"
    # Creators and keys.
    USERNAME_TAKEN = "username_taken"
    USER_NOT_FOUND = "user_not_found"
    NOT_A_CREATOR = "not_a_creator"
    NOT_A_FINANCE_USER = "not_a_finance_user"
    ORGANIZATION_NOT_FOUND = "organization_not_found"
    ORGANIZATION_SLUG_TAKEN = "organization_slug_taken"
    PAYMENT_METHOD_REFUSED = "payment_method_refused"
    # Buying licenses.
    LICENSE_NOT_FOUND = "license_not_found"
    CURRENCY_MISMATCH = "currency_mismatch"
    WORKS_REQUIRED = "works_required"
    WORKS_NOT_ALLOWED = "works_not_allowed"
    WORK_NOT_IN_OFFER = "work_not_in_offer"
    PURCHASE_KEY_REUSED = "purchase_key_reused"
    ALREADY_LICENSED = "already_licensed"
    OFFER_CHANGED = "offer_changed"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    # Dataset clearances (each raised with its HTTP status).
    CLEARANCE_NOT_FOUND = "clearance_not_found"
    IDENTIFIERS_INVALID = "identifiers_invalid"
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_CHANGED = "quote_changed"
    CLEARANCE_NOT_PURCHASED = "clearance_not_purchased"
    # The key is of another kind than the endpoint's (403).
    CREATOR_KEY_REQUIRED = "creator_key_required"
    FINANCE_KEY_REQUIRED = "finance_key_required"
    LICENSEE_KEY_REQUIRED = "licensee_key_required"


class LicensingError(DomainError):
    """An expected failure of a catalogue service (422 unless the code implies otherwise)."""

    _NOT_FOUND_CODES = frozenset(
        {
            LicensingErrorCode.WORK_NOT_FOUND,
            LicensingErrorCode.OFFER_NOT_FOUND,
            LicensingErrorCode.OFFER_VERSION_NOT_FOUND,
            LicensingErrorCode.COLLECTION_NOT_FOUND,
            LicensingErrorCode.CREATOR_NOT_FOUND,
            LicensingErrorCode.LICENSE_NOT_FOUND,
        }
    )
    _CONFLICT_CODES = frozenset(
        {
            LicensingErrorCode.IDENTIFIER_TAKEN,
            LicensingErrorCode.USERNAME_TAKEN,
            LicensingErrorCode.ORGANIZATION_SLUG_TAKEN,
            LicensingErrorCode.ALREADY_LICENSED,
            LicensingErrorCode.OFFER_CHANGED,
        }
    )

    def __init__(
        self,
        code: LicensingErrorCode,
        message: str,
        *,
        param: str | None = None,
        details: list[dict] | None = None,
        http_status: int | None = None,
    ) -> None:
        if http_status is None:
            if code in self._NOT_FOUND_CODES:
                http_status = 404
            elif code in self._CONFLICT_CODES:
                http_status = 409
            elif code == LicensingErrorCode.REGISTRY_QUERY_INVALID:
                http_status = 400
        super().__init__(code, message, param=param, details=details, http_status=http_status)
