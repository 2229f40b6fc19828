"""The schedule bridge: plans from rows, the releases a change reaches, and what a change would move (what-if).

Dates: March to June 2026 on the weekends-only calendar unless a test says otherwise; 2 March 2026 is a Monday.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.models import CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases import schedule
from launchdeck.releases.choices import (
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    ReleaseStatus,
)
from launchdeck.releases.models import Release, ScheduleChange, ScheduleDependency
from launchdeck.releases.schedule import Change
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    GateFactory,
    MilestoneFactory,
    MilestoneTemplateFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleDependencyFactory,
    TrainFactory,
    release_state,
)
from launchdeck.scheduling import engine
from launchdeck.scheduling.calendar import STANDARD

D = datetime.date
START, END = D(2026, 3, 2), D(2026, 6, 26)
TODAY = D(2026, 2, 16)


def wd(day: datetime.date, days: int) -> datetime.date:
    """`days` working days after `day` on the weekends-only calendar."""
    return STANDARD.add_working_days(day, days)


def release(name: str, start=START, end=END, **fields) -> Release:
    return ReleaseFactory(name=name, planned_start=start, planned_end=end, **fields)


def phase(owner, name: str, start, end, kind=PhaseKind.BUILD, **fields):
    return PhaseFactory(release=owner, name=name, kind=kind, planned_start=start, planned_end=end, **fields)


def shift(row, days: int) -> Change:
    return Change(key=f"{type(row).__name__.lower()}:{row.pk}", shift_days=days)


def key(row) -> str:
    return f"{type(row).__name__.lower()}:{row.pk}"


def what_if(*changes, user=None) -> dict:
    return schedule.what_if(user=user, changes=list(changes), today=TODAY)


def moved(impact: dict) -> dict[str, tuple[datetime.date, datetime.date]]:
    """`{item key: (new start, new end)}` of the phases, milestones and gates that move."""
    return {row["key"]: (D.fromisoformat(row["new_start"]), D.fromisoformat(row["new_end"])) for row in impact["moved"]}


def windows(impact: dict) -> dict[str, tuple]:
    """`{release name: (new start, new end, start shift, end shift)}`."""
    return {
        row["name"]: (
            D.fromisoformat(row["new_start"]),
            D.fromisoformat(row["new_end"]),
            row["start_shift_days"],
            row["end_shift_days"],
        )
        for row in impact["releases"]
    }


def refusal(caught) -> tuple[str | None, str]:
    (error,) = caught.value.errors
    return error["field"], error["message"]


def schedule_state() -> dict:
    """Every release-planning row, the schedule's own rows and the audit trail's length."""
    return {
        **release_state(),
        "dependencies": list(ScheduleDependency.objects.order_by("pk").values()),
        "history": list(ScheduleChange.objects.order_by("pk").values()),
    }


@pytest.fixture
def payments(db):
    """Payments 4.2, 2 March to 26 June: Build 2-13 March, a free week, SIT 23 March to 3 April, UAT 6-17 April
    (right after SIT), a go/no-go at the end of UAT, a deploy milestone on 20 April and a gate at the end of SIT."""
    payments = release("Payments 4.2")
    build = phase(payments, "Build", D(2026, 3, 2), D(2026, 3, 13), position=1)
    sit = phase(payments, "SIT", D(2026, 3, 23), D(2026, 4, 3), kind=PhaseKind.SIT, position=2)
    uat = phase(payments, "UAT", D(2026, 4, 6), D(2026, 4, 17), kind=PhaseKind.UAT, position=3)
    MilestoneFactory(
        release=payments, phase=uat, name="Go/no-go", kind=MilestoneKind.GO_NO_GO, planned_date=uat.planned_end
    )
    MilestoneFactory(release=payments, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 4, 20))
    GateFactory(release=payments, phase=sit, name="SIT exit", due_date=sit.planned_end)
    payments.build, payments.sit, payments.uat = build, sit, uat
    return payments


def milestone(owner, name):
    return owner.milestones.get(name=name)


# Keys and offsets


@pytest.mark.parametrize(
    "text", ["phase", "phase:", "phase:x", "phase:0", "phase:012", "phase:-3", "stage:3", "finish:3", 3, None]
)
def test_a_key_is_a_kind_and_a_positive_id(text):
    with pytest.raises(ValueError):
        schedule.parse_key(text)


def test_keys_of_every_plan_item_parse():
    assert [schedule.parse_key(text) for text in ("release:1", "phase:22", "milestone:333", "gate:4")] == [
        ("release", 1),
        ("phase", 22),
        ("milestone", 333),
        ("gate", 4),
    ]


def test_a_release_end_is_the_end_its_dependency_kind_reads():
    assert schedule.dependency_end_keys("release:1", "release:2", "FS") == ("finish:1", "release:2")
    assert schedule.dependency_end_keys("release:1", "release:2", "SS") == ("release:1", "release:2")
    assert schedule.dependency_end_keys("release:1", "release:2", "FF") == ("finish:1", "finish:2")
    assert schedule.dependency_end_keys("release:1", "release:2", "SF") == ("release:1", "finish:2")
    assert schedule.dependency_end_keys("phase:1", "milestone:2", "FF") == ("phase:1", "milestone:2")


@pytest.mark.parametrize(
    ("anchor", "day"),
    [
        (D(2026, 3, 2), D(2026, 3, 4)),  # Monday to Wednesday
        (D(2026, 3, 4), D(2026, 3, 2)),  # backwards
        (D(2026, 3, 2), D(2026, 3, 7)),  # to a Saturday
        (D(2026, 3, 7), D(2026, 3, 9)),  # from a Saturday
        (D(2026, 3, 9), D(2026, 3, 7)),  # back to a Saturday
        (D(2026, 3, 6), D(2026, 3, 6)),
    ],
)
def test_an_implicit_lag_is_the_largest_that_keeps_an_item_where_it_is(anchor, day):
    lag = engine.largest_lag(anchor, day, STANDARD)
    first = STANDARD.next_working_day(anchor)
    assert STANDARD.add_working_days(first, lag) <= day < STANDARD.add_working_days(first, lag + 1)


# Plans


def test_a_plan_has_the_release_its_end_its_phases_milestones_and_gates_with_labels(payments):
    plan = schedule.plan_for([payments.pk], today=TODAY)
    keys = {item.key for item in plan.items}
    assert keys == {
        f"release:{payments.pk}",
        f"finish:{payments.pk}",
        key(payments.build),
        key(payments.sit),
        key(payments.uat),
        key(milestone(payments, "Go/no-go")),
        key(milestone(payments, "Deploy")),
        key(payments.gates.get()),
    }
    label = plan.labels[key(payments.sit)]
    assert (label.kind, label.name, label.release_name, label.display) == (
        "phase",
        "SIT",
        "Payments 4.2",
        "SIT of Payments 4.2",
    )
    assert label.url == f"/releases/{payments.pk}/"
    assert plan.labels[key(milestone(payments, "Deploy"))].milestone_kind == MilestoneKind.DEPLOY
    assert not plan.fixed
    assert plan.releases[payments.pk].name == "Payments 4.2"


def test_a_plan_reads_in_the_same_number_of_queries_for_one_release_or_many(db, django_assert_max_num_queries):
    one = release("One")
    phase(one, "Build", D(2026, 3, 2), D(2026, 3, 13))
    with CaptureQueriesContext(connection) as few:
        schedule.plan_for([one.pk], today=TODAY)
    more = [release(f"More {index}") for index in range(8)]
    for row in more:
        phase(row, "Build", D(2026, 3, 2), D(2026, 3, 13))
        MilestoneFactory(release=row, kind=MilestoneKind.DEPLOY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        schedule.plan_for([one.pk, *(row.pk for row in more)], today=TODAY)


def test_stored_plans_hold_no_broken_implicit_constraints(payments):
    """Every implicit dependency holds on the plan as stored, weekends included, so nothing moves by itself."""
    phase(payments, "Weekend work", D(2026, 4, 18), D(2026, 4, 19), position=4)
    MilestoneFactory(release=payments, name="Sunday", planned_date=D(2026, 4, 19))
    plan = schedule.plan_for([payments.pk], today=TODAY)
    result = engine.propagate(plan.items, plan.dependencies, {})
    assert result.violations == []
    assert result.moved == {}


# Which releases a change reaches


def test_affected_releases_are_downstream_plus_one_hop_upstream(db):
    upstream_of_upstream, upstream, seed, downstream, further, unrelated = (
        release(name) for name in ("Far up", "Up", "Seed", "Down", "Further", "Unrelated")
    )
    ScheduleDependencyFactory(predecessor_release=upstream_of_upstream, successor_release=upstream)
    ScheduleDependencyFactory(predecessor_release=upstream, successor_release=seed)
    ScheduleDependencyFactory(predecessor_release=seed, successor_release=downstream)
    ScheduleDependencyFactory(predecessor_release=downstream, successor_release=further)
    other_upstream = release("Holds Further back")
    ScheduleDependencyFactory(predecessor_release=other_upstream, successor_release=further)
    assert schedule.affected_release_ids([seed.pk]) == {
        upstream.pk,
        seed.pk,
        downstream.pk,
        further.pk,
        other_upstream.pk,
    }
    assert unrelated.pk not in schedule.affected_release_ids([seed.pk])


def test_affected_releases_go_from_a_train_to_its_children_and_from_a_child_to_its_train(db):
    train = TrainFactory(name="Winter")
    children = [release(f"Child {index}", train=train) for index in range(3)]
    after_child = release("After child")
    ScheduleDependencyFactory(predecessor_release=children[0], successor_release=after_child)
    everything = {train.pk, after_child.pk, *(child.pk for child in children)}
    assert schedule.affected_release_ids([train.pk]) == everything
    assert schedule.affected_release_ids([children[2].pk]) == everything


def test_affected_releases_stop_at_released_and_cancelled_ones(db):
    seed = release("Seed")
    shipped = release("Shipped", status=ReleaseStatus.RELEASED)
    behind_shipped = release("Behind shipped")
    ScheduleDependencyFactory(predecessor_release=seed, successor_release=shipped)
    ScheduleDependencyFactory(predecessor_release=shipped, successor_release=behind_shipped)
    assert schedule.affected_release_ids([seed.pk]) == {seed.pk}


def test_affected_releases_take_queries_per_level_not_per_release(db):
    def chain(count):
        train = TrainFactory()
        for index in range(count):
            child = release(f"{train.name} child {index}", train=train)
            ScheduleDependencyFactory(predecessor_release=child, successor_release=release(f"{child.name} next"))
        return train

    small, large = chain(2), chain(6)
    with CaptureQueriesContext(connection) as few:
        assert len(schedule.affected_release_ids([small.pk])) == 5
    with CaptureQueriesContext(connection) as many:
        assert len(schedule.affected_release_ids([large.pk])) == 13
    assert len(many.captured_queries) == len(few.captured_queries)


# Implicit dependencies


def test_a_release_moved_later_takes_its_phases_milestones_and_gates_along(payments):
    impact = what_if(shift(payments, 5))
    expected = {
        key(payments.build): (D(2026, 3, 9), D(2026, 3, 20)),
        key(payments.sit): (D(2026, 3, 30), D(2026, 4, 10)),
        key(payments.uat): (D(2026, 4, 13), D(2026, 4, 24)),
        key(milestone(payments, "Go/no-go")): (D(2026, 4, 24), D(2026, 4, 24)),
        key(milestone(payments, "Deploy")): (D(2026, 4, 27), D(2026, 4, 27)),
        key(payments.gates.get()): (D(2026, 4, 10), D(2026, 4, 10)),
    }
    assert moved(impact) == expected
    assert windows(impact) == {"Payments 4.2": (D(2026, 3, 9), D(2026, 7, 3), 5, 5)}
    assert all(row["shift_days"] == 5 for row in impact["moved"])
    assert impact["summary"] == {"items_moved": 6, "releases_moved": 1, "trains_moved": 0, "latest_end_shift_days": 5}
    assert impact["changes"] == [
        {"item": key(payments), "name": "Payments 4.2", "shift_days": 5, "new_start": "2026-03-09"}
    ]
    build = next(row for row in impact["moved"] if row["key"] == key(payments.build))
    assert build["path"] == [
        {"key": key(payments), "name": "Payments 4.2"},
        {"key": key(payments.build), "name": "Build of Payments 4.2"},
    ]


def test_a_release_moved_earlier_takes_its_contents_along_too(payments):
    impact = what_if(Change(key(payments), new_start=D(2026, 2, 23)))
    assert moved(impact)[key(payments.sit)] == (D(2026, 3, 16), D(2026, 3, 27))
    assert windows(impact) == {"Payments 4.2": (D(2026, 2, 23), D(2026, 6, 19), -5, -5)}


def test_a_phase_moved_carries_its_milestones_and_open_gates_at_their_offsets(payments):
    code_freeze = MilestoneFactory(
        release=payments,
        phase=payments.sit,
        name="Code freeze",
        kind=MilestoneKind.CODE_FREEZE,
        planned_date=D(2026, 3, 25),  # the third day of SIT, anchored at its start by the template
        template=MilestoneTemplateFactory(anchor=MilestoneAnchor.PHASE_START),
    )
    passed = GateFactory(
        release=payments, phase=payments.sit, name="Passed", due_date=D(2026, 4, 1), status=GateStatus.PASSED
    )
    impact = what_if(shift(payments.sit, 3))
    result = moved(impact)
    assert result[key(payments.sit)] == (D(2026, 3, 26), D(2026, 4, 8))
    assert result[key(code_freeze)] == (D(2026, 3, 30), D(2026, 3, 30))
    assert result[key(payments.gates.get(name="SIT exit"))] == (D(2026, 4, 8), D(2026, 4, 8))
    assert key(passed) not in result  # decided: its date is history
    # UAT started right after SIT: it keeps following it
    assert result[key(payments.uat)] == (D(2026, 4, 9), D(2026, 4, 22))
    assert result[key(milestone(payments, "Go/no-go"))] == (D(2026, 4, 22), D(2026, 4, 22))


def test_a_slip_inside_the_gap_before_the_next_phase_is_absorbed(payments):
    impact = what_if(shift(payments.build, 3))  # Build now ends on 18 March; SIT starts on the 23rd
    assert moved(impact) == {key(payments.build): (D(2026, 3, 5), D(2026, 3, 18))}
    assert windows(impact) == {"Payments 4.2": (D(2026, 3, 2), D(2026, 6, 26), 0, 0)}


def test_a_slip_beyond_the_gap_pushes_the_next_phase_by_what_is_left(payments):
    impact = what_if(shift(payments.build, 8))  # Build ends on 25 March: SIT starts the day after, 3 days late
    result = moved(impact)
    assert result[key(payments.sit)] == (D(2026, 3, 26), D(2026, 4, 8))
    sit = next(row for row in impact["moved"] if row["key"] == key(payments.sit))
    assert sit["shift_days"] == 3
    assert [step["name"] for step in sit["path"]] == ["Build of Payments 4.2", "SIT of Payments 4.2"]


def test_the_release_window_widens_when_its_contents_pass_its_end(payments):
    impact = what_if(shift(payments.uat, 55))  # UAT ends on 3 July, past the release's 26 June
    (row,) = impact["releases"]
    assert (row["old_start"], row["old_end"]) == ("2026-03-02", "2026-06-26")
    assert (row["new_start"], row["new_end"]) == ("2026-03-02", "2026-07-03")
    assert (row["start_shift_days"], row["end_shift_days"]) == (0, 5)
    assert row["cause"] == "UAT of Payments 4.2"
    assert row["items_moved"] == 2  # UAT and its go/no-go


def test_a_gate_of_the_whole_release_follows_its_end(payments):
    go_live = GateFactory(release=payments, name="Go-live", due_date=D(2026, 6, 24))  # two days before the end
    assert key(go_live) not in moved(what_if(shift(payments.uat, 50)))  # UAT now ends on 26 June: the end stays
    assert moved(what_if(shift(payments.uat, 55)))[key(go_live)] == (D(2026, 7, 1), D(2026, 7, 1))
    assert moved(what_if(shift(payments, 1)))[key(go_live)] == (D(2026, 6, 25), D(2026, 6, 25))


def test_a_phase_moved_earlier_takes_its_markers_but_not_what_follows(payments):
    impact = what_if(shift(payments.sit, -3))  # into the free week after Build
    assert moved(impact) == {
        key(payments.sit): (D(2026, 3, 18), D(2026, 3, 31)),
        key(payments.gates.get()): (D(2026, 3, 31), D(2026, 3, 31)),
    }


def test_a_phase_moved_earlier_than_the_phase_before_it_allows_stays_after_it(payments):
    impact = what_if(shift(payments.uat, -2))  # UAT follows SIT, which ends on Friday 3 April
    assert impact["moved"] == [] and impact["releases"] == []
    assert impact["changes"][0]["new_start"] == "2026-04-02"


@pytest.fixture
def train(db):
    """Winter train (2 March to 31 July) with SIT 6-24 April; Ledger inherits it (its SIT follows the train's),
    Billing has its own SIT at the same time without following it."""
    train = TrainFactory(name="Winter", planned_start=D(2026, 3, 2), planned_end=D(2026, 7, 31))
    train.sit = phase(train, "Train SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT)
    ledger = release("Ledger", start=D(2026, 3, 9), end=D(2026, 4, 24), train=train, inherits_train_dates=True)
    ledger.build = phase(ledger, "Build", D(2026, 3, 9), D(2026, 3, 27), position=1)
    ledger.sit = phase(
        ledger, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT, position=2, train_phase=train.sit
    )
    ledger.deploy = MilestoneFactory(
        release=ledger, phase=ledger.sit, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 4, 24)
    )
    billing = release("Billing", start=D(2026, 3, 9), end=D(2026, 5, 29), train=train)
    billing.sit = phase(billing, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT)
    train.ledger, train.billing = ledger, billing
    return train


def test_a_train_phase_drags_the_child_phases_that_follow_it(train):
    impact = what_if(shift(train.sit, 10))
    result = moved(impact)
    ledger = train.ledger
    assert result[key(ledger.sit)] == (D(2026, 4, 20), D(2026, 5, 8))
    assert result[key(ledger.deploy)] == (D(2026, 5, 8), D(2026, 5, 8))
    assert key(train.billing.sit) not in result  # same dates, but it does not follow the train
    sit = next(row for row in impact["moved"] if row["key"] == key(ledger.sit))
    assert [step["name"] for step in sit["path"]] == ["Train SIT of Winter", "SIT of Ledger"]
    assert windows(impact) == {
        "Winter": (D(2026, 3, 2), D(2026, 7, 31), 0, 0),
        "Ledger": (D(2026, 3, 9), D(2026, 5, 8), 0, 10),
    }
    ledger_row = next(row for row in impact["releases"] if row["name"] == "Ledger")
    assert ledger_row["cause"] == "Train SIT of Winter → SIT of Ledger"
    assert impact["trains"] == []  # the train's end does not move


def test_a_child_pushed_past_its_train_end_moves_the_train_end(train):
    impact = what_if(shift(train.billing.sit, 50))  # Billing SIT ends 3 July; Billing ends then, the train not
    assert "Winter" not in windows(impact)
    impact = what_if(shift(train.billing.sit, 80))  # ends on 14 August: past the train's 31 July
    assert windows(impact)["Winter"][1] == D(2026, 8, 14)
    (row,) = impact["trains"]
    assert row["name"] == "Winter" and row["end_shift_days"] == 10
    assert row["cause"] == "SIT of Billing → Billing → Winter"


def test_a_train_moved_later_holds_its_children_from_its_start(train):
    impact = what_if(shift(train, 10))
    assert moved(impact)[key(train.billing.sit)] == (D(2026, 4, 20), D(2026, 5, 8))
    assert windows(impact)["Billing"] == (D(2026, 3, 23), D(2026, 6, 12), 10, 10)


# Explicit dependencies


@pytest.mark.parametrize(
    ("kind", "lag", "successor_dates"),
    [
        ("FS", 2, (D(2026, 3, 18), D(2026, 3, 20))),  # starts 2 working days after the day after X ends (13 March)
        ("SS", 3, (D(2026, 3, 5), D(2026, 3, 9))),  # starts 3 working days after X starts (2 March)
        ("FF", 1, (D(2026, 3, 12), D(2026, 3, 16))),  # ends 1 working day after X ends
        ("SF", -1, (D(2026, 2, 25), D(2026, 2, 27))),  # ends 1 working day before X starts
    ],
)
def test_explicit_dependencies_of_every_kind_push_across_releases_and_trains(db, kind, lag, successor_dates):
    one, other = (
        TrainFactory(name="Spring", planned_start=D(2026, 2, 2)),
        TrainFactory(name="Summer", planned_start=D(2026, 2, 2)),
    )
    first = release("Cards", start=D(2026, 2, 2), train=one)
    second = release("Loans", start=D(2026, 2, 2), train=other)
    x = phase(first, "X", D(2026, 3, 2), D(2026, 3, 13))
    y = phase(second, "Y", *successor_dates)  # tight: any slip of X moves Y as far
    ScheduleDependencyFactory(
        predecessor_release=first,
        predecessor_phase=x,
        successor_release=second,
        successor_phase=y,
        kind=kind,
        lag_days=lag,
    )
    impact = what_if(shift(x, 4))
    start, end = successor_dates
    assert moved(impact)[key(y)] == (wd(start, 4), wd(end, 4))
    row = next(row for row in impact["moved"] if row["key"] == key(y))
    assert [step["name"] for step in row["path"]] == ["X of Cards", "Y of Loans"]
    assert impact["violations"] == []


def test_a_release_waiting_for_another_release_to_finish_moves_whole(db):
    ledger = release("Ledger", end=D(2026, 4, 3))
    build = phase(ledger, "Build", D(2026, 3, 2), D(2026, 4, 3))
    reports = release("Reports", start=D(2026, 4, 6), end=D(2026, 5, 29))
    reports_build = phase(reports, "Build", D(2026, 4, 6), D(2026, 4, 17))
    ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports, kind="FS")
    impact = what_if(shift(build, 5))
    assert windows(impact)["Ledger"] == (D(2026, 3, 2), D(2026, 4, 10), 0, 5)
    assert windows(impact)["Reports"] == (D(2026, 4, 13), D(2026, 6, 5), 5, 5)
    assert moved(impact)[key(reports_build)] == (D(2026, 4, 13), D(2026, 4, 24))
    reports_row = next(row for row in impact["releases"] if row["name"] == "Reports")
    assert reports_row["cause"] == "Build of Ledger → Ledger → Reports → Build of Reports"


def test_slack_between_releases_absorbs_a_smaller_slip(db):
    ledger = release("Ledger", end=D(2026, 4, 3))
    build = phase(ledger, "Build", D(2026, 3, 2), D(2026, 4, 3))
    reports = release("Reports", start=D(2026, 4, 13), end=D(2026, 5, 29))
    ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports, kind="FS")
    assert set(windows(what_if(shift(build, 5)))) == {"Ledger"}
    assert windows(what_if(shift(build, 6)))["Reports"][2] == 1


# Freezes


@pytest.fixture
def freeze_case(db):
    """Cards (portfolio Retail) deploys on 17 April, two days after its UAT; a deployment freeze for Retail runs
    20 April to 1 May."""
    retail, wholesale = PortfolioFactory(name="Retail"), PortfolioFactory(name="Wholesale")
    FreezeWindowFactory(
        name="Retail spring freeze",
        scope=FreezeScope.PORTFOLIOS,
        portfolios=[retail],
        starts_on=D(2026, 4, 20),
        ends_on=D(2026, 5, 1),
    )

    def make(name, portfolio):
        row = release(name, portfolio=portfolio)
        row.uat = phase(row, "UAT", D(2026, 4, 1), D(2026, 4, 15), kind=PhaseKind.UAT)
        row.deploy = MilestoneFactory(
            release=row, phase=row.uat, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 4, 17)
        )
        return row

    return make("Cards", retail), make("Loans", wholesale)


def test_a_deploy_milestone_pushed_into_a_deployment_freeze_is_postponed_past_it(freeze_case):
    cards, _ = freeze_case
    impact = what_if(shift(cards.uat, 3))  # the deploy would land on 22 April, inside the freeze
    assert moved(impact)[key(cards.deploy)] == (D(2026, 5, 4), D(2026, 5, 4))
    deploy = next(row for row in impact["moved"] if row["key"] == key(cards.deploy))
    assert deploy["postponed_past"] == {"name": "Retail spring freeze", "start": "2026-04-20", "end": "2026-05-01"}
    assert impact["postponed"] == [
        {
            "key": key(cards.deploy),
            "name": "Deploy",
            "release_name": "Cards",
            "from": "2026-04-22",
            "to": "2026-05-04",
            "freeze": "Retail spring freeze",
        }
    ]
    assert impact["in_freeze"] == []


def test_a_freeze_of_another_portfolio_does_not_postpone_a_deploy(freeze_case):
    _, loans = freeze_case
    impact = what_if(shift(loans.uat, 3))
    assert moved(impact)[key(loans.deploy)] == (D(2026, 4, 22), D(2026, 4, 22))
    assert impact["postponed"] == [] and impact["in_freeze"] == []


def test_a_moved_milestone_landing_in_a_freeze_of_another_category_is_flagged(freeze_case):
    _, loans = freeze_case
    FreezeWindowFactory(
        name="Quarter close", category=FreezeCategory.CHANGE, starts_on=D(2026, 4, 21), ends_on=D(2026, 4, 23)
    )
    impact = what_if(shift(loans.uat, 3))
    assert impact["in_freeze"] == [
        {
            "key": key(loans.deploy),
            "name": "Deploy",
            "release_name": "Loans",
            "date": "2026-04-22",
            "freeze": "Quarter close",
        }
    ]


# Fixed items


def test_a_started_phase_stays_and_pushing_it_is_a_new_violation(payments):
    payments.uat.actual_start = D(2026, 4, 6)
    payments.uat.save()
    impact = what_if(shift(payments.sit, 3))
    assert key(payments.uat) not in moved(impact)
    (violation,) = impact["violations"]
    assert violation["message"] == (
        "UAT of Payments 4.2 must start on or after 9 Apr 2026 to follow SIT of Payments 4.2 (finish to start). "
        "UAT of Payments 4.2 has started on 6 Apr 2026; its start is fixed."
    )


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (
            lambda p: (setattr(p.sit, "actual_start", D(2026, 3, 23)), p.sit.save(), p.sit)[-1],
            "SIT of Payments 4.2 has started on 23 Mar 2026; its start is fixed.",
        ),
        (
            lambda p: (m := milestone(p, "Deploy"), setattr(m, "actual_date", D(2026, 4, 20)), m.save(), m)[-1],
            "Deploy of Payments 4.2 was reached on 20 Apr 2026; its date is fixed.",
        ),
        (
            lambda p: (g := p.gates.get(), setattr(g, "status", GateStatus.REJECTED), g.save(), g)[-1],
            "The gate SIT exit of Payments 4.2 is rejected; its date is history.",
        ),
        (
            lambda p: (setattr(p, "actual_start", D(2026, 3, 2)), p.save(), p)[-1],
            "Payments 4.2 has started on 2 Mar 2026; its start is fixed.",
        ),
    ],
    ids=["started phase", "reached milestone", "decided gate", "started release"],
)
def test_a_fixed_item_cannot_be_changed(payments, arrange, message):
    item = arrange(payments)
    with pytest.raises(ValidationFailed) as caught:
        what_if(shift(item, 2))
    assert refusal(caught) == ("changes.0.item", message)


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
def test_nothing_of_a_released_or_cancelled_release_changes(payments, status):
    Release.objects.filter(pk=payments.pk).update(status=status)
    for item in (payments, payments.sit, milestone(payments, "Deploy")):
        with pytest.raises(ValidationFailed) as caught:
            what_if(shift(item, 2))
        assert refusal(caught) == ("changes.0.item", f"Payments 4.2 is {status}; its dates are history.")


def test_an_item_cannot_move_before_a_fixed_item_it_follows(payments):
    payments.build.actual_start = D(2026, 3, 2)
    payments.build.save()
    with pytest.raises(ValidationFailed) as caught:
        what_if(shift(payments.sit, -10))
    assert refusal(caught) == (
        "changes.0.shift_days",
        "SIT of Payments 4.2 cannot start on 9 Mar 2026: it must follow Build of Payments 4.2. Build of Payments 4.2 "
        "has started on 2 Mar 2026; its start is fixed. The earliest SIT of Payments 4.2 can start is 16 Mar 2026.",
    )
    assert moved(what_if(shift(payments.sit, -5)))[key(payments.sit)] == (D(2026, 3, 16), D(2026, 3, 27))


def test_an_item_of_a_started_release_cannot_move_before_the_release_started(payments):
    Release.objects.filter(pk=payments.pk).update(actual_start=D(2026, 3, 4), status=ReleaseStatus.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as caught:
        what_if(Change(key(payments.build), new_start=D(2026, 3, 3)))
    assert refusal(caught) == (
        "changes.0.new_start",
        "Build of Payments 4.2 cannot start on 3 Mar 2026, before Payments 4.2 started (4 Mar 2026).",
    )


def test_a_released_child_keeps_its_dates_when_its_train_moves(train):
    Release.objects.filter(pk=train.ledger.pk).update(status=ReleaseStatus.RELEASED)
    impact = what_if(shift(train.sit, 10))
    assert key(train.ledger.sit) not in moved(impact)
    assert impact["violations"] == []


# Bad input: clear errors, nothing changed


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ([], "changes", "Give at least one change: an item and a shift in working days or a new start."),
        ("phase:1", "changes", "Give the changes as a list."),
        ([Change("phase:1", 1)] * 51, "changes", "Give at most 50 changes at once."),
        (
            [Change("stage:1", 1)],
            "changes.0.item",
            "'stage:1' is not an item of the plan; give release:<id>, phase:<id>, milestone:<id> or gate:<id>.",
        ),
        (
            [Change("finish:1", 1)],
            "changes.0.item",
            "'finish:1' is not an item of the plan; give release:<id>, phase:<id>, milestone:<id> or gate:<id>.",
        ),
        ([Change("phase:1")], "changes.0.shift_days", "Give a shift in working days or a new start for each item."),
        (
            [Change("phase:1", 2, D(2026, 5, 1))],
            "changes.0.shift_days",
            "Give either a shift in working days or a new start for each item, not both.",
        ),
        ([Change("phase:1", 1.5)], "changes.0.shift_days", "A shift is a whole number of working days."),
        (
            [Change("phase:1", 10_000)],
            "changes.0.shift_days",
            "A shift is at most 520 working days (about two years) either way; got 10000.",
        ),
        (
            [Change("phase:1", None, D(3500, 1, 1))],
            "changes.0.new_start",
            "Enter a date between the years 1900 and 2999.",
        ),
        ([Change("phase:1", None, "next week")], "changes.0.new_start", "Enter a date as YYYY-MM-DD."),
    ],
)
def test_malformed_changes_are_refused_on_their_field(payments, changes, field, message):
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        what_if(*changes) if isinstance(changes, list) else schedule.what_if(user=None, changes=changes)
    assert refusal(caught) == (field, message)
    assert schedule_state() == before


def test_a_new_start_too_far_away_is_refused(payments):
    with pytest.raises(ValidationFailed) as caught:
        what_if(Change(key(payments.sit), new_start=D(2036, 3, 23)))
    field, message = refusal(caught)
    assert field == "changes.0.new_start"
    assert message.startswith("23 Mar 2036 is 2610 working days from the start of SIT of Payments 4.2;")
    assert message.endswith("at most 520 working days (about two years).")


def test_the_same_item_twice_is_refused(payments):
    with pytest.raises(ValidationFailed) as caught:
        what_if(shift(payments.sit, 1), shift(payments.uat, 1), shift(payments.sit, 2))
    assert refusal(caught) == ("changes.2.item", "SIT of Payments 4.2 is changed twice; give one change per item.")


def test_an_unknown_item_is_not_found(payments):
    with pytest.raises(NotFound) as caught:
        what_if(shift(payments.sit, 1), Change(f"milestone:{payments.pk + 999}", 1))
    assert refusal(caught) == (
        "changes.1.item",
        f"There is no milestone {payments.pk + 999}, or you may not see it.",
    )


def test_items_the_caller_may_not_see_are_not_found(payments, make_user, monkeypatch):
    nobody = make_user()
    with pytest.raises(NotFound):
        what_if(shift(payments.sit, 1), user=nobody)
    manager = make_user(Role.RELEASE_MANAGER)
    monkeypatch.setattr(
        Release,
        "restrict_scope",
        classmethod(lambda cls, rows, user, action: rows.exclude(name="Payments 4.2")),
        raising=False,
    )
    for item in (payments, payments.sit, milestone(payments, "Deploy"), payments.gates.get()):
        with pytest.raises(NotFound):
            what_if(shift(item, 1), user=manager)


def test_a_what_if_changes_nothing(payments, train, viewer):
    ScheduleDependencyFactory(predecessor_release=payments, successor_release=train.billing)
    before = schedule_state()
    impact = what_if(shift(payments, 40), shift(train.sit, 5), user=viewer)
    assert impact["summary"]["items_moved"] > 5
    assert schedule_state() == before


def test_a_cycle_in_the_stored_plan_is_named_by_its_items(db):
    first, second = release("First"), release("Second")
    ScheduleDependencyFactory(predecessor_release=first, successor_release=second)
    ScheduleDependencyFactory(predecessor_release=second, successor_release=first)
    with pytest.raises(ValidationFailed) as caught:
        what_if(shift(first, 1))
    assert caught.value.detail == (
        "The plan has a dependency cycle: First → Second → First. Remove one of its dependencies first."
    )


def test_a_new_dependency_that_closes_a_cycle_is_named(db):
    first, second, third = release("First"), release("Second"), release("Third")
    build = phase(third, "Build", D(2026, 3, 2), D(2026, 3, 13))
    ScheduleDependencyFactory(predecessor_release=first, successor_release=second)
    ScheduleDependencyFactory(predecessor_release=second, successor_release=third, successor_phase=build, kind="SS")
    schedule.check_new_dependency(key(first), key(third), "FS")  # same direction: fine
    with pytest.raises(ValidationFailed) as caught:
        schedule.check_new_dependency(key(build), key(first), "FS")
    assert refusal(caught) == (
        "predecessor",
        "This dependency would close a cycle: First → Second → Build of Third → First.",
    )


# Critical path


def test_the_impact_lists_items_that_became_critical_and_those_no_longer(db):
    short = release("Short", end=D(2026, 3, 13))
    long_phase = phase(short, "Long", D(2026, 3, 2), D(2026, 3, 13), position=1)
    short_phase = phase(short, "Brief", D(2026, 3, 2), D(2026, 3, 6), position=2)
    impact = what_if(shift(short_phase, 8))  # Brief now ends on 18 March, after Long
    assert impact["critical_path"] == [
        {"release_id": short.pk, "name": "Short", "became_critical": ["Brief"], "no_longer_critical": ["Long"]}
    ]
    assert schedule.release_critical_phase_ids(short) == [long_phase.pk]


def stored_cycle_in_one_release():
    """Stuck: SIT follows Build, and a stored dependency has Build wait for SIT. Each dependency is checked when it
    is created; only two created at the same moment can close a cycle, so the test writes the row directly."""
    stuck = release("Stuck")
    build = phase(stuck, "Build", START, D(2026, 3, 13), position=1)
    sit = phase(stuck, "SIT", D(2026, 3, 16), END, kind=PhaseKind.SIT, position=2)
    ScheduleDependencyFactory(
        predecessor_release=stuck, predecessor_phase=sit, successor_release=stuck, successor_phase=build
    )
    return stuck, build


CYCLE_REFUSAL = (
    "The plan has a dependency cycle: Build of Stuck → SIT of Stuck → Build of Stuck. Remove one of its dependencies "
    "first."
)


def test_a_cycle_in_the_stored_plan_refuses_the_critical_path_as_it_refuses_a_what_if(db):
    stuck, build = stored_cycle_in_one_release()
    for question in (schedule.release_critical_path, schedule.release_critical_phase_ids):
        with pytest.raises(ValidationFailed) as caught:
            question(stuck, today=TODAY)
        assert caught.value.detail == CYCLE_REFUSAL
    with pytest.raises(ValidationFailed) as caught:
        what_if(shift(build, 1))
    assert caught.value.detail == CYCLE_REFUSAL


def test_the_critical_path_of_a_train_covers_its_children(train):
    path = schedule.release_critical_path(train, today=TODAY)
    assert path["project_end"] == D(2026, 7, 31)
    rows = {(row["release_name"], row["name"]): row for row in path["items"]}
    assert set(rows) == {
        ("Winter", "Train SIT"),
        ("Ledger", "Build"),
        ("Ledger", "SIT"),
        ("Ledger", "Deploy"),
        ("Billing", "SIT"),
    }
    assert rows[("Ledger", "SIT")]["total_float"] == rows[("Winter", "Train SIT")]["total_float"] > 0
    assert not any(row["critical"] for row in path["items"])


# Impact providers


@pytest.fixture
def provider():
    seen = []

    def preview(context):
        seen.append(context)
        return [{"text": f"{len(context.phases)} phases move", "url": "/bookings/", "severity": "warning"}]

    schedule.register_impact_provider("fake", "Fake bookings", preview)
    yield seen
    schedule.unregister_impact_provider("fake")


def test_impact_providers_see_the_moved_phases_and_releases(payments, provider, viewer):
    impact = what_if(shift(payments.sit, 3), user=viewer)
    assert impact["impacts"] == [
        {
            "key": "fake",
            "title": "Fake bookings",
            "items": [{"text": "2 phases move", "url": "/bookings/", "severity": "warning"}],
        }
    ]
    (context,) = provider
    assert context.user == viewer
    assert context.phases == {
        payments.sit.pk: (D(2026, 3, 23), D(2026, 4, 3), D(2026, 3, 26), D(2026, 4, 8)),
        payments.uat.pk: (D(2026, 4, 6), D(2026, 4, 17), D(2026, 4, 9), D(2026, 4, 22)),
    }
    assert context.releases == {payments.pk: (D(2026, 3, 2), D(2026, 6, 26), D(2026, 3, 2), D(2026, 6, 26))}


def test_without_providers_the_impact_lists_none(payments):
    assert what_if(shift(payments.sit, 3))["impacts"] == []


# Cost


def test_a_what_if_reads_in_the_same_number_of_queries_for_two_or_six_child_releases(db, viewer):
    def train_with(count):
        train = TrainFactory()
        sit = phase(train, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT)
        for index in range(count):
            child = release(f"{train.name} child {index}", train=train, calendar=CalendarFactory())
            phase(child, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT, train_phase=sit)
            MilestoneFactory(release=child, kind=MilestoneKind.DEPLOY)
            GateFactory(release=child)
            ScheduleDependencyFactory(predecessor_release=child, successor_release=release(f"{child.name} next"))
        return sit

    FreezeWindowFactory(scope=FreezeScope.SYSTEMS, systems=[])
    small, large = train_with(2), train_with(6)
    viewer.roles  # noqa: B018 - load the roles now, so the counts measure the what-if alone
    what_if(shift(small, 1), user=viewer)
    with CaptureQueriesContext(connection) as few:
        small_impact = what_if(shift(small, 5), user=viewer)
    with CaptureQueriesContext(connection) as many:
        large_impact = what_if(shift(large, 5), user=viewer)
    assert len(small_impact["releases"]) == 3 and len(large_impact["releases"]) == 7
    # The changed item (1); the walk: train, children, the releases after them (2 each) and one hop up (1); the
    # plan: releases, calendars and closures, phases, milestones, gates, dependencies, freezes with their lists (10)
    assert len(many.captured_queries) == len(few.captured_queries) == 18


def test_a_calendar_with_closures_counts_the_shift_in_its_working_days(db):
    calendar = CalendarFactory()
    CalendarClosure.objects.create(calendar=calendar, name="Spring break", start=D(2026, 3, 16), end=D(2026, 3, 20))
    owner = release("Closed week", calendar=calendar)
    first = phase(owner, "First", D(2026, 3, 2), D(2026, 3, 6), position=1)
    second = phase(owner, "Second", D(2026, 3, 9), D(2026, 3, 13), position=2)
    impact = what_if(shift(first, 5))  # skips the closed week
    assert moved(impact)[key(first)] == (D(2026, 3, 9), D(2026, 3, 13))
    assert moved(impact)[key(second)] == (D(2026, 3, 23), D(2026, 3, 27))
    second_row = next(row for row in impact["moved"] if row["key"] == key(second))
    assert second_row["shift_days"] == 5
