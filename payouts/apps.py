from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payouts"

    def ready(self) -> None:
        # Registers the Stripe event handlers and tasks this app owns (imported once the
        # app registry is ready, as handlers import models).
        from payouts import transfer_events  # noqa: F401
        from payouts.stripe import handlers, tasks  # noqa: F401
