from django.contrib import admin
from django.urls import include, path

from launchdeck.accounts.admin import lock_down_third_party_admin
from launchdeck.config.api import api
from launchdeck.core import views as core_views
from launchdeck.core.api import nested_by_resource

admin.site.site_header = "Launchdeck administration"
admin.site.site_title = "Launchdeck admin"
lock_down_third_party_admin()

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", nested_by_resource(api.urls)),
    path("accounts/", include("launchdeck.accounts.urls")),
    path("audit/", include("launchdeck.audit.urls")),
    path("org/", include("launchdeck.org.urls")),
    path("catalog/", include("launchdeck.catalog.urls")),
    path("portfolio/", include("launchdeck.portfolio.urls")),
    path("releases/", include("launchdeck.releases.urls")),
    path("environments/", include("launchdeck.environments.urls")),
    path("exchange/", include("launchdeck.integrations.urls")),
    path("", include("launchdeck.core.urls")),
]
