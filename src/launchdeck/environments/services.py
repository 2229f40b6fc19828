"""Every write to environments, their components and status, bookings, environment requests and deployments."""

# Inventory

# Bookings

# Environment requests

# Deployments and versions

# Schedule, utilisation and demand
