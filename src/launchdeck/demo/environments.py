"""Demo environments: the estate, its status history, bookings, environment requests, deployments and versions.

Everything here is worked out in memory first, then written with bulk inserts (the deployments of the enterprise
preset, a million of them, with the database's fastest path: COPY on PostgreSQL, one `executemany` on SQLite).
The rows are shaped as the services would leave them, but written directly, so the generator needs none of them.

The data draws on the release plan already loaded: each phase that needs an environment (`Phase.environment_type`)
books one of that type, in the lane of the release's system family where it can; the versions deployed follow the
releases' target versions (release candidates in test while a release is in flight, the release itself in
production on its deploy day); environment requests fall due the last working day before the phase that needs them.

Bookings keep every environment within its capacity by the one rule (`environments.rules.clashes`), except a few
deliberate conflicts (two requested bookings overlapping on an exclusive environment) that the conflict report and the
schedule are there to show. Random draws come from a stream of their own, so the rest of the demo stays as it was for
the same seed, and nothing depends on database ids (they differ between loads on PostgreSQL).
"""

import datetime
import random
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from launchdeck.accounts.models import RoleAssignment
from launchdeck.accounts.roles import Role
from launchdeck.catalog.models import System
from launchdeck.environments import rules
from launchdeck.environments.choices import (
    BookingStatus,
    BookingUsage,
    DeploymentOutcome,
    DeploymentSource,
    EnvironmentCategory,
    EnvironmentStatus,
    Hosting,
    MaskingStatus,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
    EnvironmentStatusChange,
)
from launchdeck.org.calendars import team_calendar
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, FreezeScope
from launchdeck.releases.freezes import freezes_between
from launchdeck.releases.models import Phase, ReleaseSystem

BATCH = 5000
SIZES = {
    # demo: ~40 environments in 8 groups, a year of history, bookings over the past and next six months.
    "demo": {
        "lanes_per_family": 1,
        "bookings": 600,
        "booking_days": (-183, 183),
        "requests": 40,
        "deployments": 20_000,
        "conflicts": 1,
        "series": 1,
        "decommissioned": 1,
        "provisioning": 1,
    },
    # enterprise: 600 environments in 60 lanes, ~200 bookings each over the release plan's ~2.5 years.
    "enterprise": {
        "lanes_per_family": 15,
        "bookings": 120_000,
        "booking_days": (-580, 340),
        "requests": 1_500,
        "deployments": 1_000_000,
        "conflicts": 5,
        "series": 12,
        "decommissioned": 6,
        "provisioning": 6,
    },
}
DEPLOYMENT_DAYS = 365
HISTORY_DAYS = 365
# Families of systems, by the noun their names start with: each has its lanes, its production and its DR.
FAMILIES = (
    ("Payments", ("Payments Hub", "Card Switch", "Fraud Engine", "FX Engine", "Treasury Gateway", "Trade Finance")),
    (
        "Retail",
        (
            "Mobile Banking",
            "Web Banking",
            "Branch Desktop",
            "Contact Centre",
            "Onboarding",
            "Notifications",
            "Savings",
            "Statements",
        ),
    ),
    ("Lending", ("Loan Origination", "Mortgages", "Collections", "Pricing", "Risk Engine", "KYC")),
    (
        "Core",
        (
            "Ledger",
            "General Ledger",
            "Customer Master",
            "Market Data",
            "Data Warehouse",
            "Reporting Portal",
            "Document Store",
            "Identity",
            "API Gateway",
            "Batch Scheduler",
        ),
    ),
)
COST_PER_DAY = {
    EnvironmentType.DEV: (80, 150),
    EnvironmentType.SIT: (250, 400),
    EnvironmentType.UAT: (300, 500),
    EnvironmentType.PERFORMANCE: (800, 1200),
    EnvironmentType.STAGING: (500, 800),
    EnvironmentType.PRODUCTION: (1500, 2500),
    EnvironmentType.DR: (700, 1100),
}
# (status, share of incidents, hours (shortest, longest), notes)
INCIDENTS = (
    (
        EnvironmentStatus.DOWN,
        30,
        (1, 30),
        ("Database host failed over and did not come back", "Storage full after a log storm", "Expired certificate"),
    ),
    (
        EnvironmentStatus.DEGRADED,
        35,
        (2, 48),
        ("Message queue backlog slows every test", "One application node out of the pool", "Stub service flapping"),
    ),
    (
        EnvironmentStatus.MAINTENANCE,
        35,
        (6, 36),
        ("Operating system patching", "Middleware upgrade", "Planned data refresh", "Network change"),
    ),
)
PURPOSES = {
    EnvironmentType.DEV: ("Feature development", "Build verification", "Spike on the new interface"),
    EnvironmentType.SIT: ("System integration test", "Integration of the new interface", "Defect retest"),
    EnvironmentType.UAT: ("User acceptance test", "Business sign-off", "Acceptance retest"),
    EnvironmentType.PERFORMANCE: ("Load test", "Soak test", "Performance baseline"),
    EnvironmentType.STAGING: ("Dress rehearsal of the deployment", "Release candidate verification"),
    EnvironmentType.PRODUCTION: ("Production deployment window", "Production verification"),
    EnvironmentType.DR: ("Disaster recovery failover test", "DR rehearsal"),
}
TEAM_PURPOSES = {
    EnvironmentType.DEV: ("Sandbox for the platform team", "Tooling upgrade trial"),
    EnvironmentType.SIT: ("Regression run", "Interface contract test", "Automation suite maintenance"),
    EnvironmentType.UAT: ("Training for the operations team", "Regression run", "Accessibility audit"),
    EnvironmentType.PERFORMANCE: ("Capacity test", "Performance baseline after patching"),
    EnvironmentType.STAGING: ("Runbook rehearsal", "Patch verification"),
    EnvironmentType.PRODUCTION: ("Infrastructure patch window", "Certificate rotation"),
    EnvironmentType.DR: ("Disaster recovery failover test", "Backup restore test"),
}
REJECTION_NOTES = (
    "Clashes with the release's SIT window: please pick another slot.",
    "The environment is being rebuilt that week.",
    "Exclusive use for two weeks is too long; book the days you need.",
)
MASKING_TYPES = (EnvironmentType.UAT, EnvironmentType.PERFORMANCE, EnvironmentType.SIT)
SLA_DAYS = {
    RequestKind.PROVISIONING: 10,
    RequestKind.CONFIGURATION: 3,
    RequestKind.DATA_REFRESH: 5,
    RequestKind.DECOMMISSION: 5,
}
EFFORT_HOURS = {
    RequestKind.PROVISIONING: (40, 120),
    RequestKind.CONFIGURATION: (4, 24),
    RequestKind.DATA_REFRESH: (8, 40),
    RequestKind.DECOMMISSION: (8, 24),
}
# Shares of deployments into a test environment that fail or are rolled back; production deploys fail less often.
TEST_OUTCOMES = ((DeploymentOutcome.SUCCEEDED, 92), (DeploymentOutcome.FAILED, 5), (DeploymentOutcome.ROLLED_BACK, 3))
# How many deployments each kind of test environment gets, relative to the others.
DEPLOY_WEIGHTS = {
    EnvironmentType.DEV: 5,
    EnvironmentType.SIT: 3,
    EnvironmentType.UAT: 1.5,
    EnvironmentType.PERFORMANCE: 1,
    EnvironmentType.STAGING: 1,
}
LIVE_TYPES = (EnvironmentType.PRODUCTION, EnvironmentType.DR)


def _at(day: datetime.date, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


def _slug(name: str) -> str:
    return "".join(char if char.isalnum() else "-" for char in name.lower()).strip("-").replace("--", "-")


@dataclass(eq=False)
class _Env:
    """One environment as the generator means it, with the bookings it holds while they are placed."""

    name: str
    group: str
    environment_type: str
    capacity: int
    family: int
    lane: int
    category: str = EnvironmentCategory.NON_PRODUCTION
    hosting: str = Hosting.CLOUD
    systems: list = field(default_factory=list)
    fate: str = ""  # "", "decommissioned" or "provisioning"
    open_from: datetime.datetime | None = None
    open_until: datetime.datetime | None = None
    cost: Decimal = Decimal("0")
    team: object = None
    history: list = field(default_factory=list)  # (started_at, status, note, actor name)
    row: object = None
    # The bookings it holds, sorted by start, and the longest of them: what may overlap a new window.
    starts: list = field(default_factory=list)
    held: list = field(default_factory=list)
    longest: datetime.timedelta = datetime.timedelta(0)

    def fits(self, usage: str, start: datetime.datetime, end: datetime.datetime) -> bool:
        """Open for that window, and the window fits beside what it holds (by `rules.clashes`)."""
        if (self.open_from and start < self.open_from) or (self.open_until and end > self.open_until):
            return False
        first = bisect_left(self.starts, start - self.longest)
        last = bisect_left(self.starts, end)
        return not rules.clashes(self.capacity, usage, start, end, self.held[first:last])

    def hold(self, key, usage: str, start: datetime.datetime, end: datetime.datetime) -> None:
        index = bisect_right(self.starts, start)
        self.starts.insert(index, start)
        self.held.insert(index, rules.Held(key, start, end, usage))
        self.longest = max(self.longest, end - start)

    @property
    def usage(self) -> str:
        return BookingUsage.EXCLUSIVE if self.capacity == 1 else BookingUsage.SHARED


@dataclass(eq=False)
class _Booking:
    env: _Env
    start: datetime.datetime
    end: datetime.datetime
    usage: str
    purpose: str
    phase: tuple | None = None
    team_id: int | None = None
    status: str = ""
    series: uuid.UUID | None = None
    requester: object = None
    note: str = ""


@dataclass
class _Context:
    """What the environments draw on: the day, users by role, teams, systems, the release plan and the freezes."""

    rng: random.Random
    preset: str
    sizes: dict
    today: datetime.date
    now: datetime.datetime
    users: dict
    holders: dict
    teams: list
    env_teams: list
    systems: list  # (pk, name)
    phases: list  # (pk, release_id, kind, environment_type, start, end, release status, team id, release name, name)
    release_family: dict
    freezes: list
    envs: list = field(default_factory=list)
    bookings: list = field(default_factory=list)


def load_environments(*, preset: str, seed: int, users: dict, result) -> None:
    """Add the environments of `preset` to a demo whose release plan is loaded: the estate, bookings, requests and
    deployments, deterministic for `seed`."""
    sizes = SIZES[preset]
    today = datetime.date.today()
    context = _Context(
        rng=random.Random(f"{seed} environments"),
        preset=preset,
        sizes=sizes,
        today=today,
        # The day the demo is loaded, not the instant: two loads of the same seed on the same day agree.
        now=_at(today),
        users=users,
        holders=_holders(users),
        teams=list(Team.objects.select_related("department__calendar", "calendar").order_by("name")),
        env_teams=[],
        systems=list(System.objects.order_by("name").values_list("pk", "name")),
        phases=_phases(today, sizes),
        release_family=_release_families(),
        freezes=[],
    )
    context.env_teams = [team for team in context.teams if "Environments" in team.name or "Platform" in team.name]
    context.env_teams = context.env_teams or context.teams
    low, high = sizes["booking_days"]
    context.freezes = freezes_between(
        today + datetime.timedelta(days=low - 1),
        today + datetime.timedelta(days=high + 1),
        category=FreezeCategory.BOOKING,
    )
    _plan_estate(context)
    _plan_history(context)
    _write_estate(context, result)
    _plan_bookings(context)
    _mark_in_use(context)
    _write_history(context, result)
    _write_bookings(context, result)
    _write_requests(context, result)
    _write_deployments(context, result)


def _holders(users: dict) -> dict:
    """For each role: its demo user first, then the colleagues holding it (by username)."""
    holders = {role: [user] for role, user in users.items()}
    named = {user.pk for user in users.values()}
    rows = RoleAssignment.objects.exclude(user_id__in=named).select_related("user")
    for row in rows.order_by("user__username", "role"):
        holders.setdefault(row.role, []).append(row.user)
    return holders


def _phases(today: datetime.date, sizes: dict) -> list:
    """Phases that need an environment, of releases not in draft, overlapping the bookings' span, in date order."""
    low, high = sizes["booking_days"]
    rows = (
        Phase.objects.exclude(environment_type="")
        .exclude(release__status="draft")
        .filter(
            planned_end__gte=today + datetime.timedelta(days=low),
            planned_start__lte=today + datetime.timedelta(days=high),
        )
        .values_list(
            "pk",
            "release_id",
            "kind",
            "environment_type",
            "planned_start",
            "planned_end",
            "release__status",
            "release__project__owner_team_id",
            "release__name",
            "name",
        )
    )
    return sorted(rows, key=lambda row: (row[4], row[8], row[9]))


def _family_of(name: str) -> int:
    """The family of a system, by the longest noun its name starts with (the last family for the unknown)."""
    best, found = 0, len(FAMILIES) - 1
    for index, (_, nouns) in enumerate(FAMILIES):
        for noun in nouns:
            if name.startswith(noun) and len(noun) > best:
                best, found = len(noun), index
    return found


def _release_families() -> dict:
    """Each release's family: that of its first impacted system (by name)."""
    found = {}
    rows = ReleaseSystem.objects.filter(impact="impacted").values_list("release_id", "system__name")
    for release_id, name in sorted(rows, key=lambda row: (row[0], row[1])):
        found.setdefault(release_id, _family_of(name))
    return found


# The estate


def _plan_estate(context: _Context) -> None:
    """Lanes per system family (development, SIT, regression, UAT), production and DR per family, performance,
    staging and data environments; one decommissioned, one still being provisioned (more in the enterprise)."""
    rng, sizes = context.rng, context.sizes
    by_family: dict[int, list] = defaultdict(list)
    for pk, name in context.systems:
        by_family[_family_of(name)].append(pk)
    lanes = sizes["lanes_per_family"]
    envs = []
    if context.preset == "demo":
        for family, (label, _) in enumerate(FAMILIES):
            group = f"{label} lane"
            envs += [
                _Env(f"{label} DEV", group, EnvironmentType.DEV, 3, family, 0),
                _Env(f"{label} SIT A", group, EnvironmentType.SIT, 1, family, 0),
                _Env(f"{label} SIT B", group, EnvironmentType.SIT, 2, family, 0),
                _Env(f"{label} Regression", group, EnvironmentType.SIT, 3, family, 0),
                _Env(f"{label} UAT", group, EnvironmentType.UAT, 2, family, 0),
            ]
        envs += [
            _Env("Retail UAT legacy", "Retail lane", EnvironmentType.UAT, 1, 1, 0, fate="decommissioned"),
            _Env("Payments SIT C", "Payments lane", EnvironmentType.SIT, 1, 0, 0, fate="provisioning"),
            _Env("Lending UAT B", "Lending lane", EnvironmentType.UAT, 1, 2, 0),
        ]
        for family, (label, _) in enumerate(FAMILIES):
            envs.append(_Env(f"PROD {label}", "Production", EnvironmentType.PRODUCTION, 1, family, 0))
            envs.append(_Env(f"DR {label}", "Disaster recovery", EnvironmentType.DR, 1, family, 0))
        shared = "Performance and staging"
        envs += [
            _Env("PERF 1", shared, EnvironmentType.PERFORMANCE, 1, -1, 0),
            _Env("PERF 2", shared, EnvironmentType.PERFORMANCE, 1, -1, 0),
            _Env("STAGING 1", shared, EnvironmentType.STAGING, 1, -1, 0),
            _Env("STAGING 2", shared, EnvironmentType.STAGING, 1, -1, 0),
            _Env("Pre-production", shared, EnvironmentType.STAGING, 1, -1, 0, hosting=Hosting.HYBRID),
            _Env("Test data: masked production copy", "Test data", EnvironmentType.UAT, 3, -1, 0),
            _Env("Test data: synthetic", "Test data", EnvironmentType.SIT, 3, -1, 0),
            _Env("Analytics sandbox", "Test data", EnvironmentType.DEV, 2, -1, 0),
            _Env("Training", "Test data", EnvironmentType.UAT, 3, -1, 0),
        ]
        for env in envs:
            if env.group == "Test data" and env.name != "Training":
                env.category = EnvironmentCategory.DATA
            env.systems = list(by_family[env.family]) if env.family >= 0 else [pk for pk, _ in context.systems]
    else:
        for family, (label, _) in enumerate(FAMILIES):
            systems = by_family[family]
            for lane in range(lanes):
                group = f"{label} lane {lane + 1:02d}"
                name = f"{label} {lane + 1:02d}"
                last = (
                    _Env(f"DR {name}", group, EnvironmentType.DR, 1, family, lane)
                    if lane % 2 == 0
                    else _Env(f"Test data {name}", group, EnvironmentType.UAT, 3, family, lane)
                )
                lane_envs = [
                    _Env(f"{name} DEV", group, EnvironmentType.DEV, 3, family, lane),
                    _Env(f"{name} SIT A", group, EnvironmentType.SIT, 1, family, lane),
                    _Env(f"{name} SIT B", group, EnvironmentType.SIT, 2, family, lane),
                    _Env(f"{name} Regression", group, EnvironmentType.SIT, 3, family, lane),
                    _Env(f"{name} UAT A", group, EnvironmentType.UAT, 1, family, lane),
                    _Env(f"{name} UAT B", group, EnvironmentType.UAT, 2, family, lane),
                    _Env(f"{name} PERF", group, EnvironmentType.PERFORMANCE, 1, family, lane),
                    _Env(f"{name} STAGING", group, EnvironmentType.STAGING, 1, family, lane),
                    _Env(f"PROD {name}", group, EnvironmentType.PRODUCTION, 1, family, lane),
                    last,
                ]
                if last.environment_type == EnvironmentType.UAT:
                    last.category = EnvironmentCategory.DATA
                for env in lane_envs:
                    env.systems = systems[lane::lanes]
                envs += lane_envs
        # A few retired and a few being built, spread over the lanes.
        uat_b = [env for env in envs if env.name.endswith("UAT B")]
        sit_b = [env for env in envs if env.name.endswith("SIT B")]
        for env in rng.sample(uat_b, sizes["decommissioned"]):
            env.fate = "decommissioned"
        for env in rng.sample(sit_b, sizes["provisioning"]):
            env.fate = "provisioning"
    teams = context.env_teams
    for index, env in enumerate(envs):
        if env.environment_type in LIVE_TYPES:
            env.category = EnvironmentCategory.PRODUCTION
            env.hosting = rng.choice([Hosting.PHYSICAL, Hosting.HYBRID])
        elif env.hosting == Hosting.CLOUD and rng.random() < 0.15:
            env.hosting = rng.choice([Hosting.PHYSICAL, Hosting.HYBRID])
        low, high = COST_PER_DAY[env.environment_type]
        env.cost = Decimal(rng.randrange(low, high + 1, 10))
        env.team = teams[(env.family * lanes + env.lane + index) % len(teams)]
        if env.fate == "decommissioned":
            env.open_until = context.now - datetime.timedelta(days=rng.randint(45, 75), hours=-10)
        elif env.fate == "provisioning":
            env.open_from = context.now + datetime.timedelta(days=rng.randint(21, 35))
    context.envs = envs


def _plan_history(context: _Context) -> None:
    """A year of status history for each environment: a few outages, degraded spells and maintenance windows, each
    followed by its return to service; the retired one decommissioned, the new one provisioning since it was
    ordered, and a few not up right now."""
    rng, now = context.rng, context.now
    low, _ = context.sizes["booking_days"]
    first = now + datetime.timedelta(days=min(low, -HISTORY_DAYS) - 20)
    statuses, weights = [row[0] for row in INCIDENTS], [row[1] for row in INCIDENTS]
    details = {row[0]: row for row in INCIDENTS}
    manager = context.users[Role.ENVIRONMENT_MANAGER].display_name
    for env in context.envs:
        if env.fate == "provisioning":
            since = now - datetime.timedelta(days=rng.randint(14, 28), hours=-9)
            env.history = [(since, EnvironmentStatus.PROVISIONING, "Ordered for the growing SIT demand", manager)]
            continue
        env.history = [(first, EnvironmentStatus.AVAILABLE, "Handed over to the test teams", manager)]
        until = env.open_until or now
        count = rng.randint(1, 5)
        starts = sorted(now - datetime.timedelta(hours=rng.randint(48, (HISTORY_DAYS - 2) * 24)) for _ in range(count))
        previous_end = first
        for start in starts:
            status = rng.choices(statuses, weights)[0]
            _, _, (shortest, longest), notes = details[status]
            end = start + datetime.timedelta(hours=rng.randint(shortest, longest))
            if start <= previous_end or end >= until:
                continue
            actor = "monitoring" if status == EnvironmentStatus.DOWN else manager
            env.history.append((start, status, rng.choice(notes), actor))
            env.history.append((end, EnvironmentStatus.AVAILABLE, "Back in service", actor))
            previous_end = end
        if env.fate == "decommissioned":
            env.history.append(
                (env.open_until, EnvironmentStatus.DECOMMISSIONED, "Retired: replaced by the cloud lane", manager)
            )
    # A few are not up as the demo starts: one degraded, one in maintenance, one down (more in the enterprise).
    candidates = [
        env
        for env in context.envs
        if not env.fate
        and env.environment_type not in LIVE_TYPES
        and env.history[-1][0] < now - datetime.timedelta(days=3)
    ]
    # Down goes to development and data environments: little is booked on them, so the conflict report stays short.
    spread = max(1, len(context.envs) // 60)
    quiet = [env for env in candidates if env.environment_type == EnvironmentType.DEV]
    chosen = [(env, EnvironmentStatus.DOWN) for env in rng.sample(quiet, k=min(len(quiet), spread))]
    taken = {id(env) for env, _ in chosen}
    rest = [env for env in candidates if id(env) not in taken]
    for index, env in enumerate(rng.sample(rest, k=min(len(rest), 2 * spread))):
        chosen.append((env, statuses[1 + index % 2]))  # degraded, then maintenance
    for env, status in chosen:
        _, _, _, notes = details[status]
        env.history.append((now - datetime.timedelta(hours=rng.randint(6, 40)), status, rng.choice(notes), manager))


def _write_estate(context: _Context, result) -> None:
    """Groups, environments (status as their history ends), what they depend on, and nothing else yet."""
    names = list(dict.fromkeys(env.group for env in context.envs))
    groups = EnvironmentGroup.objects.bulk_create(
        [EnvironmentGroup(name=name, description=f"Environments planned together: {name}.") for name in names]
    )
    group_of = {group.name: group for group in groups}
    rows = []
    for env in context.envs:
        since, status, _, _ = env.history[-1]
        env.row = Environment(
            name=env.name,
            category=env.category,
            environment_type=env.environment_type,
            hosting=env.hosting,
            group=group_of[env.group],
            owner_team=env.team,
            capacity=env.capacity,
            cost_per_day=env.cost,
            url=f"https://{_slug(env.name)}.env.example.com",
            description=f"{EnvironmentType(env.environment_type).label} environment of the {env.group}.",
            status=status,
            status_since=since,
        )
        rows.append(env.row)
    Environment.objects.bulk_create(rows, batch_size=BATCH)
    # UAT and performance environments draw their data from a data environment: the lane's own, else a shared one.
    data = [env for env in context.envs if env.category == EnvironmentCategory.DATA]
    links = []
    through = Environment.depends_on.through
    for env in context.envs:
        if env.environment_type not in (EnvironmentType.UAT, EnvironmentType.PERFORMANCE) or not data:
            continue
        if env.category == EnvironmentCategory.DATA:
            continue
        source = min(data, key=lambda other: (other.family != env.family, abs(other.lane - env.lane), other.name))
        links.append(through(from_environment_id=env.row.pk, to_environment_id=source.row.pk))
    through.objects.bulk_create(links, batch_size=BATCH)
    result.created["environment groups"] += len(groups)
    result.created["environments"] += len(rows)
    result.created["environment dependencies"] += len(links)


# Bookings


def _frozen(context: _Context, env: _Env, start: datetime.datetime, end: datetime.datetime) -> bool:
    """Whether a booking freeze that could cover this environment overlaps the window. The demo keeps clear of them
    (bar the one booking that shows what the conflict report says about it), so it reads them broadly: a day more
    on either side, whatever the time zone the freezes' days are read in."""
    first = start.date() - datetime.timedelta(days=1)
    last = end.date() + datetime.timedelta(days=1)
    for occurrence in context.freezes:
        if occurrence.start > last or occurrence.end < first:
            continue
        if occurrence.scope == FreezeScope.ENVIRONMENTS and env.environment_type not in occurrence.environment_types:
            continue
        if occurrence.scope == FreezeScope.SYSTEMS and occurrence.system_ids.isdisjoint(env.systems):
            continue
        return True
    return False


def _requester(context: _Context, kind: str):
    role = Role.QUALITY_MANAGER if kind in ("sit", "uat", "performance") else Role.PROJECT_MANAGER
    pool = context.holders.get(role) or [context.users[role]]
    return context.rng.choice(pool[:8])


def _place(context: _Context, booking: _Booking, *, check: bool = True) -> bool:
    """Hold the booking's window on its environment if it fits (or without asking, for a deliberate conflict)."""
    if check and (
        not booking.env.fits(booking.usage, booking.start, booking.end)
        or _frozen(context, booking.env, booking.start, booking.end)
    ):
        return False
    booking.env.hold(len(context.bookings), booking.usage, booking.start, booking.end)
    context.bookings.append(booking)
    return True


def _plan_bookings(context: _Context) -> None:
    """The showcase bookings first (deliberate conflicts, the one inside a booking freeze, the weekly regression
    series), then the phases' bookings in date order as their teams would have asked, then other teams' bookings
    until the preset's count; a few rejected and cancelled requests on top."""
    rng, sizes = context.rng, context.sizes
    _showcase_bookings(context)
    extras = max(3, sizes["bookings"] * 3 // 100)
    target = sizes["bookings"] - extras
    by_type: dict[str, list] = defaultdict(list)
    by_family: dict[tuple, list] = defaultdict(list)
    by_lane: dict[tuple, list] = defaultdict(list)
    for env in context.envs:
        by_type[env.environment_type].append(env)
        by_family[(env.environment_type, env.family)].append(env)
        by_lane[(env.environment_type, env.family, env.lane)].append(env)
    lanes = sizes["lanes_per_family"]
    release_lane: dict[int, int] = {}
    # Phases book in date order, as their teams would have asked; whatever they leave, other teams book below.
    for phase in context.phases:
        if len(context.bookings) >= target:
            break
        _, release_id, kind, env_type, start, end, _, team_id, release_name, _ = phase
        if kind == "warranty" or not by_type.get(env_type):
            continue
        family = context.release_family.get(release_id, 0)
        lane = release_lane.setdefault(release_id, rng.randrange(lanes))
        # The release's own lane first, then its family's other lanes, then any environment of the type.
        candidates = []
        for pool in (by_lane[(env_type, family, lane)], by_family[(env_type, family)], by_type[env_type]):
            for env in rng.sample(pool, k=min(len(pool), 4)):
                if env not in candidates:
                    candidates.append(env)
        candidates = candidates[:4]
        length = (end - start).days + 1
        count = 1 if kind in ("release", "staging") else rng.choice([1, 1, 2])
        for _ in range(count):
            if kind == "release":
                # The evening deploy window, within the phase's day (the conflict report checks that).
                first, last = _at(start, 17), _at(start, 23)
            else:
                days = min(length, rng.randint(2, 6) if kind != "build" else rng.randint(5, 15))
                offset = rng.randint(0, max(0, length - days))
                first = _at(start + datetime.timedelta(days=offset), 8)
                last = _at(start + datetime.timedelta(days=offset + days - 1), 18)
            purpose = f"{rng.choice(PURPOSES[env_type])}: {release_name}"
            for env in candidates:
                usage = env.usage if kind not in ("release", "staging", "performance") else BookingUsage.EXCLUSIVE
                booking = _Booking(env, first, last, usage, purpose[:200], phase=phase, team_id=team_id)
                if _place(context, booking):
                    break
    low, high = sizes["booking_days"]
    span = high - low
    open_envs = [env for env in context.envs if env.environment_type != EnvironmentType.PRODUCTION]
    attempts = 0
    while len(context.bookings) < target and attempts < target * 30:
        attempts += 1
        env = rng.choice(open_envs)
        day = context.today + datetime.timedelta(days=low + rng.randrange(span))
        if day.weekday() >= 5:
            continue
        days = rng.choice([1, 1, 2, 3, 5]) if env.capacity == 1 else rng.choice([1, 2, 3, 5, 10])
        first, last = _at(day, 8), _at(day + datetime.timedelta(days=days - 1), 18)
        purpose = rng.choice(TEAM_PURPOSES[env.environment_type])
        _place(context, _Booking(env, first, last, env.usage, purpose, team_id=rng.choice(context.teams).pk))
    for booking in context.bookings:
        if not booking.status:
            booking.status = _status(context, booking)
        if booking.requester is None:
            booking.requester = _requester(context, booking.phase[2] if booking.phase else "sit")
    # Turned down and withdrawn requests hold nothing, so they may sit anywhere.
    placed = list(context.bookings)
    for index in range(sizes["bookings"] - len(context.bookings)):
        like = rng.choice(placed)
        shift = datetime.timedelta(days=rng.randint(-3, 3))
        status = BookingStatus.REJECTED if index % 3 == 0 else BookingStatus.CANCELLED
        context.bookings.append(
            _Booking(
                like.env,
                like.start + shift,
                like.end + shift,
                like.usage,
                like.purpose,
                phase=like.phase,
                team_id=like.team_id,
                status=status,
                requester=_requester(context, like.phase[2] if like.phase else "sit"),
                note=rng.choice(REJECTION_NOTES) if status == BookingStatus.REJECTED else "",
            )
        )


def _status(context: _Context, booking: _Booking) -> str:
    """Released once over (some of the last few days' not yet), active now, approved or still requested ahead."""
    now, rng = context.now, context.rng
    if booking.end <= now:
        recent = now - booking.end < datetime.timedelta(days=3) and booking.env.fate != "decommissioned"
        return BookingStatus.APPROVED if recent and rng.random() < 0.5 else BookingStatus.RELEASED
    if booking.start <= now:
        return BookingStatus.ACTIVE
    soon = booking.start - now < datetime.timedelta(days=28)
    return BookingStatus.APPROVED if rng.random() < (0.8 if soon else 0.4) else BookingStatus.REQUESTED


def _showcase_bookings(context: _Context) -> None:
    """Deliberate conflicts (two requested bookings overlapping on an exclusive environment next month), one booking
    inside the next booking freeze of production, and weekly regression series."""
    rng, today, users = context.rng, context.today, context.users
    exclusive = [env for env in context.envs if env.capacity == 1 and not env.fate and env.environment_type == "sit"]
    first_of_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    monday = first_of_month + datetime.timedelta(days=(7 - first_of_month.weekday()) % 7)
    for number in range(context.sizes["conflicts"]):
        env = exclusive[1 % len(exclusive)] if number == 0 else rng.choice(exclusive)
        day = monday + datetime.timedelta(weeks=number * 2 + (1 if number else 0))
        first = _Booking(
            env,
            _at(day, 8),
            _at(day + datetime.timedelta(days=2), 18),
            BookingUsage.EXCLUSIVE,
            "Interface test with the card scheme simulator",
            status=BookingStatus.REQUESTED,
            requester=users[Role.PROJECT_MANAGER],
        )
        second = _Booking(
            env,
            _at(day + datetime.timedelta(days=1), 8),
            _at(day + datetime.timedelta(days=3), 18),
            BookingUsage.EXCLUSIVE,
            "Defect retest before the SIT exit gate",
            status=BookingStatus.REQUESTED,
            requester=users[Role.QUALITY_MANAGER],
        )
        _place(context, first)
        _place(context, second, check=False)  # the double booking the conflict report shows
    production = [env for env in context.envs if env.environment_type == EnvironmentType.PRODUCTION and not env.fate]
    ahead = [o for o in context.freezes if o.end >= today + datetime.timedelta(days=2) and _covers_production(o)]
    if ahead and production:
        occurrence = min(ahead, key=lambda o: o.start)
        day = max(occurrence.start, today + datetime.timedelta(days=1))
        _place(
            context,
            _Booking(
                production[0],
                _at(day, 20),
                _at(day + datetime.timedelta(days=1), 4),
                BookingUsage.EXCLUSIVE,
                "Emergency certificate rotation in production",
                status=BookingStatus.REQUESTED,
                requester=users[Role.SERVICE_MANAGER],
            ),
            check=False,
        )
    regression = [env for env in context.envs if env.name.endswith("Regression") and not env.fate]
    wednesday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=2)
    for number in range(context.sizes["series"]):
        env = regression[0] if number == 0 else rng.choice(regression)
        series = uuid.UUID(int=rng.getrandbits(128), version=4)
        start = wednesday - datetime.timedelta(weeks=6 + number % 4)
        for week in range(13):
            day = start + datetime.timedelta(weeks=week)
            booking = _Booking(
                env,
                _at(day, 18),
                _at(day + datetime.timedelta(days=1), 6),
                BookingUsage.SHARED,
                "Weekly regression pack (overnight)",
                series=series,
                requester=users[Role.QUALITY_MANAGER],
            )
            booking.status = _status(context, booking)
            if booking.status == BookingStatus.REQUESTED:
                booking.status = BookingStatus.APPROVED  # the series was approved as a whole
            _place(context, booking)


def _covers_production(occurrence) -> bool:
    return occurrence.scope == FreezeScope.ORGANISATION or EnvironmentType.PRODUCTION in occurrence.environment_types


def _mark_in_use(context: _Context) -> None:
    """An environment that is up and busy with an active booking right now reads "in use" since that booking began."""
    active = defaultdict(list)
    for booking in context.bookings:
        if booking.status == BookingStatus.ACTIVE:
            active[id(booking.env)].append(booking.start)
    for env in context.envs:
        if id(env) not in active:
            continue
        since, status, _, _ = env.history[-1]
        began = min(active[id(env)])
        if status == EnvironmentStatus.AVAILABLE and began > since:
            env.history.append((began, EnvironmentStatus.IN_USE, "Booked", "demo-loader"))
            env.row.status, env.row.status_since = EnvironmentStatus.IN_USE, began


def _write_history(context: _Context, result) -> None:
    rows = [
        EnvironmentStatusChange(environment_id=env.row.pk, status=status, started_at=since, note=note, actor_name=actor)
        for env in context.envs
        for since, status, note, actor in env.history
    ]
    EnvironmentStatusChange.objects.bulk_create(rows, batch_size=BATCH)
    in_use = [env.row for env in context.envs if env.row.status == EnvironmentStatus.IN_USE]
    Environment.objects.bulk_update(in_use, ["status", "status_since"], batch_size=BATCH)
    result.created["environment status changes"] += len(rows)


def _write_bookings(context: _Context, result) -> None:
    """The bookings, decided by environment managers (never by the person who asked)."""
    rng, now = context.rng, context.now
    deciders = context.holders.get(Role.ENVIRONMENT_MANAGER, [])[:6] or [context.users[Role.ADMIN]]
    decided = (BookingStatus.APPROVED, BookingStatus.ACTIVE, BookingStatus.RELEASED, BookingStatus.REJECTED)
    writer = _RowWriter(
        EnvironmentBooking,
        (
            "environment_id",
            "starts_at",
            "ends_at",
            "usage",
            "status",
            "requester_id",
            "team_id",
            "release_id",
            "phase_id",
            "purpose",
            "series",
            "decided_by_id",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
            "version",
        ),
    )
    # As `bulk_create` would stamp them: when the demo was loaded.
    stamp = datetime.datetime.now(datetime.UTC)
    for booking in context.bookings:
        phase = booking.phase
        decider = decided_at = None
        if booking.status in decided:
            decider = rng.choice([user for user in deciders if user != booking.requester] or deciders)
            decided_at = min(booking.start - datetime.timedelta(days=rng.randint(2, 12)), now) - datetime.timedelta(
                hours=rng.randint(1, 8)
            )
        writer.add(
            (
                booking.env.row.pk,
                booking.start,
                booking.end,
                booking.usage,
                booking.status,
                booking.requester.pk,
                booking.team_id,
                phase[1] if phase else None,
                phase[0] if phase else None,
                booking.purpose,
                booking.series,
                decider.pk if decider else None,
                decided_at,
                booking.note,
                stamp,
                stamp,
                1,
            )
        )
    writer.flush()
    rows = context.bookings
    result.created["environment bookings"] += len(rows)


# Environment requests


def _write_requests(context: _Context, result) -> None:
    """Requests due the last working day before the phase that needs them (by the environment team's calendar):
    configuration changes and data refreshes of the environments the phases booked, environments to provision; the
    retired environments' decommissioning; done in the past, in progress now, requested ahead."""
    rng, today, now = context.rng, context.today, context.now
    calendars: dict[str, object] = {}

    def calendar_of(team):
        if team.name not in calendars:
            calendars[team.name] = team_calendar(team)
        return calendars[team.name]

    booked: dict[int, _Env] = {}
    for booking in context.bookings:
        if booking.phase is not None and booking.status not in (BookingStatus.REJECTED, BookingStatus.CANCELLED):
            booked.setdefault(booking.phase[0], booking.env)
    requesters = (context.holders.get(Role.PROJECT_MANAGER) or [context.users[Role.PROJECT_MANAGER]])[:8]
    rows = []

    def add(*, title, kind, env, env_type, phase, team, due, sla, status_day=None, cancelled=False, note=""):
        calendar = calendar_of(team)
        due = calendar.previous_working_day(due)
        if sla is None:
            # Under way since last week, however long that makes the SLA.
            sla = min(250, calendar.working_days_in(calendar.previous_working_day(today - datetime.timedelta(7)), due))
        starts = calendar.add_working_days(due, -(sla - 1)) if sla > 1 else due
        if cancelled:
            status = RequestStatus.CANCELLED
        elif due < today:
            status = RequestStatus.DONE
        elif starts <= today:
            status = RequestStatus.IN_PROGRESS
        else:
            status = RequestStatus.REQUESTED
        masking = MaskingStatus.NOT_NEEDED
        if kind == RequestKind.DATA_REFRESH and env is not None and env.category != EnvironmentCategory.PRODUCTION:
            done = status == RequestStatus.DONE or (status == RequestStatus.IN_PROGRESS and rng.random() < 0.4)
            masking = MaskingStatus.DONE if done else MaskingStatus.PENDING
        low, high = EFFORT_HOURS[kind]
        completed = None
        if status == RequestStatus.DONE:
            completed = max(_at(starts, 10), _at(due - datetime.timedelta(days=rng.randint(0, 2)), 16))
            completed = min(completed, now - datetime.timedelta(hours=1))
        rows.append(
            EnvironmentRequest(
                title=title[:200],
                kind=kind,
                environment_id=env.row.pk if env is not None else None,
                environment_type=env_type,
                release_id=phase[1] if phase else None,
                phase_id=phase[0] if phase else None,
                team=team,
                effort_hours=Decimal(rng.randrange(low * 2, high * 2 + 1)) / 2,
                sla_days=sla,
                status=status,
                starts_on=starts,
                due_on=due,
                masking=masking,
                requester=rng.choice(requesters),
                description=note,
                completed_at=completed,
            )
        )

    for env in context.envs:
        if env.fate == "decommissioned":
            add(
                title=f"Decommission {env.name}",
                kind=RequestKind.DECOMMISSION,
                env=env,
                env_type="",
                phase=None,
                team=env.team,
                due=env.open_until.date(),
                sla=SLA_DAYS[RequestKind.DECOMMISSION],
                note="Replaced by the cloud lane; archive its data and release the licences.",
            )
        elif env.fate == "provisioning":
            add(
                title=f"Provision {env.name}",
                kind=RequestKind.PROVISIONING,
                env=env,
                env_type=env.environment_type,
                phase=None,
                team=env.team,
                due=env.open_from.date(),
                sla=None,
                note="A new SIT environment for the growing demand the plan shows.",
            )
    wanted = context.sizes["requests"]
    eligible = [
        phase
        for phase in context.phases
        if phase[2] in ("sit", "uat", "performance", "staging") and phase[6] != "cancelled"
    ]
    rng.shuffle(eligible)
    # Phases starting in the next fortnight come first: their requests are the ones being worked on now.
    near = [phase for phase in eligible if today < phase[4] <= today + datetime.timedelta(days=14)]
    near = near[: max(3, wanted // 50)]
    eligible = near + [phase for phase in eligible if phase not in near]
    by_type: dict[str, list] = defaultdict(list)
    for env in context.envs:
        if not env.fate:
            by_type[env.environment_type].append(env)
    kinds = (RequestKind.CONFIGURATION, RequestKind.DATA_REFRESH, RequestKind.PROVISIONING)
    for index, phase in enumerate(eligible * (1 + wanted // max(1, len(eligible)))):
        if len(rows) >= wanted - 1:
            break
        _, _, _, env_type, start, _, _, _, release_name, phase_name = phase
        kind = rng.choices(kinds, (45, 40, 15))[0]
        env = booked.get(phase[0]) or rng.choice(by_type[env_type])
        if kind == RequestKind.DATA_REFRESH and env_type not in MASKING_TYPES:
            kind = RequestKind.CONFIGURATION
        team = env.team
        if kind == RequestKind.PROVISIONING:
            title, target = f"Provision an extra {EnvironmentType(env_type).label} environment for {release_name}", None
        elif kind == RequestKind.DATA_REFRESH:
            title, target = f"Refresh masked data in {env.name} for the {phase_name} of {release_name}", env
        else:
            title, target = f"Configure {env.name} for the {phase_name} of {release_name}", env
        add(
            title=title,
            kind=kind,
            env=target,
            env_type=env_type if kind == RequestKind.PROVISIONING else "",
            phase=phase,
            team=team,
            due=start - datetime.timedelta(days=1),
            sla=SLA_DAYS[kind],
            cancelled=index % 17 == 5,
            note="" if index % 3 else "Needed before the phase starts; the team confirmed the slot.",
        )
    # One decommission that was called off: the environment is still needed.
    keep = next(env for env in context.envs if env.environment_type == EnvironmentType.PERFORMANCE and not env.fate)
    add(
        title=f"Decommission {keep.name}",
        kind=RequestKind.DECOMMISSION,
        env=keep,
        env_type="",
        phase=None,
        team=keep.team,
        due=today - datetime.timedelta(days=40),
        sla=SLA_DAYS[RequestKind.DECOMMISSION],
        cancelled=True,
        note="Called off: still needed for the next train's performance test.",
    )
    EnvironmentRequest.objects.bulk_create(rows, batch_size=BATCH)
    result.created["environment requests"] += len(rows)


# Deployments and versions


@dataclass
class _Versions:
    """A system's versions: the releases that ship it (deploy day, version) and those in flight (build to deploy)."""

    baseline: str
    shipped_days: list = field(default_factory=list)
    shipped: list = field(default_factory=list)  # (version, release id), by deploy day
    flights: list = field(default_factory=list)  # (build start, deploy day, version, release id), by build start

    def live_at(self, day: datetime.date) -> tuple[str, int | None]:
        index = bisect_right(self.shipped_days, day)
        return self.shipped[index - 1] if index else (self.baseline, None)

    def testing_at(self, day: datetime.date) -> tuple[str, int | None]:
        """The newest release candidate in flight on `day`, else what is live."""
        for built, deploy, version, release_id in reversed(self.flights):
            if built <= day <= deploy:
                return f"{version}-rc.{(day - built).days // 2 + 1}", release_id
        return self.live_at(day)


def _versions(rng: random.Random, systems: list, today: datetime.date) -> dict:
    """Every system's version history from the release plan (impacted systems and their target versions)."""
    dates: dict[int, dict] = defaultdict(dict)
    for release_id, kind, start in Phase.objects.filter(kind__in=("build", "release")).values_list(
        "release_id", "kind", "planned_start"
    ):
        dates[release_id].setdefault(kind, start)
    scope = ReleaseSystem.objects.filter(impact="impacted").exclude(target_version="")
    rows = scope.values_list("system_id", "release_id", "target_version", "release__status", "release__planned_start")
    by_system: dict[int, list] = defaultdict(list)
    for system_id, release_id, version, status, planned_start in rows:
        release_dates = dates.get(release_id, {})
        deploy = release_dates.get("release")
        if deploy is None:
            continue
        built = release_dates.get("build", planned_start)
        by_system[system_id].append((deploy, built, version, release_id, status))
    found = {}
    for pk, _ in systems:
        entries = sorted(by_system.get(pk, ()), key=lambda row: (row[0], row[2]))
        if entries:
            major, minor = (int(part) for part in entries[0][2].split(".")[:2])
            baseline = f"{major}.{minor - 1}.{rng.randint(0, 4)}" if minor else f"{max(1, major - 1)}.9.0"
        else:
            baseline = f"{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        versions = _Versions(baseline)
        for deploy, built, version, release_id, status in entries:
            if status == "released" and deploy < today:
                versions.shipped_days.append(deploy)
                versions.shipped.append((version, release_id))
            if status != "draft":
                versions.flights.append((built, deploy, version, release_id))
        versions.flights.sort(key=lambda row: (row[0], row[2]))
        found[pk] = versions
    return found


def _write_deployments(context: _Context, result) -> None:
    """A year of deployments per component, consistent with the versions the components show: production and DR
    take each release on its deploy day (by runbook, under a change); test environments take release candidates
    from CI while a release is in flight, and what is live otherwise; some test environments have not been
    refreshed for months, so production is ahead of them. Each component shows its latest successful deployment."""
    rng, now, today = context.rng, context.now, context.today
    versions = _versions(rng, context.systems, today)
    period = now - datetime.timedelta(days=DEPLOYMENT_DAYS)
    ci_user, runbook_user = context.users[Role.RELEASE_MANAGER].pk, context.users[Role.SERVICE_MANAGER].pk
    manual_user = context.users[Role.ENVIRONMENT_MANAGER].pk
    pairs = [(env, pk) for env in context.envs if env.fate != "provisioning" for pk in env.systems]
    live = [(env, pk) for env, pk in pairs if env.environment_type in LIVE_TYPES]
    tests = [(env, pk) for env, pk in pairs if env.environment_type not in LIVE_TYPES]
    stale = {id(env): rng.randint(90, 150) for env in context.envs if rng.random() < 0.12 and not env.fate}
    writer = _RowWriter(
        Deployment,
        (
            "system_id",
            "environment_id",
            "version",
            "deployed_at",
            "outcome",
            "source",
            "release_id",
            "change_reference",
            "external_id",
            "notes",
            "recorded_by_id",
            "recorded_at",
        ),
    )
    latest: dict[tuple[int, int], tuple[str, datetime.datetime]] = {}
    planned: list[tuple] = []

    def emit(env, system, version, release_id, when, outcome, source):
        planned.append((when, system, env.row.pk, version, outcome, source, release_id, 5 + int(rng.random() * 86)))

    for env, system in live:
        history = versions[system]
        end = env.open_until or now
        start_version, start_release = history.live_at(period.date())
        emit(
            env,
            system,
            start_version,
            start_release,
            period + datetime.timedelta(hours=rng.randint(1, 200)),
            DeploymentOutcome.SUCCEEDED,
            DeploymentSource.RUNBOOK,
        )
        for day, (version, release_id) in zip(history.shipped_days, history.shipped, strict=True):
            when = _at(day, 19, rng.choice((0, 15, 30))) + (
                datetime.timedelta(hours=7) if env.environment_type == EnvironmentType.DR else datetime.timedelta(0)
            )
            if not period < when < end:
                continue
            if rng.random() < 0.04:
                emit(env, system, version, release_id, when, DeploymentOutcome.ROLLED_BACK, DeploymentSource.RUNBOOK)
                when += datetime.timedelta(hours=2)
            emit(env, system, version, release_id, when, DeploymentOutcome.SUCCEEDED, DeploymentSource.RUNBOOK)
    remaining = context.sizes["deployments"] - len(planned)
    weights = [DEPLOY_WEIGHTS[env.environment_type] for env, _ in tests]
    total = sum(weights)
    counts = [max(1, int(remaining * weight / total)) for weight in weights]
    for index in range(remaining - sum(counts)):
        counts[index % len(counts)] += 1
    # A million draws: plain `random()` against cumulative shares is several times faster than `choices`.
    total_odds = sum(row[1] for row in TEST_OUTCOMES)
    thresholds, running = [], 0
    for outcome, share in TEST_OUTCOMES:
        running += share
        thresholds.append((running / total_odds, outcome))
    draw = rng.random
    for (env, system), count in zip(tests, counts, strict=True):
        history = versions[system]
        end = env.open_until or now
        if id(env) in stale:
            end = min(end, now - datetime.timedelta(days=stale[id(env)]))
        span = max(3600, int((end - period).total_seconds()) - 60)
        offsets = sorted(int(draw() * span) for _ in range(count))
        for number, offset in enumerate(offsets):
            when = period + datetime.timedelta(seconds=offset)
            version, release_id = history.testing_at(when.date())
            # The first install of a component succeeds, so every component has a version.
            outcome = DeploymentOutcome.SUCCEEDED
            if number:
                chance = draw()
                outcome = next(kind for limit, kind in thresholds if chance < limit or limit >= 1)
            source = DeploymentSource.CI if draw() < 0.85 else DeploymentSource.MANUAL
            emit(env, system, version, release_id, when, outcome, source)
    # Written in time order, as they happened: pipeline runs and changes are numbered in that order, and each index
    # grows at its end (much faster to insert a million rows into).
    planned.sort(key=lambda row: row[0])
    runs = changes = 0
    notes = {
        DeploymentOutcome.SUCCEEDED: "",
        DeploymentOutcome.FAILED: "Smoke tests failed; the previous version stayed in place.",
        DeploymentOutcome.ROLLED_BACK: "Rolled back after errors in the health checks.",
    }
    recorders = {
        DeploymentSource.CI: ci_user,
        DeploymentSource.RUNBOOK: runbook_user,
        DeploymentSource.MANUAL: manual_user,
    }
    with _sqlite_cache(), _indexes_built_after(Deployment):
        for when, system, environment_id, version, outcome, source, release_id, delay in planned:
            change = external = ""
            if source == DeploymentSource.RUNBOOK:
                changes += 1
                change = f"CHG{100000 + changes}"
            elif source == DeploymentSource.CI:
                runs += 1
                external = f"pipeline-run-{runs:07d}"
            writer.add(
                (
                    system,
                    environment_id,
                    version,
                    when,
                    outcome,
                    source,
                    release_id,
                    change,
                    external,
                    notes[outcome],
                    recorders[source],
                    when + datetime.timedelta(seconds=delay),
                )
            )
            if outcome == DeploymentOutcome.SUCCEEDED:
                latest[(environment_id, system)] = (version, when)
        writer.flush()
    planned.clear()
    components = []
    for env in context.envs:
        for system in env.systems:
            version, when = latest.get((env.row.pk, system), ("", None))
            components.append(
                EnvironmentComponent(
                    environment_id=env.row.pk,
                    system_id=system,
                    version=version,
                    deployed_at=when,
                    configuration="" if version else "Planned: installed once the environment is handed over.",
                )
            )
    EnvironmentComponent.objects.bulk_create(components, batch_size=BATCH)
    result.created["environment components"] += len(components)
    result.created["deployments"] += writer.count


class _RowWriter:
    """Inserts plain rows into a model's table in batches: COPY on PostgreSQL, `executemany` elsewhere."""

    def __init__(self, model, fields: tuple[str, ...]):
        self.table = model._meta.db_table
        self.columns = [model._meta.get_field(name).column for name in fields]
        self.rows: list[tuple] = []
        self.count = 0
        self.postgres = connection.vendor == "postgresql"
        types = [model._meta.get_field(name).get_internal_type() for name in fields]
        self.datetimes = [index for index, kind in enumerate(types) if kind == "DateTimeField"]
        self.uuids = [index for index, kind in enumerate(types) if kind == "UUIDField"]

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                # SQLite stores datetimes as Django does: naive UTC text.
                rows = [self._naive(row) for row in self.rows]
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        self.rows = []

    def _naive(self, row: tuple) -> tuple:
        values = list(row)
        for index in self.datetimes:
            if values[index] is not None:
                values[index] = str(values[index].replace(tzinfo=None))
        for index in self.uuids:
            if values[index] is not None:
                values[index] = values[index].hex  # as Django stores a UUID where there is no UUID type
        return tuple(values)


@contextmanager
def _indexes_built_after(model):
    """Drop the model's plain indexes (`Meta.indexes`) for a bulk load into its empty table and build them again
    after it: building an index over a million sorted rows is much faster than growing it row by row. The indexes
    come back exactly as the migrations made them (the same `Index` definitions). SQLite only: PostgreSQL loads
    with COPY fast enough, and refuses to build an index while the transaction's deferred foreign key checks wait."""
    if connection.vendor != "sqlite":
        yield
        return
    editor = connection.schema_editor()
    indexes = list(model._meta.indexes)
    with connection.cursor() as cursor:
        for index in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(index.name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for index in indexes:
                cursor.execute(str(index.create_sql(model, editor)))


@contextmanager
def _sqlite_cache():
    """On SQLite, a page cache big enough for the indexes a million inserted rows grow (restored afterwards)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (saved,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(saved)}")
