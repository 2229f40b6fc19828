"""Release planning's contributions to navigation and the home page."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav

RELEASE_ROLES = frozenset({"release_manager", "project_manager"})

NAV_ITEMS = (
    NavItem("Releases", "releases:release_list", permission="releases.view_release", order=200),
    NavItem("Timeline", "releases:timeline", permission="releases.view_release", order=210),
)


def releases_summary(user) -> dict:
    from launchdeck.releases.selectors import release_home_summary

    return release_home_summary(user=user)


def register() -> None:
    for item in NAV_ITEMS:
        register_nav(item)
    register_home_panel(
        HomePanel(
            key="releases",
            title="Releases",
            template="releases/partials/_release_panel.html",
            context=releases_summary,
            roles=RELEASE_ROLES,
            permission="releases.view_release",
            order=5,
        )
    )
