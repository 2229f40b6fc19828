from django.urls import path

from launchdeck.environments import booking_views, deployment_views, request_views, schedule_views, views

app_name = "environments"

urlpatterns = [
    # Inventory
    path("", views.environment_list, name="environment_list"),
    path("new/", views.environment_create, name="environment_create"),
    path("<int:pk>/", views.environment_detail, name="environment_detail"),
    path("<int:pk>/edit/", views.environment_edit, name="environment_edit"),
    path("<int:pk>/delete/", views.environment_delete, name="environment_delete"),
    path("<int:pk>/status/", views.environment_status, name="environment_status"),
    path("<int:pk>/depends-on/", views.environment_dependency_add, name="environment_dependency_add"),
    path(
        "<int:pk>/depends-on/<int:other_pk>/remove/",
        views.environment_dependency_remove,
        name="environment_dependency_remove",
    ),
    path("<int:pk>/components/new/", views.environmentcomponent_create, name="environmentcomponent_create"),
    path(
        "<int:pk>/components/<int:component_pk>/edit/",
        views.environmentcomponent_edit,
        name="environmentcomponent_edit",
    ),
    path(
        "<int:pk>/components/<int:component_pk>/remove/",
        views.environmentcomponent_remove,
        name="environmentcomponent_remove",
    ),
    path("groups/", views.environmentgroup_list, name="environmentgroup_list"),
    path("groups/new/", views.environmentgroup_create, name="environmentgroup_create"),
    path("groups/<int:pk>/edit/", views.environmentgroup_edit, name="environmentgroup_edit"),
    path("groups/<int:pk>/delete/", views.environmentgroup_delete, name="environmentgroup_delete"),
    # Bookings
    path("bookings/", booking_views.booking_list, name="booking_list"),
    path("bookings/new/", booking_views.booking_create, name="booking_create"),
    path("bookings/conflicts/", booking_views.booking_conflicts, name="booking_conflicts"),
    path("bookings/next-free-slot/", booking_views.booking_next_free_slot, name="booking_next_free_slot"),
    path("bookings/<int:pk>/", booking_views.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/edit/", booking_views.booking_edit, name="booking_edit"),
    path("bookings/<int:pk>/approve/", booking_views.booking_approve, name="booking_approve"),
    path("bookings/<int:pk>/reject/", booking_views.booking_reject, name="booking_reject"),
    path("bookings/<int:pk>/activate/", booking_views.booking_activate, name="booking_activate"),
    path("bookings/<int:pk>/release/", booking_views.booking_release, name="booking_release"),
    path("bookings/<int:pk>/cancel/", booking_views.booking_cancel, name="booking_cancel"),
    path("<int:pk>/panels/bookings/", booking_views.environment_bookings_panel, name="environment_bookings_panel"),
    # Environment requests
    path("requests/", request_views.request_list, name="request_list"),
    path("requests/new/", request_views.request_create, name="request_create"),
    path("requests/team-load/", request_views.team_load, name="team_load"),
    path("requests/<int:pk>/", request_views.request_detail, name="request_detail"),
    path("requests/<int:pk>/edit/", request_views.request_edit, name="request_edit"),
    path("requests/<int:pk>/start/", request_views.request_start, name="request_start"),
    path("requests/<int:pk>/mask-done/", request_views.request_mask_done, name="request_mask_done"),
    path("requests/<int:pk>/complete/", request_views.request_complete, name="request_complete"),
    path("requests/<int:pk>/cancel/", request_views.request_cancel, name="request_cancel"),
    path("<int:pk>/panels/requests/", request_views.environment_requests_panel, name="environment_requests_panel"),
    # Deployments and versions
    path("deployments/", deployment_views.deployment_list, name="deployment_list"),
    path("deployments/new/", deployment_views.deployment_create, name="deployment_create"),
    path("versions/", deployment_views.version_matrix, name="version_matrix"),
    path(
        "<int:pk>/panels/deployments/",
        deployment_views.environment_deployments_panel,
        name="environment_deployments_panel",
    ),
    # Schedule, utilisation and demand
    path("schedule/", schedule_views.schedule, name="schedule"),
    path("utilisation/", schedule_views.utilisation, name="utilisation"),
    path("demand/", schedule_views.demand, name="demand"),
]
