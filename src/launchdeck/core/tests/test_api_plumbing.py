"""The shared API mechanisms: NUL characters, times, sorting, the error shape."""

import re

import pytest

from launchdeck.accounts.models import ApiToken


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda api: api.post("/tokens", {"name": "a\u0000b"}), "name"),
        (lambda api: api.get("/users", {"search": "a\u0000"}), "search"),
        (lambda api: api.get("/users/ad%00min"), "username"),
        (
            lambda api: api.post(
                "/deployments/bulk",
                {
                    "rows": [{"system": "Ledger", "environment": "SIT", "version": "1.0"}] * 3
                    + [{"system": "Ledger", "environment": "SIT", "version": "1.\u00000"}]
                },
            ),
            "rows.3.version",
        ),
    ],
)
def test_nul_characters_are_a_422_naming_the_field(admin_user, api_as, call, field):
    api = api_as(admin_user)
    tokens = ApiToken.objects.count()
    response = call(api)
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert ApiToken.objects.count() == tokens


def test_text_that_only_spells_the_escape_of_a_nul_character_is_accepted(admin_user, api_as):
    response = api_as(admin_user).post("/tokens", {"name": "a\\u0000b"})
    assert response.status_code == 201, response.content
    assert ApiToken.objects.filter(name="a\\u0000b").exists()


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-01-01T00:00:00+19:41", 200),
        ("0001-01-01T00:00:00+05:00", 422),
        ("2026-01-01T00:00:00", 422),
        ("not a time", 422),
    ],
)
def test_times_are_converted_to_utc_or_refused(admin_user, api_as, value, status):
    response = api_as(admin_user).get("/audit-events", {"since": value})
    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["errors"][0]["field"] == "since"


def test_the_api_routes_nested_by_resource_resolve_as_the_flat_routes_do():
    from django.urls import Resolver404, get_resolver, path
    from django.urls.resolvers import RegexPattern, URLResolver

    from launchdeck.config.api import api
    from launchdeck.core.api import nested_by_resource

    urls = api.urls
    flat = URLResolver(RegexPattern(r"^/"), [path("api/v1/", urls)])
    nested = URLResolver(RegexPattern(r"^/"), [path("api/v1/", nested_by_resource(urls))])
    routes = [re.sub(r"<[^>]+>", "7", str(pattern.pattern)) for pattern in urls[0]]
    assert len(routes) > 150
    for route in [*routes, "releases/7/nowhere", "nowhere", "releasesx/7"]:
        url = f"/api/v1/{route}"
        try:
            expected = flat.resolve(url)
        except Resolver404:
            with pytest.raises(Resolver404):
                nested.resolve(url)
            continue
        found = nested.resolve(url)
        assert (found.func, found.url_name, found.kwargs, found.namespace) == (
            expected.func,
            expected.url_name,
            expected.kwargs,
            expected.namespace,
        ), url
    (api_urls,) = [entry for entry in get_resolver().url_patterns if str(entry.pattern) == "api/v1/"]
    assert len(api_urls.url_patterns) < len(routes) / 2  # what every request walks before its resource's routes
