"""What a work's public signals say, decided once so that they never disagree.

Four public signals describe the same thing — whether and how a work may be used by
automated systems: the registry's status, the RSL 1.0 document (`license.xml`), the
W3C TDMRep rules and policy, and the IETF AI-preferences `Content-Usage` field. They
are all rendered from `SIGNALS_BY_STATE`, the one table below from a work's state to
what each vocabulary says, and from the work's active offers; no renderer decides
anything of its own. docs/rsl.md prints the same table with the spec sections.

A work is in one of three states:

- `reserved`: its creator opted it out of all AI use;
- `not_offered`: not reserved, but no active offer covers it (drafts and withdrawn
  offers do not count);
- `licensable`: not reserved and at least one active offer (its own, or a
  collection's) covers it — it is licensable for the uses on offer, and only those.

In every state nothing is granted for free: Accord exists so that use is licensed and
paid for. So the AI-preferences answer is `n` for both categories of the vocabulary,
TDMRep reserves text-and-data-mining rights, and no RSL license is free. A licensable
work adds the way to a license: TDMRep's policy (an ODRL offer with the duty to
compensate) and one paid RSL license per offer. The vocabulary draft says an explicit
agreement overrides a stated preference (draft-ietf-aipref-vocab-07 §5.2), which is
what an Accord license is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from licensing.models import Offer, OfferVersion, Use, Work
from licensing.selectors.works import work_offers_active

STATUS_LICENSABLE = "licensable"
STATUS_RESERVED = "reserved"
STATUS_UNKNOWN = "unknown"


class WorkState(StrEnum):
    RESERVED = "reserved"
    NOT_OFFERED = "not_offered"
    LICENSABLE = "licensable"


# RSL 1.0 usage vocabulary (§3.4.1): `all` is any automated processing, `ai-all` any AI
# use; a list of tokens is space-separated.
RSL_ALL = "all"
RSL_AI_USAGES: tuple[str, ...] = ("ai-train", "ai-input", "ai-index")
# Our uses onto RSL usage tokens. RSL has no separate fine-tuning or evaluation token:
# fine-tuning changes a model's weights (ai-train); evaluation feeds the work to a model
# at inference time (ai-input).
RSL_USAGE: dict[str, str] = {
    Use.AI_TRAIN: "ai-train",
    Use.AI_FINETUNE: "ai-train",
    Use.AI_INPUT: "ai-input",
    Use.AI_EVAL: "ai-input",
}
# The IETF AI-preferences vocabulary, draft-ietf-aipref-vocab-07 §6.1: only these two
# labels exist (the earlier `ai-use` was removed, and unknown labels are ignored).
AIPREF_LABELS: tuple[str, ...] = ("train-ai", "search")


@dataclass(frozen=True)
class StateSignals:
    """What every signal says for a work in one state (docs/rsl.md, "One table")."""

    registry_status: str
    # RSL: usages some license grants without payment (always none), whether there is
    # one paid license per active offer, and what a work without offers prohibits.
    rsl_free_usages: tuple[str, ...]
    rsl_paid_licenses: bool
    rsl_prohibited_without_offers: tuple[str, ...]
    # TDMRep: the reservation, and whether a policy (how to get a license) is named.
    tdm_reservation: int
    tdm_policy: bool
    # IETF AI preferences: label -> y/n for every label of the vocabulary.
    content_usage: tuple[tuple[str, str], ...]

    @property
    def content_usage_field(self) -> str:
        return ", ".join(f"{label}={answer}" for label, answer in self.content_usage)


_NOTHING_FREE = (("train-ai", "n"), ("search", "n"))

SIGNALS_BY_STATE: dict[WorkState, StateSignals] = {
    WorkState.RESERVED: StateSignals(
        registry_status=STATUS_RESERVED,
        rsl_free_usages=(),
        rsl_paid_licenses=False,
        rsl_prohibited_without_offers=(RSL_ALL,),
        tdm_reservation=1,
        tdm_policy=False,
        content_usage=_NOTHING_FREE,
    ),
    WorkState.NOT_OFFERED: StateSignals(
        registry_status=STATUS_RESERVED,
        rsl_free_usages=(),
        rsl_paid_licenses=False,
        rsl_prohibited_without_offers=(RSL_ALL,),
        tdm_reservation=1,
        tdm_policy=False,
        content_usage=_NOTHING_FREE,
    ),
    WorkState.LICENSABLE: StateSignals(
        registry_status=STATUS_LICENSABLE,
        rsl_free_usages=(),
        rsl_paid_licenses=True,
        rsl_prohibited_without_offers=(),
        tdm_reservation=1,
        tdm_policy=True,
        content_usage=_NOTHING_FREE,
    ),
}


def rsl_payment_type(*, pricing: str, use: str) -> str:
    """Name the RSL payment type (§3.7) of an offer's pricing model.

    `flat` and `pool` are paid once for the license's term (`purchase`: one-time;
    `subscription` would mean a recurring charge, which Accord never makes); `per_unit`
    is paid per declared use: `training` for training uses, `use` for input uses.
    """
    if pricing in (OfferVersion.Pricing.FLAT, OfferVersion.Pricing.POOL):
        return "purchase"
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
    state: WorkState
    signals: StateSignals
    licenses: tuple[LicenseTerm, ...]
    # The AI usages no offer covers (a licensable work's licenses prohibit them), or
    # what a work without offers prohibits.
    rsl_prohibited: tuple[str, ...]
    license_url: str
    page_url: str
    policy_url: str

    @property
    def status(self) -> str:
        return self.signals.registry_status

    @property
    def licensable(self) -> bool:
        return self.state == WorkState.LICENSABLE

    @property
    def content_usage(self) -> str:
        return self.signals.content_usage_field

    @property
    def tdm_reservation(self) -> int:
        return self.signals.tdm_reservation

    @property
    def tdm_policy(self) -> str | None:
        return self.policy_url if self.signals.tdm_policy else None


def work_page_path(work: Work) -> str:
    return f"/works/{work.public_id}"


def work_license_path(work: Work) -> str:
    return f"/works/{work.public_id}/license.xml"


def work_policy_path(work: Work) -> str:
    return f"/works/{work.public_id}/tdm-policy.jsonld"


def work_state(work: Work, offers: list[Offer]) -> WorkState:
    if work.reserved:
        return WorkState.RESERVED
    return WorkState.LICENSABLE if offers else WorkState.NOT_OFFERED


def work_terms(work: Work, *, base_url: str) -> WorkTerms:
    """Compute every public signal of one work. `base_url` is our public origin."""
    offers = work_offers_active(work)
    state = work_state(work, offers)
    signals = SIGNALS_BY_STATE[state]
    licenses = tuple(
        LicenseTerm(
            offer=offer,
            version=offer.current_version,
            rsl_usage=RSL_USAGE[offer.use],
            rsl_payment_type=rsl_payment_type(pricing=offer.current_version.pricing, use=offer.use),
        )
        for offer in (offers if signals.rsl_paid_licenses else [])
    )
    if licenses:
        permitted = {term.rsl_usage for term in licenses}
        prohibited = tuple(usage for usage in RSL_AI_USAGES if usage not in permitted)
    else:
        prohibited = signals.rsl_prohibited_without_offers
    return WorkTerms(
        work=work,
        state=state,
        signals=signals,
        licenses=licenses,
        rsl_prohibited=prohibited,
        license_url=base_url + work_license_path(work),
        page_url=base_url + work_page_path(work),
        policy_url=base_url + work_policy_path(work),
    )
