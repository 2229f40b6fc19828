"""Every non-trivial read of environments, bookings, requests, deployments, versions, utilisation and demand."""

# Inventory

# Bookings

# Environment requests

# Deployments and versions

# Schedule, utilisation and demand
