from django.urls import path

from launchdeck.integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.exchange, name="exchange"),
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("export/", views.export, name="export"),
]
