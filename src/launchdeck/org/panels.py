"""The organisation's contributions to navigation and home pages."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav


def organisation_summary(user) -> dict:
    from launchdeck.org.selectors import org_summary

    summary = org_summary(user=user)
    summary["chart"] = {
        "kind": "bars",
        "title": "Weekly capacity by skill (person-days)",
        "categories": [row["skill"].title() for row in summary["by_skill"]],
        "series": [
            {"name": "Person-days per week", "data": [float(row["capacity"] or 0) for row in summary["by_skill"]]}
        ],
    }
    return summary


def register() -> None:
    register_nav(NavItem("Teams", "org:team_list", permission="org.view_team", order=100))
    register_home_panel(
        HomePanel(
            key="organisation",
            title="Organisation",
            template="org/partials/_organisation_panel.html",
            context=organisation_summary,
            permission="org.view_team",
            order=20,
        )
    )
