"""The front door at `/`: what Accord is, and the ways in (portal, API docs, registry).

A plain template view: `config` imports no app, so the page links by URL name and the
registry lookup is an ordinary GET form aimed at the public registry endpoint.
"""

from __future__ import annotations

from django.views.generic import TemplateView

# The identifier kinds the public registry looks works up by (API.md "Registry").
REGISTRY_KINDS = (
    ("isbn", "ISBN", "978-0-306-40615-7"),
    ("isrc", "ISRC", "GB-AYE-06-01498"),
    ("doi", "DOI", "10.1000/182"),
    ("url", "URL", "https://example.com/essay"),
    ("sha256", "SHA-256", "64 hex digits"),
)


class FrontDoorView(TemplateView):
    template_name = "front_door.html"
    extra_context = {"registry_kinds": REGISTRY_KINDS}
