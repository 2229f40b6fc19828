import pytest
from axes.models import AccessAttempt

from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent

PASSWORD = "a-perfectly-fine-passphrase"


def test_login_page_signs_in_and_lands_on_home(client, make_user):
    make_user(Role.RELEASE_MANAGER, username="rm")
    response = client.post("/accounts/login/", {"username": "rm", "password": "correct-horse-battery"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Release manager" in response.content


def test_five_failures_lock_the_username_out(client, make_user):
    make_user(Role.VIEWER, username="target")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "target", "password": "wrong-password"})
    response = client.post("/accounts/login/", {"username": "target", "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_administrator_unlocks_a_locked_out_user(client, make_user, admin_user):
    make_user(Role.VIEWER, username="target")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "target", "password": "wrong-password"})
    client.force_login(admin_user)
    assert b"Unlock sign-in" in client.get("/accounts/users/target/").content
    client.post("/accounts/users/target/unlock/")
    assert not AccessAttempt.objects.filter(username="target").exists()
    assert AuditEvent.objects.filter(event_type="user.unlocked", object_repr="target").exists()


def test_role_change_on_the_user_page_is_saved_and_audited(client, admin_user, make_user):
    subject = make_user(Role.VIEWER, username="subject")
    client.force_login(admin_user)
    response = client.post(
        "/accounts/users/subject/",
        {
            "version": 1,
            "first_name": "S",
            "last_name": "T",
            "email": "",
            "roles": ["quality_manager"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=subject.pk).roles == ["quality_manager"]
    event = AuditEvent.objects.get(event_type="user.updated")
    assert event.old_data["roles"] == ["viewer"] and event.new_data["roles"] == ["quality_manager"]


def test_stale_form_shows_the_conflict_and_changes_nothing(client, admin_user, make_user):
    make_user(Role.VIEWER, username="subject")
    client.force_login(admin_user)
    client.post(
        "/accounts/users/subject/", {"version": 1, "email": "a@example.com", "roles": ["viewer"], "is_active": "on"}
    )
    response = client.post(
        "/accounts/users/subject/", {"version": 1, "email": "b@example.com", "roles": ["viewer"], "is_active": "on"}
    )
    assert response.status_code == 422
    assert b"changed by someone else" in response.content
    assert User.objects.get(username="subject").email == "a@example.com"


def test_bad_new_user_form_is_shown_again_with_messages(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/accounts/users/new/", {"username": "weak", "password": "123", "roles": ["viewer"]})
    assert response.status_code == 422
    assert b"too short" in response.content
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE_MANAGER])
def test_non_administrators_cannot_create_or_change_users(client, make_user, role):
    client.force_login(make_user(role))
    make_user(Role.VIEWER, username="subject")
    assert client.get("/accounts/users/new/").status_code == 403
    assert client.post("/accounts/users/new/", {"username": "x", "password": PASSWORD}).status_code == 403
    assert client.post("/accounts/users/subject/", {"version": 1, "roles": ["admin"]}).status_code == 403
    assert User.objects.get(username="subject").roles == ["viewer"]


def test_token_page_shows_a_new_token_once(client, release_manager):
    client.force_login(release_manager)
    response = client.post("/accounts/tokens/", {"name": "pipeline", "expires_in_days": 30}, follow=True)
    token = ApiToken.objects.get(user=release_manager)
    assert response.redirect_chain == [("/accounts/tokens/", 302)]
    assert b"will not be shown again" in response.content and token.prefix.encode() in response.content
    again = client.get("/accounts/tokens/")
    assert b"pipeline" in again.content and b"will not be shown again" not in again.content
    assert ApiToken.objects.filter(user=release_manager).count() == 1


def test_viewers_see_no_token_form(client, viewer):
    client.force_login(viewer)
    response = client.get("/accounts/tokens/")
    assert b"Create token" not in response.content
    assert client.post("/accounts/tokens/", {"name": "mine"}).status_code == 422
    assert not ApiToken.objects.exists()


def test_password_change_page(client, make_user):
    user = make_user(Role.VIEWER)
    client.force_login(user)
    form = {"old_password": "correct-horse-battery", "new_password": PASSWORD, "new_password_again": PASSWORD}
    assert client.post("/accounts/password/", form).status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AuditEvent.objects.filter(event_type="user.password_changed", source="web").exists()


@pytest.mark.parametrize("path", ["/", "/accounts/tokens/", "/accounts/users/", "/audit/"])
def test_pages_need_a_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_home_pages_query_count_is_bounded(client, admin_user, make_user, django_assert_max_num_queries):
    for index in range(20):
        make_user(Role.VIEWER, username=f"p{index}")
    client.force_login(admin_user)
    with django_assert_max_num_queries(20):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/accounts/users/").status_code == 200


def test_behind_a_proxy_throttling_keys_on_the_forwarded_client_address(client, make_user, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    make_user(Role.VIEWER, username="target")
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": "target", "password": "wrong-password"},
            headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"},
        )
    elsewhere = client.post(
        "/accounts/login/",
        {"username": "target", "password": "correct-horse-battery"},
        headers={"X-Forwarded-For": "198.51.100.7, 10.0.0.1"},
    )
    assert elsewhere.status_code == 302, "another person behind the same proxy is not locked out"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
