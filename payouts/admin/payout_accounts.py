"""The creator's "Connect with Stripe" page in the portal.

A creator sees their own payout account (or none yet) and a button that creates the
Express account once and sends them to Stripe's onboarding form; until Stripe says
payouts are enabled, the page says that they accrue earnings but are not paid.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from config.admin_mixins import ReadOnlyAdminMixin
from config.errors import DomainError
from licensing.admin.scoping import request_creator
from licensing.services.creators import user_is_finance
from payouts.models import PayoutAccount
from payouts.services.payout_accounts import payout_account_connect

NOT_ENABLED_MESSAGE = (
    "Payouts are not enabled on your Stripe account yet: you accrue earnings, but they "
    "are not paid out until you finish connecting with Stripe."
)


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["creator", "stripe_account_id", "payouts_enabled", "transfers_active"]
    readonly_fields = [
        "creator",
        "stripe_account_id",
        "payouts_enabled",
        "transfers_active",
        "details_submitted",
        "updated_at",
    ]
    change_list_template = "admin/payouts/payoutaccount/change_list.html"

    def _allowed(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff) and (
            request_creator(request) is not None or user_is_finance(user)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).select_related("creator")
        creator = request_creator(request)
        return queryset.filter(creator=creator) if creator is not None else queryset

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        creator = request_creator(request)
        if creator is not None:
            account = PayoutAccount.objects.filter(creator=creator).first()
            if account is None or not account.ready:
                self.message_user(request, NOT_ENABLED_MESSAGE, messages.WARNING)
            extra_context = {**(extra_context or {}), "can_connect": True}
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list:
        connect = self.admin_site.admin_view(self.connect_view)
        return [
            path("connect/", connect, name="payouts_payoutaccount_connect"),
            *super().get_urls(),
        ]

    def connect_view(self, request: HttpRequest) -> HttpResponse:
        """POST: create the account once and go to Stripe's onboarding form."""
        creator = request_creator(request)
        back = reverse("admin:payouts_payoutaccount_changelist")
        if creator is None or request.method != "POST":
            return HttpResponseRedirect(back)
        try:
            connection = payout_account_connect(
                creator=creator,
                return_url=request.build_absolute_uri(back),
                refresh_url=request.build_absolute_uri(back),
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        if connection.onboarding_url is None:
            self.message_user(request, "Your Stripe account can receive payouts.")
            return HttpResponseRedirect(back)
        return HttpResponseRedirect(connection.onboarding_url)
