"""W3C TDMRep: the per-origin rules files and the ODRL policy a licensable work names.

The rules (TDMRep CG Final Report §6.1, "TDM File on the Origin Server"): a
`tdmrep.json` array whose `location` patterns are matched like robots.txt paths, and
where "the most specific match is the first in sequence" — a TDM Agent takes the
first rule that matches. A bare path is a prefix, so `/works/4` would also match
`/works/40`…`/works/49` and shadow their rules. So each location is the work's path
anchored with `$` (§6.1.1: "designates the end of the match pattern"), with a literal
`*` or `$` in the path written `%2A` / `%24` as §6.1.1 requires, and the rules are
ordered longest location first: no rule can hide another, even for an agent that
ignored the anchor.

The policy (§7.1): an ODRL 2.2 `Offer` in JSON-LD with the TDMRep profile — `@context`
of ODRL and TDMRep, `profile`, `uid`, one `assigner` described with vCard, and one
`permission` whose action is `tdm:mine` with the duty to `compensate` — served as
`application/ld+json` (§5.2: machine-readable policies are JSON or JSON-LD). It is
only published for a licensable work; the licenses and prices themselves are in the
work's RSL document, which the policy's `vcard:hasURL` and the page's `Link` name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from licensing.models import Work
from licensing.selectors.works import works_with_offers
from licensing.terms import WorkTerms, work_terms

TDMREP_RULES_MAX = 10_000
TDMREP_POLICY_MEDIA_TYPE = "application/ld+json"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
TDMREP_CONTEXT = "http://www.w3.org/ns/tdmrep.jsonld"
TDMREP_PROFILE = "http://www.w3.org/ns/tdmrep"


def tdmrep_location(url: str) -> str:
    """The `location` that matches this URL's path (and query) and nothing else."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return path.replace("*", "%2A").replace("$", "%24") + "$"


def tdmrep_rule(terms: WorkTerms, *, location: str) -> dict[str, Any]:
    """One TDMRep rule for a work at `location` (a path on the origin serving the file)."""
    rule: dict[str, Any] = {"location": location, "tdm-reservation": terms.tdm_reservation}
    if terms.tdm_policy:
        rule["tdm-policy"] = terms.tdm_policy
    return rule


def tdmrep_rules_for_origin(origin: str, *, base_url: str) -> list[dict[str, Any]]:
    """The rules the site at `origin` should serve for the works whose URL it hosts."""
    works = works_with_offers(Work.objects.filter(url__startswith=origin + "/").order_by("id"))
    rules = [
        tdmrep_rule(work_terms(work, base_url=base_url), location=tdmrep_location(work.url))
        for work in works[:TDMREP_RULES_MAX]
    ]
    # The first match wins: the longest (most specific) location first, then by text,
    # so the file is the same on every request.
    return sorted(rules, key=lambda rule: (-len(rule["location"]), rule["location"]))


def tdm_policy_document(terms: WorkTerms) -> dict[str, Any]:
    """The work's TDM Policy: mining is permitted once the rightsholder is compensated."""
    assert terms.tdm_policy, "only a licensable work names a policy"
    return {
        "@context": [ODRL_CONTEXT, TDMREP_CONTEXT],
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": terms.policy_url,
        "assigner": {
            "vcard:fn": terms.work.creator.display_name,
            "vcard:hasURL": terms.page_url,
        },
        "permission": [
            {
                "target": terms.work.url or terms.page_url,
                "action": "tdm:mine",
                "duty": [{"action": "compensate"}],
            }
        ],
    }
