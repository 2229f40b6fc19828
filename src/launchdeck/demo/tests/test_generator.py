import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.demo.generator import DEMO_PASSWORD, load_demo


def _snapshot():
    return sorted(User.objects.values_list("username", "first_name", "last_name")), sorted(
        User.objects.values_list("username", "role_assignments__role")
    )


def test_one_user_per_role_named_after_it_with_the_demo_password(db):
    load_demo(preset="demo", seed=1)
    for role in Role.values:
        user = User.objects.get(username=role)
        assert user.roles == [role]
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_staff


class _Rollback(Exception):
    pass


def _load_and_snapshot(seed: int):
    """Load a preset, read it back, and roll it all back so the next load starts from empty again."""
    try:
        with transaction.atomic():
            load_demo(preset="demo", seed=seed)
            snapshot = _snapshot()
            raise _Rollback
    except _Rollback:
        return snapshot


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(db):
    assert _load_and_snapshot(42) == _load_and_snapshot(42)
    assert _load_and_snapshot(42) != _load_and_snapshot(43)
    assert not User.objects.exists()


def test_demo_goes_through_the_services_and_leaves_audit_events(db):
    load_demo(preset="demo", seed=1)
    created = AuditEvent.objects.filter(event_type="user.created")
    assert created.count() == len(Role.values)
    assert set(created.values_list("actor_name", flat=True)) == {"demo-loader"}
    assert AuditEvent.objects.filter(event_type="api_token.revoked", reason="Script retired").exists()


def test_the_command_refuses_a_non_empty_database_unless_told_to_skip(db, capsys):
    call_command("demo", "--preset", "demo")
    out = capsys.readouterr().out
    assert "users (one per role)" in out and DEMO_PASSWORD in out
    with pytest.raises(CommandError, match="not empty"):
        call_command("demo", "--preset", "demo")
    call_command("demo", "--preset", "demo", "--if-empty")
    assert "not loaded" in capsys.readouterr().out
