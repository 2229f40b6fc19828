"""Recording deployments through the API: one at a time from one client, and in bulk.

Data: 200 systems, 100 environments (each with components), 100,000 deployments already recorded. One client (a
service manager's bearer token, through the whole Django stack) posts 2,000 deployments one by one to
POST /api/v1/deployments (each succeeded, with a pipeline run id, most of them moving a component), then 5 batches of
5,000 to POST /api/v1/deployments/bulk. Targets: at least 300 deployments per second one by one, and the bulk
endpoint at least 10 times that. The client runs in the same process as the application (SQLite too), so the rates
are also given per second of the process's CPU time, which other work on the machine inflates less than wall time.
"""

import datetime
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, setup

SYSTEMS, ENVIRONMENTS, EXISTING = 200, 100, 100_000
SINGLE, BULK_BATCHES, BULK_SIZE = 2_000, 5, 5_000


def main() -> None:
    setup(__doc__.splitlines()[0])
    from django.test import Client
    from django.utils import timezone

    from launchdeck.accounts.roles import Role
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.accounts.tests.factories import UserFactory
    from launchdeck.catalog.models import System
    from launchdeck.environments.models import Deployment, Environment, EnvironmentComponent
    from launchdeck.org.tests.factories import TeamFactory

    rng = random.Random(6)
    team = TeamFactory(name="Platform")
    systems = System.objects.bulk_create(System(name=f"System {n:03}", owner_team=team) for n in range(SYSTEMS))
    now = timezone.now()
    environments = Environment.objects.bulk_create(
        Environment(name=f"Environment {n:03}", environment_type="sit", owner_team=team, status_since=now)
        for n in range(ENVIRONMENTS)
    )
    EnvironmentComponent.objects.bulk_create(
        EnvironmentComponent(
            environment=environment, system=system, version="1.0.0", deployed_at=now - datetime.timedelta(days=2)
        )
        for environment in environments
        for system in rng.sample(systems, 20)
    )
    start = now - datetime.timedelta(days=365)
    Deployment.objects.bulk_create(
        (
            Deployment(
                system=rng.choice(systems),
                environment=rng.choice(environments),
                version=f"0.{n % 50}.{n % 7}",
                deployed_at=start + datetime.timedelta(minutes=5 * n),
                source="ci",
                external_id=f"old-{n}",
            )
            for n in range(EXISTING)
        ),
        batch_size=5_000,
    )
    user = UserFactory(username="pipeline", roles=[Role.SERVICE_MANAGER])
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(user)}"})

    since = now - datetime.timedelta(days=1)  # every new deployment is newer than the components' versions

    def row(n: int, prefix: str) -> dict:
        return {
            "system": systems[n % SYSTEMS].name,
            "environment": environments[(n * 7) % ENVIRONMENTS].name,
            "version": f"2.{n // 1000}.{n % 1000}",
            "deployed_at": (since + datetime.timedelta(seconds=n)).isoformat(),
            "source": "ci",
            "external_id": f"{prefix}-{n}",
        }

    def post(path: str, body: dict, expected: int = 201) -> None:
        response = client.post(path, json.dumps(body), content_type="application/json")
        assert response.status_code == expected, response.content[:300]

    print(
        f"data: {SYSTEMS} systems, {ENVIRONMENTS} environments, {EnvironmentComponent.objects.count():,} components, "
        f"{Deployment.objects.count():,} deployments; {machine()}"
    )
    for n in range(20):  # warm-up
        post("/api/v1/deployments", row(n, "warm"))

    samples = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for n in range(SINGLE):
        began = time.perf_counter()
        post("/api/v1/deployments", row(n, "single"))
        samples.append((time.perf_counter() - began) * 1000)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    samples.sort()
    single_rate = SINGLE / elapsed
    print(
        f"{'POST /api/v1/deployments, one by one':<48} {single_rate:8.0f} per second   median "
        f"{statistics.median(samples):6.2f} ms   p95 {samples[int(len(samples) * 0.95) - 1]:6.2f} ms"
        f"   ({SINGLE:,} calls; {SINGLE / cpu:.0f} per second of CPU time)"
    )

    served_rate = served(row, bearer_token_for(user))

    batches, cpu_batches = [], []
    for batch in range(BULK_BATCHES):
        body = {"rows": [row(batch * BULK_SIZE + n, "bulk") for n in range(BULK_SIZE)]}
        began, cpu_began = time.perf_counter(), time.process_time()
        post("/api/v1/deployments/bulk", body)
        batches.append(time.perf_counter() - began)
        cpu_batches.append(time.process_time() - cpu_began)
    bulk_rate = BULK_SIZE / statistics.median(batches)
    print(
        f"{'POST /api/v1/deployments/bulk, 5,000 a batch':<48} {bulk_rate:8.0f} per second   median "
        f"{statistics.median(batches) * 1000:8.1f} ms a batch   ({BULK_BATCHES} batches; "
        f"{BULK_SIZE / statistics.median(cpu_batches):.0f} per second of CPU time)"
    )
    print(
        f"bulk / one by one: {bulk_rate / single_rate:.1f}x in process, {bulk_rate / served_rate:.1f}x served; "
        f"deployments now {Deployment.objects.count():,}"
    )
    print(f"load average while it ran: {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


def served(row, token: str) -> float:
    """Post SINGLE deployments one by one to a served Launchdeck (`launchdeck serve`: gunicorn, as in production)
    on the same database, from this process as the client (HTTP/1.1, one kept-alive connection); print the rate."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "LAUNCHDECK_ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "launchdeck", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post(body: dict) -> None:
            connection.request("POST", "/api/v1/deployments", json.dumps(body), headers)
            response = connection.getresponse()
            content = response.read()
            assert response.status == 201, content[:300]

        for _ in range(200):  # until the server answers
            try:
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                break
            except OSError:
                connection.close()
                time.sleep(0.1)
        else:
            raise RuntimeError(f"`launchdeck serve` did not answer on port {port} within 20 seconds.")
        for n in range(20):  # warm-up: every worker process and thread
            post(row(n, "served-warm"))
        samples = []
        started = time.perf_counter()
        for n in range(SINGLE):
            began = time.perf_counter()
            post(row(n, "served"))
            samples.append((time.perf_counter() - began) * 1000)
        rate = SINGLE / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
    samples.sort()
    print(
        f"{'POST /api/v1/deployments, served, one by one':<48} {rate:8.0f} per second   median "
        f"{statistics.median(samples):6.2f} ms   p95 {samples[int(len(samples) * 0.95) - 1]:6.2f} ms"
        f"   ({SINGLE:,} calls from a client process to `launchdeck serve`)"
    )
    return rate


if __name__ == "__main__":
    main()
