"""The payouts app's HTTP API: thin views over its services and selectors."""
