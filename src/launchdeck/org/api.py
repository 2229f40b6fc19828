import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.accounts.selectors import user_named
from launchdeck.core.api import ERROR_RESPONSES, READ_RESPONSES, Id, Pagination, apply_sort, referenced, referenced_all
from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org import selectors, services
from launchdeck.org.calendars import working_calendar
from launchdeck.org.choices import Skill
from launchdeck.org.models import Calendar, Department, Team
from launchdeck.org.schemas import (
    AddWorkingDaysOut,
    CalendarClosureIn,
    CalendarIn,
    CalendarOut,
    CalendarPatch,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    PersonIn,
    PersonOut,
    PersonPatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    WorkingDaysOut,
)

router = Router(tags=["Organisation"])

PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_RANGE_DAYS = 366 * 20


class SearchFilter(Schema):
    search: str | None = Field(None, max_length=200)
    sort: str | None = Field(None, max_length=200)


class TeamFilter(SearchFilter):
    department: Id | None = None
    skill: Skill | None = None


class PersonFilter(SearchFilter):
    team: Id | None = None


def _refs(request, data: dict) -> dict:
    """Swap the `<name>_id` fields of an input for the rows they name, checking the caller may see them."""
    user = request.auth
    if "calendar_id" in data:
        data["calendar"] = referenced(Calendar.objects.restrict(user), data.pop("calendar_id"), field="calendar_id")
    if "department_id" in data:
        department_id = data.pop("department_id")
        if department_id is None:
            raise ValidationFailed.field("department_id", "A team belongs to a department.")
        data["department"] = referenced(Department.objects.restrict(user), department_id, field="department_id")
    if "team_ids" in data:
        data["teams"] = referenced_all(Team.objects.restrict(user), data.pop("team_ids"), field="team_ids")
    if "username" in data:
        username = data.pop("username")
        data["user"] = user_named(viewer=user, username=username, field="username")
    return data


# Calendars


@router.get("/calendars", response={200: list[CalendarOut], **READ_RESPONSES}, operation_id="list_calendars")
@paginate(Pagination)
def list_calendars(request: HttpRequest, filters: Query[SearchFilter]):
    """Working calendars: weekends, the country whose public holidays apply, and closures."""
    calendars = selectors.calendar_list(user=request.auth, search=filters.search)
    return apply_sort(calendars, filters.sort, {"name": "name", "country": "country"}, "name")


@router.get("/calendars/{calendar_id}", response={200: CalendarOut, **READ_RESPONSES}, operation_id="get_calendar")
def get_calendar(request: HttpRequest, calendar_id: PathId):
    return selectors.calendar_get(user=request.auth, pk=calendar_id)


@router.post("/calendars", response={201: CalendarOut, **ERROR_RESPONSES}, operation_id="create_calendar")
def create_calendar(request: HttpRequest, payload: CalendarIn):
    return Status(201, services.calendar_create(actor=request.auth, **payload.dict()))


@router.patch(
    "/calendars/{calendar_id}", response={200: CalendarOut, **ERROR_RESPONSES}, operation_id="update_calendar"
)
def update_calendar(request: HttpRequest, calendar_id: PathId, payload: CalendarPatch):
    calendar = selectors.calendar_get(user=request.auth, pk=calendar_id)
    services.calendar_update(actor=request.auth, calendar=calendar, **payload.dict(exclude_unset=True))
    return selectors.calendar_get(user=request.auth, pk=calendar_id)


@router.delete("/calendars/{calendar_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_calendar")
def delete_calendar(request: HttpRequest, calendar_id: PathId):
    services.calendar_delete(actor=request.auth, calendar=selectors.calendar_get(user=request.auth, pk=calendar_id))
    return Status(204, None)


@router.post(
    "/calendars/{calendar_id}/closures", response={201: CalendarOut, **ERROR_RESPONSES}, operation_id="add_closure"
)
def add_closure(request: HttpRequest, calendar_id: PathId, payload: CalendarClosureIn):
    """Add days off (a shutdown) to a calendar."""
    calendar = selectors.calendar_get(user=request.auth, pk=calendar_id)
    services.calendar_closure_add(actor=request.auth, calendar=calendar, **payload.dict())
    return Status(201, selectors.calendar_get(user=request.auth, pk=calendar_id))


@router.delete(
    "/calendars/{calendar_id}/closures/{closure_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="remove_closure",
)
def remove_closure(request: HttpRequest, calendar_id: PathId, closure_id: PathId):
    calendar = selectors.calendar_get(user=request.auth, pk=calendar_id)
    closure = calendar.closures.filter(pk=closure_id).first()
    if closure is None:
        raise NotFound("Closure not found.")
    services.calendar_closure_remove(actor=request.auth, closure=closure)
    return Status(204, None)


@router.get(
    "/calendars/{calendar_id}/working-days",
    response={200: WorkingDaysOut, **READ_RESPONSES},
    operation_id="count_working_days",
)
def count_working_days(request: HttpRequest, calendar_id: PathId, start: datetime.date, end: datetime.date):
    """Working days from `start` to `end` (both included), with the holidays and closures in between."""
    if end < start:
        raise ValidationFailed.field("end", "The end must not be before the start.")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed.field("end", "Ask for at most twenty years at a time.")
    plain = working_calendar(selectors.calendar_get(user=request.auth, pk=calendar_id))
    return {
        "start": start,
        "end": end,
        "working_days": plain.working_days_in(start, end),
        "days_off": [{"date": day.isoformat(), "name": name} for day, name in plain.holidays_between(start, end)],
    }


@router.get(
    "/calendars/{calendar_id}/add-working-days",
    response={200: AddWorkingDaysOut, **READ_RESPONSES},
    operation_id="add_working_days",
)
def add_working_days(
    request: HttpRequest,
    calendar_id: PathId,
    start: datetime.date,
    days: Annotated[int, Query(ge=-10_000, le=10_000)],
):
    """The date `days` working days after `start` (before it, for negative days)."""
    plain = working_calendar(selectors.calendar_get(user=request.auth, pk=calendar_id))
    try:
        result = plain.add_working_days(start, days)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed.field("days", f"That date is out of range: {exc}") from None
    return {"start": start, "days": days, "result": result}


# Departments


@router.get("/departments", response={200: list[DepartmentOut], **READ_RESPONSES}, operation_id="list_departments")
@paginate(Pagination)
def list_departments(request: HttpRequest, filters: Query[SearchFilter]):
    """Departments with their team count and weekly capacity. `search` matches name or cost centre."""
    departments = selectors.department_list(user=request.auth, search=filters.search)
    sorts = {"name": "name", "cost_centre": "cost_centre", "team_count": "team_count", "capacity": "capacity"}
    return apply_sort(departments, filters.sort, sorts, "name")


@router.get(
    "/departments/{department_id}", response={200: DepartmentOut, **READ_RESPONSES}, operation_id="get_department"
)
def get_department(request: HttpRequest, department_id: PathId):
    return selectors.department_get(user=request.auth, pk=department_id)


@router.post("/departments", response={201: DepartmentOut, **ERROR_RESPONSES}, operation_id="create_department")
def create_department(request: HttpRequest, payload: DepartmentIn):
    department = services.department_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.department_get(user=request.auth, pk=department.pk))


@router.patch(
    "/departments/{department_id}", response={200: DepartmentOut, **ERROR_RESPONSES}, operation_id="update_department"
)
def update_department(request: HttpRequest, department_id: PathId, payload: DepartmentPatch):
    department = selectors.department_get(user=request.auth, pk=department_id)
    changes = _refs(request, payload.dict(exclude_unset=True))
    services.department_update(actor=request.auth, department=department, **changes)
    return selectors.department_get(user=request.auth, pk=department_id)


@router.delete(
    "/departments/{department_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_department"
)
def delete_department(request: HttpRequest, department_id: PathId):
    """Remove a department; refused (409) while teams belong to it."""
    department = selectors.department_get(user=request.auth, pk=department_id)
    services.department_delete(actor=request.auth, department=department)
    return Status(204, None)


# Teams


@router.get("/teams", response={200: list[TeamOut], **READ_RESPONSES}, operation_id="list_teams")
@paginate(Pagination)
def list_teams(request: HttpRequest, filters: Query[TeamFilter]):
    """Teams with skills, capacity and member count; filter by department, skill or `search`."""
    teams = selectors.team_list(
        user=request.auth, search=filters.search, department=filters.department, skill=filters.skill
    )
    sorts = {"name": "name", "department": "department__name", "capacity": "capacity_person_days_per_week"}
    return apply_sort(teams, filters.sort, sorts, "name")


@router.get("/teams/{team_id}", response={200: TeamOut, **READ_RESPONSES}, operation_id="get_team")
def get_team(request: HttpRequest, team_id: PathId):
    return selectors.team_get(user=request.auth, pk=team_id)


@router.post("/teams", response={201: TeamOut, **ERROR_RESPONSES}, operation_id="create_team")
def create_team(request: HttpRequest, payload: TeamIn):
    team = services.team_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.team_get(user=request.auth, pk=team.pk))


@router.patch("/teams/{team_id}", response={200: TeamOut, **ERROR_RESPONSES}, operation_id="update_team")
def update_team(request: HttpRequest, team_id: PathId, payload: TeamPatch):
    team = selectors.team_get(user=request.auth, pk=team_id)
    services.team_update(actor=request.auth, team=team, **_refs(request, payload.dict(exclude_unset=True)))
    return selectors.team_get(user=request.auth, pk=team_id)


@router.delete("/teams/{team_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_team")
def delete_team(request: HttpRequest, team_id: PathId):
    services.team_delete(actor=request.auth, team=selectors.team_get(user=request.auth, pk=team_id))
    return Status(204, None)


# People


@router.get("/people", response={200: list[PersonOut], **READ_RESPONSES}, operation_id="list_people")
@paginate(Pagination)
def list_people(request: HttpRequest, filters: Query[PersonFilter]):
    """People with their teams; filter by team or `search` (name or e-mail)."""
    people = selectors.person_list(user=request.auth, search=filters.search, team=filters.team)
    return apply_sort(people, filters.sort, {"full_name": "full_name", "email": "email", "fte": "fte"}, "full_name")


@router.get("/people/{person_id}", response={200: PersonOut, **READ_RESPONSES}, operation_id="get_person")
def get_person(request: HttpRequest, person_id: PathId):
    return selectors.person_get(user=request.auth, pk=person_id)


@router.post("/people", response={201: PersonOut, **ERROR_RESPONSES}, operation_id="create_person")
def create_person(request: HttpRequest, payload: PersonIn):
    person = services.person_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.person_get(user=request.auth, pk=person.pk))


@router.patch("/people/{person_id}", response={200: PersonOut, **ERROR_RESPONSES}, operation_id="update_person")
def update_person(request: HttpRequest, person_id: PathId, payload: PersonPatch):
    person = selectors.person_get(user=request.auth, pk=person_id)
    services.person_update(actor=request.auth, person=person, **_refs(request, payload.dict(exclude_unset=True)))
    return selectors.person_get(user=request.auth, pk=person_id)


@router.delete("/people/{person_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_person")
def delete_person(request: HttpRequest, person_id: PathId):
    services.person_delete(actor=request.auth, person=selectors.person_get(user=request.auth, pk=person_id))
    return Status(204, None)
