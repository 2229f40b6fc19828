"""Every write to departments, teams, people and working calendars."""

from decimal import Decimal

from django.db import transaction

from launchdeck.audit.services import audit_record, delete_audited, fields_of, update_audited
from launchdeck.core.errors import ValidationFailed
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import save, snapshot
from launchdeck.org.calendars import check_calendar_rules
from launchdeck.org.choices import Skill
from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team, TeamSkill

CALENDAR_FIELDS = ["name", "country", "subdivision", "weekend", "description"]
DEPARTMENT_FIELDS = ["name", "cost_centre", "calendar", "description"]
TEAM_FIELDS = ["name", "department", "capacity_person_days_per_week", "calendar", "description"]
PERSON_FIELDS = ["full_name", "email", "fte", "user"]


# Calendars


@transaction.atomic
def calendar_create(
    *, actor, name: str, country: str = "", subdivision: str = "", weekend=None, description: str = ""
) -> Calendar:
    """Create a working calendar; its country and region must be known to the public-holiday tables."""
    require_perm(actor, "org.add_calendar")
    calendar = Calendar(
        name=name.strip(),
        country=country.strip().upper(),
        subdivision=subdivision.strip().upper(),
        weekend=sorted(set(weekend if weekend is not None else [5, 6])),
        description=description,
    )
    check_calendar_rules(calendar)
    save(calendar)
    audit_record(actor, "calendar.created", calendar, new=snapshot(calendar, CALENDAR_FIELDS))
    return calendar


@transaction.atomic
def calendar_update(*, actor, calendar: Calendar, version: int | None = None, **changes) -> Calendar:
    """Change a calendar; refused if `version` is stale."""
    if "country" in changes:
        changes["country"] = (changes["country"] or "").strip().upper()
    if "subdivision" in changes:
        changes["subdivision"] = (changes["subdivision"] or "").strip().upper()
    if "weekend" in changes and changes["weekend"] is not None:
        changes["weekend"] = sorted(set(changes["weekend"]))
    return update_audited(
        actor,
        calendar,
        permission="org.change_calendar",
        event_type="calendar.updated",
        data=fields_of(CALENDAR_FIELDS),
        version=version,
        changes=changes,
        before_save=check_calendar_rules,
    )


@transaction.atomic
def calendar_delete(*, actor, calendar: Calendar) -> None:
    require_perm(actor, "org.delete_calendar", calendar)
    delete_audited(actor, calendar, "calendar.deleted")


@transaction.atomic
def calendar_closure_add(*, actor, calendar: Calendar, name: str, start, end) -> CalendarClosure:
    """Add days off to a calendar (a shutdown, a site closure)."""
    require_perm(actor, "org.change_calendar", calendar)
    closure = CalendarClosure(calendar=calendar, name=name.strip(), start=start, end=end)
    if start and end and end < start:
        raise ValidationFailed.field("end", "A closure cannot end before it starts.")
    save(closure)
    audit_record(actor, "calendar.closure_added", calendar, new={"name": closure.name, "start": start, "end": end})
    return closure


@transaction.atomic
def calendar_closure_remove(*, actor, closure: CalendarClosure) -> None:
    require_perm(actor, "org.change_calendar", closure.calendar)
    data = {"name": closure.name, "start": closure.start, "end": closure.end}
    calendar = closure.calendar
    closure.delete()
    audit_record(actor, "calendar.closure_removed", calendar, old=data)


# Departments


@transaction.atomic
def department_create(
    *, actor, name: str, cost_centre: str, calendar: Calendar | None = None, description: str = ""
) -> Department:
    """Create a department with its own cost centre."""
    require_perm(actor, "org.add_department")
    department = save(
        Department(name=name.strip(), cost_centre=cost_centre.strip(), calendar=calendar, description=description)
    )
    audit_record(actor, "department.created", department, new=snapshot(department, DEPARTMENT_FIELDS))
    return department


@transaction.atomic
def department_update(*, actor, department: Department, version: int | None = None, **changes) -> Department:
    """Change a department; refused if `version` is stale."""
    return update_audited(
        actor,
        department,
        permission="org.change_department",
        event_type="department.updated",
        data=fields_of(DEPARTMENT_FIELDS),
        version=version,
        changes=changes,
    )


@transaction.atomic
def department_delete(*, actor, department: Department) -> None:
    """Remove a department that no team belongs to any more."""
    require_perm(actor, "org.delete_department", department)
    delete_audited(actor, department, "department.deleted")


# Teams


def _set_skills(team: Team, skills) -> None:
    skills = list(dict.fromkeys(skills))
    unknown = [skill for skill in skills if skill not in Skill.values]
    if unknown:
        raise ValidationFailed.field(
            "skills", f"Unknown skill {', '.join(unknown)}; skills are {', '.join(Skill.values)}."
        )
    TeamSkill.objects.filter(team=team).exclude(skill__in=skills).delete()
    held = set(TeamSkill.objects.filter(team=team).values_list("skill", flat=True))
    TeamSkill.objects.bulk_create([TeamSkill(team=team, skill=skill) for skill in skills if skill not in held])
    getattr(team, "_prefetched_objects_cache", {}).pop("skills", None)


def _team_data(team: Team) -> dict:
    return {**snapshot(team, TEAM_FIELDS), "skills": team.skill_codes}


@transaction.atomic
def team_create(
    *,
    actor,
    name: str,
    department: Department,
    capacity_person_days_per_week: Decimal = Decimal("0"),
    skills=(),
    calendar: Calendar | None = None,
    description: str = "",
) -> Team:
    """Create a team in a department, with its skills and weekly capacity."""
    require_perm(actor, "org.add_team")
    team = save(
        Team(
            name=name.strip(),
            department=department,
            capacity_person_days_per_week=capacity_person_days_per_week,
            calendar=calendar,
            description=description,
        )
    )
    _set_skills(team, skills)
    audit_record(actor, "team.created", team, new=_team_data(team))
    return team


@transaction.atomic
def team_update(*, actor, team: Team, version: int | None = None, skills=None, **changes) -> Team:
    """Change a team's details or skills; refused if `version` is stale."""
    return update_audited(
        actor,
        team,
        permission="org.change_team",
        event_type="team.updated",
        data=_team_data,
        version=version,
        changes=changes,
        after_save=(lambda saved: _set_skills(saved, skills)) if skills is not None else None,
    )


@transaction.atomic
def team_delete(*, actor, team: Team) -> None:
    require_perm(actor, "org.delete_team", team)
    delete_audited(actor, team, "team.deleted")


# People


def _person_data(person: Person) -> dict:
    return {**snapshot(person, PERSON_FIELDS), "teams": sorted(team.pk for team in person.teams.all())}


def _set_teams(person: Person, teams) -> None:
    person.teams.set(teams)
    getattr(person, "_prefetched_objects_cache", {}).pop("teams", None)


@transaction.atomic
def person_create(*, actor, full_name: str, email: str, fte: Decimal = Decimal("1"), teams=(), user=None) -> Person:
    """Add a person to the organisation, in zero or more teams."""
    require_perm(actor, "org.add_person")
    person = save(Person(full_name=full_name.strip(), email=email.strip().lower(), fte=fte, user=user))
    _set_teams(person, teams)
    audit_record(actor, "person.created", person, new=_person_data(person))
    return person


@transaction.atomic
def person_update(*, actor, person: Person, version: int | None = None, teams=None, **changes) -> Person:
    """Change a person's details or teams; refused if `version` is stale."""
    if changes.get("email") is not None:
        changes["email"] = changes["email"].strip().lower()
    return update_audited(
        actor,
        person,
        permission="org.change_person",
        event_type="person.updated",
        data=_person_data,
        version=version,
        changes=changes,
        after_save=(lambda saved: _set_teams(saved, teams)) if teams is not None else None,
    )


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    require_perm(actor, "org.delete_person", person)
    delete_audited(actor, person, "person.deleted")
