"""No environment is ever booked beyond its capacity, whatever the number of parallel requests: proved against a real
server process (gunicorn, several workers and threads) on a file SQLite database, and on a fresh PostgreSQL database
when the test run itself is on PostgreSQL."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from launchdeck.environments.rules import Held, overbooked

pytestmark = pytest.mark.live

REQUESTS = 60
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SETUP = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from launchdeck.accounts import services as accounts
    from launchdeck.audit.context import audit_context
    from launchdeck.environments.models import Environment
    from launchdeck.org.models import Department, Team
    from django.utils import timezone

    with audit_context("cli", operator="concurrency-setup"):
        tokens = []
        for index in range(4):
            user = accounts.user_create(
                actor=None, username=f"planner{index}", password="a-perfectly-fine-passphrase",
                roles=["project_manager"],
            )
            tokens.append(accounts.api_token_create(actor=None, user=user, name="concurrency")[1])
        department = Department.objects.create(name="Platform")
        team = Team.objects.create(name="Environments", department=department)
        environment = Environment.objects.create(
            name="SIT shared", environment_type="sit", owner_team=team, capacity=2, status_since=timezone.now()
        )
    print(json.dumps({"tokens": tokens, "environment": environment.pk}))
    """
)

STORED = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from launchdeck.environments.choices import LIVE_BOOKING_STATUSES
    from launchdeck.environments.models import EnvironmentBooking
    rows = EnvironmentBooking.objects.filter(status__in=LIVE_BOOKING_STATUSES).values_list(
        "pk", "starts_at", "ends_at", "usage"
    )
    print(json.dumps([[pk, start.isoformat(), end.isoformat(), usage] for pk, start, end, usage in rows]))
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_database():
    """A fresh database on the test run's PostgreSQL server: (url, drop function)."""
    import psycopg

    settings = connection.settings_dict
    name = f"ld_bookings_live_{uuid.uuid4().hex[:8]}"
    params = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    url = f"postgres://{settings['USER']}{password}@{params['host']}:{params['port']}/{name}"

    def drop():
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path, db):
    """A running `launchdeck serve` on its own database, with four planners' tokens and a capacity-2 environment.

    Asks for `db` (unused otherwise) so that the PostgreSQL leg runs it: that leg skips tests that cannot reach the
    database, and this one needs the leg's server to make its own fresh database."""
    drop = None
    if request.param != connection.vendor:
        pytest.skip(f"the {request.param} server runs on the {request.param} leg of the test run")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/bookings.sqlite3"
    else:
        url, drop = _postgres_database()
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "launchdeck.config.settings",
        "LAUNCHDECK_DATABASE_URL": url,
        "LAUNCHDECK_DATA_DIR": str(tmp_path),
        "LAUNCHDECK_DEBUG": "0",
        "LAUNCHDECK_SECRET_KEY": "booking-concurrency-test-secret-key-0123456789-abcdef",
        "LAUNCHDECK_LOG_LEVEL": "WARNING",
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, check=True, capture_output=True, text=True, timeout=300
    )
    data = json.loads(setup.stdout.strip().splitlines()[-1])
    process = subprocess.Popen(
        [sys.executable, "-m", "launchdeck", "serve", "--port", str(port), "--workers", "3", "--threads", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _call(base, "GET", "/bookings", data["tokens"][0])
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("The server did not start: " + (process.stderr.read() if process.poll() else ""))
            time.sleep(0.3)
        yield {"base": base, "env": env, **data}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if drop is not None:
            drop()


def _call(base: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _fire(server, windows: list[tuple[datetime, datetime, str]]) -> list[tuple[int, dict]]:
    def book(index_window):
        index, (start, end, usage) = index_window
        body = {
            "environment_id": server["environment"],
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat(),
            "usage": usage,
        }
        return _call(server["base"], "POST", "/bookings", server["tokens"][index % len(server["tokens"])], body)

    with ThreadPoolExecutor(max_workers=24) as pool:
        return list(pool.map(book, enumerate(windows)))


def _stored(server) -> list[Held]:
    out = subprocess.run(
        [sys.executable, "-c", STORED], env=server["env"], check=True, capture_output=True, text=True, timeout=120
    )
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return [
        Held(pk, datetime.fromisoformat(start), datetime.fromisoformat(end), usage) for pk, start, end, usage in rows
    ]


def test_parallel_requests_never_book_an_environment_beyond_its_capacity(server):
    # Sixty shared requests for the same window of a capacity-2 environment: exactly two can be had.
    same = [(MONDAY, MONDAY + timedelta(days=5), "shared")] * REQUESTS
    results = _fire(server, same)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 2 + [409] * (REQUESTS - 2), statuses
    for status, body in results:
        if status == 409:
            assert (
                "SIT shared is already booked for this window (capacity 2): it clashes with booking" in body["detail"]
            )
    assert sum(len(body) for status, body in results if status == 201) == 2

    # Sixty overlapping requests of mixed usage, staggered by the hour, a week later.
    later = MONDAY + timedelta(days=7)
    mixed = [
        (
            later + timedelta(hours=index),
            later + timedelta(hours=index + 20),
            "exclusive" if index % 3 == 0 else "shared",
        )
        for index in range(REQUESTS)
    ]
    results = _fire(server, mixed)
    assert {status for status, _ in results} <= {201, 409}
    created = [body[0]["id"] for status, body in results if status == 201]
    assert created and len(created) < REQUESTS

    stored = _stored(server)
    assert len(stored) == 2 + len(created)
    assert overbooked(2, stored) == set()
    # At no instant more than the capacity, and an exclusive booking beside nothing: checked at every booking edge.
    for instant in sorted({held.start for held in stored}):
        running = [held for held in stored if held.start <= instant < held.end]
        assert len(running) <= 2
        assert len(running) == 1 or all(held.usage == "shared" for held in running)
