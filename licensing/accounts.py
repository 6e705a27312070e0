"""Every ledger account the business posts to, named once.

Sales, royalty runs, invoices and payouts post to these accounts and to no others, so
the books can be read by name: what creators are owed, what licensees owe, what sits
in pools, what the platform earned, and where the cash is. The codes follow the
ledger's rule (`platform:{name}:{currency}`, `{owner_type}:{owner_id}:{name}:{currency}`).

The invariant the money loop keeps, per currency, to the micro:
money in (card charges and invoice payments at Stripe or the bank, plus what is still
receivable)
= creators' payables + license pools + platform commission + payouts in transit
+ paid out.
"""

from __future__ import annotations

from ledger.services import AccountRef

# Whose accounts these are: the owner type in each account's code.
CREATOR_OWNER_TYPE = "creator"
ORGANIZATION_OWNER_TYPE = "organization"
LICENSE_OWNER_TYPE = "license"


def creator_payable(creator_public_id: str, currency: str) -> AccountRef:
    """What Accord owes a creator: credited by sales and runs, debited by payouts."""
    return AccountRef.owner(
        owner_type=CREATOR_OWNER_TYPE,
        owner_id=creator_public_id,
        name="payable",
        kind="liability",
        currency=currency,
    )


def organization_receivable(organization_public_id: str, currency: str) -> AccountRef:
    """What an invoice-billed (or rated) organisation owes Accord until it pays."""
    return AccountRef.owner(
        owner_type=ORGANIZATION_OWNER_TYPE,
        owner_id=organization_public_id,
        name="receivable",
        kind="asset",
        currency=currency,
    )


def license_pool(license_public_id: str, currency: str) -> AccountRef:
    """A pool license's owners' part, held until royalty runs share it out by usage."""
    return AccountRef.owner(
        owner_type=LICENSE_OWNER_TYPE,
        owner_id=license_public_id,
        name="pool",
        kind="liability",
        currency=currency,
    )


def platform_commission(currency: str) -> AccountRef:
    """The platform's take, at the rate stored on each license when it was bought."""
    return AccountRef.platform(name="commission", kind="revenue", currency=currency)


def platform_stripe_balance(currency: str) -> AccountRef:
    """Cash at Stripe: card charges and invoice payments in, settled transfers out."""
    return AccountRef.platform(name="stripe_balance", kind="asset", currency=currency)


def platform_bank(currency: str) -> AccountRef:
    """Cash at the bank: invoice payments finance records as received outside Stripe."""
    return AccountRef.platform(name="bank", kind="asset", currency=currency)


def platform_payouts_in_transit(currency: str) -> AccountRef:
    """Transfers submitted to Stripe whose outcome is not yet known."""
    return AccountRef.platform(name="payouts_in_transit", kind="liability", currency=currency)
