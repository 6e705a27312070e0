"""The simulation's steps: what licensees, creators' money and finance staff do.

Each step goes through Accord's HTTP API (or, for what has no endpoint, the service
an operator's command calls) and records in the world's model what it asked for and
what Accord answered. Faults are armed inside steps (Stripe's answers, the worker's
life, the client sending twice); `world.rng` makes every choice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from licensing.models import License, RightsShare
from payouts.models import PayoutBatch, PayoutItem, RoyaltyRun
from payouts.services.payout_dispatch import PAYABLE_INSUFFICIENT
from payouts.stripe import gateway
from tests.simulation import faults, steps_invoices
from tests.simulation.world import DeclaredEvent, World, month_start

# A copy held in flight by two slow Stripe calls (1.8 s each) keeps its key busy for
# several seconds; a client keeps retrying that long (0.3 s apart) before giving up.
RETRIES_MAX = 40
Step = Callable[[World, Any, Callable[[str], None]], str]


def _post(client: Any, path: str, body: dict | None = None, key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        path, data=json.dumps(body or {}), content_type="application/json", **headers
    )


def _settled(request: Callable[[], Any], *, retry_on: tuple[int, ...] = (503, 409)) -> Any:
    """Resend (the same key) while Stripe is unavailable or the first copy is in flight."""
    for _ in range(RETRIES_MAX):
        response = request()
        if response.status_code not in retry_on:
            return response
        if response.status_code == 409 and "idempotency" not in response.content.decode():
            return response
        time.sleep(0.3)
    raise AssertionError(f"still {response.status_code} after {RETRIES_MAX} tries: {response}")


def _note_licenses(world: World, key: str, answers: list[Any]) -> list[str]:
    ids = [a.json()["id"] for a in answers if a.status_code in (200, 201)]
    assert len(set(ids)) <= 1, f"one request key, several licenses: {ids}"
    if ids:
        world.model.purchases[key] = ids[0]
    return ids


# -- licensees ---------------------------------------------------------------------------


def step_purchase(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Buy a flat license over the API; Stripe faulted; the request sent twice or at once."""
    organization = world.rng.choice(world.organizations)
    held = set(
        License.objects.filter(organization=organization).values_list(
            "offer_version__offer_id", flat=True
        )
    )
    offers = [o for o in world.flat_offers if o.use != world.clearance_use and o.pk not in held]
    if not offers:
        return "purchase: nothing left to buy"
    offer = world.rng.choice(offers)
    armed = faults.arm_stripe_faults(world, runtime.control, "/v1/payment_intents", most=2)
    key = f"s{world.seed}-buy-{len(world.model.purchases)}"
    client = world.clients[organization.pk]
    mode = world.rng.choice(faults.SEND_MODES)
    answers = faults.send(
        mode,
        lambda: _settled(
            lambda: _post(client, "/api/v1/licenses", {"offer": offer.public_id}, key)
        ),
    )
    for answer in answers:
        assert answer.status_code in (200, 201, 409), (answer.status_code, answer.json())
    _note_licenses(world, key, answers)
    # A client that saw an error retries once more with the same key: the same license.
    again = _settled(lambda: _post(client, "/api/v1/licenses", {"offer": offer.public_id}, key))
    _note_licenses(world, key, [*answers, again])
    return f"purchase {organization.billing} {mode} faults={armed}"


def step_clearance(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Clear a manifest for one use and buy it; Stripe faulted; the purchase sent twice."""
    organization = world.rng.choice(world.organizations)
    client = world.clients[organization.pk]
    works = world.rng.sample(world.works, world.rng.randint(1, len(world.works)))
    items = [f"sha256:{work.sha256}" for work in works] + [f"sha256:{'e' * 64}"]
    created = _post(client, "/api/v1/clearances", {"use": world.clearance_use, "items": items})
    assert created.status_code == 201, created.json()
    clearance = created.json()
    armed = faults.arm_stripe_faults(world, runtime.control, "/v1/payment_intents", most=2)
    path = f"/api/v1/clearances/{clearance['id']}/purchase"
    mode = world.rng.choice(faults.SEND_MODES)
    answers = faults.send(mode, lambda: _settled(lambda: _post(client, path)))
    answers.append(_settled(lambda: _post(client, path)))
    bodies = [a.json() for a in answers if a.status_code == 201]
    assert bodies, [a.json() for a in answers]
    assert all(body == bodies[0] for body in bodies), "one clearance, one purchase"
    licenses = [lic if isinstance(lic, str) else lic["id"] for lic in bodies[0]["licenses"]]
    world.model.purchases[f"clearance:{clearance['id']}"] = ",".join(sorted(licenses))
    return f"clearance {organization.billing} {len(licenses)} licenses {mode} faults={armed}"


def _event_time(world: World, license: License, period: str) -> dt.datetime:
    start = max(month_start(period), license.starts_at)
    end = month_start(period) + dt.timedelta(days=27)
    if license.ends_at is not None:
        end = min(end, license.ends_at - dt.timedelta(seconds=1))
    if end <= start:
        end = start
    seconds = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=world.rng.randint(0, max(seconds, 0)))


def _event_for(
    world: World, organization: Any, index: int, period: str | None = None
) -> tuple[dict, DeclaredEvent] | None:
    rng = world.rng
    licenses = [lic for lic in world.rated_licenses if lic.organization_id == organization.pk]
    if not licenses:
        return None
    license = rng.choice(licenses)
    covered = list(license.works.all())
    open_periods = [p for p in world.periods if p not in world.model.closed]
    kind = rng.random()
    work, flagged = rng.choice(covered), False
    if not open_periods or rng.random() < 0.1:
        open_periods = list(world.periods)  # declared late: its month is closed
    period = period or rng.choice(open_periods)
    occurred_at = _event_time(world, license, period)
    if license.ends_at is not None and occurred_at >= license.ends_at:
        flagged = True  # out of term
    if kind < 0.08:
        work, flagged = world.reserved_work, True
    elif kind < 0.14:
        others = [w for w in world.works if w not in covered]
        if others:
            work, flagged = rng.choice(others), True
    elif kind < 0.18:
        occurred_at, flagged = license.starts_at - dt.timedelta(days=rng.randint(1, 20)), True
    unit = "token" if license.offer_version.pricing == "per_unit" else "item"
    event_id = f"s{world.seed}-e{index}"
    units = rng.choice([1, 7, rng.randint(1, 10**6), rng.randint(1, 10**9)])
    body = {
        "id": event_id,
        "license": license.public_id,
        "work": work.public_id,
        "units": units,
        "unit": unit,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
    }
    declared = DeclaredEvent(
        organization.pk, event_id, license.pk, work.pk, units, occurred_at, flagged
    )
    return body, declared


def step_usage(
    world: World, runtime: Any, check: Callable[[str], None], *, period: str | None = None
) -> str:
    """Declare a batch with duplicates (in the batch and from before); sent twice or at once.

    `period`: every new event in that month (the prologue's usage of the first month).
    """
    organization = world.rng.choice(world.organizations)
    model = world.model
    batch: list[dict] = []
    fresh: list[DeclaredEvent] = []
    for _ in range(world.rng.randint(1, 8)):
        made = _event_for(world, organization, len(model.events) + len(fresh), period)
        if made is None:
            break
        body, declared = made
        batch.append(body)
        fresh.append(declared)
    if not batch:
        return "usage: every period closed"
    sent_before = [e for e in model.events.values() if e.organization_id == organization.pk]
    if sent_before and world.rng.random() < 0.6:  # a retry of an earlier batch's event
        old = world.rng.choice(sent_before)
        batch.append(world.last_bodies[(old.organization_id, old.event_id)])
    if world.rng.random() < 0.5:  # the same id twice in one batch: the first wins
        batch.append(dict(batch[0], units=batch[0]["units"] + 1))
    client = world.clients[organization.pk]
    mode = world.rng.choice(faults.SEND_MODES)
    answers = faults.send(mode, lambda: _post(client, "/api/v1/usage", {"events": batch}))
    for answer in answers:
        assert answer.status_code in (200, 201, 202), (answer.status_code, answer.json())
    accepted = sum(answer.json()["accepted"] for answer in answers)
    new = [e for e in fresh if (e.organization_id, e.event_id) not in model.events]
    assert accepted == len(new), f"{accepted} accepted, {len(new)} new ids declared"
    for declared, body in zip(fresh, batch, strict=False):
        model.events[(declared.organization_id, declared.event_id)] = declared
        world.last_bodies[(declared.organization_id, declared.event_id)] = body
        if declared.period in model.closed:
            declared.late = True
            if not declared.flagged:
                slot = (
                    declared.license_id,
                    declared.work_id,
                    model.next_open_period(declared.period),
                )
                model.adjustments[slot] = model.adjustments.get(slot, 0) + declared.units
    return f"usage {len(batch)} events ({len(new)} new) {mode}"


def step_correction(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Correct an earlier event: amended while its period is open, adjusted once closed."""
    model = world.model
    candidates = [e for e in model.events.values() if not e.flagged]
    if not candidates:
        return "correction: nothing declared yet"
    event = world.rng.choice(candidates)
    units = world.rng.choice([0, event.units // 2, event.units + world.rng.randint(1, 5_000)])
    return _correct(world, event, units)


def _correct(world: World, event: DeclaredEvent, units: int) -> str:
    """Send one correction (once, twice or at once) and book it in the model."""
    model = world.model
    organization = next(o for o in world.organizations if o.pk == event.organization_id)
    body = {"corrections": [{"id": event.event_id, "units": units, "reason": "recount"}]}
    client = world.clients[organization.pk]
    mode = world.rng.choice(faults.SEND_MODES)
    answers = faults.send(mode, lambda: _post(client, "/api/v1/usage/corrections", body))
    for answer in answers:
        assert answer.status_code in (200, 201), (answer.status_code, answer.json())
    delta = units - event.units
    if event.period in model.closed and delta:
        counts_in = model.next_open_period(event.period)
        slot = (event.license_id, event.work_id, counts_in)
        model.adjustments[slot] = model.adjustments.get(slot, 0) + delta
        late = f"late, into {counts_in}"
    else:
        late = "amended"
    event.units = units
    return f"correction {late} delta={delta} {mode}"


# -- finance -----------------------------------------------------------------------------


def _run(world: World, run_id: str) -> dict:
    response = world.finance_clients[0].get(f"/api/v1/royalty-runs/{run_id}")
    assert response.status_code == 200, response.json()
    return response.json()


def step_royalty_run(
    world: World,
    runtime: Any,
    check: Callable[[str], None],
    *,
    period: str | None = None,
    then: Callable[[], Any] | None = None,
) -> str:
    """Start, (re)compute, approve and post a past month's run; the worker maybe killed;
    the card organisation's card maybe declining when its invoice is charged.

    `then` is called right after the approval, while the worker starts posting (a
    payout batch dispatched at the same moment races the run's postings).
    """
    model = world.model
    unposted = [p for p in world.periods if p not in model.closed]
    if not unposted:
        return "royalty run: every month posted"
    # Finance closes months in order, mostly; now and then a later one first.
    chosen = unposted[0] if world.rng.random() < 0.8 else world.rng.choice(unposted)
    period = period or chosen
    if period in model.closed:
        return f"royalty run: {period} closed already"
    finance = world.finance_clients
    mode = world.rng.choice(faults.SEND_MODES)
    answers = faults.send(
        mode, lambda: _post(finance[0], "/api/v1/royalty-runs", {"period": period})
    )
    ids = {a.json()["id"] for a in answers}
    assert all(a.status_code in (200, 201, 202) for a in answers), [a.json() for a in answers]
    assert len(ids) == 1, f"one run per period, got {ids}"
    run_id = ids.pop()
    done = ("computed", "failed")
    runtime.wait_for(lambda: _run(world, run_id)["status"] in done, what=f"{run_id} computed")
    assert _run(world, run_id)["status"] == "computed", _run(world, run_id)
    if period not in model.closed:  # computing closed the month's usage
        model.closed.add(period)
        rated: dict[tuple[int, int], int] = {}
        for event in model.events.values():
            if event.period == period and not event.flagged and not event.late:
                slot = (event.license_id, event.work_id)
                rated[slot] = rated.get(slot, 0) + event.units
        world.units_at_post[period] = rated
    notes = []
    if world.rng.random() < 0.3:  # the licensee declares while finance reviews the run
        notes.append(world.rng.choice([step_usage, step_correction])(world, runtime, check))
    if world.rng.random() < 0.4:  # usage corrected meanwhile: compute again
        notes.append(step_usage(world, runtime, check))
        answer = _post(finance[0], f"/api/v1/royalty-runs/{run_id}/recompute")
        assert answer.status_code in (200, 202), answer.json()
        runtime.wait_for(lambda: _run(world, run_id)["status"] in done, what="recomputed")
        assert _run(world, run_id)["status"] == "computed", _run(world, run_id)
        notes.append("recomputed")
    declining = steps_invoices.card_decline_arm(world)
    answer = _post(finance[0], f"/api/v1/royalty-runs/{run_id}/approve")
    assert answer.status_code in (200, 202), answer.json()
    if answer.json()["status"] == "computed":  # four eyes
        answer = _post(finance[1], f"/api/v1/royalty-runs/{run_id}/approve")
        assert answer.status_code in (200, 202), answer.json()
    if then is not None:
        then()
    if world.rng.random() < 0.3:
        time.sleep(world.rng.choice([0.0, 0.2, 0.5]))
        runtime.worker_kill_and_restart()
        check("after the worker was killed while posting")
        notes.append("worker killed")
    posted = RoyaltyRun.Status.POSTED
    runtime.wait_for(
        lambda: (
            RoyaltyRun.objects.filter(public_id=run_id, status=posted).exists() or runtime.beat()
        ),
        what=f"{run_id} posted",
        timeout_seconds=90,
    )
    model.posted_runs[period] = RoyaltyRun.objects.get(public_id=run_id).pk
    if declining:
        notes.append(steps_invoices.card_decline_settle(world, runtime, model.posted_runs[period]))
    return f"royalty run {period} {mode} {' '.join(notes)}"


def _batch(world: World, batch_id: str) -> dict:
    response = world.finance_clients[0].get(f"/api/v1/payout-batches/{batch_id}")
    assert response.status_code == 200, response.json()
    return response.json()


def step_payout_batch(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Draft, approve and dispatch a batch; Stripe faulted; dispatched twice; worker killed."""
    finance = world.finance_clients
    created = _post(finance[0], "/api/v1/payout-batches", {"currency": "eur"})
    if created.status_code == 409:
        return f"payout batch: {created.json()['error']['code']}"
    assert created.status_code == 201, created.json()
    batch_id = created.json()["id"]
    if not PayoutItem.objects.filter(batch__public_id=batch_id).exists():
        return "payout batch: nobody to pay"
    notes = []
    late = world.rng_added.random() < 0.4
    racing = late and world.rng_added.random() < 0.5
    if late and not racing:
        notes.append(_late_debit(world, runtime, check, batch_id))
    answer = _post(finance[0], f"/api/v1/payout-batches/{batch_id}/approve")
    assert answer.status_code == 200, answer.json()
    if answer.json()["status"] == "draft":
        answer = _post(finance[1], f"/api/v1/payout-batches/{batch_id}/approve")
        assert answer.status_code == 200, answer.json()
    if racing:  # the run's negative adjustment posts while the batch's items are claimed
        path = f"/api/v1/payout-batches/{batch_id}/dispatch"
        race = lambda: _post(finance[0], path)  # noqa: E731
        notes.append("racing " + _late_debit(world, runtime, check, batch_id, then=race))
    armed = faults.arm_stripe_faults(world, runtime.control, "/v1/transfers", most=4)
    mode = world.rng.choice(faults.SEND_MODES)
    clients = iter([finance[0], finance[1]])

    def dispatch() -> Any:
        return _post(next(clients, finance[0]), f"/api/v1/payout-batches/{batch_id}/dispatch")

    answers = faults.send(mode, dispatch)
    assert all(a.status_code == 202 for a in answers), [a.json() for a in answers]
    if world.rng.random() < 0.35:
        time.sleep(world.rng.choice([0.1, 0.4, 1.0]))
        runtime.worker_kill_and_restart(pause_seconds=world.rng.choice([0.2, 2.0]))
        check("after the worker was killed while dispatching")
        notes.append("worker killed")
    finished = {PayoutBatch.Status.COMPLETED, PayoutBatch.Status.COMPLETED_WITH_FAILURES}
    runtime.wait_for(
        lambda: _batch(world, batch_id)["status"] in finished or runtime.beat(),
        what=f"{batch_id} finished",
        timeout_seconds=90,
    )
    failed = PayoutItem.objects.filter(batch__public_id=batch_id, status="failed")
    short = failed.filter(failure_code=PAYABLE_INSUFFICIENT).count()
    return (
        f"payout batch {mode} faults={armed} failed={failed.count()}"
        f" (payable_insufficient={short}) {' '.join(notes)}"
    )


def _late_debit(
    world: World,
    runtime: Any,
    check: Callable[[str], None],
    batch_id: str,
    then: Callable[[], Any] | None = None,
) -> str:
    """Between the draft and the dispatch (or, with `then`, as the batch is dispatched): a
    batch creator's usage of a posted month is recounted down, and the next open month's
    run posts that negative adjustment."""
    model = world.model
    creators = set(
        PayoutItem.objects.filter(batch__public_id=batch_id).values_list("creator_id", flat=True)
    )
    owned = set(
        RightsShare.objects.filter(creator_id__in=creators).values_list("work_id", flat=True)
    )
    per_unit = {lic.pk for lic in world.rated_licenses if lic.offer_version.pricing == "per_unit"}
    events = [
        e
        for e in model.events.values()
        if not e.flagged
        and e.units > 0
        and e.work_id in owned
        and e.license_id in per_unit
        and e.period in model.closed
        and model.next_open_period(e.period) in world.periods
    ]
    if not events:
        if then is not None:
            then()
        return "late debit: no recountable event"
    event = world.rng.choice(events)
    counts_in = model.next_open_period(event.period)
    note = _correct(world, event, world.rng.choice([0, event.units // 10]))
    run = step_royalty_run(world, runtime, check, period=counts_in, then=then)
    return f"late debit ({note}; {run})"


def step_retry_failed(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Finance retries the failed items (after a top-up, say)."""
    items = list(PayoutItem.objects.filter(status="failed").select_related("batch"))
    if not items:
        return "retry: nothing failed"
    item = world.rng.choice(items)
    path = f"/api/v1/payout-batches/{item.batch.public_id}/items/{item.public_id}/retry"
    answers = faults.send(
        world.rng.choice(faults.SEND_MODES), lambda: _post(world.finance_clients[0], path)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes[0] in (200, 202, 409), [a.json() for a in answers]
    return f"retry {codes}"


def step_topup(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Finance funds the Stripe balance (outside the books, as on Stripe)."""
    amount = world.rng.randint(1_000, 50_000)
    gateway.topup_create(
        amount=amount,
        currency="eur",
        idempotency_key=f"s{world.seed}-topup-{world.model.topups_minor}",
    )
    world.model.topups_minor += amount
    return f"topup {amount}"


def step_webhook_fault(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """The next events arrive twice, late or out of order."""
    return faults.arm_webhook_fault(world, runtime.control)


def step_transfer_reversed(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Somebody reverses part of a paid transfer at Stripe (its dashboard)."""
    items = list(PayoutItem.objects.filter(status="paid").exclude(transfer_id=""))
    if not items:
        return "reversal: nothing paid yet"
    item = world.rng.choice(items)
    transfer = runtime.stripe.v1.transfers.retrieve(item.transfer_id)
    left = transfer.amount - transfer.amount_reversed
    if left <= 0:
        return "reversal: that transfer is reversed already"
    amount = world.rng.randint(1, left)
    runtime.stripe.v1.transfers.reversals.create(
        item.transfer_id, {"amount": amount}, {"idempotency_key": f"rev-{item.public_id}-{amount}"}
    )
    return f"transfer reversed {amount} of {item.amount}"


STEPS: tuple[tuple[Step, int], ...] = (
    (step_purchase, 3),
    (step_clearance, 1),
    (step_usage, 5),
    (step_correction, 3),
    (step_royalty_run, 2),
    (step_payout_batch, 3),
    (step_retry_failed, 1),
    (step_topup, 1),
    (step_webhook_fault, 2),
    (step_transfer_reversed, 1),
    (steps_invoices.step_invoice_retry, 1),
)


def step_choose(world: World) -> Step:
    steps, weights = zip(*STEPS, strict=True)
    return world.rng.choices(steps, weights=weights)[0]


def now() -> dt.datetime:
    return timezone.now()
