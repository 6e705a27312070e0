"""The invariants, checked from outside: SQL on Accord's tables and the sandbox's API.

None of these reads Accord's own counters (a batch's totals, a run's totals, a
receipt): the ledger is summed from `ledger_entry`, Stripe's side is listed through
the SDK, and usage is compared with the simulation's own model of what it declared.

`ledger_checks` hold at any instant (inside a step, right after a worker was
killed); `all_checks` hold at rest, after every step. `EXTRA_CHECKS` is where the
statements (h16s: every statement's closing balance equals the ledger) and invoices
(h16i: an invoice's total equals its run's gross) plug in, as functions of the world.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import defaultdict
from collections.abc import Callable
from fractions import Fraction
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import connection

from ledger.money import minor_to_micros
from licensing.models import License, UsageEvent, UsageEventKey
from payouts.models import PayoutItem, RoyaltyLine, StripeEvent
from payouts.selectors.reconciliation import reconciliation_for_date
from tests.simulation.invariants_payouts import (
    check_invoices_charged_once,
    check_no_payout_overdraws_a_payable,
)
from tests.simulation.world import World, month_start, period_after

EUR = "eur"
MICROS_PER_CENT = 10_000


def _sql(query: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def balances_by_name() -> dict[tuple[str, str], int]:
    """Sum of entries per (account name, currency), straight from the tables.

    The name is the code's second-to-last part (`platform:stripe_balance:eur`,
    `creator:{id}:payable:eur`), the ledger's rule for codes.
    """
    rows = _sql(
        "SELECT a.code, e.currency, COALESCE(SUM(e.amount_micros), 0)"
        " FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id"
        " GROUP BY a.code, e.currency"
    )
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for code, currency, total in rows:
        totals[(code.split(":")[-2], currency)] += int(total)
    return dict(totals)


def check_trial_balance_zero() -> None:
    rows = _sql("SELECT currency, SUM(amount_micros) FROM ledger_entry GROUP BY currency")
    unbalanced = {currency: int(total) for currency, total in rows if total != 0}
    assert not unbalanced, f"trial balance off: {unbalanced}"
    per_transaction = _sql(
        "SELECT transaction_id, currency FROM ledger_entry GROUP BY transaction_id, currency"
        " HAVING SUM(amount_micros) <> 0 LIMIT 5"
    )
    assert not per_transaction, f"transactions that do not balance: {per_transaction}"


def check_ledger_verify() -> None:
    call_command("ledger_seal", stdout=StringIO())
    out = StringIO()
    call_command("ledger_verify", stdout=out, stderr=out)  # raises CommandError on a mismatch


def check_items_have_at_most_one_open_claim() -> None:
    """An item is in transit exactly while it is submitted: the ledger says the same."""
    in_transit = balances_by_name().get(("payouts_in_transit", EUR), 0)
    submitted = sum(PayoutItem.objects.filter(status="submitted").values_list("amount", flat=True))
    assert -in_transit == minor_to_micros(submitted, EUR), (in_transit, submitted)


def ledger_checks() -> None:
    check_trial_balance_zero()
    check_items_have_at_most_one_open_claim()
    check_no_payout_overdraws_a_payable()


# -- Stripe's side -----------------------------------------------------------------------


def _all(listing: Callable[[dict], Any]) -> list[Any]:
    found, params = [], {"limit": 100}
    for _ in range(1_000):
        page = listing(params)
        found += page.data
        if not page.has_more:
            return found
        params = {"limit": 100, "starting_after": page.data[-1].id}
    raise AssertionError("unbounded list")


def check_stripe_matches_ledger(world: World, runtime: Any) -> None:
    sdk = runtime.stripe.v1
    transfers = _all(sdk.transfers.list)
    charges = _all(sdk.charges.list)
    by_item: dict[str, list[Any]] = defaultdict(list)
    for transfer in transfers:
        by_item[transfer.metadata.to_dict().get("accord_payout_item", "")].append(transfer)
    twice = {item: len(found) for item, found in by_item.items() if len(found) > 1}
    assert not twice, f"payout items with more than one transfer: {twice}"
    for item in PayoutItem.objects.all():
        found = by_item.get(item.public_id, [])
        if item.status in ("paid", "reversed"):
            assert len(found) == 1, (item.public_id, found)
            assert found[0].id == item.transfer_id, (item.public_id, found)
            assert found[0].amount == item.amount, (item.amount, found[0].amount)
        else:
            assert not found, f"{item.public_id} is {item.status} but Stripe paid it: {found}"
    paid_out = sum(t.amount - t.amount_reversed for t in transfers)
    charged = sum(c.amount - c.amount_refunded for c in charges if c.status == "succeeded")
    balances = balances_by_name()
    stripe_balance = balances.get(("stripe_balance", EUR), 0)
    assert stripe_balance == minor_to_micros(charged - paid_out, EUR), (
        f"ledger's Stripe balance {stripe_balance} vs charges {charged} - paid out {paid_out}"
    )
    available = runtime.stripe.v1.balance.retrieve().available
    sandbox_eur = sum(b.amount for b in available if b.currency == EUR)
    assert sandbox_eur - world.model.topups_minor == charged - paid_out, (sandbox_eur, charged)
    # Money in = payables + pools + commission + in transit + paid out, to the micro.
    receivable = balances.get(("receivable", EUR), 0)
    owed = -sum(
        balances.get((name, EUR), 0)
        for name in ("payable", "pool", "commission", "payouts_in_transit")
    )
    money_in = minor_to_micros(charged, EUR) + receivable
    assert money_in == owed + minor_to_micros(paid_out, EUR), (
        f"money in {money_in} != owed {owed} + paid out {minor_to_micros(paid_out, EUR)}"
    )
    day = runtime.today()
    differences = reconciliation_for_date(day=day).differences
    assert differences == [], f"reconciliation of {day}: {differences}"


def check_licenses_once(world: World) -> None:
    """Each request key bought one license; nothing was granted that nobody asked for."""
    held = set(
        License.objects.filter(organization__in=world.organizations).values_list(
            "public_id", flat=True
        )
    )
    asked = {lic.public_id for lic in world.rated_licenses}
    for licenses in world.model.purchases.values():
        asked |= {lic for lic in licenses.split(",") if lic}
    assert held == asked, f"granted not asked {held - asked}, asked not granted {asked - held}"


def check_webhooks_once() -> None:
    assert not StripeEvent.objects.filter(processed_at__isnull=True).exists()
    table = StripeEvent._meta.db_table
    rows = _sql(f"SELECT stripe_id FROM {table} GROUP BY stripe_id HAVING COUNT(*) > 1")
    assert not rows, f"events stored twice: {rows}"


# -- usage -------------------------------------------------------------------------------


def check_usage_counted_once(world: World) -> None:
    """Every id the simulation declared is stored once, with the units it last said."""
    model = world.model
    for organization in world.organizations:
        expected = {
            e.event_id for e in model.events.values() if e.organization_id == organization.pk
        }
        stored = UsageEventKey.objects.filter(organization=organization).count()
        assert stored == len(expected), (
            f"{organization.slug}: {stored} keys, declared {len(expected)}"
        )
    stored_units: dict[tuple[int, str], tuple[int, bool]] = {
        (org, event_id): (units, flag is not None)
        for org, event_id, units, flag in UsageEvent.objects.values_list(
            "organization_id", "event_id", "units", "flag"
        )
    }
    for key, event in model.events.items():
        original = stored_units.get(key)
        assert original is not None, f"declared {key} is not stored"
        assert original[1] == event.flagged, (
            f"{key}: flagged {original[1]}, expected {event.flagged}"
        )
        if event.period not in model.closed or event.flagged:
            assert original[0] == event.units, (
                f"{key}: stored {original[0]}, last said {event.units}"
            )


def _rate_micros(units: int, rate: Fraction) -> int:
    """units x rate (minor unit) in micros, rounded once, half to even (the oracle)."""
    exact = rate * units * MICROS_PER_CENT
    floor = exact.numerator // exact.denominator
    remainder = exact - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


def _events_differing(world: World, period: str, license_id: int, work_id: int) -> list:
    """The events of one (license, work, period) whose stored units differ from the model's."""
    stored = dict(
        UsageEvent.objects.filter(
            license_id=license_id, work_id=work_id, period=period, flag__isnull=True
        ).values_list("event_id", "units")
    )
    modelled = {
        e.event_id: (e.units, e.late)
        for e in world.model.events.values()
        if (e.license_id, e.work_id, e.period) == (license_id, work_id, period) and not e.flagged
    }
    return [
        (event_id, stored.get(event_id), modelled.get(event_id))
        for event_id in sorted(set(stored) | set(modelled))
        if stored.get(event_id) != (modelled.get(event_id) or (None,))[0]
    ]


def check_runs_rated_every_unit_once(world: World) -> None:
    """Each posted run rated exactly the units the model says its month holds."""
    model = world.model
    licenses = {lic.pk: lic for lic in world.rated_licenses}
    for period, run_id in model.posted_runs.items():
        expected: dict[tuple[int, int], int] = defaultdict(int)
        units_at_post = world.units_at_post[period]
        for (license_id, work_id), units in units_at_post.items():
            expected[(license_id, work_id)] += units
        lines: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0])
        for license_id, work_id, kind, units, gross in RoyaltyLine.objects.filter(
            run_id=run_id
        ).values_list("license_id", "work_id", "kind", "units", "gross_micros"):
            slot = lines[(license_id, work_id, kind)]  # one line per co-owner, same units
            slot[0] = units
            slot[1] += gross
        for (license_id, work_id), units in expected.items():
            license = licenses[license_id]
            kind = "per_unit" if license.offer_version.pricing == "per_unit" else "pool"
            got_units = lines.get((license_id, work_id, kind), [0, 0])[0]
            if kind == "per_unit":
                rate = Fraction(license.offer_version.unit_amount_decimal)
                got = lines.get((license_id, work_id, kind), [0, 0])
                lineless = units == 0
                assert lineless or got == [units, _rate_micros(units, rate)], (
                    f"{period} license {license_id} work {work_id}: lines {got},"
                    f" expected {units} units = {_rate_micros(units, rate)} micros;"
                    f" {_events_differing(world, period, license_id, work_id)}"
                )
            else:
                assert got_units in (0, units), (period, license_id, work_id, got_units, units)
        for (license_id, work_id, counts_in), delta in model.adjustments.items():
            if counts_in != period or not delta:
                continue
            got = lines.get((license_id, work_id, "adjustment"), [0, 0])
            license = licenses[license_id]
            if license.offer_version.pricing == "per_unit":
                rate = Fraction(license.offer_version.unit_amount_decimal)
                assert got == [delta, _rate_micros(delta, rate)], (period, license_id, got, delta)


def check_units_conserved(world: World) -> None:
    """Every unit declared in a posted month is rated once: in its month's run, or as an
    adjustment of a later posted run, or it waits as an adjustment of an open month."""
    model = world.model
    posted = set(model.posted_runs)
    rated: dict[tuple[int, int], int] = defaultdict(int)
    per_run: dict[tuple[int, int, int, str], int] = {}
    for run_id, license_id, work_id, kind, units in RoyaltyLine.objects.filter(
        run_id__in=model.posted_runs.values(), kind__in=("per_unit", "adjustment")
    ).values_list("run_id", "license_id", "work_id", "kind", "units"):
        per_run[(run_id, license_id, work_id, kind)] = units  # one line per co-owner
    for (_, license_id, work_id, _), units in per_run.items():
        rated[(license_id, work_id)] += units
    expected: dict[tuple[int, int], int] = defaultdict(int)
    per_unit = {lic.pk for lic in world.rated_licenses if lic.offer_version.pricing == "per_unit"}
    for event in model.events.values():
        if event.license_id in per_unit and not event.flagged and event.period in posted:
            expected[(event.license_id, event.work_id)] += event.units
    for (license_id, work_id, counts_in), delta in model.adjustments.items():
        if license_id in per_unit and counts_in not in posted:
            expected[(license_id, work_id)] -= delta  # declared, waiting for its month
    for slot in set(expected) | set(rated):
        assert rated.get(slot, 0) == expected.get(slot, 0), (
            f"license {slot[0]} work {slot[1]}: posted runs rated {rated.get(slot, 0)} units,"
            f" the posted months hold {expected.get(slot, 0)}"
        )


def check_pools_given_out(world: World) -> None:
    """A pool whose whole term lies in posted months has given out every micro."""
    balances = {
        code: int(total)
        for code, total in _sql(
            "SELECT a.code, COALESCE(SUM(e.amount_micros), 0) FROM ledger_account a"
            " LEFT JOIN ledger_entry e ON e.account_id = a.id"
            " WHERE a.code LIKE 'license:%%:pool:%%'"
            " GROUP BY a.code"
        )
    }
    for license in world.rated_licenses:
        if license.offer_version.pricing != "pool" or license.ends_at is None:
            continue
        period, posted = license.starts_at.strftime("%Y-%m"), True
        while month_start(period) < license.ends_at:
            posted = posted and period in world.model.posted_runs
            period = period_after(period)
        if posted:
            code = f"license:{license.public_id}:pool:{license.currency}"
            assert balances.get(code, 0) == 0, f"{code} keeps {balances.get(code)} micros"


# -- statements and invoices: from the same tables, never from their selectors' sums --


def _module(name: str) -> Any:
    """The module if this checkout has it (statements and invoices land from h16s/h16i)."""
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def check_statements_close_on_the_ledger(world: World, runtime: Any) -> None:
    """Every creator's statement of a month closes on the payable's SQL sum at its end
    (entries effective up to the first instant of the next month, where runs post)."""
    statements = _module("payouts.selectors.statements")
    if statements is None:
        return
    for period in world.periods:
        end = month_start(period_after(period))
        for creator in world.creators:
            code = f"creator:{creator.public_id}:payable:{EUR}"
            closing = -sum(
                int(total)
                for (total,) in _sql(
                    "SELECT COALESCE(SUM(e.amount_micros), 0) FROM ledger_entry e"
                    " JOIN ledger_account a ON a.id = e.account_id"
                    " WHERE a.code = %s AND e.effective_at <= %s",
                    (code, end),
                )
            )
            statement = statements.statement_for(creator=creator, period=period, currency=EUR)
            assert statement.closing_micros == closing, (
                f"{creator.public_id} {period}: statement closes on {statement.closing_micros},"
                f" the ledger on {closing}"
            )


def check_invoices_total_their_runs_gross(world: World, runtime: Any) -> None:
    """Every invoice totals its items, its usage items are its run's billed gross for the
    organisation to the micro, and no posted run's billed gross is left off an invoice."""
    if _module("payouts.models.invoices") is None:
        return
    billed = ("per_unit", "minimum", "adjustment")
    items = {
        invoice_id: (int(total), int(items_sum), int(usage_sum))
        for invoice_id, total, items_sum, usage_sum in _sql(
            "SELECT i.id, i.total_micros, COALESCE(SUM(t.amount_micros), 0),"
            " COALESCE(SUM(t.amount_micros) FILTER (WHERE t.kind <> 'purchase'), 0)"
            " FROM payouts_invoice i LEFT JOIN payouts_invoiceitem t ON t.invoice_id = i.id"
            " GROUP BY i.id"
        )
    }
    for invoice_id, (total, items_sum, _) in items.items():
        assert total == items_sum, f"invoice {invoice_id} totals {total}, its items {items_sum}"
    invoices = {
        (run_id, organization_id, currency): invoice_id
        for invoice_id, run_id, organization_id, currency in _sql(
            "SELECT id, run_id, organization_id, currency FROM payouts_invoice"
        )
    }
    for run_id, organization_id, currency, gross in _sql(
        "SELECT l.run_id, c.organization_id, l.currency, SUM(l.gross_micros)"
        " FROM payouts_royaltyline l JOIN payouts_royaltyrun r ON r.id = l.run_id"
        " JOIN licensing_license c ON c.id = l.license_id"
        " WHERE r.status = 'posted' AND l.kind = ANY(%s)"
        " GROUP BY l.run_id, c.organization_id, l.currency",
        (list(billed),),
    ):
        invoice_id = invoices.get((run_id, organization_id, currency))
        billed_on_invoice = items[invoice_id][2] if invoice_id is not None else 0
        assert billed_on_invoice == int(gross), (
            f"run {run_id}, organisation {organization_id}: gross {gross} micros billed,"
            f" {billed_on_invoice} on its invoice"
        )


EXTRA_CHECKS: list[Callable[[World, Any], None]] = [
    check_statements_close_on_the_ledger,
    check_invoices_total_their_runs_gross,
    check_invoices_charged_once,
]


def all_checks(world: World, runtime: Any) -> None:
    ledger_checks()
    check_ledger_verify()
    check_stripe_matches_ledger(world, runtime)
    check_licenses_once(world)
    check_webhooks_once()
    check_usage_counted_once(world)
    check_runs_rated_every_unit_once(world)
    check_units_conserved(world)
    check_pools_given_out(world)
    for check in EXTRA_CHECKS:
        check(world, runtime)
