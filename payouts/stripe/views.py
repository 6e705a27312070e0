"""HTTP views of the payouts app (thin: parse, call a service, render)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from config.errors import error_body
from payouts.stripe.errors import WebhookSignatureInvalid
from payouts.stripe.webhooks import stripe_event_process, stripe_event_receive


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """`POST /stripe/webhook`: Stripe's deliveries, signed with STRIPE_WEBHOOK_SECRET.

    A plain Django view, not DRF: the signature covers the raw body bytes, which must
    reach the verifier untouched. 2xx tells Stripe to stop redelivering; a handler
    failure propagates as a 500 so that Stripe delivers the event again.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            event, created = stripe_event_receive(
                payload=request.body, signature=request.headers.get("Stripe-Signature")
            )
        except WebhookSignatureInvalid as error:
            body = error_body(error_type=error.error_type, code=error.code, message=error.message)
            return JsonResponse(body, status=error.http_status)
        processed = stripe_event_process(stripe_event_id=event.pk)
        return JsonResponse(
            {
                "received": True,
                "id": event.stripe_id,
                "duplicate": not created,
                "processed": processed,
            }
        )
