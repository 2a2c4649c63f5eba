"""Fixtures of the API tests: a token of the owner and a client that sends it."""

from __future__ import annotations

import pytest

from clientflow_plugin.api_tokens import create_token


class ApiClient:
    """A test client that prefixes the API's root and sends a bearer token."""

    def __init__(self, client, workspace_slug: str, token: str | None) -> None:
        self.client = client
        self.root = f"/w/{workspace_slug}/clientflow/api/v1"
        self.token = token

    def open(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(
            self.root + path, method=method, headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)


@pytest.fixture
def make_token(app):
    """A token of ``workspace`` created by ``user``; returns the secret."""

    def make(workspace, user, name="Accounting sync") -> str:
        return create_token(workspace.id, name, created_by_id=user.id)[1]

    return make


@pytest.fixture
def api_token(make_token, workspace, owner) -> str:
    return make_token(workspace, owner)


@pytest.fixture
def api(app, workspace, api_token) -> ApiClient:
    return ApiClient(app.test_client(), workspace.slug, api_token)


@pytest.fixture
def api_as(app):
    """An API client for ``workspace`` with ``token`` (or none) on ``client``."""

    def make(workspace, token=None, client=None) -> ApiClient:
        return ApiClient(client or app.test_client(), workspace.slug, token)

    return make
