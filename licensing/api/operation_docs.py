"""What the OpenAPI schema says of each licensing operation: summary, description, examples.

One table, so the words read as one document and a view keeps its decorator short:
`@extend_schema(**operation_docs("me_works_create"), request=..., responses=...)`.
`tests/config/test_schema.py` fails for any operation in the schema without a summary
and a description, and for any request body without an example, so a new endpoint
brings its words with it. Amounts in examples are in the minor unit, as on the wire.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

_WORK_ID = "wrk_4fJ2kQ9xT1bZ"
_CREATOR_ID = "cre_7Hq2mN5pL0aV"

OPERATIONS: dict[str, tuple[str, str]] = {
    # The creator's own catalogue (a creator key).
    "me_works_list": (
        "List your works",
        "The caller's works, newest first, with their identifiers, co-owners' shares and "
        "reservation. Keyset-paginated: pass `next_cursor` back as `?cursor=`.",
    ),
    "me_works_create": (
        "Register a work",
        "Registers a work owned by the caller. Identifiers (SHA-256, ISRC, ISBN, DOI, URL) "
        "are normalized and must be unique across Accord. `shares` names co-owners in basis "
        "points totalling 10,000; without it the caller owns all of it. A reserved work is "
        "published as reserved from all AI use and cannot be offered.",
    ),
    "me_works_retrieve": (
        "Get one of your works",
        "One of the caller's works. Another creator's work is a 404, as is an unknown id.",
    ),
    "me_works_partial_update": (
        "Change one of your works",
        "Changes the fields given. Reserving a work withdraws its active offers; `shares` "
        "replaces every co-owner's share at once and must total 10,000.",
    ),
    "me_offers_list": (
        "List your offers",
        "The caller's offers at their current version, newest first. Amounts are in the "
        "currency's minor unit.",
    ),
    "me_offers_create": (
        "Offer a work or a collection",
        "Creates an offer at version 1 for one of the caller's works (flat or per-unit "
        "pricing) or collections (pool pricing). `amount` and `minimum_amount` are integers "
        "in the currency's minor unit (1250 is €12.50); `unit_amount_decimal` is a decimal "
        "string in the minor unit and may be a fraction of it.",
    ),
    "me_offers_retrieve": (
        "Get one of your offers",
        "One of the caller's offers at its current version, or at `?version=` to read an "
        "older one exactly as it was sold.",
    ),
    "me_offers_partial_update": (
        "Change an offer's terms or status",
        "Changing the terms of a version nobody has licensed edits it in place; once a "
        "license was bought under it, the change creates the next version and the sold one "
        "stays frozen. `status` moves between draft, active and withdrawn.",
    ),
    "me_offers_versions_list": (
        "List an offer's versions",
        "Every version of one of the caller's offers, newest first, each with `licensed` "
        "telling whether licenses were bought under it.",
    ),
    "me_collections_list": (
        "List your collections",
        "The caller's collections with the works they hold, newest first.",
    ),
    "me_collections_create": (
        "Create a collection",
        "Groups some of the caller's works so one pool offer can license them together. "
        "Every work must be the caller's own.",
    ),
    "me_collections_retrieve": (
        "Get one of your collections",
        "One of the caller's collections with its works; another creator's is a 404.",
    ),
    "me_collections_partial_update": (
        "Change a collection",
        "Renames the collection or replaces its works (all of them at once).",
    ),
    # The public catalogue (any key).
    "works_list": (
        "Browse licensable works",
        "Works that can be licensed now, with their active offers. Filter by `kind`, `use`, "
        "`creator` or words of the title (`q`); keyset-paginated.",
    ),
    "works_retrieve": (
        "Get a work",
        "A work in the catalogue with its active offers, including pool offers of the "
        "collections it belongs to.",
    ),
    "offers_retrieve": (
        "Get an offer",
        "An active offer at its current version, or at `?version=`. Amounts are in the "
        "currency's minor unit.",
    ),
    "collections_retrieve": (
        "Get a collection",
        "A collection in the catalogue with its works and its active pool offers.",
    ),
    # Licensees (a licensee key).
    "licenses_list": (
        "List your organisation's licenses",
        "Licenses bought by the caller's organisation, newest first, with their status "
        "(active, expired, revoked) as of now.",
    ),
    "licenses_create": (
        "Buy a license",
        "Buys a license under the offer's current version: card organisations are charged "
        "at once, invoice organisations billed on the month's invoice. Send an "
        "`Idempotency-Key` so a retry never buys twice. For a pool offer, `works` may narrow "
        "the collection; for a per-unit offer the license costs its `amount` (often 0) and "
        "usage is billed later.",
    ),
    "licenses_retrieve": (
        "Get a license",
        "One of the organisation's licenses, with the offer version it was bought under.",
    ),
    "licenses_certificate": (
        "Get a license's certificate",
        "The license as a signed JWS (EdDSA, RFC 8037) that anyone can verify offline with "
        "the keys at `/.well-known/jwks.json`.",
    ),
    # Public, no key.
    "certificates_verify": (
        "Verify a certificate",
        "Anyone may check a certificate, and learn what no offline check can: a revocation. "
        "Answers whether the signature is valid, whether every field still matches the "
        "license on record, and the license's status now. A dataset clearance's certificate "
        "is checked against its clearance, and every license it names must still be active "
        "(`inactive_licenses`); one over 100,000 characters is checked with `manage.py "
        "verify_certificate` or offline with the published keys.",
    ),
    "registry_lookup": (
        "Look up a work by identifier",
        "Finds a registered work by one identifier (`sha256`, `isrc`, `isbn`, `doi` or "
        "`url`) and says whether it is reserved, licensable or not offered, with links to its "
        "machine-readable terms. No key needed.",
    ),
    "work_page": (
        "A work's public page",
        "The work's public page (HTML), with every machine-readable signal in its headers: "
        "the RSL license link, the TDMRep reservation and policy, and the AIPREF "
        "Content-Usage preference. Prices are written as money (€12.50).",
    ),
    "work_license_xml": (
        "A work's RSL license document",
        "The work's terms as an RSL 1.0 document (`application/rsl+xml`); amounts there are "
        "in major units, as RSL writes them.",
    ),
    "work_tdm_policy": (
        "A work's TDMRep policy",
        "The ODRL 2.2 policy with the TDMRep profile that the work's `tdm-policy` points "
        "at (`application/ld+json`).",
    ),
    "collection_license_xml": (
        "A collection's RSL license document",
        "The collection's pool offers as an RSL 1.0 document (a one-time `purchase`).",
    ),
    "site_license_xml": (
        "The site's RSL license document",
        "The site-wide RSL document that `robots.txt` names in its `License:` line.",
    ),
    "tdmrep_json": (
        "The site's TDMRep file",
        "The per-origin TDMRep rules (`/.well-known/tdmrep.json`), anchored so that no "
        "work's location shadows another's.",
    ),
    "robots_txt": (
        "robots.txt",
        "Crawler rules with the RSL `License:` line and the AIPREF `Content-Usage` rules.",
    ),
    # Dataset clearance (a licensee key).
    "clearances_create": (
        "Clear a dataset's manifest",
        "Matches up to 100,000 identifiers (our work ids, `sha256:`, `isrc:`, `isbn:`, "
        "`doi:`, `url:`) for one use against the registry in one step: counts of "
        "licensable, reserved, already licensed and unknown items, the quote (cheapest "
        "active offer per work, in the organisation's currency, minor units) and the "
        "manifest's SHA-256. The quote holds for 24 hours. A malformed identifier is "
        "reported with its index and nothing is written.",
    ),
    "clearances_retrieve": (
        "Get a clearance",
        "A clearance of the caller's organisation with its counts, quote and status. "
        "Another organisation's clearance is a 404.",
    ),
    "clearances_items": (
        "List a clearance's items",
        "Each identifier of the manifest with its status (`licensable`, `reserved`, "
        "`licensed`, `unknown`), the offer chosen and its price; cursor-paginated, "
        "filterable by `?status=`.",
    ),
    "clearances_items_csv": (
        "Download a clearance's items as CSV",
        "The same items as the list, one CSV row each, for a data team's pipeline: drop "
        "the reserved and unknown ones before training.",
    ),
    "clearances_purchase": (
        "Buy everything licensable in a clearance",
        "One atomic, idempotent purchase: one payment for card billing (402 when "
        "declined, nothing bought) or invoice lines, and one license per offer bought, "
        "posted as single purchases are. A quote older than 24 hours is `409 "
        "quote_expired`; an offer changed since is `409 quote_changed`. Sending it again "
        "returns the first answer.",
    ),
    "clearances_certificate": (
        "Get a clearance's signed certificate",
        "One compact JWS (EdDSA, verifiable offline with `/.well-known/accord-keys.json`) "
        "naming the manifest's SHA-256 and each item's license or status. Before the "
        "purchase it is `409 clearance_not_purchased`.",
    ),
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
    # Usage declarations (a licensee key).
    "usage_create": (
        "Declare usage",
        "1 to 10,000 events a call, all or nothing: one invalid event rejects the batch "
        "with `422 usage_invalid` and a `details` entry per bad event, and nothing is "
        "written. `id` is your own event id, unique for ever per organisation: a repeat, "
        "in this batch or any earlier one, is counted as a duplicate, not again. Usage "
        "of a reserved work, of a work outside the license or outside its term is stored "
        "and flagged, never refused, and never rated.",
    ),
    "usage_corrections_create": (
        "Correct declared usage",
        "Amends or retracts (`units: 0`) events by their id. While the event's period is "
        "open the event is amended; once its royalty run is posted the difference is "
        "booked in the next open period as an adjustment. Every correction is kept with "
        "who, when and why.",
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
}

REQUEST_EXAMPLES: dict[str, list[OpenApiExample]] = {
    "usage_create": [
        OpenApiExample(
            "Two events of one license",
            value={
                "events": [
                    {
                        "id": "run-42-0001",
                        "license": "lic_9xT1bZ4fJ2kQ",
                        "work": "isbn:9780306406157",
                        "units": 120000,
                        "unit": "token",
                        "occurred_at": "2026-11-14T09:30:00Z",
                    },
                    {
                        "id": "run-42-0002",
                        "license": "lic_9xT1bZ4fJ2kQ",
                        "work": _WORK_ID,
                        "units": 5000,
                        "unit": "token",
                        "occurred_at": "2026-11-14T09:31:00Z",
                    },
                ]
            },
            request_only=True,
        )
    ],
    "usage_corrections_create": [
        OpenApiExample(
            "Retract a duplicate",
            value={"corrections": [{"id": "run-42-0002", "units": 0, "reason": "replayed"}]},
            request_only=True,
        )
    ],
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
    "clearances_create": [
        OpenApiExample(
            "A manifest to clear for training",
            value={
                "use": "ai-train",
                "identifiers": [
                    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "isbn:9780306406157",
                    _WORK_ID,
                ],
            },
            request_only=True,
        )
    ],
    "royalty_runs_create": [
        OpenApiExample("Last month's run", value={"period": "2026-11"}, request_only=True)
    ],
    "me_works_create": [
        OpenApiExample(
            "A book with an ISBN",
            value={
                "title": "Orchard Songs",
                "kind": "text",
                "identifiers": {"isbn": "9780306406157"},
            },
            request_only=True,
        ),
        OpenApiExample(
            "A co-owned track",
            value={
                "title": "Harbour Lights",
                "kind": "audio",
                "identifiers": {"isrc": "GBAYE0601498"},
                "shares": [{"creator": _CREATOR_ID, "basis_points": 4000}],
            },
            request_only=True,
        ),
    ],
    "me_works_partial_update": [
        OpenApiExample("Reserve from AI use", value={"reserved": True}, request_only=True),
    ],
    "me_offers_create": [
        OpenApiExample(
            "£12.50 for a year of training use",
            value={
                "work": _WORK_ID,
                "use": "ai-train",
                "status": "active",
                "pricing": "flat",
                "currency": "gbp",
                "amount": 1250,
                "term_days": 365,
            },
            request_only=True,
        ),
        OpenApiExample(
            "€0.000003 per token of retrieval",
            value={
                "work": _WORK_ID,
                "use": "ai-input",
                "status": "active",
                "pricing": "per_unit",
                "currency": "eur",
                "unit": "token",
                "unit_amount_decimal": "0.0003",
                "minimum_amount": 500,
            },
            request_only=True,
        ),
    ],
    "me_offers_partial_update": [
        OpenApiExample("A new price: €15.00", value={"amount": 1500}, request_only=True),
        OpenApiExample("Withdraw the offer", value={"status": "withdrawn"}, request_only=True),
    ],
    "me_collections_create": [
        OpenApiExample(
            "Two works", value={"title": "Coastal", "works": [_WORK_ID]}, request_only=True
        ),
    ],
    "me_collections_partial_update": [
        OpenApiExample("Rename", value={"title": "Coastal, complete"}, request_only=True),
    ],
    "licenses_create": [
        OpenApiExample("A flat offer", value={"offer": "ofr_9kT3vB2nQ8sL"}, request_only=True),
        OpenApiExample(
            "Part of a pool",
            value={"offer": "ofr_2mW8cX5rJ1dE", "works": [_WORK_ID]},
            request_only=True,
        ),
    ],
    "certificates_verify": [
        OpenApiExample(
            "A certificate",
            value={"certificate": "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJsaWMiOiLigKYifQ.c2ln"},
            request_only=True,
        ),
    ],
}


def operation_docs(operation_id: str) -> dict[str, Any]:
    """The `extend_schema` arguments that name and describe one operation."""
    summary, description = OPERATIONS[operation_id]
    docs: dict[str, Any] = {
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
    }
    if operation_id in REQUEST_EXAMPLES:
        docs["examples"] = REQUEST_EXAMPLES[operation_id]
    return docs
