"""Routes of the `payouts` app, mounted at the URL root by `config.urls`."""

from django.urls import path

from payouts.api import (
    books,
    invoices,
    payout_accounts,
    payout_batches,
    reconciliation,
    royalty_runs,
    statements,
)
from payouts.stripe.views import StripeWebhookView

_BATCH = "api/v1/payout-batches/<str:batch_id>"

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
    path("api/v1/payout-batches", payout_batches.PayoutBatchesApi.as_view(), name="payout-batches"),
    path(_BATCH, payout_batches.PayoutBatchApi.as_view(), name="payout-batch"),
    path(
        f"{_BATCH}/approve",
        payout_batches.PayoutBatchApproveApi.as_view(),
        name="payout-batch-approve",
    ),
    path(
        f"{_BATCH}/dispatch",
        payout_batches.PayoutBatchDispatchApi.as_view(),
        name="payout-batch-dispatch",
    ),
    path(f"{_BATCH}/items", payout_batches.PayoutItemsApi.as_view(), name="payout-items"),
    path(
        f"{_BATCH}/items.csv", payout_batches.PayoutItemsCsvApi.as_view(), name="payout-items-csv"
    ),
    path(
        f"{_BATCH}/items/<str:item_id>/retry",
        payout_batches.PayoutItemRetryApi.as_view(),
        name="payout-item-retry",
    ),
    path(
        "api/v1/creators/<str:creator_id>/hold",
        payout_batches.CreatorHoldApi.as_view(),
        name="creator-hold",
    ),
    path(
        "api/v1/creators/<str:creator_id>/release",
        payout_batches.CreatorReleaseApi.as_view(),
        name="creator-release",
    ),
    path(
        "api/v1/reconciliation", reconciliation.ReconciliationApi.as_view(), name="reconciliation"
    ),
    path(
        "api/v1/me/payout-account",
        payout_accounts.MyPayoutAccountApi.as_view(),
        name="me-payout-account",
    ),
    path("api/v1/invoices", invoices.InvoicesApi.as_view(), name="invoices"),
    # Before the detail route, whose <str:> would take "upcoming" and "inv_….pdf" as ids.
    path(
        "api/v1/invoices/upcoming",
        invoices.InvoiceUpcomingApi.as_view(),
        name="invoice-upcoming",
    ),
    path(
        "api/v1/invoices/<str:invoice_id>.pdf", invoices.InvoicePdfApi.as_view(), name="invoice-pdf"
    ),
    path("api/v1/invoices/<str:invoice_id>", invoices.InvoiceApi.as_view(), name="invoice"),
    path("api/v1/me/payouts", payout_accounts.MyPayoutsApi.as_view(), name="me-payouts"),
    path("api/v1/me/statements", statements.MyStatementsApi.as_view(), name="me-statements"),
    # The file routes come first: a statement id never holds a dot.
    path(
        "api/v1/me/statements/<str:statement_id>.csv",
        statements.MyStatementCsvApi.as_view(),
        name="me-statement-csv",
    ),
    path(
        "api/v1/me/statements/<str:statement_id>.pdf",
        statements.MyStatementPdfApi.as_view(),
        name="me-statement-pdf",
    ),
    path(
        "api/v1/me/statements/<str:statement_id>",
        statements.MyStatementApi.as_view(),
        name="me-statement",
    ),
    path("api/v1/me/earnings", statements.MyEarningsApi.as_view(), name="me-earnings"),
]
