"""The release pages: list, create from a template with its preview, the release page's tabs and actions, the report.

Rules are tested at the services; these tests prove the wiring: forms parse, services decide, refusals are shown and
change nothing, read-only roles change nothing, and the health shown is the one rule's.
"""

import datetime
import html
import re

import pytest
from django.urls import reverse

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemDependencyFactory, SystemFactory
from launchdeck.releases import selectors, services
from launchdeck.releases.choices import (
    GateStatus,
    MilestoneKind,
    PhaseKind,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.models import GateApproval, GateCriterion, Phase, Release, ReleaseSystem
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
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
    unchanged,
)

D = datetime.date


def text(response) -> str:
    return response.content.decode()


def page_messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""


@pytest.fixture
def template(db):
    """A two-phase template with a milestone and a gate with a checklist item."""
    template = ReleaseTemplateFactory(name="Standard lifecycle")
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD, duration_days=10)
    sit = PhaseTemplateFactory(
        template=template, position=2, name="SIT", kind=PhaseKind.SIT, start_offset_days=10, duration_days=5
    )
    MilestoneTemplateFactory(template=template, phase=build, name="Code freeze", kind=MilestoneKind.CODE_FREEZE)
    GateTemplateFactory(template=template, phase=sit, name="SIT exit", checklist=["Test report signed"])
    return template


@pytest.fixture
def plan(release_manager, template):
    """A train with a child made from the template, a standalone release with scope, a deploy milestone in a freeze."""
    train = TrainFactory(name="Winter train", owner=release_manager)
    PhaseFactory(release=train, name="Train build", kind=PhaseKind.BUILD)
    child = services.release_create(
        actor=release_manager,
        name="Payments 4.2",
        kind=ReleaseKind.PROJECT,
        planned_start=D(2026, 3, 2),
        template=template,
        owner=release_manager,
    )
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)
    standalone = ReleaseFactory(name="Ledger upgrade", planned_start=D(2026, 12, 1), planned_end=D(2027, 1, 29))
    core, channel = SystemFactory(name="Core ledger", tier=1), SystemFactory(name="Mobile app", tier=2)
    SystemDependencyFactory(source=channel, target=core)
    ReleaseSystemFactory(release=standalone, system=core, impact=SystemImpact.IMPACTED, target_version="7.1")
    MilestoneFactory(release=standalone, name="Go live", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 22))
    FreezeWindowFactory(name="Year-end freeze", starts_on=D(2026, 12, 18), ends_on=D(2026, 12, 31))
    return {"train": train, "child": child, "standalone": standalone, "core": core, "channel": channel}


@pytest.fixture
def as_manager(client, release_manager):
    client.force_login(release_manager)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    client.force_login(viewer)
    return client


# Every page renders


@pytest.mark.parametrize("who", ["viewer", "release_manager"])
def test_every_release_page_renders_for_readers_and_release_managers(client, request, plan, who):
    client.force_login(request.getfixturevalue(who))
    child, train, standalone = plan["child"], plan["train"], plan["standalone"]
    pages = [
        reverse("releases:release_list"),
        reverse("releases:release_list") + "?status=open&kind=project&q=pay",
        child.get_absolute_url(),
        train.get_absolute_url(),
        standalone.get_absolute_url(),
        reverse("releases:release_report", args=[child.pk]),
        reverse("releases:release_report", args=[train.pk]),
        reverse("releases:release_health", args=[child.pk]),
        reverse("releases:release_preview") + f"?template={child.template_id}&planned_start=2026-03-02",
    ]
    if who == "release_manager":
        gate = child.gates.first()
        pages += [
            reverse("releases:release_create"),
            reverse("releases:release_update", args=[child.pk]),
            reverse("releases:release_delete", args=[child.pk]),
            reverse("releases:phase_create", args=[child.pk]),
            reverse("releases:phase_update", args=[child.phases.first().pk]),
            reverse("releases:milestone_create", args=[child.pk]),
            reverse("releases:milestone_update", args=[child.milestones.first().pk]),
            reverse("releases:gate_create", args=[child.pk]),
            reverse("releases:gate_update", args=[gate.pk]),
        ]
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_the_release_page_shows_every_tab_and_its_contents(as_manager, plan):
    page = text(as_manager.get(plan["child"].get_absolute_url()))
    for tab in ("overview", "phases", "milestones", "gates", "scope", "train", "history"):
        assert f'data-bs-target="#tab-{tab}"' in page
    assert "Build" in page and "SIT exit" in page and "Test report signed" in page and "Code freeze" in page
    assert "Winter train" in page and "Leave the train" in page
    assert reverse("releases:release_report", args=[plan["child"].pk]) in page
    assert "Mark as planned" in page


def test_readers_see_no_forms_that_change_anything(as_viewer, plan):
    page = text(as_viewer.get(plan["child"].get_absolute_url()))
    for action in ("release_transition", "phase_delete", "gate_decide", "gate_override", "criterion_tick", "scope_set"):
        assert f"/{action}" not in page
    assert "Mark as planned" not in page and "Add a phase" not in page and "Leave the train" not in page
    assert 'type="checkbox" name="is_met"' not in page


def test_viewers_may_not_open_the_forms(as_viewer, plan):
    child = plan["child"]
    for url in (
        reverse("releases:release_create"),
        reverse("releases:release_update", args=[child.pk]),
        reverse("releases:phase_create", args=[child.pk]),
        reverse("releases:gate_update", args=[child.gates.first().pk]),
    ):
        assert as_viewer.get(url).status_code == 403, url


# The list


def test_the_list_filters_and_shows_health_for_each_row(as_manager, plan):
    page = text(as_manager.get(reverse("releases:release_list")))
    assert "Payments 4.2" in page and "Winter train" in page and "Ledger upgrade" in page
    health = selectors.release_health_map(user=None, release_ids=[plan["standalone"].pk])[plan["standalone"].pk]
    assert f"{health.status.capitalize()} · {health.score}" in html.unescape(page)
    page = text(as_manager.get(reverse("releases:release_list"), {"train": plan["train"].pk}))
    assert "Payments 4.2" in page and "Ledger upgrade" not in page
    page = text(as_manager.get(reverse("releases:release_list"), {"system": plan["core"].pk}))
    assert "Ledger upgrade" in page and "Payments 4.2" not in page
    page = text(as_manager.get(reverse("releases:release_list"), {"kind": "enterprise"}))
    assert "Winter train" in page and "Payments 4.2" not in page
    page = text(as_manager.get(reverse("releases:release_list"), {"owner": "me", "q": "winter"}))
    assert "Winter train" in page and "Payments 4.2" not in page


def test_the_list_answers_htmx_with_just_the_table(as_manager, plan):
    response = as_manager.get(reverse("releases:release_list"), {"q": "ledger"}, HTTP_HX_REQUEST="true")
    assert text(response).startswith('<div id="object-table">') and "Ledger upgrade" in text(response)


def _list_queries(client, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(reverse("releases:release_list")).status_code == 200
    return len(captured.captured_queries)


def test_the_list_reads_in_a_fixed_number_of_queries(as_manager, release_manager, django_assert_max_num_queries):
    def add(count, start):
        for index in range(count):
            train = TrainFactory(owner=release_manager)
            release = ReleaseFactory(train=train, owner=release_manager, name=f"Release {start + index}")
            PhaseFactory(release=release, percent_complete=40)
            MilestoneFactory(release=release, planned_date=release.planned_start)
            GateFactory(release=release, due_date=release.planned_start)
            ReleaseSystemFactory(release=release)

    add(3, 0)
    few = _list_queries(as_manager, django_assert_max_num_queries, 20)
    add(20, 100)
    many = _list_queries(as_manager, django_assert_max_num_queries, 20)
    assert many == few


# Creating


def test_creating_from_a_template_lays_out_its_phases(as_manager, template):
    response = as_manager.post(
        reverse("releases:release_create"),
        {"name": "Cards 9", "kind": "project", "template": template.pk, "planned_start": "2026-03-02"},
    )
    release = Release.objects.get(name="Cards 9")
    assert response.status_code == 302 and response["Location"] == release.get_absolute_url()
    phases = list(release.phases.order_by("position").values_list("name", "planned_start", "planned_end"))
    assert phases == [("Build", D(2026, 3, 2), D(2026, 3, 13)), ("SIT", D(2026, 3, 16), D(2026, 3, 20))]
    assert release.planned_end == D(2026, 3, 20)
    assert release.gates.get().criteria.get().text == "Test report signed"


def test_the_preview_shows_the_laid_out_dates_before_saving(as_manager, template):
    with unchanged():
        response = as_manager.get(
            reverse("releases:release_preview"),
            {"template": template.pk, "planned_start": "2026-03-02", "name": "", "kind": "project"},
            HTTP_HX_REQUEST="true",
        )
    page = text(response)
    assert "Mon 16 Mar 2026" in page and "Fri 20 Mar 2026" in page and "SIT exit" in page and "Code freeze" in page
    assert "20 March 2026" in page
    blank = text(as_manager.get(reverse("releases:release_preview"), {"planned_start": "2026-03-02"}))
    assert "Choose a template" in blank


def test_the_create_page_wires_the_preview(as_manager, template):
    page = text(as_manager.get(reverse("releases:release_create")))
    assert f'hx-get="{reverse("releases:release_preview")}"' in page and 'id="template-preview"' in page
    assert "Standard lifecycle" in page


def test_a_refused_create_shows_the_reason_on_the_form(as_manager, template):
    with unchanged():
        response = as_manager.post(
            reverse("releases:release_create"),
            {"name": "Cards 9", "kind": "project", "template": template.pk, "planned_start": "2026-03-02",
             "planned_end": "2026-03-10"},
        )  # fmt: skip
    assert response.status_code == 422
    assert "is before the end of the phase Build" in html.unescape(text(response))
    with unchanged():
        response = as_manager.post(
            reverse("releases:release_create"),
            {"name": "Cards 9", "kind": "project", "planned_start": "2026-03-02", "planned_end": "2026-03-01"},
        )
    assert response.status_code == 422 and "cannot be before the start" in text(response)


def test_creating_into_a_train_inheriting_its_dates(as_manager, plan, template):
    train = plan["train"]
    as_manager.post(
        reverse("releases:release_create"),
        {"name": "Cards 9", "kind": "project", "template": template.pk, "planned_start": "2026-03-02",
         "train": train.pk, "inherit_train_dates": "on"},
    )  # fmt: skip
    release = Release.objects.get(name="Cards 9")
    assert release.train == train and release.inherits_train_dates
    assert release.phases.get(kind=PhaseKind.BUILD).train_phase == train.phases.get()


# The workflow


@pytest.fixture
def guarded(release_manager):
    """A draft release whose gate (an unticked checklist item, release manager approval) blocks planning."""
    release = ReleaseFactory(name="Guarded", owner=release_manager)
    gate = GateFactory(release=release, name="Plan approval", blocks=ReleaseStatus.PLANNED)
    GateCriterionFactory(gate=gate, text="Scope agreed")
    return release


def test_a_transition_blocked_by_a_gate_shows_the_reason_and_changes_nothing(as_manager, guarded):
    page = text(as_manager.get(guarded.get_absolute_url()))
    assert "Mark as planned" in page and "blocked: 1 reason" in page
    with unchanged():
        response = as_manager.post(
            reverse("releases:release_transition", args=[guarded.pk]), {"to_status": "planned"}, follow=True
        )
    shown = html.unescape(page_messages(response))
    assert "Guarded cannot move to planned yet" in shown
    assert "The gate Plan approval is not passed" in shown and "Scope agreed (not ticked)" in shown
    guarded.refresh_from_db()
    assert guarded.status == ReleaseStatus.DRAFT


def test_a_transition_the_role_may_not_make_is_refused_with_a_message(client, make_user, guarded):
    client.force_login(make_user(Role.QUALITY_MANAGER))
    with unchanged():
        response = client.post(
            reverse("releases:release_transition", args=[guarded.pk]), {"to_status": "planned"}, follow=True
        )
    assert response.status_code == 200 and "Your roles may not plan a release" in page_messages(response)


def test_a_transition_without_blockers_moves_the_release(as_manager, release_manager):
    release = ReleaseFactory(name="Clear")
    response = as_manager.post(
        reverse("releases:release_transition", args=[release.pk]), {"to_status": "planned"}, follow=True
    )
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PLANNED and release.baseline_end == release.planned_end
    assert "Clear is planned." in page_messages(response)


# Gates


def test_approving_a_gate_through_the_page(as_manager, guarded):
    gate = guarded.gates.get()
    criterion = gate.criteria.get()
    response = as_manager.post(
        reverse("releases:criterion_tick", args=[criterion.pk]), {"is_met": "on"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and text(response).startswith("<section") and "checked" in text(response)
    criterion.refresh_from_db()
    assert criterion.is_met
    response = as_manager.post(
        reverse("releases:gate_decide", args=[gate.pk]),
        {
            f"gate{gate.pk}-role": "release_manager",
            f"gate{gate.pk}-decision": "approved",
            f"gate{gate.pk}-comment": "Go",
        },
        HTTP_HX_REQUEST="true",
    )
    page = text(response)
    gate.refresh_from_db()
    assert gate.status == GateStatus.PASSED
    assert "Passed" in page and "Go" in page and "approved as Release manager" in page
    status = re.search(r'<div class="card mb-3" id="release-status" hx-swap-oob="true">.*?</div></div>', page, re.S)
    assert "Mark as planned" in status.group(0) and "blocked" not in status.group(0)
    assert 'id="release-health" data-testid="release-health" hx-swap-oob="true"' in page
    assert '<span id="release-health-badge" hx-swap-oob="true">' in page
    approval = GateApproval.objects.get(gate=gate)
    assert approval.role == "release_manager" and approval.comment == "Go"
    response = as_manager.post(
        reverse("releases:release_transition", args=[guarded.pk]), {"to_status": "planned"}, follow=True
    )
    guarded.refresh_from_db()
    assert guarded.status == ReleaseStatus.PLANNED


def test_approving_before_the_checklist_is_ticked_is_refused_in_the_card(as_manager, guarded):
    gate = guarded.gates.get()
    with unchanged():
        response = as_manager.post(
            reverse("releases:gate_decide", args=[gate.pk]),
            {f"gate{gate.pk}-role": "release_manager", f"gate{gate.pk}-decision": "approved"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200 and "cannot be approved yet" in text(response)
    assert "alert-danger" in text(response)


def test_without_htmx_a_decision_goes_back_to_the_gates_tab(as_manager, release_manager):
    gate = GateFactory(name="Go/no-go")
    response = as_manager.post(
        reverse("releases:gate_decide", args=[gate.pk]),
        {f"gate{gate.pk}-role": "release_manager", f"gate{gate.pk}-decision": "rejected"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#gates")
    gate.refresh_from_db()
    assert gate.status == GateStatus.REJECTED
    page = text(as_manager.get(gate.release.get_absolute_url()))
    assert "Reopen the gate" in page


def test_only_the_roles_a_user_holds_are_offered(client, make_user):
    gate = GateFactory(approver_roles=["release_manager", "quality_manager"])
    client.force_login(make_user(Role.QUALITY_MANAGER))
    page = text(client.get(gate.release.get_absolute_url()))
    form = re.search(r'data-testid="gate-decide".*?</form>', page, re.S).group(0)
    assert 'value="quality_manager"' in form and 'value="release_manager"' not in form
    assert "gate-override-form" not in page


def test_an_override_needs_a_reason_and_is_shown_with_who_and_why(as_manager, release_manager, guarded):
    gate = guarded.gates.get()
    with unchanged():
        response = as_manager.post(
            reverse("releases:gate_override", args=[gate.pk]), {f"override{gate.pk}-reason": ""}, HTTP_HX_REQUEST="true"
        )
    assert "needs a reason" in text(response)
    as_manager.post(
        reverse("releases:gate_override", args=[gate.pk]), {f"override{gate.pk}-reason": "CFO accepted the risk"}
    )
    gate.refresh_from_db()
    assert gate.status == GateStatus.OVERRIDDEN
    page = html.unescape(text(as_manager.get(guarded.get_absolute_url())))
    banner = re.search(r'data-testid="gate-override".*?</div>\s*</div>', page, re.S).group(0)
    assert release_manager.display_name in banner and "CFO accepted the risk" in banner


# Health


def test_the_health_why_table_shows_the_one_rules_score_and_factors(as_manager, plan):
    release = plan["standalone"]
    ReleaseSystemFactory(release=release, system=SystemFactory(tier=1))
    MilestoneFactory(release=release, name="Late", planned_date=D(2026, 12, 2))
    expected = selectors.release_health_for(user=None, release=release)
    assert expected.factors
    page = html.unescape(text(as_manager.get(release.get_absolute_url())))
    why = re.search(r'data-testid="release-health".*?</table>', page, re.S).group(0)
    assert re.search(r'data-testid="health-score">(\d+)<', why).group(1) == str(expected.score)
    for factor in expected.factors:
        row = re.search(rf'data-factor="{factor.key}">(.*?)</tr>', why, re.S).group(1)
        assert factor.label in row and factor.detail in row and f"+{factor.points}" in row
    fragment = html.unescape(text(as_manager.get(reverse("releases:release_health", args=[release.pk]))))
    assert f'data-testid="health-score">{expected.score}<' in fragment


# Phases, milestones and scope


def test_phases_are_added_and_edited_through_their_forms(as_manager, plan):
    release = plan["standalone"]
    response = as_manager.post(
        reverse("releases:phase_create", args=[release.pk]),
        {"name": "UAT", "kind": "uat", "status": "not_started", "planned_start": "2026-12-01",
         "planned_end": "2026-12-11", "percent_complete": "0", "test_effort_days": "5", "is_required": "on"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("#phases")
    phase = Phase.objects.get(release=release, name="UAT")
    response = as_manager.post(
        reverse("releases:phase_update", args=[phase.pk]),
        {"version": phase.version, "name": "UAT", "kind": "uat", "status": "in_progress",
         "planned_start": "2026-12-01", "planned_end": "2026-12-11", "percent_complete": "40",
         "test_effort_days": "5", "is_required": "on"},
    )  # fmt: skip
    phase.refresh_from_db()
    assert phase.percent_complete == 40 and phase.status == "in_progress"
    page = text(as_manager.get(release.get_absolute_url()))
    assert 'style="width: 40%"' in page


def test_a_phase_outside_its_release_is_refused_on_the_form(as_manager, plan):
    release = plan["standalone"]
    with unchanged():
        response = as_manager.post(
            reverse("releases:phase_create", args=[release.pk]),
            {"name": "UAT", "kind": "uat", "status": "not_started", "planned_start": "2027-03-01",
             "planned_end": "2027-03-05", "percent_complete": "0", "test_effort_days": "0"},
        )  # fmt: skip
    assert response.status_code == 422 and "lies outside the release" in html.unescape(text(response))


def test_deploy_milestones_inside_a_freeze_are_flagged(as_manager, plan):
    page = text(as_manager.get(plan["standalone"].get_absolute_url()))
    assert 'data-testid="in-freeze"' in page and "inside Year-end freeze" in page
    assert 'data-testid="freeze-warning"' in page


def test_scope_is_set_and_suggestions_are_added_all_at_once(as_manager, plan):
    release, channel = plan["standalone"], plan["channel"]
    page = text(as_manager.get(release.get_absolute_url()))
    suggestions = re.search(r'data-testid="scope-suggestions".*?</div></div>', page, re.S).group(0)
    assert "Mobile app" in suggestions and "via Core ledger" in suggestions
    as_manager.post(reverse("releases:scope_add_suggested", args=[release.pk]))
    assert ReleaseSystem.objects.get(release=release, system=channel).impact == SystemImpact.REGRESSION
    as_manager.post(
        reverse("releases:scope_set", args=[release.pk]),
        {"system": channel.pk, "impact": "impacted", "target_version": "3.0"},
    )
    row = ReleaseSystem.objects.get(release=release, system=channel)
    assert (row.impact, row.target_version) == ("impacted", "3.0")
    response = as_manager.post(reverse("releases:scope_remove", args=[release.pk, channel.pk]))
    assert response["Location"].endswith("#scope")
    assert not ReleaseSystem.objects.filter(release=release, system=channel).exists()


# Trains


def test_a_train_adds_a_project_release_keeping_or_inheriting_dates(as_manager, plan):
    train, standalone = plan["train"], plan["standalone"]
    page = text(as_manager.get(train.get_absolute_url()))
    assert "Payments 4.2" in page and 'data-testid="child-add"' in page and "Inherit the train" in page
    new_child = reverse("releases:release_create") + f"?kind=project&amp;train={train.pk}"
    assert new_child in page
    form = text(as_manager.get(html.unescape(new_child)))
    assert f'<option value="{train.pk}" selected>' in form
    response = as_manager.post(
        reverse("releases:child_add", args=[train.pk]), {"release": standalone.pk, "dates": "keep"}
    )
    assert response["Location"].endswith("#train")
    standalone.refresh_from_db()
    assert standalone.train == train and not standalone.inherits_train_dates
    as_manager.post(reverse("releases:child_remove", args=[standalone.pk]), {"back": "train"})
    standalone.refresh_from_db()
    assert standalone.train is None


def test_a_release_in_another_train_is_refused_with_a_message(as_manager, plan):
    other = TrainFactory(name="Spring train")
    with unchanged():
        response = as_manager.post(
            reverse("releases:child_add", args=[other.pk]), {"release": plan["child"].pk, "dates": "keep"}, follow=True
        )
    assert "already in train Winter train" in page_messages(response)


def test_a_standalone_project_release_joins_a_train_from_its_page(as_manager, plan):
    release = ReleaseFactory(name="Solo")
    page = text(as_manager.get(release.get_absolute_url()))
    assert 'data-testid="train-join"' in page
    as_manager.post(reverse("releases:train_join", args=[release.pk]), {"train": plan["train"].pk, "dates": "keep"})
    release.refresh_from_db()
    assert release.train == plan["train"]


# Report


def test_the_report_is_printable_and_shows_what_the_selector_reports(as_manager, plan, release_manager):
    child = plan["child"]
    gate = child.gates.get()
    services.gate_override(actor=release_manager, gate=gate, reason="Vendor patch accepted")
    phase = child.phases.get(name="Build")
    services.phase_update(actor=release_manager, phase=phase, planned_end=D(2026, 3, 12))
    page = html.unescape(text(as_manager.get(reverse("releases:release_report", args=[child.pk]))))
    assert "@media print" in page and "window.print()" in page and "break-before: page" in page
    assert "Vendor patch accepted" in page and "Overridden gates" in page
    assert "Planned end: 2026-03-13 → 2026-03-12" in page
    report = selectors.release_report(user=release_manager, release=child)
    assert f"risk score {report['health']['score']} of 100" in page


# Read-only roles


def test_a_viewers_posts_change_nothing(as_viewer, plan, guarded):
    child, train = plan["child"], plan["train"]
    gate, phase, milestone = guarded.gates.get(), child.phases.first(), child.milestones.first()
    criterion = GateCriterion.objects.filter(gate=gate).first()
    posts = [
        (reverse("releases:release_create"), {"name": "X", "kind": "project", "planned_start": "2026-03-02",
                                              "planned_end": "2026-03-20"}),
        (reverse("releases:release_update", args=[child.pk]), {"name": "X"}),
        (reverse("releases:release_delete", args=[guarded.pk]), {}),
        (reverse("releases:release_transition", args=[guarded.pk]), {"to_status": "cancelled"}),
        (reverse("releases:phase_create", args=[child.pk]), {"name": "X", "kind": "uat"}),
        (reverse("releases:phase_update", args=[phase.pk]), {"name": "X"}),
        (reverse("releases:phase_delete", args=[phase.pk]), {}),
        (reverse("releases:milestone_create", args=[child.pk]), {"name": "X"}),
        (reverse("releases:milestone_update", args=[milestone.pk]), {"name": "X"}),
        (reverse("releases:milestone_delete", args=[milestone.pk]), {}),
        (reverse("releases:gate_create", args=[child.pk]), {"name": "X"}),
        (reverse("releases:gate_update", args=[gate.pk]), {"name": "X"}),
        (reverse("releases:gate_delete", args=[gate.pk]), {}),
        (reverse("releases:gate_decide", args=[gate.pk]), {f"gate{gate.pk}-role": "viewer",
                                                           f"gate{gate.pk}-decision": "approved"}),
        (reverse("releases:gate_override", args=[gate.pk]), {f"override{gate.pk}-reason": "because"}),
        (reverse("releases:gate_reopen", args=[gate.pk]), {f"reopen{gate.pk}-reason": "because"}),
        (reverse("releases:criterion_tick", args=[criterion.pk]), {"is_met": "on"}),
        (reverse("releases:scope_set", args=[child.pk]), {"system": plan["core"].pk, "impact": "impacted"}),
        (reverse("releases:scope_remove", args=[plan["standalone"].pk, plan["core"].pk]), {}),
        (reverse("releases:scope_add_suggested", args=[plan["standalone"].pk]), {}),
        (reverse("releases:child_add", args=[train.pk]), {"release": plan["standalone"].pk, "dates": "keep"}),
        (reverse("releases:train_join", args=[plan["standalone"].pk]), {"train": train.pk, "dates": "keep"}),
        (reverse("releases:child_remove", args=[child.pk]), {}),
    ]  # fmt: skip
    with unchanged():
        for url, data in posts:
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                response = as_viewer.post(url, data, **headers)
                assert response.status_code in (200, 302, 403), (url, response.status_code)


def test_pages_of_releases_that_do_not_exist_are_not_found(as_manager):
    for url in ("/releases/999999/", "/releases/999999/report/", "/releases/gates/999999/edit/"):
        assert as_manager.get(url).status_code == 404, url
    assert as_manager.post("/releases/gate-criteria/999999/tick/").status_code == 404


def test_the_home_panel_summarises_a_release_managers_releases_by_health(as_manager, plan):
    page = text(as_manager.get("/"))
    panel = re.search(r'data-panel="releases".*?</section>', page, re.S).group(0)
    assert "your open releases" in panel and reverse("releases:release_list") in panel


def test_the_navigation_links_the_release_list(as_viewer, db):
    page = text(as_viewer.get("/"))
    assert f'href="{reverse("releases:release_list")}"' in page


def test_the_release_page_reads_in_a_bounded_number_of_queries(as_manager, plan, django_assert_max_num_queries):
    def queries(release):
        with django_assert_max_num_queries(35) as captured:
            assert as_manager.get(release.get_absolute_url()).status_code == 200
        return len(captured.captured_queries)

    train = plan["train"]
    before = queries(train)
    for index in range(4):
        child = ReleaseFactory(name=f"Extra {index}", train=train, inherits_train_dates=True)
        PhaseFactory(release=child, train_phase=train.phases.get())
    assert queries(train) == before
    child = plan["child"]
    before = queries(child)
    for index in range(3):
        gate = GateFactory(release=child, name=f"Extra gate {index}")
        GateCriterionFactory(gate=gate)
        MilestoneFactory(release=child, name=f"Extra milestone {index}")
    assert queries(child) == before


def test_the_release_page_evaluates_its_gates_once_so_more_gates_cost_no_more_queries(
    as_manager, release_manager, django_assert_max_num_queries
):
    release = ReleaseFactory(status=ReleaseStatus.IN_PROGRESS, owner=release_manager)

    def add_gate(index):
        gate = GateFactory(release=release, name=f"Gate {index}", blocks=ReleaseStatus.RELEASED)
        GateCriterionFactory(gate=gate, kind="automatic", check_key="required_phases_dated", text="Planned")
        GateCriterionFactory(gate=gate, kind="automatic", check_key="no_milestone_in_freeze", text="No freeze")

    def queries():
        # 21 for the page itself, 2 for the sections other apps register (environments: bookings and requests).
        with django_assert_max_num_queries(23) as captured:
            page = as_manager.get(release.get_absolute_url())
        assert page.status_code == 200
        return len(captured.captured_queries), text(page)

    add_gate(0)
    one, _ = queries()
    for index in range(1, 10):
        add_gate(index)
    ten, page = queries()
    assert ten == one
    assert "The gate Gate 9 is not passed" in page  # the blockers of "Mark as released" came from the one evaluation
