"""The portfolio's rules, at the services: audit events, bad input, conflicts, stale versions and permissions."""

import datetime
import re
from decimal import Decimal

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.org.tests.factories import DepartmentFactory, TeamFactory
from launchdeck.portfolio import services
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, RegisterTag, Spend
from launchdeck.portfolio.tests.factories import (
    AllocationFactory,
    InitiativeFactory,
    PortfolioFactory,
    ProjectFactory,
    RegisterItemFactory,
    SpendFactory,
)

JAN = datetime.date(2026, 1, 1)
MAR = datetime.date(2026, 3, 1)
DEC = datetime.date(2026, 12, 31)


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


def initiative_args(**overrides) -> dict:
    return {
        "portfolio": PortfolioFactory(),
        "department": DepartmentFactory(),
        "name": "Payments Hub Modernisation",
        "start": JAN,
        "end": DEC,
        "budget": Decimal("250000"),
        **overrides,
    }


# Portfolios


def test_portfolio_create_records_the_whole_portfolio(manager, one_event):
    parent = PortfolioFactory(name="Customer Experience")
    with one_event("portfolio.created") as recorded:
        portfolio = services.portfolio_create(actor=manager, name="  Digital Channels ", parent=parent)
    assert Portfolio.objects.get(pk=portfolio.pk).name == "Digital Channels"
    assert (recorded.event.object_type, recorded.event.object_id) == ("portfolio.portfolio", str(portfolio.pk))
    assert recorded.event.new_data == {"name": "Digital Channels", "parent": parent.pk, "description": ""}


@pytest.mark.parametrize("name", ["digital channels", "DIGITAL CHANNELS", " Digital Channels "])
def test_portfolio_names_are_unique_whatever_the_case(manager, unchanged, name):
    PortfolioFactory(name="Digital Channels")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A portfolio with this name already exists.")) as caught:
        services.portfolio_create(actor=manager, name=name)
    assert caught.value.status == 409


def test_a_portfolio_needs_a_name(manager, unchanged):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.portfolio_create(actor=manager, name="  ")
    assert fields_of(caught) == ["name"]


def test_moving_a_portfolio_records_the_new_parent(manager, one_event):
    old, new = PortfolioFactory(), PortfolioFactory()
    portfolio = PortfolioFactory(parent=old)
    with one_event("portfolio.updated") as recorded:
        services.portfolio_update(actor=manager, portfolio=portfolio, version=1, parent=new)
    assert Portfolio.objects.get(pk=portfolio.pk).parent == new
    assert (recorded.event.old_data, recorded.event.new_data) == ({"parent": old.pk}, {"parent": new.pk})


def test_a_portfolio_moves_to_the_top_level(manager):
    portfolio = PortfolioFactory(parent=PortfolioFactory())
    services.portfolio_update(actor=manager, portfolio=portfolio, version=1, parent=None)
    assert Portfolio.objects.get(pk=portfolio.pk).parent is None


def test_a_portfolio_cannot_sit_in_itself(manager, unchanged):
    portfolio = PortfolioFactory(name="Loop")
    with unchanged(), pytest.raises(ValidationFailed, match="Loop cannot sit in itself") as caught:
        services.portfolio_update(actor=manager, portfolio=portfolio, version=1, parent=portfolio)
    assert fields_of(caught) == ["parent"]


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_a_portfolio_cannot_move_under_its_own_descendant(manager, unchanged, depth):
    top = PortfolioFactory(name="Top")
    node = top
    for level in range(depth):
        node = PortfolioFactory(name=f"Level {level + 1}", parent=node)
    message = (
        f"Top cannot move under {node.name}: {node.name} is inside Top, and a portfolio cannot be its own ancestor."
    )
    with unchanged(), pytest.raises(ValidationFailed, match=re.escape(message)) as caught:
        services.portfolio_update(actor=manager, portfolio=top, version=1, parent=node)
    assert fields_of(caught) == ["parent"] and caught.value.status == 422


def test_a_portfolio_may_move_under_a_cousin(manager):
    top = PortfolioFactory()
    left, right = PortfolioFactory(parent=top), PortfolioFactory(parent=top)
    leaf = PortfolioFactory(parent=right)
    services.portfolio_update(actor=manager, portfolio=left, version=1, parent=leaf)
    assert Portfolio.objects.get(pk=left.pk).parent == leaf


def test_portfolio_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    portfolio = PortfolioFactory(name="Old")
    services.portfolio_update(actor=manager, portfolio=Portfolio.objects.get(pk=portfolio.pk), version=1, name="New")
    with unchanged(), pytest.raises(StaleVersion) as caught:
        services.portfolio_update(actor=manager, portfolio=portfolio, version=1, name="Newer")
    assert caught.value.status == 409 and fields_of(caught) == ["version"]


def test_a_portfolio_holding_sub_portfolios_and_initiatives_is_not_deleted(manager, unchanged):
    portfolio = PortfolioFactory(name="Busy")
    PortfolioFactory.create_batch(2, parent=portfolio)
    InitiativeFactory(portfolio=portfolio)
    refusal = "Busy is still used by 2 sub-portfolios and 1 initiative; move or remove them first."
    with unchanged(), pytest.raises(Conflict, match=re.escape(refusal)) as caught:
        services.portfolio_delete(actor=manager, portfolio=portfolio)
    assert caught.value.status == 409


def test_an_empty_portfolio_is_deleted_and_recorded(manager, one_event):
    portfolio = PortfolioFactory(name="Empty")
    with one_event("portfolio.deleted") as recorded:
        services.portfolio_delete(actor=manager, portfolio=portfolio)
    assert not Portfolio.objects.exists()
    assert recorded.event.old_data == {"name": "Empty"}


# Initiatives


def test_initiative_create_records_the_whole_initiative(manager, one_event):
    args = initiative_args(owner=manager, objective="Faster payments")
    with one_event("initiative.created") as recorded:
        initiative = services.initiative_create(actor=manager, **args)
    initiative = Initiative.objects.get(pk=initiative.pk)
    assert (initiative.status, initiative.budget) == ("proposed", Decimal("250000"))
    assert recorded.event.new_data == {
        "portfolio": args["portfolio"].pk,
        "department": args["department"].pk,
        "owner": manager.pk,
        "name": "Payments Hub Modernisation",
        "objective": "Faster payments",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "budget": "250000",
        "status": "proposed",
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"budget": Decimal("-1")}, "budget", "The budget cannot be negative."),
        ({"budget": Decimal("-0.01")}, "budget", "The budget cannot be negative."),
        ({"end": datetime.date(2025, 12, 31)}, "end", "The end date cannot be before the start date."),
        ({"budget": Decimal("1.234")}, "budget", "2 decimal places"),
        ({"budget": Decimal("1000000000000")}, "budget", "no more than 12 digits"),
        ({"name": ""}, "name", "cannot be blank"),
        ({"status": "dreaming"}, "status", "not a valid choice"),
    ],
)
def test_initiative_create_refuses_bad_input_naming_the_field(manager, unchanged, overrides, field, message):
    args = initiative_args(**overrides)
    with unchanged(), pytest.raises(ValidationFailed, match=message) as caught:
        services.initiative_create(actor=manager, **args)
    assert fields_of(caught) == [field] and caught.value.status == 422


def test_an_initiative_may_start_and_end_on_the_same_day_with_no_budget(manager):
    initiative = services.initiative_create(actor=manager, **initiative_args(end=JAN, budget=Decimal("0")))
    assert Initiative.objects.get(pk=initiative.pk).end == JAN


@pytest.mark.parametrize("name", ["payments hub modernisation", "PAYMENTS HUB MODERNISATION"])
def test_initiative_names_are_unique_whatever_the_case(manager, unchanged, name):
    InitiativeFactory(name="Payments Hub Modernisation")
    args = initiative_args(name=name)
    with unchanged(), pytest.raises(Conflict, match=re.escape("An initiative with this name already exists.")):
        services.initiative_create(actor=manager, **args)


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"budget": Decimal("-5")}, ValidationFailed, "budget"),
        ({"end": datetime.date(2025, 1, 1)}, ValidationFailed, "end"),
        ({"start": datetime.date(2027, 1, 1)}, ValidationFailed, "end"),
        ({"budget": None}, ValidationFailed, "budget"),
        ({"portfolio": None}, ValidationFailed, "portfolio"),
        ({"name": "TAKEN"}, Conflict, None),
    ],
)
def test_initiative_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, error, field):
    InitiativeFactory(name="Taken")
    initiative = InitiativeFactory()
    with unchanged(), pytest.raises(error) as caught:
        services.initiative_update(actor=manager, initiative=initiative, version=1, **changes)
    assert fields_of(caught) == [field]


def test_initiative_update_records_only_what_changed(manager, one_event):
    initiative = Initiative.objects.get(pk=InitiativeFactory(status="proposed", budget=Decimal("100")).pk)
    with one_event("initiative.updated") as recorded:
        services.initiative_update(
            actor=manager, initiative=initiative, version=1, status="active", budget=Decimal("150.50"), objective=None
        )
    initiative = Initiative.objects.get(pk=initiative.pk)
    assert (initiative.status, initiative.budget, initiative.version) == ("active", Decimal("150.50"), 2)
    assert recorded.event.old_data == {"status": "proposed", "budget": "100.00"}
    assert recorded.event.new_data == {"status": "active", "budget": "150.50"}


def test_initiative_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    initiative = InitiativeFactory()
    services.initiative_update(actor=manager, initiative=Initiative.objects.get(), version=1, status="on_hold")
    with unchanged(), pytest.raises(StaleVersion):
        services.initiative_update(actor=manager, initiative=initiative, version=1, status="cancelled")
    assert Initiative.objects.get().status == "on_hold"


def test_an_initiative_still_in_use_is_not_deleted_and_the_refusal_counts_each_kind(manager, unchanged):
    initiative = InitiativeFactory(name="Busy")
    ProjectFactory.create_batch(2, initiative=initiative)
    SpendFactory(initiative=initiative)
    AllocationFactory(initiative=initiative)
    RegisterItemFactory(initiative=initiative)
    refusal = "Busy is still used by 2 projects, 1 spend row, 1 allocation and 1 register item; move or remove them"
    with unchanged(), pytest.raises(Conflict, match=re.escape(refusal)):
        services.initiative_delete(actor=manager, initiative=initiative)


def test_an_unused_initiative_is_deleted_and_recorded(manager, one_event):
    initiative = InitiativeFactory(name="Mistake")
    with one_event("initiative.deleted"):
        services.initiative_delete(actor=manager, initiative=initiative)
    assert not Initiative.objects.exists()


# Projects


def test_project_create_records_the_project(manager, one_event):
    initiative, team = InitiativeFactory(), TeamFactory()
    with one_event("project.created") as recorded:
        project = services.project_create(
            actor=manager, initiative=initiative, owner_team=team, name=" Cutover ", start=MAR, end=DEC
        )
    assert Project.objects.get(pk=project.pk).name == "Cutover"
    assert recorded.event.new_data == {
        "initiative": initiative.pk,
        "owner_team": team.pk,
        "name": "Cutover",
        "start": "2026-03-01",
        "end": "2026-12-31",
        "description": "",
    }


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"end": datetime.date(2026, 2, 28)}, ValidationFailed, "end"),
        ({"name": "cutover"}, Conflict, None),
        ({"name": ""}, ValidationFailed, "name"),
    ],
)
def test_project_create_refuses_bad_input(manager, unchanged, overrides, error, field):
    ProjectFactory(name="Cutover")
    args = {"initiative": InitiativeFactory(), "owner_team": TeamFactory(), "name": "Build", "start": MAR, "end": DEC}
    with unchanged(), pytest.raises(error) as caught:
        services.project_create(actor=manager, **{**args, **overrides})
    assert fields_of(caught) == [field]


def test_moving_a_project_to_another_initiative_takes_its_register_items(manager, one_event):
    project = ProjectFactory()
    item = RegisterItemFactory(initiative=project.initiative, project=project)
    other = InitiativeFactory()
    with one_event("project.updated") as recorded:
        services.project_update(actor=manager, project=project, version=1, initiative=other)
    assert RegisterItem.objects.get(pk=item.pk).initiative == other
    assert recorded.event.new_data == {"initiative": other.pk}


def test_project_update_refuses_an_end_before_the_start_and_a_stale_version(manager, unchanged):
    project = ProjectFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.project_update(actor=manager, project=project, version=1, end=datetime.date(2025, 1, 1))
    assert fields_of(caught) == ["end"]
    project = Project.objects.get()
    services.project_update(actor=manager, project=Project.objects.get(), version=1, name="Renamed")
    with unchanged(), pytest.raises(StaleVersion):
        services.project_update(actor=manager, project=project, version=1, name="Again")


def test_a_project_with_register_items_is_not_deleted(manager, unchanged):
    project = ProjectFactory(name="Build")
    RegisterItemFactory(initiative=project.initiative, project=project)
    with unchanged(), pytest.raises(Conflict, match="Build is still used by 1 register item"):
        services.project_delete(actor=manager, project=project)


def test_a_project_is_deleted_and_recorded(manager, one_event):
    project = ProjectFactory(name="Build")
    with one_event("project.deleted"):
        services.project_delete(actor=manager, project=project)
    assert not Project.objects.exists()


# Spend


def test_spend_is_recorded_on_the_first_day_of_its_month_against_the_initiative(manager, one_event):
    initiative = InitiativeFactory()
    department = DepartmentFactory()
    with one_event("spend.recorded") as recorded:
        spend = services.spend_record(
            actor=manager,
            initiative=initiative,
            department=department,
            month=datetime.date(2026, 3, 17),
            planned=Decimal("12000"),
        )
    spend = Spend.objects.get(pk=spend.pk)
    assert (spend.month, spend.planned, spend.actual, spend.variance) == (MAR, Decimal("12000"), None, None)
    assert (recorded.event.object_type, recorded.event.object_id) == ("portfolio.initiative", str(initiative.pk))
    assert recorded.event.new_data == {
        "id": spend.pk,
        "department": department.pk,
        "month": "2026-03-01",
        "planned": "12000",
        "actual": None,
    }


@pytest.mark.parametrize(
    ("amounts", "field", "message"),
    [
        ({"planned": Decimal("-1")}, "planned", "Planned spend cannot be negative."),
        ({"actual": Decimal("-0.01")}, "actual", "Actual spend cannot be negative."),
        ({"planned": Decimal("1.005")}, "planned", "2 decimal places"),
    ],
)
def test_negative_spend_is_refused_naming_the_field(manager, unchanged, amounts, field, message):
    initiative = InitiativeFactory()
    with unchanged(), pytest.raises(ValidationFailed, match=message) as caught:
        services.spend_record(
            actor=manager, initiative=initiative, department=initiative.department, month=JAN, **amounts
        )
    assert fields_of(caught) == [field]


def test_a_second_row_for_the_same_initiative_department_and_month_is_a_conflict(manager, unchanged):
    spend = SpendFactory(month=MAR)
    message = "Spend for this initiative, department and month is already recorded."
    with unchanged(), pytest.raises(Conflict, match=message) as caught:
        services.spend_record(
            actor=manager, initiative=spend.initiative, department=spend.department, month=datetime.date(2026, 3, 31)
        )
    assert caught.value.status == 409


def test_the_same_month_may_be_booked_to_another_department(manager):
    spend = SpendFactory(month=MAR)
    services.spend_record(actor=manager, initiative=spend.initiative, department=DepartmentFactory(), month=MAR)
    assert Spend.objects.count() == 2


def test_booking_the_actuals_records_the_change_on_the_initiative(manager, one_event):
    spend = SpendFactory(planned=Decimal("1000"))
    with one_event("spend.updated") as recorded:
        services.spend_update(actor=manager, spend=spend, version=1, actual=Decimal("1250"))
    spend = Spend.objects.get()
    assert (spend.actual, spend.variance, spend.version) == (Decimal("1250"), Decimal("250"), 2)
    assert recorded.event.object_id == str(spend.initiative_id)
    assert recorded.event.old_data == {"id": spend.pk, "actual": None}
    assert recorded.event.new_data == {"id": spend.pk, "actual": "1250"}


def test_unbooking_the_actuals_sets_them_back_to_empty(manager):
    spend = SpendFactory(actual=Decimal("900"))
    services.spend_update(actor=manager, spend=spend, version=1, actual=None)
    assert Spend.objects.get().actual is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"planned": Decimal("-1")}, "planned"),
        ({"actual": Decimal("-1")}, "actual"),
        ({"planned": None}, "planned"),
        ({"month": MAR}, "month"),
    ],
)
def test_spend_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, field):
    spend = SpendFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.spend_update(actor=manager, spend=spend, version=1, **changes)
    assert fields_of(caught) == [field]


def test_spend_update_with_a_stale_version_is_refused(manager, unchanged):
    spend = SpendFactory()
    services.spend_update(actor=manager, spend=Spend.objects.get(), version=1, planned=Decimal("1"))
    with unchanged(), pytest.raises(StaleVersion):
        services.spend_update(actor=manager, spend=spend, version=1, planned=Decimal("2"))


def test_spend_delete_is_recorded_on_the_initiative(manager, one_event):
    spend = SpendFactory()
    with one_event("spend.deleted") as recorded:
        services.spend_delete(actor=manager, spend=spend)
    assert not Spend.objects.exists()
    assert recorded.event.object_id == str(spend.initiative_id)
    assert recorded.event.old_data["month"] == "2026-01-01"


# Allocations


def test_allocation_create_records_it_on_the_initiative(manager, one_event):
    initiative, team = InitiativeFactory(), TeamFactory()
    with one_event("allocation.created") as recorded:
        allocation = services.allocation_create(
            actor=manager, initiative=initiative, team=team, start=MAR, end=DEC, amount=Decimal("7.5")
        )
    assert Allocation.objects.get(pk=allocation.pk).unit == "person_days"
    assert recorded.event.object_id == str(initiative.pk)
    assert recorded.event.new_data == {
        "id": allocation.pk,
        "team": team.pk,
        "start": "2026-03-01",
        "end": "2026-12-31",
        "unit": "person_days",
        "amount": "7.5",
        "note": "",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-3")}, "amount"),
        ({"end": datetime.date(2026, 2, 1)}, "end"),
        ({"unit": "hours"}, "unit"),
        ({"amount": Decimal("1.25")}, "amount"),
    ],
)
def test_allocation_create_refuses_bad_input(manager, unchanged, overrides, field):
    args = {"initiative": InitiativeFactory(), "team": TeamFactory(), "start": MAR, "end": DEC, "amount": Decimal("5")}
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.allocation_create(actor=manager, **{**args, **overrides})
    assert fields_of(caught) == [field] and caught.value.status == 422


def test_an_allocation_above_a_hundred_percent_is_kept_as_entered(manager):
    allocation = services.allocation_create(
        actor=manager,
        initiative=InitiativeFactory(),
        team=TeamFactory(),
        start=MAR,
        end=DEC,
        unit="percent",
        amount=Decimal("150"),
    )
    allocation = Allocation.objects.get(pk=allocation.pk)
    assert allocation.amount == Decimal("150") and allocation.above_full_capacity


def test_an_allocation_beyond_the_teams_capacity_in_person_days_is_kept(manager):
    team = TeamFactory(capacity_person_days_per_week=Decimal("10"))
    services.allocation_create(actor=manager, initiative=InitiativeFactory(), team=team, start=MAR, end=DEC, amount=30)
    assert Allocation.objects.get().amount == Decimal("30")


def test_allocation_update_records_what_changed_and_refuses_bad_input(manager, one_event, unchanged):
    allocation, other = AllocationFactory(), InitiativeFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.allocation_update(actor=manager, allocation=allocation, version=1, amount=Decimal("0"))
    assert fields_of(caught) == ["amount"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.allocation_update(actor=manager, allocation=allocation, version=1, initiative=other)
    assert fields_of(caught) == ["initiative"]
    allocation = Allocation.objects.get(pk=allocation.pk)
    with one_event("allocation.updated") as recorded:
        services.allocation_update(actor=manager, allocation=allocation, version=1, unit="percent", amount=120)
    assert recorded.event.old_data == {"id": allocation.pk, "unit": "person_days", "amount": "10.0"}
    assert recorded.event.new_data == {"id": allocation.pk, "unit": "percent", "amount": "120"}


def test_allocation_update_with_a_stale_version_is_refused(manager, unchanged):
    allocation = AllocationFactory()
    services.allocation_update(actor=manager, allocation=Allocation.objects.get(), version=1, note="first")
    with unchanged(), pytest.raises(StaleVersion):
        services.allocation_update(actor=manager, allocation=allocation, version=1, note="second")


def test_allocation_delete_is_recorded_on_the_initiative(manager, one_event):
    allocation = AllocationFactory()
    with one_event("allocation.deleted") as recorded:
        services.allocation_delete(actor=manager, allocation=allocation)
    assert not Allocation.objects.exists() and recorded.event.object_id == str(allocation.initiative_id)


# The register


def test_a_lesson_is_recorded_with_normalised_tags(manager, one_event):
    initiative = InitiativeFactory()
    with one_event("register_item.created") as recorded:
        item = services.register_item_create(
            actor=manager,
            kind="lesson",
            title=" Book UAT early ",
            category="environments",
            initiative=initiative,
            raised_on=MAR,
            tags=["Test Data", "UAT", "uat", "  ", "environment-contention"],
        )
    item = RegisterItem.objects.get(pk=item.pk)
    assert (item.title, item.status, item.closed_on) == ("Book UAT early", "recorded", None)
    assert item.tag_names == ["environment-contention", "test-data", "uat"]
    assert recorded.event.new_data["tags"] == ["environment-contention", "test-data", "uat"]
    assert recorded.event.new_data["status"] == "recorded"


def test_a_risk_raised_on_a_project_is_on_the_projects_initiative_and_open(manager):
    project = ProjectFactory()
    item = services.register_item_create(
        actor=manager, kind="risk", title="Vendor late", category="vendor", project=project
    )
    item = RegisterItem.objects.get(pk=item.pk)
    assert (item.initiative, item.project, item.status, item.raised_on) == (
        project.initiative,
        project,
        "open",
        datetime.date.today(),
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"initiative": None}, "initiative", "Link the item to an initiative or a project."),
        ({"status": "recorded"}, "status", "A risk is open, mitigating or closed."),
        ({"kind": "lesson", "status": "open"}, "status", "A lesson is recorded"),
        ({"status": "open", "closed_on": MAR}, "closed_on", "Only a closed item has a closing date."),
        ({"status": "closed", "closed_on": datetime.date(2026, 2, 1)}, "closed_on", "cannot be closed before"),
        ({"tags": ["x" * 41]}, "tags", "longer than 40 characters"),
        ({"tags": [f"tag{n}" for n in range(11)]}, "tags", "at most 10 tags"),
        ({"tags": ["-leading"]}, "tags", "may hold letters, digits"),
        ({"tags": ["semi;colon"]}, "tags", "may hold letters, digits"),
        ({"category": "weather"}, "category", "not a valid choice"),
        ({"impact": "apocalyptic"}, "impact", "not a valid choice"),
        ({"title": " "}, "title", "cannot be blank"),
    ],
)
def test_register_item_create_refuses_bad_input_naming_the_field(manager, unchanged, overrides, field, message):
    args = {
        "kind": "risk",
        "title": "Risk",
        "category": "testing",
        "initiative": InitiativeFactory(),
        "raised_on": MAR,
        **overrides,
    }
    with unchanged(), pytest.raises(ValidationFailed, match=message) as caught:
        services.register_item_create(actor=manager, **args)
    assert fields_of(caught) == [field]


def test_a_project_of_another_initiative_is_refused(manager, unchanged):
    project = ProjectFactory(name="Build")
    other = InitiativeFactory(name="Other")
    with unchanged(), pytest.raises(ValidationFailed, match="Project Build belongs to initiative") as caught:
        services.register_item_create(
            actor=manager, kind="issue", title="Issue", category="data", initiative=other, project=project
        )
    assert fields_of(caught) == ["project"]


def test_ten_tags_of_forty_characters_are_accepted(manager):
    tags = [f"{n}" + "x" * 39 for n in range(10)]
    item = services.register_item_create(
        actor=manager, kind="risk", title="Tagged", category="other", initiative=InitiativeFactory(), tags=tags
    )
    assert len(item.tag_names) == 10 and RegisterTag.objects.count() == 10


def test_a_risk_created_closed_is_closed_today_unless_a_date_is_given(manager):
    initiative = InitiativeFactory()
    today = services.register_item_create(
        actor=manager, kind="risk", title="A", category="other", initiative=initiative, status="closed", raised_on=MAR
    )
    dated = services.register_item_create(
        actor=manager,
        kind="risk",
        title="B",
        category="other",
        initiative=initiative,
        status="closed",
        raised_on=MAR,
        closed_on=MAR,
    )
    assert today.closed_on == datetime.date.today() and dated.closed_on == MAR


def test_closing_a_risk_is_recorded_as_closed(manager, one_event):
    item = RegisterItemFactory(raised_on=MAR)
    with one_event("register_item.closed") as recorded:
        services.register_item_close(actor=manager, item=item, version=1, closed_on=datetime.date(2026, 4, 1))
    item = RegisterItem.objects.get()
    assert (item.status, item.closed_on) == ("closed", datetime.date(2026, 4, 1))
    assert recorded.event.old_data == {"status": "open", "closed_on": None}
    assert recorded.event.new_data == {"status": "closed", "closed_on": "2026-04-01"}


def test_closing_through_an_update_is_recorded_as_closed_and_reopening_clears_the_date(manager, one_event):
    item = RegisterItemFactory(raised_on=MAR, status="mitigating")
    with one_event("register_item.closed"):
        services.register_item_update(actor=manager, item=item, version=1, status="closed")
    assert RegisterItem.objects.get().closed_on == datetime.date.today()
    item = RegisterItem.objects.get()
    with one_event("register_item.reopened") as recorded:
        services.register_item_update(actor=manager, item=item, version=2, status="open")
    item = RegisterItem.objects.get()
    assert (item.status, item.closed_on) == ("open", None)
    assert recorded.event.new_data == {"status": "open", "closed_on": None}


@pytest.mark.parametrize(
    ("arrange", "error", "message"),
    [
        ({"kind": "lesson"}, ValidationFailed, "A lesson is recorded"),
        ({"status": "closed", "closed_on": MAR}, Conflict, "is already closed"),
    ],
)
def test_a_lesson_or_a_closed_item_cannot_be_closed(manager, unchanged, arrange, error, message):
    item = RegisterItemFactory(raised_on=MAR, **arrange)
    with unchanged(), pytest.raises(error, match=message):
        services.register_item_close(actor=manager, item=item, version=1)


def test_closing_before_it_was_raised_is_refused(manager, unchanged):
    item = RegisterItemFactory(raised_on=MAR)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.register_item_close(actor=manager, item=item, version=1, closed_on=datetime.date(2026, 2, 28))
    assert fields_of(caught) == ["closed_on"]


def test_turning_a_risk_into_a_lesson_takes_the_lessons_status(manager, one_event):
    item = RegisterItemFactory(kind="risk", status="closed", closed_on=datetime.date(2026, 4, 1), raised_on=MAR)
    with one_event("register_item.reopened"):
        services.register_item_update(actor=manager, item=item, version=1, kind="lesson")
    item = RegisterItem.objects.get()
    assert (item.kind, item.status, item.closed_on) == ("lesson", "recorded", None)


def test_register_item_update_replaces_the_tags_and_records_them(manager, one_event):
    item = RegisterItemFactory(tags=["old", "kept"])
    with one_event("register_item.updated") as recorded:
        services.register_item_update(actor=manager, item=item, version=1, tags=["Kept", "New One"])
    assert RegisterItem.objects.get().tag_names == ["kept", "new-one"]
    assert recorded.event.old_data == {"tags": ["kept", "old"]}
    assert recorded.event.new_data == {"tags": ["kept", "new-one"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tags": ["a"] + [f"t{n}" for n in range(10)]}, "tags"),
        ({"status": "recorded"}, "status"),
        ({"initiative": None}, "initiative"),
        ({"raised_on": None}, "raised_on"),
        ({"title": None}, "title"),
        ({"closed_on": MAR}, "closed_on"),
    ],
)
def test_register_item_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, field):
    item = RegisterItemFactory(tags=["kept"])
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.register_item_update(actor=manager, item=item, version=1, **changes)
    assert fields_of(caught) == [field]


def test_register_item_update_with_a_stale_version_is_refused(manager, unchanged):
    item = RegisterItemFactory()
    services.register_item_update(actor=manager, item=RegisterItem.objects.get(), version=1, impact="high")
    with unchanged(), pytest.raises(StaleVersion):
        services.register_item_update(actor=manager, item=item, version=1, impact="low")


def test_register_item_delete_removes_its_tags(manager, one_event):
    item = RegisterItemFactory(tags=["a", "b"], title="Gone")
    with one_event("register_item.deleted") as recorded:
        services.register_item_delete(actor=manager, item=item)
    assert not RegisterItem.objects.exists() and not RegisterTag.objects.exists()
    assert recorded.event.old_data == {"name": "Gone"}


# Permissions


def _writes(actor):
    """Every portfolio write, ready to call as `actor` on rows the test arranged."""
    portfolio = PortfolioFactory(name="Portfolio")
    spare = PortfolioFactory(name="Spare")
    initiative = InitiativeFactory(portfolio=portfolio)
    empty_initiative = InitiativeFactory()
    project = ProjectFactory(initiative=initiative)
    spend = SpendFactory(initiative=initiative)
    allocation = AllocationFactory(initiative=initiative)
    item = RegisterItemFactory(initiative=initiative)
    team = TeamFactory()
    return {
        "portfolio_create": lambda: services.portfolio_create(actor=actor, name="New"),
        "portfolio_update": lambda: services.portfolio_update(actor=actor, portfolio=portfolio, version=1, name="X"),
        "portfolio_delete": lambda: services.portfolio_delete(actor=actor, portfolio=spare),
        "initiative_create": lambda: services.initiative_create(
            actor=actor, portfolio=portfolio, department=initiative.department, name="New", start=JAN, end=DEC
        ),
        "initiative_update": lambda: services.initiative_update(
            actor=actor, initiative=initiative, version=1, status="on_hold"
        ),
        "initiative_delete": lambda: services.initiative_delete(actor=actor, initiative=empty_initiative),
        "project_create": lambda: services.project_create(
            actor=actor, initiative=initiative, owner_team=team, name="New", start=JAN, end=DEC
        ),
        "project_update": lambda: services.project_update(actor=actor, project=project, version=1, name="X"),
        "project_delete": lambda: services.project_delete(actor=actor, project=project),
        "spend_record": lambda: services.spend_record(
            actor=actor, initiative=initiative, department=initiative.department, month=MAR
        ),
        "spend_update": lambda: services.spend_update(actor=actor, spend=spend, version=1, actual=Decimal("1")),
        "spend_delete": lambda: services.spend_delete(actor=actor, spend=spend),
        "allocation_create": lambda: services.allocation_create(
            actor=actor, initiative=initiative, team=team, start=JAN, end=DEC, amount=Decimal("1")
        ),
        "allocation_update": lambda: services.allocation_update(
            actor=actor, allocation=allocation, version=1, note="x"
        ),
        "allocation_delete": lambda: services.allocation_delete(actor=actor, allocation=allocation),
        "register_item_create": lambda: services.register_item_create(
            actor=actor, kind="lesson", title="New", category="testing", initiative=initiative
        ),
        "register_item_update": lambda: services.register_item_update(actor=actor, item=item, version=1, impact="high"),
        "register_item_close": lambda: services.register_item_close(actor=actor, item=item, version=1),
        "register_item_delete": lambda: services.register_item_delete(actor=actor, item=item),
    }


EVENTS = {
    "portfolio_create": "portfolio.created",
    "portfolio_update": "portfolio.updated",
    "portfolio_delete": "portfolio.deleted",
    "initiative_create": "initiative.created",
    "initiative_update": "initiative.updated",
    "initiative_delete": "initiative.deleted",
    "project_create": "project.created",
    "project_update": "project.updated",
    "project_delete": "project.deleted",
    "spend_record": "spend.recorded",
    "spend_update": "spend.updated",
    "spend_delete": "spend.deleted",
    "allocation_create": "allocation.created",
    "allocation_update": "allocation.updated",
    "allocation_delete": "allocation.deleted",
    "register_item_create": "register_item.created",
    "register_item_update": "register_item.updated",
    "register_item_close": "register_item.closed",
    "register_item_delete": "register_item.deleted",
}
WRITES = list(EVENTS)
PROJECT_MANAGER_WRITES = [write for write in WRITES if write.startswith(("project_", "register_item_"))]


@pytest.mark.parametrize("write", WRITES)
def test_portfolio_managers_make_every_change_with_one_event(manager, one_event, write):
    call = _writes(manager)[write]
    with one_event(EVENTS[write]) as recorded:
        call()
    assert recorded.event.actor == manager


@pytest.mark.parametrize("write", PROJECT_MANAGER_WRITES)
def test_project_managers_change_projects_and_the_register(project_manager, one_event, write):
    call = _writes(project_manager)[write]
    with one_event(EVENTS[write]):
        call()


@pytest.mark.parametrize("write", [write for write in WRITES if write.startswith("register_item_")])
def test_release_managers_keep_the_register(make_user, one_event, write):
    call = _writes(make_user(Role.RELEASE_MANAGER))[write]
    with one_event(EVENTS[write]):
        call()


@pytest.mark.parametrize(
    ("role", "write"),
    [(Role.VIEWER, write) for write in WRITES]
    + [(Role.PROJECT_MANAGER, write) for write in WRITES if write not in PROJECT_MANAGER_WRITES]
    + [(Role.RELEASE_MANAGER, write) for write in WRITES if not write.startswith("register_item_")],
)
def test_other_roles_are_refused_and_nothing_changes(make_user, unchanged, role, write):
    call = _writes(make_user(role))[write]
    with unchanged(), pytest.raises(PermissionDenied, match=r"\(portfolio\."):
        call()


def test_the_operator_at_the_command_line_may_change_the_portfolio(one_event):
    with one_event("portfolio.created") as recorded:
        services.portfolio_create(actor=None, name="Operator's")
    assert recorded.event.actor is None and recorded.event.source == "cli"
