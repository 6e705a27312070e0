"""Stored answers to POSTs that carried an `Idempotency-Key`."""

from django.db import models


class IdempotencyRecord(models.Model):
    """One key's claim, then its answer.

    A row exists from the moment a request claims its key (`completed_at` null: in
    flight) until it is purged after the retention period. The unique constraint on
    (scope, key) is what makes two concurrent requests with one key execute once.
    """

    scope_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the credentials the key was sent with."
    )
    key = models.CharField(max_length=255)
    request_digest = models.CharField(
        max_length=64, help_text="SHA-256 of method, path and canonical body."
    )
    locked_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_digest", "key"], name="idempotency_key_once_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({'done' if self.completed_at else 'in flight'})"
