"""What a work's public signals say, computed once so that they never disagree.

Four public signals describe the same thing — whether and how a work may be used by
AI: the registry's status, the RSL document (`license.xml`), the W3C TDMRep rules and
the IETF AI-preferences `Content-Usage` header. Each of them is rendered from the
single `WorkTerms` value that `work_terms()` returns; no renderer decides anything on
its own. docs/rsl.md explains the mapping.

The rules, in short:

- A work is *licensable* when it is not reserved and at least one active offer (its
  own, or its collection's) covers it; otherwise it is *reserved*: an explicit
  opt-out, or simply nothing on offer today. Either way no AI use is permitted
  without a license.
- Accord never permits unlicensed AI use, so the AI-preferences answer is "n" for
  every category it names, for every work. The vocabulary says that a contract
  (here, an Accord license) overrides a stated preference, which is exactly our case.
- TDMRep reserves text-and-data-mining rights for every work; a licensable work adds
  its policy: the URL of its RSL document, where the licenses and prices are.
- RSL lists one `<license>` per active offer, permitting the offer's use for the
  offer's price, and prohibits every AI usage no offer covers (`ai-all` for a
  reserved work).
"""

from __future__ import annotations

from dataclasses import dataclass

from licensing.models import Offer, OfferVersion, Use, Work
from licensing.selectors import work_offers_active

STATUS_LICENSABLE = "licensable"
STATUS_RESERVED = "reserved"
STATUS_UNKNOWN = "unknown"

# Our uses onto RSL 1.0 usage tokens. RSL has no separate fine-tuning or evaluation
# token: fine-tuning changes a model's weights (ai-train); evaluation feeds the work to
# a model at inference time (ai-input).
RSL_USAGE: dict[str, str] = {
    Use.AI_TRAIN: "ai-train",
    Use.AI_FINETUNE: "ai-train",
    Use.AI_INPUT: "ai-input",
    Use.AI_EVAL: "ai-input",
}
# The RSL AI usages a work can be licensed or refused for; `ai-all` names them all.
RSL_AI_USAGES: tuple[str, ...] = ("ai-train", "ai-input", "ai-index")
RSL_AI_ALL = "ai-all"

# Our uses onto the IETF AI-preferences vocabulary (draft-ietf-aipref-vocab).
AIPREF_CATEGORY: dict[str, str] = {
    Use.AI_TRAIN: "train-ai",
    Use.AI_FINETUNE: "train-ai",
    Use.AI_INPUT: "ai-use",
    Use.AI_EVAL: "ai-use",
}
AIPREF_CATEGORIES: tuple[str, ...] = ("train-ai", "ai-use")


def rsl_payment_type(*, pricing: str, use: str) -> str:
    """Name the RSL payment type of an offer's pricing model."""
    if pricing == OfferVersion.Pricing.FLAT:
        return "purchase"
    if pricing == OfferVersion.Pricing.POOL:
        return "subscription"
    return "training" if RSL_USAGE[use] == "ai-train" else "use"


@dataclass(frozen=True)
class LicenseTerm:
    """One way to license the work now: an active offer at its current version."""

    offer: Offer
    version: OfferVersion
    rsl_usage: str
    rsl_payment_type: str


@dataclass(frozen=True)
class WorkTerms:
    work: Work
    status: str
    licenses: tuple[LicenseTerm, ...]
    rsl_prohibited: tuple[str, ...]
    content_usage: str
    tdm_reservation: int
    tdm_policy: str | None
    license_url: str
    page_url: str

    @property
    def licensable(self) -> bool:
        return self.status == STATUS_LICENSABLE


def work_page_path(work: Work) -> str:
    return f"/works/{work.public_id}"


def work_license_path(work: Work) -> str:
    return f"/works/{work.public_id}/license.xml"


def work_terms(work: Work, *, base_url: str) -> WorkTerms:
    """Compute every public signal of one work. `base_url` is our public origin."""
    licenses = tuple(
        LicenseTerm(
            offer=offer,
            version=offer.current_version,
            rsl_usage=RSL_USAGE[offer.use],
            rsl_payment_type=rsl_payment_type(pricing=offer.current_version.pricing, use=offer.use),
        )
        for offer in work_offers_active(work)
    )
    status = STATUS_LICENSABLE if licenses and not work.reserved else STATUS_RESERVED
    if status == STATUS_RESERVED:
        licenses = ()
        prohibited: tuple[str, ...] = (RSL_AI_ALL,)
    else:
        permitted = {term.rsl_usage for term in licenses}
        prohibited = tuple(usage for usage in RSL_AI_USAGES if usage not in permitted)
    # Without a license nothing is permitted, licensable or not (see module docstring).
    content_usage = ", ".join(f"{category}=n" for category in AIPREF_CATEGORIES)
    license_url = base_url + work_license_path(work)
    return WorkTerms(
        work=work,
        status=status,
        licenses=licenses,
        rsl_prohibited=prohibited,
        content_usage=content_usage,
        tdm_reservation=1,
        tdm_policy=license_url if status == STATUS_LICENSABLE else None,
        license_url=license_url,
        page_url=base_url + work_page_path(work),
    )
