"""The Stripe webhook endpoint (thin: verify and store, queue the processing, answer)."""

from __future__ import annotations

import logging
from typing import Any

from celery.result import EagerResult
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from config.errors import error_body
from payouts.stripe.errors import WebhookSignatureInvalid
from payouts.stripe.tasks import stripe_event_process_task
from payouts.stripe.webhooks import stripe_event_receive

logger = logging.getLogger("accord.payouts.webhooks")


def _processing_queue(stripe_event_id: int, outcome: dict[str, Any]) -> None:
    """Send the event's processing to Celery; note whether it already ran (eager mode)."""
    try:
        result = stripe_event_process_task.delay(stripe_event_id)
    except Exception:
        # Without a broker (the embedded default) the task runs right here. Its failure
        # is for the retry to mend (the beat job), not a 500 for Stripe to redeliver.
        logger.exception("processing Stripe event %s failed; it stays pending", stripe_event_id)
        return
    outcome["processed"] = isinstance(result, EagerResult) and result.result is True


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """`POST /stripe/webhook`: Stripe's deliveries, signed with STRIPE_WEBHOOK_SECRET.

    A plain Django view, not DRF: the signature covers the raw body bytes, which must
    reach the verifier untouched. A verified event is stored once and answered 200 at
    once; its processing is a Celery task queued when the stored row commits, so no
    request waits on Stripe or holds a lock while Stripe answers. `processed` says
    whether that task had already run when the answer was written (only without a
    broker, where Celery runs tasks in the caller's process).
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        outcome = {"processed": False}
        try:
            with transaction.atomic():
                event, created = stripe_event_receive(
                    payload=request.body, signature=request.headers.get("Stripe-Signature")
                )
                if event.processed_at is None:
                    transaction.on_commit(lambda: _processing_queue(event.pk, outcome))
        except WebhookSignatureInvalid as error:
            body = error_body(error_type=error.error_type, code=error.code, message=error.message)
            return JsonResponse(body, status=error.http_status)
        return JsonResponse(
            {
                "received": True,
                "id": event.stripe_id,
                "duplicate": not created,
                "processed": outcome["processed"],
            }
        )
