"""Sections that higher apps add to the release page (environments, test capacity...): a small registry.

The releases app renders what is registered without knowing the apps, so no import runs back up the layers; an app
registers its sections in its `AppConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleaseSection:
    """A card on the release page: `template` rendered with `context(release, user)` (as `section`) for users
    holding `permission` (everyone signed in when None), in `order`."""

    key: str
    title: str
    template: str
    context: Callable[..., dict]
    permission: str | None = None
    order: int = 100


_sections: dict[str, ReleaseSection] = {}


def register_release_section(section: ReleaseSection) -> None:
    """Add (or replace, by key) a section of the release page."""
    if not section.key or not section.title:
        raise ValueError("A release section needs a key and a title.")
    _sections[section.key] = section


def unregister_release_section(key: str) -> None:
    """Forget a section (tests register fakes and remove them again)."""
    _sections.pop(key, None)


def release_sections_for(user) -> list[ReleaseSection]:
    """The sections `user` may see, in order."""
    return sorted(
        (section for section in _sections.values() if section.permission is None or user.has_perm(section.permission)),
        key=lambda section: (section.order, section.title),
    )


def rendered_sections(release, user) -> list[dict]:
    """The sections of `release`'s page for `user`, each with the data its template shows."""
    return [
        {
            "key": section.key,
            "title": section.title,
            "template": section.template,
            "data": section.context(release, user),
        }
        for section in release_sections_for(user)
    ]
