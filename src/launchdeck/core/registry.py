"""Extension points that higher apps fill in their `AppConfig.ready()`: navigation entries and home-page panels.

Core renders them without knowing the apps, so no import runs back up the layers.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation, shown to users holding `permission` (everyone signed in when None)."""

    label: str
    url_name: str
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class HomePanel:
    """A panel on the home page. `roles` limits it to holders of those roles; `context(user)` supplies its data."""

    key: str
    title: str
    template: str
    context: Callable[..., dict]
    roles: frozenset[str] = field(default_factory=frozenset)
    permission: str | None = None
    order: int = 100


_nav_items: dict[str, NavItem] = {}
_home_panels: dict[str, HomePanel] = {}


def register_nav(item: NavItem) -> None:
    """Add (or replace, by URL name) a navigation entry."""
    _nav_items[item.url_name] = item


def register_home_panel(panel: HomePanel) -> None:
    """Add (or replace, by key) a home-page panel."""
    _home_panels[panel.key] = panel


def nav_for(user) -> list[NavItem]:
    """The navigation entries `user` may follow, in order."""
    return sorted(
        (item for item in _nav_items.values() if item.permission is None or user.has_perm(item.permission)),
        key=lambda item: (item.order, item.label),
    )


def home_panels_for(user) -> list[HomePanel]:
    """The home-page panels for `user`'s roles and permissions, in order."""
    roles = set(getattr(user, "roles", ()) or ())
    return sorted(
        (
            panel
            for panel in _home_panels.values()
            if (not panel.roles or roles & panel.roles)
            and (panel.permission is None or user.has_perm(panel.permission))
        ),
        key=lambda panel: (panel.order, panel.title),
    )
