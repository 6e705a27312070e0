"""A local, stateful stand-in for the Stripe API that keeps Stripe's rules.

Accord talks to Stripe through the official `stripe` SDK. Without network (these
machines, CI, the demo) the SDK is pointed here instead (`stripe.api_base` or
`StripeClient(base_addresses={"api": url})`). Unlike a mock, the sandbox keeps
state and enforces what costs money when it is wrong: idempotency keys, balances,
onboarding before transfers, signed webhooks - and it can inject the network
faults that make retries necessary.

Standard library only; imports nothing from Accord or Django. Run it with
`python -m stripe_sandbox --port 12111`, or in-process with `serve_in_thread()`.
See docs/stripe-sandbox.md.
"""

from stripe_sandbox.server import RunningSandbox, SandboxServer, serve_in_thread
from stripe_sandbox.webhooks import signature_header

__all__ = ["RunningSandbox", "SandboxServer", "serve_in_thread", "signature_header"]
