"""Who may call what: permission classes keyed on the `Principal` an API key resolves to.

A request without a key never reaches these (DRF answers 401 first); a key of the
wrong kind gets 403 with a code naming the kind of key the endpoint needs.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from licensing.errors import LicensingErrorCode
from licensing.models import ApiKey


class _PrincipalKind(BasePermission):
    kind: str = ""
    message = ""
    code = ""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        return bool(
            principal is not None
            and getattr(principal, "is_authenticated", False)
            and getattr(principal, "kind", None) == self.kind
        )


class IsCreator(_PrincipalKind):
    kind = ApiKey.Kind.CREATOR
    message = "This endpoint needs a creator's API key."
    code = LicensingErrorCode.CREATOR_KEY_REQUIRED


class IsFinance(_PrincipalKind):
    kind = ApiKey.Kind.FINANCE
    message = "This endpoint needs a finance API key."
    code = LicensingErrorCode.FINANCE_KEY_REQUIRED


class IsLicensee(_PrincipalKind):
    kind = ApiKey.Kind.ORGANIZATION
    message = "This endpoint needs a licensee organisation's API key."
    code = LicensingErrorCode.LICENSEE_KEY_REQUIRED
