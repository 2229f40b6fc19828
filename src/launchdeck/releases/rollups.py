"""The portfolio view's release-health roll-up, registered with the portfolio app from `ReleasesConfig.ready()`.

The portfolio app lists its roll-ups without importing this app (DESIGN: apps import only what stands below them).
"""

from launchdeck.portfolio.rollups import register_rollup

ROLLUP_KEY = "release_health"
ROLLUP_TEMPLATE = "releases/partials/_release_health_rollup.html"


def release_health_rollup(initiative_ids: list[int], user) -> dict | None:
    """Green / amber / red counts and the worst open releases of the initiatives the portfolio view shows, per
    initiative and in total; None when they have no release (the view then shows no section)."""
    from launchdeck.releases.selectors import initiative_release_health

    return initiative_release_health(user=user, initiative_ids=initiative_ids)


def register() -> None:
    """Add the release-health section to the portfolio view."""
    register_rollup("release_health", "Release health", release_health_rollup, template=ROLLUP_TEMPLATE, order=50)
