"""Royalty runs, payout batches, the Stripe gateway, webhooks and reconciliation."""
