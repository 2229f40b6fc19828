"""The shared API mechanisms: NUL characters, times, sorting, the error shape."""

import pytest

from launchdeck.accounts.models import ApiToken


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda api: api.post("/tokens", {"name": "a\u0000b"}), "name"),
        (lambda api: api.get("/users", {"search": "a\u0000"}), "search"),
        (lambda api: api.get("/users/ad%00min"), "username"),
    ],
)
def test_nul_characters_are_a_422_naming_the_field(admin_user, api_as, call, field):
    api = api_as(admin_user)
    tokens = ApiToken.objects.count()
    response = call(api)
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert ApiToken.objects.count() == tokens


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
