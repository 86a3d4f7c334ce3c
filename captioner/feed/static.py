"""The feed's pages: a fixed table of paths to files in ``pages/`` (package data), and their HTTP responses.

Only the paths in :data:`ROUTES` are served; nothing from the request reaches the file system, so no path
can lead outside ``pages/``. Every page is self-contained (no external resources: it works offline) and is
sent with a Content-Security-Policy that lets it run only its own scripts and connect only back to the feed.
"""

from __future__ import annotations

import functools
import http
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Response

PAGES = Path(__file__).resolve().parent / "pages"

ROUTES: dict[str, tuple[str, str]] = {
    "/": ("caption.html", "text/html; charset=utf-8"),
    "/transcript": ("transcript.html", "text/html; charset=utf-8"),
    "/caption.css": ("caption.css", "text/css; charset=utf-8"),
    "/caption.js": ("caption.js", "text/javascript; charset=utf-8"),
    "/transcript.css": ("transcript.css", "text/css; charset=utf-8"),
    "/lines.css": ("lines.css", "text/css; charset=utf-8"),
    "/transcript.js": ("transcript.js", "text/javascript; charset=utf-8"),
    "/feed.js": ("feed.js", "text/javascript; charset=utf-8"),
}
"""Path → (file in ``pages/``, content type)."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
"""Scripts only from the feed, connections only back to it. Inline styles are allowed: an OBS browser source
applies its "Custom CSS" by adding a ``<style>`` element to the page."""


def _headers(content_type: str, length: int) -> Headers:
    return Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(length)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", CSP),
        ]
    )


@functools.cache
def _body(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def page_response(path: str) -> Response | None:
    """The response for ``path`` (without its query), or ``None`` when no page lives there."""
    route = ROUTES.get(path)
    if route is None:
        return None
    name, content_type = route
    body = _body(name)
    return Response(200, "OK", _headers(content_type, len(body)), body)


def text_response(status: int, text: str, *, extra: dict[str, str] | None = None) -> Response:
    """A plain-text response (refusals, not found)."""
    body = (text + "\n").encode()
    headers = _headers("text/plain; charset=utf-8", len(body))
    for key, value in (extra or {}).items():
        headers[key] = value
    return Response(status, http.HTTPStatus(status).phrase, headers, body)
