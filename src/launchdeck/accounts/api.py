from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.accounts import selectors, services
from launchdeck.accounts.roles import Role
from launchdeck.accounts.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    ApiTokenRevokeIn,
    UserIn,
    UserOut,
    UserPatch,
)
from launchdeck.core.api import ERROR_RESPONSES, MAX_ID, READ_RESPONSES, Pagination, apply_sort

router = Router(tags=["Accounts"])

USER_SORTS = {"username": "username", "last_name": "last_name", "date_joined": "date_joined"}
TOKEN_SORTS = {"created_at": "created_at", "name": "name", "expires_at": "expires_at"}


class UserFilter(Schema):
    search: str | None = Field(None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    sort: str | None = None


class TokenFilter(Schema):
    state: Literal["active", "revoked"] | None = None
    sort: str | None = None


@router.get("/users", response={200: list[UserOut], **READ_RESPONSES}, operation_id="list_users")
@paginate(Pagination)
def list_users(request: HttpRequest, filters: Query[UserFilter]):
    """Users, with their roles. Filter by `search` (name or e-mail), `role`, `is_active`; sort by `sort`."""
    users = selectors.user_list(
        user=request.auth, search=filters.search, role=filters.role, is_active=filters.is_active
    )
    return apply_sort(users, filters.sort, USER_SORTS, "username")


@router.get("/users/me", response={200: UserOut, **READ_RESPONSES}, operation_id="get_current_user")
def get_current_user(request: HttpRequest):
    """The signed-in user (or the owner of the bearer token)."""
    return request.auth


@router.get("/users/{username}", response={200: UserOut, **READ_RESPONSES}, operation_id="get_user")
def get_user(request: HttpRequest, username: str):
    return selectors.user_get(user=request.auth, username=username)


@router.post("/users", response={201: UserOut, **ERROR_RESPONSES}, operation_id="create_user")
def create_user(request: HttpRequest, payload: UserIn):
    """Create a user (administrators only). The password must pass the password rules."""
    user = services.user_create(actor=request.auth, **payload.dict())
    return Status(201, user)


@router.patch("/users/{username}", response={200: UserOut, **ERROR_RESPONSES}, operation_id="update_user")
def update_user(request: HttpRequest, username: str, payload: UserPatch):
    """Change a user's details, roles or active flag (administrators only). Send the `version` you read."""
    user = selectors.user_get(user=request.auth, username=username)
    return services.user_update(actor=request.auth, user=user, **payload.dict(exclude_unset=True))


@router.get("/tokens", response={200: list[ApiTokenOut], **READ_RESPONSES}, operation_id="list_api_tokens")
@paginate(Pagination)
def list_api_tokens(request: HttpRequest, filters: Query[TokenFilter]):
    """Your API tokens (everyone's, for user administrators). `state` is active or revoked."""
    tokens = selectors.api_token_list(user=request.auth, state=filters.state)
    return apply_sort(tokens, filters.sort, TOKEN_SORTS, "-created_at")


@router.post("/tokens", response={201: ApiTokenCreatedOut, **ERROR_RESPONSES}, operation_id="create_api_token")
def create_api_token(request: HttpRequest, payload: ApiTokenIn):
    """Create a bearer token. The token is in this response only; store it now."""
    owner = request.auth
    if payload.username and payload.username != request.auth.username:
        owner = selectors.user_get(user=request.auth, username=payload.username)
    token, raw = services.api_token_create(
        actor=request.auth, user=owner, name=payload.name, expires_in_days=payload.expires_in_days
    )
    token.token = raw
    return Status(201, token)


@router.post(
    "/tokens/{token_id}/revoke", response={200: ApiTokenOut, **ERROR_RESPONSES}, operation_id="revoke_api_token"
)
def revoke_api_token(
    request: HttpRequest, token_id: Annotated[int, Path(ge=1, le=MAX_ID)], payload: ApiTokenRevokeIn | None = None
):
    """Revoke a token at once."""
    token = selectors.api_token_get(user=request.auth, token_id=token_id)
    return services.api_token_revoke(actor=request.auth, token=token, reason=payload.reason if payload else "")
