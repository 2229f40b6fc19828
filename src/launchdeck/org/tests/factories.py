"""factory_boy factories for the organisation: rows made directly, for arranging tests (services are what is tested)."""

import datetime
from decimal import Decimal

import factory

from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team, TeamSkill


class CalendarFactory(factory.django.DjangoModelFactory):
    """A weekends-only calendar unless `country` / `subdivision` are given."""

    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    country = ""
    subdivision = ""
    weekend = factory.LazyFunction(lambda: [5, 6])


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    cost_centre = factory.Sequence(lambda n: f"CC-{n:05d}")
    calendar = None


class TeamFactory(factory.django.DjangoModelFactory):
    """A team in a new department; `skills=[...]` gives it skills (default none)."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    department = factory.SubFactory(DepartmentFactory)
    capacity_person_days_per_week = Decimal("20.0")
    calendar = None

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            TeamSkill.objects.bulk_create([TeamSkill(team=self, skill=skill) for skill in extracted])


class PersonFactory(factory.django.DjangoModelFactory):
    """A full-time person; `teams=[...]` puts them in teams (default none)."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    full_name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    fte = Decimal("1.00")
    user = None

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


def organisation(*, teams: int) -> None:
    """A small organisation for query counts: two calendars with a closure, departments, `teams` teams of two."""
    calendars = CalendarFactory.create_batch(2)
    for calendar in calendars:
        CalendarClosure.objects.create(
            calendar=calendar, name="Shutdown", start=datetime.date(2026, 12, 24), end=datetime.date(2026, 12, 31)
        )
    departments = [DepartmentFactory(calendar=calendars[index % 2]) for index in range(max(1, teams // 3))]
    for index in range(teams):
        team = TeamFactory(
            department=departments[index % len(departments)],
            calendar=calendars[index % 2] if index % 3 == 0 else None,
            skills=["development", "testing"] if index % 2 else ["data"],
        )
        PersonFactory.create_batch(2, teams=[team])
