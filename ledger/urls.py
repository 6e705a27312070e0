"""Routes of the `ledger` app, mounted at the URL root by `config.urls`."""

urlpatterns: list = []
