import pytest

from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent

NEW_USER = {"username": "newcomer", "password": "a-perfectly-fine-passphrase", "roles": ["viewer"]}


def test_list_users_is_paginated_with_a_total_and_sortable(admin_user, make_user, api_as):
    for index in range(5):
        make_user(Role.VIEWER, username=f"z{index}")
    api = api_as(admin_user)
    page = api.get("/users", {"limit": 2, "offset": 1, "sort": "-username"}).json()
    assert page["count"] == 6 and page["limit"] == 2 and page["offset"] == 1
    assert [u["username"] for u in page["items"]] == ["z3", "z2"]


def test_list_users_filters_by_role_and_search(admin_user, make_user, api_as):
    make_user(Role.QUALITY_MANAGER, username="qa-lead", last_name="Okonkwo")
    make_user(Role.VIEWER, username="reader")
    api = api_as(admin_user)
    assert [u["username"] for u in api.get("/users", {"role": "quality_manager"}).json()["items"]] == ["qa-lead"]
    assert [u["username"] for u in api.get("/users", {"search": "okonk"}).json()["items"]] == ["qa-lead"]


def test_list_users_takes_a_fixed_number_of_queries(admin_user, make_user, api_as, django_assert_max_num_queries):
    api = api_as(admin_user)
    for index in range(30):
        make_user(Role.VIEWER, Role.RELEASE_MANAGER, username=f"bulk{index}")
    with django_assert_max_num_queries(6):
        response = api.get("/users", {"limit": 50})
    assert response.json()["count"] == 31


@pytest.mark.parametrize(
    ("sort", "message"), [("password", "Cannot sort by 'password'"), ("-nope", "Cannot sort by 'nope'")]
)
def test_unknown_sort_is_a_422_naming_the_choices(admin_user, api_as, sort, message):
    response = api_as(admin_user).get("/users", {"sort": sort})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "sort"


def test_create_user_through_the_api(admin_user, api_as):
    response = api_as(admin_user).post("/users", NEW_USER)
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["viewer"]
    event = AuditEvent.objects.get(event_type="user.created", object_repr="newcomer")
    assert event.source == "api" and event.actor == admin_user


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({**NEW_USER, "password": "123"}, 422, "password"),
        ({**NEW_USER, "roles": ["pilot"]}, 422, "roles.0"),
        ({**NEW_USER, "surprise": 1}, 422, "surprise"),
        ({"username": "x"}, 422, "password"),
        ({**NEW_USER, "username": "a" * 151}, 422, "username"),
        ({**NEW_USER, "username": "has space"}, 422, "username"),
        ({**NEW_USER, "roles": "viewer"}, 422, "roles"),
        ({**NEW_USER, "username": "admin"}, 409, "username"),
    ],
)
def test_bad_user_input_gets_field_errors_and_changes_nothing(admin_user, api_as, payload, status, field):
    api = api_as(admin_user)
    before = (User.objects.count(), AuditEvent.objects.count())
    response = api.post("/users", payload)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]
    assert field in [error["field"] for error in body["errors"]]
    assert (User.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("raw", ["{not json", "[1, 2", '"just a string"', "null"])
def test_malformed_json_is_a_clear_4xx(admin_user, api_as, raw):
    response = api_as(admin_user).post("/users", raw=raw)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_stale_version_gets_409_and_changes_nothing(admin_user, make_user, api_as):
    make_user(Role.VIEWER, username="subject")
    api = api_as(admin_user)
    assert api.patch("/users/subject", {"version": 1, "email": "a@example.com"}).status_code == 200
    response = api.patch("/users/subject", {"version": 1, "email": "b@example.com"})
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "version", "message": "Expected version 2."}]
    assert User.objects.get(username="subject").email == "a@example.com"


def test_unknown_user_is_404(admin_user, api_as):
    response = api_as(admin_user).get("/users/ghost")
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found.", "errors": []}


def test_tokens_of_others_are_404_not_403(release_manager, make_user, api_as):
    other = make_user(Role.QUALITY_MANAGER)
    from launchdeck.accounts.testing import bearer_token_for

    bearer_token_for(other)
    theirs = ApiToken.objects.get(user=other)
    response = api_as(release_manager).post(f"/tokens/{theirs.pk}/revoke", {})
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_token_lifecycle_through_the_api(release_manager, api_as):
    api = api_as(release_manager)
    created = api.post("/tokens", {"name": "pipeline", "expires_in_days": 30})
    assert created.status_code == 201
    raw = created.json()["token"]
    listed = api.get("/tokens").json()["items"]
    assert "token" not in listed[0]
    from launchdeck.accounts.testing import ApiClient

    machine = ApiClient(raw)
    assert machine.get("/users/me").json()["username"] == "release_manager"
    assert api.post(f"/tokens/{created.json()['id']}/revoke", {"reason": "rotated"}).status_code == 200
    revoked = machine.get("/users/me")
    assert revoked.status_code == 401
    assert revoked.json()["detail"].startswith("Authentication is required")


def test_huge_ids_are_422_not_500(admin_user, api_as):
    response = api_as(admin_user).post(f"/tokens/{2**70}/revoke", {})
    assert response.status_code == 422


def test_session_writes_need_the_csrf_token(admin_user, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    response = strict.post("/api/v1/users", NEW_USER, content_type="application/json")
    assert response.status_code == 403
    assert not User.objects.filter(username="newcomer").exists()
    assert strict.get("/api/v1/users/me").json()["username"] == "admin"


def test_role_changes_show_in_the_response_and_the_audit_event(admin_user, make_user, api_as):
    make_user(Role.VIEWER, username="subject")
    response = api_as(admin_user).patch("/users/subject", {"version": 1, "roles": ["release_manager"]})
    assert response.json()["roles"] == ["release_manager"]
    event = AuditEvent.objects.get(event_type="user.updated")
    assert (event.old_data, event.new_data) == ({"roles": ["viewer"]}, {"roles": ["release_manager"]})


def test_revoking_needs_no_body(release_manager, api_as):
    api = api_as(release_manager)
    token_id = api.post("/tokens", {"name": "short-lived"}).json()["id"]
    response = api.client.post(
        f"/api/v1/tokens/{token_id}/revoke", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "revoked"


def test_wrong_methods_and_unknown_paths_answer_in_the_error_format(admin_user, api_as):
    api = api_as(admin_user)
    wrong = api.delete("/users")
    assert wrong.status_code == 405 and wrong.json() == {"detail": "Method Not Allowed.", "errors": []}
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.json()["errors"] == []
