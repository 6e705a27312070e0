"""Render works' terms as RSL 1.0 documents (Really Simple Licensing, RSL-SPEC-1.0).

Three documents, one shape: a `<content>` per work (§3.2), holding one `<license>`
(§3.3) per way to license it —

- `<permits type="usage">` the usage token the offer permits (§3.4, vocabulary §3.4.1);
  `<permits>` is a closed list, so a license grants nothing else;
- `<prohibits type="usage">` the AI usages no offer covers (§3.5), tokens separated by
  spaces as the vocabulary is written (a comma-joined list is one unknown token);
- `<prohibits type="user">commercial</prohibits>` when the offer is non-commercial;
- `<payment type=…>` (§3.7) with `<amount currency=…>` (§3.10) in the currency's major
  unit, as RSL writes amounts — never omitted, since a license without `<payment>` is
  free.

A work with no offer (reserved, or nothing on offer) gets a single license that
prohibits `all`: no usage is granted, so nothing is free by omission, and the document
says what its TDMRep reservation says (`terms.SIGNALS_BY_STATE`).

The documents: a work's own (`/works/{id}/license.xml`, its `<content url>` the work's
URL identifier or its page at Accord), a collection's (`/collections/{id}/license.xml`,
one `<content>` per work, each exactly as in the work's own document), and the site's
pages named by `robots.txt` `License:` lines (§4.4; `<content url>` the work's page path
at Accord, anchored with `$` so that it matches that page alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.etree import ElementTree

from licensing.currencies import major_amount_format
from licensing.models import OfferVersion
from licensing.terms import LicenseTerm, WorkTerms, work_page_path

RSL_NAMESPACE = "https://rslstandard.org/rsl"
RSL_MEDIA_TYPE = "application/rsl+xml"

ElementTree.register_namespace("", RSL_NAMESPACE)


def _tag(name: str) -> str:
    return f"{{{RSL_NAMESPACE}}}{name}"


def _price(version: OfferVersion) -> str:
    if version.pricing == OfferVersion.Pricing.PER_UNIT:
        assert version.unit_amount_decimal is not None
        return major_amount_format(version.unit_amount_decimal, version.currency)
    assert version.amount is not None
    return major_amount_format(version.amount, version.currency)


def _tokens(parent: ElementTree.Element, name: str, kind: str, tokens: Iterable[str]) -> None:
    element = ElementTree.SubElement(parent, _tag(name), type=kind)
    element.text = " ".join(tokens)


def _license_element(parent: ElementTree.Element, term: LicenseTerm, prohibited: tuple) -> None:
    license_element = ElementTree.SubElement(parent, _tag("license"))
    _tokens(license_element, "permits", "usage", [term.rsl_usage])
    if prohibited:
        _tokens(license_element, "prohibits", "usage", prohibited)
    if not term.version.commercial:
        _tokens(license_element, "prohibits", "user", ["commercial"])
    payment = ElementTree.SubElement(license_element, _tag("payment"), type=term.rsl_payment_type)
    amount = ElementTree.SubElement(payment, _tag("amount"), currency=term.version.currency.upper())
    amount.text = _price(term.version)


def _changed_at(terms: WorkTerms) -> datetime:
    return max([terms.work.updated_at, *(term.offer.updated_at for term in terms.licenses)])


def content_element(parent: ElementTree.Element, terms: WorkTerms, *, url: str) -> None:
    """Append the work's `<content>`: its licenses, or the one that grants nothing."""
    content = ElementTree.SubElement(
        parent, _tag("content"), url=url, lastmod=_changed_at(terms).isoformat(timespec="seconds")
    )
    copyright_element = ElementTree.SubElement(content, _tag("copyright"))
    copyright_element.text = terms.work.creator.display_name
    if not terms.licenses:
        nothing_granted = ElementTree.SubElement(content, _tag("license"))
        _tokens(nothing_granted, "prohibits", "usage", terms.rsl_prohibited)
    for term in terms.licenses:
        _license_element(content, term, terms.rsl_prohibited)


def work_content_url(terms: WorkTerms) -> str:
    """Where the work itself is: its URL identifier, else its page at Accord."""
    return terms.work.url or terms.page_url


def _serialize(root: ElementTree.Element) -> bytes:
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def rsl_document(terms: WorkTerms) -> bytes:
    """Return the work's RSL document, UTF-8 encoded, with its XML declaration."""
    root = ElementTree.Element(_tag("rsl"))
    content_element(root, terms, url=work_content_url(terms))
    return _serialize(root)


def rsl_collection_document(works_terms: list[WorkTerms], *, empty_url: str) -> bytes:
    """The collection's document: each work's `<content>` as in the work's own document.

    An RSL document holds at least one `<content>`: a collection without works gets
    one for `empty_url` that grants nothing.
    """
    root = ElementTree.Element(_tag("rsl"))
    for terms in works_terms:
        content_element(root, terms, url=work_content_url(terms))
    if not works_terms:
        content = ElementTree.SubElement(root, _tag("content"), url=empty_url)
        _tokens(ElementTree.SubElement(content, _tag("license")), "prohibits", "usage", ["all"])
    return _serialize(root)


def rsl_site_document(works_terms: list[WorkTerms]) -> bytes:
    """One page of the site's document: each work's licenses, for its page at Accord."""
    assert works_terms, "robots.txt names only pages that have works"
    root = ElementTree.Element(_tag("rsl"))
    for terms in works_terms:
        content_element(root, terms, url=work_page_path(terms.work) + "$")
    return _serialize(root)
