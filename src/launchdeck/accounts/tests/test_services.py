import datetime

import pytest
from django.utils import timezone

from launchdeck.accounts import services
from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed

GOOD_PASSWORD = "a-perfectly-fine-passphrase"


def test_user_create_stores_roles_and_audits(admin_user):
    user = services.user_create(
        actor=admin_user, username="rita", password=GOOD_PASSWORD, roles=[Role.RELEASE_MANAGER, Role.VIEWER]
    )
    assert user.roles == [Role.RELEASE_MANAGER, Role.VIEWER]
    assert user.check_password(GOOD_PASSWORD)
    event = AuditEvent.objects.get(event_type="user.created", object_id=str(user.pk))
    assert event.actor == admin_user
    assert event.new_data["roles"] == ["release_manager", "viewer"]
    assert "password" not in event.new_data


def test_admin_role_gives_access_to_django_admin(admin_user):
    user = services.user_create(actor=admin_user, username="root2", password=GOOD_PASSWORD, roles=[Role.ADMIN])
    assert user.is_staff


@pytest.mark.parametrize(
    ("username", "password", "roles", "field"),
    [
        ("", GOOD_PASSWORD, [], "username"),
        ("x" * 151, GOOD_PASSWORD, [], "username"),
        ("bob", "short", [], "password"),
        ("bob", "1234567890123", [], "password"),
        ("bob", "password123", [], "password"),
        ("bob", GOOD_PASSWORD, ["astronaut"], "roles"),
    ],
)
def test_user_create_refuses_bad_input_and_changes_nothing(admin_user, username, password, roles, field):
    before = (User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(actor=admin_user, username=username, password=password, roles=roles)
    assert caught.value.errors[0]["field"] == field
    assert (User.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_username_is_a_conflict_whatever_the_case(admin_user):
    services.user_create(actor=admin_user, username="Dana", password=GOOD_PASSWORD, roles=[])
    with pytest.raises(Conflict, match="already exists"):
        services.user_create(actor=admin_user, username="dana", password=GOOD_PASSWORD, roles=[])


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMIN])
def test_only_administrators_create_users(make_user, role):
    actor = make_user(role)
    with pytest.raises(PermissionDenied):
        services.user_create(actor=actor, username="new", password=GOOD_PASSWORD, roles=[])
    assert not User.objects.filter(username="new").exists()


def test_user_update_with_stale_version_is_refused_and_changes_nothing(admin_user, make_user):
    subject = make_user(Role.VIEWER)
    services.user_update(actor=admin_user, user=subject, version=1, email="first@example.com")
    stale = User.objects.get(pk=subject.pk)
    stale.version = 1
    with pytest.raises(StaleVersion):
        services.user_update(actor=admin_user, user=stale, version=1, email="second@example.com")
    subject.refresh_from_db()
    assert subject.email == "first@example.com"
    assert subject.version == 2
    assert AuditEvent.objects.filter(event_type="user.updated").count() == 1


def test_user_update_records_only_what_changed(admin_user, make_user):
    subject = make_user(Role.VIEWER, email="same@example.com")
    services.user_update(
        actor=admin_user, user=subject, version=1, email="same@example.com", roles=[Role.QUALITY_MANAGER]
    )
    event = AuditEvent.objects.get(event_type="user.updated")
    assert event.old_data == {"roles": ["viewer"]}
    assert event.new_data == {"roles": ["quality_manager"]}


def test_administrators_cannot_lock_themselves_out(admin_user):
    with pytest.raises(ValidationFailed, match="your own administrator role"):
        services.user_update(actor=admin_user, user=admin_user, version=1, is_active=False)
    with pytest.raises(ValidationFailed):
        services.user_update(actor=admin_user, user=admin_user, version=1, roles=[Role.VIEWER])


def test_token_is_returned_once_and_only_its_digest_is_stored(release_manager):
    token, raw = services.api_token_create(actor=release_manager, user=release_manager, name="ci")
    assert raw.startswith("ld_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.digest, stored.prefix)
    assert stored.prefix == raw[:10]
    assert services.api_token_authenticate(raw) == release_manager


def test_expired_and_revoked_tokens_do_not_authenticate(release_manager):
    token, raw = services.api_token_create(actor=release_manager, user=release_manager, name="ci", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.api_token_authenticate(raw) is None
    token2, raw2 = services.api_token_create(actor=release_manager, user=release_manager, name="ci2")
    services.api_token_revoke(actor=release_manager, token=token2)
    assert services.api_token_authenticate(raw2) is None
    assert services.api_token_authenticate("ld_not-a-real-token") is None
    assert services.api_token_authenticate("") is None


def test_a_token_authenticates_exactly_when_the_active_rule_lists_it(release_manager):
    """`api_token_authenticate` states `ApiToken.objects.active()` in its own SQL: the two must agree."""
    now = timezone.now()
    raws = {}
    for name, expires, revoked in [
        ("live", now + datetime.timedelta(days=1), None),
        ("no expiry", None, None),
        ("expired", now - datetime.timedelta(seconds=1), None),
        ("revoked", now + datetime.timedelta(days=1), now),
    ]:
        token, raw = services.api_token_create(actor=release_manager, user=release_manager, name=name)
        ApiToken.objects.filter(pk=token.pk).update(expires_at=expires, revoked_at=revoked)
        raws[token.pk] = raw
    active = set(ApiToken.objects.active().values_list("pk", flat=True))
    authenticated = {pk for pk, raw in raws.items() if services.api_token_authenticate(raw) == release_manager}
    assert authenticated == active and len(active) == 2


def test_tokens_of_deactivated_users_do_not_authenticate(admin_user, release_manager):
    _, raw = services.api_token_create(actor=release_manager, user=release_manager, name="ci")
    services.user_update(actor=admin_user, user=release_manager, version=1, is_active=False)
    assert services.api_token_authenticate(raw) is None


def test_viewers_get_no_tokens_of_their_own_making(viewer):
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=viewer, user=viewer, name="mine")


def test_nobody_but_administrators_makes_tokens_for_others(release_manager, viewer, admin_user):
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=release_manager, user=viewer, name="for you")
    token, _ = services.api_token_create(actor=admin_user, user=viewer, name="for you")
    assert token.user == viewer


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_token_expiry_must_be_sensible(release_manager, days):
    with pytest.raises(ValidationFailed, match="between 1 and 3650"):
        services.api_token_create(actor=release_manager, user=release_manager, name="ci", expires_in_days=days)


def test_revoking_twice_is_a_conflict(release_manager):
    token, _ = services.api_token_create(actor=release_manager, user=release_manager, name="ci")
    services.api_token_revoke(actor=release_manager, token=token, reason="leaked")
    with pytest.raises(Conflict):
        services.api_token_revoke(actor=release_manager, token=token)
    event = AuditEvent.objects.get(event_type="api_token.revoked")
    assert event.reason == "leaked"


def test_people_cannot_revoke_each_others_tokens(release_manager, make_user):
    other = make_user(Role.QUALITY_MANAGER)
    token, _ = services.api_token_create(actor=other, user=other, name="theirs")
    with pytest.raises(PermissionDenied):
        services.api_token_revoke(actor=release_manager, token=token)


def test_password_change_validates_and_audits_without_the_password(make_user):
    user = make_user(Role.VIEWER)
    with pytest.raises(ValidationFailed):
        services.user_set_password(actor=user, user=user, password="123")
    services.user_set_password(actor=user, user=user, password=GOOD_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    event = AuditEvent.objects.get(event_type="user.password_changed")
    assert event.new_data is None and event.old_data is None
