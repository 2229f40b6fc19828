"""Schedule writes at the services: dependencies, applying a change, and the history of a release's dates."""

import datetime
import uuid

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.context import audit_context
from launchdeck.audit.models import AuditEvent
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.releases import schedule, services
from launchdeck.releases.choices import MilestoneKind, PhaseKind, ReleaseStatus
from launchdeck.releases.models import Gate, Milestone, Phase, Release, ScheduleChange, ScheduleDependency
from launchdeck.releases.schedule import Change
from launchdeck.releases.tests.factories import (
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleDependencyFactory,
    TrainFactory,
    events_written,
    release_state,
)

D = datetime.date
START, END = D(2026, 3, 2), D(2026, 6, 26)


def release(name, start=START, end=END, **fields) -> Release:
    return ReleaseFactory(name=name, planned_start=start, planned_end=end, **fields)


def phase(owner, name, start, end, kind=PhaseKind.BUILD, **fields) -> Phase:
    return PhaseFactory(release=owner, name=name, kind=kind, planned_start=start, planned_end=end, **fields)


def key(row) -> str:
    return f"{type(row).__name__.lower()}:{row.pk}"


def refusal(caught) -> tuple[str | None, str]:
    (error,) = caught.value.errors
    return error["field"], error["message"]


def schedule_state() -> dict:
    return {
        **release_state(),
        "dependencies": list(ScheduleDependency.objects.order_by("pk").values()),
        "history": list(ScheduleChange.objects.order_by("pk").values()),
    }


@pytest.fixture
def manager(make_user):
    user = make_user(Role.RELEASE_MANAGER, username="rm", first_name="Rita", last_name="Manager")
    user.roles  # noqa: B018
    return user


@pytest.fixture
def ledger(db):
    """Ledger, 2 March to 3 April: Build 2-20 March, SIT 23 March to 3 April."""
    ledger = release("Ledger", end=D(2026, 4, 3))
    ledger.build = phase(ledger, "Build", D(2026, 3, 2), D(2026, 3, 20), position=1)
    ledger.sit = phase(ledger, "SIT", D(2026, 3, 23), D(2026, 4, 3), kind=PhaseKind.SIT, position=2)
    return ledger


@pytest.fixture
def reports(db):
    """Reports, 6 April to 29 May: Build 6-17 April, a deploy on 29 May."""
    reports = release("Reports", start=D(2026, 4, 6), end=D(2026, 5, 29))
    reports.build = phase(reports, "Build", D(2026, 4, 6), D(2026, 4, 17))
    reports.deploy = MilestoneFactory(
        release=reports, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 5, 29)
    )
    return reports


# Dependencies


def test_a_release_manager_links_two_items_and_the_link_is_audited(manager, ledger, reports):
    with events_written() as written:
        dependency = services.dependency_create(
            actor=manager, predecessor=key(ledger.sit), successor=key(reports), kind="FS", lag_days=2, note=" Data "
        )
    assert (dependency.predecessor_release, dependency.predecessor_phase, dependency.predecessor_milestone) == (
        ledger,
        ledger.sit,
        None,
    )
    assert (dependency.successor_release, dependency.successor_phase) == (reports, None)
    assert (dependency.predecessor_key, dependency.successor_key) == (key(ledger.sit), key(reports))
    assert (dependency.kind, dependency.lag_days, dependency.note) == ("FS", 2, "Data")
    event = written.event
    assert event.event_type == "schedule_dependency.created"
    assert event.new_data["successor_key"] == key(reports) and event.new_data["lag_days"] == 2


def test_a_project_manager_may_link_items_too(make_user, ledger, reports):
    project_manager = make_user(Role.PROJECT_MANAGER)
    dependency = services.dependency_create(
        actor=project_manager, predecessor=key(ledger), successor=key(reports.deploy), kind="FF"
    )
    assert dependency.successor_milestone == reports.deploy


@pytest.mark.parametrize("role", [Role.VIEWER, Role.QUALITY_MANAGER, Role.ENVIRONMENT_MANAGER])
def test_other_roles_may_not_link_items(make_user, ledger, reports, role):
    before = schedule_state()
    with pytest.raises(PermissionDenied):
        services.dependency_create(actor=make_user(role), predecessor=key(ledger), successor=key(reports))
    assert schedule_state() == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"predecessor": "sprint:1"},
            "predecessor",
            'Give the item as "release:<id>", "phase:<id>" or "milestone:<id>".',
        ),
        ({"successor": "gate:1"}, "successor", 'Give the item as "release:<id>", "phase:<id>" or "milestone:<id>".'),
        ({"predecessor": "phase:999999"}, "predecessor", "No such release, phase or milestone."),
        ({"successor": "milestone:999999"}, "successor", "No such release, phase or milestone."),
        ({"kind": "XX"}, "kind", "'XX' is not a kind of dependency; the kinds are FS, SS, FF, SF."),
        ({"lag_days": 251}, "lag_days", "A lag is at most 250 working days either way."),
        ({"lag_days": -251}, "lag_days", "A lag is at most 250 working days either way."),
        ({"lag_days": "2"}, "lag_days", "The lag is a whole number of working days."),
    ],
)
def test_bad_dependencies_are_refused_on_their_field(manager, ledger, reports, changes, field, message):
    before = schedule_state()
    arguments = {"predecessor": key(ledger.sit), "successor": key(reports.build), **changes}
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=manager, **arguments)
    assert refusal(caught) == (field, message)
    assert schedule_state() == before


def test_an_item_cannot_depend_on_itself(manager, ledger):
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=manager, predecessor=key(ledger.sit), successor=key(ledger.sit))
    assert refusal(caught) == ("successor", "An item cannot depend on itself.")


def test_items_the_caller_may_not_see_are_no_such_items(manager, ledger, reports, monkeypatch):
    monkeypatch.setattr(
        Release,
        "restrict_scope",
        classmethod(lambda cls, rows, user, action: rows.exclude(name="Reports")),
        raising=False,
    )
    before = schedule_state()
    for hidden in (reports, reports.build, reports.deploy):
        with pytest.raises(ValidationFailed) as caught:
            services.dependency_create(actor=manager, predecessor=key(ledger), successor=key(hidden))
        assert refusal(caught) == ("successor", "No such release, phase or milestone.")
    assert schedule_state() == before


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
def test_items_of_a_closed_release_take_no_new_dependency(manager, ledger, reports, status):
    Release.objects.filter(pk=ledger.pk).update(status=status)
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=manager, predecessor=key(ledger.sit), successor=key(reports))
    assert refusal(caught) == ("predecessor", f"Ledger is {status}; its plan is history.")


def test_the_same_link_twice_is_a_conflict(manager, ledger, reports):
    services.dependency_create(actor=manager, predecessor=key(ledger), successor=key(reports))
    before = schedule_state()
    with pytest.raises(Conflict) as caught:
        services.dependency_create(actor=manager, predecessor=key(ledger), successor=key(reports), kind="SS")
    assert caught.value.detail == "These two items are already linked by a dependency."
    assert schedule_state() == before


def test_a_dependency_closing_a_cycle_is_refused_naming_it(manager, ledger, reports):
    services.dependency_create(actor=manager, predecessor=key(ledger.sit), successor=key(reports))
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=manager, predecessor=key(reports.deploy), successor=key(ledger))
    assert refusal(caught) == (
        "predecessor",
        "This dependency would close a cycle: Ledger → SIT of Ledger → Reports → Deploy of Reports → Ledger.",
    )
    assert schedule_state() == before


def test_a_cycle_through_a_train_and_its_child_is_refused(manager):
    train = TrainFactory(name="Winter")
    child = release("Cards", train=train)
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=manager, predecessor=key(train), successor=key(child))
    assert refusal(caught) == ("predecessor", "This dependency would close a cycle: Winter → Cards → Winter.")
    services.dependency_create(actor=manager, predecessor=key(train), successor=key(child), kind="SS")


def test_a_dependency_changes_kind_lag_and_note_with_its_version(manager, ledger, reports):
    dependency = ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports)
    with events_written() as written:
        services.dependency_update(
            actor=manager, dependency=dependency, version=1, kind="SS", lag_days=-3, note="Overlap"
        )
    assert (dependency.kind, dependency.lag_days, dependency.note, dependency.version) == ("SS", -3, "Overlap", 2)
    assert written.event.event_type == "schedule_dependency.updated"
    assert written.event.old_data == {"kind": "FS", "lag_days": 0, "note": ""}
    with pytest.raises(StaleVersion):
        services.dependency_update(actor=manager, dependency=dependency, version=1, lag_days=1)


def test_a_dependency_keeps_its_ends(manager, ledger, reports):
    dependency = ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports)
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_update(actor=manager, dependency=dependency, successor_release=ledger)
    assert refusal(caught) == (
        "successor_release",
        "Its ends stay; delete the dependency and make another to link other items.",
    )


def test_a_new_kind_that_would_close_a_cycle_is_refused(manager, ledger, reports):
    # Reports' deploy waits for Ledger to finish; Reports starts with Ledger (SS). As FS, Ledger's end would wait
    # for Reports' start, which waits for... nothing; but Ledger's end already waits for Reports' deploy:
    ScheduleDependencyFactory(
        predecessor_release=reports, predecessor_milestone=reports.deploy, successor_release=ledger, kind="FF"
    )
    dependency = ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports, kind="SS")
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_update(actor=manager, dependency=dependency, kind="FS")
    assert refusal(caught)[1].startswith("This dependency would close a cycle: ")
    assert schedule_state() == before


def test_a_dependency_is_deleted_with_an_audit_event(manager, ledger, reports, make_user):
    dependency = ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports)
    with pytest.raises(PermissionDenied):
        services.dependency_delete(actor=make_user(Role.VIEWER), dependency=dependency)
    with events_written() as written:
        services.dependency_delete(actor=manager, dependency=dependency)
    assert not ScheduleDependency.objects.exists()
    assert written.event.event_type == "schedule_dependency.deleted"


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
def test_a_dependency_of_a_closed_release_is_not_deleted(manager, ledger, reports, status):
    dependency = ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports)
    Release.objects.filter(pk=reports.pk).update(status=status)
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        services.dependency_delete(actor=manager, dependency=dependency)
    assert caught.value.detail == f"Reports is {status}; its plan is history."
    assert schedule_state() == before


# Applying a change


def apply(actor, *changes, reason="Supplier delay", **options) -> dict:
    return services.schedule_apply(actor=actor, changes=list(changes), reason=reason, **options)


def test_applying_a_change_moves_every_row_once_with_one_audit_event_and_a_history_entry_per_release(
    manager, ledger, reports
):
    ScheduleDependencyFactory(predecessor_release=ledger, successor_release=reports)  # Reports starts after Ledger
    gate = GateFactory(release=ledger, phase=ledger.sit, name="SIT exit", due_date=D(2026, 4, 3))
    preview = schedule.what_if(user=manager, changes=[Change(key(ledger.build), 5)])
    with events_written() as written:
        applied = apply(manager, Change(key(ledger.build), 5), fingerprint=preview["fingerprint"])
    assert applied["applied"] is True and applied["fingerprint"] == preview["fingerprint"]

    event = written.event
    assert (event.event_type, event.object_id, event.reason) == (
        "release.rescheduled",
        str(ledger.pk),
        "Supplier delay",
    )
    assert event.new_data["moved"] == preview["moved"]
    assert event.new_data["releases"] == preview["releases"]
    assert applied["audit_event_id"] == event.pk

    def dates(model, pk, *fields):
        return model.objects.filter(pk=pk).values_list(*fields, "version").get()

    assert dates(Phase, ledger.build.pk, "planned_start", "planned_end") == (D(2026, 3, 9), D(2026, 3, 27), 2)
    assert dates(Phase, ledger.sit.pk, "planned_start", "planned_end") == (D(2026, 3, 30), D(2026, 4, 10), 2)
    assert dates(Gate, gate.pk, "due_date") == (D(2026, 4, 10), 2)
    assert dates(Release, ledger.pk, "planned_start", "planned_end") == (D(2026, 3, 2), D(2026, 4, 10), 2)
    assert dates(Phase, reports.build.pk, "planned_start", "planned_end") == (D(2026, 4, 13), D(2026, 4, 24), 2)
    assert dates(Milestone, reports.deploy.pk, "planned_date") == (D(2026, 6, 5), 2)
    assert dates(Release, reports.pk, "planned_start", "planned_end") == (D(2026, 4, 13), D(2026, 6, 5), 2)

    history = {row.release.name: row for row in ScheduleChange.objects.select_related("release")}
    assert set(history) == {"Ledger", "Reports"}
    assert {row.batch for row in history.values()} == {uuid.UUID(applied["batch"])}
    assert all(row.audit_event_id == event.pk and row.actor == manager for row in history.values())
    # Named as people read them; the audit event keeps the username.
    assert all(row.reason == "Supplier delay" and row.actor_name == "Rita Manager" for row in history.values())
    assert event.actor_name == "rm"
    ledger_entry, reports_entry = history["Ledger"], history["Reports"]
    assert (ledger_entry.old_start, ledger_entry.old_end, ledger_entry.new_start, ledger_entry.new_end) == (
        D(2026, 3, 2),
        D(2026, 4, 3),
        D(2026, 3, 2),
        D(2026, 4, 10),
    )
    assert (ledger_entry.start_shift_days, ledger_entry.end_shift_days, ledger_entry.items_moved) == (0, 5, 3)
    assert (reports_entry.start_shift_days, reports_entry.end_shift_days, reports_entry.items_moved) == (5, 5, 2)
    assert reports_entry.cause == "Build of Ledger → SIT of Ledger → Ledger → Reports → Build of Reports"


def test_a_train_phase_applied_keeps_its_inheriting_children_linked(manager):
    train = TrainFactory(name="Winter", planned_start=D(2026, 3, 2), planned_end=D(2026, 7, 31))
    train_sit = phase(train, "Train SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT)
    child = release("Cards", start=D(2026, 3, 9), end=D(2026, 4, 24), train=train, inherits_train_dates=True)
    child_sit = phase(child, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT, train_phase=train_sit)
    other = release("Loans", start=D(2026, 3, 9), end=D(2026, 5, 29), train=train, inherits_train_dates=True)
    other_sit = phase(other, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT, train_phase=train_sit)
    apply(manager, Change(key(train_sit), 10), Change(key(other_sit), 12))
    child_sit.refresh_from_db()
    other_sit.refresh_from_db()
    assert (child_sit.planned_start, child_sit.planned_end, child_sit.train_phase_id) == (
        D(2026, 4, 20),
        D(2026, 5, 8),
        train_sit.pk,
    )
    assert (other_sit.planned_start, other_sit.train_phase_id) == (D(2026, 4, 22), None)
    assert Release.objects.get(pk=child.pk).planned_end == D(2026, 5, 8)


def test_a_train_phase_moved_earlier_takes_its_followers_along(manager):
    train = TrainFactory(name="Winter", planned_start=D(2026, 3, 2), planned_end=D(2026, 7, 31))
    train_sit = phase(train, "Train SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT)
    child = release("Cards", start=D(2026, 3, 9), end=D(2026, 4, 24), train=train, inherits_train_dates=True)
    child_sit = phase(child, "SIT", D(2026, 4, 6), D(2026, 4, 24), kind=PhaseKind.SIT, train_phase=train_sit)
    apply(manager, Change(key(train_sit), -5))
    child_sit.refresh_from_db()
    assert (child_sit.planned_start, child_sit.planned_end, child_sit.train_phase_id) == (
        D(2026, 3, 30),
        D(2026, 4, 17),
        train_sit.pk,
    )


def test_a_stale_fingerprint_is_a_conflict_and_changes_nothing(manager, ledger, reports):
    preview = schedule.what_if(user=manager, changes=[Change(key(ledger.build), 5)])
    Phase.objects.filter(pk=ledger.sit.pk).update(planned_start=D(2026, 3, 24))  # someone moved SIT since
    before = schedule_state()
    with pytest.raises(Conflict) as caught:
        apply(manager, Change(key(ledger.build), 5), fingerprint=preview["fingerprint"])
    assert caught.value.detail == "The plan changed since the preview; preview the change again."
    assert schedule_state() == before


def test_a_change_breaking_a_fixed_item_is_a_conflict_and_changes_nothing(manager, ledger):
    Phase.objects.filter(pk=ledger.sit.pk).update(actual_start=D(2026, 3, 23))
    before = schedule_state()
    with pytest.raises(Conflict) as caught:
        apply(manager, Change(key(ledger.build), 5))
    assert caught.value.detail.startswith("The change would break a constraint that holds today: SIT of Ledger must")
    assert [error["message"] for error in caught.value.errors] == [
        "SIT of Ledger must start on or after 30 Mar 2026 to follow Build of Ledger (finish to start). SIT of Ledger "
        "has started on 23 Mar 2026; its start is fixed."
    ]
    assert schedule_state() == before


def test_several_broken_constraints_are_refused_in_one_readable_sentence(manager, ledger, reports):
    ScheduleDependencyFactory(
        predecessor_release=ledger,
        predecessor_phase=ledger.build,
        successor_release=reports,
        successor_phase=reports.build,
    )
    Phase.objects.filter(pk__in=[ledger.sit.pk, reports.build.pk]).update(actual_start=D(2026, 3, 23))
    with pytest.raises(Conflict) as caught:
        apply(manager, Change(key(ledger.build), 15))
    messages = [error["message"].rstrip(".") for error in caught.value.errors]
    assert len(messages) == 2
    assert caught.value.detail == "The change would break 2 constraints that hold today: " + "; ".join(messages) + "."


@pytest.mark.parametrize("role", [Role.VIEWER, Role.QUALITY_MANAGER])
def test_only_those_who_may_reschedule_apply(make_user, ledger, role):
    before = schedule_state()
    with pytest.raises(PermissionDenied):
        apply(make_user(role), Change(key(ledger.build), 5))
    assert schedule_state() == before


def test_a_project_manager_may_apply(make_user, ledger):
    apply(make_user(Role.PROJECT_MANAGER), Change(key(ledger.build), 1))
    assert ScheduleChange.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(manager, ledger, reason):
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        apply(manager, Change(key(ledger.build), 5), reason=reason)
    assert refusal(caught) == ("reason", "Say why the dates change.")
    assert schedule_state() == before


def test_a_change_that_moves_nothing_is_refused(manager, ledger):
    with pytest.raises(ValidationFailed) as caught:
        apply(manager, Change(key(ledger.build), 0))
    assert refusal(caught) == ("changes", "The change moves nothing; there is nothing to apply.")


def test_bad_changes_are_refused_by_apply_as_by_the_preview(manager, ledger):
    Release.objects.filter(pk=ledger.pk).update(status=ReleaseStatus.RELEASED)
    before = schedule_state()
    with pytest.raises(ValidationFailed) as caught:
        apply(manager, Change(key(ledger.build), 5))
    assert refusal(caught) == ("changes.0.item", "Ledger is released; its dates are history.")
    assert schedule_state() == before


def test_impact_providers_follow_an_applied_change_in_its_transaction(manager, ledger):
    calls = []

    def follow(context, actor):
        calls.append((context, actor, AuditEvent.objects.filter(event_type="release.rescheduled").count()))

    schedule.register_impact_provider("fake", "Fake", lambda context: [{"text": "one"}], follow)
    try:
        applied = apply(manager, Change(key(ledger.sit), 2), reason="Environment late")
    finally:
        schedule.unregister_impact_provider("fake")
    assert applied["impacts"] == [
        {"key": "fake", "title": "Fake", "items": [{"text": "one", "url": None, "severity": "warning"}]}
    ]
    ((context, actor, events),) = calls
    assert actor == manager and context.reason == "Environment late" and events == 1
    assert context.phases == {ledger.sit.pk: (D(2026, 3, 23), D(2026, 4, 3), D(2026, 3, 25), D(2026, 4, 7))}


def test_a_failing_provider_undoes_the_whole_change(manager, ledger):
    def fail(context, actor):
        raise Conflict("The environment is booked.")

    schedule.register_impact_provider("fake", "Fake", lambda context: [], fail)
    before = schedule_state()
    try:
        with pytest.raises(Conflict):
            apply(manager, Change(key(ledger.sit), 2))
    finally:
        schedule.unregister_impact_provider("fake")
    assert schedule_state() == before


def test_a_user_without_a_name_is_named_by_their_username(make_user, ledger):
    nameless = make_user(Role.RELEASE_MANAGER, username="nameless", first_name="", last_name="")
    apply(nameless, Change(key(ledger.sit), 2))
    assert ScheduleChange.objects.get().actor_name == "nameless"


def test_an_operator_applies_through_a_command(ledger):
    with audit_context("cli", operator="nightly-import"):
        apply(None, Change(key(ledger.sit), 2))
    entry = ScheduleChange.objects.get()
    assert (entry.actor, entry.actor_name) == (None, "nightly-import")


# A release's dates edited by hand


def test_editing_a_release_window_records_a_history_entry(manager, ledger):
    with events_written() as written:
        services.release_update(actor=manager, release=ledger, planned_end=D(2026, 4, 17))
    entry = ScheduleChange.objects.get()
    assert entry.audit_event_id == written.event.pk
    assert (entry.cause, entry.actor, entry.actor_name, entry.old_end, entry.new_end) == (
        "Dates edited",
        manager,
        "Rita Manager",
        D(2026, 4, 3),
        D(2026, 4, 17),
    )
    assert (entry.start_shift_days, entry.end_shift_days, entry.items_moved) == (0, 10, 0)


def test_editing_anything_else_of_a_release_records_no_history(manager, ledger):
    services.release_update(actor=manager, release=ledger, name="General ledger", description="New")
    services.release_update(actor=manager, release=ledger, planned_start=D(2026, 3, 2))  # the same date
    assert not ScheduleChange.objects.exists()
