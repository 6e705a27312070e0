"""The payouts app's admin screens, one module per entity (registered on import)."""

from payouts.admin import royalty_runs  # noqa: F401
