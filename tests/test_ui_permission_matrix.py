"""Every page, generically: anonymous visitors are sent to sign in; read-only roles change nothing."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent

PUBLIC = {"accounts:login", "healthz", "readyz"}
SAMPLE_ARGUMENTS = {"int": "1", "str": "admin", "path": "admin", "slug": "admin"}


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "api") or str(entry.pattern).startswith(("admin/", "api/")):
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            path = re.sub(
                r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGUMENTS[m.group(1) or "str"], prefix + str(entry.pattern)
            )
            yield name, "/" + path


PAGES = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_matrix_sees_the_pages():
    names = {name for name, _ in PAGES}
    assert {"core:home", "accounts:user_list", "accounts:token_list", "audit:auditevent_list"} <= names


@pytest.mark.parametrize(("name", "path"), [page for page in PAGES if page[0] not in PUBLIC])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name, path):
    answers = [client.get(path), client.post(path)]
    # A page answers the method it serves by sending the visitor to sign in; the other method may be refused.
    assert all(response.status_code in (302, 405) for response in answers), name
    redirects = [response for response in answers if response.status_code == 302]
    assert redirects, f"{name} never asks for a sign-in"
    assert all(response["Location"].startswith("/accounts/login/") for response in redirects)


@pytest.mark.parametrize(
    ("name", "path"),
    [page for page in PAGES if page[0] not in PUBLIC | {"accounts:logout", "accounts:password_change"}],
)
def test_viewers_change_nothing_through_any_page(client, viewer, admin_user, name, path):
    client.force_login(viewer)
    before = (User.objects.count(), AuditEvent.objects.count(), list(User.objects.values_list("version", flat=True)))
    response = client.post(path, {"username": "x", "name": "x", "roles": ["admin"], "version": 1, "password": "x" * 20})
    assert response.status_code < 500, f"{name} answered {response.status_code}"
    after = (User.objects.count(), AuditEvent.objects.count(), list(User.objects.values_list("version", flat=True)))
    assert after == before


@pytest.mark.parametrize("role", Role.values)
def test_every_role_can_read_every_listing_page(client, make_user, role):
    client.force_login(make_user(role))
    for path in ("/", "/accounts/users/", "/audit/", "/accounts/tokens/"):
        assert client.get(path).status_code == 200, path
