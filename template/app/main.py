"""The starter app: plain WSGI, so the service starts with no framework to outgrow."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from app.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _json(start_response: Callable[..., Any], status: str, data: object) -> list[bytes]:
    body = json.dumps(data).encode() + b"\n"
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def create_app(settings: Settings) -> WSGIApp:
    """`GET /` greets; everything else is a JSON 404."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path != "/":
            return _json(start_response, "404 Not Found", {"error": "not found"})
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        return _json(start_response, "200 OK", {"message": settings.greeting})

    return application
