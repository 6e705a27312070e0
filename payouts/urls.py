"""Routes of the `payouts` app, mounted at the URL root by `config.urls`."""

from django.urls import path

from payouts.api import books, royalty_runs
from payouts.stripe.views import StripeWebhookView

urlpatterns = [
    path("stripe/webhook", StripeWebhookView.as_view(), name="stripe-webhook"),
    path("api/v1/royalty-runs", royalty_runs.RoyaltyRunsApi.as_view(), name="royalty-runs"),
    path(
        "api/v1/royalty-runs/<str:run_id>",
        royalty_runs.RoyaltyRunApi.as_view(),
        name="royalty-run-detail",
    ),
    path(
        "api/v1/royalty-runs/<str:run_id>/lines",
        royalty_runs.RoyaltyRunLinesApi.as_view(),
        name="royalty-run-lines",
    ),
    path(
        "api/v1/royalty-runs/<str:run_id>/approve",
        royalty_runs.RoyaltyRunApproveApi.as_view(),
        name="royalty-run-approve",
    ),
    path(
        "api/v1/royalty-runs/<str:run_id>/recompute",
        royalty_runs.RoyaltyRunRecomputeApi.as_view(),
        name="royalty-run-recompute",
    ),
    path("api/v1/ledger/trial-balance", books.TrialBalanceApi.as_view(), name="trial-balance"),
    path(
        "api/v1/ledger/accounts/<str:account_id>/entries",
        books.AccountEntriesApi.as_view(),
        name="ledger-account-entries",
    ),
]
