"""Routes of the `payouts` app, mounted at the URL root by `config.urls`."""

from django.urls import path

from payouts.stripe.views import StripeWebhookView

urlpatterns = [
    path("stripe/webhook", StripeWebhookView.as_view(), name="stripe-webhook"),
]
