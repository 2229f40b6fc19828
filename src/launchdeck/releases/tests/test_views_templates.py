"""The release template pages: the list, the lifecycle page with its dated preview, and the forms for the template
and its phases, milestones and gates.

Rules are tested at the services; these tests prove the wiring: forms parse, services decide, refusals are shown on
the form and change nothing, and read-only roles change nothing.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.releases.choices import MilestoneAnchor, MilestoneKind, PhaseKind
from launchdeck.releases.models import GateTemplate, MilestoneTemplate, PhaseTemplate, ReleaseTemplate
from launchdeck.releases.tests.factories import (
    GateTemplateFactory,
    MilestoneTemplateFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseTemplateFactory,
    events_written,
    unchanged,
)

D = datetime.date


def text(response) -> str:
    return response.content.decode()


def flat(response) -> str:
    return re.sub(r"\s+", " ", text(response))


@pytest.fixture
def template(db):
    """Build (10 working days) then SIT (5, after Build), a code freeze 2 days before the end of Build and a gate
    closing SIT approved by the release and quality managers, with a checklist item and an automatic check."""
    template = ReleaseTemplateFactory(name="Standard lifecycle", description="Our usual way")
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD, duration_days=10)
    sit = PhaseTemplateFactory(
        template=template,
        position=2,
        name="SIT",
        kind=PhaseKind.SIT,
        start_offset_days=10,
        duration_days=5,
        environment_type="sit",
    )
    MilestoneTemplateFactory(
        template=template, phase=build, name="Code freeze", kind=MilestoneKind.CODE_FREEZE, offset_days=-2
    )
    GateTemplateFactory(
        template=template,
        phase=sit,
        name="SIT exit",
        approver_roles=["release_manager", "quality_manager"],
        checklist=["Test report signed"],
        checks=["required_phases_dated"],
    )
    return template


@pytest.fixture
def manager_client(client, release_manager):
    client.force_login(release_manager)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


# The list


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE_MANAGER])
def test_the_template_list_shows_phases_length_and_activity(client, make_user, template, role):
    ReleaseTemplateFactory(name="Retired lifecycle", is_active=False)
    client.force_login(make_user(role))
    response = client.get("/releases/templates/")
    page = flat(response)
    assert response.status_code == 200
    assert f'href="/releases/templates/{template.pk}/">Standard lifecycle</a>' in page
    row = re.search(r"<tr>(?:(?!</tr>).)*Standard lifecycle.*?</tr>", page).group(0)
    # two phases, 15 working days from the start to the end of SIT, one gate
    assert re.findall(r'<td class="text-end">(\d+)</td>', row) == ["2", "15", "1", "0"]
    assert "inactive" in page and "Retired lifecycle" in page
    assert ('href="/releases/templates/new/"' in page) == (role == Role.RELEASE_MANAGER)
    assert 'data-testid="planning-views"' in page


def test_the_template_list_filters_by_kind_activity_and_search(manager_client, template):
    ReleaseTemplateFactory(name="Train lifecycle", release_kind="enterprise")
    ReleaseTemplateFactory(name="Retired lifecycle", is_active=False)

    def listed(params, **headers):
        page = text(manager_client.get("/releases/templates/", params, headers=headers))
        return page, re.findall(r'<a href="/releases/templates/\d+/">([^<]+)</a>', page)

    assert listed({"release_kind": "enterprise"})[1] == ["Train lifecycle"]
    assert listed({"active": "no"})[1] == ["Retired lifecycle"]
    page, names = listed({"q": "usual"}, **{"HX-Request": "true"})
    assert page.startswith('<div id="object-table">') and names == ["Standard lifecycle"]


def test_the_template_list_takes_a_fixed_number_of_queries(manager_client, template):
    manager_client.get("/releases/templates/")
    with CaptureQueriesContext(connection) as few:
        manager_client.get("/releases/templates/")
    for index in range(6):
        more = ReleaseTemplateFactory()
        PhaseTemplateFactory.create_batch(3, template=more)
        GateTemplateFactory(template=more)
        ReleaseFactory(template=more, name=f"Made from {index}")
    with CaptureQueriesContext(connection) as many:
        manager_client.get("/releases/templates/")
    assert len(many) == len(few)


# The lifecycle page


def test_the_template_page_shows_the_lifecycle_for_a_viewer_without_changes(viewer_client, template):
    response = viewer_client.get(f"/releases/templates/{template.pk}/")
    page = flat(response)
    assert response.status_code == 200
    for shown in ("Build", "SIT", "Code freeze", "SIT exit", "Test report signed", "All required phases are planned"):
        assert shown in page
    assert "2 working days before the end of Build" in page
    assert "Release manager" in page and "Quality manager" in page
    assert "/phases/new/" not in page and "/edit/" not in page and "/delete/" not in page and "remove" not in page
    assert f"/audit/history/releases.releasetemplate/{template.pk}/" in page


def test_the_template_page_offers_every_change_to_a_release_manager(manager_client, template):
    page = text(manager_client.get(f"/releases/templates/{template.pk}/"))
    phase = template.phases.get(name="Build")
    milestone = template.milestones.get()
    gate = template.gates.get()
    for url in (
        f"/releases/templates/{template.pk}/edit/",
        f"/releases/templates/{template.pk}/delete/",
        f"/releases/templates/{template.pk}/phases/new/",
        f"/releases/templates/{template.pk}/milestones/new/",
        f"/releases/templates/{template.pk}/gates/new/",
        f"/releases/templates/phases/{phase.pk}/edit/",
        f"/releases/templates/phases/{phase.pk}/delete/",
        f"/releases/templates/milestones/{milestone.pk}/edit/",
        f"/releases/templates/milestones/{milestone.pk}/delete/",
        f"/releases/templates/gates/{gate.pk}/edit/",
        f"/releases/templates/gates/{gate.pk}/delete/",
    ):
        assert f'"{url}"' in page, url


def test_the_preview_lays_the_phases_out_on_the_chosen_start_day(manager_client, template):
    # Monday 2 March 2026: Build is 2 to 13 March, SIT 16 to 20 March, the code freeze 2 working days before 13 March.
    response = manager_client.get(
        f"/releases/templates/{template.pk}/", {"preview": "1", "start": "2026-03-02"}, headers={"HX-Request": "true"}
    )
    page = flat(response)
    assert page.startswith('<div class="card" id="template-preview"')
    assert "would run to <strong>20 March 2026</strong>: 15 working days" in page
    assert 'Mon 2 Mar 2026</td><td class="text-nowrap">Fri 13 Mar 2026' in page
    assert 'Mon 16 Mar 2026</td><td class="text-nowrap">Fri 20 Mar 2026' in page
    assert 'Code freeze <span class="text-body-secondary">Wed 11 Mar 2026' in page
    assert 'Gate SIT exit <span class="text-body-secondary">due Fri 20 Mar 2026' in page
    bars = re.findall(r'class="tp-bar tp-kind-(\w+)" style="left: ([\d.]+)%; width: ([\d.]+)%', page)
    assert [kind for kind, _, _ in bars] == ["build", "sit"]
    assert float(bars[0][1]) == 0 and float(bars[1][1]) > float(bars[0][2])


def test_a_template_without_phases_says_so(manager_client):
    template = ReleaseTemplateFactory()
    page = text(manager_client.get(f"/releases/templates/{template.pk}/"))
    assert "Add phases to see them laid out on a calendar." in page


def test_an_unknown_template_is_a_404(manager_client, db):
    assert manager_client.get("/releases/templates/999999/").status_code == 404


# The template itself


def test_a_release_manager_creates_edits_and_deletes_a_template(manager_client, db):
    with events_written() as written:
        response = manager_client.post(
            "/releases/templates/new/",
            {"name": "Quarterly train", "release_kind": "enterprise", "description": "Four a year", "is_active": "on"},
        )
    template = ReleaseTemplate.objects.get(name="Quarterly train")
    assert response.status_code == 302 and response["Location"] == f"/releases/templates/{template.pk}/"
    assert written.types == ["releasetemplate.created"] and written.event.source == "web"
    assert template.release_kind == "enterprise" and template.is_active

    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/{template.pk}/edit/",
            {"version": template.version, "name": "Quarterly train", "release_kind": "enterprise"},
        )
    assert response.status_code == 302 and written.types == ["releasetemplate.updated"]
    template.refresh_from_db()
    assert not template.is_active and template.description == ""

    with events_written() as written:
        response = manager_client.post(f"/releases/templates/{template.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/releases/templates/"
    assert written.types == ["releasetemplate.deleted"] and not ReleaseTemplate.objects.exists()


def test_a_duplicate_name_is_shown_on_the_field_and_nothing_is_created(manager_client, template):
    with unchanged():
        response = manager_client.post(
            "/releases/templates/new/", {"name": "STANDARD LIFECYCLE", "release_kind": "project"}
        )
    assert response.status_code == 422
    assert "A template with this name already exists." in text(response)


def test_a_stale_edit_is_refused_and_changes_nothing(manager_client, template):
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/edit/",
            {"version": template.version + 5, "name": "Renamed", "release_kind": "project", "is_active": "on"},
        )
    assert response.status_code == 422 and "changed by someone else" in text(response)


# Phases


def test_a_phase_is_added_edited_and_removed_through_the_pages(manager_client, template):
    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/{template.pk}/phases/new/",
            {"name": "UAT", "kind": "uat", "duration_days": "8", "environment_type": "uat", "test_effort_days": "12.5"},
        )
    assert response.status_code == 302 and response["Location"] == f"/releases/templates/{template.pk}/"
    assert written.types == ["phasetemplate.created"] and written.event.source == "web"
    uat = template.phases.get(name="UAT")
    # without an offset it starts right after SIT (10 + 5), last in the order
    assert (uat.position, uat.start_offset_days, uat.duration_days, str(uat.test_effort_days)) == (3, 15, 8, "12.5")
    assert not uat.is_required

    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/phases/{uat.pk}/edit/",
            {
                "version": uat.version,
                "name": "UAT",
                "kind": "uat",
                "duration_days": "6",
                "start_offset_days": "",
                "position": "",
                "test_effort_days": "10",
                "is_required": "on",
            },
        )
    assert response.status_code == 302 and written.types == ["phasetemplate.updated"]
    uat.refresh_from_db()
    assert (uat.position, uat.start_offset_days, uat.duration_days, uat.is_required) == (3, 15, 6, True)
    assert uat.environment_type == ""

    with events_written() as written:
        response = manager_client.post(f"/releases/templates/phases/{uat.pk}/delete/")
    assert response.status_code == 302 and written.types == ["phasetemplate.deleted"]
    assert not template.phases.filter(name="UAT").exists()


def test_an_inline_htmx_form_is_a_fragment_and_a_save_redirects_the_page(manager_client, template):
    url = f"/releases/templates/{template.pk}/phases/new/"
    fragment = text(manager_client.get(url, headers={"HX-Request": "true"}))
    assert fragment.startswith('<div class="card mb-3 border-primary-subtle" id="template-part-form"')
    assert f'hx-post="{url}"' in fragment
    with unchanged():
        response = manager_client.post(
            url, {"name": "UAT", "kind": "uat", "duration_days": "0"}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200 and 'id="template-part-form"' in text(response)
    assert "Ensure this value is greater than or equal to 1." in text(response)
    response = manager_client.post(
        url,
        {"name": "UAT", "kind": "uat", "duration_days": "3", "test_effort_days": "0"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response["HX-Redirect"] == f"/releases/templates/{template.pk}/"
    assert template.phases.filter(name="UAT").exists()


def test_a_phase_name_used_twice_is_refused_on_the_field(manager_client, template):
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/phases/new/",
            {"name": "build", "kind": "build", "duration_days": "3", "test_effort_days": "0"},
        )
    assert response.status_code == 422 and "This template already has a phase with this name." in text(response)


def test_a_phase_with_milestones_is_not_removed(manager_client, template):
    build = template.phases.get(name="Build")
    with unchanged():
        response = manager_client.post(f"/releases/templates/phases/{build.pk}/delete/", follow=True)
    assert "still" in text(response).lower() and "milestone" in text(response)


# Milestones


def test_a_milestone_is_added_edited_and_removed_through_the_pages(manager_client, template):
    sit = template.phases.get(name="SIT")
    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/{template.pk}/milestones/new/",
            {"name": "Deploy", "kind": "deploy", "phase": sit.pk, "anchor": "end", "offset_days": "1"},
        )
    assert response.status_code == 302 and written.types == ["milestonetemplate.created"]
    deploy = template.milestones.get(name="Deploy")
    assert (deploy.phase, deploy.kind, deploy.anchor, deploy.offset_days) == (sit, "deploy", "end", 1)
    assert "1 working day after the end of SIT" in flat(manager_client.get(f"/releases/templates/{template.pk}/"))

    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/milestones/{deploy.pk}/edit/",
            {
                "version": deploy.version,
                "name": "Deploy",
                "kind": "deploy",
                "phase": sit.pk,
                "anchor": "start",
                "offset_days": "0",
            },
        )
    assert response.status_code == 302 and written.types == ["milestonetemplate.updated"]
    deploy.refresh_from_db()
    assert deploy.anchor == MilestoneAnchor.PHASE_START

    with events_written() as written:
        manager_client.post(f"/releases/templates/milestones/{deploy.pk}/delete/")
    assert (
        written.types == ["milestonetemplate.deleted"] and not MilestoneTemplate.objects.filter(pk=deploy.pk).exists()
    )


def test_a_milestone_without_a_phase_is_refused_on_the_field(manager_client, template):
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/milestones/new/",
            {"name": "Deploy", "kind": "deploy", "phase": "", "anchor": "end", "offset_days": "0"},
        )
    assert response.status_code == 422
    assert re.search(r'invalid-feedback d-block">Choose the phase the milestone is anchored to\.', text(response))


def test_a_milestone_cannot_hang_on_another_templates_phase(manager_client, template):
    foreign = PhaseTemplateFactory()
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/milestones/new/",
            {"name": "Deploy", "kind": "deploy", "phase": foreign.pk, "anchor": "end", "offset_days": "0"},
        )
    assert response.status_code == 422 and "Select a valid choice." in text(response)


# Gates


def test_a_gate_is_added_edited_and_removed_through_the_pages(manager_client, template):
    build = template.phases.get(name="Build")
    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/{template.pk}/gates/new/",
            {
                "name": "Build exit",
                "phase": build.pk,
                "blocks": "in_progress",
                "approver_roles": ["release_manager", "project_manager"],
                "checklist": "Code reviewed\n\n  Unit tests green  \n",
                "checks": ["no_milestone_in_freeze"],
            },
        )
    assert response.status_code == 302 and written.types == ["gatetemplate.created"]
    gate = template.gates.get(name="Build exit")
    assert gate.approver_roles == ["release_manager", "project_manager"]
    assert gate.checklist == ["Code reviewed", "Unit tests green"] and gate.checks == ["no_milestone_in_freeze"]
    assert (gate.phase, gate.blocks) == (build, "in_progress")

    form = text(manager_client.get(f"/releases/templates/gates/{gate.pk}/edit/"))
    assert "Code reviewed\nUnit tests green</textarea>" in form
    with events_written() as written:
        response = manager_client.post(
            f"/releases/templates/gates/{gate.pk}/edit/",
            {
                "version": gate.version,
                "name": "Build exit",
                "phase": "",
                "blocks": "released",
                "approver_roles": ["admin"],
            },
        )
    assert response.status_code == 302 and written.types == ["gatetemplate.updated"]
    gate.refresh_from_db()
    assert (gate.phase, gate.approver_roles, gate.checklist, gate.checks) == (None, ["admin"], [], [])

    with events_written() as written:
        manager_client.post(f"/releases/templates/gates/{gate.pk}/delete/")
    assert written.types == ["gatetemplate.deleted"] and not GateTemplate.objects.filter(pk=gate.pk).exists()


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["chief_of_everything"], "Select a valid choice. chief_of_everything is not one of the available choices."),
        ([], "Name at least one role that approves the gate"),
    ],
)
def test_a_gate_with_an_unknown_role_or_none_is_refused_on_the_field(manager_client, template, roles, message):
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/gates/new/",
            {"name": "Go-live", "blocks": "released", "approver_roles": roles},
        )
    assert response.status_code == 422 and message in text(response)
    assert 'name="name" value="Go-live"' in text(response) or 'value="Go-live"' in text(response)


def test_an_unknown_automatic_check_is_refused(manager_client, template):
    with unchanged():
        response = manager_client.post(
            f"/releases/templates/{template.pk}/gates/new/",
            {"name": "Go-live", "blocks": "released", "approver_roles": ["admin"], "checks": ["made_up"]},
        )
    assert response.status_code == 422 and "made_up is not one of the available choices" in text(response)


def test_the_gate_form_offers_the_registered_checks_and_the_approving_roles(manager_client, template):
    page = text(manager_client.get(f"/releases/templates/{template.pk}/gates/new/"))
    for label in (
        "All child releases passed this gate",
        "All required phases are planned",
        "No deploy milestone inside a freeze",
    ):
        assert label in page
    assert 'value="release_manager" id="id_approver_roles_1" checked' in page
    assert 'value="viewer"' not in page


# Permissions


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROJECT_MANAGER, Role.ENVIRONMENT_MANAGER])
def test_roles_without_template_permissions_change_nothing(client, make_user, template, role):
    client.force_login(make_user(role))
    phase = template.phases.get(name="Build")
    gate = template.gates.get()
    posts = [
        ("/releases/templates/new/", {"name": "X", "release_kind": "project"}),
        (f"/releases/templates/{template.pk}/edit/", {"version": 1, "name": "X", "release_kind": "project"}),
        (f"/releases/templates/{template.pk}/delete/", {}),
        (f"/releases/templates/{template.pk}/phases/new/", {"name": "X", "kind": "build", "duration_days": 1}),
        (f"/releases/templates/phases/{phase.pk}/edit/", {"version": 1, "name": "X", "kind": "build"}),
        (f"/releases/templates/phases/{phase.pk}/delete/", {}),
        (f"/releases/templates/{template.pk}/gates/new/", {"name": "X", "blocks": "released"}),
        (f"/releases/templates/gates/{gate.pk}/delete/", {}),
    ]
    with unchanged():
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    assert PhaseTemplate.objects.filter(pk=phase.pk).exists()
