"""Readers of the public signals, written from each specification, not from our output.

Each reader parses what a consumer would receive and applies the specification's own
rules, so that a test can ask what the signal *means*. Section numbers are those of the
versions docs/rsl.md names.

- RSL 1.0 (RSL-SPEC-1.0): `rsl_read` validates a document against the RSL vocabulary —
  the default namespace on `<rsl>` (§3.1), `<content url>` and at least one `<license>`
  (§3.2, §3.3), no unknown element in the RSL namespace, at most one `<permits>` and one
  `<prohibits>` per type (§3.4, §3.5), space-separated tokens from the usage, user and
  geo vocabularies (§3.4.1), a payment type from the closed set (§3.7) and an amount
  with an ISO 4217 code (§3.10) — and evaluates each license: the usages it grants
  (`<permits>` is a closed list; absent, every usage not prohibited), with `ai-all`
  and `all` expanded, and whether it is free (no `<payment>`, or type `free`).
- TDMRep (CG Final Report): `tdmrep_resolve` matches a URL against a rules file as §6.1
  and §6.1.1 say (first matching rule wins; `*` and a final `$`; percent-encoded
  unreserved characters decoded before comparing); `tdm_policy_problems` checks a
  policy against §7.1.
- IETF AI preferences: `content_usage_read` parses an RFC 9651 dictionary (http-sf, a
  maintained parser) and applies draft-ietf-aipref-vocab-07 §6.5 (only known labels,
  Token `y`/`n`, anything else unknown); `robots_read` takes a robots.txt's global
  `License:` lines (RSL §4.4) and the `Content-Usage` rules of the group for all
  agents (draft-ietf-aipref-attach-05 §3), matched by longest path prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from xml.etree import ElementTree

import http_sf

RSL_NAMESPACE = "https://rslstandard.org/rsl"
RSL_ELEMENTS = {
    "rsl", "content", "license", "permits", "prohibits", "payment", "standard", "custom",
    "amount", "accepts", "reporting", "legal", "schema", "alternate", "copyright", "terms",
}  # fmt: skip
RSL_USAGE_TOKENS = {"all", "ai-all", "ai-train", "ai-input", "ai-index", "search"}
RSL_AI_ALL = {"ai-train", "ai-input", "ai-index"}
RSL_USER_TOKENS = {"commercial", "non-commercial", "education", "government", "personal"}
RSL_PAYMENT_TYPES = {
    "purchase", "subscription", "training", "crawl", "use", "contribution", "attribution",
    "free",
}  # fmt: skip
ISO_4217 = re.compile(r"^[A-Z]{3}$")
RFC_3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class SignalInvalid(AssertionError):
    """The document breaks a rule of its specification."""


def _expand(tokens: set[str]) -> set[str]:
    expanded = set(tokens)
    if "ai-all" in tokens:
        expanded |= RSL_AI_ALL
    if "all" in tokens:
        expanded |= RSL_USAGE_TOKENS - {"all", "ai-all"}
    return expanded - {"all", "ai-all"}


@dataclass
class RslLicense:
    granted_usages: set[str]
    prohibited_usages: set[str]
    prohibited_users: set[str]
    payment_type: str  # "free" when no <payment>
    amounts: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def free(self) -> bool:
        return self.payment_type == "free"

    @property
    def free_usages(self) -> set[str]:
        """What this license lets anyone do without paying."""
        return self.granted_usages if self.free else set()


@dataclass
class RslContent:
    url: str
    licenses: list[RslLicense]


def _tokens(element: ElementTree.Element, vocabulary: set[str] | None) -> set[str]:
    text = element.text or ""
    tokens = text.split()
    if not tokens:
        raise SignalInvalid(f"empty <{element.tag}>")
    if vocabulary is not None and not set(tokens) <= vocabulary:
        raise SignalInvalid(f"unknown tokens {set(tokens) - vocabulary} in {text!r}")
    return set(tokens)


def _vocabulary(kind: str | None) -> set[str] | None:
    if kind == "usage":
        return RSL_USAGE_TOKENS
    if kind == "user":
        return RSL_USER_TOKENS
    if kind == "geo":
        return None  # ISO 3166-1 alpha-2 codes, checked below
    raise SignalInvalid(f"type {kind!r} is none of usage, user, geo")


def _terms_of(license_element: ElementTree.Element, name: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for element in license_element.findall(f"{{{RSL_NAMESPACE}}}{name}"):
        kind = element.get("type")
        if kind in found:
            raise SignalInvalid(f"two <{name} type={kind!r}> in one license")
        found[kind] = _tokens(element, _vocabulary(kind))
        if kind == "geo" and not all(re.fullmatch(r"[A-Z]{2}", code) for code in found[kind]):
            raise SignalInvalid(f"geo codes {found[kind]}")
    return found


def _license(element: ElementTree.Element) -> RslLicense:
    permits, prohibits = _terms_of(element, "permits"), _terms_of(element, "prohibits")
    prohibited = _expand(prohibits.get("usage", set()))
    if "usage" in permits:
        granted = _expand(permits["usage"]) - prohibited  # prohibitions take precedence
    else:
        granted = (RSL_USAGE_TOKENS - {"all", "ai-all"}) - prohibited
    payments = element.findall(f"{{{RSL_NAMESPACE}}}payment")
    if len(payments) > 1:
        raise SignalInvalid("two <payment> in one license")
    payment_type, amounts = "free", []
    if payments:
        payment_type = payments[0].get("type", "free")
        if payment_type not in RSL_PAYMENT_TYPES:
            raise SignalInvalid(f"payment type {payment_type!r}")
        for amount in payments[0].findall(f"{{{RSL_NAMESPACE}}}amount"):
            currency = amount.get("currency") or ""
            if not ISO_4217.match(currency):
                raise SignalInvalid(f"currency {currency!r} is not an ISO 4217 code")
            try:
                value = Decimal(amount.text or "")
            except InvalidOperation:
                raise SignalInvalid(f"amount {amount.text!r}") from None
            if value < 0 or not value.is_finite():
                raise SignalInvalid(f"amount {value}")
            amounts.append((currency, value))
    return RslLicense(granted, prohibited, prohibits.get("user", set()), payment_type, amounts)


def rsl_read(document: bytes) -> list[RslContent]:
    """Validate an RSL 1.0 document and return what each `<content>` licenses."""
    if b"xmlns:" in document.split(b">", 2)[1]:
        raise SignalInvalid("the RSL namespace must be the default namespace, unprefixed")
    root = ElementTree.fromstring(document)
    if root.tag != f"{{{RSL_NAMESPACE}}}rsl":
        raise SignalInvalid(f"root is {root.tag}")
    for element in root.iter():
        namespace, _, name = element.tag[1:].partition("}")
        if namespace == RSL_NAMESPACE and name not in RSL_ELEMENTS:
            raise SignalInvalid(f"unknown RSL element <{name}>")
    contents = []
    for content in root.findall(f"{{{RSL_NAMESPACE}}}content"):
        url = content.get("url")
        if not url:
            raise SignalInvalid("<content> without url")
        lastmod = content.get("lastmod")
        if lastmod is not None and not RFC_3339.match(lastmod):
            raise SignalInvalid(f"lastmod {lastmod!r} is not RFC 3339")
        licenses = [_license(element) for element in content.findall(f"{{{RSL_NAMESPACE}}}license")]
        if not licenses:
            raise SignalInvalid(f"<content url={url!r}> has no <license>")
        contents.append(RslContent(url, licenses))
    if not contents:
        raise SignalInvalid("<rsl> has no <content>")
    if len({content.url for content in contents}) != len(contents):
        raise SignalInvalid("two <content> for one asset")
    return contents


# --- TDMRep -------------------------------------------------------------------------

UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")


def _decode_unreserved(text: str) -> str:
    def replace(match: re.Match) -> str:
        character = chr(int(match.group(1), 16))
        unreserved = character.isascii() and (character.isalnum() or character in "-._~")
        return character if unreserved else match.group(0).upper()

    return UNRESERVED.sub(replace, text)


def _pattern_matches(pattern: str, path: str) -> bool:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(_decode_unreserved(part)) for part in body.split("*"))
    target = _decode_unreserved(path.replace("$", "%24").replace("*", "%2A"))
    return re.match(regex + ("$" if anchored else ""), target) is not None


def tdmrep_resolve(rules: list[dict], url: str) -> dict | None:
    """The rule a TDM Agent applies to `url`: the first that matches, or None (unset)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for rule in rules:
        if _pattern_matches(rule["location"], path):
            return rule
    return None


def tdm_policy_problems(policy: dict) -> list[str]:
    """What a TDM Policy breaks of the CG Final Report's §7.1 (empty when nothing)."""
    problems = []
    if policy.get("@context") != [
        "http://www.w3.org/ns/odrl.jsonld",
        "http://www.w3.org/ns/tdmrep.jsonld",
    ]:
        problems.append("@context")
    if policy.get("@type") != "Offer":
        problems.append("@type")
    if policy.get("profile") != "http://www.w3.org/ns/tdmrep":
        problems.append("profile")
    if not urlsplit(str(policy.get("uid", ""))).scheme:
        problems.append("uid")
    assigner = policy.get("assigner")
    vcard = {"vcard:fn", "vcard:nickname", "vcard:hasEmail", "vcard:hasAddress"}
    vcard |= {"vcard:hasTelephone", "vcard:hasURL", "uid"}
    if not isinstance(assigner, dict) or not set(assigner) <= vcard:
        problems.append("assigner")
    permissions = policy.get("permission")
    if not isinstance(permissions, list) or not permissions:
        problems.append("permission")
    else:
        for permission in permissions:
            if permission.get("action") != "tdm:mine":
                problems.append("permission.action")
    if "obligation" in policy or "prohibition" in policy:
        problems.append("obligation/prohibition")
    return problems


def tdm_policy_duties(policy: dict) -> set[str]:
    return {
        duty.get("action")
        for permission in policy.get("permission", [])
        for duty in permission.get("duty", [])
    }


# --- IETF AI preferences ------------------------------------------------------------

AIPREF_LABELS = ("train-ai", "search")  # draft-ietf-aipref-vocab-07 §6.1


def content_usage_read(value: str) -> dict[str, str]:
    """Each category's preference: "allowed", "disallowed" or "unknown" (§6.5)."""
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError):
        return dict.fromkeys(AIPREF_LABELS, "unknown")
    answers = {}
    for label in AIPREF_LABELS:
        item = parsed.get(label, (None, {}))[0]
        token = str(item) if isinstance(item, http_sf.Token) else None
        answers[label] = {"y": "allowed", "n": "disallowed"}.get(token or "", "unknown")
    return answers


@dataclass
class Robots:
    licenses: list[str]
    content_usage: list[tuple[str, str]]  # (path, preference) of the `*` group


def robots_read(text: str) -> Robots:
    licenses, content_usage, in_star_group, agents_open = [], [], False, False
    seen_group = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        name, value = (part.strip() for part in line.split(":", 1))
        name = name.lower()
        if name == "user-agent":
            if not agents_open:
                in_star_group = False
            agents_open, seen_group = True, True
            in_star_group = in_star_group or value == "*"
            continue
        agents_open = False
        if name == "license" and not seen_group:
            licenses.append(value)
        elif name == "content-usage" and in_star_group:
            path, _, preference = value.partition(" ") if value.startswith("/") else ("", "", value)
            content_usage.append((path, preference.strip()))
    return Robots(licenses, content_usage)


def robots_content_usage_for(robots: Robots, path: str) -> dict[str, str]:
    """The preferences for `path`: the rule with the longest matching path prefix."""
    matching = [(rule, value) for rule, value in robots.content_usage if path.startswith(rule)]
    if not matching:
        return dict.fromkeys(AIPREF_LABELS, "unknown")
    return content_usage_read(max(matching, key=lambda pair: len(pair[0].encode()))[1])
