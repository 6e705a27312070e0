"""Signing keys for license certificates."""

from django.db import models


class SigningKey(models.Model):
    """One Ed25519 key pair. The newest key without `retired_at` signs; all are published.

    The private half is stored encrypted under `ACCORD_SIGNING_KEY_ENCRYPTION_KEYS`, a
    secret of its own (not `SECRET_KEY`), so a database dump alone, or with
    `SECRET_KEY`, cannot forge certificates (`keys.py`).
    """

    kid = models.CharField(max_length=40, unique=True)
    public_jwk = models.JSONField()
    private_jwk_encrypted = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kid} ({'retired' if self.retired_at else 'signing'})"
