"""factory_boy factories for the portfolio: rows made directly, for arranging tests (services are what is tested)."""

import datetime
from decimal import Decimal

import factory

from launchdeck.org.tests.factories import DepartmentFactory, TeamFactory
from launchdeck.portfolio.choices import AllocationUnit, Impact, InitiativeStatus, RegisterCategory, RegisterKind
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, RegisterTag, Spend

JAN_2026 = datetime.date(2026, 1, 1)
DEC_2026 = datetime.date(2026, 12, 31)


class PortfolioFactory(factory.django.DjangoModelFactory):
    """A top-level portfolio unless `parent` is given."""

    class Meta:
        model = Portfolio

    name = factory.Sequence(lambda n: f"Portfolio {n}")
    parent = None
    description = ""


class InitiativeFactory(factory.django.DjangoModelFactory):
    """An active initiative running through 2026 with a budget of 100,000."""

    class Meta:
        model = Initiative

    portfolio = factory.SubFactory(PortfolioFactory)
    department = factory.SubFactory(DepartmentFactory)
    owner = None
    name = factory.Sequence(lambda n: f"Initiative {n}")
    objective = ""
    start = JAN_2026
    end = DEC_2026
    budget = Decimal("100000")
    status = InitiativeStatus.ACTIVE


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    initiative = factory.SubFactory(InitiativeFactory)
    owner_team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    start = JAN_2026
    end = DEC_2026
    description = ""


class SpendFactory(factory.django.DjangoModelFactory):
    """January 2026 of a new initiative, booked to its sponsoring department, planned 10,000 and not booked."""

    class Meta:
        model = Spend

    initiative = factory.SubFactory(InitiativeFactory)
    department = factory.LazyAttribute(lambda spend: spend.initiative.department)
    month = JAN_2026
    planned = Decimal("10000")
    actual = None


class AllocationFactory(factory.django.DjangoModelFactory):
    """A team at 10 person-days a week on an initiative through 2026."""

    class Meta:
        model = Allocation

    initiative = factory.SubFactory(InitiativeFactory)
    team = factory.SubFactory(TeamFactory)
    start = JAN_2026
    end = DEC_2026
    unit = AllocationUnit.PERSON_DAYS
    amount = Decimal("10")
    note = ""


class RegisterItemFactory(factory.django.DjangoModelFactory):
    """An open medium risk on a new initiative; `tags=[...]` tags it; a lesson gets the status `recorded`."""

    class Meta:
        model = RegisterItem
        skip_postgeneration_save = True

    kind = RegisterKind.RISK
    title = factory.Sequence(lambda n: f"Register item {n}")
    description = ""
    category = RegisterCategory.ENVIRONMENTS
    impact = Impact.MEDIUM
    status = factory.LazyAttribute(lambda item: "recorded" if item.kind == RegisterKind.LESSON else "open")
    owner = None
    initiative = factory.SubFactory(InitiativeFactory)
    project = None
    raised_on = datetime.date(2026, 3, 2)
    closed_on = None

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            RegisterTag.objects.bulk_create([RegisterTag(item=self, name=name) for name in extracted])
