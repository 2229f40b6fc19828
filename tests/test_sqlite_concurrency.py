"""Concurrent writers on the embedded SQLite database queue up instead of failing with "database is locked"."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="about the embedded SQLite database")

WRITER = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from django.db import transaction
    from launchdeck.accounts import services
    from launchdeck.accounts.models import User
    from launchdeck.audit.context import audit_context

    name = sys.argv[1]
    with audit_context("job", operator=name):
        for _ in range(20):
            # Read, then write, in one transaction: with deferred transactions two processes doing this
            # deadlock on the lock upgrade and one fails at once; with IMMEDIATE the second waits its turn.
            with transaction.atomic():
                user = User.objects.get(username="shared")
                services.user_update(actor=None, user=user, first_name=name)
    print("done", name)
    """
)


SETUP = textwrap.dedent(
    """
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from launchdeck.accounts import services
    services.user_create(actor=None, username="shared", password="a-perfectly-fine-passphrase", roles=[])
    """
)
CHECK = textwrap.dedent(
    """
    import django
    django.setup()
    from launchdeck.accounts.models import User
    from launchdeck.audit.models import AuditEvent
    from django.db import connection
    with connection.cursor() as cursor:
        journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    updates = AuditEvent.objects.filter(event_type="user.updated").count()
    print(User.objects.get(username="shared").version, updates, journal_mode)
    """
)


def test_parallel_processes_updating_one_row_all_succeed(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "launchdeck.config.settings",
        "LAUNCHDECK_DATABASE_URL": f"sqlite:///{tmp_path}/concurrent.sqlite3",
        "LAUNCHDECK_SECRET_KEY": "concurrency-test-secret-key-0123456789-abcdef",
        "LAUNCHDECK_LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=120)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"w{index}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(4)
    ]
    results = [(*writer.communicate(timeout=180), writer.returncode) for writer in writers]
    assert [code for _, _, code in results] == [0, 0, 0, 0], [err[-500:] for _, err, _ in results]
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, check=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["81", "80", "wal"]
