from django.urls import URLPattern

# Organisation pages are mounted under o/<slug:org>/watch/ and must use
# beffroi.core.roles.require(capability); public pages go in public_urlpatterns.
urlpatterns: list[URLPattern] = []
public_urlpatterns: list[URLPattern] = []
