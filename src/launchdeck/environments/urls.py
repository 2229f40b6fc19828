from django.urls import path  # noqa: F401

app_name = "environments"

urlpatterns = [
    # Inventory
    # Bookings
    # Environment requests
    # Deployments and versions
    # Schedule, utilisation and demand
]
