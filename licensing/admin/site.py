"""The portal's name and front page: Accord, not "Django administration".

`site_url` is the front door (`/`), so "View site" leads somewhere. The index page is
`licensing/portal_home.html`: for a creator it opens with their home (balance, this
month's earnings, recent licenses, flagged usage, the works they co-own), read through
`licensing.selectors.portal`; staff see Django's list of models under it.
"""

from __future__ import annotations

from django.contrib import admin

admin.site.site_header = "Accord"
admin.site.site_title = "Accord portal"
admin.site.index_title = "Your portal"
admin.site.site_url = "/"
admin.site.index_template = "licensing/portal_home.html"
