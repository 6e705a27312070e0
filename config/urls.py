"""The URL root: each app owns its own `urls.py`; this file only mounts them."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from config.api.schema_view import SchemaApi
from config.front_door import FrontDoorView
from config.health import healthz

urlpatterns = [
    path("", FrontDoorView.as_view(), name="front-door"),
    path("favicon.ico", RedirectView.as_view(url=static("accord/favicon.svg"), permanent=True)),
    path("healthz", healthz, name="healthz"),
    # Pages of the portal that have no model (a creator's statements and earnings); ahead
    # of the admin, whose catch-all would answer them 404.
    path("admin/", include("payouts.portal.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SchemaApi.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("ledger.urls")),
    path("", include("licensing.urls")),
    path("", include("licensing.certificates.urls")),
    path("", include("payouts.urls")),
]

handler400 = "config.api.exceptions.bad_request"
handler403 = "config.api.exceptions.permission_denied"
handler404 = "config.api.exceptions.not_found"
handler500 = "config.api.exceptions.server_error"
