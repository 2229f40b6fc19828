import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from launchdeck.accounts import services as accounts
from launchdeck.accounts.roles import Role
from launchdeck.audit.context import audit_context, audit_reason, audited_job, current_audit_context
from launchdeck.audit.models import AppendOnlyError, AuditEvent
from launchdeck.audit.services import AuditOutsideTransaction, audit_record

PASSWORD = "a-perfectly-fine-passphrase"


@pytest.fixture
def event(admin_user):
    with audit_context("web", request_id="req-1"):
        accounts.user_create(actor=admin_user, username="subject", password=PASSWORD, roles=[Role.VIEWER])
    return AuditEvent.objects.get(event_type="user.created")


def test_events_carry_actor_source_request_id_and_object(event, admin_user):
    assert event.actor == admin_user and event.actor_name == "admin"
    assert event.source == "web" and event.request_id == "req-1"
    assert event.object_type == "accounts.user" and event.object_repr == "subject"


def test_saving_an_event_again_is_refused(event):
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_changes_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])


def test_the_database_itself_refuses_updates(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite refuses deletes in the model layer only")
def test_postgresql_refuses_deletes_in_the_database(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_offers_no_add_change_or_delete(event, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = site._registry[AuditEvent]
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_admin_change_and_delete_posts_change_nothing(event, admin_user, client):
    client.force_login(admin_user)
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"reason": "forged"})
    client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    client.post("/admin/audit/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk]})
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_the_api_has_no_way_to_change_events(event, admin_user, api_as):
    api = api_as(admin_user)
    for call in (api.put, api.patch):
        assert call(f"/audit-events/{event.pk}", {"reason": "forged"}).status_code == 405
    assert api.delete(f"/audit-events/{event.pk}").status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_the_audit_pages_have_no_way_to_change_events(event, admin_user, client):
    client.force_login(admin_user)
    response = client.post("/audit/", {"event_type": "x"})
    assert response.status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused(admin_user):
    with pytest.raises(AuditOutsideTransaction):
        audit_record(admin_user, "user.poked", admin_user)


def test_a_failed_service_leaves_no_event(admin_user):
    before = AuditEvent.objects.count()
    with pytest.raises(Exception, match="already exists"):
        accounts.user_create(actor=admin_user, username="admin", password=PASSWORD, roles=[])
    assert AuditEvent.objects.count() == before


def test_web_requests_are_attributed_to_the_web_with_their_request_id(admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        "/accounts/users/new/",
        {"username": "webuser", "password": PASSWORD, "roles": ["viewer"]},
        headers={"X-Request-ID": "abc-123"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="user.created", object_repr="webuser")
    assert (event.source, event.request_id, event.actor_name) == ("web", "abc-123", "admin")


def test_api_requests_are_attributed_to_the_api(admin_user, api_as):
    api_as(admin_user).post("/users", {"username": "apiuser", "password": PASSWORD})
    event = AuditEvent.objects.get(event_type="user.created", object_repr="apiuser")
    assert (event.source, event.actor_name) == ("api", "admin")
    assert len(event.request_id) == 32


def test_jobs_are_attributed_to_the_job(admin_user):
    @audited_job
    def nightly_cleanup():
        assert current_audit_context().source == "job"
        return accounts.user_create(actor=None, username="jobuser", password=PASSWORD, roles=[])

    nightly_cleanup()
    event = AuditEvent.objects.get(object_repr="jobuser")
    assert event.source == "job"
    assert event.actor is None and event.actor_name.startswith("job:") and "nightly_cleanup" in event.actor_name


def test_reasons_flow_from_the_context(admin_user):
    with audit_context("api"), audit_reason("Quarterly access review"):
        accounts.user_update(actor=admin_user, user=admin_user, version=1, first_name="Ada")
    assert AuditEvent.objects.get(event_type="user.updated").reason == "Quarterly access review"


def test_nested_contexts_keep_the_outer_request_id():
    with audit_context("web", request_id="outer"), audit_context("job") as inner:
        assert inner.request_id == "outer" and inner.source == "job"
    assert current_audit_context() is None


def test_history_lists_an_objects_events_for_people_who_may_see_it(event, viewer, client):
    subject_id = event.object_id
    client.force_login(viewer)
    response = client.get(f"/audit/history/accounts.user/{subject_id}/")
    assert response.status_code == 200
    assert b"user.created" in response.content
    assert client.get("/audit/history/accounts.nothing/1/").status_code == 404
    assert client.get("/audit/history/accounts.user/999999/").status_code == 404


def test_people_without_a_role_see_no_history_nor_trail(event, make_user, client):
    client.force_login(make_user())
    assert client.get(f"/audit/history/accounts.user/{event.object_id}/").status_code == 404
    assert client.get("/audit/").status_code == 403


def test_audit_events_api_filters(event, admin_user, api_as):
    api = api_as(admin_user)
    assert api.get("/audit-events", {"event_type": "user"}).json()["count"] == 1
    assert api.get("/audit-events", {"event_type": "user.created", "actor": "admin"}).json()["count"] == 1
    assert api.get("/audit-events", {"object_type": "accounts.user", "object_id": event.object_id}).json()["count"] == 1
    assert api.get("/audit-events", {"source": "cli"}).json()["count"] == 1  # the test token
    bad = api.get("/audit-events", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "until"
    assert api.get("/audit-events", {"source": "telepathy"}).status_code == 422


def test_audit_events_api_query_count_does_not_grow(admin_user, api_as, make_user, django_assert_max_num_queries):
    api = api_as(admin_user)
    for index in range(25):
        accounts.user_update(actor=admin_user, user=make_user(username=f"u{index}"), version=1, first_name="X")
    with django_assert_max_num_queries(5):
        assert api.get("/audit-events", {"limit": 100}).json()["count"] == 26


def test_times_without_a_zone_are_refused(admin_user, api_as):
    response = api_as(admin_user).get("/audit-events", {"since": "2026-01-01T00:00:00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "since"


def test_activity_by_day_counts_changes_per_source(event, admin_user):
    from launchdeck.audit.selectors import audit_activity_by_day

    activity = audit_activity_by_day(user=admin_user, days=7)
    assert len(activity["days"]) == 7
    assert activity["series"] == {"web": [0, 0, 0, 0, 0, 0, 1]}
    assert audit_activity_by_day(user=admin_user, days=7, source="api")["series"] == {}
