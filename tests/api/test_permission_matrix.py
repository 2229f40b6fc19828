"""The permission matrix of the whole API, built from its OpenAPI document.

Every operation the document lists is checked without credentials, and every write with a read-only role, so an
endpoint added later is covered here without editing this file.
"""

import datetime
from typing import NamedTuple

import pytest
from django.test import Client
from django.utils import timezone

from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.accounts.testing import ApiClient, bearer_token_for
from launchdeck.audit.models import AuditEvent
from launchdeck.config.api import api

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Operations anyone may call without signing in; making an endpoint public means adding its operation id here.
PUBLIC_OPERATION_IDS: frozenset[str] = frozenset()
VALID_NEW_USER = {"username": "newcomer", "password": "a-perfectly-fine-passphrase", "roles": [Role.VIEWER]}


class Operation(NamedTuple):
    method: str
    template: str
    path: str
    operation_id: str
    has_body: bool
    secured: bool

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


def _plausible(schema: dict):
    """A well-formed value for a path parameter: what a client would send, not a probe for validation."""
    kinds = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", ())}
    if kinds & {"integer", "number"}:
        return max(1, schema.get("minimum", 1))
    return schema.get("example", "someone")


def _operations() -> list[Operation]:
    document = api.get_openapi_schema(path_prefix="")
    found = []
    for template, methods in document["paths"].items():
        for method, spec in methods.items():
            path_parameters = [p for p in spec.get("parameters", ()) if p["in"] == "path"]
            values = {p["name"]: _plausible(p.get("schema", {})) for p in path_parameters}
            found.append(
                Operation(
                    method=method,
                    template=template,
                    path=template.format(**values),
                    operation_id=spec["operationId"],
                    has_body="requestBody" in spec,
                    secured=bool(spec.get("security")),
                )
            )
    return found


OPERATIONS = _operations()
SECURED = [operation for operation in OPERATIONS if operation.secured]
WRITES = [operation for operation in SECURED if operation.method in WRITE_METHODS]
READS = [operation for operation in SECURED if operation.method == "get"]


def call(client: ApiClient, operation: Operation):
    """Send `operation` with an empty JSON object as its body (if it takes one), which no write would accept."""
    if operation.method == "get":
        return client.get(operation.path)
    if operation.method == "delete":
        return client.delete(operation.path)
    return getattr(client, operation.method)(operation.path, {} if operation.has_body else None)


def assert_error_body(response, status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)


def anonymous_client() -> ApiClient:
    """No credentials; CSRF is enforced as for any real HTTP client (Django's test client would skip the check)."""
    client = ApiClient(None)
    client.client = Client(enforce_csrf_checks=True)
    return client


def test_the_document_lists_reads_and_writes():
    assert READS and WRITES


def test_every_operation_requires_authentication_unless_listed_as_public():
    public = {operation.operation_id for operation in OPERATIONS if not operation.secured}
    assert public == PUBLIC_OPERATION_IDS


@pytest.mark.django_db
@pytest.mark.parametrize("operation", SECURED, ids=str)
def test_without_credentials_every_operation_is_401(operation):
    response = call(anonymous_client(), operation)
    assert_error_body(response, 401)


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_viewer_is_refused_every_write_before_its_input_is_read(operation, viewer, api_as):
    client = api_as(viewer)
    events_before = AuditEvent.objects.count()
    response = call(client, operation)
    assert_error_body(response, 403)
    assert AuditEvent.objects.count() == events_before


def _revoke(token: ApiToken, client: ApiClient) -> None:
    assert client.post(f"/tokens/{token.pk}/revoke", {"reason": "leaked"}).status_code == 200


def _expire(token: ApiToken, client: ApiClient) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def _deactivate_owner(token: ApiToken, client: ApiClient) -> None:
    User.objects.filter(pk=token.user_id).update(is_active=False)


SPOILERS = {"revoked": _revoke, "expired": _expire, "owner_deactivated": _deactivate_owner}


@pytest.mark.parametrize("state", SPOILERS)
@pytest.mark.parametrize("operation", READS, ids=str)
def test_a_token_that_no_longer_authenticates_gets_401(operation, state, release_manager):
    client = ApiClient(bearer_token_for(release_manager))
    token = ApiToken.objects.get(user=release_manager)
    assert client.get("/users/me").status_code == 200
    SPOILERS[state](token, client)
    assert_error_body(call(client, operation), 401)


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMIN])
def test_only_administrators_create_users(role, make_user, api_as):
    client = api_as(make_user(role))
    events_before = AuditEvent.objects.count()
    response = client.post("/users", VALID_NEW_USER)
    assert_error_body(response, 403)
    assert not User.objects.filter(username=VALID_NEW_USER["username"]).exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("role", [role for role in Role if role not in (Role.ADMIN, Role.VIEWER)])
def test_someone_elses_token_is_404_to_a_non_administrator(role, make_user, api_as):
    other = make_user(Role.QUALITY_MANAGER, username="other")
    bearer_token_for(other)
    theirs = ApiToken.objects.get(user=other)
    caller = make_user(role)
    client = api_as(caller)
    response = client.post(f"/tokens/{theirs.pk}/revoke", {})
    assert_error_body(response, 404)
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    own = ApiToken.objects.get(user=caller)
    assert client.post(f"/tokens/{own.pk}/revoke", {}).status_code == 200
