"""`launchdeck deployment record`, as a CI pipeline runs it: on the server itself, and against a server's API."""

import os
import subprocess
import sys

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.accounts.testing import bearer_token_for
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.cli import main
from launchdeck.environments.choices import EnvironmentStatus
from launchdeck.environments.models import Deployment, EnvironmentComponent
from launchdeck.environments.tests import conftest as environments_fixtures
from launchdeck.environments.tests.factories import EnvironmentFactory
from launchdeck.releases.tests.factories import ReleaseFactory


@pytest.fixture(autouse=True)
def keep_the_test_connection(request, monkeypatch):
    """A management command closes every connection when it ends; the test's own transaction must survive it.

    Tests against a live server commit for real and need no such care; their connections must close as usual.
    """
    from django.db import connections

    if "live_server" not in request.fixturenames:
        monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.fixture
def estate(db):
    return {"system": SystemFactory(name="Ledger"), "environment": EnvironmentFactory(name="SIT 1")}


unchanged = environments_fixtures.unchanged  # the app's own fixture: the block leaves every row as it was

RECORD = ["deployment", "record", "--system", "ledger", "--environment", "sit 1", "--version", "2.0.0"]


def refused(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 1
    return capsys.readouterr().err


def test_local_record_writes_through_the_service_and_says_what_it_recorded(capsys, estate):
    ReleaseFactory(name="2026.03")
    main([*RECORD, "--at", "2026-03-02T09:00:00Z", "--release", "2026.03", "--external-id", "run-7", "--change", "C1"])
    out = capsys.readouterr().out
    deployment = Deployment.objects.get()
    assert f"Recorded deployment {deployment.pk}: Ledger 2.0.0 to SIT 1 at 2026-03-02T09:00:00+00:00" in out
    assert "(succeeded, source ci, release 2026.03)" in out
    assert (deployment.source, deployment.external_id, deployment.change_reference) == ("ci", "run-7", "C1")
    assert EnvironmentComponent.objects.get().version == "2.0.0"
    event = AuditEvent.objects.get(event_type="deployment.recorded")
    assert event.source == "cli" and event.actor_name.startswith("cli:")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--system", "Ledgr"], "system: No system named 'Ledgr'."),
        (["--environment", "Nowhere"], "environment: No environment named 'Nowhere'."),
        (["--version", "x" * 10_000], "version: A version is at most 100 characters; this one has 10,000."),
        (["--at", "yesterday"], "deployed_at: 'yesterday' is not an ISO 8601 time."),
        (["--at", "2026-03-02T09:00:00"], "deployed_at: Give the time of the deployment with its time zone."),
        (["--release", "Nope"], "release: No release named 'Nope'."),
    ],
)
def test_local_refusals_exit_non_zero_with_the_reason_and_record_nothing(capsys, estate, unchanged, extra, message):
    with unchanged():
        err = refused(capsys, *RECORD, *extra)
    assert message in err


def test_local_record_into_a_decommissioned_environment_is_refused(capsys, estate, unchanged):
    EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    with unchanged():
        err = refused(capsys, *RECORD, "--environment", "old uat")
    assert "environment: Old UAT is decommissioned: it takes no deployments." in err


def test_a_repeated_pipeline_run_is_refused(capsys, estate):
    main([*RECORD, "--external-id", "run-7"])
    err = refused(capsys, *RECORD, "--external-id", "run-7")
    assert "A deployment from source ci with external id 'run-7' is already recorded." in err
    assert Deployment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_server_mode_posts_to_the_api_with_a_token(capsys, live_server, make_user, monkeypatch):
    SystemFactory(name="Ledger")
    EnvironmentFactory(name="SIT 1")
    token = bearer_token_for(make_user(Role.SERVICE_MANAGER, username="pipeline"))
    monkeypatch.setenv("LAUNCHDECK_TOKEN", token)
    main([*RECORD, "--server", live_server.url, "--outcome", "failed", "--at", "2026-03-02T10:00:00+01:00"])
    out = capsys.readouterr().out
    deployment = Deployment.objects.get()
    assert f"Recorded deployment {deployment.pk}: Ledger 2.0.0 to SIT 1 at 2026-03-02T09:00:00Z (failed" in out
    assert deployment.recorded_by.username == "pipeline"
    assert AuditEvent.objects.get(event_type="deployment.recorded").source == "api"

    err = refused(capsys, *RECORD, "--server", live_server.url, "--system", "Ledgr")
    assert "No system named 'Ledgr'. (422)" in err
    viewer_token = bearer_token_for(make_user(Role.VIEWER, username="watcher"))
    err = refused(capsys, *RECORD, "--server", live_server.url + "/", "--token", viewer_token)
    assert "(403)" in err
    assert Deployment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_runner_needs_no_installation_of_its_own(live_server, make_user, tmp_path):
    """On a runner with no settings at all (no secret key, no database, not even a working folder of Launchdeck's),
    server mode records the deployment, and a usage mistake is shown by the command's own parser."""
    SystemFactory(name="Ledger")
    EnvironmentFactory(name="SIT 1")
    token = bearer_token_for(make_user(Role.SERVICE_MANAGER, username="runner"))
    bare = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LAUNCHDECK_TOKEN": token}

    def run(*argv):
        command = [sys.executable, "-m", "launchdeck", *argv]
        return subprocess.run(command, env=bare, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    recorded = run(*RECORD, "--server", live_server.url, "--external-id", "run-9")
    assert recorded.returncode == 0, recorded.stderr
    deployment = Deployment.objects.get(external_id="run-9")
    assert recorded.stdout.startswith(f"Recorded deployment {deployment.pk}: Ledger 2.0.0 to SIT 1 at ")
    assert deployment.recorded_by.username == "runner"

    mistaken = run("deployment", "record", "--system", "Ledger", "--version", "2.0.1", "--server", live_server.url)
    assert mistaken.returncode == 2
    assert "the following arguments are required: --environment" in mistaken.stderr
    assert "SECRET_KEY" not in mistaken.stderr
    assert Deployment.objects.count() == 1


def test_server_mode_needs_a_token_and_a_reachable_server(capsys, db, monkeypatch):
    monkeypatch.delenv("LAUNCHDECK_TOKEN", raising=False)
    assert "Give an API token" in refused(capsys, *RECORD, "--server", "http://127.0.0.1:9")
    assert "Cannot reach http://127.0.0.1:9/api/v1/deployments" in refused(
        capsys, *RECORD, "--server", "http://127.0.0.1:9", "--token", "ld_nothing"
    )
