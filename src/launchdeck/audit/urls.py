from django.urls import path

from launchdeck.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_event_list, name="auditevent_list"),
    path("history/<str:object_type>/<str:object_id>/", views.object_history, name="object_history"),
]
