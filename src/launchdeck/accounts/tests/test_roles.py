import pytest

from launchdeck.accounts.roles import ROLE_PERMISSIONS, ROLE_SUMMARIES, Role, role_grants, roles_may_write


def test_every_role_has_a_row_and_a_summary():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    assert set(ROLE_SUMMARIES) == set(Role.values)


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_everything(role):
    assert role_grants(role, "releases.view_release")
    assert role_grants(role, "audit.view_auditevent")


def test_viewer_writes_nothing():
    assert not roles_may_write([Role.VIEWER])
    assert not role_grants(Role.VIEWER, "accounts.add_apitoken")
    assert not role_grants(Role.VIEWER, "releases.change_release")


def test_roles_write_only_their_own_domain():
    assert role_grants(Role.RELEASE_MANAGER, "releases.change_release")
    assert not role_grants(Role.RELEASE_MANAGER, "environments.add_environment")
    assert role_grants(Role.ENVIRONMENT_MANAGER, "environments.add_booking")
    assert not role_grants(Role.ENVIRONMENT_MANAGER, "accounts.add_user")
    assert role_grants(Role.ADMIN, "accounts.add_user")


def test_has_perm_uses_the_role_table(make_user):
    manager = make_user(Role.SERVICE_MANAGER)
    assert manager.has_perm("changes.add_changerequest")
    assert not manager.has_perm("accounts.change_user")
    nobody = make_user()
    assert not nobody.has_perm("audit.view_auditevent")
