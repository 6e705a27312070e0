"""Routes of the `licensing` app, mounted at the URL root by `config.urls`."""

urlpatterns: list = []
