"""Routes of the `payouts` app, mounted at the URL root by `config.urls`."""

urlpatterns: list = []
