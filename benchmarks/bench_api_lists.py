"""API list endpoints on enterprise-sized accounts and audit data.

Data: the enterprise preset's users plus 200,000 audit events. Measures a page of 50 from
GET /api/v1/users and GET /api/v1/audit-events (filtered and unfiltered), through the whole Django stack.
"""

import datetime
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup

AUDIT_EVENTS = 200_000


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.test import Client
    from django.utils import timezone

    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.audit.models import AuditEvent
    from launchdeck.demo.generator import load_demo

    load_demo(preset="enterprise", seed=1)
    rng = random.Random(7)
    users = list(User.objects.values_list("pk", "username"))
    start = timezone.now() - datetime.timedelta(days=365)
    kinds = ["user.updated", "api_token.created", "release.rescheduled", "booking.requested", "change_request.approved"]
    batch = []
    for index in range(AUDIT_EVENTS):
        actor_id, actor_name = rng.choice(users)
        batch.append(
            AuditEvent(
                occurred_at=start + datetime.timedelta(seconds=index * 150),
                actor_id=actor_id,
                actor_name=actor_name,
                source=rng.choice(["web", "api", "cli"]),
                event_type=rng.choice(kinds),
                object_type="accounts.user",
                object_id=str(rng.choice(users)[0]),
                object_repr="bench",
            )
        )
        if len(batch) == 10_000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    admin = User.objects.get(username="admin")
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(admin)}"})

    def get(path, **params):
        def call():
            response = client.get(path, params)
            assert response.status_code == 200, response.content[:200]

        return call

    print(f"data: {User.objects.count():,} users, {AuditEvent.objects.count():,} audit events; {machine()}")
    measure("GET /api/v1/users?limit=50", get("/api/v1/users", limit=50), runs=args.runs)
    measure("GET /api/v1/audit-events?limit=50", get("/api/v1/audit-events", limit=50), runs=args.runs)
    measure(
        "GET /api/v1/audit-events?event_type=user&actor=…",
        get("/api/v1/audit-events", event_type="user", actor=users[5][1], limit=50),
        runs=args.runs,
    )
    measure(
        "GET /api/v1/audit-events?object_type=&object_id=",
        get("/api/v1/audit-events", object_type="accounts.user", object_id=str(users[3][0]), limit=50),
        runs=args.runs,
    )


if __name__ == "__main__":
    main()
