"""Deterministic demo data: the same seed always gives the same data.

Rows a person would create one at a time go through the services, so they obey the rules and leave audit
events; volume (the enterprise preset's thousands of rows) goes in with bulk inserts.
"""

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from launchdeck.accounts import services as accounts
from launchdeck.accounts.models import RoleAssignment, User
from launchdeck.accounts.roles import Role
from launchdeck.audit.context import audit_context
from launchdeck.catalog import services as catalog
from launchdeck.org import services as org
from launchdeck.org.models import Department, Team
from launchdeck.portfolio import services as portfolio
from launchdeck.portfolio.models import Project

DEMO_PASSWORD = "launchdeck-demo"
PRESETS = ("demo", "enterprise")

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Maya",
    "Nikolai",
    "Olga",
    "Pedro",
    "Qing",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zara",
)
LAST_NAMES = (
    "Adeyemi",
    "Bauer",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Novak",
)
ROLE_PEOPLE = {
    Role.ADMIN: ("Ada", "Admin"),
    Role.PORTFOLIO_MANAGER: ("Priya", "Raman"),
    Role.RELEASE_MANAGER: ("Rafael", "Mendes"),
    Role.ENVIRONMENT_MANAGER: ("Eva", "Lindgren"),
    Role.QUALITY_MANAGER: ("Quentin", "Moreau"),
    Role.SERVICE_MANAGER: ("Sofia", "Marchetti"),
    Role.PROJECT_MANAGER: ("Paul", "Okafor"),
    Role.VIEWER: ("Victor", "Hale"),
}
EXTRA_USERS = {"demo": 12, "enterprise": 400}
ORG_SIZES = {
    "demo": {"departments": 6, "teams": 20, "people": 120},
    "enterprise": {"departments": 40, "teams": 250, "people": 4000},
}
CATALOGUE_SIZES = {"demo": {"systems": 40, "dependencies": 90}, "enterprise": {"systems": 2500, "dependencies": 10000}}
SYSTEM_LAYERS = (
    # (layer name, share of systems, typical tier, kind): lower layers are depended on by higher ones
    ("Core", 0.12, 1, "application"),
    ("Data", 0.13, 2, "service"),
    ("Integration", 0.20, 2, "service"),
    ("Channel", 0.30, 3, "application"),
    ("Reporting", 0.25, 4, "application"),
)
SYSTEM_NOUNS = (
    "Ledger",
    "Payments Hub",
    "Customer Master",
    "Card Switch",
    "Loan Origination",
    "Fraud Engine",
    "Pricing",
    "Statements",
    "Onboarding",
    "Treasury Gateway",
    "Market Data",
    "Risk Engine",
    "KYC",
    "Notifications",
    "Mobile Banking",
    "Web Banking",
    "Branch Desktop",
    "Contact Centre",
    "Data Warehouse",
    "Reporting Portal",
    "Document Store",
    "Identity",
    "API Gateway",
    "Batch Scheduler",
    "General Ledger",
    "Collections",
    "Mortgages",
    "Savings",
    "FX Engine",
    "Trade Finance",
)
CALENDARS = (
    ("United Kingdom (England)", "GB", "ENG"),
    ("Germany (Bavaria)", "DE", "BY"),
    ("United States", "US", ""),
    ("India (Karnataka)", "IN", "KA"),
    ("Netherlands", "NL", ""),
)
DEPARTMENT_NAMES = (
    "Retail Banking",
    "Payments",
    "Corporate Banking",
    "Wealth Management",
    "Risk and Compliance",
    "Finance",
    "Human Resources",
    "Customer Channels",
    "Data and Analytics",
    "Infrastructure",
    "Security",
    "Lending",
    "Cards",
    "Treasury",
    "Operations",
    "Digital",
    "Insurance",
    "Group Technology",
    "Procurement",
    "Legal",
)
TEAM_WORDS = (
    "Falcon",
    "Orion",
    "Atlas",
    "Nova",
    "Vega",
    "Lyra",
    "Draco",
    "Cygnus",
    "Pegasus",
    "Phoenix",
    "Aquila",
    "Hydra",
    "Lynx",
    "Corvus",
    "Apus",
    "Ara",
    "Carina",
    "Crux",
    "Dorado",
    "Fornax",
    "Grus",
    "Indus",
    "Lepus",
    "Mensa",
)
TEAM_KINDS = (
    ("Delivery", ["development", "testing"]),
    ("Platform", ["operations", "environment"]),
    ("Test Centre", ["testing"]),
    ("Data", ["data", "development"]),
    ("Environments", ["environment", "operations"]),
    ("Integration", ["development", "testing", "operations"]),
)


@dataclass
class DemoResult:
    preset: str
    seed: int
    created: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        return [f"{name:<24} {count:>9,}" for name, count in sorted(self.created.items())]


def _role_users(result: DemoResult) -> dict[str, User]:
    """One user per role, named after the role, signing in with the documented demo password."""
    users = {}
    for role, (first, last) in ROLE_PEOPLE.items():
        users[role] = accounts.user_create(
            actor=None,
            username=role,
            password=DEMO_PASSWORD,
            roles=[role],
            first_name=first,
            last_name=last,
            email=f"{role.replace('_', '.')}@example.com",
        )
        result.created["users (one per role)"] += 1
    return users


def _colleagues(rng: random.Random, count: int, result: DemoResult) -> None:
    """More people with roles, in bulk (one password hash shared, so loading stays fast)."""
    password = make_password(DEMO_PASSWORD)
    working_roles = [role for role in Role.values if role != Role.ADMIN]
    taken = set(User.objects.values_list("username", flat=True))
    people, assignments = [], []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}.{last}".lower().replace("'", "").replace("é", "e").replace("í", "i")
        if username in taken:
            username = f"{username}{index}"
        taken.add(username)
        people.append(
            User(
                username=username, first_name=first, last_name=last, password=password, email=f"{username}@example.com"
            )
        )
    User.objects.bulk_create(people, batch_size=500)
    for user in User.objects.filter(username__in=[p.username for p in people]):
        for role in rng.sample(working_roles, k=1 if rng.random() < 0.85 else 2):
            assignments.append(RoleAssignment(user=user, role=role))
    RoleAssignment.objects.bulk_create(assignments, batch_size=1000)
    result.created["users (colleagues)"] += len(people)
    result.created["role assignments"] += len(assignments) + len(ROLE_PEOPLE)


def _tokens(users: dict[str, User], result: DemoResult) -> None:
    """A CI pipeline token for the release manager and one the environment manager has already revoked."""
    accounts.api_token_create(
        actor=users[Role.RELEASE_MANAGER],
        user=users[Role.RELEASE_MANAGER],
        name="CI pipeline: payments",
        expires_in_days=90,
    )
    old, _ = accounts.api_token_create(
        actor=users[Role.ENVIRONMENT_MANAGER],
        user=users[Role.ENVIRONMENT_MANAGER],
        name="Old provisioning script",
        expires_in_days=30,
    )
    accounts.api_token_revoke(actor=users[Role.ENVIRONMENT_MANAGER], token=old, reason="Script retired")
    result.created["API tokens"] += 2


def _organisation(rng: random.Random, preset: str, users: dict[str, User], result: DemoResult) -> None:
    """Calendars, departments with cost centres, teams with skills and capacity, and people in them."""
    sizes = ORG_SIZES[preset]
    calendars = []
    for name, country, subdivision in CALENDARS:
        calendars.append(org.calendar_create(actor=None, name=name, country=country, subdivision=subdivision))
    org.calendar_closure_add(
        actor=None,
        calendar=calendars[0],
        name="Year-end change freeze shutdown",
        start=datetime.date(2026, 12, 24),
        end=datetime.date(2027, 1, 1),
    )
    result.created["calendars"] += len(calendars)
    departments = []
    for index in range(sizes["departments"]):
        base = DEPARTMENT_NAMES[index % len(DEPARTMENT_NAMES)]
        name = base if index < len(DEPARTMENT_NAMES) else f"{base} {index // len(DEPARTMENT_NAMES) + 1}"
        departments.append(
            org.department_create(
                actor=None, name=name, cost_centre=f"CC-{1000 + index * 10}", calendar=rng.choice(calendars)
            )
        )
    result.created["departments"] += len(departments)
    teams = []
    for index in range(sizes["teams"]):
        kind, skills = TEAM_KINDS[index % len(TEAM_KINDS)]
        department = departments[index % len(departments)]
        word = TEAM_WORDS[(index // len(TEAM_KINDS)) % len(TEAM_WORDS)]
        teams.append(
            org.team_create(
                actor=None,
                name=f"{word} {kind} {index + 1}",
                department=department,
                capacity_person_days_per_week=Decimal(rng.choice([15, 20, 25, 30, 35, 40, 50])),
                skills=skills,
            )
        )
    result.created["teams"] += len(teams)
    linked = {role: user for role, user in users.items() if role != Role.ADMIN}
    for index in range(sizes["people"]):
        user = linked.pop(next(iter(linked))) if linked else None
        first, last = (user.first_name, user.last_name) if user else (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        home = teams[index % len(teams)]
        extra = [rng.choice(teams)] if rng.random() < 0.15 else []
        org.person_create(
            actor=None,
            full_name=f"{first} {last}",
            email=f"{first}.{last}.{index}@example.com".lower().replace("'", "").replace("é", "e").replace("í", "i"),
            fte=Decimal(rng.choice(["1.00", "1.00", "1.00", "0.80", "0.60", "0.50"])),
            teams=[home, *extra],
            user=user,
        )
    result.created["people"] += sizes["people"]


def _catalogue(rng: random.Random, preset: str, result: DemoResult) -> None:
    """Systems in layers (channels on integration on core), owned by teams, with dependencies mostly downward and
    a few that loop back, because real estates have cycles."""
    sizes = CATALOGUE_SIZES[preset]
    teams = list(Team.objects.order_by("pk"))
    by_layer: list[list] = [[] for _ in SYSTEM_LAYERS]
    count = sizes["systems"]
    for index in range(count):
        position = index / count
        layer, cumulative = 0, 0.0
        for number, (_, share, _, _) in enumerate(SYSTEM_LAYERS):
            cumulative += share
            if position < cumulative:
                layer = number
                break
        label, _, tier, kind = SYSTEM_LAYERS[layer]
        noun = SYSTEM_NOUNS[index % len(SYSTEM_NOUNS)]
        system = catalog.system_create(
            actor=None,
            name=f"{noun} {label} {index + 1:04d}",
            owner_team=teams[index % len(teams)],
            kind=kind,
            tier=max(1, min(4, tier + rng.choice([0, 0, 0, 1, -1]))),
            lifecycle=rng.choices(["live", "in_development", "sunsetting", "planned"], [85, 8, 5, 2])[0],
            external_ids={"cmdb": f"CI{100000 + index}"},
        )
        by_layer[layer].append(system)
    result.created["systems"] += count
    pairs: set[tuple[int, int]] = set()
    created = 0
    while created < sizes["dependencies"] - 1:
        layer = rng.randrange(1, len(SYSTEM_LAYERS))
        source = rng.choice(by_layer[layer])
        # Mostly downward; one in fifty upward or sideways, which makes cycles.
        target_layer = rng.randrange(0, layer) if rng.random() > 0.02 else rng.randrange(layer, len(SYSTEM_LAYERS))
        target = rng.choice(by_layer[target_layer])
        if source.pk == target.pk or (source.pk, target.pk) in pairs:
            continue
        pairs.add((source.pk, target.pk))
        catalog.dependency_create(
            actor=None,
            source=source,
            target=target,
            interface_kind=rng.choices(["api", "data_feed", "batch", "ui"], [55, 25, 15, 5])[0],
            criticality=rng.choices(["high", "medium", "low"], [25, 55, 20])[0],
        )
        created += 1
    # Close at least one loop for sure, as real estates have: the last downward dependency gets its way back.
    source_pk, target_pk = max(pair for pair in pairs if pair[::-1] not in pairs)
    systems = {system.pk: system for layer in by_layer for system in layer}
    catalog.dependency_create(
        actor=None, source=systems[target_pk], target=systems[source_pk], interface_kind="data_feed", criticality="low"
    )
    result.created["system dependencies"] += created + 1


PORTFOLIO_SIZES = {
    "demo": {"children": (3, 2, 3), "initiatives": 12, "projects": 30, "register_items": 80, "over_allocated": 3},
    "enterprise": {
        "children": (3, 2, 2),
        "initiatives": 150,
        "projects": 600,
        "register_items": 2000,
        "over_allocated": 12,
    },
}
PORTFOLIO_TREE = (
    ("Customer Experience", ("Digital Channels", "Payments Modernisation", "Branch Transformation")),
    ("Operational Resilience", ("Cloud Migration", "Data Platform", "Service Continuity")),
    ("Regulatory Change", ("Basel IV", "Open Banking", "Financial Crime")),
)
CHANGE_WORDS = (
    "Modernisation",
    "Replatforming",
    "Consolidation",
    "Uplift",
    "Replacement",
    "Cloud Move",
    "Automation",
    "Resilience",
    "Decommissioning",
    "Rebuild",
)
WORKSTREAMS = ("Discovery", "Build", "Data Migration", "Integration", "Testing", "Cutover", "Training", "Decommission")
# (category, weight, titles, tags): environments and test data recur on purpose, as they do in real portfolios.
REGISTER_THEMES = (
    (
        "environments",
        24,
        (
            "UAT environment double-booked by two releases",
            "SIT environment down for days after a failed refresh",
            "No production-like environment for performance testing",
            "Shared test environment drifted from production configuration",
            "Environment provisioning took six weeks instead of two",
        ),
        ("environment-contention", "uat", "sit", "shared-environments", "provisioning"),
    ),
    (
        "testing",
        14,
        (
            "Test data not available when test execution started",
            "Regression suite too slow to run every release",
            "Defects found late because integration testing was squeezed",
            "Masked production data refresh overran",
        ),
        ("test-data", "regression", "test-automation", "late-defects"),
    ),
    (
        "data",
        12,
        (
            "Reference data differs between environments",
            "Data migration rehearsal failed reconciliation",
            "Personal data found in a test database",
        ),
        ("test-data", "data-refresh", "data-quality", "reconciliation"),
    ),
    (
        "dependencies",
        10,
        (
            "Upstream API change not ready for our release",
            "Waiting on the identity platform upgrade",
            "Shared batch scheduler change window clashes with ours",
        ),
        ("cross-team", "api", "release-alignment"),
    ),
    (
        "resourcing",
        10,
        (
            "Key developer leaving mid-project",
            "Testers shared with another programme at peak",
            "Specialist skills only available from one contractor",
        ),
        ("key-person-risk", "shared-testers", "contractors"),
    ),
    (
        "vendor",
        7,
        ("Vendor delivery slipped by a sprint", "Vendor patch broke the interface contract"),
        ("late-vendor-delivery", "contract"),
    ),
    (
        "schedule",
        7,
        ("Change freeze shortens the delivery window", "Go-live date fixed before the plan was ready"),
        ("change-freeze", "deadline"),
    ),
    (
        "requirements",
        6,
        ("Requirements changed after build started", "Acceptance criteria missing for key stories"),
        ("requirements-churn", "acceptance-criteria"),
    ),
    ("tooling", 4, ("Pipeline not able to deploy to the new platform",), ("ci-cd", "deployment")),
    ("communication", 3, ("Stakeholders learned of the delay late",), ("stakeholders", "reporting")),
    ("budget", 3, ("Licence costs higher than planned",), ("licences", "cost-overrun")),
    ("compliance", 2, ("Audit finding on change approvals",), ("audit", "change-approval")),
    ("other", 1, ("Office move disrupted the team for a week",), ("logistics",)),
)
REGISTER_KINDS = (("lesson", 35), ("risk", 30), ("issue", 20), ("assumption", 8), ("dependency", 7))


def _month(day: datetime.date, offset: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + offset
    return datetime.date(index // 12, index % 12 + 1, 1)


def _portfolio(rng: random.Random, preset: str, users: dict[str, User], result: DemoResult) -> None:
    """Portfolios, initiatives and projects; a year of spend per initiative and department (actuals booked up to the
    current month, a few initiatives overspending); staffing allocations (a few teams over-allocated); and a register
    of lessons and RAID items in which the same challenges come back."""
    sizes = PORTFOLIO_SIZES[preset]
    today = datetime.date.today()
    year_start = datetime.date(today.year, 1, 1)
    departments = list(Department.objects.order_by("pk"))
    teams = list(Team.objects.order_by("pk"))
    owners = [users[Role.PORTFOLIO_MANAGER], users[Role.PROJECT_MANAGER], users[Role.RELEASE_MANAGER]]
    owners += list(User.objects.exclude(pk__in=[user.pk for user in users.values()]).order_by("pk")[:20])

    leaves = []
    for (name, children), count in zip(PORTFOLIO_TREE, sizes["children"], strict=True):
        top = portfolio.portfolio_create(
            actor=None, name=name, description=f"Every change initiative in {name.lower()}."
        )
        result.created["portfolios"] += 1
        for child in children[:count]:
            leaves.append(portfolio.portfolio_create(actor=None, name=child, parent=top))
            result.created["portfolios"] += 1

    names = [f"{noun} {word}" for noun in SYSTEM_NOUNS for word in CHANGE_WORDS]
    rng.shuffle(names)
    initiatives = []
    booking = [index for index in range(sizes["initiatives"]) if index % 12 != 7]  # proposed ones book nothing
    overspending = set(rng.sample(booking, k=max(2, sizes["initiatives"] // 6)))
    for index in range(sizes["initiatives"]):
        sponsor = departments[index % len(departments)]
        start = _month(year_start, -rng.randint(0, 6))
        end = _month(year_start, 12 + rng.randint(0, 12)) - datetime.timedelta(days=1)
        others = rng.sample([d for d in departments if d.pk != sponsor.pk], k=rng.choice([0, 1, 1, 2]))
        monthly = {department: Decimal(rng.randrange(20, 150) * 1000) for department in [sponsor, *others]}
        for department in others:
            monthly[department] = (monthly[department] / 3).quantize(Decimal("1"))
        yearly_plan = sum(monthly.values()) * 12
        over = index in overspending
        budget = yearly_plan * Decimal(rng.choice(["0.92", "0.95"]) if over else rng.choice(["1.0", "1.05", "1.1"]))
        status = "active" if index % 12 not in (3, 7) else ("on_hold" if index % 12 == 3 else "proposed")
        initiative = portfolio.initiative_create(
            actor=None,
            portfolio=leaves[index % len(leaves)],
            department=sponsor,
            owner=owners[index % len(owners)],
            name=names[index],
            objective=f"Modernise {names[index].split()[0]} and cut its run cost.",
            start=start,
            end=end,
            budget=budget.quantize(Decimal("1")),
            status=status,
        )
        initiatives.append(initiative)
        for offset in range(12):
            month = _month(year_start, offset)
            booked = month <= today.replace(day=1) and status != "proposed"
            for department, planned in monthly.items():
                factor = Decimal(str(rng.uniform(1.25, 1.6) if over else rng.uniform(0.82, 1.08)))
                portfolio.spend_record(
                    actor=None,
                    initiative=initiative,
                    department=department,
                    month=month,
                    planned=planned,
                    actual=(planned * factor).quantize(Decimal("1")) if booked else None,
                )
                result.created["spend rows"] += 1
    result.created["initiatives"] += len(initiatives)

    for index in range(sizes["projects"]):
        initiative = initiatives[index % len(initiatives)]
        stream = WORKSTREAMS[(index // len(initiatives)) % len(WORKSTREAMS)]
        start = initiative.start + datetime.timedelta(days=rng.randint(0, 90))
        portfolio.project_create(
            actor=None,
            initiative=initiative,
            owner_team=rng.choice(teams),
            name=f"{initiative.name}: {stream}",
            start=start,
            end=min(initiative.end, start + datetime.timedelta(days=rng.randint(60, 300))),
        )
    result.created["projects"] += sizes["projects"]
    projects = list(Project.objects.select_related("initiative").order_by("pk"))

    # Most teams carry one to three allocations within what they can do; a few are booked beyond it.
    active = [i for i in initiatives if i.status == "active"]
    over_allocated = set(rng.sample(range(len(teams)), k=sizes["over_allocated"]))
    for number, team in enumerate(teams):
        if rng.random() < 0.12 and number not in over_allocated:
            continue
        share = 0.0
        for _ in range(rng.randint(1, 3)):
            initiative = rng.choice(active)
            start = max(initiative.start, today - datetime.timedelta(days=rng.randint(14, 90)))
            end = min(initiative.end, today + datetime.timedelta(days=rng.randint(60, 200)))
            percent = rng.choice([10, 20, 25, 30, 40])
            if share + percent > 90:
                break
            share += percent
            as_percent = rng.random() < 0.5
            capacity = float(team.capacity_person_days_per_week)
            portfolio.allocation_create(
                actor=None,
                initiative=initiative,
                team=team,
                start=start,
                end=end,
                unit="percent" if as_percent else "person_days",
                amount=Decimal(percent) if as_percent else Decimal(str(round(capacity * percent / 100, 1))),
            )
            result.created["allocations"] += 1
        if number in over_allocated:
            initiative = rng.choice(active)
            portfolio.allocation_create(
                actor=None,
                initiative=initiative,
                team=team,
                start=max(initiative.start, today - datetime.timedelta(days=7)),
                end=min(initiative.end, today + datetime.timedelta(days=rng.randint(42, 120))),
                unit="percent",
                amount=Decimal(110 if number == min(over_allocated) else rng.choice([60, 75, 110])),
                note="Needed for the go-live; agreed with the team lead.",
            )
            result.created["allocations"] += 1

    kinds, kind_weights = zip(*REGISTER_KINDS, strict=True)
    theme_weights = [theme[1] for theme in REGISTER_THEMES]
    for _ in range(sizes["register_items"]):
        kind = rng.choices(kinds, kind_weights)[0]
        category, _, titles, tags = rng.choices(REGISTER_THEMES, theme_weights)[0]
        raised_on = today - datetime.timedelta(days=int(rng.triangular(0, 365, 90)))
        project = rng.choice(projects) if rng.random() < 0.5 else None
        initiative = project.initiative if project else rng.choice(initiatives)
        status = None
        if kind != "lesson":
            age = (today - raised_on).days
            status = rng.choices(["open", "mitigating", "closed"], [2, 2, 1 + age // 40])[0]
        closed_on = None
        if status == "closed":
            closed_on = min(today, raised_on + datetime.timedelta(days=rng.randint(5, 60)))
        portfolio.register_item_create(
            actor=None,
            kind=kind,
            title=rng.choice(titles),
            category=category,
            impact=rng.choices(["low", "medium", "high", "critical"], [25, 40, 25, 10])[0],
            status=status,
            initiative=initiative,
            project=project,
            owner=rng.choice(owners) if rng.random() < 0.8 else None,
            raised_on=raised_on,
            closed_on=closed_on,
            tags=rng.sample(tags, k=min(len(tags), rng.randint(1, 3))),
        )
    result.created["register items"] += sizes["register_items"]


def load_demo(*, preset: str = "demo", seed: int = 1) -> DemoResult:
    """Load a preset into an empty database, all in one transaction."""
    if preset not in PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; choose from {', '.join(PRESETS)}.")
    rng = random.Random(seed)
    result = DemoResult(preset=preset, seed=seed)
    with audit_context("cli", operator="demo-loader"), transaction.atomic():
        users = _role_users(result)
        _colleagues(rng, EXTRA_USERS[preset], result)
        _tokens(users, result)
        _organisation(rng, preset, users, result)
        _catalogue(rng, preset, result)
        _portfolio(rng, preset, users, result)
    return result


def database_is_empty() -> bool:
    """No user exists yet: the state in which `make run` loads the demo preset."""
    return not User.objects.exists()
