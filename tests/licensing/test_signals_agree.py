"""One table from a work's state to every signal, and the signals never disagree (issue 19 #3, #4).

For each state a work can be in, every signal is read the way its consumer reads it
(`signal_readers`), reduced to what it says about each category of use — free, only
with a license, or nothing said — and the answers are compared: no signal may allow for
free what another refuses, and a license is on offer in all of them or in none. The
rendered signals are also checked against `terms.SIGNALS_BY_STATE`, and that table
against the one docs/rsl.md prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from protego import Protego
from rest_framework.test import APIClient

from licensing.services.collections import collection_create
from licensing.services.offers import OfferTerms
from licensing.services.works import work_reserve
from licensing.terms import SIGNALS_BY_STATE, WorkState
from tests.licensing.conftest import flat_terms, per_unit_terms
from tests.licensing.signal_readers import (
    content_usage_read,
    robots_content_usage_for,
    robots_read,
    rsl_read,
    tdmrep_resolve,
)

pytestmark = pytest.mark.django_db

# The categories each vocabulary can speak of, in RSL's tokens; AIPREF labels map on.
CATEGORIES = ("ai-train", "ai-input", "ai-index", "search")
AIPREF_FOR = {"ai-train": "train-ai", "search": "search"}
FREE, LICENSE_ONLY, SILENT = "free", "license_only", "silent"


@pytest.fixture
def public(settings) -> APIClient:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "public": "100000/min"}
    return APIClient()


@pytest.fixture
def works(alice, make_work, make_offer):
    def work(name: str, **kwargs):
        return make_work(alice, identifiers={"url": f"https://alice.example/{name}"}, **kwargs)

    trained = work("trained")
    make_offer(alice, work=trained, use="ai-train", terms=flat_terms())
    evaluated = work("evaluated")
    make_offer(alice, work=evaluated, use="ai-eval", terms=per_unit_terms(commercial=False))
    pooled = work("pooled")
    collection = collection_create(creator=alice, title="Pool", works=[pooled])
    make_offer(
        alice,
        collection=collection,
        use="ai-input",
        terms=OfferTerms(pricing="pool", currency="eur", amount=3_000, term_days=30),
    )
    drafted = work("drafted")
    make_offer(alice, work=drafted, status="draft")
    return {
        WorkState.LICENSABLE: [trained, evaluated, pooled],
        WorkState.NOT_OFFERED: [drafted, work("bare")],
        WorkState.RESERVED: [work("reserved", reserved=True)],
    }


def read_every_signal(public: APIClient, work) -> dict[str, dict[str, str]]:
    """Each signal's answer per category, and whether it says a license is on offer."""
    (content,) = rsl_read(public.get(f"/works/{work.public_id}/license.xml").content)
    rsl = {}
    for category in CATEGORIES:
        if any(category in lic.free_usages for lic in content.licenses):
            rsl[category] = FREE
        else:
            rsl[category] = LICENSE_ONLY  # not granted without a (paid) license
    rsl["license_offered"] = any(lic.granted_usages and not lic.free for lic in content.licenses)

    page = public.get(f"/works/{work.public_id}")
    rules = public.get("/.well-known/tdmrep.json", {"origin": "https://alice.example"}).json()
    rule = tdmrep_resolve(rules, work.url)
    tdmrep = {}
    for name, reservation, policy in (
        ("tdmrep_file", rule["tdm-reservation"], rule.get("tdm-policy")),
        ("tdmrep_headers", int(page["tdm-reservation"]), page.get("tdm-policy")),
    ):
        # TDMRep reserves (1) or not (0) all text and data mining: every category at once.
        answer = LICENSE_ONLY if reservation == 1 else FREE
        tdmrep[name] = {**dict.fromkeys(CATEGORIES, answer), "license_offered": bool(policy)}

    robots = robots_read(public.get("/robots.txt").content.decode())
    aipref = {}
    for name, preferences in (
        ("content_usage_header", content_usage_read(page["Content-Usage"])),
        ("content_usage_robots", robots_content_usage_for(robots, f"/works/{work.public_id}")),
    ):
        answers = {"allowed": FREE, "disallowed": LICENSE_ONLY, "unknown": SILENT}
        aipref[name] = {
            category: answers[preferences[AIPREF_FOR[category]]]
            if category in AIPREF_FOR
            else SILENT
            for category in CATEGORIES
        }
        aipref[name]["license_offered"] = None  # the vocabulary cannot say
    return {"rsl": rsl, **tdmrep, **aipref}


def assert_no_disagreement(signals: dict[str, dict]) -> None:
    for category in CATEGORIES:
        said = {name: answers[category] for name, answers in signals.items()}
        assert not (FREE in said.values() and LICENSE_ONLY in said.values()), (category, said)
    offered = {name: a["license_offered"] for name, a in signals.items()}
    assert len({value for value in offered.values() if value is not None}) == 1, offered


@pytest.mark.parametrize("state", list(WorkState))
def test_for_every_state_the_signals_never_disagree(works, public, state) -> None:
    table = SIGNALS_BY_STATE[state]
    for work in works[state]:
        signals = read_every_signal(public, work)

        assert_no_disagreement(signals)
        # And they say what the table says.
        assert signals["rsl"]["license_offered"] is table.rsl_paid_licenses
        assert signals["tdmrep_file"]["license_offered"] is table.tdm_policy
        assert all(answer != FREE for answer in signals["rsl"].values())
        registry = public.get("/api/v1/registry", {"url": work.url}).json()
        assert registry["status"] == table.registry_status


def test_the_signals_follow_a_reservation(works, public) -> None:
    work = works[WorkState.LICENSABLE][0]
    assert read_every_signal(public, work)["rsl"]["license_offered"] is True

    work_reserve(work=work)

    signals = read_every_signal(public, work)
    assert_no_disagreement(signals)
    assert signals["tdmrep_headers"]["license_offered"] is False


def test_content_usage_speaks_the_current_vocabulary(works, public) -> None:
    """draft-ietf-aipref-vocab-07 §6.1 has two labels; an unknown one (the removed
    `ai-use`) is ignored (§6.4), so the old field said nothing about AI input."""
    work = works[WorkState.LICENSABLE][0]
    value = public.get(f"/works/{work.public_id}")["Content-Usage"]

    assert content_usage_read(value) == {"train-ai": "disallowed", "search": "disallowed"}
    assert content_usage_read("train-ai=n, ai-use=n") == {
        "train-ai": "disallowed",
        "search": "unknown",
    }
    text = public.get("/robots.txt").content.decode()
    robots = robots_read(text)
    assert robots.content_usage == [("/works/", value)]
    # Preferences apply only to what may be crawled (attach-05 §3.1): the pages may be.
    assert Protego.parse(text).can_fetch(f"http://testserver/works/{work.public_id}", "AnyBot")
    assert robots_content_usage_for(robots, "/api/v1/schema/") == {
        "train-ai": "unknown",
        "search": "unknown",
    }


def test_docs_print_the_same_table() -> None:
    """docs/rsl.md's table is the code's, row for row."""
    docs = (Path(django_settings.BASE_DIR) / "docs" / "rsl.md").read_text()
    for state, signals in SIGNALS_BY_STATE.items():
        rsl = "one paid license per offer" if signals.rsl_paid_licenses else "`prohibits all`"
        policy = "with `tdm-policy`" if signals.tdm_policy else "no policy"
        row = (
            f"| `{state}` | `{signals.registry_status}` | {rsl} | "
            f"`tdm-reservation: {signals.tdm_reservation}`, {policy} | "
            f"`{signals.content_usage_field}` |"
        )
        assert row in docs, row
