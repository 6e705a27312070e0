"""The creator portal's creator page, with the creator's ledger accounts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from licensing.admin.scoping import (
    CreatorScopedAdmin,
)
from licensing.models import (
    Creator,
)
from licensing.selectors.creators import creator_ledger_accounts
from licensing.services.creators import creator_update


class CreatorAdminForm(forms.ModelForm):
    class Meta:
        model = Creator
        fields = ["display_name", "country", "payout_currency"]


@admin.register(Creator)
class CreatorAdmin(CreatorScopedAdmin):
    form = CreatorAdminForm
    creator_path = "pk"
    list_display = ["display_name", "public_id", "payout_currency", "onboarding_state"]
    list_select_related = ["user"]
    search_fields = ["display_name", "public_id", "user__username"]
    fields = [
        "public_id",
        "login",
        "display_name",
        "country",
        "payout_currency",
        "stripe_account_id",
        "onboarding_state",
        "ledger_accounts",
    ]
    readonly_fields = [
        "public_id",
        "login",
        "stripe_account_id",
        "onboarding_state",
        "ledger_accounts",
    ]

    @admin.display(description="Login")
    def login(self, creator: Creator) -> str:
        return creator.user.username

    @admin.display(description="Ledger accounts")
    def ledger_accounts(self, creator: Creator) -> str:
        rows = creator_ledger_accounts(creator=creator)
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>Account</th><th>Currency</th><th>Balance</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((row.code, row.currency.upper(), row.balance_label) for row in rows),
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # creators are created with `manage.py create_creator`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Creator, form: Any, change: bool) -> None:
        creator_update(
            creator=obj,
            display_name=form.cleaned_data["display_name"],
            country=form.cleaned_data["country"],
            payout_currency=form.cleaned_data["payout_currency"],
        )
