"""Accord's own `robots.txt`: where the RSL licenses are, and the AI-usage preferences.

- RSL 1.0 §4.4: `License:` lines outside any group apply to every crawler; each names
  one page of the site's RSL document (`/license.xml?page=N`, `SITE_LICENSE_PAGE_WORKS`
  works a page, in id order), so the whole catalogue is named however large it grows
  while each document stays small. A site with no works names none.
- draft-ietf-aipref-attach-05 §3: a `Content-Usage` rule in the group for all crawlers
  states the preferences for the work pages (`/works/`), the same for every work
  (`terms.SIGNALS_BY_STATE`); the same value is each page's `Content-Usage` header.

Crawling itself is allowed (`Allow: /`): usage preferences apply only to what may be
crawled, and the RSL licenses govern use, not access.
"""

from __future__ import annotations

from licensing.models import Work
from licensing.terms import SIGNALS_BY_STATE

SITE_LICENSE_PAGE_WORKS = 1_000
WORK_PAGES_PATH = "/works/"


def site_license_pages() -> int:
    """How many pages the site's RSL document has (0 without works)."""
    return -(-Work.objects.count() // SITE_LICENSE_PAGE_WORKS)


def robots_txt(*, base_url: str, license_pages: int) -> str:
    content_usage = {signals.content_usage_field for signals in SIGNALS_BY_STATE.values()}
    # One rule can speak for every work only because every state says the same.
    assert len(content_usage) == 1, content_usage
    lines = [
        "# Accord: the works registered here are licensed for AI use through Accord.",
        "# Their terms: RSL 1.0 documents (License), AI-usage preferences (Content-Usage),",
        "# and TDMRep (/.well-known/tdmrep.json).",
        *(f"License: {base_url}/license.xml?page={page}" for page in range(1, license_pages + 1)),
        "",
        "User-agent: *",
        "Allow: /",
        f"Content-Usage: {WORK_PAGES_PATH} {content_usage.pop()}",
        "",
    ]
    return "\n".join(lines)
