"""The schedule on the release page: dependencies (listed both ways, added through their form, removed), the
date-change history, planned against actual, the forecast fragment and the critical phases.

Rules are tested at the services and selectors; these tests prove the wiring: the form's two ends become the
service's predecessor and successor, refusals come back on the field they are about and change nothing, read-only
roles change nothing, and the page reads in a number of queries that does not grow with its rows.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from launchdeck.accounts.roles import Role
from launchdeck.releases import schedule_views
from launchdeck.releases.choices import (
    DEPENDENCY_KIND_WORDS,
    DependencyKind,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    ReleaseStatus,
)
from launchdeck.releases.forms import DependencyForm
from launchdeck.releases.models import ScheduleDependency
from launchdeck.releases.tests.factories import (
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleChangeFactory,
    ScheduleDependencyFactory,
    unchanged,
)
from launchdeck.scheduling.calendar import STANDARD

D = datetime.date


def text(response) -> str:
    return response.content.decode()


def flat(response) -> str:
    return re.sub(r"\s+", " ", text(response))


def page_messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""


def schedule_tab(client, release):
    """The release page's Schedule tab, as the tab loads it."""
    response = client.get(reverse("releases:release_schedule", args=[release.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response


def section(page: str, testid: str) -> str:
    """The `<section data-testid=...>` of a page, to assert on one card and not on the page at large."""
    match = re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', page, re.S)
    assert match, testid
    return match.group(0)


@pytest.fixture
def plan(db):
    """Payments waits for Ledger's build with a two-day lag; Mobile's UAT waits for Payments' go-live."""
    payments = ReleaseFactory(name="Payments 4.2", status=ReleaseStatus.PLANNED)
    build = PhaseFactory(release=payments, name="Build", kind=PhaseKind.BUILD, position=1)
    sit = PhaseFactory(
        release=payments,
        name="SIT",
        kind=PhaseKind.SIT,
        position=2,
        planned_start=D(2026, 3, 16),
        planned_end=D(2026, 3, 27),
    )
    go_live = MilestoneFactory(release=payments, name="Go live", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 6, 26))
    ledger = ReleaseFactory(name="Ledger 7.1", status=ReleaseStatus.IN_PROGRESS)
    ledger_build = PhaseFactory(release=ledger, name="Ledger build", kind=PhaseKind.BUILD)
    mobile = ReleaseFactory(name="Mobile 3.0", planned_start=D(2026, 7, 6), planned_end=D(2026, 9, 25))
    mobile_uat = PhaseFactory(release=mobile, name="Mobile UAT", kind=PhaseKind.UAT)
    incoming = ScheduleDependencyFactory(
        predecessor_release=ledger,
        predecessor_phase=ledger_build,
        successor_release=payments,
        successor_phase=sit,
        lag_days=2,
        note="Needs the new posting API",
    )
    outgoing = ScheduleDependencyFactory(
        predecessor_release=payments,
        predecessor_milestone=go_live,
        successor_release=mobile,
        successor_phase=mobile_uat,
    )
    released = ReleaseFactory(name="Archive 1.0", status=ReleaseStatus.RELEASED, actual_end=D(2026, 6, 30))
    return {
        "payments": payments,
        "build": build,
        "sit": sit,
        "go_live": go_live,
        "ledger": ledger,
        "ledger_build": ledger_build,
        "mobile": mobile,
        "mobile_uat": mobile_uat,
        "incoming": incoming,
        "outgoing": outgoing,
        "released": released,
    }


@pytest.fixture
def as_manager(client, release_manager):
    client.force_login(release_manager)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    client.force_login(viewer)
    return client


def _form(plan, **changes) -> dict:
    """The dependency form as posted from Payments' page: its build waits for Ledger's build."""
    data = {
        "this_item": f"phase:{plan['build'].pk}",
        "direction": "waits_for",
        "other_release": plan["ledger"].pk,
        "other_item": f"phase:{plan['ledger_build'].pk}",
        "kind": "SS",
        "lag_days": "3",
        "note": "Shares the test data",
    }
    return {**data, **changes}


# The page


@pytest.mark.parametrize("who", ["viewer", "release_manager"])
def test_the_schedule_pages_render_for_readers_and_release_managers(client, request, plan, who):
    client.force_login(request.getfixturevalue(who))
    payments = plan["payments"]
    pages = [
        payments.get_absolute_url(),
        plan["ledger"].get_absolute_url(),
        plan["released"].get_absolute_url(),
        reverse("releases:release_schedule", args=[payments.pk]),
        reverse("releases:release_schedule", args=[plan["released"].pk]),
        reverse("releases:release_forecast", args=[plan["released"].pk]),
        reverse("releases:dependency_items") + f"?other_release={plan['ledger'].pk}",
    ]
    if who == "release_manager":
        pages.append(reverse("releases:dependency_create", args=[payments.pk]))
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_the_schedule_tab_loads_when_opened(as_manager, plan):
    page = flat(as_manager.get(plan["payments"].get_absolute_url()))
    url = reverse("releases:release_schedule", args=[plan["payments"].pk])
    assert 'data-bs-target="#tab-schedule"' in page and f'hx-get="{url}" hx-trigger="intersect once"' in page
    assert "release-dependencies" not in page  # read only when looked at
    assert 'hx-trigger="intersect once"' in flat(schedule_tab(as_manager, plan["payments"]))  # then the forecast


def test_the_schedule_and_history_tabs_load_when_their_pane_is_shown_however_the_tab_is_opened(as_manager, plan):
    """Opened from the address (#history, #schedule), a tab is shown before htmx has started: a trigger on the tab
    button's click would be missed, a pane that loads when it becomes visible is not. One mechanism for both."""
    release = plan["payments"]
    page = flat(as_manager.get(release.get_absolute_url()))
    panes = re.findall(
        r'<div class="tab-pane fade" id="tab-(\w+)" role="tabpanel" hx-get="([^"]+)" hx-trigger="intersect once">',
        page,
    )
    assert panes == [
        ("schedule", reverse("releases:release_schedule", args=[release.pk])),
        ("history", reverse("audit:object_history", args=["releases.release", release.pk])),
    ]
    buttons = re.findall(r'<button[^>]*data-bs-target="#tab-(?:schedule|history)"[^>]*>', page)
    assert len(buttons) == 2 and not any("hx-" in button for button in buttons)
    assert 'hx-trigger="click' not in page
    history = as_manager.get(panes[1][1], HTTP_HX_REQUEST="true")
    assert history.status_code == 200 and 'data-testid="history"' in text(history)


def test_the_schedule_tab_lists_what_the_release_waits_for_and_what_waits_for_it(as_manager, plan):
    card = section(flat(schedule_tab(as_manager, plan["payments"])), "release-dependencies")
    waits_for, waited_on_by = card.split("Is waited on by")
    assert "Waits for" in waits_for and "SIT" in waits_for and "Ledger build" in waits_for
    assert f'href="{plan["ledger"].get_absolute_url()}#schedule"' in waits_for
    assert (
        "SIT of Payments 4.2 starts after Ledger build of Ledger 7.1 finishes" in waits_for
        and "2 working days after" in waits_for
    )
    assert "Needs the new posting API" in waits_for
    assert "Go live" in waited_on_by and "Mobile UAT" in waited_on_by and "Finish to start" in waited_on_by
    assert f'href="{plan["mobile"].get_absolute_url()}#schedule"' in waited_on_by
    assert "Add dependency" in card and reverse("releases:dependency_delete", args=[plan["incoming"].pk]) in card
    # The other end sees the same dependency from its side.
    ledger = section(flat(schedule_tab(as_manager, plan["ledger"])), "release-dependencies")
    assert "Is waited on by" in ledger and "Waits for <" not in ledger and "Payments 4.2" in ledger


def test_a_release_without_dependencies_or_history_says_so(as_manager, db):
    release = ReleaseFactory(name="Quiet release")
    page = flat(schedule_tab(as_manager, release))
    assert "No dependencies yet." in section(page, "release-dependencies")
    assert "The planned dates have not moved" in section(page, "schedule-history")


@pytest.mark.parametrize(
    ("days", "words"),
    [(0, "none"), (1, "1 working day after"), (3, "3 working days after"), (-3, "3 working days early (a lead)")],
)
def test_a_lag_reads_as_after_or_early(days, words):
    assert schedule_views._lag(days) == words


def test_the_headings_fit_a_dependency_between_two_items_of_the_release(as_manager, plan):
    payments = plan["payments"]
    ScheduleDependencyFactory(
        predecessor_release=payments,
        predecessor_phase=plan["build"],
        successor_release=payments,
        successor_milestone=plan["go_live"],
    )
    card = section(flat(schedule_tab(as_manager, payments)), "release-dependencies")
    assert "what this release's items wait for" in card and "what waits for this release's items" in card
    assert "other releases" not in card


def test_the_form_kinds_and_the_page_sentences_share_one_wording():
    choices = dict(DependencyForm.base_fields["kind"].choices)
    for kind, (waiting, then) in DEPENDENCY_KIND_WORDS.items():
        assert choices[kind] == f"{kind.label}: the waiting item {waiting} the other {then}"
    assert set(choices) == set(DependencyKind.values)


def test_readers_see_no_buttons_that_change_dependencies(as_viewer, plan):
    card = section(flat(schedule_tab(as_viewer, plan["payments"])), "release-dependencies")
    assert "SIT of Payments 4.2 starts after Ledger build of Ledger 7.1 finishes" in card
    assert "Add dependency" not in card and "/delete/" not in card and "<form" not in card


def test_readers_may_neither_open_the_form_nor_post_to_it(as_viewer, plan):
    payments = plan["payments"]
    assert as_viewer.get(reverse("releases:dependency_create", args=[payments.pk])).status_code == 403
    with unchanged():
        response = as_viewer.post(reverse("releases:dependency_create", args=[payments.pk]), _form(plan))
        assert response.status_code == 403
        response = as_viewer.post(reverse("releases:dependency_delete", args=[plan["incoming"].pk]))
        assert response.status_code == 403
    assert ScheduleDependency.objects.count() == 2


def test_a_closed_release_offers_no_new_dependency(as_manager, plan):
    page = flat(schedule_tab(as_manager, plan["released"]))
    assert "Add dependency" not in section(page, "release-dependencies")


def test_a_dependency_on_a_closed_release_offers_no_remove(as_manager, plan):
    released, payments = plan["released"], plan["payments"]
    closed = ScheduleDependencyFactory(predecessor_release=released, successor_release=payments)
    card = section(flat(schedule_tab(as_manager, payments)), "release-dependencies")
    assert reverse("releases:dependency_delete", args=[closed.pk]) not in card
    assert reverse("releases:dependency_delete", args=[plan["incoming"].pk]) in card
    assert ">remove<" not in section(flat(schedule_tab(as_manager, released)), "release-dependencies")
    with unchanged():
        response = as_manager.post(
            reverse("releases:dependency_delete", args=[closed.pk]), {"release": payments.pk}, follow=True
        )
    assert "Archive 1.0 is released; its plan is history." in page_messages(response)


# Adding and removing


def test_the_form_offers_this_releases_items_and_open_releases(as_manager, plan):
    page = flat(as_manager.get(reverse("releases:dependency_create", args=[plan["payments"].pk])))
    assert f'value="release:{plan["payments"].pk}"' in page
    assert f'value="phase:{plan["build"].pk}"' in page and f'value="milestone:{plan["go_live"].pk}"' in page
    other = re.search(r'<select name="other_release".*?</select>', page).group(0)
    assert "Ledger 7.1" in other and "Mobile 3.0" in other and "Archive 1.0" not in other  # released: closed
    assert other.index("Ledger 7.1") < other.index("Mobile 3.0")  # by name
    assert f'hx-get="{reverse("releases:dependency_items")}"' in other
    assert "Choose the other release first" in page


def test_choosing_the_other_release_fills_its_items(as_manager, plan):
    ledger = plan["ledger"]
    response = as_manager.get(
        reverse("releases:dependency_items"), {"other_release": ledger.pk}, HTTP_HX_REQUEST="true"
    )
    fragment = text(response)
    assert fragment.startswith('<div id="dependency-other-item">')
    assert f'value="release:{ledger.pk}"' in fragment and f'value="phase:{plan["ledger_build"].pk}"' in fragment
    assert "Build" not in fragment.replace("Ledger build", "")  # only the chosen release's items
    for unknown in (plan["released"].pk, 999999, "x", "\N{SUPERSCRIPT TWO}", "0", "9" * 19):
        fragment = text(as_manager.get(reverse("releases:dependency_items"), {"other_release": unknown}))
        assert "Choose the other release first" in fragment and "phase:" not in fragment


def test_with_very_many_releases_the_other_release_is_typed_as_its_number(as_manager, plan, monkeypatch):
    monkeypatch.setattr(schedule_views, "RELEASES_LISTED", 2)
    payments, ledger = plan["payments"], plan["ledger"]
    url = reverse("releases:dependency_create", args=[payments.pk])
    page = flat(as_manager.get(url))
    assert re.search(r'<input type="number" name="other_release"[^>]*hx-get=', page)
    assert "Other release (its number)" in page and '<select name="other_release"' not in page
    with unchanged():
        response = as_manager.post(url, _form(plan, other_release=plan["released"].pk))  # closed: not offered
    assert response.status_code == 422
    assert "No release you may see and plan has that number." in response.context["form"].errors["other_release"]
    assert as_manager.post(url, _form(plan, other_release=str(ledger.pk))).status_code == 302
    assert ScheduleDependency.objects.filter(successor_key=f"phase:{plan['build'].pk}").exists()


def test_adding_a_dependency_through_the_form(as_manager, plan):
    payments = plan["payments"]
    response = as_manager.post(reverse("releases:dependency_create", args=[payments.pk]), _form(plan))
    assert response.status_code == 302 and response.url == f"{payments.get_absolute_url()}#schedule"
    added = ScheduleDependency.objects.get(successor_key=f"phase:{plan['build'].pk}")
    assert added.predecessor_key == f"phase:{plan['ledger_build'].pk}"
    assert (added.kind, added.lag_days, added.note) == ("SS", 3, "Shares the test data")
    page = flat(schedule_tab(as_manager, payments))
    assert "Build of Payments 4.2 starts after Ledger build of Ledger 7.1 starts" in section(
        page, "release-dependencies"
    )


def test_is_waited_on_by_makes_this_release_the_predecessor(as_manager, plan):
    payments, mobile = plan["payments"], plan["mobile"]
    data = _form(
        plan,
        this_item=f"release:{payments.pk}",
        direction="waited_on_by",
        other_release=mobile.pk,
        other_item=f"release:{mobile.pk}",
        kind="FS",
        lag_days="0",
    )
    assert as_manager.post(reverse("releases:dependency_create", args=[payments.pk]), data).status_code == 302
    assert ScheduleDependency.objects.filter(
        predecessor_key=f"release:{payments.pk}", successor_key=f"release:{mobile.pk}"
    ).exists()


def test_a_dependency_that_closes_a_cycle_is_refused_with_the_cycle_on_the_form(as_manager, plan):
    """Mobile's UAT waits for Payments' go-live, which is held to Payments' start; Payments waiting for Mobile's UAT
    closes the circle."""
    payments, mobile = plan["payments"], plan["mobile"]
    data = _form(
        plan,
        this_item=f"release:{payments.pk}",
        other_release=mobile.pk,
        other_item=f"phase:{plan['mobile_uat'].pk}",
        kind="FS",
    )
    with unchanged():
        response = as_manager.post(reverse("releases:dependency_create", args=[payments.pk]), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "other_item" in errors and "cycle" in errors["other_item"][0]
    assert "Mobile UAT" in errors["other_item"][0]
    page = flat(response)
    assert "would close a cycle" in page and "Shares the test data" in page  # what was typed is kept


def test_a_duplicate_and_a_lag_out_of_range_are_refused_on_the_form(as_manager, plan):
    payments = plan["payments"]
    duplicate = _form(
        plan,
        this_item=f"phase:{plan['sit'].pk}",
        other_item=f"phase:{plan['ledger_build'].pk}",
        kind="FS",
    )
    with unchanged():
        response = as_manager.post(reverse("releases:dependency_create", args=[payments.pk]), duplicate)
        assert response.status_code == 422
        assert "already linked" in flat(response)
        response = as_manager.post(
            reverse("releases:dependency_create", args=[payments.pk]), _form(plan, lag_days="999")
        )
        assert response.status_code == 422
        assert "lag_days" in response.context["form"].errors


def test_an_item_of_another_release_is_not_accepted_as_its_item(as_manager, plan):
    """The other item must belong to the chosen release: Payments' own SIT is no item of Ledger."""
    with unchanged():
        response = as_manager.post(
            reverse("releases:dependency_create", args=[plan["payments"].pk]),
            _form(plan, other_item=f"phase:{plan['mobile_uat'].pk}"),
        )
    assert response.status_code == 422 and "other_item" in response.context["form"].errors


def test_removing_a_dependency_goes_back_to_the_page_it_was_removed_from(as_manager, plan):
    ledger, incoming = plan["ledger"], plan["incoming"]
    response = as_manager.post(reverse("releases:dependency_delete", args=[incoming.pk]), {"release": ledger.pk})
    assert response.status_code == 302 and response.url == f"{ledger.get_absolute_url()}#schedule"
    assert not ScheduleDependency.objects.filter(pk=incoming.pk).exists()
    assert as_manager.get(reverse("releases:dependency_delete", args=[plan["outgoing"].pk])).status_code == 405
    assert as_manager.post(reverse("releases:dependency_delete", args=[999999])).status_code == 404


@pytest.mark.parametrize("origin", ["\N{SUPERSCRIPT TWO}", "0", "9" * 30, "x"])
def test_a_removal_from_an_unknown_page_goes_back_to_the_waiting_release(as_manager, plan, origin):
    incoming = plan["incoming"]
    response = as_manager.post(reverse("releases:dependency_delete", args=[incoming.pk]), {"release": origin})
    assert response.status_code == 302 and response.url == f"{plan['payments'].get_absolute_url()}#schedule"


def test_a_non_ascii_other_release_is_no_release(as_manager, plan):
    with unchanged():
        response = as_manager.post(
            reverse("releases:dependency_create", args=[plan["payments"].pk]),
            _form(plan, other_release="\N{SUPERSCRIPT TWO}"),
        )
    assert response.status_code == 422 and "other_release" in response.context["form"].errors


# History, planned against actual, forecast, critical path


def test_the_history_lists_each_change_newest_first(as_manager, plan, release_manager):
    payments = plan["payments"]
    ScheduleChangeFactory(
        release=payments,
        occurred_at=datetime.datetime(2026, 3, 9, 12, tzinfo=datetime.UTC),
        actor=release_manager,
        actor_name="Rita Manager",
        reason="Supplier delay",
        cause="Moved by Ledger build of Ledger 7.1 → SIT of Payments 4.2",
        end_shift_days=5,
        items_moved=3,
    )
    ScheduleChangeFactory(
        release=payments,
        occurred_at=datetime.datetime(2026, 4, 1, 9, tzinfo=datetime.UTC),
        actor_name="Rita Manager",
        reason="Scope cut",
        old_start=D(2026, 3, 9),
        old_end=D(2026, 7, 3),
        new_start=D(2026, 3, 9),
        new_end=D(2026, 6, 30),
        start_shift_days=0,
        end_shift_days=-3,
    )
    card = section(flat(schedule_tab(as_manager, payments)), "schedule-history")
    assert card.index("Scope cut") < card.index("Supplier delay")
    assert "+5 working days" in card and "\N{MINUS SIGN}3 working days" in card
    assert "Moved by Ledger build of Ledger 7.1 → SIT of Payments 4.2" in card and "3 items moved" in card
    assert "Rita Manager" in card and "2 Mar \N{EN DASH} 26 Jun 2026" in card and "9 Mar \N{EN DASH} 3 Jul 2026" in card


def test_planned_against_actual_shows_the_release_and_its_phases_with_their_slips(as_manager, db):
    release = ReleaseFactory(
        name="Late release",
        status=ReleaseStatus.IN_PROGRESS,
        baseline_start=D(2026, 3, 2),
        baseline_end=D(2026, 6, 26),
        actual_start=D(2026, 3, 2),
    )
    PhaseFactory(
        release=release,
        name="Build",
        status=PhaseStatus.DONE,
        planned_start=D(2026, 3, 2),
        planned_end=D(2026, 3, 13),
        baseline_start=D(2026, 3, 2),
        baseline_end=D(2026, 3, 13),
        actual_start=D(2026, 3, 2),
        actual_end=D(2026, 3, 18),
    )
    card = section(flat(schedule_tab(as_manager, release)), "planned-vs-actual")
    build = re.search(r'<tr class="table-warning" data-row="phase:\d+">.*?</tr>', card).group(0)
    assert "Build" in build and "+3 working days" in build and "text-danger" in build
    assert "2 Mar \N{EN DASH} 18 Mar 2026" in build
    assert 'data-row="release"' in card and "The release" in card


def test_the_forecast_fragment_shows_p50_p85_and_the_chance_of_the_planned_end(as_manager, plan):
    page = flat(schedule_tab(as_manager, plan["payments"]))
    url = reverse("releases:release_forecast", args=[plan["payments"].pk])
    assert f'hx-get="{url}"' in page and 'hx-trigger="intersect once"' in page
    response = as_manager.get(url, HTTP_HX_REQUEST="true")
    fragment = flat(response)
    forecast = response.context["forecast"]
    assert f"{forecast['p50']:%-d %b %Y}" in fragment and f"{forecast['p85']:%-d %b %Y}" in fragment
    assert f"{forecast['percent_on_time']} %" in fragment and forecast["basis"] in fragment
    assert 'data-chart="forecast-chart"' in fragment and '"kind": "dates"' in fragment


def test_a_release_past_its_planned_end_is_forecast_from_today_with_no_chance_of_being_on_time(as_manager, db):
    today = timezone.localdate()
    start, end = today - datetime.timedelta(days=60), today - datetime.timedelta(days=30)
    late = ReleaseFactory(
        name="Late release", status=ReleaseStatus.IN_PROGRESS, planned_start=start, planned_end=end, actual_start=start
    )
    PhaseFactory(
        release=late,
        name="Build",
        status=PhaseStatus.IN_PROGRESS,
        planned_start=start,
        planned_end=end,
        actual_start=start,
    )
    response = as_manager.get(reverse("releases:release_forecast", args=[late.pk]), HTTP_HX_REQUEST="true")
    fragment = flat(response)
    first_working_day = STANDARD.next_working_day(today)
    assert (response.context["forecast"]["p50"], response.context["forecast"]["p85"]) == (first_working_day,) * 2
    assert f'data-testid="forecast-p50">{first_working_day:%-d %b %Y}<' in fragment
    assert 'data-testid="forecast-probability">0 %<' in fragment
    assert "have passed" not in fragment


def test_a_released_release_shows_why_it_has_no_forecast(as_manager, plan):
    released = plan["released"]
    page = flat(schedule_tab(as_manager, released))
    assert reverse("releases:release_forecast", args=[released.pk]) not in page
    assert "its dates are history, so there is nothing to forecast" in section(page, "release-forecast")
    fragment = flat(as_manager.get(reverse("releases:release_forecast", args=[released.pk])))
    assert "nothing to forecast" in fragment and "forecast-chart" not in fragment


def test_the_phase_table_marks_the_critical_phases(as_manager, db):
    """Test ends on the release's last day, so a slip of it moves the end; Docs has weeks of slack."""
    release = ReleaseFactory(name="Tight release", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 27))
    PhaseFactory(release=release, name="Build", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 13))
    PhaseFactory(release=release, name="Test", planned_start=D(2026, 3, 16), planned_end=D(2026, 3, 27))
    PhaseFactory(release=release, name="Docs", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 4))
    page = flat(as_manager.get(release.get_absolute_url()))
    table = re.search(r'data-testid="phase-table".*?</table>', page).group(0)
    rows = {re.search(r"<td>(\w+)", row).group(1): row for row in re.findall(r"<tr>.*?</tr>", table)[1:]}
    assert 'data-testid="critical"' in rows["Test"]
    assert 'data-testid="critical"' not in rows["Docs"]


def test_a_stored_cycle_leaves_the_page_without_critical_badges_and_the_forecast_names_it(as_manager, db):
    release = ReleaseFactory(name="Stuck", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 27))
    build = PhaseFactory(release=release, name="Build", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 13))
    test = PhaseFactory(release=release, name="Test", planned_start=D(2026, 3, 16), planned_end=D(2026, 3, 27))
    # Build waits for Test, which follows Build: only concurrent creations can store this, so it is written directly.
    ScheduleDependencyFactory(
        predecessor_release=release, predecessor_phase=test, successor_release=release, successor_phase=build
    )
    response = as_manager.get(release.get_absolute_url())
    assert response.status_code == 200
    table = re.search(r'data-testid="phase-table".*?</table>', flat(response)).group(0)
    assert "Build" in table and "Test" in table and 'data-testid="critical"' not in table
    fragment = flat(as_manager.get(reverse("releases:release_forecast", args=[release.pk]), HTTP_HX_REQUEST="true"))
    assert "No forecast: The plan has a dependency cycle: Build of Stuck → Test of Stuck → Build of Stuck." in fragment


# Queries


def test_the_page_and_its_schedule_tab_read_in_the_same_number_of_queries_whatever_their_rows(
    as_manager, plan, django_assert_max_num_queries
):
    payments = plan["payments"]
    urls = (payments.get_absolute_url(), reverse("releases:release_schedule", args=[payments.pk]))

    def queries(url):
        with django_assert_max_num_queries(40) as captured:
            assert as_manager.get(url).status_code == 200
        return len(captured.captured_queries)

    ScheduleChangeFactory(release=payments)
    before = [queries(url) for url in urls]
    for index in range(6):
        other = ReleaseFactory(name=f"Other {index}")
        phase = PhaseFactory(release=other)
        milestone = MilestoneFactory(release=other)
        ScheduleDependencyFactory(predecessor_release=other, predecessor_phase=phase, successor_release=payments)
        ScheduleDependencyFactory(
            predecessor_release=payments, successor_release=other, successor_milestone=milestone, kind="SS"
        )
        ScheduleChangeFactory(release=payments, reason=f"Change {index}")
    assert [queries(url) for url in urls] == before
    assert before[1] <= 8  # the tab: the release, dependencies, history, planned vs actual


def test_a_project_manager_may_add_dependencies(client, make_user, plan):
    client.force_login(make_user(Role.PROJECT_MANAGER))
    payments = plan["payments"]
    page = flat(schedule_tab(client, payments))
    assert "Add dependency" in section(page, "release-dependencies")
    response = client.post(reverse("releases:dependency_create", args=[payments.pk]), _form(plan))
    assert response.status_code == 302
