from ninja import Field, Schema

from launchdeck.catalog.choices import DependencyCriticality, Direction, InterfaceKind, Lifecycle, SystemKind
from launchdeck.core.api import Id, StrictIn, Version

NAME = Field(min_length=1, max_length=150)
TEXT = Field("", max_length=5000)


class SystemOut(Schema):
    id: int
    name: str
    kind: SystemKind
    owner_team_id: int
    owner_team: str = Field(alias="owner_team.name")
    tier: int
    lifecycle: Lifecycle
    description: str
    external_ids: dict[str, str]
    dependency_count: int = 0
    dependent_count: int = 0
    version: int


class SystemIn(StrictIn):
    name: str = NAME
    owner_team_id: Id
    kind: SystemKind = SystemKind.APPLICATION
    tier: int = Field(3, ge=1, le=4, description="1 = business critical … 4 = low impact.")
    lifecycle: Lifecycle = Lifecycle.LIVE
    description: str = TEXT
    external_ids: dict[str, str] = Field(default_factory=dict, description="Ids in other tools, e.g. the CMDB.")


class SystemPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    owner_team_id: Id | None = None
    kind: SystemKind | None = None
    tier: int | None = Field(None, ge=1, le=4)
    lifecycle: Lifecycle | None = None
    description: str | None = Field(None, max_length=5000)
    external_ids: dict[str, str] | None = None


class ComponentOut(Schema):
    id: int
    system_id: int
    name: str
    description: str
    version: int


class ComponentIn(StrictIn):
    name: str = NAME
    description: str = TEXT


class ComponentPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = Field(None, max_length=5000)


class DependencyOut(Schema):
    id: int
    source_id: int
    source: str = Field(alias="source.name")
    target_id: int
    target: str = Field(alias="target.name")
    interface_kind: InterfaceKind
    criticality: DependencyCriticality
    description: str
    version: int


class DependencyIn(StrictIn):
    source_id: Id = Field(description="The system that depends on the target.")
    target_id: Id = Field(description="The system depended on.")
    interface_kind: InterfaceKind = InterfaceKind.API
    criticality: DependencyCriticality = DependencyCriticality.MEDIUM
    description: str = TEXT


class DependencyPatch(StrictIn):
    version: Version
    interface_kind: InterfaceKind | None = None
    criticality: DependencyCriticality | None = None
    description: str | None = Field(None, max_length=5000)


class ReachedSystemOut(Schema):
    id: int
    name: str
    tier: int
    owner_team_id: int
    depth: int = Field(description="Hops from the system asked about.")
    path: list[int] = Field(description="System ids of one shortest path, from the system asked about to this one.")


class SystemClosureOut(Schema):
    system_id: int
    direction: Direction
    count: int
    systems: list[ReachedSystemOut]


class GraphNodeOut(Schema):
    id: int
    name: str
    tier: int
    depth: int
    side: str
    url: str


class GraphLinkOut(Schema):
    source: int
    target: int
    kind: str


class GraphOut(Schema):
    nodes: list[GraphNodeOut]
    links: list[GraphLinkOut]
