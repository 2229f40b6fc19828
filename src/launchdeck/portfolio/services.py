"""Every write to portfolios, initiatives, projects, spend, staffing allocations and the register.

Spend and allocations have no page of their own: their audit events are recorded against their initiative, so they
show in the initiative's History tab (with the row's id in the data).
"""

import datetime
import re
from decimal import Decimal

from django.db import transaction

from launchdeck.audit.services import (
    audit_record,
    changed_fields,
    delete_audited,
    fields_of,
    still_used,
    update_audited,
)
from launchdeck.core.errors import Conflict, ValidationFailed
from launchdeck.core.models import bump_version
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import (
    assign,
    blank_text_clears,
    check_end_after_start,
    plural,
    require_values,
    save,
    snapshot,
)
from launchdeck.org.models import Department, Team
from launchdeck.portfolio.choices import (
    AllocationUnit,
    Impact,
    InitiativeStatus,
    RegisterKind,
    RegisterStatus,
)
from launchdeck.portfolio.models import (
    Allocation,
    Initiative,
    Portfolio,
    Project,
    RegisterItem,
    RegisterTag,
    Spend,
)
from launchdeck.portfolio.periods import month_start

PORTFOLIO_FIELDS = ["name", "parent", "description"]
INITIATIVE_FIELDS = ["portfolio", "department", "owner", "name", "objective", "start", "end", "budget", "status"]
PROJECT_FIELDS = ["initiative", "owner_team", "name", "start", "end", "description"]
SPEND_FIELDS = ["department", "month", "planned", "actual"]
ALLOCATION_FIELDS = ["team", "start", "end", "unit", "amount", "note"]
REGISTER_FIELDS = [
    "kind",
    "title",
    "description",
    "category",
    "impact",
    "status",
    "owner",
    "initiative",
    "project",
    "raised_on",
    "closed_on",
]
MAX_TAGS = 10
MAX_TAG_LENGTH = 40
TAG_PATTERN = re.compile(r"^\w[\w.+/-]*$")


def _check_dates(row) -> None:
    check_end_after_start(row.start, row.end)


def _check_not_negative(field: str, value, label: str) -> None:
    if value is not None and isinstance(value, Decimal | int | float) and value < 0:
        raise ValidationFailed.field(field, f"{label} cannot be negative.")


def _refuse_delete_if_used(instance, uses: list[tuple[int, str]]) -> None:
    """Refuse up front, with labels people use ("sub-portfolio", "spend row"), rather than the model names that
    `delete_audited` would give; the wording comes from the one `still_used` rule."""
    if any(count for count, _ in uses):
        raise still_used(instance, uses)


# Portfolios


def _check_parent(portfolio: Portfolio) -> None:
    """A portfolio may not sit under itself or under one of its own descendants.

    Every portfolio row is locked (in id order, so concurrent moves queue instead of deadlocking) while the chain
    of ancestors is walked, so two moves made at the same moment cannot together close a loop.
    """
    if portfolio.parent_id is None:
        return
    parents = dict(Portfolio.objects.select_for_update().order_by("pk").values_list("pk", "parent_id"))
    if portfolio.parent_id not in parents:
        raise ValidationFailed.field("parent", "The parent portfolio does not exist.")
    if portfolio.pk is None:
        return
    node, seen = portfolio.parent_id, set()
    while node is not None and node not in seen:
        if node == portfolio.pk:
            parent = portfolio.parent
            message = (
                f"{portfolio.name} cannot sit in itself."
                if parent.pk == portfolio.pk
                else f"{portfolio.name} cannot move under {parent.name}: {parent.name} is inside {portfolio.name}, "
                "and a portfolio cannot be its own ancestor."
            )
            raise ValidationFailed.field("parent", message)
        seen.add(node)
        node = parents.get(node)


@transaction.atomic
def portfolio_create(*, actor, name: str, parent: Portfolio | None = None, description: str = "") -> Portfolio:
    """Create a portfolio, at the top or inside another one."""
    require_perm(actor, "portfolio.add_portfolio")
    portfolio = Portfolio(name=name.strip(), parent=parent, description=description)
    _check_parent(portfolio)
    save(portfolio)
    audit_record(actor, "portfolio.created", portfolio, new=snapshot(portfolio, PORTFOLIO_FIELDS))
    return portfolio


@transaction.atomic
def portfolio_update(*, actor, portfolio: Portfolio, version: int | None = None, **changes) -> Portfolio:
    """Rename, describe or move a portfolio; refused if it would sit under its own descendant or `version` is stale."""
    blank_text_clears(changes, "description")
    return update_audited(
        actor,
        portfolio,
        permission="portfolio.change_portfolio",
        event_type="portfolio.updated",
        data=fields_of(PORTFOLIO_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_parent,
    )


@transaction.atomic
def portfolio_delete(*, actor, portfolio: Portfolio) -> None:
    """Remove a portfolio that holds neither sub-portfolios nor initiatives."""
    require_perm(actor, "portfolio.delete_portfolio", portfolio)
    _refuse_delete_if_used(
        portfolio,
        [
            plural(portfolio.children.count(), "sub-portfolio"),
            plural(portfolio.initiatives.count(), "initiative"),
        ],
    )
    delete_audited(actor, portfolio, "portfolio.deleted")


# Initiatives


def _check_initiative(initiative: Initiative) -> None:
    _check_not_negative("budget", initiative.budget, "The budget")
    _check_dates(initiative)


@transaction.atomic
def initiative_create(
    *,
    actor,
    portfolio: Portfolio,
    department: Department,
    name: str,
    start: datetime.date,
    end: datetime.date,
    budget: Decimal = Decimal("0"),
    objective: str = "",
    owner=None,
    status: str = InitiativeStatus.PROPOSED,
) -> Initiative:
    """Start tracking a change initiative in a portfolio, sponsored by a department, with its budget and dates."""
    require_perm(actor, "portfolio.add_initiative", portfolio)
    initiative = Initiative(
        portfolio=portfolio,
        department=department,
        owner=owner,
        name=name.strip(),
        objective=objective,
        start=start,
        end=end,
        budget=budget,
        status=status,
    )
    _check_initiative(initiative)
    save(initiative)
    audit_record(actor, "initiative.created", initiative, new=snapshot(initiative, INITIATIVE_FIELDS))
    return initiative


@transaction.atomic
def initiative_update(*, actor, initiative: Initiative, version: int | None = None, **changes) -> Initiative:
    """Change an initiative (status, budget, dates, owner...); refused if `version` is stale."""
    require_perm(actor, "portfolio.change_initiative", initiative)
    blank_text_clears(changes, "objective")
    require_values(
        changes,
        portfolio="An initiative belongs to a portfolio.",
        department="An initiative is sponsored by a department.",
        budget="Give a budget (0 when there is none yet).",
    )
    return update_audited(
        actor,
        initiative,
        permission="portfolio.change_initiative",
        event_type="initiative.updated",
        data=fields_of(INITIATIVE_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_initiative,
    )


@transaction.atomic
def initiative_delete(*, actor, initiative: Initiative) -> None:
    """Remove an initiative recorded by mistake: one with no projects, spend, allocations or register items.

    An initiative that stopped is `cancelled`, not deleted, so its spend and lessons stay on the record.
    """
    require_perm(actor, "portfolio.delete_initiative", initiative)
    _refuse_delete_if_used(
        initiative,
        [
            plural(initiative.projects.count(), "project"),
            plural(initiative.spend.count(), "spend row"),
            plural(initiative.allocations.count(), "allocation"),
            plural(initiative.register_items.count(), "register item"),
        ],
    )
    delete_audited(actor, initiative, "initiative.deleted")


# Projects


@transaction.atomic
def project_create(
    *,
    actor,
    initiative: Initiative,
    owner_team: Team,
    name: str,
    start: datetime.date,
    end: datetime.date,
    description: str = "",
) -> Project:
    """Add a project to an initiative, owned by a team."""
    require_perm(actor, "portfolio.add_project", initiative)
    project = Project(
        initiative=initiative, owner_team=owner_team, name=name.strip(), start=start, end=end, description=description
    )
    _check_dates(project)
    save(project)
    audit_record(actor, "project.created", project, new=snapshot(project, PROJECT_FIELDS))
    return project


@transaction.atomic
def project_update(*, actor, project: Project, version: int | None = None, **changes) -> Project:
    """Change a project; refused if `version` is stale. Moving it to another initiative takes its register items."""
    require_perm(actor, "portfolio.change_project", project)
    blank_text_clears(changes, "description")
    require_values(changes, initiative="A project belongs to an initiative.", owner_team="A project has an owner team.")

    def follow(saved: Project) -> None:
        # A register item on a project is on the project's initiative too; they move together.
        RegisterItem.objects.filter(project=saved).exclude(initiative=saved.initiative_id).update(
            initiative=saved.initiative_id
        )

    return update_audited(
        actor,
        project,
        permission="portfolio.change_project",
        event_type="project.updated",
        data=fields_of(PROJECT_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_dates,
        after_save=follow,
    )


@transaction.atomic
def project_delete(*, actor, project: Project) -> None:
    """Remove a project that no register item refers to."""
    require_perm(actor, "portfolio.delete_project", project)
    _refuse_delete_if_used(project, [plural(project.register_items.count(), "register item")])
    delete_audited(actor, project, "project.deleted")


# Changes recorded against an initiative (spend, allocations)


def _edit_on_initiative(actor, row, *, permission, event_type, fields, version, changes, check):
    """The shape of `update_audited` for rows whose history lives on their initiative."""
    require_perm(actor, permission, row)
    before = snapshot(row, fields)
    bump_version(row, version)
    assign(row, changes)
    check(row)
    save(row)
    old, new = changed_fields(before, snapshot(row, fields))
    audit_record(actor, event_type, row.initiative, old={"id": row.pk, **old}, new={"id": row.pk, **new})
    return row


def _delete_on_initiative(actor, row, *, permission, event_type, fields) -> None:
    require_perm(actor, permission, row)
    data = {"id": row.pk, **snapshot(row, fields)}
    initiative = row.initiative
    row.delete()
    audit_record(actor, event_type, initiative, old=data)


# Spend


def _check_spend(spend: Spend) -> None:
    _check_not_negative("planned", spend.planned, "Planned spend")
    _check_not_negative("actual", spend.actual, "Actual spend")


@transaction.atomic
def spend_record(
    *,
    actor,
    initiative: Initiative,
    department: Department,
    month: datetime.date,
    planned: Decimal = Decimal("0"),
    actual: Decimal | None = None,
) -> Spend:
    """Record an initiative's planned (and, once booked, actual) spend for one month and one department.

    Any day of the month names the month; one row per initiative, department and month (a second one is a 409).
    """
    require_perm(actor, "portfolio.add_spend", initiative)
    spend = Spend(
        initiative=initiative, department=department, month=month_start(month), planned=planned, actual=actual
    )
    _check_spend(spend)
    save(spend)
    audit_record(actor, "spend.recorded", initiative, new={"id": spend.pk, **snapshot(spend, SPEND_FIELDS)})
    return spend


@transaction.atomic
def spend_update(*, actor, spend: Spend, version: int | None = None, **changes) -> Spend:
    """Change a month's planned or actual spend (actual None: not booked yet); refused if `version` is stale."""
    require_perm(actor, "portfolio.change_spend", spend)
    unknown = set(changes) - {"planned", "actual"}
    if unknown:
        raise ValidationFailed.field(
            sorted(unknown)[0], "Only planned and actual spend change; record another month instead."
        )
    require_values(changes, planned="Give the planned spend (0 when none is planned).")
    return _edit_on_initiative(
        actor,
        spend,
        permission="portfolio.change_spend",
        event_type="spend.updated",
        fields=SPEND_FIELDS,
        version=version,
        changes=changes,
        check=_check_spend,
    )


@transaction.atomic
def spend_delete(*, actor, spend: Spend) -> None:
    _delete_on_initiative(
        actor, spend, permission="portfolio.delete_spend", event_type="spend.deleted", fields=SPEND_FIELDS
    )


# Staffing allocations


def _check_allocation(allocation: Allocation) -> None:
    if allocation.amount is not None and allocation.amount <= 0:
        raise ValidationFailed.field("amount", "An allocation must be more than zero.")
    if allocation.unit not in AllocationUnit.values:
        raise ValidationFailed.field("unit", f"The unit is one of {', '.join(AllocationUnit.values)}.")
    _check_dates(allocation)


@transaction.atomic
def allocation_create(
    *,
    actor,
    initiative: Initiative,
    team: Team,
    start: datetime.date,
    end: datetime.date,
    amount: Decimal,
    unit: str = AllocationUnit.PERSON_DAYS,
    note: str = "",
) -> Allocation:
    """Allocate a team to an initiative for a period. More than the team can do is allowed: `team_load` flags it."""
    require_perm(actor, "portfolio.add_allocation", initiative)
    allocation = Allocation(
        initiative=initiative, team=team, start=start, end=end, unit=unit, amount=amount, note=note.strip()
    )
    _check_allocation(allocation)
    save(allocation)
    audit_record(
        actor, "allocation.created", initiative, new={"id": allocation.pk, **snapshot(allocation, ALLOCATION_FIELDS)}
    )
    return allocation


@transaction.atomic
def allocation_update(*, actor, allocation: Allocation, version: int | None = None, **changes) -> Allocation:
    """Change an allocation's team, period, unit, amount or note; refused if `version` is stale."""
    require_perm(actor, "portfolio.change_allocation", allocation)
    if "initiative" in changes:
        raise ValidationFailed.field("initiative", "An allocation stays with its initiative; allocate again instead.")
    blank_text_clears(changes, "note")
    require_values(
        changes,
        team="An allocation is for a team.",
        amount="Give the amount allocated.",
        unit="Give the unit.",
        start="Give the start date.",
        end="Give the end date.",
    )
    return _edit_on_initiative(
        actor,
        allocation,
        permission="portfolio.change_allocation",
        event_type="allocation.updated",
        fields=ALLOCATION_FIELDS,
        version=version,
        changes={key: value.strip() if isinstance(value, str) else value for key, value in changes.items()},
        check=_check_allocation,
    )


@transaction.atomic
def allocation_delete(*, actor, allocation: Allocation) -> None:
    _delete_on_initiative(
        actor,
        allocation,
        permission="portfolio.delete_allocation",
        event_type="allocation.deleted",
        fields=ALLOCATION_FIELDS,
    )


# The register: lessons learned and RAID items


def normalise_tags(tags) -> list[str]:
    """Tags as stored: lower case, inner blanks as hyphens, no repeats, sorted; at most 10 of at most 40 characters."""
    names: list[str] = []
    for raw in tags:
        if not isinstance(raw, str):
            raise ValidationFailed.field("tags", "Tags are words, such as test-data.")
        name = "-".join(raw.lower().split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationFailed.field("tags", f"The tag {name[:20]}… is longer than {MAX_TAG_LENGTH} characters.")
        if not TAG_PATTERN.match(name):
            raise ValidationFailed.field(
                "tags", f"The tag {name!r} may hold letters, digits and - _ . + / (and start with a letter or digit)."
            )
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ValidationFailed.field("tags", f"An item takes at most {MAX_TAGS} tags; this one has {len(names)}.")
    return sorted(names)


def _set_tags(item: RegisterItem, tags: list[str]) -> None:
    RegisterTag.objects.filter(item=item).exclude(name__in=tags).delete()
    held = set(RegisterTag.objects.filter(item=item).values_list("name", flat=True))
    RegisterTag.objects.bulk_create([RegisterTag(item=item, name=name) for name in tags if name not in held])
    getattr(item, "_prefetched_objects_cache", {}).pop("tags", None)


def _register_data(item: RegisterItem) -> dict:
    return {**snapshot(item, REGISTER_FIELDS), "tags": item.tag_names}


def _check_register_item(item: RegisterItem) -> None:
    """The links, the status of its kind, and the dates."""
    if item.project_id is not None:
        project = item.project
        if item.initiative_id is None:
            item.initiative = project.initiative
        elif project.initiative_id != item.initiative_id:
            raise ValidationFailed.field(
                "project", f"Project {project} belongs to initiative {project.initiative}, not {item.initiative}."
            )
    if item.initiative_id is None:
        raise ValidationFailed.field("initiative", "Link the item to an initiative or a project.")
    if item.kind == RegisterKind.LESSON:
        if item.status != RegisterStatus.RECORDED:
            raise ValidationFailed.field("status", "A lesson is recorded; it is not opened or closed.")
    elif item.status not in (RegisterStatus.OPEN, RegisterStatus.MITIGATING, RegisterStatus.CLOSED):
        raise ValidationFailed.field("status", f"A {item.get_kind_display().lower()} is open, mitigating or closed.")
    if item.status == RegisterStatus.CLOSED and item.closed_on is None:
        item.closed_on = max(datetime.date.today(), item.raised_on or datetime.date.today())
    if item.status != RegisterStatus.CLOSED and item.closed_on is not None:
        raise ValidationFailed.field("closed_on", "Only a closed item has a closing date.")
    if item.closed_on and item.raised_on and item.closed_on < item.raised_on:
        raise ValidationFailed.field("closed_on", "An item cannot be closed before it was raised.")


def _default_status(kind: str) -> str:
    return RegisterStatus.RECORDED if kind == RegisterKind.LESSON else RegisterStatus.OPEN


@transaction.atomic
def register_item_create(
    *,
    actor,
    kind: str,
    title: str,
    category: str,
    initiative: Initiative | None = None,
    project: Project | None = None,
    description: str = "",
    impact: str = Impact.MEDIUM,
    status: str | None = None,
    owner=None,
    raised_on: datetime.date | None = None,
    closed_on: datetime.date | None = None,
    tags=(),
) -> RegisterItem:
    """Record a lesson learned or raise a risk, assumption, issue or dependency, on an initiative or a project."""
    require_perm(actor, "portfolio.add_registeritem")
    item = RegisterItem(
        kind=kind,
        title=title.strip(),
        description=description,
        category=category,
        impact=impact,
        status=status or _default_status(kind),
        owner=owner,
        initiative=initiative,
        project=project,
        raised_on=raised_on or datetime.date.today(),
        closed_on=closed_on,
    )
    names = normalise_tags(tags)
    _check_register_item(item)
    save(item)
    _set_tags(item, names)
    audit_record(actor, "register_item.created", item, new=_register_data(item))
    return item


def _register_event(before: str, after: str) -> str:
    if after == RegisterStatus.CLOSED and before != RegisterStatus.CLOSED:
        return "register_item.closed"
    if before == RegisterStatus.CLOSED and after != RegisterStatus.CLOSED:
        return "register_item.reopened"
    return "register_item.updated"


@transaction.atomic
def register_item_update(
    *, actor, item: RegisterItem, version: int | None = None, tags=None, **changes
) -> RegisterItem:
    """Change a register item; closing it (status closed) or reopening it is recorded as such.

    A new kind without a status takes that kind's first status; a reopened item loses its closing date; a closed
    one without a date is closed today.
    """
    require_perm(actor, "portfolio.change_registeritem", item)
    blank_text_clears(changes, "description")
    require_values(
        changes,
        kind="Give the kind.",
        title="Give a title.",
        category="Give a category.",
        impact="Give the impact.",
        status="Give the status.",
        raised_on="Give the date it was raised.",
    )
    if "kind" in changes and "status" not in changes and changes["kind"] != item.kind:
        changes["status"] = _default_status(changes["kind"])
    if changes.get("status", item.status) != RegisterStatus.CLOSED and "closed_on" not in changes:
        changes["closed_on"] = None
    names = normalise_tags(tags) if tags is not None else None
    status_before = item.status
    event_type = _register_event(status_before, changes.get("status", item.status))
    return update_audited(
        actor,
        item,
        permission="portfolio.change_registeritem",
        event_type=event_type,
        data=_register_data,
        version=version,
        changes=changes,
        before_save=_check_register_item,
        after_save=(lambda saved: _set_tags(saved, names)) if names is not None else None,
    )


@transaction.atomic
def register_item_close(
    *, actor, item: RegisterItem, version: int | None = None, closed_on: datetime.date | None = None
) -> RegisterItem:
    """Close a risk, assumption, issue or dependency (today unless `closed_on` is given)."""
    require_perm(actor, "portfolio.change_registeritem", item)
    if item.kind == RegisterKind.LESSON:
        raise ValidationFailed.field("status", "A lesson is recorded; it is not opened or closed.")
    if item.status == RegisterStatus.CLOSED:
        raise Conflict(f"{item} is already closed.")
    return register_item_update(
        actor=actor, item=item, version=version, status=RegisterStatus.CLOSED, closed_on=closed_on
    )


@transaction.atomic
def register_item_delete(*, actor, item: RegisterItem) -> None:
    require_perm(actor, "portfolio.delete_registeritem", item)
    delete_audited(actor, item, "register_item.deleted")
