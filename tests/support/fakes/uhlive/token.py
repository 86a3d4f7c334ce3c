"""The fake Uhlive OIDC token endpoint (a tiny HTTP server on 127.0.0.1).

``POST /realms/uhlive/protocol/openid-connect/token``, form-encoded, as the SDK's
``build_authentication_request`` builds it: the client-credentials grant (``client_id``,
``client_secret``) or the password grant (``client_id``, ``username``, ``password``, and the
client secret the SDK always adds, empty for a public client). Bad credentials: HTTP 401 with
the OAuth ``error`` / ``error_description`` fields; an unknown grant: 400.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# -- token endpoint -----------------------------------------------------------------------------


class FakeTokenServer:
    """The token endpoint; ``users`` are the accounts of the password grant (``{username: password}``)."""

    PATH = "/realms/uhlive/protocol/openid-connect/token"

    def __init__(
        self, client_id: str = "cid", client_secret: str = "s3cret", users: dict[str, str] | None = None
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.users = dict(users or {})
        self.issued: set[str] = set()
        self.requests: list[dict[str, str]] = []
        self.fail_status: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                fake.requests.append(form)
                if self.path != FakeTokenServer.PATH:
                    self._reply(404, {"error": "RESTEASY003210: Could not find resource"})
                elif fake.fail_status is not None:
                    self._reply(fake.fail_status, {"error": "server_error"})
                elif self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                    self._reply(400, {"error": "invalid_request"})
                elif form.get("grant_type") not in ("client_credentials", "password"):
                    self._reply(400, {"error": "unsupported_grant_type"})
                elif not fake.grant_ok(form):
                    self._reply(401, fake.refusal(form))
                else:
                    token = fake.make_token()
                    self._reply(200, {"access_token": token, "expires_in": 300, "token_type": "Bearer", "scope": ""})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def grant_ok(self, form: dict[str, str]) -> bool:
        if form.get("client_id") != self.client_id:
            return False
        if form.get("grant_type") == "password":
            # A public client sends an empty secret; a confidential one its secret.
            user = form.get("username", "")
            secret_ok = form.get("client_secret", "") in ("", self.client_secret)
            return secret_ok and user in self.users and self.users[user] == form.get("password")
        return form.get("client_secret") == self.client_secret

    @staticmethod
    def refusal(form: dict[str, str]) -> dict[str, str]:
        if form.get("grant_type") == "password":
            return {"error": "invalid_grant", "error_description": "Invalid user credentials"}
        return {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}

    def make_token(self) -> str:
        import base64

        def b64(d: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

        token = f"{b64({'alg': 'none'})}.{b64({'azp': self.client_id, 'jti': secrets.token_hex(8)})}.sig"
        self.issued.add(token)
        return token

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.PATH}"

    def __enter__(self) -> FakeTokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
