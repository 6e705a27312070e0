"""The books: accounts, transactions and entries in integer micros.

Knows nothing of works, licenses or payouts; every other app moves money only by
calling `ledger.services`.
"""
