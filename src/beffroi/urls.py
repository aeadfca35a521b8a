from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from beffroi.core.forms import ThrottledAuthenticationForm

# The admin's login goes through the same throttling and journaling as the site's.
admin.site.login_form = ThrottledAuthenticationForm
admin.site.site_header = "Beffroi"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("langue/", set_language, name="set_language"),
    path("", include("beffroi.core.urls")),
]
