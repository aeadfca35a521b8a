from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from beffroi.consult import urls as consult_urls
from beffroi.core.forms import ThrottledAdminAuthenticationForm
from beffroi.watch import urls as watch_urls
from beffroi.web.openapi import openapi_json

# The admin's login goes through the same throttling and journaling as the site's, and
# still lets only staff in.
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "Beffroi"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("langue/", set_language, name="set_language"),
    # What scripts may call without an account (docs/formats/http-api.md).
    path("api/openapi.json", openapi_json, name="openapi"),
    path("", include("beffroi.core.urls")),
    # Organisation pages (role-checked with beffroi.core.roles.require).
    path("o/<slug:org>/consultations/", include(consult_urls.urlpatterns)),
    path("o/<slug:org>/veille/", include(watch_urls.urlpatterns)),
    path("o/<slug:org>/audits/", include("beffroi.audits.urls")),
    # Public pages (respondents, bulletin board, partner read-only links).
    path("", include(consult_urls.public_urlpatterns)),
    path("", include(watch_urls.public_urlpatterns)),
]
