"""`{% creator_home as home %}`: the creator's home for the portal's front page.

None for staff who are not creators, so the page shows them Django's index alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from ledger.display import date_words, money_from_minor
from licensing.admin.scoping import request_creator
from licensing.selectors.licenses import license_effective_status
from licensing.selectors.portal import CreatorHome, creator_home

register = template.Library()


@dataclass(frozen=True)
class LicenseRow:
    public_id: str
    organization: str
    use: str
    price: str
    starts: str
    status: str


@register.simple_tag(takes_context=True)
def creator_home_for(context: Any) -> dict[str, Any] | None:
    request = context.get("request")
    creator = request_creator(request) if request is not None else None
    if creator is None:
        return None
    home: CreatorHome = creator_home(creator=creator)
    rows = [
        LicenseRow(
            public_id=granted.public_id,
            organization=granted.organization.name,
            use=granted.offer_version.offer.get_use_display(),
            price=money_from_minor(granted.amount, granted.currency),
            starts=date_words(granted.starts_at),
            status=license_effective_status(granted),
        )
        for granted in home.recent_licenses
    ]
    return {"creator": creator, "home": home, "licenses": rows}


@register.filter
def basis_points_percent(basis_points: int) -> str:
    """3333 -> "33.33%"; 5000 -> "50%"."""
    whole, rest = divmod(int(basis_points), 100)
    return f"{whole}.{rest:02d}%" if rest else f"{whole}%"
