"""The catalogue's contributions to navigation and home pages."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav

CATALOGUE_ROLES = frozenset(
    {
        "portfolio_manager",
        "release_manager",
        "environment_manager",
        "quality_manager",
        "service_manager",
        "project_manager",
        "admin",
    }
)


def catalogue_summary(user) -> dict:
    from launchdeck.catalog.selectors import catalogue_summary as summary

    data = summary(user=user)
    data["chart"] = {
        "kind": "bars",
        "title": "Live systems by criticality tier",
        "categories": [f"Tier {row['tier']}" for row in data["by_tier"]],
        "series": [{"name": "Systems", "data": [row["count"] for row in data["by_tier"]]}],
    }
    return data


def register() -> None:
    register_nav(NavItem("Systems", "catalog:system_list", permission="catalog.view_system", order=200))
    register_home_panel(
        HomePanel(
            key="catalogue",
            title="System catalogue",
            template="catalog/partials/_catalogue_panel.html",
            context=catalogue_summary,
            roles=CATALOGUE_ROLES,
            permission="catalog.view_system",
            order=30,
        )
    )
