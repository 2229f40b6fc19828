"""Reading departments, teams, people and calendars, each in a fixed number of queries."""

from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team, TeamSkill


def calendar_list(*, user, search: str | None = None) -> QuerySet[Calendar]:
    calendars = Calendar.objects.restrict(user, "view").prefetch_related(
        Prefetch("closures", queryset=CalendarClosure.objects.order_by("start"))
    )
    if search:
        calendars = calendars.filter(Q(name__icontains=search) | Q(country__iexact=search))
    return calendars


def calendar_get(*, user, pk: int) -> Calendar:
    return calendar_list(user=user).get_visible(pk=pk)


def department_list(*, user, search: str | None = None) -> QuerySet[Department]:
    """Departments with their number of teams and their teams' weekly capacity."""
    departments = (
        Department.objects.restrict(user, "view")
        .select_related("calendar")
        .annotate(
            team_count=Count("teams", distinct=True),
            # 0, not NULL, for a department without teams: databases disagree on where NULL sorts
            capacity=Coalesce(Sum("teams__capacity_person_days_per_week"), Value(Decimal("0"))),
        )
        .order_by("name")
    )
    if search:
        departments = departments.filter(Q(name__icontains=search) | Q(cost_centre__icontains=search))
    return departments


def department_get(*, user, pk: int) -> Department:
    return department_list(user=user).get_visible(pk=pk)


def team_list(
    *, user, search: str | None = None, department: int | None = None, skill: str | None = None
) -> QuerySet[Team]:
    """Teams with department, calendar, skills and member count."""
    teams = (
        Team.objects.restrict(user, "view")
        .select_related("department", "calendar", "department__calendar")
        .prefetch_related(Prefetch("skills", queryset=TeamSkill.objects.order_by("skill")))
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )
    if search:
        teams = teams.filter(Q(name__icontains=search) | Q(department__name__icontains=search))
    if department:
        teams = teams.filter(department_id=department)
    if skill:
        teams = teams.filter(skills__skill=skill)
    return teams


def team_get(*, user, pk: int) -> Team:
    return team_list(user=user).get_visible(pk=pk)


def person_list(*, user, search: str | None = None, team: int | None = None) -> QuerySet[Person]:
    """People with their teams and sign-in account."""
    people = (
        Person.objects.restrict(user, "view")
        .select_related("user")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
    )
    if search:
        people = people.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if team:
        people = people.filter(teams__id=team)
    return people.distinct()


def person_get(*, user, pk: int) -> Person:
    return person_list(user=user).get_visible(pk=pk)


def org_summary(*, user) -> dict:
    """Counts for the home page: departments, teams, people and weekly capacity by skill."""
    teams = Team.objects.restrict(user, "view")
    by_skill = (
        TeamSkill.objects.filter(team__in=teams)
        .values("skill")
        .annotate(capacity=Sum("team__capacity_person_days_per_week"), teams=Count("team"))
        .order_by("skill")
    )
    return {
        "departments": Department.objects.restrict(user, "view").count(),
        "teams": teams.count(),
        "people": Person.objects.restrict(user, "view").count(),
        "capacity": teams.aggregate(total=Sum("capacity_person_days_per_week"))["total"] or 0,
        "by_skill": list(by_skill),
    }
