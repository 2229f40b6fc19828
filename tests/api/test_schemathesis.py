"""Fuzz every operation of the live OpenAPI document, in-process, as an administrator, a viewer and anonymously.

The schema is read from `/api/v1/openapi.json` of the production WSGI application, so an endpoint added to the API is
fuzzed here without touching this file. Each (operation, caller) pair starts from the `demo` preset and runs
schemathesis' examples, coverage and fuzzing phases with bounded, derandomized Hypothesis settings.
"""

from functools import partial

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WsgiClient

from launchdeck.accounts.models import ApiToken, User
from launchdeck.accounts.roles import Role
from launchdeck.accounts.services import token_digest
from launchdeck.accounts.testing import bearer_token_for
from launchdeck.audit.models import AuditEvent
from launchdeck.config.wsgi import application
from launchdeck.releases.models import ScheduleDependency

OPENAPI_URL = "/api/v1/openapi.json"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# Path parameters that name rows of the demo data: besides the fuzzer's own values, operations taking them are sent
# ids and usernames that exist, so reads and writes reach real objects and not only 404s. A path parameter missing
# here is still fuzzed, with generated values only.
LIVE_PATH_VALUES = {
    "username": lambda: User.objects.order_by("pk").values_list("username", flat=True),
    "token_id": lambda: ApiToken.objects.order_by("pk").values_list("pk", flat=True),
    "event_id": lambda: AuditEvent.objects.order_by("pk").values_list("pk", flat=True),
    "dependency_id": lambda: ScheduleDependency.objects.order_by("pk").values_list("pk", flat=True),
}

# Loaded once, at import: `schemathesis.pytest.from_fixture` would load it per test, but its lazy runner fails under
# pytest 9.2 (it sets `Function._nodeid`, which pytest 9.2 no longer has). Reading the document needs no database.
schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, application)
# Refusals (401 for anonymous callers, 403 for viewers' writes) do not depend on the values sent, so their pass skips
# the coverage phase's every-boundary cases; the administrator's pass keeps every phase.
refusal_schema = schemathesis.openapi.from_wsgi(
    OPENAPI_URL, application, config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
)


def _live_value(name: str, index: int):
    values = list(LIVE_PATH_VALUES[name]())
    return values[index % len(values)] if values else index


def before_generate_path_parameters(context, strategy):
    """Mix path parameters naming existing rows into the generated ones."""
    names = [parameter.name for parameter in context.operation.path_parameters]
    if not names or any(name not in LIVE_PATH_VALUES for name in names):
        return strategy
    live = st.fixed_dictionaries({name: st.integers(0, 1_000).map(partial(_live_value, name)) for name in names})
    return st.one_of(strategy, live)


schema.hook(before_generate_path_parameters)
refusal_schema.hook(before_generate_path_parameters)


def read_version_first(case, headers: dict[str, str]) -> None:
    """Send an edit with the `version` a client would have read first, with a GET on the same path.

    A generated version is almost never the current one, so every edit would stop at the 409 (the stale-version rule
    has its own tests); a version of the wrong type is left alone for the validation to refuse.
    """
    body = case.body
    if case.method.upper() not in ("PATCH", "PUT") or not isinstance(body, dict):
        return
    if type(body.get("version")) is not int:
        return
    # Werkzeug's client, like schemathesis: Django's would reconnect `close_old_connections` (see `in_process_app`).
    read = WsgiClient(application).get(case.formatted_path, headers=headers)
    if read.status_code == 200 and isinstance(read.get_json().get("version"), int):
        body["version"] = read.get_json()["version"]


class Credentials:
    """The bearer token a fuzzing pass sends; issued again if the fuzzer has revoked it through the API."""

    def __init__(self, user):
        self.user = user
        self.raw = bearer_token_for(user)

    def headers(self) -> dict[str, str]:
        if not ApiToken.objects.active().filter(digest=token_digest(self.raw)).exists():
            self.raw = bearer_token_for(self.user)
        return {"Authorization": f"Bearer {self.raw}"}


@pytest.fixture
def in_process_app(db):
    """The WSGI application, called within the test's transaction.

    Django closes the database connection when a request ends; its test client suspends that, and so must we, or
    PostgreSQL would lose the test transaction after the first request.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def demo_estate(django_db_setup, django_db_blocker):
    """The demo preset, loaded once for the whole module (each test still runs in a transaction rolled back after
    it), then removed, so that the tests after this module find the empty database they expect."""
    from django.core.management import call_command

    from launchdeck.demo.generator import load_demo

    with django_db_blocker.unblock():
        load_demo(preset="demo", seed=1)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo_data(demo_estate, db):
    return None


@pytest.fixture
def auth_headers(caller, demo_data, make_user):
    """A callable giving the headers of `caller`: none for anonymous, else a valid bearer token of a fresh user.

    The administrator may PATCH and deactivate anyone the fuzzer names, but the service refuses to deactivate or
    demote the acting user, so this administrator stays usable; its token is re-issued if the fuzzer revokes it.
    """
    if caller is None:
        return dict
    return Credentials(make_user(caller, username=f"fuzz-{caller}")).headers


FUZZ = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


@schema.parametrize()
# Under pytest 9.2, schemathesis 4.32 gives every operation's item the function's bare node id; parametrizing adds the
# operation to it, so each (operation, caller) is reported, selected and re-run on its own.
@pytest.mark.parametrize("caller", [Role.ADMIN], ids=["admin"])
@settings(max_examples=20, **FUZZ)
def test_api_conforms_to_its_schema(case, caller, auth_headers, in_process_app):
    """No 5xx; status, content type and body as documented, for a caller who may do everything."""
    _fuzz(case, caller, auth_headers)


@refusal_schema.parametrize()
@pytest.mark.parametrize("caller", [Role.VIEWER, None], ids=["viewer", "anonymous"])
@settings(max_examples=6, **FUZZ)
def test_api_refuses_who_may_not(case, caller, auth_headers, in_process_app):
    """The same checks, and: anonymous callers get 401 everywhere, viewers 403 on every write."""
    _fuzz(case, caller, auth_headers)


def _fuzz(case, caller, auth_headers):
    headers = auth_headers()
    read_version_first(case, headers)
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    if case.method.upper() != case.operation.method.upper():
        return  # a probe with a method the path does not serve: only the checks above apply
    if caller is None:
        assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.text}"
    elif caller == Role.VIEWER and case.method.upper() in WRITE_METHODS:
        assert response.status_code == 403, f"{case.method} {case.formatted_path}: {response.text}"
