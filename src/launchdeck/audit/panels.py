"""The audit trail's contributions to navigation and home pages."""

from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav

RECENT = 8


def recent_activity(user) -> dict:
    from launchdeck.audit.selectors import audit_event_list

    return {"events": list(audit_event_list(user=user)[:RECENT])}


def my_activity(user) -> dict:
    from launchdeck.audit.selectors import audit_event_list

    return {"events": list(audit_event_list(user=user, actor=user.username)[:RECENT])}


def register() -> None:
    register_nav(NavItem("Audit trail", "audit:auditevent_list", permission="audit.view_auditevent", order=900))
    register_home_panel(
        HomePanel(
            key="recent-activity",
            title="Recent changes across Launchdeck",
            template="audit/partials/_activity_panel.html",
            context=recent_activity,
            permission="audit.view_auditevent",
            order=80,
        )
    )
    register_home_panel(
        HomePanel(
            key="my-activity",
            title="Your recent changes",
            template="audit/partials/_activity_panel.html",
            context=my_activity,
            permission="audit.view_auditevent",
            order=81,
        )
    )
