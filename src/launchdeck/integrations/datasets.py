"""What can be imported and exported as a spreadsheet, one dataset per kind of row.

Each dataset names its columns, finds the row it describes by a natural key (names, not database ids, because
spreadsheets carry names), and creates or updates through the domain services, so every rule and audit event
applies exactly as in the UI and the API. Exports are ordered by that key and formatted the way imports read
them, so export → import into an empty database → export gives the same file.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from launchdeck.accounts.models import User
from launchdeck.catalog import services as catalog
from launchdeck.catalog.choices import DependencyCriticality, InterfaceKind, Lifecycle, SystemKind
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.core.errors import DomainError, ValidationFailed
from launchdeck.org import services as org
from launchdeck.org.choices import Skill, Weekday
from launchdeck.org.models import Calendar, Department, Person, Team
from launchdeck.portfolio import services as portfolios
from launchdeck.portfolio.choices import AllocationUnit, InitiativeStatus
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, Spend
from launchdeck.releases import services as releases
from launchdeck.releases.choices import DependencyKind
from launchdeck.releases.models import MAX_LAG_DAYS, Milestone, Phase, Release, ScheduleDependency

LIST_SEPARATOR = ";"


class RowRejected(Exception):
    """A row that cannot be imported; the message says which column and why."""

    def __init__(self, column: str | None, message: str):
        self.column = column
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    help: str = ""


@dataclass
class Dataset:
    """A kind of row: its columns, its natural key, how to export it and how to import one row."""

    key: str
    title: str
    columns: list[Column]
    export: Callable[[Any], Iterable[list]]
    upsert: Callable[[Any, dict[str, str]], str]
    depends_on: tuple[str, ...] = field(default_factory=tuple)

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def check_header(self, header: list[str]) -> None:
        """Refuse a header with unknown, repeated or missing required columns, naming each."""
        seen = [name.strip().lower() for name in header]
        known = set(self.header)
        unknown = [name for name in seen if name and name not in known]
        repeated = sorted({name for name in seen if name and seen.count(name) > 1})
        missing = [column.name for column in self.columns if column.required and column.name not in seen]
        problems = []
        if unknown:
            problems.append(f"unknown columns {', '.join(unknown)}")
        if repeated:
            problems.append(f"repeated columns {', '.join(repeated)}")
        if missing:
            problems.append(f"missing required columns {', '.join(missing)}")
        if problems:
            raise ValidationFailed.field(
                "file",
                f"The {self.key} header has {'; '.join(problems)}. Expected columns: {', '.join(self.header)}.",
            )


# Parsing cells


def _text(row: dict, column: str, *, required: bool = False, limit: int = 5000) -> str:
    value = row.get(column, "").strip()
    if required and not value:
        raise RowRejected(column, f"{column} is required.")
    if len(value) > limit:
        raise RowRejected(column, f"{column} has {len(value)} characters; at most {limit}.")
    return value


def _decimal(row: dict, column: str, *, default: str | None = None) -> Decimal | None:
    value = row.get(column, "").strip() or default
    if value is None:
        return None
    try:
        number = Decimal(_decimal_text(value))
    except InvalidOperation:
        raise RowRejected(column, f"{column} must be a number, not {value!r}.") from None
    if not number.is_finite():
        raise RowRejected(column, f"{column} must be a number, not {value!r}.")
    return number


def _decimal_text(value: str) -> str:
    """A number as spreadsheets in any locale write it: `1,234.5`, `1.234,5`, `15,5` (a decimal comma)."""
    value = value.replace(" ", "").replace("\u00a0", "")
    if "," in value and "." in value:
        # the later separator is the decimal point; the other one groups thousands
        return (
            value.replace(",", "") if value.rfind(".") > value.rfind(",") else value.replace(".", "").replace(",", ".")
        )
    if value.count(",") == 1 and len(value.split(",")[1]) != 3:
        return value.replace(",", ".")
    # one comma before exactly three digits ("1,500"), or several: commas group thousands
    return value.replace(",", "")


def _integer(row: dict, column: str, *, default: int) -> int:
    number = _decimal(row, column, default=str(default))
    if number != number.to_integral_value():
        raise RowRejected(column, f"{column} must be a whole number.")
    return int(number)


def _choice(row: dict, column: str, choices, *, default: str) -> str:
    value = row.get(column, "").strip().lower() or default
    by_label = {label.lower(): code for code, label in choices.choices}
    if value in choices.values:
        return value
    if value in by_label:
        return by_label[value]
    raise RowRejected(column, f"{column} {value!r} is not one of {', '.join(choices.values)}.")


def _list(row: dict, column: str) -> list[str]:
    return [item.strip() for item in row.get(column, "").split(LIST_SEPARATOR) if item.strip()]


def _join(values: Iterable[str]) -> str:
    return f"{LIST_SEPARATOR} ".join(values)


_lookups: ContextVar[dict | None] = ContextVar("launchdeck_import_lookups", default=None)
_header: ContextVar[frozenset[str] | None] = ContextVar("launchdeck_import_header", default=None)


@contextmanager
def reading_columns(header: list[str]) -> Iterator[None]:
    """While importing one sheet: the columns it has, so that absent ones leave existing values alone."""
    token = _header.set(frozenset(name for name in header if name))
    try:
        yield
    finally:
        _header.reset(token)


@contextmanager
def lookup_cache() -> Iterator[None]:
    """Within one import, find rows by name from one query per model instead of one query per spreadsheet row."""
    token = _lookups.set({})
    try:
        yield
    finally:
        _lookups.reset(token)


def forget_lookups() -> None:
    """Drop what was looked up: after a rejected row, rows held in memory may carry changes that were rolled back."""
    cache = _lookups.get()
    if cache is not None:
        cache.clear()


def _find(model, user, value: str, *, field_name: str = "name"):
    """The visible row whose `field_name` equals `value` (ignoring case), or None."""
    cache = _lookups.get()
    if cache is None:
        return model.objects.restrict(user, "view").filter(**{f"{field_name}__iexact": value}).first()
    table = cache.get((model, field_name))
    if table is None:
        rows = model.objects.restrict(user, "view")
        table = cache[(model, field_name)] = {str(getattr(row, field_name)).lower(): row for row in rows}
    return table.get(value.lower())


def _remember(row, *, field_name: str = "name"):
    """Make a row created by this import findable by the rows after it."""
    cache = _lookups.get()
    if cache is not None and (type(row), field_name) in cache:
        cache[(type(row), field_name)][str(getattr(row, field_name)).lower()] = row
    return row


def _by_name(model, user, name: str, column: str, *, field_name: str = "name"):
    found = _find(model, user, name, field_name=field_name)
    if found is None:
        raise RowRejected(column, f"Unknown {model._meta.verbose_name} {name!r}.")
    return found


def _optional_by_name(model, user, row: dict, column: str):
    name = _text(row, column)
    return _by_name(model, user, name, column) if name else None


def _number(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


COLUMN_OF_FIELD = {"user": "username"}


def _upsert(
    existing, create: Callable[[], Any], update: Callable[[dict], Any], wanted: dict, current: dict | None = None
) -> str:
    """Create when missing; update only the fields that differ; say which it was.

    A column left out of the spreadsheet leaves that field of existing rows as it is (it is not read as empty).
    """
    if existing is None:
        create()
        return "created"
    current = {**{key: getattr(existing, key) for key in wanted if hasattr(existing, key)}, **(current or {})}
    present = _header.get()
    changes = {
        key: value
        for key, value in wanted.items()
        if current.get(key) != value and (present is None or COLUMN_OF_FIELD.get(key, key) in present)
    }
    if not changes:
        return "unchanged"
    update(changes)
    return "updated"


# Calendars

WEEKDAY_NAMES = {day.label[:3].lower(): day.value for day in Weekday}


NO_WEEKEND = "none"


def _weekend(row: dict) -> list[int]:
    days = []
    if row.get("weekend", "").strip().lower() == NO_WEEKEND:
        return []
    for item in _list(row, "weekend") or ["sat", "sun"]:
        code = item[:3].lower()
        if code not in WEEKDAY_NAMES:
            raise RowRejected("weekend", f"Weekend day {item!r} is not a weekday name such as Sat or Sun.")
        days.append(WEEKDAY_NAMES[code])
    return sorted(set(days))


def _export_calendars(user):
    for calendar in Calendar.objects.restrict(user, "view").order_by("name"):
        weekend = _join(Weekday(day).label[:3] for day in sorted(calendar.weekend)) or NO_WEEKEND
        yield [calendar.name, calendar.country, calendar.subdivision, weekend, calendar.description]


def _upsert_calendar(actor, row):
    name = _text(row, "name", required=True, limit=100)
    wanted = {
        "country": _text(row, "country").upper(),
        "subdivision": _text(row, "subdivision").upper(),
        "weekend": _weekend(row),
        "description": _text(row, "description"),
    }
    existing = _find(Calendar, actor, name, field_name="name")
    return _upsert(
        existing,
        lambda: _remember(org.calendar_create(actor=actor, name=name, **wanted)),
        lambda changes: org.calendar_update(actor=actor, calendar=existing, **changes),
        wanted,
    )


# Departments


def _export_departments(user):
    rows = Department.objects.restrict(user, "view").select_related("calendar").order_by("name")
    for department in rows:
        calendar = department.calendar.name if department.calendar else ""
        yield [department.name, department.cost_centre, calendar, department.description]


def _upsert_department(actor, row):
    name = _text(row, "name", required=True, limit=120)
    wanted = {
        "cost_centre": _text(row, "cost_centre", required=True, limit=40),
        "calendar": _optional_by_name(Calendar, actor, row, "calendar"),
        "description": _text(row, "description"),
    }
    existing = _find(Department, actor, name, field_name="name")
    return _upsert(
        existing,
        lambda: _remember(org.department_create(actor=actor, name=name, **wanted)),
        lambda changes: org.department_update(actor=actor, department=existing, **changes),
        wanted,
    )


# Teams


def _export_teams(user):
    teams = (
        Team.objects.restrict(user, "view").select_related("department", "calendar").prefetch_related("skills")
    ).order_by("name")
    for team in teams:
        yield [
            team.name,
            team.department.name,
            _number(team.capacity_person_days_per_week, 1),
            _join(team.skill_codes),
            team.calendar.name if team.calendar else "",
            team.description,
        ]


def _upsert_team(actor, row):
    name = _text(row, "name", required=True, limit=120)
    skills = [skill.lower() for skill in _list(row, "skills")]
    unknown = [skill for skill in skills if skill not in Skill.values]
    if unknown:
        raise RowRejected("skills", f"Unknown skill {', '.join(unknown)}; skills are {', '.join(Skill.values)}.")
    wanted = {
        "department": _by_name(Department, actor, _text(row, "department", required=True), "department"),
        "capacity_person_days_per_week": _decimal(row, "capacity_person_days_per_week", default="0"),
        "calendar": _optional_by_name(Calendar, actor, row, "calendar"),
        "description": _text(row, "description"),
    }
    existing = _find(Team, actor, name, field_name="name")
    current = {}
    if existing is not None and sorted(existing.skill_codes) != sorted(skills):
        wanted["skills"], current["skills"] = skills, existing.skill_codes
    return _upsert(
        existing,
        lambda: _remember(org.team_create(actor=actor, name=name, skills=skills, **wanted)),
        lambda changes: org.team_update(actor=actor, team=existing, **changes),
        wanted,
        current,
    )


# People


def _export_people(user):
    people = Person.objects.restrict(user, "view").select_related("user").prefetch_related("teams").order_by("email")
    for person in people:
        yield [
            person.email,
            person.full_name,
            _number(person.fte, 2),
            _join(sorted(team.name for team in person.teams.all())),
            person.user.username if person.user_id else "",
        ]


def _upsert_person(actor, row):
    email = _text(row, "email", required=True, limit=254).lower()
    username = _text(row, "username")
    wanted = {
        "full_name": _text(row, "full_name", required=True, limit=150),
        "fte": _decimal(row, "fte", default="1"),
        "user": _by_name(User, actor, username, "username", field_name="username") if username else None,
    }
    teams = [_by_name(Team, actor, name, "teams") for name in _list(row, "teams")]
    existing = _find(Person, actor, email, field_name="email")
    current = {}
    if existing is not None:
        held = sorted(team.pk for team in existing.teams.all())
        if held != sorted(team.pk for team in teams):
            wanted["teams"], current["teams"] = teams, held
    return _upsert(
        existing,
        lambda: _remember(org.person_create(actor=actor, email=email, teams=teams, **wanted), field_name="email"),
        lambda changes: org.person_update(actor=actor, person=existing, **changes),
        wanted,
        current,
    )


# Systems


def _external_ids(row: dict) -> dict[str, str]:
    pairs = {}
    for item in _list(row, "external_ids"):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise RowRejected("external_ids", f"Write external ids as tool=id; {item!r} is not.")
        pairs[key.strip()] = value.strip()
    return pairs


def _tier(row: dict) -> int:
    tier = _integer(row, "tier", default=3)
    if not 1 <= tier <= 4:
        raise RowRejected("tier", f"The criticality tier is 1, 2, 3 or 4, not {tier}.")
    return tier


def _export_systems(user):
    systems = System.objects.restrict(user, "view").select_related("owner_team").order_by("name")
    for system in systems:
        yield [
            system.name,
            system.owner_team.name,
            system.kind,
            system.tier,
            system.lifecycle,
            system.description,
            _join(f"{key}={value}" for key, value in sorted(system.external_ids.items())),
        ]


def _upsert_system(actor, row):
    name = _text(row, "name", required=True, limit=150)
    wanted = {
        "owner_team": _by_name(Team, actor, _text(row, "owner_team", required=True), "owner_team"),
        "kind": _choice(row, "kind", SystemKind, default=SystemKind.APPLICATION),
        "tier": _tier(row),
        "lifecycle": _choice(row, "lifecycle", Lifecycle, default=Lifecycle.LIVE),
        "description": _text(row, "description"),
        "external_ids": _external_ids(row),
    }
    existing = _find(System, actor, name, field_name="name")
    return _upsert(
        existing,
        lambda: _remember(catalog.system_create(actor=actor, name=name, **wanted)),
        lambda changes: catalog.system_update(actor=actor, system=existing, **changes),
        wanted,
    )


# System dependencies


def _export_dependencies(user):
    dependencies = (
        SystemDependency.objects.restrict(user, "view")
        .select_related("source", "target")
        .order_by("source__name", "target__name")
    )
    for dependency in dependencies:
        yield [
            dependency.source.name,
            dependency.target.name,
            dependency.interface_kind,
            dependency.criticality,
            dependency.description,
        ]


def _upsert_dependency(actor, row):
    source = _by_name(System, actor, _text(row, "source", required=True), "source")
    target = _by_name(System, actor, _text(row, "target", required=True), "target")
    if source.pk == target.pk:
        raise RowRejected("target", "A system cannot depend on itself.")
    wanted = {
        "interface_kind": _choice(row, "interface_kind", InterfaceKind, default=InterfaceKind.API),
        "criticality": _choice(row, "criticality", DependencyCriticality, default=DependencyCriticality.MEDIUM),
        "description": _text(row, "description"),
    }
    existing = SystemDependency.objects.restrict(actor, "view").filter(source=source, target=target).first()
    return _upsert(
        existing,
        lambda: catalog.dependency_create(actor=actor, source=source, target=target, **wanted),
        lambda changes: catalog.dependency_update(actor=actor, dependency=existing, **changes),
        wanted,
    )


# Dates


def _date(row: dict, column: str, *, required: bool = True) -> datetime.date | None:
    value = _text(row, column, required=required)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise RowRejected(column, f"{column} must be a date written as YYYY-MM-DD, not {value!r}.") from None


def _month(row: dict, column: str) -> datetime.date:
    value = _text(row, column, required=True)
    try:
        return datetime.date.fromisoformat(value[:7] + "-01")
    except ValueError:
        raise RowRejected(column, f"{column} must be a month written as YYYY-MM, not {value!r}.") from None


def _money(value: Decimal | None) -> str:
    return "" if value is None else _number(value, 2)


def _places(row, field: str) -> str:
    """A decimal written with exactly the places its column stores, so it reads back as the same value."""
    return _number(getattr(row, field), row._meta.get_field(field).decimal_places)


# Portfolios (parents before children, so an import can create a tree in one pass)


def _export_portfolios(user):
    rows = list(Portfolio.objects.restrict(user, "view").select_related("parent"))
    depth: dict[int, int] = {}

    def level(portfolio) -> int:
        if portfolio.pk not in depth:
            depth[portfolio.pk] = 0 if portfolio.parent_id is None else level(portfolio.parent) + 1
        return depth[portfolio.pk]

    for portfolio in sorted(rows, key=lambda row: (level(row), row.name.lower())):
        yield [portfolio.name, portfolio.parent.name if portfolio.parent else "", portfolio.description]


def _upsert_portfolio(actor, row):
    name = _text(row, "name", required=True, limit=150)
    wanted = {
        "parent": _optional_by_name(Portfolio, actor, row, "parent"),
        "description": _text(row, "description"),
    }
    existing = _find(Portfolio, actor, name)
    return _upsert(
        existing,
        lambda: _remember(portfolios.portfolio_create(actor=actor, name=name, **wanted)),
        lambda changes: portfolios.portfolio_update(actor=actor, portfolio=existing, **changes),
        wanted,
    )


def _export_initiatives(user):
    rows = Initiative.objects.restrict(user, "view").select_related("portfolio", "department", "owner").order_by("name")
    for initiative in rows:
        yield [
            initiative.name,
            initiative.portfolio.name,
            initiative.department.name,
            initiative.owner.username if initiative.owner_id else "",
            initiative.start,
            initiative.end,
            _money(initiative.budget),
            initiative.status,
            initiative.objective,
        ]


def _upsert_initiative(actor, row):
    name = _text(row, "name", required=True, limit=150)
    owner = _text(row, "owner")
    wanted = {
        "portfolio": _by_name(Portfolio, actor, _text(row, "portfolio", required=True), "portfolio"),
        "department": _by_name(Department, actor, _text(row, "department", required=True), "department"),
        "owner": _by_name(User, actor, owner, "owner", field_name="username") if owner else None,
        "start": _date(row, "start"),
        "end": _date(row, "end"),
        "budget": _decimal(row, "budget", default="0"),
        "status": _choice(row, "status", InitiativeStatus, default=InitiativeStatus.PROPOSED),
        "objective": _text(row, "objective"),
    }
    existing = _find(Initiative, actor, name)
    return _upsert(
        existing,
        lambda: _remember(portfolios.initiative_create(actor=actor, name=name, **wanted)),
        lambda changes: portfolios.initiative_update(actor=actor, initiative=existing, **changes),
        wanted,
    )


def _export_projects(user):
    rows = Project.objects.restrict(user, "view").select_related("initiative", "owner_team").order_by("name")
    for project in rows:
        yield [
            project.name,
            project.initiative.name,
            project.owner_team.name,
            project.start,
            project.end,
            project.description,
        ]


def _upsert_project(actor, row):
    name = _text(row, "name", required=True, limit=150)
    wanted = {
        "initiative": _by_name(Initiative, actor, _text(row, "initiative", required=True), "initiative"),
        "owner_team": _by_name(Team, actor, _text(row, "owner_team", required=True), "owner_team"),
        "start": _date(row, "start"),
        "end": _date(row, "end"),
        "description": _text(row, "description"),
    }
    existing = _find(Project, actor, name)
    return _upsert(
        existing,
        lambda: _remember(portfolios.project_create(actor=actor, name=name, **wanted)),
        lambda changes: portfolios.project_update(actor=actor, project=existing, **changes),
        wanted,
    )


def _export_spend(user):
    rows = (
        Spend.objects.restrict(user, "view")
        .select_related("initiative", "department")
        .order_by("initiative__name", "department__name", "month")
    )
    for spend in rows:
        yield [
            spend.initiative.name,
            spend.department.name,
            spend.month.strftime("%Y-%m"),
            _money(spend.planned),
            _money(spend.actual),
        ]


def _upsert_spend(actor, row):
    initiative = _by_name(Initiative, actor, _text(row, "initiative", required=True), "initiative")
    department = _by_name(Department, actor, _text(row, "department", required=True), "department")
    month = _month(row, "month")
    wanted = {"planned": _decimal(row, "planned", default="0"), "actual": _decimal(row, "actual")}
    existing = (
        Spend.objects.restrict(actor, "view").filter(initiative=initiative, department=department, month=month).first()
    )
    return _upsert(
        existing,
        lambda: portfolios.spend_record(
            actor=actor, initiative=initiative, department=department, month=month, **wanted
        ),
        lambda changes: portfolios.spend_update(actor=actor, spend=existing, **changes),
        wanted,
    )


def _export_staffing(user):
    rows = (
        Allocation.objects.restrict(user, "view")
        .select_related("initiative", "team")
        .order_by("initiative__name", "team__name", "start", "end", "pk")
    )
    for allocation in rows:
        yield [
            allocation.initiative.name,
            allocation.team.name,
            allocation.start,
            allocation.end,
            allocation.unit,
            _places(allocation, "amount"),
            allocation.note,
        ]


def _upsert_allocation(actor, row):
    initiative = _by_name(Initiative, actor, _text(row, "initiative", required=True), "initiative")
    team = _by_name(Team, actor, _text(row, "team", required=True), "team")
    start, end = _date(row, "start"), _date(row, "end")
    wanted = {
        "unit": _choice(row, "unit", AllocationUnit, default=AllocationUnit.PERSON_DAYS),
        "amount": _decimal(row, "amount", default="0"),
        "note": _text(row, "note", limit=200),
    }
    existing = (
        Allocation.objects.restrict(actor, "view")
        .filter(initiative=initiative, team=team, start=start, end=end)
        .order_by("pk")
        .first()
    )
    return _upsert(
        existing,
        lambda: portfolios.allocation_create(
            actor=actor, initiative=initiative, team=team, start=start, end=end, **wanted
        ),
        lambda changes: portfolios.allocation_update(actor=actor, allocation=existing, **changes),
        wanted,
    )


# Schedule dependencies (between releases, phases and milestones of releases that exist already)

ITEM_KINDS = ("phase", "milestone")
# The ends of a dependency: the column naming the release, the one naming its phase or milestone, and the field
# the services name when they refuse that end.
DEPENDENCY_ENDS = (
    ("predecessor_release", "predecessor_item", "predecessor"),
    ("successor_release", "successor_item", "successor"),
)


def _plan_items(release: Release) -> dict[str, list[tuple[str, int, str]]]:
    """The release's phases and milestones by lower-cased name: [(kind, id, name)], phases first. Read once per
    release within an import."""
    cache = _lookups.get()
    key = ("plan items", release.pk)
    if cache is not None and key in cache:
        return cache[key]
    items: dict[str, list[tuple[str, int, str]]] = {}
    for kind, model in (("phase", Phase), ("milestone", Milestone)):
        for pk, name in model.objects.filter(release=release).order_by("pk").values_list("pk", "name"):
            items.setdefault(name.lower(), []).append((kind, pk, name))
    if cache is not None:
        cache[key] = items
    return items


def _plan_item_key(release: Release, value: str, column: str) -> str:
    """The engine key of the release's phase or milestone named in a cell ("SIT", or "phase: SIT" where a phase
    and a milestone share the name), or of the release itself when the cell is empty."""
    if not value:
        return f"release:{release.pk}"
    wanted, separator, rest = value.partition(":")
    kind = wanted.strip().lower() if separator and wanted.strip().lower() in ITEM_KINDS else None
    name = rest.strip() if kind else value
    found = [item for item in _plan_items(release).get(name.lower(), []) if kind in (None, item[0])]
    if not found:
        what = kind or "phase or milestone"
        raise RowRejected(column, f"{release.name} has no {what} named {name!r}.")
    if len(found) > 1:
        raise RowRejected(
            column,
            f"{release.name} has a phase and a milestone named {name!r}; write 'phase: {name}' or 'milestone: {name}'.",
        )
    item_kind, pk, _ = found[0]
    return f"{item_kind}:{pk}"


def _dependency_kind(row: dict) -> str:
    """FS, SS, FF or SF, or the kind's name ("Finish to start"), in any case; FS when empty."""
    value = row.get("kind", "").strip() or DependencyKind.FINISH_TO_START
    by_label = {label.lower(): code for code, label in DependencyKind.choices}
    if value.upper() in DependencyKind.values:
        return value.upper()
    if value.lower() in by_label:
        return by_label[value.lower()]
    raise RowRejected(
        "kind",
        f"kind {value!r} is not one of {', '.join(DependencyKind.values)} "
        f"({', '.join(label.lower() for label in DependencyKind.labels)}).",
    )


def _rejecting_by_column(row: dict, call: Callable[[], Any]) -> Any:
    """Run a dependency service; a refusal that names an end (`predecessor`, `successor`) is reported on the column
    of that end: its item when the row names one, else its release."""
    try:
        return call()
    except DomainError as exc:
        fields = [error["field"] for error in exc.errors if error["field"]]
        for release_column, item_column, field_name in DEPENDENCY_ENDS:
            if fields and fields[0] == field_name:
                column = item_column if row.get(item_column, "").strip() else release_column
                raise RowRejected(column, exc.detail) from None
        raise


def _item_cells(dependencies: list[ScheduleDependency]) -> dict[tuple[str, int], str]:
    """How each phase and milestone end is written: its name, prefixed with its kind where its release has a phase
    and a milestone of that name."""
    release_ids = {d.predecessor_release_id for d in dependencies} | {d.successor_release_id for d in dependencies}
    names: dict[tuple[int, str], int] = {}
    for model in (Phase, Milestone):
        for release_id, name in model.objects.filter(release_id__in=release_ids).values_list("release_id", "name"):
            names[(release_id, name.lower())] = names.get((release_id, name.lower()), 0) + 1
    cells = {}
    for dependency in dependencies:
        for phase, milestone, release_id in (
            (dependency.predecessor_phase, dependency.predecessor_milestone, dependency.predecessor_release_id),
            (dependency.successor_phase, dependency.successor_milestone, dependency.successor_release_id),
        ):
            item, kind = (phase, "phase") if phase is not None else (milestone, "milestone")
            if item is not None:
                shared = names.get((release_id, item.name.lower()), 0) > 1
                cells[(kind, item.pk)] = f"{kind}: {item.name}" if shared else item.name
    return cells


def _export_schedule_dependencies(user):
    visible = Release.objects.restrict(user, "view")
    dependencies = list(
        ScheduleDependency.objects.restrict(user, "view")
        .filter(predecessor_release__in=visible, successor_release__in=visible)
        .select_related(
            "predecessor_release",
            "predecessor_phase",
            "predecessor_milestone",
            "successor_release",
            "successor_phase",
            "successor_milestone",
        )
    )
    cells = _item_cells(dependencies)

    def item(phase, milestone) -> str:
        if phase is not None:
            return cells[("phase", phase.pk)]
        return cells[("milestone", milestone.pk)] if milestone is not None else ""

    rows = [
        [
            dependency.predecessor_release.name,
            item(dependency.predecessor_phase, dependency.predecessor_milestone),
            dependency.successor_release.name,
            item(dependency.successor_phase, dependency.successor_milestone),
            dependency.kind,
            str(dependency.lag_days),
            dependency.note,
        ]
        for dependency in dependencies
    ]
    yield from sorted(rows, key=lambda cells: [cell.lower() for cell in cells[:4]] + cells[:4])


def _upsert_schedule_dependency(actor, row):
    keys = []
    for release_column, item_column, _ in DEPENDENCY_ENDS:
        release = _by_name(Release, actor, _text(row, release_column, required=True), release_column)
        keys.append(_plan_item_key(release, _text(row, item_column), item_column))
    predecessor, successor = keys
    wanted = {
        "kind": _dependency_kind(row),
        "lag_days": _integer(row, "lag_days", default=0),
        "note": _text(row, "note"),
    }
    existing = (
        ScheduleDependency.objects.restrict(actor, "view")
        .filter(predecessor_key=predecessor, successor_key=successor)
        .first()
    )
    return _rejecting_by_column(
        row,
        lambda: _upsert(
            existing,
            lambda: releases.dependency_create(actor=actor, predecessor=predecessor, successor=successor, **wanted),
            lambda changes: releases.dependency_update(actor=actor, dependency=existing, **changes),
            wanted,
        ),
    )


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> None:
    DATASETS[dataset.key] = dataset


register(
    Dataset(
        key="calendars",
        title="Working calendars",
        columns=[
            Column("name", required=True),
            Column("country", help="Two-letter code, e.g. GB"),
            Column("subdivision", help="Region, e.g. ENG"),
            Column("weekend", help="Days off, e.g. Sat; Sun, or none"),
            Column("description"),
        ],
        export=_export_calendars,
        upsert=_upsert_calendar,
    )
)
register(
    Dataset(
        key="departments",
        title="Departments",
        columns=[
            Column("name", required=True),
            Column("cost_centre", required=True),
            Column("calendar"),
            Column("description"),
        ],
        export=_export_departments,
        upsert=_upsert_department,
        depends_on=("calendars",),
    )
)
register(
    Dataset(
        key="teams",
        title="Teams",
        columns=[
            Column("name", required=True),
            Column("department", required=True),
            Column("capacity_person_days_per_week", help="Person-days per week"),
            Column("skills", help="e.g. development; testing"),
            Column("calendar"),
            Column("description"),
        ],
        export=_export_teams,
        upsert=_upsert_team,
        depends_on=("departments", "calendars"),
    )
)
register(
    Dataset(
        key="people",
        title="People",
        columns=[
            Column("email", required=True),
            Column("full_name", required=True),
            Column("fte", help="0.01 to 1"),
            Column("teams", help="Team names separated by ;"),
            Column("username", help="Sign-in account, if any"),
        ],
        export=_export_people,
        upsert=_upsert_person,
        depends_on=("teams",),
    )
)
register(
    Dataset(
        key="systems",
        title="Systems",
        columns=[
            Column("name", required=True),
            Column("owner_team", required=True),
            Column("kind", help="application or service"),
            Column("tier", help="1 to 4"),
            Column("lifecycle", help=", ".join(Lifecycle.values)),
            Column("description"),
            Column("external_ids", help="tool=id; tool=id"),
        ],
        export=_export_systems,
        upsert=_upsert_system,
        depends_on=("teams",),
    )
)
register(
    Dataset(
        key="system_dependencies",
        title="System dependencies",
        columns=[
            Column("source", required=True, help="The system that depends"),
            Column("target", required=True, help="The system depended on"),
            Column("interface_kind", help=", ".join(InterfaceKind.values)),
            Column("criticality", help=", ".join(DependencyCriticality.values)),
            Column("description"),
        ],
        export=_export_dependencies,
        upsert=_upsert_dependency,
        depends_on=("systems",),
    )
)


register(
    Dataset(
        key="portfolios",
        title="Portfolios",
        columns=[Column("name", required=True), Column("parent", help="The parent portfolio"), Column("description")],
        export=_export_portfolios,
        upsert=_upsert_portfolio,
    )
)
register(
    Dataset(
        key="initiatives",
        title="Initiatives",
        columns=[
            Column("name", required=True),
            Column("portfolio", required=True),
            Column("department", required=True),
            Column("owner", help="Username"),
            Column("start", required=True, help="YYYY-MM-DD"),
            Column("end", required=True, help="YYYY-MM-DD"),
            Column("budget"),
            Column("status", help=", ".join(InitiativeStatus.values)),
            Column("objective"),
        ],
        export=_export_initiatives,
        upsert=_upsert_initiative,
        depends_on=("portfolios", "departments"),
    )
)
register(
    Dataset(
        key="projects",
        title="Projects",
        columns=[
            Column("name", required=True),
            Column("initiative", required=True),
            Column("owner_team", required=True),
            Column("start", required=True, help="YYYY-MM-DD"),
            Column("end", required=True, help="YYYY-MM-DD"),
            Column("description"),
        ],
        export=_export_projects,
        upsert=_upsert_project,
        depends_on=("initiatives", "teams"),
    )
)
register(
    Dataset(
        key="spend",
        title="Spend (planned and actual, per month)",
        columns=[
            Column("initiative", required=True),
            Column("department", required=True),
            Column("month", required=True, help="YYYY-MM"),
            Column("planned"),
            Column("actual", help="Empty until booked"),
        ],
        export=_export_spend,
        upsert=_upsert_spend,
        depends_on=("initiatives", "departments"),
    )
)
register(
    Dataset(
        key="staffing",
        title="Staffing (team allocations)",
        columns=[
            Column("initiative", required=True),
            Column("team", required=True),
            Column("start", required=True, help="YYYY-MM-DD"),
            Column("end", required=True, help="YYYY-MM-DD"),
            Column("unit", help=", ".join(AllocationUnit.values)),
            Column("amount", required=True),
            Column("note"),
        ],
        export=_export_staffing,
        upsert=_upsert_allocation,
        depends_on=("initiatives", "teams"),
    )
)


register(
    Dataset(
        key="schedule_dependencies",
        title="Schedule dependencies (between releases, phases and milestones)",
        columns=[
            Column("predecessor_release", required=True, help="The release waited for"),
            Column("predecessor_item", help="Its phase or milestone; empty: the release itself"),
            Column("successor_release", required=True, help="The release that waits"),
            Column("successor_item", help="Its phase or milestone; empty: the release itself"),
            Column("kind", help=", ".join(DependencyKind.values)),
            Column("lag_days", help=f"Working days, -{MAX_LAG_DAYS} to {MAX_LAG_DAYS} (negative: a lead)"),
            Column("note"),
        ],
        export=_export_schedule_dependencies,
        upsert=_upsert_schedule_dependency,
    )
)


def ordered(keys: Iterable[str]) -> list[str]:
    """Dataset keys in an order where each comes after what it refers to."""
    wanted = set(keys)
    return [key for key in DATASETS if key in wanted]
