"""The OpenAPI words of finance and payouts: royalty runs, the books, payout batches."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

OPERATIONS: dict[str, tuple[str, str]] = {
    # Royalty runs and the books (a finance key).
    "royalty_runs_list": (
        "List royalty runs",
        "Every run, newest first, with its period, status, progress and totals. Finance "
        "keys only: any other key gets a 404.",
    ),
    "royalty_runs_create": (
        "Start a royalty run for a month",
        "Starts computing the run of a period that is over (`YYYY-MM`): a preview of "
        "lines and totals, nothing in the books yet. A period already posted, not over "
        "or malformed is refused with its code and nothing written.",
    ),
    "royalty_runs_retrieve": (
        "Get a royalty run",
        "One run with its status (`computing`, `computed`, `approved`, `posting`, "
        "`posted` or `failed` with the reason), approvals, totals per currency and the "
        "flagged usage it did not rate.",
    ),
    "royalty_runs_lines": (
        "List a royalty run's lines",
        "One line per creator, work, license and kind (`per_unit`, `pool`, `minimum`, "
        "`adjustment`) with units, rate, gross, commission and net in micros.",
    ),
    "royalty_runs_approve": (
        "Approve a royalty run",
        "Records the caller's approval of a computed run. Above "
        "`ROYALTY_SECOND_APPROVAL_ABOVE` a second, different finance user must approve; "
        "the last approval queues the posting, which writes each license's transaction "
        "exactly once.",
    ),
    "royalty_runs_recompute": (
        "Recompute a royalty run",
        "Computes a computed run again (usage corrected meanwhile); its approvals are "
        "dropped, as the figures they approved may change.",
    ),
    "ledger_trial_balance": (
        "Get the trial balance",
        "Every account's balance in micros per currency, as of now or `?as_of=` (business "
        "time); the debits and credits of each currency sum to zero.",
    ),
    "ledger_account_entries": (
        "List an account's entries",
        "The entries of one ledger account (by its code) in business-time order, with "
        "the transaction, kind, amount in micros and running balance.",
    ),
    # Payouts (creators' own account; finance's batches).
    "me_payout_account_retrieve": (
        "Get your payout account",
        "Your Stripe Connect account's state: whether onboarding is complete and payouts "
        "are enabled. Until they are, earnings accrue but are not paid.",
    ),
    "me_payout_account_create": (
        "Connect your payout account",
        "Creates your Stripe Express account once and returns an onboarding link to "
        "follow; calling it again returns a fresh link for the same account.",
    ),
    "me_payouts_retrieve": (
        "List your payouts",
        "The payouts made to you: batch, amount in the minor unit, status and when paid.",
    ),
    "payout_batches_list": (
        "List payout batches",
        "Every batch, newest first, with counts and amounts by status. Finance keys only.",
    ),
    "payout_batches_create": (
        "Draft a payout batch",
        "Drafts a batch for one currency: every eligible creator with their payable "
        "rounded down to the minor unit (the remainder stays owed), and the creators "
        "skipped with their reason. A creator is in at most one unfinished batch.",
    ),
    "payout_batches_retrieve": (
        "Get a payout batch",
        "One batch with its status, approvals, and live counts and amounts by item status.",
    ),
    "payout_batches_approve": (
        "Approve a payout batch",
        "Records the caller's approval of a draft; above the threshold a second, different "
        "finance user must approve too.",
    ),
    "payout_batches_dispatch": (
        "Dispatch a payout batch",
        "Queues one Stripe transfer per item, in chunks, under the shared rate limit. Safe "
        "to press twice or concurrently: each item is paid at most once.",
    ),
    "payout_batches_items": (
        "List a batch's items",
        "The batch's items with amount, status, transfer and failure reason; filter with "
        "`?status=`.",
    ),
    "payout_items_retry": (
        "Retry a failed payout item",
        "Submits a failed item again once Stripe confirms no transfer exists for it.",
    ),
    "payout_batches_items_csv": (
        "Download a batch's items as CSV",
        "The same items as the list, one CSV row each, for finance's records.",
    ),
    "creators_hold": (
        "Hold a creator's payouts",
        "Keeps a creator out of new batches (with the reason) until released; earnings "
        "keep accruing.",
    ),
    "creators_release": (
        "Release a creator's payouts",
        "Ends a hold: the creator is eligible for the next batch again.",
    ),
    "reconciliation_retrieve": (
        "Reconcile a day with Stripe",
        "Compares the ledger's payouts and card charges of `?date=` with Stripe's "
        "transfers and balance transactions and lists every difference.",
    ),
    # Statements and earnings (a creator key).
    "me_statements_list": (
        "List your statements",
        "Your statements of one period (`?period=YYYY-MM`), one per currency, or of every "
        "period since your first earning. Balances in the minor unit rounded down, with the "
        "exact figure as `…_decimal`; a period with no activity is an empty statement with "
        "its balances.",
    ),
    "me_statements_retrieve": (
        "Read a statement",
        "Opening balance, earned, paid out and closing balance (the payable at the period's "
        "end, to the micro), the platform's commission rate, and every line: work, "
        "licensee, use, units, rate in the minor unit, gross, commission, net.",
    ),
    "me_statements_csv": (
        "Download a statement as CSV",
        "The statement's lines, one row each, then its totals and balances, as exact "
        "decimals in the minor unit: the same figures as the JSON and the PDF.",
    ),
    "me_statements_pdf": (
        "Download a statement as PDF",
        "The statement as a document to keep: the same figures as the JSON and the CSV, "
        "written as money.",
    ),
    "me_earnings_retrieve": (
        "Read your earnings by month",
        "Net earned per month for the last `months` months (default 12), by work and by "
        "licensee, in the minor unit as exact decimals; each month is that month's "
        "statement.",
    ),
}

REQUEST_EXAMPLES: dict[str, list[OpenApiExample]] = {
    "payout_batches_create": [
        OpenApiExample("This month's euros", value={"currency": "eur"}, request_only=True)
    ],
    "creators_hold": [
        OpenApiExample(
            "Hold while a claim is checked",
            value={"reason": "Ownership of two works disputed"},
            request_only=True,
        )
    ],
    "royalty_runs_create": [
        OpenApiExample("Last month's run", value={"period": "2026-11"}, request_only=True)
    ],
}
