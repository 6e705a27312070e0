"""The ledger posting of a sale: the money in, the platform's commission, the owners' part.

For every licensed work the price is split (largest remainder, so exactly) into the
platform's commission and the owners' part, and the owners' part into each
co-owner's share by basis points, ties going to the smaller creator id. A pool
license credits the owners' part to the license's pool account instead, which a
royalty run shares out by declared usage. The legs of one sale are summed per
account, so a creator who co-owns several of the works gets one leg.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from ledger.models import Transaction
from ledger.money import split_largest_remainder
from ledger.posting import Leg
from ledger.services import AccountRef, accounts_open, transaction_post
from licensing.accounts import creator_payable, platform_commission

BASIS_POINTS_TOTAL = 10_000
SALE_KIND = "license_sale"


# A work's owners: each co-owner's creator id and share in basis points.
Owners = Mapping[str, int]


@dataclass(frozen=True)
class SaleLine:
    """One priced item of a sale: a work and its owners (None for a pool's collection)."""

    amount_micros: int
    owners: Owners | None


def commission_basis_points() -> int:
    value = getattr(settings, "ACCORD_COMMISSION_BASIS_POINTS", 1000)
    assert 0 <= value <= BASIS_POINTS_TOTAL, value
    return value


def _commission_split(amount_micros: int, rate_basis_points: int) -> tuple[int, int]:
    parts = split_largest_remainder(
        amount_micros,
        {"commission": rate_basis_points, "owners": BASIS_POINTS_TOTAL - rate_basis_points},
    )
    return parts["commission"], parts["owners"]


def _owner_parts(owners: Owners, owners_micros: int) -> dict[str, int]:
    """Split a work's owners' part by their rights shares, keyed by creator id."""
    assert sum(owners.values()) == BASIS_POINTS_TOTAL, owners
    return split_largest_remainder(owners_micros, owners)


def sale_owner_parts(
    *, amount_micros: int, owners: Owners, rate_basis_points: int
) -> dict[str, tuple[int, int]]:
    """Each co-owner's (commission, net) of one work's sale line, keyed by creator id.

    The nets are exactly what `sale_legs` credits each payable for this line; the
    commission is the line's commission shared by the same rights shares, so a
    co-owner's gross (commission + net) is their share of the price (statements).
    """
    commission_part, owners_part = _commission_split(amount_micros, rate_basis_points)
    nets = _owner_parts(owners, owners_part)
    commissions = _owner_parts(owners, commission_part)
    return {creator: (commissions[creator], nets[creator]) for creator in owners}


def sale_legs(
    *,
    debit: AccountRef,
    lines: Sequence[SaleLine],
    currency: str,
    pool: AccountRef | None = None,
    rate_basis_points: int | None = None,
) -> list[Leg]:
    """Turn a sale's lines into balanced legs: one debit, then the credits per account.

    The commission rate is the license's own (stored at purchase); the setting's
    current value only for a caller that has no license yet. Every account the sale
    touches is opened (or found) at once, with one query when they all exist, which
    after a creator's first sale they do.
    """
    rate = rate_basis_points if rate_basis_points is not None else commission_basis_points()
    assert 0 <= rate <= BASIS_POINTS_TOTAL, rate
    commission = platform_commission(currency)
    credits: dict[AccountRef, int] = defaultdict(int)
    for line in lines:
        commission_part, owners_part = _commission_split(line.amount_micros, rate)
        credits[commission] += commission_part
        if pool is not None:
            credits[pool] += owners_part
            continue
        assert line.owners is not None, "a per-work sale line names the work's owners"
        # A creator who co-owns several of the works gets one leg.
        for creator_public_id, part in _owner_parts(line.owners, owners_part).items():
            credits[creator_payable(creator_public_id, currency)] += part
    accounts = accounts_open(refs=[debit, *credits])
    total = sum(line.amount_micros for line in lines)
    legs = [Leg(accounts[debit], total, currency)]
    legs += sorted(
        (Leg(accounts[ref], -amount, currency) for ref, amount in credits.items() if amount),
        key=lambda leg: leg.account.code,
    )
    assert sum(leg.amount_micros for leg in legs) == 0
    return legs


def sale_post(
    *,
    license_public_id: str,
    debit: AccountRef,
    lines: Sequence[SaleLine],
    currency: str,
    pool: AccountRef | None = None,
    memo: str = "",
    effective_at: datetime | None = None,
    commission_basis_points: int | None = None,
) -> Transaction:
    """Post the sale of one license, once: the key is the license's own id.

    `effective_at` is the sale's business time: the license's `starts_at`, so the
    sale lands in the period the license starts in (now when None).
    `commission_basis_points` is the license's stored rate (`License.commission_basis_points`).
    """
    legs = sale_legs(
        debit=debit,
        lines=lines,
        currency=currency,
        pool=pool,
        rate_basis_points=commission_basis_points,
    )
    return transaction_post(
        idempotency_key=f"license-sale:{license_public_id}",
        kind=SALE_KIND,
        legs=legs,
        reference=f"license:{license_public_id}",
        memo=memo,
        effective_at=effective_at,
    )
