"""Rescheduling from the timeline: the preview panel (what a phase's new start would move), applying it, and who may.

The rules of what moves are tested at `schedule.what_if` and `services.schedule_apply`; these tests prove the wiring:
the panel lists what the impact says (moved items with the chain that moved them, a deploy pushed past a freeze,
violations that turn Apply off, the impact providers' sections), a preview writes nothing, apply writes the dates,
the history and the audit event, and every refusal comes back as a message in the panel rather than a 500.
"""

import datetime
import json
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.releases import schedule
from launchdeck.releases.choices import MilestoneKind, PhaseKind, PhaseStatus, ReleaseStatus
from launchdeck.releases.models import Milestone, Phase, Release, ScheduleChange
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    TrainFactory,
    unchanged,
)

D = datetime.date
TODAY = D(2026, 5, 14)
PREVIEW = "/releases/schedule/preview/"
APPLY = "/releases/schedule/apply/"


@pytest.fixture(autouse=True)
def today(today_is):
    return today_is(TODAY)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def preview_data(response) -> dict:
    match = re.search(r'<script id="schedule-preview-data" type="application/json">(.*?)</script>', text(response))
    assert match, "no timeline preview data"
    return json.loads(match.group(1))


def hidden(response, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', text(response))
    assert match, name
    return match.group(1)


@pytest.fixture
def plan(db):
    """Train 2026.3 (SIT 29 June to 24 July) carries Payments 4.2 and Ledger 7.1, whose SIT follow the train's. Payments
    deploys the working day after its UAT; an organisation-wide deployment freeze runs 24 August to 4 September."""
    train = TrainFactory(
        name="Train 2026.3", status=ReleaseStatus.PLANNED, planned_start=D(2026, 6, 1), planned_end=D(2026, 9, 25)
    )
    train_sit = PhaseFactory(
        release=train,
        name="SIT",
        kind=PhaseKind.SIT,
        position=1,
        planned_start=D(2026, 6, 29),
        planned_end=D(2026, 7, 24),
    )
    children = {}
    for name in ("Payments 4.2", "Ledger 7.1"):
        child = ReleaseFactory(
            name=name,
            train=train,
            inherits_train_dates=True,
            status=ReleaseStatus.PLANNED,
            planned_start=D(2026, 6, 29),
            planned_end=D(2026, 9, 18),
        )
        sit = PhaseFactory(
            release=child,
            train_phase=train_sit,
            name="SIT",
            kind=PhaseKind.SIT,
            position=1,
            planned_start=D(2026, 6, 29),
            planned_end=D(2026, 7, 24),
        )
        uat = PhaseFactory(
            release=child,
            name="UAT",
            kind=PhaseKind.UAT,
            position=2,
            planned_start=D(2026, 7, 27),
            planned_end=D(2026, 8, 14),
        )
        children[name] = {"release": child, "sit": sit, "uat": uat}
    deploy = MilestoneFactory(
        release=children["Payments 4.2"]["release"],
        phase=children["Payments 4.2"]["uat"],
        name="Deploy",
        kind=MilestoneKind.DEPLOY,
        planned_date=D(2026, 8, 17),
    )
    freeze = FreezeWindowFactory(name="Late summer freeze", starts_on=D(2026, 8, 24), ends_on=D(2026, 9, 4))
    return {"train": train, "train_sit": train_sit, "children": children, "deploy": deploy, "freeze": freeze}


@pytest.fixture
def manager(client, release_manager):
    client.force_login(release_manager)
    return client


def two_weeks_later(plan) -> dict:
    return {"item": f"phase:{plan['train_sit'].pk}", "new_start": "2026-07-13"}


# The preview


def test_the_preview_lists_the_moved_releases_and_items_with_their_causes_and_the_deploy_past_the_freeze(
    manager, plan, release_manager
):
    response = manager.post(PREVIEW, two_weeks_later(plan))
    assert response.status_code == 200
    assert response["X-Schedule-Panel"] == "1"
    page = text(response)
    assert "SIT of Train 2026.3 would start on <strong>Mon 13 Jul 2026</strong> instead of Mon 29 Jun 2026" in page
    releases = re.search(r'data-testid="schedule-releases".*?</ul>', page).group(0)
    for name in ("Train 2026.3", "Payments 4.2", "Ledger 7.1"):
        assert f">{name}</a>" in releases
    # Each child says what moved it: the train's SIT, then its own.
    assert "Moved by SIT of Train 2026.3 → SIT of Payments 4.2" in releases
    postponed = re.search(r'data-testid="schedule-postponed".*?</ul>', page).group(0)
    assert "<strong>Deploy</strong> of Payments 4.2" in postponed
    assert "after Late summer freeze" in postponed
    assert "Mon 7 Sep 2026" in postponed
    moved = re.search(r'data-testid="schedule-moved".*?</details>', page).group(0)
    assert "Payments 4.2" in moved and "Ledger 7.1" in moved
    assert 'data-key="milestone:{}"'.format(plan["deploy"].pk) in moved
    assert "after Late summer freeze" in moved
    # The apply form carries the change and the preview's fingerprint; Apply is on.
    impact = schedule.what_if(
        user=release_manager,
        changes=[schedule.Change(key=f"phase:{plan['train_sit'].pk}", new_start=D(2026, 7, 13))],
        today=TODAY,
    )
    assert hidden(response, "fingerprint") == impact["fingerprint"]
    assert hidden(response, "item") == f"phase:{plan['train_sit'].pk}"
    assert hidden(response, "new_start") == "2026-07-13"
    assert re.search(r'<button type="submit" class="btn btn-sm btn-primary">Apply</button>', page)
    # What the timeline draws meanwhile: where the phase lands and which bars would move.
    data = preview_data(response)
    assert data["item"] == f"phase:{plan['train_sit'].pk}"
    assert (data["new_start"], data["new_end"]) == ("2026-07-13", "2026-08-07")
    assert {release["id"] for release in data["releases"]} == {
        plan["train"].pk,
        plan["children"]["Payments 4.2"]["release"].pk,
        plan["children"]["Ledger 7.1"]["release"].pk,
    }


def test_a_shift_in_working_days_previews_like_a_new_start(manager, plan):
    response = manager.post(PREVIEW, {"item": f"phase:{plan['train_sit'].pk}", "shift_days": "10"})
    assert response.status_code == 200
    assert "would start on <strong>Mon 13 Jul 2026</strong>" in text(response)
    assert hidden(response, "shift_days") == "10"


def test_a_preview_changes_nothing(manager, plan):
    with unchanged():
        response = manager.post(PREVIEW, two_weeks_later(plan))
    assert response.status_code == 200
    assert not ScheduleChange.objects.exists()


def test_new_violations_turn_apply_off_and_say_why(manager, plan):
    # Ledger's UAT has started: the train's SIT may no longer push it.
    uat = plan["children"]["Ledger 7.1"]["uat"]
    uat.status = PhaseStatus.IN_PROGRESS
    uat.actual_start = D(2026, 7, 27)
    uat.save()
    response = manager.post(PREVIEW, two_weeks_later(plan))
    assert response.status_code == 200
    page = text(response)
    violations = re.search(r'data-testid="schedule-violations".*?</ul>', page).group(0)
    assert "cannot be applied" in violations
    assert "UAT of Ledger 7.1" in violations
    assert re.search(r"<button [^>]*disabled[^>]*>Apply</button>", page)
    assert "Apply is off until the change breaks no dependency" in page


def test_the_impact_providers_sections_are_listed_under_their_titles(manager, plan):
    def bookings(context):
        return [
            {
                "text": f"{len(context.phases)} phases hold bookings of SIT-1",
                "url": "/environments/1/",
                "severity": "warning",
            }
        ]

    schedule.register_impact_provider("test-bookings", "Environment bookings", bookings)
    try:
        response = manager.post(PREVIEW, two_weeks_later(plan))
    finally:
        schedule.unregister_impact_provider("test-bookings")
    section = re.search(r'data-testid="schedule-impact-test-bookings".*?</ul>', text(response)).group(0)
    assert "Environment bookings" in section
    assert '<a href="/environments/1/">' in section
    assert "phases hold bookings of SIT-1" in section
    assert "bi-exclamation-triangle-fill" in section


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_start": "2026-07-13"}, "Choose a phase to move."),
        ({"item": "phase:abc", "new_start": "2026-07-13"}, "Choose a phase to move."),
        ({"item": "phase:\N{SUPERSCRIPT TWO}", "new_start": "2026-07-13"}, "Choose a phase to move."),
        ({"item": "phase:0", "new_start": "2026-07-13"}, "Choose a phase to move."),
        ({"item": "phase:1"}, "Give the new start date."),
        ({"item": "phase:1", "new_start": "2026-07-13", "shift_days": "3"}, "Give a new start or a shift, not both."),
        ({"item": "phase:1", "new_start": "2026-13-45"}, "Enter a valid date."),
        ({"item": "phase:1", "new_start": "0202-07-13"}, "Enter a date between the years 1900 and 2999."),
        ({"item": "phase:1", "shift_days": "9999"}, "Ensure this value is less than or equal to 520."),
    ],
)
def test_bad_input_comes_back_as_a_message_in_the_panel(manager, plan, data, message):
    with unchanged():
        response = manager.post(PREVIEW, data)
    assert response.status_code == 422
    assert response["X-Schedule-Panel"] == "1"
    assert 'data-testid="schedule-error"' in text(response)
    assert message in text(response)


def test_an_unknown_phase_is_a_404_message_not_a_page(manager, plan):
    response = manager.post(PREVIEW, {"item": "phase:999999", "new_start": "2026-07-13"})
    assert response.status_code == 404
    assert response["X-Schedule-Panel"] == "1"
    assert "There is no phase 999999, or you may not see it." in text(response)


def test_the_phases_of_a_released_release_are_history(manager, plan):
    released = ReleaseFactory(name="Old 1.0", status=ReleaseStatus.RELEASED)
    phase = PhaseFactory(release=released, name="Build")
    response = manager.post(PREVIEW, {"item": f"phase:{phase.pk}", "new_start": "2026-04-06"})
    assert response.status_code == 422
    assert "Old 1.0 is released; its dates are history." in text(response)
    assert 'data-testid="schedule-apply-form"' not in text(response)


# Apply


def test_apply_moves_the_dates_writes_the_history_and_the_audit_event(manager, plan, release_manager):
    preview = manager.post(PREVIEW, two_weeks_later(plan))
    fingerprint = hidden(preview, "fingerprint")
    response = manager.post(
        APPLY, {**two_weeks_later(plan), "reason": "Supplier delivers the SIT data late", "fingerprint": fingerprint}
    )
    assert response.status_code == 200
    page = text(response)
    assert 'data-state="applied"' in page
    payments = plan["children"]["Payments 4.2"]["release"]
    assert f'<a href="/releases/{payments.pk}/#schedule">Payments 4.2</a>' in page
    assert "Why: Supplier delivers the SIT data late" in page
    assert "/audit/?event_type=release.rescheduled" in page
    trigger = json.loads(response["HX-Trigger"])
    assert set(trigger["schedule-applied"]["releases"]) == {
        plan["train"].pk,
        payments.pk,
        plan["children"]["Ledger 7.1"]["release"].pk,
    }

    assert Phase.objects.get(pk=plan["train_sit"].pk).planned_start == D(2026, 7, 13)
    assert Phase.objects.get(pk=plan["children"]["Ledger 7.1"]["sit"].pk).planned_start == D(2026, 7, 13)
    assert Milestone.objects.get(pk=plan["deploy"].pk).planned_date == D(2026, 9, 7)  # after the freeze
    history = ScheduleChange.objects.filter(release=payments).get()
    assert history.reason == "Supplier delivers the SIT data late"
    # Named as people read them (the audit event keeps the username).
    assert (history.actor, history.actor_name) == (
        release_manager,
        f"{release_manager.first_name} {release_manager.last_name}",
    )
    assert history.cause == "SIT of Train 2026.3 → SIT of Payments 4.2"
    event = AuditEvent.objects.get(event_type="release.rescheduled")
    assert history.audit_event == event
    assert ScheduleChange.objects.filter(audit_event=event).count() == 3


def test_apply_without_a_reason_shows_the_preview_again_with_the_message(manager, plan):
    with unchanged():
        response = manager.post(APPLY, {**two_weeks_later(plan), "reason": "  "})
    assert response.status_code == 422
    page = text(response)
    assert 'data-testid="schedule-apply-form"' in page
    assert "Say why the dates change." in page
    assert not ScheduleChange.objects.exists()


def test_a_plan_changed_since_the_preview_is_a_409_with_a_fresh_preview(manager, plan):
    stale = hidden(manager.post(PREVIEW, two_weeks_later(plan)), "fingerprint")
    # Meanwhile someone moves Ledger's UAT.
    Phase.objects.filter(pk=plan["children"]["Ledger 7.1"]["uat"].pk).update(planned_start=D(2026, 7, 28))
    with unchanged():
        response = manager.post(APPLY, {**two_weeks_later(plan), "reason": "Supplier delay", "fingerprint": stale})
    assert response.status_code == 409
    page = text(response)
    assert "The plan changed since the preview; preview the change again." in page
    fresh = hidden(response, "fingerprint")
    assert fresh != stale
    assert "Supplier delay</textarea>" in page  # the reason typed stays
    # Applying the fresh preview works.
    response = manager.post(APPLY, {**two_weeks_later(plan), "reason": "Supplier delay", "fingerprint": fresh})
    assert response.status_code == 200
    assert Release.objects.get(pk=plan["train"].pk).schedule_changes.count() == 1


def test_a_change_that_breaks_a_constraint_is_refused_at_apply_with_the_preview(manager, plan):
    uat = plan["children"]["Ledger 7.1"]["uat"]
    uat.status = PhaseStatus.IN_PROGRESS
    uat.actual_start = D(2026, 7, 27)
    uat.save()
    with unchanged():
        response = manager.post(APPLY, {**two_weeks_later(plan), "reason": "Supplier delay"})
    assert response.status_code == 409
    assert "The change would break a constraint that holds today" in text(response)
    assert 'data-testid="schedule-violations"' in text(response)


def test_a_refused_item_at_apply_is_a_message(manager, plan):
    response = manager.post(APPLY, {"item": "phase:999999", "new_start": "2026-07-13", "reason": "Why not"})
    assert response.status_code == 404
    assert "There is no phase 999999, or you may not see it." in text(response)


# Who may


def test_viewers_get_no_reschedule_mode_and_may_not_post(client, viewer, plan):
    client.force_login(viewer)
    page = text(client.get("/releases/timeline/"))
    assert "data-timeline-reschedule" not in page
    assert 'id="schedule-panel"' not in page
    with unchanged():
        assert client.post(PREVIEW, two_weeks_later(plan)).status_code == 403
        assert client.post(APPLY, {**two_weeks_later(plan), "reason": "No"}).status_code == 403


def test_release_and_project_managers_get_the_reschedule_mode(client, make_user, plan):
    for role in (Role.RELEASE_MANAGER, Role.PROJECT_MANAGER):
        client.force_login(make_user(role))
        page = text(client.get("/releases/timeline/"))
        assert 'data-testid="timeline-reschedule"' in page
        assert 'data-preview-url="/releases/schedule/preview/"' in page


def test_anonymous_users_are_sent_to_sign_in(client, plan):
    response = client.post(PREVIEW, two_weeks_later(plan))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_endpoints_answer_posts_only(manager, plan):
    assert manager.get(PREVIEW).status_code == 405
    assert manager.get(APPLY).status_code == 405


# Forecast markers


def test_the_timeline_asks_for_the_forecasts_of_the_open_releases_on_screen(client, viewer, plan):
    client.force_login(viewer)
    released = ReleaseFactory(name="Old 1.0", status=ReleaseStatus.RELEASED)
    ids = [plan["train"].pk, plan["children"]["Payments 4.2"]["release"].pk, released.pk, "x", 0, "\N{SUPERSCRIPT TWO}"]
    response = client.get("/releases/schedule/forecast/", {"release": ids})
    assert response.status_code == 200
    forecasts = response.json()["forecasts"]
    assert set(forecasts) == {str(plan["train"].pk), str(plan["children"]["Payments 4.2"]["release"].pk)}
    train = forecasts[str(plan["train"].pk)]
    assert set(train) == {"p50", "p85", "probability_on_time", "planned_end"}
    assert train["planned_end"] == "2026-09-25"
    assert D.fromisoformat(train["p85"]) >= D.fromisoformat(train["p50"])


def test_no_release_asked_for_is_no_forecast(client, viewer, db):
    client.force_login(viewer)
    assert client.get("/releases/schedule/forecast/").json() == {"forecasts": {}}
