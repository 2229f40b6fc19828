from django.urls import path

from launchdeck.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("portfolios/", views.portfolio_list, name="portfolio_list"),
    path("portfolios/new/", views.portfolio_create, name="portfolio_create"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio_detail"),
    path("portfolios/<int:pk>/view/", views.portfolio_view, name="portfolio_view"),
    path("portfolios/<int:pk>/edit/", views.portfolio_edit, name="portfolio_edit"),
    path("portfolios/<int:pk>/delete/", views.portfolio_delete, name="portfolio_delete"),
    path("initiatives/", views.initiative_list, name="initiative_list"),
    path("initiatives/new/", views.initiative_create, name="initiative_create"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="initiative_detail"),
    path("initiatives/<int:pk>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<int:pk>/delete/", views.initiative_delete, name="initiative_delete"),
    path("initiatives/<int:pk>/spend/", views.spend_record, name="spend_record"),
    path("initiatives/<int:pk>/allocations/", views.allocation_create, name="allocation_create"),
    path("spend/<int:pk>/edit/", views.spend_edit, name="spend_edit"),
    path("spend/<int:pk>/delete/", views.spend_delete, name="spend_delete"),
    path("allocations/<int:pk>/edit/", views.allocation_edit, name="allocation_edit"),
    path("allocations/<int:pk>/delete/", views.allocation_delete, name="allocation_delete"),
    path("teams/<int:team_id>/load/", views.team_load, name="team_load"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/delete/", views.project_delete, name="project_delete"),
    path("register/", views.register_list, name="registeritem_list"),
    path("register/new/", views.registeritem_create, name="registeritem_create"),
    path("register/<int:pk>/", views.registeritem_detail, name="registeritem_detail"),
    path("register/<int:pk>/edit/", views.registeritem_edit, name="registeritem_edit"),
    path("register/<int:pk>/delete/", views.registeritem_delete, name="registeritem_delete"),
    path("register/<int:pk>/close/", views.registeritem_close, name="registeritem_close"),
]
