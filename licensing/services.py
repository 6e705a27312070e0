"""Writes to the catalogue. Each service is one transaction with keyword-only arguments.

The API views, the admin portal, the CSV import, the management commands and the
demo loader all write through these functions, so a rule lives in exactly one place:
identifiers are normalized and unique, a work's shares total 10,000, an offer's terms
fit its pricing model, a reserved work has no offers, and a licensed offer version is
never changed (the next version is created instead). A rule broken by the caller's
input raises `LicensingError` with a code and the name of the offending field, before
anything is written.

Every service that changes what the public endpoints show ends with
`public_cache_invalidate()`, which empties their cache once the transaction commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from licensing.api_keys import VISIBLE_PREFIX_LENGTH, api_key_digest, api_key_generate
from licensing.currencies import currency_is_supported
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import (
    AMOUNT_MAX,
    BASIS_POINTS_TOTAL,
    ApiKey,
    Collection,
    Creator,
    Offer,
    OfferVersion,
    RightsShare,
    Use,
    Work,
)
from licensing.public_cache import public_cache_invalidate
from licensing.selectors import offer_version_is_licensed


class _Unset:
    """Marks an argument the caller left out (None is a value: "clear this field")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

CREATOR_GROUP = "Creators"
FINANCE_GROUP = "Finance"
SHARES_MAX = 100
COLLECTION_WORKS_MAX = 10_000
TITLE_LENGTH_MAX = 300
UNIT_PRICE_INTEGER_DIGITS_MAX = 12
UNIT_PRICE_DECIMAL_PLACES_MAX = 12
TERM_DAYS_MAX = 36_500
CREATOR_ACCOUNTS = {"payable": "liability"}

_CREATOR_PERMISSIONS = (
    "view_creator",
    "change_creator",
    "view_offerversion",
    *(
        f"{action}_{model}"
        for model in ("work", "rightsshare", "collection", "offer")
        for action in ("view", "add", "change", "delete")
    ),
)
_FINANCE_PERMISSIONS = tuple(
    f"view_{model}"
    for model in ("creator", "work", "rightsshare", "collection", "offer", "offerversion")
)


def _invalid(code: LicensingErrorCode, message: str, param: str | None) -> LicensingError:
    return LicensingError(code, message, param=param)


# --- Creators, finance users, groups --------------------------------------------------


def _group_ensure(*, name: str, codenames: Sequence[str]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    permissions = Permission.objects.filter(
        content_type__app_label="licensing", codename__in=codenames
    )
    if permissions.count() != len(codenames):
        # Permissions are created after migrations; a fresh database may not have them yet.
        from django.apps import apps
        from django.contrib.auth.management import create_permissions

        create_permissions(apps.get_app_config("licensing"), verbosity=0)
    group.permissions.add(*permissions.all())
    return group


def creator_group_ensure() -> Group:
    """The group whose permissions let a creator use the portal (scoped by the admin)."""
    return _group_ensure(name=CREATOR_GROUP, codenames=_CREATOR_PERMISSIONS)


def finance_group_ensure() -> Group:
    return _group_ensure(name=FINANCE_GROUP, codenames=_FINANCE_PERMISSIONS)


def _currency_check(currency: str, *, param: str) -> str:
    if not isinstance(currency, str) or not currency_is_supported(currency.lower()):
        raise _invalid(
            LicensingErrorCode.CURRENCY_UNSUPPORTED,
            f"Currency {currency!r} is not supported; use an ISO 4217 code we pay out in.",
            param,
        )
    return currency.lower()


def _username_check(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise _invalid(LicensingErrorCode.PARAMETER_INVALID, "Give a username.", "username")
    if get_user_model().objects.filter(username=username).exists():
        raise _invalid(
            LicensingErrorCode.USERNAME_TAKEN, f"User {username!r} already exists.", "username"
        )
    return username


def _country_check(country: str) -> str:
    country = (country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise _invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            "Give the country as an ISO 3166-1 alpha-2 code, e.g. FR.",
            "country",
        )
    return country


def creator_accounts_open(*, creator: Creator, currency: str | None = None) -> dict[str, Any]:
    """Open (idempotently) the ledger accounts a creator is paid through."""
    from ledger.services import owner_accounts_open

    return owner_accounts_open(
        owner_type="creator",
        owner_id=creator.public_id,
        currency=currency or creator.payout_currency,
        accounts=CREATOR_ACCOUNTS,
    )


def creator_create(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    display_name: str | None = None,
    payout_currency: str = "eur",
    country: str = "",
) -> Creator:
    """Create a creator's portal login (staff, not superuser), profile and ledger accounts."""
    payout_currency = _currency_check(payout_currency, param="currency")
    country = _country_check(country)
    with transaction.atomic():
        username = _username_check(username)
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(creator_group_ensure())
        creator = Creator.objects.create(
            user=user,
            display_name=(display_name or username).strip()[:200],
            payout_currency=payout_currency,
            country=country,
        )
        creator_accounts_open(creator=creator)
    return creator


def creator_update(
    *,
    creator: Creator,
    display_name: str | _Unset = UNSET,
    country: str | _Unset = UNSET,
    payout_currency: str | _Unset = UNSET,
) -> Creator:
    with transaction.atomic():
        creator = Creator.objects.select_for_update().get(pk=creator.pk)
        if not isinstance(display_name, _Unset):
            if not display_name.strip():
                raise _invalid(
                    LicensingErrorCode.PARAMETER_INVALID, "Give a display name.", "display_name"
                )
            creator.display_name = display_name.strip()[:200]
        if not isinstance(country, _Unset):
            creator.country = _country_check(country)
        if not isinstance(payout_currency, _Unset):
            creator.payout_currency = _currency_check(payout_currency, param="payout_currency")
            creator_accounts_open(creator=creator)
        creator.save()
    public_cache_invalidate()
    return creator


def finance_user_create(*, username: str, password: str | None = None, email: str = "") -> Any:
    """Create a finance staff login (portal access and finance API keys)."""
    with transaction.atomic():
        username = _username_check(username)
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(finance_group_ensure())
    return user


def user_is_finance(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists())


# --- API keys -------------------------------------------------------------------------


def api_key_create(
    *,
    kind: str,
    creator: Creator | None = None,
    user: Any = None,
    organization: Any = None,
    name: str = "",
) -> tuple[ApiKey, str]:
    """Mint a key; return the row and the raw key, which is never stored or shown again."""
    if kind == ApiKey.Kind.CREATOR:
        if creator is None:
            raise _invalid(LicensingErrorCode.NOT_A_CREATOR, "A creator key needs a creator.", None)
        user = creator.user
    elif kind == ApiKey.Kind.FINANCE:
        if user is None or not user_is_finance(user):
            raise _invalid(
                LicensingErrorCode.NOT_A_FINANCE_USER,
                f"{getattr(user, 'username', user)!r} is not a finance user.",
                None,
            )
    elif kind == ApiKey.Kind.ORGANIZATION:
        if organization is None:
            raise _invalid(
                LicensingErrorCode.ORGANIZATION_NOT_FOUND,
                "A licensee organisation's key needs its organisation.",
                None,
            )
        user = None
    else:
        raise _invalid(LicensingErrorCode.PARAMETER_INVALID, f"Unknown key kind {kind!r}.", "kind")
    raw_key = api_key_generate()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            kind=kind,
            creator=creator,
            user=user,
            organization=organization,
            name=name[:100],
            prefix=raw_key[:VISIBLE_PREFIX_LENGTH],
            key_hash=api_key_digest(raw_key),
        )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good (idempotent: the first revocation time is kept)."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        api_key.refresh_from_db()
    return api_key


# --- Works and their co-owners --------------------------------------------------------


@dataclass(frozen=True)
class ShareSpec:
    """One co-owner and their share of a work in basis points (10,000 = 100%)."""

    creator: Creator
    basis_points: int


def _title_check(title: str) -> str:
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title or len(title) > TITLE_LENGTH_MAX:
        raise _invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"Give a title of 1 to {TITLE_LENGTH_MAX} characters.",
            "title",
        )
    return title


def _kind_check(kind: str) -> str:
    if kind not in Work.Kind.values:
        raise _invalid(
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
            raise _invalid(
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
            raise _invalid(
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
            raise _invalid(
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
        raise _invalid(
            LicensingErrorCode.SHARES_EMPTY, "A work needs at least one owner.", "shares"
        )
    if len(shares) > SHARES_MAX:
        raise _invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"A work has at most {SHARES_MAX} co-owners.",
            "shares",
        )
    seen: set[int] = set()
    for index, share in enumerate(shares):
        basis_points = share.basis_points
        if not isinstance(basis_points, int) or not 1 <= basis_points <= BASIS_POINTS_TOTAL:
            raise _invalid(
                LicensingErrorCode.SHARES_TOTAL_INVALID,
                f"Each share is 1 to {BASIS_POINTS_TOTAL} basis points.",
                f"shares[{index}].basis_points",
            )
        if share.creator.pk in seen:
            raise _invalid(
                LicensingErrorCode.SHARES_DUPLICATE_CREATOR,
                "A creator appears twice among the co-owners.",
                f"shares[{index}].creator",
            )
        seen.add(share.creator.pk)
    total = sum(share.basis_points for share in shares)
    if total != BASIS_POINTS_TOTAL:
        raise _invalid(
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
    title = _title_check(title)
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
    title: str | _Unset = UNSET,
    kind: str | _Unset = UNSET,
    identifiers: Mapping[str, str | None] | _Unset = UNSET,
    reserved: bool | _Unset = UNSET,
    shares: Sequence[ShareSpec] | _Unset = UNSET,
) -> Work:
    """Change a work; reserving it withdraws every offer made for it."""
    changes: dict[str, Any] = {}
    if not isinstance(title, _Unset):
        changes["title"] = _title_check(title)
    if not isinstance(kind, _Unset):
        changes["kind"] = _kind_check(kind)
    cleaned = _identifiers_clean(identifiers) if not isinstance(identifiers, _Unset) else {}
    changes.update(cleaned)
    if not isinstance(shares, _Unset):
        rights_shares_check(shares)
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work.pk)
        _identifiers_check_free(cleaned, work=work)
        becomes_reserved = reserved is True and not work.reserved
        if not isinstance(reserved, _Unset):
            changes["reserved"] = bool(reserved)
        changed = {name: value for name, value in changes.items() if getattr(work, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(work, name, value)
            _work_save(work, cleaned)
        if becomes_reserved:
            _offers_withdraw_for_work(work)
        if not isinstance(shares, _Unset):
            rights_shares_set(work=work, shares=shares)
    public_cache_invalidate()
    return work


def work_reserve(*, work: Work) -> Work:
    """Reserve a work from all AI use (opt-out): it keeps no live offer."""
    return work_update(work=work, reserved=True)


def _offer_delete(offer: Offer) -> None:
    offer.current_version = None
    offer.save(update_fields=["current_version", "updated_at"])
    for version in OfferVersion.objects.filter(offer=offer):
        version.delete()
    offer.delete()


def work_delete(*, work: Work) -> None:
    """Delete a work that was never licensed, with its offers and shares."""
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work.pk)
        if OfferVersion.objects.filter(offer__work=work, licensed_at__isnull=False).exists():
            raise _invalid(
                LicensingErrorCode.WORK_HAS_LICENSES,
                "This work has been licensed; reserve it instead of deleting it.",
                None,
            )
        for offer in Offer.objects.filter(work=work):
            _offer_delete(offer)
        work.delete()
    public_cache_invalidate()


# --- Collections ----------------------------------------------------------------------


def _collection_works_check(creator: Creator, works: Sequence[Work]) -> list[Work]:
    works = list(dict.fromkeys(works))
    if len(works) > COLLECTION_WORKS_MAX:
        raise _invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"A collection holds at most {COLLECTION_WORKS_MAX} works.",
            "works",
        )
    # Judge by the stored rows, not by what the caller's copies say.
    stored = Work.objects.in_bulk([work.pk for work in works])
    for index, work in enumerate(works):
        row = stored.get(work.pk)
        if row is None or row.creator_id != creator.pk:
            raise _invalid(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", f"works[{index}]")
        if row.reserved:
            raise _invalid(
                LicensingErrorCode.WORK_RESERVED,
                f"{row.public_id} is reserved from AI use and cannot join a collection.",
                f"works[{index}]",
            )
    return [stored[work.pk] for work in works]


def collection_create(*, creator: Creator, title: str, works: Sequence[Work] = ()) -> Collection:
    title = _title_check(title)
    works = _collection_works_check(creator, works)
    with transaction.atomic():
        collection = Collection.objects.create(creator=creator, title=title)
        collection.works.set(works)
    public_cache_invalidate()
    return collection


def collection_update(
    *,
    collection: Collection,
    title: str | _Unset = UNSET,
    works: Sequence[Work] | _Unset = UNSET,
) -> Collection:
    with transaction.atomic():
        collection = Collection.objects.select_for_update().get(pk=collection.pk)
        if not isinstance(title, _Unset):
            collection.title = _title_check(title)
            collection.save(update_fields=["title", "updated_at"])
        if not isinstance(works, _Unset):
            collection.works.set(_collection_works_check(collection.creator, works))
    public_cache_invalidate()
    return collection


def collection_delete(*, collection: Collection) -> None:
    with transaction.atomic():
        licensed = OfferVersion.objects.filter(
            offer__collection=collection, licensed_at__isnull=False
        )
        if licensed.exists():
            raise _invalid(
                LicensingErrorCode.COLLECTION_HAS_LICENSES,
                "This collection has been licensed; withdraw its offers instead.",
                None,
            )
        for offer in Offer.objects.filter(collection=collection):
            _offer_delete(offer)
        collection.delete()
    public_cache_invalidate()


# --- Offers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferTerms:
    """The versioned part of an offer: its price and conditions."""

    pricing: str
    currency: str
    amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    unit: str | None = None
    minimum_amount: int | None = None
    term_days: int | None = None
    attribution_required: bool = False
    commercial: bool = True


OFFER_TERM_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(OfferTerms))


def offer_terms_of(offer_version: OfferVersion) -> OfferTerms:
    return OfferTerms(**{name: getattr(offer_version, name) for name in OFFER_TERM_FIELDS})


def _amount_check(value: Any, *, param: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AMOUNT_MAX:
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"{param} is a whole number of minor units from 0 to {AMOUNT_MAX} (12 digits).",
            param,
        )


def _unit_price_check(value: Any) -> None:
    if value is None:
        return
    try:
        price = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "unit_amount_decimal is a non-negative decimal in the currency's minor unit.",
            "unit_amount_decimal",
        )
    _, digits, exponent = price.normalize().as_tuple()
    assert isinstance(exponent, int)
    integer_digits = max(len(digits) + exponent, 0)
    decimal_places = max(-exponent, 0)
    if (
        integer_digits > UNIT_PRICE_INTEGER_DIGITS_MAX
        or decimal_places > UNIT_PRICE_DECIMAL_PLACES_MAX
    ):
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"unit_amount_decimal has at most {UNIT_PRICE_INTEGER_DIGITS_MAX} digits before "
            f"the point and {UNIT_PRICE_DECIMAL_PLACES_MAX} after it.",
            "unit_amount_decimal",
        )


def _terms_require(terms: OfferTerms, *, required: Sequence[str], absent: Sequence[str]) -> None:
    for name in required:
        if getattr(terms, name) is None:
            raise _invalid(
                LicensingErrorCode.OFFER_TERMS_INVALID,
                f"A {terms.pricing} offer needs {name}.",
                name,
            )
    for name in absent:
        if getattr(terms, name) is not None:
            raise _invalid(
                LicensingErrorCode.OFFER_TERMS_INVALID,
                f"A {terms.pricing} offer has no {name}.",
                name,
            )


def offer_terms_check(terms: OfferTerms, *, for_collection: bool) -> OfferTerms:
    """Check terms against their pricing model; return them with the currency normalized."""
    if terms.pricing not in OfferVersion.Pricing.values:
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "pricing is one of " + ", ".join(OfferVersion.Pricing.values) + ".",
            "pricing",
        )
    terms = dataclasses.replace(terms, currency=_currency_check(terms.currency, param="currency"))
    _amount_check(terms.amount, param="amount")
    _amount_check(terms.minimum_amount, param="minimum_amount")
    _unit_price_check(terms.unit_amount_decimal)
    if terms.unit is not None and terms.unit not in OfferVersion.Unit.values:
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "unit is one of " + ", ".join(OfferVersion.Unit.values) + ".",
            "unit",
        )
    if terms.term_days is not None and (
        isinstance(terms.term_days, bool)
        or not isinstance(terms.term_days, int)
        or not 1 <= terms.term_days <= TERM_DAYS_MAX
    ):
        raise _invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"term_days is a whole number of days from 1 to {TERM_DAYS_MAX}.",
            "term_days",
        )
    if terms.pricing == OfferVersion.Pricing.PER_UNIT:
        _terms_require(terms, required=("unit", "unit_amount_decimal"), absent=("amount",))
    else:
        _terms_require(
            terms,
            required=("amount", "term_days"),
            absent=("unit", "unit_amount_decimal", "minimum_amount"),
        )
    if terms.pricing == OfferVersion.Pricing.POOL and not for_collection:
        raise _invalid(
            LicensingErrorCode.OFFER_TARGET_INVALID,
            "A pool offer is made for a collection, not a single work.",
            "pricing",
        )
    if terms.unit_amount_decimal is not None:
        terms = dataclasses.replace(terms, unit_amount_decimal=Decimal(terms.unit_amount_decimal))
    return dataclasses.replace(
        terms,
        attribution_required=bool(terms.attribution_required),
        commercial=bool(terms.commercial),
    )


def _offer_target_check(
    *, creator: Creator, work: Work | None, collection: Collection | None
) -> None:
    if (work is None) == (collection is None):
        raise _invalid(
            LicensingErrorCode.OFFER_TARGET_INVALID,
            "An offer is made for exactly one work or one collection.",
            "work",
        )
    if work is not None and work.creator_id != creator.pk:
        raise _invalid(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", "work")
    if collection is not None and collection.creator_id != creator.pk:
        raise _invalid(LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", "collection")
    if work is not None and work.reserved:
        raise _invalid(
            LicensingErrorCode.WORK_RESERVED,
            "This work is reserved from AI use; it cannot be offered.",
            "work",
        )


def offer_create(
    *,
    creator: Creator,
    use: str,
    terms: OfferTerms,
    work: Work | None = None,
    collection: Collection | None = None,
    status: str = Offer.Status.DRAFT,
) -> Offer:
    """Make an offer (version 1) for one of the creator's works or collections."""
    _offer_target_check(creator=creator, work=work, collection=collection)
    if use not in Use.values:
        raise _invalid(
            LicensingErrorCode.PARAMETER_INVALID, "use is one of " + ", ".join(Use.values), "use"
        )
    if status not in (Offer.Status.DRAFT, Offer.Status.ACTIVE):
        raise _invalid(
            LicensingErrorCode.OFFER_STATUS_INVALID,
            "A new offer is either draft or active.",
            "status",
        )
    terms = offer_terms_check(terms, for_collection=collection is not None)
    with transaction.atomic():
        if work is not None:
            # Lock the work so a concurrent reservation cannot slip an offer past it.
            work = Work.objects.select_for_update().get(pk=work.pk)
            _offer_target_check(creator=creator, work=work, collection=None)
        offer = Offer.objects.create(
            creator=creator, work=work, collection=collection, use=use, status=status
        )
        version = OfferVersion.objects.create(offer=offer, version=1, **dataclasses.asdict(terms))
        offer.current_version = version
        offer.save(update_fields=["current_version", "updated_at"])
    public_cache_invalidate()
    return offer


_STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Offer.Status.DRAFT: frozenset({Offer.Status.ACTIVE, Offer.Status.WITHDRAWN}),
    Offer.Status.ACTIVE: frozenset({Offer.Status.WITHDRAWN}),
    Offer.Status.WITHDRAWN: frozenset({Offer.Status.ACTIVE}),
}


def offer_status_check(*, offer: Offer, status: str) -> None:
    """Check that `offer` (as stored) may move to `status`."""
    if status == offer.status:
        return
    if status not in _STATUS_TRANSITIONS.get(offer.status, frozenset()):
        raise _invalid(
            LicensingErrorCode.OFFER_STATUS_INVALID,
            f"An offer cannot go from {offer.status} to {status}.",
            "status",
        )
    if status == Offer.Status.ACTIVE and offer.work is not None and offer.work.reserved:
        raise _invalid(
            LicensingErrorCode.WORK_RESERVED,
            "The work is reserved from AI use; its offers stay withdrawn.",
            "status",
        )


def offer_update(
    *,
    offer: Offer,
    terms: Mapping[str, Any] | None = None,
    status: str | None = None,
) -> Offer:
    """Change an offer's terms and/or status.

    Terms of a version that has been licensed are never touched: the change becomes
    the next version, which new licenses will be bought under. Terms of a version
    nobody bought yet are corrected in place.
    """
    unknown = set(terms or {}) - set(OFFER_TERM_FIELDS)
    assert not unknown, f"not offer terms: {unknown}"
    with transaction.atomic():
        # Lock the offer, then its current version: a purchase marking that version
        # licensed waits for us, or we see its mark and create a new version.
        offer = (
            Offer.objects.select_for_update(of=("self",)).select_related("work").get(pk=offer.pk)
        )
        current = OfferVersion.objects.select_for_update().get(pk=offer.current_version_id)
        changed = False
        if terms:
            proposed = dataclasses.replace(offer_terms_of(current), **terms)
            proposed = offer_terms_check(proposed, for_collection=offer.collection_id is not None)
            if proposed != offer_terms_of(current):
                changed = True
                if offer_version_is_licensed(offer_version=current):
                    offer.current_version = OfferVersion.objects.create(
                        offer=offer, version=current.version + 1, **dataclasses.asdict(proposed)
                    )
                else:
                    for name, value in dataclasses.asdict(proposed).items():
                        setattr(current, name, value)
                    current.save()
        if status is not None and status != offer.status:
            offer_status_check(offer=offer, status=status)
            offer.status = status
            changed = True
        if changed:
            # Also when only the version changed: `updated_at` dates the public terms.
            offer.save()
    public_cache_invalidate()
    return offer


def offer_publish(*, offer: Offer) -> Offer:
    return offer_update(offer=offer, status=Offer.Status.ACTIVE)


def offer_withdraw(*, offer: Offer) -> Offer:
    return offer_update(offer=offer, status=Offer.Status.WITHDRAWN)


def offer_delete(*, offer: Offer) -> None:
    """Delete an offer nobody has licensed (a licensed one can only be withdrawn)."""
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if OfferVersion.objects.filter(offer=offer, licensed_at__isnull=False).exists():
            raise _invalid(
                LicensingErrorCode.OFFER_HAS_LICENSES,
                "This offer has been licensed; withdraw it instead of deleting it.",
                None,
            )
        _offer_delete(offer)
    public_cache_invalidate()


def offer_version_mark_licensed(*, offer_version: OfferVersion) -> OfferVersion:
    """Record that a license is being bought under this version, freezing its terms.

    For the purchase flow: call it inside the purchase's transaction, before pricing
    the license, and price from the row it returns. It locks the version, so an edit
    running at the same time either finishes first (and the purchase sees the edited
    terms) or waits and then creates a new version instead of changing these.
    """
    with transaction.atomic():
        locked = OfferVersion.objects.select_for_update().get(pk=offer_version.pk)
        if locked.licensed_at is None:
            locked.licensed_at = timezone.now()
            locked.save(update_fields=["licensed_at"])
    return locked
