"""Release planning's contributions to navigation and the home page."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav

RELEASE_ROLES = frozenset({"release_manager", "project_manager"})

NAV_ITEMS = (
    NavItem("Releases", "releases:release_list", permission="releases.view_release", order=200),
    NavItem("Timeline", "releases:timeline", permission="releases.view_release", order=210),
)


def _release_url_names() -> set[str]:
    """The URL names the releases URLconf defines right now.

    The navigation reverses every registered entry on every page, so an entry whose page is not wired yet would break
    them all; only entries whose URL exists are registered.
    """
    try:
        from launchdeck.releases import urls
    except Exception:  # a half-written views module must not stop Django from starting
        return set()
    return {pattern.name for pattern in urls.urlpatterns if getattr(pattern, "name", None)}


def releases_summary(user) -> dict:
    """The home panel: the user's open releases (owned first, otherwise all they see) grouped by health."""
    from launchdeck.releases.choices import CLOSED_STATUSES
    from launchdeck.releases.models import Release
    from launchdeck.releases.selectors import release_health_map

    visible = Release.objects.restrict(user, "view").exclude(status__in=CLOSED_STATUSES)
    own = visible.filter(owner=user)
    mine = own.exists()
    releases = list((own if mine else visible).select_related("train").order_by("planned_end", "name")[:200])
    health = release_health_map(user=user, release_ids=[release.pk for release in releases])
    counts = {"red": 0, "amber": 0, "green": 0}
    rows = []
    for release in releases:
        result = health.get(release.pk)
        if result is not None:
            counts[result.status] = counts.get(result.status, 0) + 1
        rows.append({"release": release, "health": result})
    worst = sorted(
        (row for row in rows if row["health"] is not None and row["health"].status != "green"),
        key=lambda row: (-row["health"].score, row["release"].planned_end),
    )
    return {"mine": mine, "total": len(rows), "counts": counts, "worst": worst[:6]}


def register() -> None:
    names = _release_url_names()
    for item in NAV_ITEMS:
        if item.url_name.split(":", 1)[1] in names:
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
