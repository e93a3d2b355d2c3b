"""A stand-in for the two registry endpoints ``glacier deploy`` asks before pushing: the
Docker Registry HTTP API v2's ``HEAD /v2/<repository>/manifests/<tag>`` behind a ``Bearer``
token challenge (the token from ``GET /token`` with Basic credentials, as the distribution
spec's token authentication and Artifact Registry and ACR answer it), and ACR's
``POST /oauth2/exchange`` (an Entra access token for a registry refresh token). Only the
``tags`` given exist; only the ``username``/``password`` given get a token.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from infra.rest_standin import Answer, Request, RestStandIn


class RegistryStandIn(RestStandIn):
    """A registry holding ``tags`` (``repository:tag``), answering ``username``/``password``."""

    def __init__(self, tags: Iterable[str], username: str, password: str) -> None:
        super().__init__()
        self.tags = set(tags)
        self.basic = base64.b64encode(f"{username}:{password}".encode()).decode()

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the registry's host, as in an image URI."""
        return self.url.removeprefix("http://")

    def answer(self, request: Request) -> Answer:
        if request.method == "POST" and request.path == "/oauth2/exchange":
            form = request.body or {}
            if form.get("grant_type") != ["access_token"] or not form.get("access_token"):
                return Answer(400, {"errors": [{"code": "BAD_REQUEST"}]})
            return Answer(body={"refresh_token": f"refresh-for-{form['access_token'][0]}"})
        if request.method == "GET" and request.path == "/token":
            if request.headers.get("authorization") != f"Basic {self.basic}":
                return Answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
            return Answer(body={"token": "registry-token"})
        if request.method == "HEAD" and "/manifests/" in request.path:
            repository, _, tag = request.path.removeprefix("/v2/").partition("/manifests/")
            if request.headers.get("authorization") != "Bearer registry-token":
                challenge = (
                    f'Bearer realm="{self.url}/token",service="{self.host}",'
                    f'scope="repository:{repository}:pull"'
                )
                return Answer(401, headers={"WWW-Authenticate": challenge})
            return Answer(200 if f"{repository}:{tag}" in self.tags else 404)
        return Answer(404)
