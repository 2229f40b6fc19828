"""Environment management's contributions to navigation, the home page, the schedule's what-if and release gates."""


def register() -> None:
    """Called from `EnvironmentsConfig.ready()`."""
    # Inventory
    from launchdeck.core.registry import NavItem, register_nav

    register_nav(
        NavItem("Environments", "environments:environment_list", permission="environments.view_environment", order=300)
    )
    # Bookings
    from launchdeck.environments import impact as booking_impact
    from launchdeck.releases.checks import register_gate_check
    from launchdeck.releases.schedule import register_impact_provider as register_booking_impact

    register_booking_impact(
        *booking_impact.BOOKINGS_PROVIDER, booking_impact.preview_bookings, booking_impact.apply_bookings
    )
    register_gate_check(
        "bookings-confirmed", "All environment bookings approved", booking_impact.bookings_confirmed, per_release=True
    )
    # Environment requests
    from launchdeck.environments import impact
    from launchdeck.releases.schedule import register_impact_provider
    from launchdeck.releases.sections import ReleaseSection, register_release_section

    register_impact_provider(
        impact.REQUESTS_PROVIDER[0], impact.REQUESTS_PROVIDER[1], impact.preview_requests, impact.apply_requests
    )
    register_release_section(
        ReleaseSection(
            key="environments",
            title="Environments",
            template="environments/partials/_release_environments.html",
            context=_release_environments,
            permission="environments.view_environmentrequest",
            order=300,
        )
    )
    # Deployments and versions
    # Schedule, utilisation and demand


# Environment requests


def _release_environments(release, user) -> dict:
    """The release page's Environments section: the release's bookings and environment requests."""
    from launchdeck.environments.selectors import release_environment_plan

    return release_environment_plan(user=user, release=release)
