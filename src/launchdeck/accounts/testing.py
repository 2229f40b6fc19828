"""Helpers for tests of every app: API clients acting as a user, and the role fixtures behind them."""

import json

from django.test import Client

from launchdeck.accounts import services as accounts
from launchdeck.audit.context import audit_context


def bearer_token_for(user) -> str:
    """A fresh API token for `user`, made the way the CLI makes one."""
    with audit_context("cli", operator="test-setup"):
        _, raw = accounts.api_token_create(actor=None, user=user, name="test")
    return raw


class ApiClient:
    """A Django test client that talks JSON to /api/v1/ with a bearer token (or none)."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, data=None, raw: str | bytes | None = None):
        body = raw if raw is not None else (json.dumps(data) if data is not None else None)
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        return getattr(self.client, method)("/api/v1" + path, **kwargs)

    def get(self, path: str, params: dict | None = None):
        return self.client.get("/api/v1" + path, params or {}, headers=self.headers)

    def post(self, path: str, data=None, raw=None):
        return self._call("post", path, data, raw)

    def patch(self, path: str, data=None, raw=None):
        return self._call("patch", path, data, raw)

    def put(self, path: str, data=None, raw=None):
        return self._call("put", path, data, raw)

    def delete(self, path: str):
        return self._call("delete", path)
