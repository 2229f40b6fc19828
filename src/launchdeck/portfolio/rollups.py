"""Roll-ups that higher apps add to the portfolio view, without the portfolio importing them.

The releases app (and later quality or insights) registers one in its `AppConfig.ready()`:

    register_rollup("release_health", "Release health", release_health_for_initiatives, template="...")

`function(initiative_ids, user)` receives the ids of the initiatives the view shows (already restricted to what the
user may see) and the user, and returns the data its template renders, or None when it has nothing to say, in
which case the view shows no section for it. Registries are filled at start-up in every process alike.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rollup:
    key: str
    title: str
    function: Callable[[list[int], object], dict | None]
    template: str
    order: int = 100


_rollups: dict[str, Rollup] = {}


def register_rollup(key: str, title: str, function, *, template: str, order: int = 100) -> None:
    """Add (or replace, by key) a roll-up shown on the portfolio view."""
    _rollups[key] = Rollup(key=key, title=title, function=function, template=template, order=order)


def unregister_rollup(key: str) -> None:
    _rollups.pop(key, None)


def registered_rollups() -> list[Rollup]:
    return sorted(_rollups.values(), key=lambda rollup: (rollup.order, rollup.title))


def rollup_sections(initiative_ids: list[int], user) -> list[dict]:
    """The registered roll-ups with data for these initiatives; a roll-up answering None is left out."""
    sections = []
    for rollup in registered_rollups():
        data = rollup.function(list(initiative_ids), user)
        if data is not None:
            sections.append({"key": rollup.key, "title": rollup.title, "template": rollup.template, "data": data})
    return sections
