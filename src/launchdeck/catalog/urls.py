from django.urls import path

from launchdeck.catalog import views

app_name = "catalog"

urlpatterns = [
    path("systems/", views.system_list, name="system_list"),
    path("systems/new/", views.system_create, name="system_create"),
    path("systems/<int:pk>/", views.system_detail, name="system_detail"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
    path("systems/<int:pk>/delete/", views.system_delete, name="system_delete"),
    path("systems/<int:pk>/dependencies/", views.dependency_add, name="dependency_add"),
    path(
        "systems/<int:pk>/dependencies/<int:dependency_id>/remove/", views.dependency_remove, name="dependency_remove"
    ),
    path("systems/<int:pk>/components/", views.component_add, name="component_add"),
]
