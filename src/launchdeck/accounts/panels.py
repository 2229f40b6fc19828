"""Accounts' contributions to navigation and home pages."""

from launchdeck.accounts.roles import ROLE_SUMMARIES, Role
from launchdeck.core.registry import HomePanel, NavItem, register_home_panel, register_nav


def your_access(user) -> dict:
    from launchdeck.accounts.selectors import api_token_list

    labels = dict(Role.choices)
    return {
        "roles": [{"label": labels[role], "summary": ROLE_SUMMARIES[role]} for role in user.roles],
        "active_tokens": api_token_list(user=user, owner=user, state="active").count(),
        "can_write": any(role != Role.VIEWER for role in user.roles) or user.is_superuser,
    }


def people_and_roles(user) -> dict:
    from axes.models import AccessAttempt

    from launchdeck.accounts.models import User
    from launchdeck.accounts.selectors import users_by_role

    counts = users_by_role(user=user)
    return {
        "by_role": [{"label": label, "count": counts.get(value, 0)} for value, label in Role.choices],
        "active_users": User.objects.filter(is_active=True).count(),
        "inactive_users": User.objects.filter(is_active=False).count(),
        "locked_out": AccessAttempt.objects.count(),
    }


def register() -> None:
    register_nav(NavItem("Home", "core:home", order=0))
    register_nav(NavItem("People and roles", "accounts:user_list", permission="accounts.view_user", order=800))
    register_home_panel(
        HomePanel(
            key="your-access",
            title="Your access",
            template="accounts/partials/_access_panel.html",
            context=your_access,
            order=0,
        )
    )
    register_home_panel(
        HomePanel(
            key="people-and-roles",
            title="People and roles",
            template="accounts/partials/_people_panel.html",
            context=people_and_roles,
            roles=frozenset({Role.ADMIN}),
            order=10,
        )
    )
