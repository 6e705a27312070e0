"""Stripe, inside payouts (Saleor's `payment/gateways/stripe/`): the only package that
imports the `stripe` SDK.

`gateway` (the calls), `signatures` (a webhook's signature), `errors` (its failures),
`results` (the plain dataclasses it hands back), `webhooks` (the inbox: verify, store
once, process once), `views` (the endpoint), `handlers` (what an event does),
`card_payments` (licensing's card port).
"""
