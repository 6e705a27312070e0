"""The OpenAPI words of the catalogue: a creator's own, the public one, the public endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

# Ids the examples use, shaped like real ones.
EXAMPLE_WORK_ID = "wrk_4fJ2kQ9xT1bZ"
EXAMPLE_CREATOR_ID = "cre_7Hq2mN5pL0aV"

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
}

REQUEST_EXAMPLES: dict[str, list[OpenApiExample]] = {
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
                "shares": [{"creator": EXAMPLE_CREATOR_ID, "basis_points": 4000}],
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
                "work": EXAMPLE_WORK_ID,
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
                "work": EXAMPLE_WORK_ID,
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
            "Two works", value={"title": "Coastal", "works": [EXAMPLE_WORK_ID]}, request_only=True
        ),
    ],
    "me_collections_partial_update": [
        OpenApiExample("Rename", value={"title": "Coastal, complete"}, request_only=True),
    ],
    "certificates_verify": [
        OpenApiExample(
            "A certificate",
            value={"certificate": "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJsaWMiOiLigKYifQ.c2ln"},
            request_only=True,
        ),
    ],
}
