"""The roles and what each may do: the one table that every permission check consults.

A permission is `<app>.<action>_<model>` (Django's naming). Entries may use shell-style wildcards:
`releases.*` is every action on the releases app, `*.view_*` is reading anything.
"""

from fnmatch import fnmatchcase
from functools import lru_cache

from django.db import models


class Role(models.TextChoices):
    PORTFOLIO_MANAGER = "portfolio_manager", "Portfolio manager"
    RELEASE_MANAGER = "release_manager", "Release manager"
    ENVIRONMENT_MANAGER = "environment_manager", "Environment manager"
    QUALITY_MANAGER = "quality_manager", "Quality manager"
    SERVICE_MANAGER = "service_manager", "Service manager"
    PROJECT_MANAGER = "project_manager", "Project manager"
    ADMIN = "admin", "Administrator"
    VIEWER = "viewer", "Viewer"


READ_EVERYTHING = "*.view_*"
# What every role that changes anything may do for itself: its own API tokens and spreadsheet imports (each
# imported row is still checked against the role by the service that writes it).
SELF_SERVICE = ("accounts.add_apitoken", "accounts.change_apitoken", "integrations.add_importbatch")

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({"*"}),
    Role.VIEWER: frozenset({READ_EVERYTHING}),
    Role.PORTFOLIO_MANAGER: frozenset({READ_EVERYTHING, *SELF_SERVICE, "org.*", "portfolio.*", "catalog.*"}),
    Role.RELEASE_MANAGER: frozenset(
        {READ_EVERYTHING, *SELF_SERVICE, "releases.*", "scheduling.*", "catalog.*", "portfolio.*_registeritem"}
    ),
    Role.ENVIRONMENT_MANAGER: frozenset(
        {READ_EVERYTHING, *SELF_SERVICE, "environments.*", "catalog.*_component", "releases.*_freezewindow"}
    ),
    Role.QUALITY_MANAGER: frozenset(
        {
            READ_EVERYTHING,
            *SELF_SERVICE,
            "quality.*",
            # Named one by one: a wildcard would also grant `approve_environmentbooking`, which is the
            # environment managers' alone.
            "environments.add_environmentbooking",
            "environments.change_environmentbooking",
            "releases.change_gatecriterion",
        }
    ),
    Role.SERVICE_MANAGER: frozenset(
        {READ_EVERYTHING, *SELF_SERVICE, "changes.*", "environments.add_deployment", "releases.*_freezewindow"}
    ),
    Role.PROJECT_MANAGER: frozenset(
        {
            READ_EVERYTHING,
            *SELF_SERVICE,
            "portfolio.*_project",
            "portfolio.*_registeritem",
            "releases.plan_release",
            "releases.start_release",
            "releases.change_phase",
            "releases.change_milestone",
            "releases.change_gatecriterion",
            "releases.reschedule_release",
            "releases.*_scheduledependency",
            # Named one by one: a wildcard would also grant `approve_environmentbooking`, which is the
            # environment managers' alone.
            "environments.add_environmentbooking",
            "environments.change_environmentbooking",
            # Requesting environment work, not doing it: `fulfil_environmentrequest` is the environment team's.
            "environments.add_environmentrequest",
            "environments.change_environmentrequest",
        }
    ),
}

ROLE_SUMMARIES: dict[str, str] = {
    Role.PORTFOLIO_MANAGER: "Status, spend and staffing of every change initiative; lessons learned across them.",
    Role.RELEASE_MANAGER: "Release trains, phases, gates and the impact of every schedule change.",
    Role.ENVIRONMENT_MANAGER: "Environments, bookings, versions deployed and how well the estate is used.",
    Role.QUALITY_MANAGER: "Test demand from the release schedules and the allocation of testers and environments.",
    Role.SERVICE_MANAGER: "Change requests, CAB decisions and deployment runbooks.",
    Role.PROJECT_MANAGER: "Your projects' status and the conflicts that affect them, without status meetings.",
    Role.ADMIN: "Users, roles, API tokens and the audit trail.",
    Role.VIEWER: "Read-only access to the whole plan.",
}


@lru_cache(maxsize=4096)
def role_grants(role: str, permission: str) -> bool:
    """Whether `role` may do `permission`, by the table above."""
    return any(fnmatchcase(permission, pattern) for pattern in ROLE_PERMISSIONS.get(role, ()))


def roles_grant(roles, permission: str) -> bool:
    """Whether any of `roles` may do `permission`."""
    return any(role_grants(role, permission) for role in roles)


def roles_may_write(roles) -> bool:
    """Whether `roles` grant anything beyond reading; a read-only caller is refused every write up front."""
    return any(pattern != READ_EVERYTHING for role in roles for pattern in ROLE_PERMISSIONS.get(role, ()))


def is_valid_role(value: str) -> bool:
    return value in Role.values


def role_label(role: str) -> str:
    """A role as people read it ("Release manager"); an unknown value is shown as it is."""
    return Role(role).label if is_valid_role(role) else str(role)
