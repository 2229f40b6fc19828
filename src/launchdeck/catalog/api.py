from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.catalog import selectors, services
from launchdeck.catalog.choices import Direction, Lifecycle, SystemKind
from launchdeck.catalog.models import System
from launchdeck.catalog.schemas import (
    ComponentIn,
    ComponentOut,
    ComponentPatch,
    DependencyIn,
    DependencyOut,
    DependencyPatch,
    GraphOut,
    SystemClosureOut,
    SystemIn,
    SystemOut,
    SystemPatch,
)
from launchdeck.core.api import ERROR_RESPONSES, MAX_ID, READ_RESPONSES, Id, Pagination, apply_sort, referenced
from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.models import Team

router = Router(tags=["System catalogue"])

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
SYSTEM_SORTS = {"name": "name", "tier": "tier", "lifecycle": "lifecycle", "owner_team": "owner_team__name"}


class SystemFilter(Schema):
    search: str | None = Field(None, max_length=200)
    owner_team: Id | None = None
    tier: int | None = Field(None, ge=1, le=4)
    lifecycle: Lifecycle | None = None
    kind: SystemKind | None = None
    sort: str | None = Field(None, max_length=200)


class DependencyFilter(Schema):
    source: Id | None = None
    target: Id | None = None
    system: Id | None = Field(None, description="Either end.")


def _owner(request, data: dict) -> dict:
    if "owner_team_id" in data:
        team_id = data.pop("owner_team_id")
        if team_id is None:
            raise ValidationFailed.field("owner_team_id", "A system needs an owner team.")
        data["owner_team"] = referenced(Team.objects.restrict(request.auth), team_id, field="owner_team_id")
    return data


def _system(request, pk: int) -> System:
    return selectors.system_get(user=request.auth, pk=pk)


@router.get("/systems", response={200: list[SystemOut], **READ_RESPONSES}, operation_id="list_systems")
@paginate(Pagination)
def list_systems(request: HttpRequest, filters: Query[SystemFilter]):
    """The system catalogue; filter by owner team, tier, lifecycle, kind or `search`."""
    systems = selectors.system_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(systems, filters.sort, SYSTEM_SORTS, "name")


@router.get("/systems/{system_id}", response={200: SystemOut, **READ_RESPONSES}, operation_id="get_system")
def get_system(request: HttpRequest, system_id: PathId):
    return _system(request, system_id)


@router.post("/systems", response={201: SystemOut, **ERROR_RESPONSES}, operation_id="create_system")
def create_system(request: HttpRequest, payload: SystemIn):
    system = services.system_create(actor=request.auth, **_owner(request, payload.dict()))
    return Status(201, _system(request, system.pk))


@router.patch("/systems/{system_id}", response={200: SystemOut, **ERROR_RESPONSES}, operation_id="update_system")
def update_system(request: HttpRequest, system_id: PathId, payload: SystemPatch):
    changes = _owner(request, payload.dict(exclude_unset=True))
    services.system_update(actor=request.auth, system=_system(request, system_id), **changes)
    return _system(request, system_id)


@router.delete("/systems/{system_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_system")
def delete_system(request: HttpRequest, system_id: PathId):
    services.system_delete(actor=request.auth, system=_system(request, system_id))
    return Status(204, None)


@router.get(
    "/systems/{system_id}/closure",
    response={200: SystemClosureOut, **READ_RESPONSES},
    operation_id="get_system_closure",
)
def get_system_closure(
    request: HttpRequest,
    system_id: PathId,
    direction: Direction = Direction.DOWNSTREAM,
    max_depth: Annotated[int | None, Query(ge=1, le=100)] = None,
):
    """Downstream: every system that depends on this one, directly or not (what may break if it changes, what must
    be regression-tested). Upstream: everything it depends on. Each with depth and one shortest path."""
    system = _system(request, system_id)
    reached = selectors.system_closure(user=request.auth, system=system, direction=direction, max_depth=max_depth)
    return {
        "system_id": system.pk,
        "direction": direction,
        "count": len(reached),
        "systems": reached,
    }


@router.get("/systems/{system_id}/graph", response={200: GraphOut, **READ_RESPONSES}, operation_id="get_system_graph")
def get_system_graph(request: HttpRequest, system_id: PathId, levels: Annotated[int, Query(ge=1, le=6)] = 2):
    """The systems within `levels` hops either way, and the dependencies between them."""
    return selectors.system_neighbourhood(user=request.auth, system=_system(request, system_id), levels=levels)


@router.get(
    "/systems/{system_id}/components",
    response={200: list[ComponentOut], **READ_RESPONSES},
    operation_id="list_components",
)
def list_components(request: HttpRequest, system_id: PathId):
    return list(selectors.component_list(user=request.auth, system=_system(request, system_id).pk))


@router.post(
    "/systems/{system_id}/components", response={201: ComponentOut, **ERROR_RESPONSES}, operation_id="create_component"
)
def create_component(request: HttpRequest, system_id: PathId, payload: ComponentIn):
    component = services.component_create(actor=request.auth, system=_system(request, system_id), **payload.dict())
    return Status(201, component)


def _component(request, system_id: int, component_id: int):
    component = selectors.component_list(user=request.auth, system=system_id).filter(pk=component_id).first()
    if component is None:
        raise NotFound("Component not found.")
    return component


@router.patch(
    "/systems/{system_id}/components/{component_id}",
    response={200: ComponentOut, **ERROR_RESPONSES},
    operation_id="update_component",
)
def update_component(request: HttpRequest, system_id: PathId, component_id: PathId, payload: ComponentPatch):
    component = _component(request, system_id, component_id)
    return services.component_update(actor=request.auth, component=component, **payload.dict(exclude_unset=True))


@router.delete(
    "/systems/{system_id}/components/{component_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_component",
)
def delete_component(request: HttpRequest, system_id: PathId, component_id: PathId):
    services.component_delete(actor=request.auth, component=_component(request, system_id, component_id))
    return Status(204, None)


@router.get(
    "/system-dependencies", response={200: list[DependencyOut], **READ_RESPONSES}, operation_id="list_dependencies"
)
@paginate(Pagination)
def list_dependencies(request: HttpRequest, filters: Query[DependencyFilter]):
    """System dependencies: `source` depends on `target`."""
    return selectors.dependency_list(user=request.auth, **filters.dict()).order_by("source__name", "target__name", "pk")


@router.post("/system-dependencies", response={201: DependencyOut, **ERROR_RESPONSES}, operation_id="create_dependency")
def create_dependency(request: HttpRequest, payload: DependencyIn):
    """Record that `source_id` depends on `target_id`; cycles are allowed, a system depending on itself is not."""
    data = payload.dict()
    visible = System.objects.restrict(request.auth)
    data["source"] = referenced(visible, data.pop("source_id"), field="source_id")
    data["target"] = referenced(visible, data.pop("target_id"), field="target_id")
    return Status(201, services.dependency_create(actor=request.auth, **data))


def _dependency(request, pk: int):
    return selectors.dependency_list(user=request.auth).get_visible(pk=pk)


@router.get(
    "/system-dependencies/{dependency_id}",
    response={200: DependencyOut, **READ_RESPONSES},
    operation_id="get_dependency",
)
def get_dependency(request: HttpRequest, dependency_id: PathId):
    return _dependency(request, dependency_id)


@router.patch(
    "/system-dependencies/{dependency_id}",
    response={200: DependencyOut, **ERROR_RESPONSES},
    operation_id="update_dependency",
)
def update_dependency(request: HttpRequest, dependency_id: PathId, payload: DependencyPatch):
    dependency = _dependency(request, dependency_id)
    return services.dependency_update(actor=request.auth, dependency=dependency, **payload.dict(exclude_unset=True))


@router.delete(
    "/system-dependencies/{dependency_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_dependency",
)
def delete_dependency(request: HttpRequest, dependency_id: PathId):
    services.dependency_delete(actor=request.auth, dependency=_dependency(request, dependency_id))
    return Status(204, None)
