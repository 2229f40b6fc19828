"""The `launchdeck` command, as an operator and a CI pipeline use it."""

import subprocess
import sys
from pathlib import Path

import pytest

from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.accounts.testing import ApiClient
from launchdeck.audit.models import AuditEvent
from launchdeck.cli import main

LAUNCHDECK = str(Path(sys.executable).with_name("launchdeck"))
PASSWORD = "a-perfectly-fine-passphrase"


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    """A management command closes every connection when it ends; the test's own transaction must survive it."""
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


def run(capsys, *argv) -> list[str]:
    main(list(argv))
    return capsys.readouterr().out.strip().splitlines()


def test_token_create_prints_the_token_alone_on_the_last_line_and_it_reads_the_api(capsys, viewer):
    lines = run(capsys, "token", "create", "--user", "viewer", "--name", "reporting", "--expires", "30")
    token = lines[-1]
    assert token.startswith("ld_") and " " not in token
    api = ApiClient(token)
    assert api.get("/users/me").json()["username"] == "viewer"
    assert api.get("/audit-events").status_code == 200


def test_a_viewer_token_gets_403_on_writes_and_a_revoked_token_401(capsys, viewer):
    token = run(capsys, "token", "create", "--user", "viewer")[-1]
    api = ApiClient(token)
    response = api.post("/users", {"username": "sneaky", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["detail"] == "Your roles are read-only: you cannot change anything."
    token_id = ApiToken.objects.get(user=viewer).pk
    assert "revoked" in run(capsys, "token", "revoke", str(token_id), "--reason", "test")[-1]
    assert api.get("/users/me").status_code == 401


def test_token_revoke_also_takes_the_token_itself(capsys, release_manager):
    token = run(capsys, "token", "create", "--user", "release_manager")[-1]
    run(capsys, "token", "revoke", token)
    assert ApiToken.objects.get(user=release_manager).state == "revoked"


def test_token_list_never_shows_tokens(capsys, release_manager):
    token = run(capsys, "token", "create", "--user", "release_manager", "--name", "nightly")[-1]
    listing = "\n".join(run(capsys, "token", "list"))
    assert "nightly" in listing and token[:10] in listing and token not in listing


def test_cli_writes_are_audited_with_the_operator(capsys, db):
    run(capsys, "user", "create", "ops", "--role", "environment_manager", "--password", PASSWORD)
    event = AuditEvent.objects.get(event_type="user.created")
    assert event.source == "cli"
    assert event.actor is None and event.actor_name.startswith("cli:")
    assert User.objects.get(username="ops").roles == [Role.ENVIRONMENT_MANAGER]


def test_cli_errors_are_clear_and_change_nothing(capsys, db):
    from django.core.management.base import CommandError

    with pytest.raises(SystemExit) as exited:
        main(["user", "create", "weak", "--password", "123"])
    assert exited.value.code == 1
    assert "password" in capsys.readouterr().err.lower()
    with pytest.raises((SystemExit, CommandError)):
        main(["token", "create", "--user", "nobody"])
    assert "No user named 'nobody'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["token", "create", "--user", "ghost", "--expires", "0"])
    assert not User.objects.exists() and not AuditEvent.objects.exists()


def test_user_set_roles_and_list(capsys, make_user):
    make_user(Role.VIEWER, username="pat")
    run(capsys, "user", "set-roles", "pat", "--role", "project_manager", "--role", "quality_manager")
    listing = "\n".join(run(capsys, "user", "list"))
    assert "project_manager,quality_manager" in listing


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["demo"], ["user"], ["user", "create"], ["token"], ["token", "create"], ["bench"]]
)
def test_every_command_has_help(command):
    result = subprocess.run([LAUNCHDECK, *command, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_python_dash_m_launchdeck_works():
    result = subprocess.run([sys.executable, "-m", "launchdeck", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "serve" in result.stdout


def test_django_commands_pass_through(capsys, db):
    main(["check"])
    assert "no issues" in capsys.readouterr().out
