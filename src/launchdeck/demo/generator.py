"""Deterministic demo data: the same seed always gives the same data.

Rows a person would create one at a time go through the services, so they obey the rules and leave audit
events; volume (the enterprise preset's thousands of rows) goes in with bulk inserts.
"""

import datetime
import random
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from launchdeck.accounts import services as accounts
from launchdeck.accounts.models import RoleAssignment, User
from launchdeck.accounts.roles import Role
from launchdeck.audit.context import audit_context
from launchdeck.catalog import services as catalog
from launchdeck.catalog.graph import adjacency
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.demo import schedule
from launchdeck.demo.environments import load_environments
from launchdeck.org import services as org
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar, Department, Team
from launchdeck.portfolio import services as portfolio
from launchdeck.portfolio.models import Portfolio, Project
from launchdeck.releases import services as releases
from launchdeck.releases.checks import check_label
from launchdeck.releases.freezes import freeze_applies, freezes_between
from launchdeck.releases.layout import template_layout
from launchdeck.releases.models import (
    MAX_LAG_DAYS,
    Gate,
    GateApproval,
    GateCriterion,
    Milestone,
    Phase,
    Release,
    ReleaseSystem,
    ScheduleChange,
)
from launchdeck.releases.schedule import Change
from launchdeck.scheduling.calendar import WorkingCalendar

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


# Release planning: templates, freeze windows, trains and releases with their phases, milestones and gates

RELEASE_SIZES = {
    # demo: a handful of quarterly trains over ~6 months back to ~9 months ahead, made through the services.
    "demo": {
        "trains": 4,
        "train_weeks": (-27, -13, 2, 20),
        "children": (5, 15),
        "standalone": 7,
        "independent": 4,
        "train_scope": "organisation",
    },
    # enterprise: ~8,000 releases over ~2.5 years (a quarter overlaps ~1,500 of them), inserted in bulk.
    "enterprise": {
        "releases": 8000,
        "children": (5, 15),
        "in_trains": 0.7,
        "independent": 0.33,
        "first_day": -580,
        "last_day": 340,
        "train_scope": "portfolio",
    },
}
RELEASE_ODDS = {
    # Shares of releases that slip, got stuck behind their plan, run behind on % complete, wait on late gate
    # decisions, are cancelled, have a gate rejected (if one is decided while in progress) or overridden, and whose
    # deploy stays inside a freeze (the others are moved out of it a week at a time). The demo preset adds its
    # showcase cases on top.
    "demo": {
        "slip": 0.35,
        "stuck": 0.0,
        "behind": 0.25,
        "late": 0.1,
        "cancelled": 0.0,
        "rejected": 0.0,
        "overridden": 0.0,
        "keep_in_freeze": 0.0,
    },
    "enterprise": {
        "slip": 0.35,
        "stuck": 0.15,
        "behind": 0.25,
        "late": 0.12,
        "cancelled": 0.03,
        "rejected": 0.3,
        "overridden": 0.015,
        "keep_in_freeze": 0.1,
    },
}
# Releases get stuck or rejected only if that would have happened in this many days before today.
RECENT_TROUBLE_DAYS = 45
# Slips in working days: mostly a week or two, some a month, a few up to two months.
SLIP_SIZES = (((3, 10), 55), ((10, 25), 30), ((25, 45), 15))
RELEASE_BATCH = 1000

# (name, kind, working days, start offset in working days (None: after the previous phase), environment type,
#  test effort in person-days, required)
TRAIN_TEMPLATE = {
    "name": "Enterprise quarterly train",
    "release_kind": "enterprise",
    "description": "The quarterly enterprise release: every project release in the train plans, builds, tests and "
    "deploys together, behind the same gates.",
    "phases": (
        ("Plan", "plan", 10, None, "", 0, True),
        ("Build", "build", 30, None, "dev", 0, True),
        ("System integration test", "sit", 15, None, "sit", 60, True),
        ("User acceptance test", "uat", 10, None, "uat", 40, True),
        ("Performance test", "performance", 10, 55, "performance", 15, True),
        ("Staging", "staging", 5, None, "staging", 5, True),
        ("Release", "release", 2, None, "production", 0, True),
        ("Warranty", "warranty", 10, None, "production", 0, False),
    ),
    # (name, kind, phase, anchor, offset in working days)
    "milestones": (
        ("Scope freeze", "scope_freeze", "Plan", "end", 0),
        ("Code freeze", "code_freeze", "Build", "end", 0),
        ("Go/no-go", "go_no_go", "Staging", "end", 0),
        ("Deploy to production", "deploy", "Release", "start", 0),
    ),
    # (name, phase, blocks, approver roles, checklist, automatic checks)
    "gates": (
        (
            "Plan approved",
            "Plan",
            "in_progress",
            ("release_manager",),
            ("Scope agreed with the business owners", "Every team has confirmed its people"),
            ("required_phases_dated",),
        ),
        (
            "SIT exit",
            "System integration test",
            "released",
            ("quality_manager",),
            ("No open critical or high defects", "Regression pack passed"),
            ("children_passed",),
        ),
        (
            "Go/no-go",
            "Staging",
            "released",
            ("release_manager", "service_manager"),
            ("Deployment runbook rehearsed", "Rollback plan tested", "Change request authorised by the CAB"),
            ("children_passed", "no_milestone_in_freeze"),
        ),
    ),
}
PROJECT_TEMPLATE = {
    "name": "Project release",
    "release_kind": "project",
    "description": "A project's release, on its own or in a train: plan, build, test, deploy and a short warranty.",
    "phases": (
        ("Plan", "plan", 5, None, "", 0, True),
        ("Build", "build", 20, None, "dev", 0, True),
        ("System integration test", "sit", 10, None, "sit", 20, True),
        ("User acceptance test", "uat", 8, None, "uat", 15, True),
        ("Release", "release", 1, None, "production", 0, True),
        ("Warranty", "warranty", 5, None, "production", 0, False),
    ),
    "milestones": (
        ("Scope freeze", "scope_freeze", "Plan", "end", 0),
        ("Code freeze", "code_freeze", "Build", "end", 0),
        ("Go/no-go", "go_no_go", "User acceptance test", "end", 0),
        ("Deploy to production", "deploy", "Release", "start", 0),
    ),
    "gates": (
        (
            "Plan approved",
            "Plan",
            "in_progress",
            ("release_manager",),
            ("Scope agreed with the business owner",),
            ("required_phases_dated",),
        ),
        ("SIT exit", "System integration test", "released", ("quality_manager",), ("No open critical defects",), ()),
        (
            "Go/no-go",
            "User acceptance test",
            "released",
            ("release_manager", "service_manager"),
            ("Deployment runbook reviewed", "Rollback plan tested"),
            ("no_milestone_in_freeze",),
        ),
    ),
}
HOTFIX_TEMPLATE = {
    "name": "Hotfix / independent",
    "release_kind": "independent",
    "description": "A fix or vendor patch shipped outside the trains: build, verify, deploy.",
    "phases": (
        ("Build", "build", 3, None, "dev", 0, True),
        ("Verification test", "sit", 2, None, "sit", 2, True),
        ("Release", "release", 1, None, "production", 0, True),
    ),
    "milestones": (
        ("Go/no-go", "go_no_go", "Verification test", "end", 0),
        ("Deploy to production", "deploy", "Release", "start", 0),
    ),
    "gates": (
        (
            "Go/no-go",
            "Verification test",
            "released",
            ("service_manager",),
            ("Fix verified in test", "Rollback plan agreed"),
            ("no_milestone_in_freeze",),
        ),
    ),
}
RELEASE_TEMPLATES = (TRAIN_TEMPLATE, PROJECT_TEMPLATE, HOTFIX_TEMPLATE)
REJECTION_COMMENTS = (
    "Two critical defects still open in the payment flow; not ready to leave SIT.",
    "Regression pack failed on the overnight batch; rerun after the fix.",
    "Rollback has not been rehearsed in staging.",
)
OVERRIDE_REASONS = (
    "Regulatory deadline: the CIO accepted the open medium defects; fixes follow in the next hotfix.",
    "Service manager on leave; release manager signs off with the CAB's agreement.",
)
FREEZE_OVERRIDE = "Deployment inside the {freeze} agreed with the CAB as an exception."
# How long finished phases really took, as a share of their planned working days: (shortest, most likely, longest)
# by phase kind. Build and test overrun most; releasing and warranty take what was planned (the release shipped on
# its date). The history the forecast learns from.
ACTUAL_RATIOS = {
    "plan": (0.9, 1.0, 1.2),
    "build": (0.9, 1.05, 1.5),
    "sit": (0.9, 1.1, 1.6),
    "uat": (0.85, 1.0, 1.4),
    "performance": (0.9, 1.0, 1.3),
    "staging": (0.9, 1.0, 1.2),
}
# Some teams run late more than others (a factor on every ratio above), so team-specific history differs.
TEAM_HABITS = (0.95, 1.0, 1.0, 1.0, 1.05, 1.1, 1.2)


@dataclass(eq=False)
class _PhasePlan:
    template: object
    start: datetime.date
    end: datetime.date
    baseline_start: datetime.date
    baseline_end: datetime.date
    train_phase: "_PhasePlan | None" = None
    status: str = "not_started"
    percent: int = 0
    actual_start: datetime.date | None = None
    actual_end: datetime.date | None = None
    row: object = None


@dataclass(eq=False)
class _MilestonePlan:
    template: object
    phase: _PhasePlan
    date: datetime.date
    baseline: datetime.date
    actual: datetime.date | None = None
    row: object = None


@dataclass(eq=False)
class _GatePlan:
    template: object
    phase: _PhasePlan | None
    due: datetime.date
    status: str = "open"
    decided_at: datetime.datetime | None = None
    approvals: list = field(default_factory=list)  # (role, user, decision, comment)
    ticked: list = field(default_factory=list)  # per checklist item: the user who ticked it, or None
    override_reason: str = ""
    overridden_by: object = None
    row: object = None


@dataclass(eq=False)
class _ReleasePlan:
    """One release as the generator means it to be, worked out in full before anything is written."""

    kind: str
    template: object
    start: datetime.date
    calendar: object = None
    owner: object = None
    portfolio: object = None
    initiative: object = None
    project: object = None
    train: "_ReleasePlan | None" = None
    inherits: bool = False
    noun: str = ""
    impacted: list = field(default_factory=list)
    regression: list = field(default_factory=list)
    slip: int = 0
    slip_from: int = 0
    stuck: bool = False
    stuck_since: datetime.date | None = None
    cancelled: bool = False
    reject: bool = False
    override: bool = False
    keep_in_freeze: bool = False
    lag: int = 0
    late: bool = False
    name: str = ""
    version: str = ""
    status: str = "draft"
    phases: list = field(default_factory=list)
    milestones: list = field(default_factory=list)
    gates: list = field(default_factory=list)
    actual_start: datetime.date | None = None
    actual_end: datetime.date | None = None
    in_freeze: str = ""
    showcase: str = ""
    waits_for: "_ReleasePlan | None" = None
    row: object = None

    @property
    def planned_start(self) -> datetime.date:
        return min(self.start, *(phase.start for phase in self.phases))

    @property
    def planned_end(self) -> datetime.date:
        return max(phase.end for phase in self.phases)

    @property
    def baseline_start(self) -> datetime.date:
        return min(self.start, *(phase.baseline_start for phase in self.phases))

    @property
    def baseline_end(self) -> datetime.date:
        return max(phase.baseline_end for phase in self.phases)

    @property
    def target_version(self) -> str:
        """The version its impacted systems go to: 5.4 -> 5.4.0, a hotfix's 5.4.1 as it is."""
        return self.version if self.version.count(".") >= 2 else f"{self.version}.0"

    @property
    def delivery_start(self) -> datetime.date:
        """The day work past planning starts: the release is in progress from then on."""
        return min((phase.start for phase in self.phases if phase.template.kind != "plan"), default=self.planned_start)


def _anchored(calendar: WorkingCalendar, laid, where, first: datetime.date, last: datetime.date) -> datetime.date:
    """A milestone's date on its phase running `first`..`last`; the layout has it already if the phase has not
    moved from where the layout put it (`where`)."""
    if (first, last) == (where.start, where.end):
        return laid.date
    return calendar.add_working_days(first if laid.template.anchor == "start" else last, laid.template.offset_days)


class _Planner:
    """Lays releases out on their templates and calendars, then decides what has happened to them by today.

    Pure apart from reading templates, calendars, freezes and the dependency graph once: the same seed gives the
    same plans, which either preset then writes (through the services, or in bulk).
    """

    def __init__(self, rng: random.Random, templates: dict, today: datetime.date, holders: dict, odds: dict):
        self.rng = rng
        self.today = today
        self.holders = holders
        self.odds = odds
        self.layouts: dict = {}
        self.calendars: dict = {}
        self.freezes: list = []
        self.versions: dict[str, list[int]] = {}
        self.phase_counts = {template.pk: template.phases.count() for template in templates.values()}
        # Draws for how long finished phases really took: a stream of their own, so the rest stays as it was.
        self.actuals: random.Random | None = None
        self.habits: dict[int, float] = {}

    def calendar(self, calendar) -> WorkingCalendar:
        key = calendar.pk if calendar else None
        if key not in self.calendars:
            self.calendars[key] = working_calendar(calendar)
        return self.calendars[key]

    def layout(self, template, calendar, start: datetime.date):
        # Releases start on Mondays, so a few hundred layouts serve thousands of releases.
        key = (template.pk, calendar.pk if calendar else None, start)
        if key not in self.layouts:
            self.layouts[key] = template_layout(template, start, self.calendar(calendar))
        return self.layouts[key]

    # Dates

    def schedule(self, plan: _ReleasePlan) -> None:
        """Phases, milestones and gates of `plan` from its template laid out on its start (or its train's dates),
        with the slip applied to the later phases; the baseline keeps the dates as first planned."""
        calendar = self.calendar(plan.calendar)
        layout = self.layout(plan.template, plan.calendar, plan.start)
        train_phases = {phase.template.kind: phase for phase in plan.train.phases} if plan.inherits else {}
        plan.phases, by_template = [], {}
        for index, laid in enumerate(layout.phases):
            source = train_phases.get(laid.template.kind)
            if source is not None:
                phase = _PhasePlan(
                    laid.template, source.start, source.end, source.baseline_start, source.baseline_end, source
                )
            elif plan.slip and index >= plan.slip_from:
                phase = _PhasePlan(
                    laid.template,
                    calendar.add_working_days(laid.start, plan.slip),
                    calendar.add_working_days(laid.end, plan.slip),
                    laid.start,
                    laid.end,
                )
            else:
                phase = _PhasePlan(laid.template, laid.start, laid.end, laid.start, laid.end)
            plan.phases.append(phase)
            by_template[laid.template.pk] = phase
        laid_phases = {laid.template.pk: laid for laid in layout.phases}
        plan.milestones = []
        for laid in layout.milestones:
            phase, where = by_template[laid.template.phase_id], laid_phases[laid.template.phase_id]
            plan.milestones.append(
                _MilestonePlan(
                    laid.template,
                    phase,
                    _anchored(calendar, laid, where, phase.start, phase.end),
                    _anchored(calendar, laid, where, phase.baseline_start, phase.baseline_end),
                )
            )
        plan.gates = []
        for laid in layout.gates:
            phase = by_template.get(laid.template.phase_id) if laid.template.phase_id else None
            plan.gates.append(_GatePlan(laid.template, phase, phase.end if phase else plan.planned_end))

    def deploy_freeze(self, plan: _ReleasePlan) -> str:
        """The name of a deployment freeze one of the plan's deploy milestones falls in, or ""."""
        systems = {system.pk for system in plan.impacted + plan.regression}
        # The portfolio the release belongs to, by the one rule (`freezes.release_portfolio`): its own, else its
        # initiative's, else its project's initiative's.
        initiative = plan.initiative or (plan.project.initiative if plan.project else None)
        portfolio = plan.portfolio or (initiative.portfolio if initiative else None)
        portfolio_id = portfolio.pk if portfolio else None
        for milestone in plan.milestones:
            if milestone.template.kind != "deploy":
                continue
            for occurrence in self.freezes:
                if occurrence.covers(milestone.date) and freeze_applies(
                    occurrence, portfolio_id=portfolio_id, system_ids=systems
                ):
                    return occurrence.name
        return ""

    def place(self, plan: _ReleasePlan) -> None:
        """Schedule `plan`; a deploy inside a freeze moves the start a week later (planners avoid freezes), up to
        four times, unless the plan is meant to stay there."""
        for _ in range(5):
            self.schedule(plan)
            plan.in_freeze = self.deploy_freeze(plan)
            if not plan.in_freeze or plan.keep_in_freeze or plan.inherits:
                return
            plan.start += datetime.timedelta(weeks=1)

    # What has happened by today

    def progress(self, plan: _ReleasePlan) -> None:
        """Status, actual dates, % complete, reached milestones and gate decisions consistent with the dates:
        finished work is done and released, current work in progress, future work planned (or draft far out)."""
        today, rng = self.today, self.rng
        stuck_at = None
        # Troubles are recent: older releases got past theirs and shipped.
        recent = today - datetime.timedelta(days=RECENT_TROUBLE_DAYS)
        released_gates = [gate.due for gate in plan.gates if gate.template.blocks == "released" and gate.due < today]
        if plan.reject and released_gates and min(released_gates) >= recent and not plan.cancelled:
            # A rejected gate holds the release where it is: the work after it waits.
            plan.stuck, plan.stuck_since = True, min(released_gates) + datetime.timedelta(days=1)
        if plan.stuck and plan.planned_end >= recent:
            # Got stuck in the phase that was running a few weeks ago (or, had it finished by then, never shipped):
            # that phase and what follows are not done.
            when = plan.stuck_since or today - datetime.timedelta(days=rng.randint(7, 28))
            stuck_at = next((index for index, phase in enumerate(plan.phases) if index and phase.end >= when), None)
            if stuck_at is None:
                stuck_at = next((i for i, phase in enumerate(plan.phases) if phase.template.kind == "release"), None)
            if stuck_at is not None and plan.phases[stuck_at].start > today:
                stuck_at = None
        cut = today
        if plan.cancelled:
            cut = min(today, max(plan.planned_start, today - datetime.timedelta(days=rng.randint(5, 60))))
            plan.status = "cancelled"
        elif plan.planned_end < today and stuck_at is None:
            plan.status = "released"
        elif plan.delivery_start <= today:
            plan.status = "in_progress"
        elif (plan.planned_start - today).days > 100 and rng.random() < 0.6:
            plan.status = "draft"
        else:
            plan.status = "planned"
        for index, phase in enumerate(plan.phases):
            if stuck_at is not None and index >= stuck_at:
                if index == stuck_at:
                    phase.status, phase.actual_start, phase.percent = "in_progress", phase.start, rng.randint(40, 85)
                continue
            if phase.end < cut:
                phase.status, phase.percent = "done", 100
                phase.actual_start, phase.actual_end = phase.start, self.actual_end(plan, index, phase, cut)
            elif phase.start < cut:
                elapsed = (cut - phase.start).days / ((phase.end - phase.start).days + 1)
                phase.status, phase.actual_start = "in_progress", phase.start
                phase.percent = max(0, min(95, round(elapsed * 100) - rng.choice([0, 0, 5, 10]) - plan.lag))
            if plan.cancelled and phase.status != "done":
                phase.status = "skipped"
        stuck_phases = set(plan.phases[stuck_at:]) if stuck_at is not None else set()
        for milestone in plan.milestones:
            if milestone.date < cut and plan.status != "draft" and milestone.phase not in stuck_phases:
                milestone.actual = milestone.date
        if plan.status in ("in_progress", "released") or (plan.cancelled and plan.delivery_start < cut):
            plan.actual_start = plan.planned_start
        if plan.status == "released":
            plan.actual_end = plan.planned_end
        for gate in plan.gates:
            # Late: decisions of the last fortnight on what it takes to ship are still awaited.
            late = plan.late and plan.status == "in_progress" and gate.template.blocks == "released"
            late = late and (cut - gate.due).days <= 14
            decided = gate.due < cut and plan.status != "draft" and gate.phase not in stuck_phases and not late
            if decided:
                self.decide(plan, gate)
            else:
                self.tick_some(gate)

    def actual_end(self, plan: _ReleasePlan, index: int, phase: _PhasePlan, cut: datetime.date) -> datetime.date:
        """When a finished phase really ended: most overran a little and some finished early (by phase kind and the
        project's team), but never on or after `cut` nor after the release's end; the last phase ended as planned."""
        low, likely, high = ACTUAL_RATIOS.get(phase.template.kind, (1.0, 1.0, 1.0))
        if self.actuals is None or index == len(plan.phases) - 1 or low == high:
            return phase.end
        team = plan.project.owner_team_id if plan.project is not None else 0
        if team not in self.habits:
            # Seeded by the team's name, not its id: ids differ between databases and between loads.
            name = plan.project.owner_team.name if team else ""
            self.habits[team] = random.Random(f"team habit {name}").choice(TEAM_HABITS)
        calendar = self.calendar(plan.calendar)
        planned = calendar.working_days_in(phase.start, phase.end)
        days = max(1, round(planned * self.actuals.triangular(low, high, likely) * self.habits[team]))
        end = calendar.working_end(phase.start, days)
        limit = min(cut - datetime.timedelta(days=1), plan.planned_end)
        return end if end <= limit else max(phase.end, calendar.previous_working_day(limit))

    def approvers(self, roles) -> list:
        chosen = []
        for role in roles:
            candidates = [user for user in self.holders[role][:6] if user not in chosen]
            chosen.append(self.rng.choice(candidates))
        return chosen

    def decide(self, plan: _ReleasePlan, gate: _GatePlan) -> None:
        """A gate whose day has come: passed by every approver role (checklist ticked), or as the plan says,
        rejected or overridden; a Go/no-go with the deploy inside a freeze passes only by override."""
        template = gate.template
        gate.decided_at = datetime.datetime.combine(gate.due, datetime.time(15), tzinfo=datetime.UTC)
        approvers = self.approvers(template.approver_roles)
        # Checklist items are ticked by a quality or release manager (a service manager only approves).
        ticker = approvers[0] if template.approver_roles[0] in ("release_manager", "quality_manager") else None
        gate.ticked = [ticker or self.holders["release_manager"][0] for _ in template.checklist]
        if plan.reject and template.blocks == "released" and plan.status == "in_progress":
            gate.status = "rejected"
            gate.ticked[-1] = None
            role = template.approver_roles[-1]
            gate.approvals = [(role, approvers[-1], "rejected", self.rng.choice(REJECTION_COMMENTS))]
            plan.reject = False
            return
        frozen = bool(plan.in_freeze) and "no_milestone_in_freeze" in template.checks
        if (plan.override and template.blocks == "released") or frozen:
            # Overridden: let past without meeting its criteria (a checklist item open, or the deploy in a freeze).
            gate.status = "overridden"
            gate.override_reason = (
                FREEZE_OVERRIDE.format(freeze=plan.in_freeze) if frozen else self.rng.choice(OVERRIDE_REASONS)
            )
            gate.overridden_by = self.holders["release_manager"][0]
            if not frozen:
                gate.ticked[-1] = None
                plan.override = False
            return
        gate.status = "passed"
        gate.approvals = [
            (role, user, "approved", "") for role, user in zip(template.approver_roles, approvers, strict=True)
        ]

    def tick_some(self, gate: _GatePlan) -> None:
        """An open gate: checklist items get ticked as its day comes closer."""
        soon = (gate.due - self.today).days < 21
        ticker = self.holders["release_manager"][0]
        gate.ticked = [ticker if soon and self.rng.random() < 0.5 else None for _ in gate.template.checklist]

    def settle_train(self, train: _ReleasePlan, children: list) -> None:
        """A train's gates that wait on its children stay open while any open child has not passed its own."""
        met = {"passed", "overridden"}
        for gate in train.gates:
            if gate.status not in met or "children_passed" not in gate.template.checks:
                continue
            waiting = [
                child
                for child in children
                if child.status != "cancelled"
                and any(g.template.name == gate.template.name and g.status not in met for g in child.gates)
            ]
            if waiting:
                gate.status, gate.decided_at, gate.approvals = "open", None, []
                gate.override_reason, gate.overridden_by = "", None

    # Versions and names

    def next_version(self, noun: str, *, patch: bool) -> str:
        version = self.versions.setdefault(noun, [self.rng.randint(2, 9), self.rng.randint(0, 5), 0])
        if patch:
            version[2] += 1
        else:
            version[1], version[2] = version[1] + 1, 0
            if version[1] > 9:
                version[0], version[1] = version[0] + 1, 0
        return ".".join(str(part) for part in (version if patch else version[:2]))


@dataclass
class _World:
    """What release plans draw on: portfolios with their projects, systems by name, the dependency graph."""

    leaves: list
    projects: dict  # leaf portfolio pk -> projects of its live initiatives
    systems: list
    by_noun: dict
    by_pk: dict
    downstream: dict
    headquarters: object


def _noun(name: str) -> str:
    """The system noun a name starts with ("Payments Hub Modernisation" -> "Payments Hub")."""
    return max((noun for noun in SYSTEM_NOUNS if name.startswith(noun)), key=len, default=name.split()[0])


def _world() -> _World:
    leaves = list(Portfolio.objects.filter(parent__isnull=False).order_by("pk"))
    projects: dict[int, list] = {leaf.pk: [] for leaf in leaves}
    live = Project.objects.exclude(initiative__status="proposed").select_related(
        "initiative__portfolio", "initiative__department__calendar"
    )
    for project in live.order_by("pk"):
        projects.setdefault(project.initiative.portfolio_id, []).append(project)
    systems = list(System.objects.order_by("pk"))
    by_noun: dict[str, list] = {}
    for system in systems:
        by_noun.setdefault(_noun(system.name), []).append(system)
    edges = SystemDependency.objects.order_by("pk").values_list("source_id", "target_id")
    return _World(
        leaves=[leaf for leaf in leaves if projects.get(leaf.pk)],
        projects=projects,
        systems=systems,
        by_noun=by_noun,
        by_pk={system.pk: system for system in systems},
        downstream=adjacency(edges, reverse=True),
        headquarters=Calendar.objects.order_by("pk").first(),
    )


def _scope(rng: random.Random, world: _World, noun: str) -> tuple[list, list]:
    """One to three impacted systems (of the release's own noun first) and systems depending on them to
    regression-test: two to six in all."""
    pool = world.by_noun.get(noun) or world.systems
    count = rng.choice([1, 1, 2, 2, 3])
    impacted = rng.sample(pool, k=min(count, len(pool)))
    while len(impacted) < count:
        extra = rng.choice(world.systems)
        if extra not in impacted:
            impacted.append(extra)
    taken = {system.pk for system in impacted}
    dependents = sorted({pk for system in impacted for pk in world.downstream.get(system.pk, ())} - taken)
    wanted = rng.randint(max(1, 2 - len(impacted)), min(3, 6 - len(impacted)))
    regression = [world.by_pk[pk] for pk in rng.sample(dependents, k=min(wanted, len(dependents)))]
    while len(impacted) + len(regression) < 2:
        extra = rng.choice(world.systems)
        if extra.pk not in taken:
            impacted.append(extra)
            taken.add(extra.pk)
    return impacted, regression


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _child_plans(planner: _Planner, world: _World, train: _ReleasePlan, count: int, templates: dict) -> list:
    """Project releases in `train`: about half inherit its dates, the others keep their own inside its window."""
    rng = planner.rng
    pool = world.projects[train.portfolio.pk] if train.portfolio else [p for ps in world.projects.values() for p in ps]
    children = []
    for _ in range(count):
        project = rng.choice(pool)
        inherits = rng.random() < 0.5
        noun = _noun(project.initiative.name)
        impacted, regression = _scope(rng, world, noun)
        child = _ReleasePlan(
            kind="project",
            template=templates["project"],
            start=train.start if inherits else train.start + datetime.timedelta(weeks=rng.randint(0, 5)),
            calendar=train.calendar if inherits else project.initiative.department.calendar,
            owner=rng.choice(planner.holders["project_manager"]),
            portfolio=project.initiative.portfolio,
            initiative=project.initiative,
            project=project,
            train=train,
            inherits=inherits,
            noun=noun,
            impacted=impacted,
            regression=regression,
        )
        _chance(planner, child, slip=not inherits, stuck=train.planned_end >= planner.today, reject=False)
        planner.place(child)
        if child.planned_end > train.planned_end:
            # Its own dates still end with the train: start with it and drop the slip.
            child.start, child.slip = train.start, 0
            planner.schedule(child)
            child.in_freeze = planner.deploy_freeze(child)
        children.append(child)
    return children


def _chance(planner: _Planner, plan: _ReleasePlan, *, slip=True, stuck=True, reject=True, cancel=True) -> None:
    """Mark a plan to slip, get stuck, be cancelled, or have a gate rejected or overridden, at the preset's odds."""
    rng, odds = planner.rng, planner.odds
    if slip and rng.random() < odds["slip"]:
        low, high = rng.choices([size for size, _ in SLIP_SIZES], [weight for _, weight in SLIP_SIZES])[0]
        plan.slip = rng.randint(low, high)
        plan.slip_from = rng.randint(1, planner.phase_counts[plan.template.pk] - 1)
    plan.stuck = stuck and rng.random() < odds["stuck"]
    plan.cancelled = cancel and rng.random() < odds["cancelled"]
    plan.reject = reject and rng.random() < odds["rejected"]
    plan.override = rng.random() < odds["overridden"]
    plan.keep_in_freeze = rng.random() < odds["keep_in_freeze"]
    plan.lag = rng.randint(10, 35) if rng.random() < odds["behind"] else 0
    plan.late = rng.random() < odds["late"]


def _finish(planner: _Planner, trains: list, children: dict, others: list) -> list:
    """Work out what happened to every plan by today, trains after their children."""
    for plan in others:
        planner.progress(plan)
    for train in trains:
        for child in children[id(train)]:
            planner.progress(child)
        planner.progress(train)
        planner.settle_train(train, children[id(train)])
    return [plan for train in trains for plan in (train, *children[id(train)])] + others


def _demo_plans(planner: _Planner, world: _World, sizes: dict, templates: dict, users: dict) -> list:
    """Four quarterly trains, a few standalone releases (one rejected at SIT exit, one shipped past an overridden
    Go/no-go, one deploying inside the year-end freeze, one stuck, one cancelled) and a few independent ones."""
    rng, today = planner.rng, planner.today
    monday = _monday(today)
    trains, children = [], {}
    for weeks in sizes["train_weeks"]:
        train = _ReleasePlan(
            kind="enterprise",
            template=templates["enterprise"],
            start=monday + datetime.timedelta(weeks=weeks),
            calendar=world.headquarters,
            owner=users[Role.RELEASE_MANAGER],
        )
        _chance(planner, train, stuck=False, reject=False, cancel=False)
        planner.place(train)
        trains.append(train)
        children[id(train)] = _child_plans(planner, world, train, rng.randint(*sizes["children"]), templates)
    # A child of the running train got stuck in the phase of a milestone due a few weeks ago (so that milestone and
    # the phase's gate are overdue); one child of the next train is cancelled.
    running = next(train for train in trains if train.start <= today <= train.planned_end)
    for child in children[id(running)]:
        missed = [
            milestone.date
            for milestone in child.milestones
            if milestone.phase is not child.phases[0] and 3 <= (today - milestone.date).days <= 28
        ]
        if missed and not child.inherits:
            child.stuck, child.stuck_since = True, missed[0] - datetime.timedelta(days=1)
            break
    future = next(train for train in trains if train.start > today)
    children[id(future)][-1].cancelled = True
    all_projects = [project for projects in world.projects.values() for project in projects]
    others = []
    cases = [
        ("reject", -10),
        ("override", -20),
        ("freeze", None),
        ("stuck", -20),
        ("cancel", 6),
    ] + [("", rng.randint(-26, 30)) for _ in range(sizes["standalone"] - 5)]
    for case, weeks in cases:
        project = rng.choice(all_projects)
        noun = _noun(project.initiative.name)
        impacted, regression = _scope(rng, world, noun)
        plan = _ReleasePlan(
            kind="project",
            template=templates["project"],
            start=monday + datetime.timedelta(weeks=weeks or 0),
            calendar=project.initiative.department.calendar,
            owner=rng.choice(planner.holders["project_manager"]),
            portfolio=project.initiative.portfolio,
            initiative=project.initiative,
            project=project,
            noun=noun,
            impacted=impacted,
            regression=regression,
            reject=case == "reject",
            override=case == "override",
            stuck=case == "stuck",
            cancelled=case == "cancel",
            keep_in_freeze=case == "freeze",
        )
        if case in ("stuck", "reject"):
            # Troubles compound: the stuck release had slipped six weeks first, the rejected one ran behind.
            plan.slip, plan.slip_from, plan.lag = (30, 2, 20) if case == "stuck" else (0, 0, 15)
        if case == "freeze":
            _deploy_in_year_end_freeze(planner, plan)
        else:
            if not case:
                _chance(planner, plan, stuck=False, reject=False, cancel=False)
            planner.place(plan)
        others.append(plan)
    for index in range(sizes["independent"]):
        hotfix = index % 2 == 0
        system = rng.choice(world.systems)
        impacted, regression = _scope(rng, world, _noun(system.name))
        plan = _ReleasePlan(
            kind="independent",
            template=templates["independent" if hotfix else "project"],
            start=monday + datetime.timedelta(weeks=rng.randint(-20, 8) if hotfix else rng.randint(-10, 26)),
            calendar=None,
            owner=rng.choice(planner.holders["service_manager"]),
            noun=_noun(impacted[0].name),
            impacted=impacted,
            regression=regression,
        )
        _chance(planner, plan, stuck=False, reject=False, cancel=False)
        planner.place(plan)
        others.append(plan)
    return _finish(planner, trains, children, others)


@contextmanager
def _drawing_from(planner: _Planner, rng: random.Random):
    """Let the planner draw from `rng` for a while: what the schedule adds to the demo comes from a stream of random
    numbers of its own, so everything else stays as it was for the same seed."""
    saved, planner.rng = planner.rng, rng
    try:
        yield
    finally:
        planner.rng = saved


def _near_freeze_release(planner: _Planner, world: _World, templates: dict, plans: list) -> _ReleasePlan | None:
    """A project release whose UAT waits for the SIT of the next train (the first whose SIT is still ahead) and whose
    deploy falls a few working days before a year-end deployment freeze: slip that SIT by two weeks and the deploy is
    pushed past the freeze. `schedule.demo_links` makes the dependency, with no working day to spare."""
    rng, today = planner.rng, planner.today
    soon = today + datetime.timedelta(weeks=1)
    trains = sorted((p for p in plans if p.kind == "enterprise" and p.status == "planned"), key=lambda p: p.start)
    train = next((t for t in trains if min(p.start for p in t.phases if p.template.kind == "sit") > soon), None)
    if train is None:
        return None
    sit = next(phase for phase in train.phases if phase.template.kind == "sit")
    project = rng.choice([project for projects in world.projects.values() for project in projects])
    noun = _noun(project.initiative.name)
    impacted, regression = _scope(rng, world, noun)
    plan = _ReleasePlan(
        kind="project",
        template=templates["project"],
        start=_monday(today),
        calendar=world.headquarters,
        owner=rng.choice(planner.holders["project_manager"]),
        portfolio=project.initiative.portfolio,
        initiative=project.initiative,
        project=project,
        noun=noun,
        impacted=impacted,
        regression=regression,
        showcase="near_freeze",
        waits_for=train,
    )
    calendar = planner.calendar(plan.calendar)
    planner.schedule(plan)
    lead = calendar.working_days_between(plan.planned_start, _deploy(plan))
    chosen = fallback = None
    year_ends = sorted({(o.start, o.end) for o in planner.freezes if o.scope == "organisation"})
    for first, last in year_ends:
        if first < soon + datetime.timedelta(weeks=3) or chosen is not None:
            continue
        for before in (5, 4, 6, 3, 7):
            plan.start = calendar.add_working_days(calendar.add_working_days(first, -before), -lead)
            planner.schedule(plan)
            deploy = _deploy(plan)
            uat = next(phase for phase in plan.phases if phase.template.kind == "uat")
            slipped = calendar.add_working_days(deploy, 10)
            if deploy >= first or not first <= slipped <= last or uat.start <= soon or planner.deploy_freeze(plan):
                continue
            lag = schedule.tight_lag("FS", (sit.start, sit.end), (uat.start, uat.end), calendar)
            if 0 <= lag <= MAX_LAG_DAYS:
                chosen = plan.start
                break
            if fallback is None and abs(lag) <= MAX_LAG_DAYS:
                fallback = plan.start
    if (chosen or fallback) is None:
        return None
    plan.start = chosen or fallback
    planner.schedule(plan)
    planner.progress(plan)
    plan.version = planner.next_version(noun, patch=False)
    taken = {other.name.lower() for other in plans}
    plan.name = f"{noun} {plan.version}"
    while plan.name.lower() in taken:
        plan.name += "+"
    return plan


def _deploy(plan: _ReleasePlan) -> datetime.date:
    """The day of the plan's deploy milestone."""
    return next(milestone.date for milestone in plan.milestones if milestone.template.kind == "deploy")


def _deploy_in_year_end_freeze(planner: _Planner, plan: _ReleasePlan) -> None:
    """Start `plan` on the Monday that puts its deploy inside the next year-end freeze (and keep it there)."""
    ahead = [o for o in planner.freezes if o.scope == "organisation" and o.end >= planner.today]
    occurrence = min(ahead, key=lambda o: o.start)
    start = _monday(occurrence.start) - datetime.timedelta(weeks=20)
    for _ in range(30):
        plan.start = start
        planner.schedule(plan)
        deploy = next(m.date for m in plan.milestones if m.template.kind == "deploy")
        if occurrence.covers(deploy):
            break
        start += datetime.timedelta(weeks=1)
    plan.in_freeze = planner.deploy_freeze(plan)


def _enterprise_plans(planner: _Planner, world: _World, sizes: dict, templates: dict) -> list:
    """Trains per portfolio with 5 to 15 children, standalone and independent releases, to `sizes["releases"]`."""
    rng, today = planner.rng, planner.today
    total = sizes["releases"]
    low, high = sizes["children"]
    first, last = (
        _monday(today + datetime.timedelta(days=sizes["first_day"])),
        today + datetime.timedelta(days=sizes["last_day"]),
    )
    weeks = (last - first).days // 7

    def start() -> datetime.date:
        return first + datetime.timedelta(weeks=rng.randint(0, weeks))

    train_count = round(total * sizes["in_trains"] / (1 + (low + high) / 2))
    trains, children, made = [], {}, 0
    for number in range(train_count):
        leaf = world.leaves[number % len(world.leaves)]
        train = _ReleasePlan(
            kind="enterprise",
            template=templates["enterprise"],
            start=start(),
            calendar=world.headquarters,
            owner=rng.choice(planner.holders["release_manager"]),
            portfolio=leaf,
        )
        _chance(planner, train, stuck=False, reject=False, cancel=False)
        planner.place(train)
        trains.append(train)
        count = min(rng.randint(low, high), total - made - 1 - (train_count - number - 1) * (low + 1))
        children[id(train)] = _child_plans(planner, world, train, max(low, count), templates)
        made += 1 + len(children[id(train)])
    all_projects = [project for projects in world.projects.values() for project in projects]
    others = []
    remaining = total - made
    independent = round(remaining * sizes["independent"])
    for index in range(remaining):
        if index < remaining - independent:
            project = rng.choice(all_projects)
            noun = _noun(project.initiative.name)
            plan = _ReleasePlan(
                kind="project",
                template=templates["project"],
                start=start(),
                calendar=project.initiative.department.calendar,
                owner=rng.choice(planner.holders["project_manager"]),
                portfolio=project.initiative.portfolio,
                initiative=project.initiative,
                project=project,
                noun=noun,
            )
        else:
            system = rng.choice(world.systems)
            noun = _noun(system.name)
            plan = _ReleasePlan(
                kind="independent",
                template=templates["independent" if rng.random() < 0.5 else "project"],
                start=start(),
                owner=rng.choice(planner.holders["service_manager"]),
                portfolio=rng.choice(world.leaves) if rng.random() < 0.5 else None,
                noun=noun,
            )
        plan.impacted, plan.regression = _scope(rng, world, plan.noun)
        _chance(planner, plan)
        planner.place(plan)
        others.append(plan)
    return _finish(planner, trains, children, others)


def _name_plans(planner: _Planner, plans: list, preset: str) -> None:
    """Trains are named after the quarter they were planned to deploy in; releases after their system and its next
    version, in date order so versions rise over time."""
    taken: set[str] = set()
    sequence: Counter = Counter()
    for plan in sorted(plans, key=lambda p: (p.planned_start, p.kind != "enterprise")):
        if plan.kind == "enterprise":
            deploy = next(m.baseline for m in plan.milestones if m.template.kind == "deploy")
            if preset == "demo":
                name = f"Enterprise Release {deploy.year} Q{(deploy.month - 1) // 3 + 1}"
            else:
                sequence[(plan.portfolio.pk, deploy.year)] += 1
                name = f"{plan.portfolio.name} train {deploy.year}.{sequence[(plan.portfolio.pk, deploy.year)]:02d}"
        else:
            plan.version = planner.next_version(plan.noun, patch=plan.template.release_kind == "independent")
            name = f"{plan.noun} {plan.version}"
        while name.lower() in taken:
            name += "+"
        taken.add(name.lower())
        plan.name = name


def _release_templates(result: DemoResult) -> dict:
    """The three standard lifecycles, made through the services: a quarterly train, a project release, a hotfix."""
    made = {}
    for spec in RELEASE_TEMPLATES:
        template = releases.template_create(
            actor=None, name=spec["name"], description=spec["description"], release_kind=spec["release_kind"]
        )
        phases = {}
        for name, kind, days, offset, environment, effort, required in spec["phases"]:
            phases[name] = releases.phase_template_add(
                actor=None,
                template=template,
                name=name,
                kind=kind,
                duration_days=days,
                start_offset_days=offset,
                environment_type=environment,
                test_effort_days=effort,
                is_required=required,
            )
        for name, kind, phase, anchor, offset in spec["milestones"]:
            releases.milestone_template_add(
                actor=None,
                template=template,
                phase=phases[phase],
                name=name,
                kind=kind,
                anchor=anchor,
                offset_days=offset,
            )
        for name, phase, blocks, roles, checklist, checks in spec["gates"]:
            releases.gate_template_add(
                actor=None,
                template=template,
                name=name,
                blocks=blocks,
                approver_roles=list(roles),
                phase=phases[phase] if phase else None,
                checklist=list(checklist),
                checks=list(checks),
            )
        made[spec["release_kind"]] = template
        result.created["release templates"] += 1
    return made


def _freeze_windows(today: datetime.date, result: DemoResult) -> None:
    """The year-end deployment freeze, a monthly financial close for the regulatory portfolios, a one-off freeze
    of two core systems during their platform upgrade, and the yearly production booking freeze at peak trading."""
    first = today.year - 3
    regulatory = Portfolio.objects.filter(name="Regulatory Change").first()
    finance = [regulatory, *regulatory.children.order_by("pk")] if regulatory else []
    core = list(System.objects.filter(name__contains=" Core ").order_by("pk")[:2])
    upgrade = _monday(today) + datetime.timedelta(weeks=7)
    windows = [
        {
            "name": "Year-end deployment freeze",
            "category": "deployment",
            "scope": "organisation",
            "starts_on": datetime.date(first, 12, 15),
            "ends_on": datetime.date(first + 1, 1, 5),
            "recurrence": "yearly",
            "recurs_until": datetime.date(today.year + 5, 12, 15),
            "reason": "Peak trading and the financial year end: no production deployments anywhere.",
        },
        {
            "name": "Month-end financial close",
            "category": "deployment",
            "scope": "portfolios",
            "portfolios": finance,
            "starts_on": datetime.date(first, 1, 28),
            "ends_on": datetime.date(first, 2, 1),
            "recurrence": "monthly",
            "recurs_until": datetime.date(today.year + 3, 12, 28),
            "reason": "Finance closes the books: nothing touching regulatory reporting is deployed.",
        },
        {
            "name": "Core platform upgrade",
            "category": "deployment",
            "scope": "systems",
            "systems": core,
            "starts_on": upgrade,
            "ends_on": upgrade + datetime.timedelta(days=18),
            "reason": "The core platform is being upgraded; no other change to these systems until it is done.",
        },
        {
            "name": "Production booking freeze: peak trading",
            "category": "booking",
            "scope": "environments",
            "environment_types": ["production", "dr"],
            "starts_on": datetime.date(first, 11, 20),
            "ends_on": datetime.date(first, 12, 2),
            "recurrence": "yearly",
            "recurs_until": datetime.date(today.year + 5, 11, 20),
            "reason": "Production and DR capacity is reserved for peak trading.",
        },
    ]
    for window in windows:
        if window["scope"] in ("portfolios", "systems") and not window.get(window["scope"]):
            continue
        releases.freeze_create(actor=None, **window)
        result.created["freeze windows"] += 1


def _role_holders(users: dict) -> dict:
    """For each role that plans, approves or owns releases: its demo user first, then colleagues holding it."""
    roles = (Role.RELEASE_MANAGER, Role.QUALITY_MANAGER, Role.SERVICE_MANAGER, Role.PROJECT_MANAGER)
    holders = {role: [users[role]] for role in roles}
    named = {user.pk for user in users.values()}
    rows = RoleAssignment.objects.filter(role__in=roles).exclude(user_id__in=named).select_related("user")
    for row in rows.order_by("user_id", "role"):
        holders[row.role].append(row.user)
    return holders


def _releases(rng: random.Random, preset: str, users: dict[str, User], result: DemoResult, seed: int) -> None:
    """Release templates, freeze windows, and trains, project and independent releases with their phases,
    milestones, gates and systems in scope, spread around today with a history consistent with the dates; the
    schedule dependencies between them and the changes that moved their dates."""
    today = datetime.date.today()
    templates = _release_templates(result)
    _freeze_windows(today, result)
    planner = _Planner(rng, templates, today, _role_holders(users), RELEASE_ODDS[preset])
    planner.actuals = random.Random(f"{seed} actual durations")
    # The schedule's links and history draw from a stream of their own (see `_drawing_from`).
    links_rng = random.Random(f"{seed} schedule")
    planner.freezes = freezes_between(
        today - datetime.timedelta(days=800), today + datetime.timedelta(days=800), category="deployment"
    )
    world = _world()
    sizes = RELEASE_SIZES[preset]
    if preset == "demo":
        plans = _demo_plans(planner, world, sizes, templates, users)
    else:
        plans = _enterprise_plans(planner, world, sizes, templates)
    _name_plans(planner, plans, preset)

    def calendar_of(plan: _ReleasePlan) -> WorkingCalendar:
        return planner.calendar(plan.calendar)

    if preset == "demo":
        with _drawing_from(planner, links_rng):
            near = _near_freeze_release(planner, world, templates, plans)
        if near is not None:
            plans.append(near)
        _write_through_services(plans, users, planner.holders, result, links_rng)
        links = schedule.demo_links(links_rng, calendar_of, plans)
        result.created["schedule dependencies"] += schedule.create_links(links, users[Role.RELEASE_MANAGER])
    else:
        _write_in_bulk(plans, result)
        links = schedule.enterprise_links(links_rng, calendar_of, plans)
        result.created["schedule dependencies"] += schedule.insert_links(links, RELEASE_BATCH)
        result.created["schedule changes"] += schedule.insert_history(
            links_rng, calendar_of, plans, planner.holders, today, RELEASE_BATCH
        )


def _stamp(day: datetime.date, hour: int = 15) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _write_in_bulk(plans: list, result: DemoResult) -> None:
    """Insert the plans with bulk inserts, in the shape the services give them (positions, criteria, baselines)."""
    trains = [plan for plan in plans if plan.kind == "enterprise"]
    others = [plan for plan in plans if plan.kind != "enterprise"]
    for group in (trains, others):
        rows = []
        for plan in group:
            baselined = plan.status != "draft"
            plan.row = Release(
                name=plan.name,
                kind=plan.kind,
                status=plan.status,
                train_id=plan.train.row.pk if plan.train else None,
                inherits_train_dates=plan.inherits,
                template_id=plan.template.pk,
                owner_id=_pk(plan.owner),
                portfolio_id=_pk(plan.portfolio),
                initiative_id=_pk(plan.initiative),
                project_id=_pk(plan.project),
                calendar_id=_pk(plan.calendar),
                description=_description(plan),
                planned_start=plan.planned_start,
                planned_end=plan.planned_end,
                baseline_start=plan.baseline_start if baselined else None,
                baseline_end=plan.baseline_end if baselined else None,
                actual_start=plan.actual_start,
                actual_end=plan.actual_end,
            )
            rows.append(plan.row)
        Release.objects.bulk_create(rows, batch_size=RELEASE_BATCH)
    for group in (trains, others):
        rows = []
        for plan in group:
            baselined = plan.status != "draft"
            for position, phase in enumerate(plan.phases, start=1):
                template = phase.template
                phase.row = Phase(
                    release_id=plan.row.pk,
                    template_id=template.pk,
                    train_phase_id=phase.train_phase.row.pk if phase.train_phase else None,
                    position=position,
                    name=template.name,
                    kind=template.kind,
                    status=phase.status,
                    planned_start=phase.start,
                    planned_end=phase.end,
                    baseline_start=phase.baseline_start if baselined else None,
                    baseline_end=phase.baseline_end if baselined else None,
                    actual_start=phase.actual_start,
                    actual_end=phase.actual_end,
                    percent_complete=phase.percent,
                    environment_type=template.environment_type,
                    test_effort_days=template.test_effort_days,
                    is_required=template.is_required,
                )
                rows.append(phase.row)
        Phase.objects.bulk_create(rows, batch_size=RELEASE_BATCH)
        result.created["phases"] += len(rows)
    milestones, gates, scope = [], [], []
    for plan in plans:
        baselined = plan.status != "draft"
        for milestone in plan.milestones:
            milestone.row = Milestone(
                release_id=plan.row.pk,
                phase_id=milestone.phase.row.pk,
                template_id=milestone.template.pk,
                name=milestone.template.name,
                kind=milestone.template.kind,
                planned_date=milestone.date,
                baseline_date=milestone.baseline if baselined else None,
                actual_date=milestone.actual,
            )
            milestones.append(milestone.row)
        for gate in plan.gates:
            gate.row = Gate(
                release_id=plan.row.pk,
                phase_id=gate.phase.row.pk if gate.phase else None,
                template_id=gate.template.pk,
                name=gate.template.name,
                blocks=gate.template.blocks,
                due_date=gate.due,
                approver_roles=list(gate.template.approver_roles),
                status=gate.status,
                decided_at=gate.decided_at,
                override_reason=gate.override_reason,
                overridden_by_id=_pk(gate.overridden_by),
            )
            gates.append(gate.row)
        scope += [
            ReleaseSystem(
                release_id=plan.row.pk, system_id=system.pk, impact="impacted", target_version=plan.target_version
            )
            for system in plan.impacted
        ]
        scope += [
            ReleaseSystem(release_id=plan.row.pk, system_id=system.pk, impact="regression")
            for system in plan.regression
        ]
    Milestone.objects.bulk_create(milestones, batch_size=RELEASE_BATCH)
    Gate.objects.bulk_create(gates, batch_size=RELEASE_BATCH)
    ReleaseSystem.objects.bulk_create(scope, batch_size=RELEASE_BATCH)
    criteria, approvals = [], []
    for plan in plans:
        for gate in plan.gates:
            template = gate.template
            for position, (text, ticker) in enumerate(zip(template.checklist, gate.ticked, strict=True)):
                met_at = (gate.decided_at or _stamp(min(gate.due, datetime.date.today()), 9)) - datetime.timedelta(
                    hours=20
                )
                criteria.append(
                    GateCriterion(
                        gate_id=gate.row.pk,
                        position=position,
                        kind="manual",
                        text=text,
                        is_met=ticker is not None,
                        met_by_id=_pk(ticker),
                        met_at=met_at if ticker is not None else None,
                    )
                )
            criteria += [
                GateCriterion(
                    gate_id=gate.row.pk,
                    position=len(template.checklist) + index,
                    kind="automatic",
                    text=check_label(key),
                    check_key=key,
                    # As recorded when the gate was decided; an overridden gate was let through without them.
                    is_met=gate.row.status in ("passed", "rejected"),
                    met_at=gate.decided_at if gate.row.status != "open" else None,
                )
                for index, key in enumerate(template.checks)
            ]
            approvals += [
                GateApproval(
                    gate_id=gate.row.pk,
                    role=role,
                    approver_id=user.pk,
                    decision=decision,
                    comment=comment,
                    decided_at=gate.decided_at,
                )
                for role, user, decision, comment in gate.approvals
            ]
    GateCriterion.objects.bulk_create(criteria, batch_size=RELEASE_BATCH)
    GateApproval.objects.bulk_create(approvals, batch_size=RELEASE_BATCH)
    result.created["releases"] += len(plans)
    result.created["milestones"] += len(milestones)
    result.created["gates"] += len(gates)
    result.created["gate criteria"] += len(criteria)
    result.created["gate approvals"] += len(approvals)
    result.created["systems in scope"] += len(scope)


def _pk(row) -> int | None:
    return row.pk if row is not None else None


def _description(plan: _ReleasePlan) -> str:
    if plan.kind == "enterprise":
        where = plan.portfolio.name if plan.portfolio else "the whole organisation"
        return f"The quarterly enterprise release of {where}: its project releases build, test and deploy together."
    if plan.project is not None:
        return f"Delivers {plan.project.name} to production."
    return f"Fixes and vendor patches for {plan.impacted[0].name}, shipped outside the trains."


def _write_through_services(plans: list, users: dict, holders: dict, result: DemoResult, rng: random.Random) -> None:
    """Make the plans the way people would: create from the template, join the train, set the scope, plan (which
    records the baseline), move the slipped phases (an applied schedule change, with its reason), record progress,
    tick checklists, decide gates and move each release along its workflow, so the audit trail and the history are
    real.

    Only the times of gate decisions and of schedule changes are back-dated afterwards: the services stamp them now,
    the plan says when.
    """
    trains = [plan for plan in plans if plan.kind == "enterprise"]
    groups = [[train, *(plan for plan in plans if plan.train is train)] for train in trains]
    groups += [[plan] for plan in plans if plan.kind != "enterprise" and plan.train is None]
    manager = users[Role.RELEASE_MANAGER]
    for group in groups:
        for plan in group:
            _create_release(plan)
        for plan in group:
            _align_dates(plan, baseline=True)
            if plan.status != "draft":
                releases.release_transition(actor=manager, release=plan.row, to_status="planned")
        for plan in group:
            result.created["schedule changes"] += _slip_phases(plan, manager, rng)
        for plan in group:
            _align_dates(plan, baseline=False)
        for plan in group[1:] + group[:1]:  # a train's children before the train: its gates wait on theirs
            _record_progress(plan, manager)
    _backdate_decisions(plans)
    result.created["releases"] += len(plans)
    for name, count in _counts(plans).items():
        result.created[name] += count


def _create_release(plan: _ReleasePlan) -> None:
    plan.row = releases.release_create(
        actor=None,
        name=plan.name,
        kind=plan.kind,
        planned_start=plan.start,
        template=plan.template,
        owner=plan.owner,
        portfolio=plan.portfolio,
        initiative=plan.initiative,
        project=plan.project,
        calendar=plan.calendar,
        description=_description(plan),
        train=plan.train.row if plan.train else None,
        inherit_train_dates=plan.inherits,
    )
    for system in plan.impacted:
        releases.release_scope_set(
            actor=None, release=plan.row, system=system, impact="impacted", target_version=plan.target_version
        )
    for system in plan.regression:
        releases.release_scope_set(actor=None, release=plan.row, system=system, impact="regression")


def _align_dates(plan: _ReleasePlan, *, baseline: bool) -> None:
    """Put milestones (and, once the dates are final, gates) on the plan's dates: a child inheriting its train's
    phases has them anchored to those phases, not to its own layout."""
    plan.row.refresh_from_db()
    for phase, row in zip(plan.phases, plan.row.phases.order_by("position"), strict=True):
        phase.row = row
    milestones = {row.template_id: row for row in plan.row.milestones.all()}
    for milestone in plan.milestones:
        row, day = milestones[milestone.template.pk], milestone.baseline if baseline else milestone.date
        if row.planned_date != day:
            releases.milestone_update(actor=None, milestone=row, planned_date=day)
        milestone.row = row
    if baseline:
        return
    gates = {row.template_id: row for row in plan.row.gates.all()}
    for gate in plan.gates:
        row = gates[gate.template.pk]
        if row.due_date != gate.due:
            releases.gate_update(actor=None, gate=row, due_date=gate.due)
        gate.row = row


def _slip_phases(plan: _ReleasePlan, manager: User, rng: random.Random) -> int:
    """Move the phases that slipped as the release manager would: one schedule change, with its reason, that moves
    the first of them (the later ones, their milestones and gates, a train's inheriting children and the release's
    window follow) and leaves a history entry on every release it moved, dated when the slip was decided.

    Answers how many history entries it left."""
    if plan.inherits:
        return 0
    plan.row.refresh_from_db()
    rows = list(plan.row.phases.order_by("position"))
    moved = [(phase, row) for phase, row in zip(plan.phases, rows, strict=True) if row.planned_end != phase.end]
    if not moved:
        return 0
    phase, row = moved[0]
    applied = releases.schedule_apply(
        actor=manager,
        changes=[Change(key=f"phase:{row.pk}", new_start=phase.start)],
        reason=rng.choice(schedule.SLIP_REASONS),
    )
    calendar = working_calendar(plan.row.calendar)
    decided = schedule.decided_on(rng, calendar, phase.baseline_start, datetime.date.today())
    entries = ScheduleChange.objects.filter(batch=applied["batch"]).update(occurred_at=decided)
    # The engine pushes the later phases exactly as far as the plan moved them; should it ever disagree (a calendar
    # quirk), the plan's dates win, so that statuses and progress still agree with the dates.
    rows = list(plan.row.phases.order_by("position"))
    astray = [
        (p, row)
        for p, row in zip(plan.phases, rows, strict=True)
        if (row.planned_start, row.planned_end) != (p.start, p.end)
    ]
    if astray:
        plan.row.refresh_from_db()
        if plan.row.planned_end < plan.planned_end:
            releases.release_update(actor=None, release=plan.row, planned_end=plan.planned_end)
        for phase, row in reversed(astray):
            releases.phase_update(actor=None, phase=row, planned_start=phase.start, planned_end=phase.end)
    return entries


def _record_progress(plan: _ReleasePlan, manager: User) -> None:
    """Checklists, gate decisions, phase progress, milestones reached and the workflow moves, as they happened."""
    plan.row.refresh_from_db()
    for gate in plan.gates:
        gate.row.refresh_from_db()
        manual = list(gate.row.criteria.filter(kind="manual").order_by("position"))
        for criterion, ticker in zip(manual, gate.ticked, strict=True):
            if ticker is not None:
                releases.gate_criterion_set(actor=ticker, criterion=criterion, is_met=True)
        if gate.status in ("passed", "rejected"):
            for role, user, decision, comment in gate.approvals:
                releases.gate_decide(actor=user, gate=gate.row, role=role, decision=decision, comment=comment)
        elif gate.status == "overridden":
            releases.gate_override(actor=gate.overridden_by, gate=gate.row, reason=gate.override_reason)
    for phase, row in zip(plan.phases, plan.row.phases.order_by("position"), strict=True):
        changes = {
            name: value
            for name, value in (
                ("status", phase.status),
                ("percent_complete", phase.percent),
                ("actual_start", phase.actual_start),
                ("actual_end", phase.actual_end),
            )
            if getattr(row, name) != value
        }
        if changes:
            releases.phase_update(actor=None, phase=row, **changes)
    for milestone in plan.milestones:
        if milestone.actual is not None:
            releases.milestone_update(actor=None, milestone=milestone.row, actual_date=milestone.actual)
    started = plan.actual_start is not None
    if started:
        releases.release_update(
            actor=None, release=plan.row, actual_start=plan.actual_start, actual_end=plan.actual_end
        )
    moves = {
        "in_progress": ["in_progress"],
        "released": ["in_progress", "released"],
        "cancelled": ["in_progress", "cancelled"] if started else ["cancelled"],
    }
    for status in moves.get(plan.status, []):
        reason = "Descoped: the business case moved to next year's budget." if status == "cancelled" else ""
        releases.release_transition(actor=manager, release=plan.row, to_status=status, reason=reason)


def _backdate_decisions(plans: list) -> None:
    """Gate decisions and ticks carry the day they were made in the plan, not the day the demo was loaded."""
    for plan in plans:
        for gate in plan.gates:
            if gate.decided_at is None:
                continue
            Gate.objects.filter(pk=gate.row.pk).update(decided_at=gate.decided_at)
            GateApproval.objects.filter(gate_id=gate.row.pk).update(decided_at=gate.decided_at)
            GateCriterion.objects.filter(gate_id=gate.row.pk, is_met=True).update(
                met_at=gate.decided_at - datetime.timedelta(hours=20)
            )


def _counts(plans: list) -> dict:
    return {
        "phases": sum(len(plan.phases) for plan in plans),
        "milestones": sum(len(plan.milestones) for plan in plans),
        "gates": sum(len(plan.gates) for plan in plans),
        "gate criteria": sum(len(g.template.checklist) + len(g.template.checks) for p in plans for g in p.gates),
        "gate approvals": sum(len(gate.approvals) for plan in plans for gate in plan.gates),
        "systems in scope": sum(len(plan.impacted) + len(plan.regression) for plan in plans),
    }


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
        _releases(rng, preset, users, result, seed)
        load_environments(preset=preset, seed=seed, users=users, result=result)
    return result


def database_is_empty() -> bool:
    """No user exists yet: the state in which `make run` loads the demo preset."""
    return not User.objects.exists()
