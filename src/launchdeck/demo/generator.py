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
from launchdeck.org.models import Team

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
    return result


def database_is_empty() -> bool:
    """No user exists yet: the state in which `make run` loads the demo preset."""
    return not User.objects.exists()
