from django.contrib import admin

from config.admin_mixins import ReadOnlyAdminMixin
from licensing.certificates.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Keys are made by `signing_key_rotate`, never typed in; the private half is never shown."""

    list_display = ("kid", "created_at", "retired_at")
    fields = ("kid", "public_jwk", "created_at", "retired_at")
    readonly_fields = fields
