"""Environment management's contributions to navigation, the home page, the schedule's what-if and release gates."""


def register() -> None:
    """Called from `EnvironmentsConfig.ready()`."""
    # Inventory
    # Bookings
    # Environment requests
    # Deployments and versions
    # Schedule, utilisation and demand
