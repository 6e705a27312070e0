"""The books in the admin portal: to read, never to edit.

Every ledger model is registered with add, change and delete denied to everyone,
superusers included, and without the bulk delete action: a correction is a reversing
transaction posted by a service, never an edit. Staff with the view permission (and
superusers) can browse accounts with their balances, transactions with their entries,
and the seal chain. Transactions and entries show both their times: when they took
effect in business terms (`effective_at`, the date a statement files them under) and
when they were recorded (`created_at`).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from ledger.models import Account, Entry, SealBlock, Transaction
from ledger.money import micros_format
from ledger.selectors import accounts_with_balances

RECENT_ENTRIES_SHOWN = 20


class ReadOnlyAdminMixin:
    """Deny every write, for everyone; keep viewing."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "kind", "currency", "balance", "owner_type", "owner_id")
    list_filter = ("kind", "currency", "owner_type")
    search_fields = ("code", "name", "owner_id")
    readonly_fields = ("balance", "recent_entries")
    fields = (
        "code",
        "name",
        "kind",
        "currency",
        "owner_type",
        "owner_id",
        "created_at",
        "balance",
        "recent_entries",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        # One query for the page, balances included (checkpoint + tail per account).
        return accounts_with_balances(super().get_queryset(request))

    @admin.display(description="balance", ordering="balance_micros")
    def balance(self, account: Account) -> str:
        return micros_format(int(account.balance_micros), account.currency)

    @admin.display(description=f"latest {RECENT_ENTRIES_SHOWN} entries")
    def recent_entries(self, account: Account) -> str:
        entries = Entry.objects.filter(account=account).select_related("transaction")
        latest = list(entries.order_by("-created_at", "-id")[:RECENT_ENTRIES_SHOWN])
        if not latest:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td>effective {}</td><td>recorded {}</td><td>#{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.effective_at.isoformat(sep=" ", timespec="seconds"),
                    entry.created_at.isoformat(sep=" ", timespec="seconds"),
                    entry.transaction_id,
                    entry.transaction.kind,
                    micros_format(entry.amount_micros, entry.currency),
                )
                for entry in latest
            ),
        )
        return format_html("<table>{}</table>", rows)


class EntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Entry
    fields = ("account", "amount", "currency", "effective_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="amount")
    def amount(self, entry: Entry) -> str:
        return micros_format(entry.amount_micros, entry.currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account")


def _sealed_filter() -> Exists:
    return Exists(
        SealBlock.objects.filter(
            after_transaction_id__lt=OuterRef("pk"), last_transaction_id__gte=OuterRef("pk")
        )
    )


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "effective_at",
        "created_at",
        "kind",
        "reference",
        "idempotency_key",
        "sealed",
    )
    list_filter = ("kind", ("effective_at", admin.DateFieldListFilter))
    search_fields = ("=id", "reference", "idempotency_key")
    inlines = (EntryInline,)
    readonly_fields = ("seal_block", "reversed_by_link")
    fields = (
        "idempotency_key",
        "kind",
        "reference",
        "memo",
        "reverses",
        "reversed_by_link",
        "effective_at",
        "created_at",
        "content_digest",
        "seal_block",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return super().get_queryset(request).annotate(is_sealed=_sealed_filter())

    @admin.display(description="sealed", boolean=True, ordering="is_sealed")
    def sealed(self, row: Transaction) -> bool:
        return row.is_sealed

    @admin.display(description="seal")
    def seal_block(self, row: Transaction) -> str:
        block = SealBlock.objects.filter(
            after_transaction_id__lt=row.pk, last_transaction_id__gte=row.pk
        ).first()
        if block is None:
            return "not sealed yet"
        return f"block {block.number}, hash {block.block_hash}"

    @admin.display(description="reversed by")
    def reversed_by_link(self, row: Transaction) -> str:
        reversal = Transaction.objects.filter(reverses=row.pk).first()
        return f"#{reversal.pk}" if reversal else "-"


@admin.register(SealBlock)
class SealBlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "after_transaction_id",
        "last_transaction_id",
        "transaction_count",
        "entry_count",
        "short_hash",
        "sealed_at",
    )

    @admin.display(description="block hash")
    def short_hash(self, block: SealBlock) -> str:
        return f"{block.block_hash[:16]}…"
