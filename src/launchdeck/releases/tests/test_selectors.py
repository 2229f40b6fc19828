"""Reading release planning: health facts in bulk, lists that filter, the release page's data, regression
suggestions, the timeline, the calendar, the impact matrix, the reports, templates and freezes; each restricted
to what the user may see and read in a fixed number of queries."""

from datetime import date

import pytest

from launchdeck.audit.services import audit_record
from launchdeck.catalog.tests.factories import SystemDependencyFactory, SystemFactory
from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.tests.factories import DepartmentFactory
from launchdeck.portfolio.tests.factories import (
    InitiativeFactory,
    PortfolioFactory,
    ProjectFactory,
    RegisterItemFactory,
)
from launchdeck.releases import selectors
from launchdeck.releases.health import HealthFacts, release_health
from launchdeck.releases.models import Release
from launchdeck.releases.tests.factories import (
    END,
    START,
    FreezeWindowFactory,
    GateApprovalFactory,
    GateCriterionFactory,
    GateFactory,
    GateTemplateFactory,
    MilestoneFactory,
    MilestoneTemplateFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    ReleaseTemplateFactory,
    TrainFactory,
)

TODAY = date(2026, 4, 15)
D = date

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(viewer):
    viewer.roles  # noqa: B018 - load the roles now, so query counts measure the selector alone
    return viewer


@pytest.fixture
def nobody(make_user):
    """A signed-in user with no role: may see nothing."""
    user = make_user(username="nobody")
    user.roles  # noqa: B018
    return user


def release(name="R", start=START, end=END, **fields):
    fields.setdefault("planned_start", start)
    fields.setdefault("planned_end", end)
    return ReleaseFactory(name=name, **fields)


# Health facts


@pytest.fixture
def measured():
    """A release with one of every fact the health rule reads."""
    measured = release("Payments 4.2", status="in_progress", baseline_end=D(2026, 6, 12), planned_end=D(2026, 6, 26))
    MilestoneFactory(release=measured, name="Late", planned_date=D(2026, 4, 1))
    MilestoneFactory(release=measured, name="Later", planned_date=D(2026, 4, 10))
    MilestoneFactory(release=measured, name="Reached", planned_date=D(2026, 3, 20), actual_date=D(2026, 3, 21))
    MilestoneFactory(release=measured, name="Ahead", planned_date=D(2026, 5, 1))
    MilestoneFactory(release=measured, name="Due today", planned_date=TODAY)
    GateFactory(release=measured, name="Open late", due_date=D(2026, 4, 2))
    GateFactory(release=measured, name="Open ahead", due_date=D(2026, 5, 2))
    GateFactory(release=measured, name="Passed late", due_date=D(2026, 3, 2), status="passed")
    GateFactory(release=measured, name="Rejected", due_date=D(2026, 5, 2), status="rejected")
    GateFactory(release=measured, name="Overridden 1", due_date=D(2026, 3, 2), status="overridden")
    GateFactory(release=measured, name="Overridden 2", due_date=D(2026, 5, 2), status="overridden")
    # 10 days all done + 30 days not started = 25% by duration; the skipped phase does not count; a phase marked
    # done counts as complete whatever its percentage says.
    PhaseFactory(
        release=measured, name="Build", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 11), percent_complete=100
    )
    PhaseFactory(release=measured, name="SIT", kind="sit", planned_start=D(2026, 3, 12), planned_end=D(2026, 4, 10))
    PhaseFactory(
        release=measured, name="Skipped", planned_start=D(2026, 3, 2), planned_end=D(2026, 6, 26), status="skipped"
    )
    for tier in (1, 2, 3, 3, 4):
        ReleaseSystemFactory(release=measured, system=SystemFactory(tier=tier))
    return measured


def test_health_facts_gather_every_fact_of_a_release_in_five_queries(measured, django_assert_num_queries):
    other = release("Quiet")
    with django_assert_num_queries(5):
        facts = selectors.release_health_facts([measured.pk, other.pk], today=TODAY)
    assert facts[measured.pk] == HealthFacts(
        release_id=measured.pk,
        name="Payments 4.2",
        planned_start=D(2026, 3, 2),
        planned_end=D(2026, 6, 26),
        kind="project",
        status="in_progress",
        baseline_end=D(2026, 6, 12),
        slip_working_days=10,
        overdue_milestones=2,
        oldest_overdue_milestone=D(2026, 4, 1),
        overdue_gates=1,
        oldest_overdue_gate=D(2026, 4, 2),
        rejected_gates=1,
        overridden_gates=2,
        progress=25.0,
        systems_by_tier=(1, 1, 2, 1),
    )
    assert facts[other.pk] == HealthFacts(
        release_id=other.pk, name="Quiet", planned_start=D(2026, 3, 2), planned_end=D(2026, 6, 26), status="draft"
    )


def test_slip_is_counted_in_working_days_of_each_release_calendar_in_two_more_queries(django_assert_num_queries):
    from launchdeck.org.models import CalendarClosure
    from launchdeck.org.tests.factories import CalendarFactory

    england = CalendarFactory(country="GB", subdivision="ENG")
    shutdown = CalendarFactory()
    CalendarClosure.objects.create(calendar=shutdown, name="Summer shutdown", start=D(2026, 6, 15), end=D(2026, 6, 19))
    # Fri 12 Jun to Fri 26 Jun 2026: 10 weekdays; the shutdown takes 5 of them. Thu 24 Dec 2026 to Mon 4 Jan 2027:
    # 7 weekdays after the baseline; England keeps Christmas, Boxing Day (observed Mon 28th) and New Year's Day: 4.
    weekends_only = release("Weekends only", baseline_end=D(2026, 6, 12), planned_end=D(2026, 6, 26))
    with_shutdown = release("Shutdown", calendar=shutdown, baseline_end=D(2026, 6, 12), planned_end=D(2026, 6, 26))
    english = release(
        "English", calendar=england, end=D(2027, 1, 4), baseline_end=D(2026, 12, 24), planned_end=D(2027, 1, 4)
    )
    early = release("Early", calendar=england, baseline_end=D(2026, 7, 1), planned_end=D(2026, 6, 26))
    ids = [weekends_only.pk, with_shutdown.pk, english.pk, early.pk]
    with django_assert_num_queries(7):
        facts = selectors.release_health_facts(ids, today=TODAY)
    assert [facts[pk].slip_working_days for pk in ids] == [10, 5, 4, None]
    assert [
        dict((f.key, f.points) for f in release_health(facts[pk], today=TODAY).factors).get("schedule_slip")
        for pk in ids
    ] == [
        10,
        5,
        4,
        None,
    ]


def test_a_phase_marked_done_counts_as_complete():
    done = release("Done")
    PhaseFactory(
        release=done, planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 3), status="done", percent_complete=0
    )
    assert selectors.release_health_facts([done.pk], today=TODAY)[done.pk].progress == 100.0


def test_health_facts_of_a_train_carry_its_children_and_of_every_release_without_ids(measured):
    train = TrainFactory(name="Winter train")
    child = release("Child", train=train)
    facts = selectors.release_health_facts([train.pk], today=TODAY)
    assert list(facts) == [train.pk]
    assert [item.release_id for item in facts[train.pk].children] == [child.pk]
    everything = selectors.release_health_facts(today=TODAY)
    assert set(everything) == {measured.pk, train.pk, child.pk}
    assert everything[measured.pk].overdue_milestones == 2


def test_health_facts_for_many_ids_read_every_release_once_and_keep_the_asked(monkeypatch, measured):
    other = release("Other")
    monkeypatch.setattr(selectors, "MAX_LISTED_IDS", 1)
    facts = selectors.release_health_facts([measured.pk, other.pk], today=TODAY)
    assert set(facts) == {measured.pk, other.pk} and facts[measured.pk].rejected_gates == 1


def test_the_health_map_applies_the_one_rule_in_five_queries(reader, measured, django_assert_num_queries):
    with django_assert_num_queries(5):
        health = selectors.release_health_map(user=reader, today=TODAY)
    facts = selectors.release_health_facts([measured.pk], today=TODAY)[measured.pk]
    assert health[measured.pk] == release_health(facts, today=TODAY)
    # 10 slip + 16 milestones + 10 gate + 15 rejected + 10 overridden + 6 behind (38% elapsed, 25% done) + 7 systems
    assert (health[measured.pk].status, health[measured.pk].score) == ("red", 74)


def test_health_rolls_a_train_up_from_its_children(reader):
    train = TrainFactory(name="Winter train")
    late = release("Late child", train=train, status="planned")
    GateFactory(release=late, due_date=D(2026, 4, 1))
    GateFactory(release=late, due_date=D(2026, 4, 2))
    GateFactory(release=late, due_date=D(2026, 4, 3))
    GateFactory(release=late, status="rejected")
    GateFactory(release=late, status="rejected")
    health = selectors.release_health_for(user=reader, release=train, today=TODAY)
    assert (health.status, health.score) == ("red", 60)
    assert health.factors[-1].detail == "Child release Late child is red (score 60)."


def test_a_user_without_a_role_gets_no_health(nobody, measured, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.release_health_map(user=nobody, today=TODAY) == {}
    with pytest.raises(NotFound):
        selectors.release_health_for(user=nobody, release=measured)


# Lists


@pytest.fixture
def estate():
    top = PortfolioFactory(name="Top")
    sub = PortfolioFactory(name="Sub", parent=top)
    sales = DepartmentFactory(name="Sales")
    initiative = InitiativeFactory(name="Growth", portfolio=top, department=sales)
    project = ProjectFactory(name="Shop", initiative=initiative)
    train = TrainFactory(name="Winter train", planned_start=D(2026, 10, 1), planned_end=D(2026, 12, 18))
    core = SystemFactory(name="Core")
    return {
        "top": top,
        "sub": sub,
        "sales": sales,
        "initiative": initiative,
        "project": project,
        "train": train,
        "core": core,
        "direct": release("Direct", portfolio=top, status="planned"),
        "via initiative": release("Via initiative", initiative=initiative, start=D(2026, 7, 1), end=D(2026, 7, 31)),
        "via project": release("Via project", project=project, kind="independent"),
        "in sub": release("In sub", portfolio=sub),
        "child": release("Child", train=train, start=D(2026, 10, 5), end=D(2026, 11, 30), status="in_progress"),
        "scoped": ReleaseSystemFactory(release=release("Scoped"), system=core).release,
    }


def names(releases) -> list[str]:
    return sorted(item.name for item in releases)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"search": "via"}, ["Via initiative", "Via project"]),
        ({"kind": "enterprise"}, ["Winter train"]),
        ({"kind": ["enterprise", "independent"]}, ["Via project", "Winter train"]),
        ({"status": "planned"}, ["Direct"]),
        ({"status": ["planned", "in_progress"]}, ["Child", "Direct"]),
        ({"open": True, "kind": "enterprise"}, ["Winter train"]),
        ({"train": "train"}, ["Child"]),
        ({"portfolio": "top"}, ["Direct", "Via initiative", "Via project"]),
        ({"portfolio": "sub"}, ["In sub"]),
        ({"initiative": "initiative"}, ["Via initiative", "Via project"]),
        ({"project": "project"}, ["Via project"]),
        ({"department": "sales"}, ["Via initiative", "Via project"]),
        ({"system": "core"}, ["Scoped"]),
        ({"start": "2026-06-27", "end": "2026-09-30"}, ["Via initiative"]),
        ({"start": D(2026, 11, 30)}, ["Child", "Winter train"]),
        ({"end": D(2026, 3, 2), "search": "in"}, ["In sub"]),
        ({"search": "", "status": None, "kind": []}, None),
    ],
)
def test_release_list_filters(reader, estate, filters, expected):
    resolved = {key: estate.get(value, value) if isinstance(value, str) else value for key, value in filters.items()}
    resolved = {key: (value.pk if hasattr(value, "pk") else value) for key, value in resolved.items()}
    everything = names(
        estate[key]
        for key in estate
        if key in {"train", "direct", "via initiative", "via project", "in sub", "child", "scoped"}
    )
    assert names(selectors.release_list(user=reader, filters=resolved)) == (expected or everything)


def test_release_list_refuses_a_window_that_ends_before_it_starts_and_a_bad_date(reader):
    with pytest.raises(ValidationFailed) as error:
        selectors.release_list(user=reader, filters={"start": "2026-05-01", "end": "2026-04-01"})
    assert error.value.errors == [{"field": "end", "message": "The end date cannot be before the start."}]
    with pytest.raises(ValidationFailed):
        selectors.release_list(user=reader, filters={"start": "1st of May"})


def test_release_list_shows_nothing_to_a_user_without_a_role(nobody, estate):
    assert list(selectors.release_list(user=nobody)) == []
    assert list(selectors.release_list(user=None)) != []  # the trusted operator sees everything


def test_release_list_reads_any_number_of_releases_with_their_links_in_one_query(
    reader, estate, django_assert_num_queries
):
    with django_assert_num_queries(1):
        rows = list(selectors.release_list(user=reader))
        labels = [
            (row.name, row.train and row.train.name, row.initiative and row.initiative.department.name, row.owner)
            for row in rows
        ]
    assert len(labels) == 7
    counts = {row.name: (row.child_count, row.system_count) for row in rows}
    assert counts["Winter train"] == (1, 0) and counts["Scoped"] == (0, 1)


def test_release_get_reads_the_whole_release_page_in_eight_queries(reader, measured, django_assert_num_queries):
    gate = measured.gates.get(name="Open late")
    GateCriterionFactory(gate=gate, text="Test report signed")
    GateApprovalFactory(gate=gate)
    release("Child of nothing")
    with django_assert_num_queries(8):
        got = selectors.release_get(user=reader, pk=measured.pk)
        phases = [phase.name for phase in got.phases.all()]
        milestones = [(m.name, m.phase) for m in got.milestones.all()]
        gates = {
            g.name: ([c.text for c in g.criteria.all()], [a.approver.username for a in g.approvals.all()], g.phase)
            for g in got.gates.all()
        }
        scope = [item.system.tier for item in got.scope.all()]
        children = list(got.children.all())
    assert phases == ["Build", "SIT", "Skipped"]
    assert milestones[0] == ("Reached", None)
    assert gates["Open late"][0] == ["Test report signed"] and len(gates["Open late"][1]) == 1
    assert sorted(scope) == [1, 2, 3, 3, 4] and children == []


def test_release_get_of_an_unknown_or_invisible_release_is_not_found(nobody, reader, measured):
    with pytest.raises(NotFound):
        selectors.release_get(user=nobody, pk=measured.pk)
    with pytest.raises(NotFound):
        selectors.release_get(user=reader, pk=measured.pk + 1000)


# Regression suggestions


def test_regression_suggestions_are_the_systems_downstream_of_the_impacted_ones_not_yet_in_scope(reader):
    core, api, web, app, batch, shared = (
        SystemFactory(name=name) for name in ("Core", "API", "Web", "App", "Batch", "Shared")
    )
    SystemDependencyFactory(source=api, target=core)  # api depends on core: a change to core may break api
    SystemDependencyFactory(source=web, target=api)
    SystemDependencyFactory(source=app, target=web)  # app is in scope already: not suggested
    SystemDependencyFactory(source=core, target=batch)  # upstream of core: not suggested
    SystemDependencyFactory(source=shared, target=web)
    SystemDependencyFactory(source=shared, target=app)  # reached through app as well; web is nearer
    planned = release("Planned")
    ReleaseSystemFactory(release=planned, system=core)
    ReleaseSystemFactory(release=planned, system=app, impact="regression")
    suggestions = selectors.release_regression_suggestions(user=reader, release=planned)
    assert [(system.name, via.name) for system, via in suggestions] == [
        ("API", "Core"),
        ("Web", "Core"),
        ("Shared", "Core"),
    ]


def test_no_regression_suggestions_without_impacted_systems(reader):
    planned = release("Planned")
    ReleaseSystemFactory(release=planned, impact="regression")
    assert selectors.release_regression_suggestions(user=reader, release=planned) == []


# The timeline


@pytest.fixture
def timeline_estate(estate):
    train, child, direct = estate["train"], estate["child"], estate["direct"]
    PhaseFactory(
        release=child,
        name="SIT",
        kind="sit",
        planned_start=D(2026, 10, 5),
        planned_end=D(2026, 10, 30),
        percent_complete=40,
    )
    MilestoneFactory(release=child, name="Deploy", kind="deploy", planned_date=D(2026, 11, 30))
    MilestoneFactory(release=child, name="Code freeze", kind="code_freeze", planned_date=D(2026, 10, 16))
    GateFactory(release=child, name="Go/no-go", due_date=D(2026, 11, 27))
    FreezeWindowFactory(name="Year-end freeze", starts_on=D(2026, 11, 28), ends_on=D(2027, 1, 3))
    ReleaseSystemFactory(release=child, system=estate["core"])
    return {"train": train, "child": child, "direct": direct}


def test_timeline_data_follows_the_contract(reader, timeline_estate):
    train, child = timeline_estate["train"], timeline_estate["child"]
    data = selectors.timeline_data(user=reader, start=D(2026, 10, 1), end=D(2026, 12, 31), today=D(2026, 11, 26))
    assert {key: data[key] for key in ("start", "end", "today", "group_by")} == {
        "start": "2026-10-01",
        "end": "2026-12-31",
        "today": "2026-11-26",
        "group_by": "train",
    }
    assert data["groups"] == [{"id": f"t{train.pk}", "label": "Winter train", "url": f"/releases/{train.pk}/"}]
    assert [row["name"] for row in data["releases"]] == ["Winter train", "Child"]
    row = data["releases"][1]
    phase = child.phases.get()
    deploy, freeze = child.milestones.get(name="Deploy"), child.milestones.get(name="Code freeze")
    gate = child.gates.get()
    assert row == {
        "id": child.pk,
        "name": "Child",
        "groups": [f"t{train.pk}"],
        "kind": "project",
        "status": "in_progress",
        "health": "amber",
        "score": 34,  # 25 behind (91% elapsed, 40% done) + 8 code freeze overdue + 1 system
        "start": "2026-10-05",
        "end": "2026-11-30",
        "url": f"/releases/{child.pk}/",
        "train_id": train.pk,
        "phases": [
            {"id": phase.pk, "name": "SIT", "kind": "sit", "start": "2026-10-05", "end": "2026-10-30", "percent": 40}
        ],
        "milestones": [
            {"id": freeze.pk, "name": "Code freeze", "kind": "code_freeze", "date": "2026-10-16", "in_freeze": False},
            {"id": deploy.pk, "name": "Deploy", "kind": "deploy", "date": "2026-11-30", "in_freeze": True},
        ],
        "gates": [{"id": gate.pk, "name": "Go/no-go", "date": "2026-11-27", "status": "open"}],
    }
    [freeze_row] = data["freezes"]
    assert freeze_row == {
        "id": freeze_row["id"],
        "name": "Year-end freeze",
        "category": "deployment",
        "start": "2026-11-28",
        "end": "2027-01-03",
        "scope": "organisation",
    }


def test_timeline_groups_standalone_releases_together_and_by_portfolio_or_system(reader, timeline_estate, estate):
    window = {"start": D(2026, 3, 1), "end": D(2026, 12, 31)}
    by_train = selectors.timeline_data(user=reader, group_by="train", **window)
    assert [group["label"] for group in by_train["groups"]] == ["Winter train", "Independent and standalone"]
    standalone = {row["name"] for row in by_train["releases"] if row["groups"] == ["standalone"]}
    assert standalone == {"Direct", "Via initiative", "Via project", "In sub", "Scoped"}

    by_portfolio = selectors.timeline_data(user=reader, group_by="portfolio", **window)
    assert [group["label"] for group in by_portfolio["groups"]] == ["Sub", "Top", "No portfolio"]
    top = f"p{estate['top'].pk}"
    assert {row["name"] for row in by_portfolio["releases"] if row["groups"] == [top]} == {
        "Direct",
        "Via initiative",
        "Via project",
    }
    assert by_portfolio["groups"][1]["url"] == f"/portfolio/portfolios/{estate['top'].pk}/view/"

    web = SystemFactory(name="Web")
    ReleaseSystemFactory(release=timeline_estate["child"], system=web)
    by_system = selectors.timeline_data(user=reader, group_by="system", **window)
    assert [group["label"] for group in by_system["groups"]] == ["Core", "Web", "No system in scope"]
    rows = {row["name"]: row["groups"] for row in by_system["releases"]}
    assert rows["Child"] == [f"s{estate['core'].pk}", f"s{web.pk}"]
    assert rows["Scoped"] == [f"s{estate['core'].pk}"] and rows["Direct"] == ["s0"]


def test_timeline_filters_by_portfolio_department_system_and_status(reader, timeline_estate, estate):
    window = {"start": D(2026, 1, 1), "end": D(2026, 12, 31)}

    def shown(**filters):
        return sorted(row["name"] for row in selectors.timeline_data(user=reader, **window, **filters)["releases"])

    assert shown(portfolio=estate["top"].pk) == ["Direct", "Via initiative", "Via project"]
    assert shown(department=estate["sales"].pk) == ["Via initiative", "Via project"]
    assert shown(system=estate["core"].pk) == ["Child", "Scoped"]
    assert shown(status="in_progress") == ["Child"]
    assert shown(status=["planned", "in_progress"]) == ["Child", "Direct"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"start": D(2026, 5, 1), "end": D(2026, 4, 1)}, "end"),
        ({"start": D(2026, 1, 1), "end": D(2030, 1, 1)}, "end"),
        ({"start": D(2026, 1, 1), "end": D(2026, 2, 1), "group_by": "colour"}, "group_by"),
        ({"start": "soon", "end": D(2026, 2, 1)}, "start"),
    ],
)
def test_timeline_refuses_a_bad_window_or_grouping(reader, arguments, field):
    with pytest.raises(ValidationFailed) as error:
        selectors.timeline_data(user=reader, **arguments)
    assert error.value.errors[0]["field"] == field


def test_timeline_shows_nothing_but_freezes_to_a_user_without_a_role(nobody, timeline_estate):
    data = selectors.timeline_data(user=nobody, start=D(2026, 10, 1), end=D(2026, 12, 31))
    assert (data["groups"], data["releases"]) == ([], [])


def many_releases(count: int, *, train=None):
    for number in range(count):
        item = release(f"Bulk {number}", start=D(2026, 10, 1), end=D(2026, 12, 1), train=train)
        PhaseFactory(release=item, planned_start=D(2026, 10, 1), planned_end=D(2026, 10, 20))
        PhaseFactory(release=item, planned_start=D(2026, 10, 21), planned_end=D(2026, 11, 20))
        MilestoneFactory(release=item, kind="deploy", planned_date=D(2026, 11, 30))
        GateFactory(release=item, due_date=D(2026, 11, 30))
        ReleaseSystemFactory(release=item)


TIMELINE_QUERIES = 17


@pytest.mark.parametrize("group_by", ["train", "portfolio", "system"])
def test_timeline_reads_any_number_of_releases_in_a_fixed_number_of_queries(
    reader, timeline_estate, estate, group_by, django_assert_num_queries
):
    Release.objects.filter(pk=estate["train"].pk).update(portfolio=estate["sub"])
    window = {"start": D(2026, 10, 1), "end": D(2026, 12, 31), "group_by": group_by}
    extra = 0 if group_by == "train" else 1  # the portfolios' names, or the systems in scope
    with django_assert_num_queries(TIMELINE_QUERIES + extra):
        small = selectors.timeline_data(user=reader, **window)
    many_releases(12, train=timeline_estate["train"])
    with django_assert_num_queries(TIMELINE_QUERIES + extra):
        large = selectors.timeline_data(user=reader, **window)
    assert len(large["releases"]) == len(small["releases"]) + 12


# The month calendar


def test_the_month_calendar_lists_starts_ends_milestones_gates_and_freezes_by_day(reader):
    shipping = release("Shipping", start=D(2026, 3, 2), end=D(2026, 3, 27))
    MilestoneFactory(release=shipping, name="Deploy", kind="deploy", planned_date=D(2026, 3, 26))
    GateFactory(release=shipping, name="Go", due_date=D(2026, 3, 25))
    FreezeWindowFactory(name="Quarter end", starts_on=D(2026, 3, 26), ends_on=D(2026, 4, 2))
    month = selectors.release_calendar(user=reader, year=2026, month=3, today=D(2026, 3, 10))
    assert (month["title"], month["start"], month["end"]) == ("March 2026", "2026-02-23", "2026-04-05")
    assert (month["previous"], month["next"]) == ({"year": 2026, "month": 2}, {"year": 2026, "month": 4})
    assert len(month["weeks"]) == 6 and all(len(week) == 7 for week in month["weeks"])
    days = {day["date"]: day for week in month["weeks"] for day in week}
    assert days["2026-02-23"]["in_month"] is False and days["2026-03-10"]["is_today"] is True
    assert [entry["name"] for entry in days["2026-03-02"]["starts"]] == ["Shipping"]
    assert [entry["name"] for entry in days["2026-03-27"]["ends"]] == ["Shipping"]
    [deploy] = days["2026-03-26"]["milestones"]
    assert (deploy["name"], deploy["release"], deploy["in_freeze"]) == ("Deploy", "Shipping", "Quarter end")
    assert [gate["name"] for gate in days["2026-03-25"]["gates"]] == ["Go"]
    assert [freeze["name"] for freeze in days["2026-04-02"]["freezes"]] == ["Quarter end"]
    assert days["2026-04-03"]["freezes"] == [] and days["2026-03-25"]["freezes"] == []


@pytest.mark.parametrize(("year", "month", "field"), [(2026, 13, "month"), (2026, 0, "month"), (12, 1, "year")])
def test_the_month_calendar_refuses_a_month_that_does_not_exist(reader, year, month, field):
    with pytest.raises(ValidationFailed) as error:
        selectors.release_calendar(user=reader, year=year, month=month)
    assert error.value.errors[0]["field"] == field


def test_the_month_calendar_is_empty_for_a_user_without_a_role(nobody):
    release("Shipping")
    FreezeWindowFactory(starts_on=D(2026, 3, 2), ends_on=D(2026, 3, 3))
    month = selectors.release_calendar(user=nobody, year=2026, month=3)
    assert not any(day["starts"] or day["freezes"] for week in month["weeks"] for day in week)


# The impact matrix


def test_the_impact_matrix_ranks_systems_by_how_many_releases_touch_them_and_caps_what_it_shows(reader):
    hub, edge, lone = SystemFactory(name="Hub", tier=1), SystemFactory(name="Edge"), SystemFactory(name="Lone")
    first = release("First", start=D(2026, 5, 1), end=D(2026, 6, 1))
    second = release("Second", start=D(2026, 4, 1), end=D(2026, 4, 30))
    third = release("Third", start=D(2026, 9, 1), end=D(2026, 9, 30))
    outside = release("Outside", start=D(2026, 11, 1), end=D(2026, 11, 30))
    cancelled = release("Cancelled", start=D(2026, 5, 1), end=D(2026, 5, 2), status="cancelled")
    for item in (first, second, third, outside, cancelled):
        ReleaseSystemFactory(release=item, system=hub)
    ReleaseSystemFactory(release=first, system=edge, impact="regression")
    ReleaseSystemFactory(release=second, system=edge)
    ReleaseSystemFactory(release=third, system=lone)
    matrix = selectors.impact_matrix(user=reader, start=D(2026, 4, 1), months=6)
    assert (matrix["start"], matrix["end"]) == ("2026-04-01", "2026-09-30")
    assert [(row["name"], row["releases"], row["tier"]) for row in matrix["systems"]] == [
        ("Hub", 3, 1),
        ("Edge", 2, 3),
        ("Lone", 1, 3),
    ]
    assert [column["name"] for column in matrix["releases"]] == ["Second", "First", "Third"]
    assert matrix["cells"] == [[0, 0, 2], [0, 1, 2], [1, 0, 2], [1, 1, 1], [2, 0, 2], [2, 2, 2]]
    assert matrix["left_out"] == {"systems": 0, "releases": 0} and matrix["note"] == ""

    capped = selectors.impact_matrix(user=reader, start=D(2026, 4, 1), max_systems=2, max_releases=2)
    assert [row["name"] for row in capped["systems"]] == ["Hub", "Edge"]
    assert [column["name"] for column in capped["releases"]] == ["Second", "First"]
    assert capped["left_out"] == {"systems": 1, "releases": 1}
    assert capped["note"] == (
        "1 less-touched systems are left out; 1 releases touching none or few of these systems are left out."
    )


def test_the_impact_matrix_refuses_a_bad_span_and_is_empty_for_a_user_without_a_role(reader, nobody):
    with pytest.raises(ValidationFailed):
        selectors.impact_matrix(user=reader, start=D(2026, 4, 1), months=0)
    ReleaseSystemFactory(release=release("Shown"))
    assert selectors.impact_matrix(user=nobody, start=D(2026, 3, 1))["systems"] == []


# Reports


def test_the_release_report_has_scope_dates_gates_approvals_overrides_risks_and_date_history(reader, estate):
    shipping = release(
        "Shipping",
        initiative=estate["initiative"],
        baseline_start=D(2026, 3, 2),
        baseline_end=D(2026, 6, 12),
        status="in_progress",
    )
    ReleaseSystemFactory(release=shipping, system=estate["core"], target_version="4.2")
    phase = PhaseFactory(release=shipping, name="Build", baseline_end=D(2026, 3, 10))
    MilestoneFactory(release=shipping, name="Code freeze", planned_date=D(2026, 4, 1))
    open_gate = GateFactory(release=shipping, name="Ready", phase=phase, due_date=D(2026, 4, 1))
    GateCriterionFactory(gate=open_gate, text="Test plan approved", is_met=True)
    GateApprovalFactory(gate=open_gate, role="release_manager", comment="Fine by me")
    GateFactory(release=shipping, name="Pushed", status="overridden", override_reason="Regulator deadline")
    RegisterItemFactory(initiative=estate["initiative"], title="Vendor late", impact="high")
    RegisterItemFactory(initiative=estate["initiative"], title="A lesson", kind="lesson")
    RegisterItemFactory(title="Elsewhere")
    audit_record(None, "phase.updated", phase, old={"planned_end": "2026-03-10"}, new={"planned_end": "2026-03-13"})
    audit_record(None, "phase.updated", phase, old={"name": "B"}, new={"name": "Build"})
    audit_record(None, "release.renamed", shipping, old={"name": "S"}, new={"name": "Shipping"})

    report = selectors.release_report(user=reader, release=shipping, today=TODAY)
    assert report["release"]["name"] == "Shipping" and report["release"]["slip_days"] == 14
    assert report["release"]["initiative"] == {"id": estate["initiative"].pk, "name": "Growth"}
    assert report["scope"] == [
        {
            "system_id": estate["core"].pk,
            "system": "Core",
            "tier": 3,
            "impact": "impacted",
            "impact_label": "Impacted",
            "target_version": "4.2",
        }
    ]
    assert [(row["name"], row["slip_days"]) for row in report["phases"]] == [("Build", 3)]
    assert [(row["name"], row["overdue"]) for row in report["milestones"]] == [("Code freeze", True)]
    ready = next(row for row in report["gates"] if row["name"] == "Ready")
    assert (ready["phase"], ready["overdue"], ready["approver_roles"]) == ("Build", True, ["Release manager"])
    assert [(c["text"], c["is_met"]) for c in ready["criteria"]] == [("Test plan approved", True)]
    assert [(a["role_label"], a["decision"], a["comment"]) for a in ready["approvals"]] == [
        ("Release manager", "approved", "Fine by me")
    ]
    assert ready["approvals_missing"] == []
    assert [(row["gate"], row["reason"]) for row in report["overrides"]] == [("Pushed", "Regulator deadline")]
    assert report["health"]["score"] == sum(factor["points"] for factor in report["health"]["factors"])
    assert {factor["key"] for factor in report["risks"]["factors"]} >= {"schedule_slip", "overridden_gates"}
    assert [item["title"] for item in report["risks"]["register"]] == ["Vendor late"]
    [change] = report["date_history"]
    assert change["object_type"] == "phase" and change["changes"] == [
        {"field": "planned_end", "label": "Planned end", "old": "2026-03-10", "new": "2026-03-13"}
    ]


def test_the_portfolio_status_report_covers_the_subtree_with_totals(reader, estate):
    late = estate["via initiative"]
    MilestoneFactory(release=late, name="Kick-off", planned_date=D(2026, 7, 1))
    GateFactory(release=late, name="Scope", due_date=D(2026, 4, 1))
    GateFactory(release=late, name="Go", due_date=D(2026, 4, 2))
    GateFactory(release=late, name="Deploy", due_date=D(2026, 4, 3))
    GateFactory(release=estate["via project"], status="rejected")
    GateFactory(release=estate["via project"], status="rejected")
    sub_initiative = InitiativeFactory(name="Sub work", portfolio=estate["sub"])
    release("Sub release", initiative=sub_initiative, status="released")

    report = selectors.portfolio_status_report(user=reader, portfolio=estate["top"], today=TODAY)
    assert report["portfolio_count"] == 2
    assert [row["name"] for row in report["initiatives"]] == ["Sub work", "Growth"]
    growth = report["initiatives"][1]
    assert [row["name"] for row in growth["releases"]] == ["Via project", "Via initiative"]
    row = growth["releases"][1]
    assert (row["health"], row["score"], row["open_gates"]) == ("amber", 30, 3)
    assert row["next_milestone"] == {"name": "Kick-off", "date": D(2026, 7, 1), "overdue": False}
    assert growth["counts"] == {"green": 0, "amber": 2, "red": 0, "total": 2}
    assert [row["name"] for row in report["unassigned"]] == ["Direct", "In sub"]
    assert report["totals"] == {
        "green": 2,
        "amber": 2,
        "red": 0,
        "total": 4,
        "releases": 5,
        "released": 1,
        "cancelled": 0,
        "slipped": 0,
    }
    assert [row["name"] for row in report["worst"]] == ["Via initiative", "Via project"]


# Templates and freeze windows


def test_template_list_and_get_read_a_template_with_its_parts(reader, django_assert_num_queries):
    template = ReleaseTemplateFactory(name="Standard")
    build = PhaseTemplateFactory(template=template, name="Build", position=1)
    PhaseTemplateFactory(template=template, name="SIT", position=2)
    MilestoneTemplateFactory(phase=build, name="Code freeze")
    GateTemplateFactory(template=template, name="Go", phase=None)
    GateTemplateFactory(template=template, name="Build done", phase=build)
    ReleaseTemplateFactory(name="Retired", is_active=False)
    assert [(t.name, t.phase_count, t.gate_count) for t in selectors.template_list(user=reader)] == [
        ("Retired", 0, 0),
        ("Standard", 2, 2),
    ]
    assert [t.name for t in selectors.template_list(user=reader, is_active=True, search="stand")] == ["Standard"]
    with django_assert_num_queries(4):
        got = selectors.template_get(user=reader, pk=template.pk)
        parts = (
            [phase.name for phase in got.phases.all()],
            [(m.name, m.phase.name) for m in got.milestones.all()],
            [(g.name, g.phase and g.phase.name) for g in got.gates.all()],
        )
    assert parts == (["Build", "SIT"], [("Code freeze", "Build")], [("Build done", "Build"), ("Go", None)])


def test_freeze_list_filters_and_hides_from_a_user_without_a_role(reader, nobody, estate):
    FreezeWindowFactory(name="Year end")
    FreezeWindowFactory(name="Core patching", category="change", scope="systems", systems=[estate["core"]])
    FreezeWindowFactory(
        name="Weekly",
        starts_on=D(2026, 1, 3),
        ends_on=D(2026, 1, 4),
        recurrence="weekly",
        recurs_until=D(2026, 12, 31),
    )

    def shown(**filters):
        return [window.name for window in selectors.freeze_list(user=reader, filters=filters)]

    assert shown() == ["Weekly", "Year end", "Core patching"] or shown() == ["Weekly", "Core patching", "Year end"]
    assert shown(category="change") == ["Core patching"]
    assert shown(system=estate["core"].pk) == ["Core patching"]
    assert shown(start=D(2026, 6, 1), end=D(2026, 6, 30)) == ["Weekly"]
    assert shown(search="year") == ["Year end"]
    assert list(selectors.freeze_list(user=nobody)) == []
    window = selectors.freeze_get(user=reader, pk=selectors.freeze_list(user=reader, filters={"search": "core"})[0].pk)
    assert [system.name for system in window.systems.all()] == ["Core"]


def test_the_calendar_and_the_impact_matrix_read_in_a_fixed_number_of_queries(
    reader, django_assert_num_queries, django_assert_max_num_queries
):
    FreezeWindowFactory(starts_on=D(2026, 3, 20), ends_on=D(2026, 3, 31))

    def add(count: int):
        for number in range(count):
            item = release(f"Busy {number}-{count}", start=D(2026, 3, 2), end=D(2026, 3, 27))
            MilestoneFactory(release=item, kind="deploy", planned_date=D(2026, 3, 25))
            GateFactory(release=item, due_date=D(2026, 3, 26))
            ReleaseSystemFactory(release=item)

    add(1)
    with django_assert_max_num_queries(12) as few:
        selectors.release_calendar(user=reader, year=2026, month=3)
    with django_assert_num_queries(2):
        selectors.impact_matrix(user=reader, start=D(2026, 3, 1))
    add(10)
    with django_assert_num_queries(len(few.captured_queries)):
        month = selectors.release_calendar(user=reader, year=2026, month=3)
    with django_assert_num_queries(2):
        matrix = selectors.impact_matrix(user=reader, start=D(2026, 3, 1))
    assert len(month["weeks"][4][2]["milestones"]) == 11 and len(matrix["releases"]) == 11


# The portfolio a release belongs to: one rule everywhere


@pytest.fixture
def belonging():
    """Releases whose own portfolio, initiative's and project's initiative's portfolio differ."""
    mine, theirs = PortfolioFactory(name="Mine"), PortfolioFactory(name="Theirs")
    their_initiative = InitiativeFactory(name="Their initiative", portfolio=theirs)
    own = release("Own portfolio first", portfolio=mine, initiative=their_initiative)
    via_initiative = release("Through its initiative", initiative=their_initiative)
    via_project = release("Through its project", project=ProjectFactory(initiative=their_initiative))
    deploy_day = D(2026, 12, 21)  # inside FreezeWindowFactory's days
    deploys = {
        item.pk: MilestoneFactory(release=item, name="Deploy", kind="deploy", planned_date=deploy_day)
        for item in (own, via_initiative, via_project)
    }
    for item in (own, via_initiative, via_project):
        Release.objects.filter(pk=item.pk).update(planned_end=D(2026, 12, 31))
    return {"mine": mine, "theirs": theirs, "own": own, "via": [via_initiative, via_project], "deploys": deploys}


def test_the_portfolio_filter_reads_the_release_own_portfolio_before_its_initiative(belonging):
    own, via = belonging["own"], belonging["via"]
    assert set(selectors.release_list(user=None, filters={"portfolio": belonging["mine"]})) == {own}
    assert set(selectors.release_list(user=None, filters={"portfolio": belonging["theirs"]})) == set(via)


def test_the_timeline_groups_a_release_under_the_portfolio_it_belongs_to(belonging):
    data = selectors.timeline_data(user=None, start=START, end=D(2026, 12, 31), group_by="portfolio", today=TODAY)
    groups = {row["id"]: row["groups"] for row in data["releases"]}
    assert groups[belonging["own"].pk] == [f"p{belonging['mine'].pk}"]
    assert [groups[item.pk] for item in belonging["via"]] == [[f"p{belonging['theirs'].pk}"]] * 2


def test_the_portfolio_report_holds_the_releases_that_belong_to_the_portfolio(belonging):
    def shown(portfolio):
        report = selectors.portfolio_status_report(user=None, portfolio=portfolio, today=TODAY)
        rows = [row for initiative in report["initiatives"] for row in initiative["releases"]] + report["unassigned"]
        return {row["id"] for row in rows}

    assert shown(belonging["mine"]) == {belonging["own"].pk}
    assert shown(belonging["theirs"]) == {item.pk for item in belonging["via"]}


def test_a_portfolio_freeze_covers_the_releases_that_belong_to_its_portfolio_however_linked(belonging):
    from launchdeck.releases.freezes import deploy_milestones_in_freeze

    window = FreezeWindowFactory(name="Their freeze", scope="portfolios", portfolios=[belonging["theirs"]])
    ids = [belonging["own"].pk] + [item.pk for item in belonging["via"]]
    flagged = deploy_milestones_in_freeze(ids)
    assert set(flagged) == {item.pk for item in belonging["via"]}
    affected = selectors.freeze_affected_releases(user=None, window=window, today=TODAY)
    assert [row["release"].pk for row in affected] == sorted(
        (item.pk for item in belonging["via"]), key=lambda pk: Release.objects.get(pk=pk).name
    )
    mine = FreezeWindowFactory(name="My freeze", scope="portfolios", portfolios=[belonging["mine"]])
    assert [row["release"] for row in selectors.freeze_affected_releases(user=None, window=mine, today=TODAY)] == [
        belonging["own"]
    ]
