"""Licensee organisations: created by operators, with a card on file or invoice billing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from config.api.ids import public_id
from licensing.currencies import currency_is_supported
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import LicenseeOrganization, OrganizationMembership
from licensing.services.card_payments import (
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
    card_payments,
)
from licensing.services.creators import group_ensure

SLUG_LENGTH_MAX = 60
MEMBER_GROUP = "Licensee members"
_MEMBER_PERMISSIONS = (
    "view_licenseeorganization",
    "change_licenseeorganization",
    "view_license",
    "view_purchase",
    "view_invoiceline",
    "view_clearance",
    "view_clearanceitem",
)


def _card_on_file(
    organization: LicenseeOrganization,
    payment_method: str,
    *,
    key_suffix: str,
    email: str | None = None,
) -> CardOnFile:
    """Make a Stripe customer with the card; the key derives from the organisation's id."""
    try:
        return card_payments().card_on_file_create(
            idempotency_key=f"accord-organization:{organization.public_id}:{key_suffix}",
            payment_method=payment_method,
            name=organization.name,
            email=email,
        )
    except (PaymentDeclined, PaymentProviderUnavailable) as refused:
        raise LicensingError(
            LicensingErrorCode.PAYMENT_METHOD_REFUSED,
            f"Stripe did not accept the payment method: {refused}",
            param="payment_method",
        ) from refused


def organization_create(
    *,
    slug: str,
    name: str | None = None,
    billing: str = LicenseeOrganization.Billing.INVOICE,
    currency: str = "eur",
    payment_method: str | None = None,
    email: str | None = None,
) -> LicenseeOrganization:
    """Create an organisation; a card organisation gets a Stripe customer with its card."""
    if LicenseeOrganization.objects.filter(slug=slug).exists():
        raise LicensingError(
            LicensingErrorCode.ORGANIZATION_SLUG_TAKEN, f"Organisation {slug} exists.", param="slug"
        )
    if billing not in LicenseeOrganization.Billing.values:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID, "billing is card or invoice.", param="billing"
        )
    currency = (currency or "").lower()
    if not currency_is_supported(currency):
        raise LicensingError(
            LicensingErrorCode.CURRENCY_UNSUPPORTED,
            f"Currency {currency!r} is not supported.",
            param="currency",
        )
    organization = LicenseeOrganization(
        public_id=public_id("org"), slug=slug, name=name or slug, billing=billing, currency=currency
    )
    try:
        organization.full_clean(exclude=["stripe_customer_id", "stripe_payment_method_id"])
    except ValidationError as invalid:
        field, messages = next(iter(invalid.message_dict.items()))
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID, f"{field}: {messages[0]}", param=field
        ) from invalid
    if billing == LicenseeOrganization.Billing.CARD:
        if not payment_method:
            raise LicensingError(
                LicensingErrorCode.PARAMETER_INVALID,
                "Card billing needs a payment method (e.g. pm_card_visa).",
                param="payment_method",
            )
        card = _card_on_file(organization, payment_method, key_suffix="card", email=email)
        organization.stripe_customer_id = card.customer_id
        organization.stripe_payment_method_id = card.payment_method_id
    organization.save()
    return organization


def organization_card_replace(
    *, organization: LicenseeOrganization, payment_method: str, idempotency_key: str
) -> LicenseeOrganization:
    """Put a new card on file (a new Stripe customer with it), e.g. after the old one expired.

    The caller names the change with `idempotency_key`, so a retry finds the same customer.
    """
    card = _card_on_file(organization, payment_method, key_suffix=f"card:{idempotency_key}")
    LicenseeOrganization.objects.filter(pk=organization.pk).update(
        billing=LicenseeOrganization.Billing.CARD,
        stripe_customer_id=card.customer_id,
        stripe_payment_method_id=card.payment_method_id,
    )
    organization.refresh_from_db()
    return organization


@transaction.atomic
def organization_member_add(
    *, organization: LicenseeOrganization, username: str
) -> OrganizationMembership:
    """Let a person manage the organisation in the portal (staff access, scoped to it)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise LicensingError(
            LicensingErrorCode.USER_NOT_FOUND, f"No user {username}.", param="username"
        )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(group_ensure(name=MEMBER_GROUP, codenames=_MEMBER_PERMISSIONS))
    membership, _ = OrganizationMembership.objects.get_or_create(
        organization=organization, user=user
    )
    return membership
