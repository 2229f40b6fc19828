from django.urls import path

from launchdeck.releases import views

app_name = "releases"

urlpatterns = [
    # Releases (UI helper)
    path("", views.release_list, name="release_list"),
    path("new/", views.release_create, name="release_create"),
    path("new/preview/", views.release_preview, name="release_preview"),
    path("<int:pk>/", views.release_detail, name="release_detail"),
    path("<int:pk>/edit/", views.release_update, name="release_update"),
    path("<int:pk>/delete/", views.release_delete, name="release_delete"),
    path("<int:pk>/report/", views.release_report, name="release_report"),
    path("<int:pk>/health/", views.release_health, name="release_health"),
    path("<int:pk>/transition/", views.release_transition, name="release_transition"),
    path("<int:pk>/phases/new/", views.phase_create, name="phase_create"),
    path("<int:pk>/milestones/new/", views.milestone_create, name="milestone_create"),
    path("<int:pk>/gates/new/", views.gate_create, name="gate_create"),
    path("<int:pk>/scope/", views.scope_set, name="scope_set"),
    path("<int:pk>/scope/<int:system_id>/remove/", views.scope_remove, name="scope_remove"),
    path("<int:pk>/scope/add-suggested/", views.scope_add_suggested, name="scope_add_suggested"),
    path("<int:pk>/children/add/", views.child_add, name="child_add"),
    path("<int:pk>/train/join/", views.train_join, name="train_join"),
    path("<int:pk>/train/leave/", views.child_remove, name="child_remove"),
    path("phases/<int:pk>/edit/", views.phase_update, name="phase_update"),
    path("phases/<int:pk>/delete/", views.phase_delete, name="phase_delete"),
    path("milestones/<int:pk>/edit/", views.milestone_update, name="milestone_update"),
    path("milestones/<int:pk>/delete/", views.milestone_delete, name="milestone_delete"),
    path("gates/<int:pk>/edit/", views.gate_update, name="gate_update"),
    path("gates/<int:pk>/delete/", views.gate_delete, name="gate_delete"),
    path("gates/<int:pk>/decide/", views.gate_decide, name="gate_decide"),
    path("gates/<int:pk>/override/", views.gate_override, name="gate_override"),
    path("gates/<int:pk>/reopen/", views.gate_reopen, name="gate_reopen"),
    path("gate-criteria/<int:pk>/tick/", views.criterion_tick, name="criterion_tick"),
    # End of Releases
    # Templates and freeze windows (UI helper)
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", views.template_update, name="template_update"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("templates/<int:pk>/phases/new/", views.phasetemplate_create, name="phasetemplate_create"),
    path("templates/phases/<int:pk>/edit/", views.phasetemplate_update, name="phasetemplate_update"),
    path("templates/phases/<int:pk>/delete/", views.phasetemplate_delete, name="phasetemplate_delete"),
    path("templates/<int:pk>/milestones/new/", views.milestonetemplate_create, name="milestonetemplate_create"),
    path("templates/milestones/<int:pk>/edit/", views.milestonetemplate_update, name="milestonetemplate_update"),
    path("templates/milestones/<int:pk>/delete/", views.milestonetemplate_delete, name="milestonetemplate_delete"),
    path("templates/<int:pk>/gates/new/", views.gatetemplate_create, name="gatetemplate_create"),
    path("templates/gates/<int:pk>/edit/", views.gatetemplate_update, name="gatetemplate_update"),
    path("templates/gates/<int:pk>/delete/", views.gatetemplate_delete, name="gatetemplate_delete"),
    path("freezes/", views.freezewindow_list, name="freezewindow_list"),
    path("freezes/new/", views.freezewindow_create, name="freezewindow_create"),
    path("freezes/<int:pk>/", views.freezewindow_detail, name="freezewindow_detail"),
    path("freezes/<int:pk>/edit/", views.freezewindow_update, name="freezewindow_update"),
    path("freezes/<int:pk>/delete/", views.freezewindow_delete, name="freezewindow_delete"),
    path("reports/portfolio/<int:pk>/", views.portfolio_report, name="portfolio_report"),
    # End of Templates and freeze windows
    # Timeline, calendar and impact matrix (timeline helper)
    path("timeline/", views.timeline, name="timeline"),
    path("calendar/", views.calendar, name="calendar"),
    path("impact/", views.impact_matrix, name="impact_matrix"),
    # End of Timeline, calendar and impact matrix
]
