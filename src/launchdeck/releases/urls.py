from django.urls import path

from launchdeck.releases import views

app_name = "releases"

urlpatterns = [
    # Releases (UI helper)
    # Templates and freeze windows (UI helper)
    # Timeline, calendar and impact matrix (timeline helper)
]
