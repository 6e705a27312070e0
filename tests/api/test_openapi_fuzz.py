"""schemathesis against the served OpenAPI schema: no 5xx, and every answer as documented.

The schema is the one clients read (`GET /api/v1/schema/?format=json`), loaded from the
WSGI application in process, and every generated request goes through the whole Django
stack (middleware, authentication, throttling, idempotency, the views and services)
inside pytest-django's test transaction. Each operation runs twice: as a licensee
organisation that pays by card through the Stripe sandbox, and as a creator.

Generated identifiers would only ever find nothing, so `_Identifiers` swaps a path
parameter, query parameter or body field that names an object for one of the real
objects built by `fuzz_world` (or keeps the generated value, to exercise the 404s).
The swap is a pure function of the generated case, so hypothesis still replays and
shrinks a failure. Generation is deterministic, so CI sees the same requests on every
run; `API_FUZZ_EXAMPLES=200 pytest tests/api` digs deeper by hand.

Generated strings may hold NUL (schemathesis' `allow-x00`), but hypothesis seldom
aims one at every parameter, and it never nests JSON thousands deep. So
`test_hostile_input_is_never_a_server_error` sends, to every operation in the schema
as each role: a NUL in every path parameter and in every query parameter (400), and,
where the operation takes a JSON body, one nested 5,000 deep and one with a lone
surrogate in every top-level field (a 4xx with the error body). Built by hand, not
generated, they cost a few seconds (issue 13).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from licensing.models import ApiKey, Offer
from licensing.services.api_keys import api_key_create
from licensing.services.collections import collection_create
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create, offer_withdraw
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import ShareSpec, work_create

# Enough to reach every branch we seed data for, small enough that both roles over
# every operation finish in about a minute on two cores. The coverage phase adds its
# boundary and negative cases on top of these.
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "15"))
# What a client relies on: no 5xx, documented statuses, bodies, content types and headers;
# a key-protected operation refuses a request without the key; an undocumented method is
# 405. Left out: `positive_data_acceptance` and `negative_data_rejection`, which expect
# every schema-valid request to be accepted (a garbage cursor or an unknown creator id is
# schema-valid and rightly a 400/404) and every schema-invalid one to be refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
    unsupported_method,
]

# No operation in the schema is excluded. What the schema does not describe, schemathesis
# cannot reach, and each of those has its own tests: the Stripe webhook (`/stripe/webhook`,
# not under /api/v1, signed by Stripe: tests/payouts/test_webhooks.py), the JWKS at
# `/.well-known/accord-keys.json` (a plain Django view: tests/licensing/certificates/), `/healthz`
# (tests/config/test_health.py), the admin and the schema and docs pages themselves.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/schema/?format=json",
    application,
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
        }
    ),
)


@dataclass
class _Identifiers:
    """Real object ids per parameter name, and the swap of a generated value for one."""

    pools: Mapping[str, list[str]] = field(default_factory=dict)

    def realise_case(self, case: schemathesis.Case) -> None:
        """Swap the ids in a case's path, query and JSON body, salted by the whole case.

        Hypothesis generates a few short strings ("0", "") far more often than others;
        salting with the rest of the case spreads those over every real object.
        """
        salt = repr((case.path_parameters, case.query, case.body))
        case.path_parameters = self._realise_all(case.path_parameters, salt)
        case.query = self._realise_all(case.query, salt)
        if isinstance(case.body, dict):
            case.body = self._realise_all(case.body, salt)

    def _realise_all(self, values: Mapping[str, Any] | None, salt: str) -> dict[str, Any] | None:
        if values is None:
            return None
        return {name: self._realise(name, value, salt) for name, value in values.items()}

    def _realise(self, name: str, value: Any, salt: str) -> Any:
        pool = self.pools.get(name)
        if not pool:
            return value
        if isinstance(value, list):
            return [
                self._realise(name, item, f"{salt}:{index}") for index, item in enumerate(value)
            ]
        if not isinstance(value, str):
            return value  # a wrong type is the point of that example: leave it to the 400
        digest = zlib.crc32(f"{salt}:{name}:{value}".encode("utf-8", "backslashreplace"))
        # One bucket in (len + 1) keeps the generated value, which must answer 4xx.
        bucket = digest % (len(pool) + 1)
        return pool[bucket] if bucket < len(pool) else value


@dataclass
class FuzzWorld:
    authorization: dict[str, str]
    identifiers: _Identifiers


def _catalogue() -> dict[str, Any]:
    """Two creators, works of several kinds, a collection and an offer of every pricing."""
    alice = creator_create(username="fuzz-alice", password=None)
    bob = creator_create(username="fuzz-bob", password=None)
    solo = work_create(creator=alice, title="Solo", kind="text", identifiers={"sha256": "a" * 64})
    shared = work_create(
        creator=alice,
        title="Shared",
        kind="audio",
        identifiers={"isrc": "USRC17607839"},
        shares=[ShareSpec(alice, 6_667), ShareSpec(bob, 3_333)],
    )
    reserved = work_create(creator=alice, title="Kept back", kind="image", reserved=True)
    bobs = work_create(creator=bob, title="Bob's own", kind="code")
    collection = collection_create(creator=alice, title="Both", works=[solo, shared])

    def offer(terms: OfferTerms, *, use: str, **target: Any) -> Offer:
        target.setdefault("creator", alice)
        target.setdefault("status", Offer.Status.ACTIVE)
        return offer_create(use=use, terms=terms, **target)

    flat = OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=365)
    offers = {
        "flat": offer(flat, use="ai-train", work=shared),
        "collection_flat": offer(
            OfferTerms(pricing="flat", currency="eur", amount=500, term_days=90),
            use="ai-finetune",
            collection=collection,
        ),
        "pool": offer(
            OfferTerms(pricing="pool", currency="eur", amount=3_000, term_days=30),
            use="ai-input",
            collection=collection,
        ),
        "per_unit": offer(
            OfferTerms(
                pricing="per_unit",
                currency="eur",
                unit="token",
                unit_amount_decimal=Decimal("0.042"),
                minimum_amount=100,
            ),
            use="ai-eval",
            work=solo,
        ),
        "usd": offer(
            OfferTerms(pricing="flat", currency="usd", amount=700, term_days=30),
            use="ai-finetune",
            work=solo,
        ),
        "draft": offer(flat, use="ai-input", work=solo, status=Offer.Status.DRAFT),
        "withdrawn": offer_withdraw(offer=offer(flat, use="ai-eval", work=shared)),
        "bobs": offer(flat, use="ai-train", work=bobs, creator=bob),
    }
    return {
        "alice": alice,
        "bob": bob,
        "works": [solo, shared, reserved, bobs],
        "collections": [collection],
        "offers": offers,
    }


@pytest.fixture
def wsgi_keeps_test_connection() -> Iterator[None]:
    """Stop the WSGI handler from closing the test transaction's connection.

    Django closes a connection whose autocommit differs from its settings at the start
    and end of every request; inside the test transaction that is every connection.
    Django's own test client disconnects the same signals for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(
    wsgi_keeps_test_connection: None,
    request: pytest.FixtureRequest,
    stripe_sandbox_settings: Any,
    settings: Any,
) -> FuzzWorld:
    """Real data for one role; built once per operation and shared by its examples."""
    # Throttling has its own tests; here a 429 would only hide the code behind it.
    settings.ACCORD_RATE_LIMITS = {"default": "1000000/min", "public": "1000000/min"}
    role = request.param
    catalogue = _catalogue()
    offers = catalogue["offers"]
    organization = organization_create(
        slug="fuzz-lab", name="Fuzz Lab", billing="card", payment_method="pm_card_visa"
    )
    licenses = [
        license_purchase(organization=organization, offer_id=offers[name].public_id, work_ids=None)
        for name in ("flat", "pool", "per_unit")
    ]
    if role == "licensee":
        _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    else:
        _, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=catalogue["alice"])
    work_ids = [work.public_id for work in catalogue["works"]]
    offer_ids = [offer.public_id for offer in offers.values()]
    collection_ids = [collection.public_id for collection in catalogue["collections"]]
    license_ids = [granted.public_id for granted in licenses]
    return FuzzWorld(
        authorization={"Authorization": f"Bearer {raw_key}"},
        identifiers=_Identifiers(
            {
                "work_id": work_ids,
                "work": work_ids,
                "works": work_ids,
                "offer_id": offer_ids,
                "offer": offer_ids,
                "collection_id": collection_ids,
                "collection": collection_ids,
                "license_id": license_ids,
                "license": license_ids,
                "creator": [catalogue["alice"].public_id, catalogue["bob"].public_id],
                "sha256": ["a" * 64],
                # Only a known currency gets past validation to the pricing rules.
                "currency": ["eur", "usd"],
            }
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("fuzz_world", ["licensee", "creator"], indirect=True)
@schema.parametrize()
@settings(
    deadline=None,
    # One world per operation, reused by every example: that is the intent here.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_as_documented(case: schemathesis.Case, fuzz_world: FuzzWorld) -> None:
    fuzz_world.identifiers.realise_case(case)
    case.call_and_validate(headers=fuzz_world.authorization, checks=CHECKS)


DEEP_JSON_BODY = b"[" * 5_000 + b"]" * 5_000
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def _request_properties(operation: Any) -> list[str]:
    """The top-level fields of an operation's JSON body, as the served schema names them."""
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema", {})
    reference = body_schema.get("$ref", "")
    if reference.startswith("#/components/schemas/"):
        body_schema = schema.raw_schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    return sorted(body_schema.get("properties", {}))


def _hostile_cases(
    operation: Any, identifiers: _Identifiers
) -> Iterator[tuple[str, schemathesis.Case, int | None]]:
    """(what, case, the status it must get, or None for any 4xx) for one operation.

    Path parameters name real objects, so only the hostile part can be refused.
    """
    path_names = [parameter.name for parameter in operation.path_parameters]
    query_names = [parameter.name for parameter in operation.query]
    takes_json = any(body.media_type == "application/json" for body in operation.body)
    real_path = {name: (identifiers.pools.get(name) or ["id"])[0] for name in path_names}
    nul_path = {name: f"{value}\x00" for name, value in real_path.items()}
    if path_names:
        yield "NUL in the path", operation.Case(path_parameters=nul_path), 400
    if query_names:
        query = {name: "a\x00b" for name in query_names}
        yield "NUL in the query", operation.Case(path_parameters=real_path, query=query), 400
    if takes_json:
        for what, body in [
            ("JSON nested 5,000 deep", DEEP_JSON_BODY),
            (
                "a lone surrogate in every field",
                json.dumps(dict.fromkeys(_request_properties(operation), "\ud800")).encode(),
            ),
        ]:
            case = operation.Case(
                path_parameters=real_path, body=body, media_type="application/json"
            )
            yield what, case, None


@pytest.mark.django_db
@pytest.mark.parametrize("fuzz_world", ["licensee", "creator"], indirect=True)
def test_hostile_input_is_never_a_server_error(fuzz_world: FuzzWorld) -> None:
    assert len(OPERATIONS) > 20  # the whole schema, not a part of it
    wrong = []
    sent = 0
    for operation in OPERATIONS:
        for what, case, expected_status in _hostile_cases(operation, fuzz_world.identifiers):
            response = case.call(headers=fuzz_world.authorization)
            sent += 1
            status = response.status_code
            acceptable = status == expected_status if expected_status else 400 <= status < 500
            error = response.json().get("error") if acceptable else None
            if not acceptable or not isinstance(error, dict) or "code" not in error:
                wrong.append(f"{operation.label}, {what}: {status} {response.content[:160]!r}")
    assert sent > 30
    assert wrong == []
