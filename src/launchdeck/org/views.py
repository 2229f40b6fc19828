import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from launchdeck.accounts.models import User
from launchdeck.core.errors import DomainError
from launchdeck.core.forms import without_version
from launchdeck.core.ui import Column, delete_page, detail_page, form_page, list_page
from launchdeck.org import selectors, services
from launchdeck.org.calendars import working_calendar
from launchdeck.org.choices import Weekday
from launchdeck.org.forms import (
    CalendarForm,
    ClosureForm,
    DepartmentForm,
    PersonFilterForm,
    PersonForm,
    SearchForm,
    TeamFilterForm,
    TeamForm,
)
from launchdeck.org.models import Calendar, Department, Team


def _may(request, permission: str, url: str) -> str | None:
    return url if request.user.has_perm(permission) else None


def _visible(model, user):
    return model.objects.restrict(user, "view")


# Departments


@login_required
def department_list(request):
    filters = SearchForm(request.GET or None, placeholder="Search name or cost centre")
    search = filters.cleaned_data.get("q") if filters.is_valid() else None
    return list_page(
        request,
        title="Departments",
        intro="Organisational units and their cost centres; spend is booked against them.",
        queryset=selectors.department_list(user=request.user, search=search),
        columns=[
            Column("Name", lambda d: d.name, link=True),
            Column("Cost centre", lambda d: d.cost_centre),
            Column("Teams", lambda d: d.team_count, numeric=True),
            Column("Capacity (person-days/week)", lambda d: d.capacity or 0, numeric=True),
            Column("Calendar", lambda d: d.calendar),
        ],
        filters=filters,
        create_url=_may(request, "org.add_department", reverse("org:department_create")),
    )


@login_required
def department_detail(request, pk: int):
    department = selectors.department_get(user=request.user, pk=pk)
    teams = selectors.team_list(user=request.user, department=department.pk)
    return detail_page(
        request,
        obj=department,
        template="org/department_detail.html",
        list_url=reverse("org:department_list"),
        list_title="Departments",
        fields=[
            ("Cost centre", department.cost_centre),
            ("Calendar", department.calendar or "Weekends only"),
            ("Teams", department.team_count),
            ("Capacity (person-days/week)", department.capacity or 0),
            ("Description", department.description),
        ],
        edit_url=_may(request, "org.change_department", reverse("org:department_edit", args=[pk])),
        delete_url=_may(request, "org.delete_department", reverse("org:department_delete", args=[pk])),
        teams=teams,
    )


@login_required
@permission_required("org.add_department", raise_exception=True)
def department_create(request):
    form = DepartmentForm(request.POST or None, calendars=_visible(Calendar, request.user))
    return form_page(
        request,
        form=form,
        title="New department",
        save=lambda data: services.department_create(actor=request.user, **without_version(data)),
        success="Department {object} is created.",
        cancel_url=reverse("org:department_list"),
    )


@login_required
@permission_required("org.change_department", raise_exception=True)
def department_edit(request, pk: int):
    department = selectors.department_get(user=request.user, pk=pk)
    initial = {
        "version": department.version,
        "name": department.name,
        "cost_centre": department.cost_centre,
        "calendar": department.calendar_id,
        "description": department.description,
    }
    form = DepartmentForm(request.POST or None, initial=initial, calendars=_visible(Calendar, request.user))
    return form_page(
        request,
        form=form,
        title=f"Edit {department}",
        save=lambda data: services.department_update(actor=request.user, department=department, **data),
        success="Department {object} is saved.",
        cancel_url=department.get_absolute_url(),
    )


@login_required
@permission_required("org.delete_department", raise_exception=True)
def department_delete(request, pk: int):
    department = selectors.department_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=department,
        delete=lambda: services.department_delete(actor=request.user, department=department),
        done_url=reverse("org:department_list"),
        cancel_url=department.get_absolute_url(),
    )


# Teams


@login_required
def team_list(request):
    filters = TeamFilterForm(request.GET or None, departments=_visible(Department, request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    department = data.get("department")
    return list_page(
        request,
        title="Teams",
        intro="Who delivers: each team's skills and how many person-days a week it can take on.",
        queryset=selectors.team_list(
            user=request.user,
            search=data.get("q"),
            department=department.pk if department else None,
            skill=data.get("skill") or None,
        ),
        columns=[
            Column("Name", lambda t: t.name, link=True),
            Column("Department", lambda t: t.department),
            Column("Skills", lambda t: ", ".join(skill.get_skill_display() for skill in t.skills.all())),
            Column("Capacity (person-days/week)", lambda t: t.capacity_person_days_per_week, numeric=True),
            Column("Members", lambda t: t.member_count, numeric=True),
        ],
        filters=filters,
        create_url=_may(request, "org.add_team", reverse("org:team_create")),
    )


@login_required
def team_detail(request, pk: int):
    team = selectors.team_get(user=request.user, pk=pk)
    calendar = team.calendar or team.department.calendar
    return detail_page(
        request,
        obj=team,
        template="org/team_detail.html",
        list_url=reverse("org:team_list"),
        list_title="Teams",
        fields=[
            ("Department", team.department),
            ("Skills", ", ".join(skill.get_skill_display() for skill in team.skills.all()) or "none"),
            ("Capacity (person-days/week)", team.capacity_person_days_per_week),
            (
                "Calendar",
                f"{calendar} (the department's)" if calendar and not team.calendar else calendar or "Weekends only",
            ),
            ("Description", team.description),
        ],
        edit_url=_may(request, "org.change_team", reverse("org:team_edit", args=[pk])),
        delete_url=_may(request, "org.delete_team", reverse("org:team_delete", args=[pk])),
        members=selectors.person_list(user=request.user, team=team.pk),
    )


def _team_form(request, initial=None):
    return TeamForm(
        request.POST or None,
        initial=initial,
        departments=_visible(Department, request.user),
        calendars=_visible(Calendar, request.user),
    )


@login_required
@permission_required("org.add_team", raise_exception=True)
def team_create(request):
    return form_page(
        request,
        form=_team_form(request, initial={"department": request.GET.get("department")}),
        title="New team",
        save=lambda data: services.team_create(actor=request.user, **without_version(data)),
        success="Team {object} is created.",
        cancel_url=reverse("org:team_list"),
    )


@login_required
@permission_required("org.change_team", raise_exception=True)
def team_edit(request, pk: int):
    team = selectors.team_get(user=request.user, pk=pk)
    initial = {
        "version": team.version,
        "name": team.name,
        "department": team.department_id,
        "capacity_person_days_per_week": team.capacity_person_days_per_week,
        "skills": team.skill_codes,
        "calendar": team.calendar_id,
        "description": team.description,
    }
    return form_page(
        request,
        form=_team_form(request, initial=initial),
        title=f"Edit {team}",
        save=lambda data: services.team_update(actor=request.user, team=team, **data),
        success="Team {object} is saved.",
        cancel_url=team.get_absolute_url(),
    )


@login_required
@permission_required("org.delete_team", raise_exception=True)
def team_delete(request, pk: int):
    team = selectors.team_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=team,
        delete=lambda: services.team_delete(actor=request.user, team=team),
        done_url=reverse("org:team_list"),
        cancel_url=team.get_absolute_url(),
    )


# People


@login_required
def person_list(request):
    filters = PersonFilterForm(request.GET or None, teams=_visible(Team, request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    team = data.get("team")
    return list_page(
        request,
        title="People",
        intro="Everyone who does the work, in their teams; linked to a sign-in account where they have one.",
        queryset=selectors.person_list(user=request.user, search=data.get("q"), team=team.pk if team else None),
        columns=[
            Column("Name", lambda p: p.full_name, link=True),
            Column("E-mail", lambda p: p.email),
            Column("Teams", lambda p: ", ".join(t.name for t in p.teams.all())),
            Column("FTE", lambda p: p.fte, numeric=True),
            Column("Signs in as", lambda p: p.user.username if p.user_id else None),
        ],
        filters=filters,
        create_url=_may(request, "org.add_person", reverse("org:person_create")),
    )


@login_required
def person_detail(request, pk: int):
    person = selectors.person_get(user=request.user, pk=pk)
    return detail_page(
        request,
        obj=person,
        list_url=reverse("org:person_list"),
        list_title="People",
        fields=[
            ("E-mail", person.email),
            ("FTE", person.fte),
            ("Teams", ", ".join(team.name for team in person.teams.all()) or "none"),
            ("Signs in as", person.user.username if person.user_id else "does not sign in"),
        ],
        edit_url=_may(request, "org.change_person", reverse("org:person_edit", args=[pk])),
        delete_url=_may(request, "org.delete_person", reverse("org:person_delete", args=[pk])),
    )


def _person_form(request, initial=None):
    return PersonForm(
        request.POST or None,
        initial=initial,
        teams=_visible(Team, request.user).order_by("name"),
        users=User.objects.restrict(request.user).filter(is_active=True),
    )


@login_required
@permission_required("org.add_person", raise_exception=True)
def person_create(request):
    return form_page(
        request,
        form=_person_form(request, initial={"teams": request.GET.getlist("team")}),
        title="New person",
        save=lambda data: services.person_create(actor=request.user, **without_version(data)),
        success="{object} is added.",
        cancel_url=reverse("org:person_list"),
    )


@login_required
@permission_required("org.change_person", raise_exception=True)
def person_edit(request, pk: int):
    person = selectors.person_get(user=request.user, pk=pk)
    initial = {
        "version": person.version,
        "full_name": person.full_name,
        "email": person.email,
        "fte": person.fte,
        "teams": [team.pk for team in person.teams.all()],
        "user": person.user.username if person.user_id else None,
    }
    return form_page(
        request,
        form=_person_form(request, initial=initial),
        title=f"Edit {person}",
        save=lambda data: services.person_update(actor=request.user, person=person, **data),
        success="{object} is saved.",
        cancel_url=person.get_absolute_url(),
    )


@login_required
@permission_required("org.delete_person", raise_exception=True)
def person_delete(request, pk: int):
    person = selectors.person_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=person,
        delete=lambda: services.person_delete(actor=request.user, person=person),
        done_url=reverse("org:person_list"),
        cancel_url=person.get_absolute_url(),
    )


# Calendars


@login_required
def calendar_list(request):
    filters = SearchForm(request.GET or None, placeholder="Search name or country")
    search = filters.cleaned_data.get("q") if filters.is_valid() else None
    return list_page(
        request,
        title="Working calendars",
        intro="Weekends, public holidays by country and region, and closures: every working-day sum uses these.",
        queryset=selectors.calendar_list(user=request.user, search=search),
        columns=[
            Column("Name", lambda c: c.name, link=True),
            Column("Country", lambda c: c.country or "—"),
            Column("Region", lambda c: c.subdivision or "—"),
            Column("Weekend", lambda c: _weekend_words(c.weekend)),
            Column("Closures", lambda c: len(c.closures.all()), numeric=True),
        ],
        filters=filters,
        create_url=_may(request, "org.add_calendar", reverse("org:calendar_create")),
    )


def _weekend_words(days) -> str:
    return ", ".join(Weekday(day).label for day in sorted(days)) or "none"


@login_required
def calendar_detail(request, pk: int):
    calendar = selectors.calendar_get(user=request.user, pk=pk)
    today = datetime.date.today()
    plain = working_calendar(calendar)
    year_end = datetime.date(today.year, 12, 31)
    upcoming = plain.holidays_between(today, today + datetime.timedelta(days=365))
    return detail_page(
        request,
        obj=calendar,
        template="org/calendar_detail.html",
        list_url=reverse("org:calendar_list"),
        list_title="Working calendars",
        fields=[
            ("Country", calendar.country or "none (weekends only)"),
            ("Region", calendar.subdivision or "—"),
            ("Weekend", _weekend_words(calendar.weekend)),
            (f"Working days left in {today.year}", plain.working_days_in(today, year_end)),
            ("Description", calendar.description),
        ],
        edit_url=_may(request, "org.change_calendar", reverse("org:calendar_edit", args=[pk])),
        delete_url=_may(request, "org.delete_calendar", reverse("org:calendar_delete", args=[pk])),
        upcoming=upcoming,
        closure_form=ClosureForm() if request.user.has_perm("org.change_calendar") else None,
    )


@login_required
@permission_required("org.add_calendar", raise_exception=True)
def calendar_create(request):
    return form_page(
        request,
        form=CalendarForm(request.POST or None),
        title="New working calendar",
        save=lambda data: services.calendar_create(actor=request.user, **without_version(data)),
        success="Calendar {object} is created.",
        cancel_url=reverse("org:calendar_list"),
    )


@login_required
@permission_required("org.change_calendar", raise_exception=True)
def calendar_edit(request, pk: int):
    calendar = selectors.calendar_get(user=request.user, pk=pk)
    initial = {
        "version": calendar.version,
        "name": calendar.name,
        "country": calendar.country,
        "subdivision": calendar.subdivision,
        "weekend": calendar.weekend,
        "description": calendar.description,
    }
    return form_page(
        request,
        form=CalendarForm(request.POST or None, initial=initial),
        title=f"Edit {calendar}",
        save=lambda data: services.calendar_update(actor=request.user, calendar=calendar, **data),
        success="Calendar {object} is saved.",
        cancel_url=calendar.get_absolute_url(),
    )


@login_required
@permission_required("org.delete_calendar", raise_exception=True)
def calendar_delete(request, pk: int):
    calendar = selectors.calendar_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=calendar,
        delete=lambda: services.calendar_delete(actor=request.user, calendar=calendar),
        done_url=reverse("org:calendar_list"),
        cancel_url=calendar.get_absolute_url(),
    )


@login_required
@require_POST
@permission_required("org.change_calendar", raise_exception=True)
def calendar_closure_add(request, pk: int):
    calendar = selectors.calendar_get(user=request.user, pk=pk)
    form = ClosureForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The closure needs a name, a start and an end date.")
    else:
        try:
            services.calendar_closure_add(actor=request.user, calendar=calendar, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, f"Closure {form.cleaned_data['name']} is added.")
    return redirect(calendar.get_absolute_url())
