"""API schemas of the environments app: `<Entity>In`, `<Entity>Patch`, `<Entity>Out`."""

# Inventory

# Bookings

# Environment requests

# Deployments and versions

# Schedule, utilisation and demand
