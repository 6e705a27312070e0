"""The portal's statement and earnings pages, mounted under /admin/ before the admin itself.

`config.urls` includes these ahead of `admin.site.urls`, so the admin's catch-all does
not answer them; `admin_view` gives them its login and its frame.
"""

from django.contrib import admin
from django.urls import path

from payouts.portal import views

_STATEMENT = "statements/<str:statement_id>"

urlpatterns = [
    path(
        "statements/",
        admin.site.admin_view(views.statement_list_view),
        name="portal-statements",
    ),
    path(
        f"{_STATEMENT}.csv",
        admin.site.admin_view(views.statement_csv_view),
        name="portal-statement-csv",
    ),
    path(
        f"{_STATEMENT}.pdf",
        admin.site.admin_view(views.statement_pdf_view),
        name="portal-statement-pdf",
    ),
    path(
        f"{_STATEMENT}/",
        admin.site.admin_view(views.statement_detail_view),
        name="portal-statement",
    ),
    path("earnings/", admin.site.admin_view(views.earnings_view), name="portal-earnings"),
]
