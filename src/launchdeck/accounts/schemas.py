import datetime

from ninja import Field, Schema

from launchdeck.accounts.roles import Role
from launchdeck.core.api import StrictIn


class UserOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    roles: list[Role]
    version: int
    date_joined: datetime.datetime
    last_login: datetime.datetime | None


class UserIn(StrictIn):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=1, max_length=128)
    roles: list[Role] = Field(default_factory=list, max_length=8)
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)


class UserPatch(StrictIn):
    version: int = Field(ge=1, le=2_147_483_647, description="The version you read; a stale one gets 409.")
    roles: list[Role] | None = Field(None, max_length=8)
    email: str | None = Field(None, max_length=254)
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    is_active: bool | None = None


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    username: str = Field(alias="user.username")
    state: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    version: int


class ApiTokenIn(StrictIn):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    username: str | None = Field(None, max_length=150, description="Whose token; yours when omitted.")


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(description="The token itself. It is shown only in this response.")


class ApiTokenRevokeIn(StrictIn):
    reason: str = Field("", max_length=500)
