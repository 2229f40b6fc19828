"""Freeze windows at the services: what they cover, how long they last and recur; audit and permissions."""

import datetime
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases import services
from launchdeck.releases.choices import FreezeCategory, FreezeScope, Recurrence
from launchdeck.releases.models import FreezeWindow
from launchdeck.releases.tests.factories import FreezeWindowFactory, events_written, unchanged

D = datetime.date


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


def create(actor, **overrides):
    args = {
        "name": "Year end",
        "category": FreezeCategory.DEPLOYMENT,
        "scope": FreezeScope.ORGANISATION,
        "starts_on": D(2026, 12, 18),
        "ends_on": D(2027, 1, 4),
        **overrides,
    }
    return services.freeze_create(actor=actor, **args)


def test_an_organisation_wide_freeze_is_recorded(release_manager):
    with events_written() as written:
        window = create(release_manager, reason="Trading peak")
    assert written.types == ["freezewindow.created"]
    assert written.event.new_data == {
        "name": "Year end",
        "category": "deployment",
        "scope": "organisation",
        "environment_types": [],
        "starts_on": "2026-12-18",
        "ends_on": "2027-01-04",
        "recurrence": "none",
        "recurs_until": None,
        "reason": "Trading peak",
        "portfolios": [],
        "systems": [],
    }
    assert FreezeWindow.objects.get(pk=window.pk).reason == "Trading peak"


def test_scoped_freezes_keep_their_lists(release_manager):
    portfolio, system = PortfolioFactory(), SystemFactory()
    by_portfolio = create(release_manager, name="P", scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio])
    by_system = create(release_manager, name="S", scope=FreezeScope.SYSTEMS, systems=[system])
    by_environment = create(
        release_manager,
        name="E",
        scope=FreezeScope.ENVIRONMENTS,
        category=FreezeCategory.BOOKING,
        environment_types=["uat", "sit", "uat"],
    )
    assert list(by_portfolio.portfolios.all()) == [portfolio]
    assert list(by_system.systems.all()) == [system]
    assert FreezeWindow.objects.get(pk=by_environment.pk).environment_types == ["uat", "sit"]


@pytest.mark.parametrize(
    ("scope", "field"),
    [
        (FreezeScope.PORTFOLIOS, "portfolios"),
        (FreezeScope.SYSTEMS, "systems"),
        (FreezeScope.ENVIRONMENTS, "environment_types"),
    ],
)
def test_a_scoped_freeze_names_at_least_one_of_what_it_covers(release_manager, scope, field):
    with unchanged(), pytest.raises(ValidationFailed, match="at least one") as caught:
        create(release_manager, scope=scope)
    assert fields_of(caught) == [field]


@pytest.mark.parametrize(
    ("scope", "lists", "field"),
    [
        (FreezeScope.ORGANISATION, {"portfolios": "p"}, "portfolios"),
        (FreezeScope.ORGANISATION, {"environment_types": ["uat"]}, "environment_types"),
        (FreezeScope.SYSTEMS, {"systems": "s", "portfolios": "p"}, "portfolios"),
        (FreezeScope.PORTFOLIOS, {"portfolios": "p", "systems": "s"}, "systems"),
        (FreezeScope.PORTFOLIOS, {"portfolios": "p", "environment_types": ["uat"]}, "environment_types"),
        (FreezeScope.ENVIRONMENTS, {"environment_types": ["uat"], "systems": "s"}, "systems"),
    ],
)
def test_a_freeze_carries_only_the_list_of_its_scope(release_manager, scope, lists, field):
    values = {"p": [PortfolioFactory()], "s": [SystemFactory()]}
    lists = {key: values[value] if isinstance(value, str) else value for key, value in lists.items()}
    with unchanged(), pytest.raises(ValidationFailed, match="freeze lists") as caught:
        create(release_manager, scope=scope, **lists)
    assert fields_of(caught) == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"environment_types": ["moon"]}, "environment_types"),
        ({"category": "party"}, "category"),
        ({"scope": "galaxy"}, "scope"),
        ({"recurrence": "daily"}, "recurrence"),
        ({"name": " "}, "name"),
        ({"ends_on": D(2026, 12, 17)}, "ends_on"),
        ({"ends_on": D(2027, 12, 19)}, "ends_on"),  # 367 days
        ({"recurs_until": D(2027, 12, 31)}, "recurs_until"),  # a one-off does not recur
    ],
)
def test_bad_freezes_are_refused_by_field(release_manager, changes, field):
    if field == "environment_types":
        changes["scope"] = FreezeScope.ENVIRONMENTS
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager, **changes)
    assert fields_of(caught) == [field]


def test_a_one_off_freeze_of_366_days_is_allowed(release_manager):
    assert create(release_manager, starts_on=D(2027, 1, 1), ends_on=D(2028, 1, 1)).pk


@pytest.mark.parametrize(
    ("recurrence", "longest"), [(Recurrence.WEEKLY, 7), (Recurrence.MONTHLY, 28), (Recurrence.YEARLY, 366)]
)
def test_a_recurring_freeze_is_shorter_than_its_period(release_manager, recurrence, longest):
    start = D(2026, 1, 5)
    ok = create(
        release_manager,
        name="OK",
        starts_on=start,
        ends_on=start + datetime.timedelta(days=longest - 1),
        recurrence=recurrence,
        recurs_until=D(2030, 1, 1),
    )
    assert ok.pk
    with unchanged(), pytest.raises(ValidationFailed, match=f"at most {longest} days each time") as caught:
        create(
            release_manager,
            starts_on=start,
            ends_on=start + datetime.timedelta(days=longest),
            recurrence=recurrence,
            recurs_until=D(2030, 1, 1),
        )
    assert fields_of(caught) == ["ends_on"]


def test_a_recurring_freeze_says_until_when_within_ten_years(release_manager):
    args = {"starts_on": D(2026, 1, 2), "ends_on": D(2026, 1, 2), "recurrence": Recurrence.WEEKLY}
    with unchanged(), pytest.raises(ValidationFailed, match="until when") as caught:
        create(release_manager, **args)
    assert fields_of(caught) == ["recurs_until"]
    with unchanged(), pytest.raises(ValidationFailed, match="before it starts") as caught:
        create(release_manager, recurs_until=D(2026, 1, 1), **args)
    assert fields_of(caught) == ["recurs_until"]
    with unchanged(), pytest.raises(ValidationFailed, match="at most 10 years") as caught:
        create(release_manager, recurs_until=D(2036, 1, 3), **args)
    assert fields_of(caught) == ["recurs_until"]
    assert create(release_manager, recurs_until=D(2036, 1, 2), **args).pk


def test_a_leap_day_start_recurs_for_ten_years(release_manager):
    window = create(
        release_manager,
        starts_on=D(2028, 2, 29),
        ends_on=D(2028, 2, 29),
        recurrence=Recurrence.YEARLY,
        recurs_until=D(2038, 2, 28),
    )
    assert window.pk


def test_freeze_names_are_unique(release_manager):
    FreezeWindowFactory(name="Year end")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A freeze window with this name already exists.")):
        create(release_manager, name="year END")


@pytest.mark.parametrize("role", [Role.ENVIRONMENT_MANAGER, Role.SERVICE_MANAGER, Role.RELEASE_MANAGER, Role.ADMIN])
def test_roles_that_manage_freezes(make_user, role):
    user = make_user(role)
    window = create(user)
    window = services.freeze_update(actor=user, window=window, version=1, reason="Peak")
    services.freeze_delete(actor=user, window=window)
    assert not FreezeWindow.objects.exists()


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.QUALITY_MANAGER, Role.PORTFOLIO_MANAGER, Role.VIEWER])
def test_other_roles_do_not_manage_freezes(make_user, role):
    user = make_user(role)
    window = FreezeWindowFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        create(user, name="Mine")
    with unchanged(), pytest.raises(PermissionDenied):
        services.freeze_update(actor=user, window=window, version=1, reason="x")
    with unchanged(), pytest.raises(PermissionDenied):
        services.freeze_delete(actor=user, window=window)


def test_freeze_update_changes_scope_and_lists_together(release_manager):
    window = FreezeWindowFactory()
    portfolio = PortfolioFactory()
    with events_written() as written:
        services.freeze_update(
            actor=release_manager, window=window, version=1, scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio]
        )
    assert written.types == ["freezewindow.updated"]
    assert written.event.old_data == {"scope": "organisation", "portfolios": []}
    assert written.event.new_data == {"scope": "portfolios", "portfolios": [portfolio.pk]}
    assert list(FreezeWindow.objects.get(pk=window.pk).portfolios.all()) == [portfolio]


def test_freeze_update_checks_the_whole_window(release_manager):
    portfolio = PortfolioFactory()
    window = FreezeWindowFactory(scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio])
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.freeze_update(actor=release_manager, window=window, version=1, portfolios=[])
    assert fields_of(caught) == ["portfolios"]
    window = FreezeWindow.objects.get(pk=window.pk)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.freeze_update(actor=release_manager, window=window, version=1, recurrence=Recurrence.MONTHLY)
    assert fields_of(caught) == ["recurs_until"]
    window = FreezeWindow.objects.get(pk=window.pk)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.freeze_update(actor=release_manager, window=window, version=1, starts_on=None)
    assert fields_of(caught) == ["starts_on"]
    window = FreezeWindow.objects.get(pk=window.pk)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.freeze_update(actor=release_manager, window=window, version=1, owner="me")
    assert fields_of(caught) == ["owner"]


def test_freeze_update_refuses_a_stale_version(release_manager):
    window = FreezeWindowFactory()
    services.freeze_update(actor=release_manager, window=FreezeWindow.objects.get(pk=window.pk), version=1, reason="a")
    with unchanged(), pytest.raises(StaleVersion):
        services.freeze_update(actor=release_manager, window=window, version=1, reason="b")


def test_freeze_delete_is_recorded(release_manager):
    window = FreezeWindowFactory(name="Gone")
    with events_written() as written:
        services.freeze_delete(actor=release_manager, window=window)
    assert written.types == ["freezewindow.deleted"] and written.event.old_data == {"name": "Gone"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {
                "starts_on": D(9995, 1, 1),
                "ends_on": D(9995, 1, 2),
                "recurrence": "yearly",
                "recurs_until": D(9996, 1, 1),
            },
            "starts_on",
        ),
        ({"starts_on": D(2026, 1, 1), "ends_on": D(3000, 1, 2)}, "ends_on"),
        ({"recurrence": "yearly", "recurs_until": D(9999, 12, 31)}, "recurs_until"),
    ],
)
def test_a_freeze_outside_the_plausible_years_is_refused(release_manager, overrides, field):
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        create(release_manager, **overrides)
    assert fields_of(caught) == [field]
    window = FreezeWindowFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        services.freeze_update(actor=release_manager, window=window, **overrides)
    assert fields_of(caught) == [field]


def test_a_freeze_late_in_the_plausible_years_recurs_for_ten_years(release_manager):
    starts_on = D(2996, 2, 29)
    window = create(
        release_manager, starts_on=starts_on, ends_on=starts_on, recurrence="yearly", recurs_until=D(2999, 12, 31)
    )
    assert window.recurs_until == D(2999, 12, 31)
