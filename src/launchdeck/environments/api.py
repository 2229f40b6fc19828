"""The environments API: inventory, bookings, environment requests, deployments and versions, utilisation."""

from ninja import Router

router = Router(tags=["Environments"])

# Inventory: environments, groups, components, status

# Bookings

# Environment requests

# Deployments and versions

# Schedule, utilisation and demand
