"""What every licensing model shares: id lengths, amount bounds, the audit history's user."""

from __future__ import annotations

from typing import Any

BASIS_POINTS_TOTAL = 10_000
# "Prices of more than 12 digits" are refused: amounts stay below a trillion minor units.
AMOUNT_MAX = 999_999_999_999
PUBLIC_ID_LENGTH = 32


def history_user(request: Any = None, **kwargs: Any) -> Any:
    """Name the Django user behind a change, for the audit history.

    An API request is authenticated as a `Principal` (see `api_keys`), which stands
    for a user but is not one; the history records that user. Changes made outside a
    request (commands, demo data) have no user.
    """
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # A Principal carries the user it acts for; a session's user is the user itself.
    return user if hasattr(user, "_meta") else getattr(user, "user", None)
