from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payouts"

    def ready(self) -> None:
        # Registers the Stripe event handlers this app owns.
        from payouts import payment_events, transfer_events  # noqa: F401
