from django.urls import path

from beffroi.audits import views

urlpatterns = [
    path("", views.audit_list, name="audits"),
    path("<int:audit_id>/", views.audit_detail, name="audit-detail"),
    path("<int:audit_id>/rapport/", views.audit_report, name="audit-report"),
    path("<int:audit_id>/<str:kind>/", views.audit_download, name="audit-download"),
]
