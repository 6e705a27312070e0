"""The OpenAPI words of a licensee's operations: licenses, clearances, usage (`operation_docs`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from licensing.api.operation_docs_catalogue import EXAMPLE_WORK_ID

OPERATIONS: dict[str, tuple[str, str]] = {
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
    "usage_events_list": (
        "List your declared events",
        "Your organisation's events, newest first, each as stored: units as declared or "
        "amended, its `flag` (null when rated) and how many corrections it has had. Filter "
        "by `period` (YYYY-MM: reads that month only), `license`, `work` (an id or any "
        "identifier) and `flag`. Keyset-paginated: pass `next_cursor` back as `?cursor=`.",
    ),
    "usage_summary_retrieve": (
        "Summarise a period's usage",
        "The period's rated units per license, work, use and unit, as its events stand "
        "(corrections after the period closed are adjustments in a later period). "
        "`amount_decimal` is the rated amount of per-unit licenses, a decimal string in "
        "the currency's minor unit; pool and flat lines show units only. Flagged events "
        "are never rated: `flagged` counts them per flag.",
    ),
    # The creator's usage (a creator key).
    "me_usage_retrieve": (
        "Usage of your works",
        "What licensees declared of the works you own or co-own in the period, per work, "
        "licensee, use, unit and flag: events, units, and the first and last time. Lines "
        "with a `flag` are uses no license covers (`unlicensed`, `out_of_term`) or of a "
        "reserved work (`reserved`): stored as evidence, never rated. Another creator's "
        "works never appear.",
    ),
    # Invoices (a licensee key).
    "invoices_list": (
        "List your organisation's invoices",
        "The caller's organisation's invoices, newest first: one per month and currency, "
        "issued when the month's royalty run is posted. `?period=YYYY-MM` narrows to one "
        "month (a malformed period is a 400). Amounts are in the currency's minor unit, "
        "rounded down, with the exact figure beside them as `…_decimal`.",
    ),
    "invoices_upcoming": (
        "See this month's invoice so far",
        "The current month's lines so far, in the shape of an invoice with status "
        "`upcoming` and no id: invoice-billed purchases of the month and each per-unit "
        "license's usage declared so far, rated as the month's royalty run will rate it. "
        "Minimums and late corrections are settled when the run posts.",
    ),
    "invoices_retrieve": (
        "Get one of your invoices",
        "One invoice with its lines: the month's invoice-billed purchases and each per-unit "
        "license's rated usage, minimum and late corrections. `total` is the sum of the "
        "lines; `amount_due` adds the sub-unit remainder carried from the previous invoice "
        "and rounds down. An open card invoice shows why its last charge failed. Another "
        "organisation's invoice is a 404, as is an unknown id.",
    ),
    "invoices_pdf": (
        "Download an invoice as PDF",
        "The same invoice as a PDF, with the same lines and totals as the JSON. Another "
        "organisation's invoice is a 404.",
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
                        "work": EXAMPLE_WORK_ID,
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
    "clearances_create": [
        OpenApiExample(
            "A manifest to clear for training",
            value={
                "use": "ai-train",
                "identifiers": [
                    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "isbn:9780306406157",
                    EXAMPLE_WORK_ID,
                ],
            },
            request_only=True,
        )
    ],
    "licenses_create": [
        OpenApiExample("A flat offer", value={"offer": "ofr_9kT3vB2nQ8sL"}, request_only=True),
        OpenApiExample(
            "Part of a pool",
            value={"offer": "ofr_2mW8cX5rJ1dE", "works": [EXAMPLE_WORK_ID]},
            request_only=True,
        ),
    ],
}
