import datetime
from decimal import Decimal

from ninja import Field, Schema

from launchdeck.core.api import Id, StrictIn, Version
from launchdeck.org.choices import Skill

NAME = Field(min_length=1, max_length=120)
WEEKDAYS = Field(max_length=7, description="Weekday numbers off work, Monday = 0.")


class CalendarClosureOut(Schema):
    id: int
    name: str
    start: datetime.date
    end: datetime.date


class CalendarOut(Schema):
    id: int
    name: str
    country: str
    subdivision: str
    weekend: list[int]
    description: str
    closures: list[CalendarClosureOut]
    version: int


class CalendarIn(StrictIn):
    name: str = Field(min_length=1, max_length=100)
    country: str = Field("", max_length=2, description="ISO 3166 country code, e.g. GB.")
    subdivision: str = Field("", max_length=10, description="Region code, e.g. ENG.")
    weekend: list[int] = Field([5, 6], max_length=7, description="Weekday numbers off work, Monday = 0.")
    description: str = Field("", max_length=5000)


class CalendarPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    country: str | None = Field(None, max_length=2)
    subdivision: str | None = Field(None, max_length=10)
    weekend: list[int] | None = Field(None, max_length=7)
    description: str | None = Field(None, max_length=5000)


class CalendarClosureIn(StrictIn):
    name: str = Field(min_length=1, max_length=100)
    start: datetime.date
    end: datetime.date


class WorkingDaysOut(Schema):
    start: datetime.date
    end: datetime.date
    working_days: int = Field(description="Working days from start to end, both included.")
    days_off: list[dict] = Field(description="Public holidays and closures in the range: {date, name}.")


class AddWorkingDaysOut(Schema):
    start: datetime.date
    days: int
    result: datetime.date


class DepartmentOut(Schema):
    id: int
    name: str
    cost_centre: str
    calendar_id: int | None
    description: str
    team_count: int
    capacity_person_days_per_week: float
    version: int

    @staticmethod
    def resolve_capacity_person_days_per_week(obj) -> float:
        return float(getattr(obj, "capacity", None) or 0)


class DepartmentIn(StrictIn):
    name: str = NAME
    cost_centre: str = Field(min_length=1, max_length=40)
    calendar_id: Id | None = None
    description: str = Field("", max_length=5000)


class DepartmentPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    cost_centre: str | None = Field(None, min_length=1, max_length=40)
    calendar_id: Id | None = None
    description: str | None = Field(None, max_length=5000)


class TeamOut(Schema):
    id: int
    name: str
    department_id: int
    department: str = Field(alias="department.name")
    capacity_person_days_per_week: float
    skills: list[Skill] = Field(alias="skill_codes")
    calendar_id: int | None
    member_count: int = 0
    description: str
    version: int


CAPACITY = Field(ge=0, le=100_000, max_digits=8, decimal_places=1, description="Person-days per week.")


class TeamIn(StrictIn):
    name: str = NAME
    department_id: Id
    capacity_person_days_per_week: Decimal = CAPACITY
    skills: list[Skill] = Field(default_factory=list, max_length=5)
    calendar_id: Id | None = None
    description: str = Field("", max_length=5000)


class TeamPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    department_id: Id | None = None
    capacity_person_days_per_week: Decimal | None = Field(None, ge=0, le=100_000, max_digits=8, decimal_places=1)
    skills: list[Skill] | None = Field(None, max_length=5)
    calendar_id: Id | None = None
    description: str | None = Field(None, max_length=5000)


class PersonOut(Schema):
    id: int
    full_name: str
    email: str
    fte: float
    team_ids: list[int]
    username: str | None
    version: int

    @staticmethod
    def resolve_team_ids(obj) -> list[int]:
        return [team.pk for team in obj.teams.all()]

    @staticmethod
    def resolve_username(obj) -> str | None:
        return obj.user.username if obj.user_id else None


class PersonIn(StrictIn):
    full_name: str = Field(min_length=1, max_length=150)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    fte: Decimal = Field(Decimal("1"), gt=0, le=1, max_digits=3, decimal_places=2)
    team_ids: list[Id] = Field(default_factory=list, max_length=50)
    username: str | None = Field(None, max_length=150, description="The sign-in account of this person, if any.")


class PersonPatch(StrictIn):
    version: Version
    full_name: str | None = Field(None, min_length=1, max_length=150)
    email: str | None = Field(None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    fte: Decimal | None = Field(None, gt=0, le=1, max_digits=3, decimal_places=2)
    team_ids: list[Id] | None = Field(None, max_length=50)
    username: str | None = Field(None, max_length=150)
