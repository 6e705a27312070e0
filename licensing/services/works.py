"""Works and their co-owners (rights shares)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from licensing.errors import LicensingErrorCode
from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import (
    BASIS_POINTS_TOTAL,
    Creator,
    Offer,
    OfferVersion,
    RightsShare,
    Work,
)
from licensing.public_cache import public_cache_invalidate
from licensing.selectors.clearances import work_is_quoted
from licensing.services.offers import offer_row_delete
from licensing.services.validation import (
    SHARES_MAX,
    UNSET,
    Unset,
    invalid,
    title_check,
)

# --- Works and their co-owners --------------------------------------------------------


@dataclass(frozen=True)
class ShareSpec:
    """One co-owner and their share of a work in basis points (10,000 = 100%)."""

    creator: Creator
    basis_points: int


def _kind_check(kind: str) -> str:
    if kind not in Work.Kind.values:
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            "kind must be one of " + ", ".join(Work.Kind.values) + ".",
            "kind",
        )
    return kind


def _identifiers_clean(identifiers: Mapping[str, str | None]) -> dict[str, str | None]:
    """Normalize the given identifiers (only the keys present); None or "" clears one."""
    cleaned: dict[str, str | None] = {}
    for kind, raw in identifiers.items():
        if kind not in IDENTIFIER_KINDS:
            raise invalid(
                LicensingErrorCode.IDENTIFIER_INVALID,
                f"Unknown identifier {kind!r}; use " + ", ".join(IDENTIFIER_KINDS) + ".",
                f"identifiers.{kind}",
            )
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            cleaned[kind] = None
            continue
        try:
            cleaned[kind] = identifier_normalize(kind, raw)
        except ValidationError as error:
            raise invalid(
                LicensingErrorCode.IDENTIFIER_INVALID, error.messages[0], f"identifiers.{kind}"
            ) from None
    return cleaned


def _identifiers_check_free(identifiers: Mapping[str, str | None], *, work: Work | None) -> None:
    for kind, value in identifiers.items():
        if value is None:
            continue
        taken = Work.objects.filter(**{kind: value})
        if work is not None and work.pk is not None:
            taken = taken.exclude(pk=work.pk)
        if taken.exists():
            raise invalid(
                LicensingErrorCode.IDENTIFIER_TAKEN,
                f"Another work already has this {kind}.",
                f"identifiers.{kind}",
            )


def _work_save(work: Work, identifiers: Mapping[str, str | None]) -> None:
    """Save, turning a lost race on a unique identifier into the same clear error."""
    try:
        with transaction.atomic():
            work.save()
    except IntegrityError:
        _identifiers_check_free(identifiers, work=work)
        raise


def rights_shares_check(shares: Sequence[ShareSpec]) -> None:
    """Check a full set of co-owner shares; raise naming the first offending field."""
    if not shares:
        raise invalid(LicensingErrorCode.SHARES_EMPTY, "A work needs at least one owner.", "shares")
    if len(shares) > SHARES_MAX:
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"A work has at most {SHARES_MAX} co-owners.",
            "shares",
        )
    seen: set[int] = set()
    for index, share in enumerate(shares):
        basis_points = share.basis_points
        if not isinstance(basis_points, int) or not 1 <= basis_points <= BASIS_POINTS_TOTAL:
            raise invalid(
                LicensingErrorCode.SHARES_TOTAL_INVALID,
                f"Each share is 1 to {BASIS_POINTS_TOTAL} basis points.",
                f"shares[{index}].basis_points",
            )
        if share.creator.pk in seen:
            raise invalid(
                LicensingErrorCode.SHARES_DUPLICATE_CREATOR,
                "A creator appears twice among the co-owners.",
                f"shares[{index}].creator",
            )
        seen.add(share.creator.pk)
    total = sum(share.basis_points for share in shares)
    if total != BASIS_POINTS_TOTAL:
        raise invalid(
            LicensingErrorCode.SHARES_TOTAL_INVALID,
            f"Shares must total {BASIS_POINTS_TOTAL} basis points (100%); these total {total}.",
            "shares",
        )


def rights_shares_set(*, work: Work, shares: Sequence[ShareSpec]) -> list[RightsShare]:
    """Replace a work's co-owners with `shares`, which must total exactly 10,000."""
    rights_shares_check(shares)
    with transaction.atomic():
        existing = {
            share.creator_id: share
            for share in RightsShare.objects.select_for_update().filter(work=work)
        }
        kept: list[RightsShare] = []
        for spec in shares:
            share = existing.pop(spec.creator.pk, None)
            if share is None:
                share = RightsShare.objects.create(
                    work=work, creator=spec.creator, basis_points=spec.basis_points
                )
            elif share.basis_points != spec.basis_points:
                share.basis_points = spec.basis_points
                share.save(update_fields=["basis_points"])
            kept.append(share)
        for share in existing.values():
            share.delete()
        total = RightsShare.objects.filter(work=work).aggregate(total=Sum("basis_points"))
        assert total["total"] == BASIS_POINTS_TOTAL, total
    return kept


def _offers_withdraw_for_work(work: Work) -> None:
    live = (Offer.Status.DRAFT, Offer.Status.ACTIVE)
    for offer in Offer.objects.select_for_update().filter(work=work, status__in=live):
        offer.status = Offer.Status.WITHDRAWN
        offer.save(update_fields=["status", "updated_at"])


def work_create(
    *,
    creator: Creator,
    title: str,
    kind: str,
    identifiers: Mapping[str, str | None] | None = None,
    reserved: bool = False,
    shares: Sequence[ShareSpec] | None = None,
) -> Work:
    """Register a work; its creator owns all of it unless `shares` says otherwise."""
    title = title_check(title)
    kind = _kind_check(kind)
    cleaned = _identifiers_clean(identifiers or {})
    shares = list(shares) if shares is not None else [ShareSpec(creator, BASIS_POINTS_TOTAL)]
    rights_shares_check(shares)
    with transaction.atomic():
        _identifiers_check_free(cleaned, work=None)
        work = Work(creator=creator, title=title, kind=kind, reserved=bool(reserved), **cleaned)
        _work_save(work, cleaned)
        rights_shares_set(work=work, shares=shares)
    public_cache_invalidate()
    return work


def work_update(
    *,
    work: Work,
    title: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    identifiers: Mapping[str, str | None] | Unset = UNSET,
    reserved: bool | Unset = UNSET,
    shares: Sequence[ShareSpec] | Unset = UNSET,
) -> Work:
    """Change a work; reserving it withdraws every offer made for it."""
    changes: dict[str, Any] = {}
    if not isinstance(title, Unset):
        changes["title"] = title_check(title)
    if not isinstance(kind, Unset):
        changes["kind"] = _kind_check(kind)
    cleaned = _identifiers_clean(identifiers) if not isinstance(identifiers, Unset) else {}
    changes.update(cleaned)
    if not isinstance(shares, Unset):
        rights_shares_check(shares)
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work.pk)
        _identifiers_check_free(cleaned, work=work)
        becomes_reserved = reserved is True and not work.reserved
        if not isinstance(reserved, Unset):
            changes["reserved"] = bool(reserved)
        changed = {name: value for name, value in changes.items() if getattr(work, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(work, name, value)
            _work_save(work, cleaned)
        if becomes_reserved:
            _offers_withdraw_for_work(work)
        if not isinstance(shares, Unset):
            rights_shares_set(work=work, shares=shares)
    public_cache_invalidate()
    return work


def work_reserve(*, work: Work) -> Work:
    """Reserve a work from all AI use (opt-out): it keeps no live offer."""
    return work_update(work=work, reserved=True)


def work_delete(*, work: Work) -> None:
    """Delete a work that was never licensed, with its offers and shares."""
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work.pk)
        if OfferVersion.objects.filter(offer__work=work, licensed_at__isnull=False).exists():
            raise invalid(
                LicensingErrorCode.WORK_HAS_LICENSES,
                "This work has been licensed; reserve it instead of deleting it.",
                None,
            )
        if work_is_quoted(work=work):
            raise invalid(
                LicensingErrorCode.WORK_HAS_LICENSES,
                "A dataset clearance quoted this work; reserve it instead of deleting it.",
                None,
            )
        for offer in Offer.objects.filter(work=work):
            offer_row_delete(offer)
        work.delete()
    public_cache_invalidate()
