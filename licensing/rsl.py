"""Render a work's terms as an RSL 1.0 document (Really Simple Licensing).

The document has one `<content>` for the work (its own URL when it has one, else its
page at Accord) holding one `<license>` per way to license it: the usage the offer
permits (`<permits type="usage">`), the AI usages no offer covers
(`<prohibits type="usage">`), commercial use refused when the offer is
non-commercial, and the price (`<payment type=…><amount currency=…>`), in the
currency's major unit as RSL writes amounts. A reserved work gets a single license
that prohibits `ai-all`. Everything it says comes from `terms.work_terms`.
"""

from __future__ import annotations

from xml.etree import ElementTree

from licensing.currencies import major_amount_format
from licensing.models import OfferVersion
from licensing.terms import LicenseTerm, WorkTerms

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


def _license_element(parent: ElementTree.Element, term: LicenseTerm, prohibited: tuple) -> None:
    license_element = ElementTree.SubElement(parent, _tag("license"))
    permits = ElementTree.SubElement(license_element, _tag("permits"), type="usage")
    permits.text = term.rsl_usage
    if prohibited:
        prohibits = ElementTree.SubElement(license_element, _tag("prohibits"), type="usage")
        prohibits.text = ",".join(prohibited)
    if not term.version.commercial:
        refused = ElementTree.SubElement(license_element, _tag("prohibits"), type="user")
        refused.text = "commercial"
    payment = ElementTree.SubElement(license_element, _tag("payment"), type=term.rsl_payment_type)
    amount = ElementTree.SubElement(payment, _tag("amount"), currency=term.version.currency.upper())
    amount.text = _price(term.version)


def rsl_document(terms: WorkTerms) -> bytes:
    """Return the work's RSL document, UTF-8 encoded, with its XML declaration."""
    work = terms.work
    changed_at = max(
        [work.updated_at, *(term.offer.updated_at for term in terms.licenses)],
    )
    root = ElementTree.Element(_tag("rsl"))
    content = ElementTree.SubElement(
        root,
        _tag("content"),
        url=work.url or terms.page_url,
        lastmod=changed_at.isoformat(timespec="seconds"),
    )
    copyright_element = ElementTree.SubElement(content, _tag("copyright"))
    copyright_element.text = work.creator.display_name
    if not terms.licensable:
        reserved = ElementTree.SubElement(content, _tag("license"))
        prohibits = ElementTree.SubElement(reserved, _tag("prohibits"), type="usage")
        prohibits.text = ",".join(terms.rsl_prohibited)
    for term in terms.licenses:
        _license_element(content, term, terms.rsl_prohibited)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
