"""A release's scope at the services: systems impacted or regression-dependent, and suggestions from the graph."""

import threading

import pytest
from django.db import connection, connections

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory, systems_with_edges
from launchdeck.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from launchdeck.releases import services
from launchdeck.releases.choices import SystemImpact
from launchdeck.releases.models import ReleaseSystem
from launchdeck.releases.tests.factories import ReleaseFactory, ReleaseSystemFactory, events_written, unchanged


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


def scope(release) -> dict:
    return {
        row.system.name: (row.impact, row.target_version)
        for row in ReleaseSystem.objects.filter(release=release).select_related("system")
    }


def test_scope_set_adds_then_changes_a_system(release_manager):
    release, system = ReleaseFactory(), SystemFactory(name="Ledger")
    with events_written() as written:
        row = services.release_scope_set(
            actor=release_manager, release=release, system=system, impact="impacted", target_version=" 4.2 "
        )
    assert written.types == ["release.scope_changed"] and written.event.object_id == str(release.pk)
    assert written.event.old_data is None
    assert written.event.new_data == {"system": system.pk, "impact": "impacted", "target_version": "4.2"}
    with events_written() as written:
        again = services.release_scope_set(
            actor=release_manager, release=release, system=system, impact="regression", target_version="4.2"
        )
    assert again.pk == row.pk and scope(release) == {"Ledger": ("regression", "4.2")}
    assert (written.event.old_data, written.event.new_data) == (
        {"system": system.pk, "impact": "impacted"},
        {"system": system.pk, "impact": "regression"},
    )
    with events_written() as written:
        services.release_scope_set(
            actor=release_manager, release=release, system=system, impact="regression", target_version="4.2"
        )
    assert written.types == []


@pytest.mark.parametrize(
    ("changes", "field"), [({"impact": "critical"}, "impact"), ({"target_version": "v" * 101}, "target_version")]
)
def test_bad_scope_input_is_refused(release_manager, changes, field):
    release, system = ReleaseFactory(), SystemFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_scope_set(actor=release_manager, release=release, system=system, **changes)
    assert fields_of(caught) == [field]


def test_a_version_of_100_characters_is_kept(release_manager):
    row = services.release_scope_set(
        actor=release_manager, release=ReleaseFactory(), system=SystemFactory(), target_version="v" * 100
    )
    assert len(row.target_version) == 100


def test_a_bad_change_to_a_system_in_scope_changes_nothing(release_manager):
    row = ReleaseSystemFactory(target_version="1.0")
    with unchanged(), pytest.raises(ValidationFailed):
        services.release_scope_set(
            actor=release_manager, release=row.release, system=row.system, impact="major", target_version="2.0"
        )


def test_scope_remove(release_manager):
    row = ReleaseSystemFactory()
    with events_written() as written:
        services.release_scope_remove(actor=release_manager, release=row.release, system=row.system)
    assert written.types == ["release.scope_changed"] and written.event.new_data is None
    assert not ReleaseSystem.objects.exists()
    with unchanged(), pytest.raises(NotFound):
        services.release_scope_remove(actor=release_manager, release=row.release, system=row.system)


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER, Role.ENVIRONMENT_MANAGER])
def test_only_release_managers_change_scope(make_user, role):
    row = ReleaseSystemFactory()
    user = make_user(role)
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_scope_set(actor=user, release=row.release, system=SystemFactory.build(pk=row.system_id))
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_scope_remove(actor=user, release=row.release, system=row.system)
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_scope_add_suggested(actor=user, release=row.release)


def test_suggestions_add_every_system_downstream_of_the_impacted_ones(release_manager):
    # B and C depend on A; D depends on B; E depends on D and on A (a second path); F depends on G (unrelated);
    # A depends on H (upstream: not suggested); a cycle D -> B -> A ... is walked once.
    systems = systems_with_edges(
        "ABCDEFGH", [("B", "A"), ("C", "A"), ("D", "B"), ("E", "D"), ("E", "A"), ("F", "G"), ("A", "H"), ("B", "D")]
    )
    release = ReleaseFactory()
    ReleaseSystemFactory(release=release, system=systems["A"], impact=SystemImpact.IMPACTED)
    ReleaseSystemFactory(release=release, system=systems["C"], impact=SystemImpact.IMPACTED, target_version="2")
    with events_written() as written:
        added = services.release_scope_add_suggested(actor=release_manager, release=release)
    assert sorted(row.system.name for row in added) == ["B", "D", "E"]
    assert scope(release) == {
        "A": ("impacted", ""),
        "B": ("regression", ""),
        "C": ("impacted", "2"),
        "D": ("regression", ""),
        "E": ("regression", ""),
    }
    assert written.types == ["release.scope_changed"]
    assert sorted(written.event.new_data["added"]) == sorted(systems[name].pk for name in "BDE")
    with events_written() as written:
        assert services.release_scope_add_suggested(actor=release_manager, release=release) == []
    assert written.types == []


def test_regression_systems_do_not_seed_suggestions(release_manager):
    systems = systems_with_edges("ABC", [("B", "A"), ("C", "B")])
    release = ReleaseFactory()
    ReleaseSystemFactory(release=release, system=systems["B"], impact=SystemImpact.REGRESSION)
    assert services.release_scope_add_suggested(actor=release_manager, release=release) == []
    assert scope(release) == {"B": ("regression", "")}


def test_suggestions_keep_systems_already_in_scope_as_they_are(release_manager):
    systems = systems_with_edges("AB", [("B", "A")])
    release = ReleaseFactory()
    ReleaseSystemFactory(release=release, system=systems["A"])
    ReleaseSystemFactory(release=release, system=systems["B"], impact=SystemImpact.IMPACTED, target_version="9")
    assert services.release_scope_add_suggested(actor=release_manager, release=release) == []
    assert scope(release)["B"] == ("impacted", "9")


def test_suggestions_take_a_fixed_number_of_queries(release_manager, django_assert_max_num_queries):
    names = "ABCDEFGHIJKL"
    systems = systems_with_edges(names, [(names[i + 1], names[i]) for i in range(len(names) - 1)])
    release = ReleaseFactory()
    for name in "ACE":
        ReleaseSystemFactory(release=release, system=systems[name])
    with django_assert_max_num_queries(11):  # with the release's lock and the savepoint around the insert
        added = services.release_scope_add_suggested(actor=release_manager, release=release)
    assert len(added) == len(names) - 3


def test_suggestions_added_by_another_click_meanwhile_are_a_no_op(release_manager, monkeypatch):
    systems = systems_with_edges("AB", [("B", "A")])
    release = ReleaseFactory()
    ReleaseSystemFactory(release=release, system=systems["A"])
    real_adjacency = services.adjacency

    def other_click_lands_first(*args, **kwargs):
        ReleaseSystem.objects.create(release=release, system=systems["B"], impact=SystemImpact.REGRESSION)
        return real_adjacency(*args, **kwargs)

    monkeypatch.setattr(services, "adjacency", other_click_lands_first)
    with events_written() as written:
        added = services.release_scope_add_suggested(actor=release_manager, release=release)
    assert added == [] and written.types == []
    assert scope(release)["B"] == ("regression", "")


@pytest.mark.parametrize("status", ["released", "cancelled"])
def test_the_scope_of_a_closed_release_is_history(release_manager, status):
    systems = systems_with_edges("AB", [("B", "A")])
    release = ReleaseFactory(name="Ledger", status=status)
    ReleaseSystemFactory(release=release, system=systems["A"])
    attempts = [
        lambda: services.release_scope_set(actor=release_manager, release=release, system=systems["B"]),
        lambda: services.release_scope_remove(actor=release_manager, release=release, system=systems["A"]),
        lambda: services.release_scope_add_suggested(actor=release_manager, release=release),
    ]
    for attempt in attempts:
        with unchanged(), pytest.raises(Conflict, match=f"Ledger is {status}; its plan is history."):
            attempt()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's IMMEDIATE transactions already queue writers")
@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_suggest_at_once_add_the_systems_once(release_manager):
    systems = systems_with_edges("ABC", [("B", "A"), ("C", "B")])
    release = ReleaseFactory()
    ReleaseSystemFactory(release=release, system=systems["A"])
    start, outcomes = threading.Barrier(2), []

    def click():
        try:
            start.wait()
            outcomes.append(len(services.release_scope_add_suggested(actor=release_manager, release=release)))
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            outcomes.append(exc)
        finally:
            connections.close_all()

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sorted(outcomes) == [0, 2]
    assert scope(release) == {"A": ("impacted", ""), "B": ("regression", ""), "C": ("regression", "")}
