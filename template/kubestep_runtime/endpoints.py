"""The four operational endpoints as plain responses, shared by the WSGI and ASGI wrappers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus

from .checks import Readiness
from .metrics import RequestMetrics
from .settings import RuntimeSettings

JSON = "application/json"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    extra_headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"

    def headers(self) -> list[tuple[str, str]]:
        # Probes must never be answered by a cache in between.
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", "no-store"),
            *self.extra_headers,
        ]


def json_response(status: int, data: object) -> Response:
    return Response(status, json.dumps(data, separators=(",", ":")).encode() + b"\n")


class Endpoints:
    """Answers the probe paths; `respond()` returns None for every other path."""

    def __init__(
        self, settings: RuntimeSettings, readiness: Readiness, metrics: RequestMetrics
    ) -> None:
        self.settings = settings
        self.readiness = readiness
        self.metrics = metrics
        self.handlers = {
            settings.health_path: self.health,
            settings.ready_path: self.ready,
            settings.metrics_path: self.metrics_text,
            settings.info_path: self.info,
        }

    def owns(self, path: str) -> bool:
        return path in self.handlers

    def respond(self, method: str, path: str) -> Response | None:
        handler = self.handlers.get(path)
        if handler is None:
            return None
        if method not in ("GET", "HEAD"):
            response = json_response(405, {"error": "method not allowed"})
            return Response(405, response.body, JSON, (("Allow", "GET, HEAD"),))
        response = handler()
        if method == "HEAD":
            return Response(response.status, b"", response.content_type)
        return response

    def health(self) -> Response:
        # Liveness stays 200 while draining: a restart would only cut requests short.
        return json_response(200, {"status": "ok"})

    def ready(self) -> Response:
        result = self.readiness.result()
        return json_response(200 if result.ready else 503, result.body())

    def metrics_text(self) -> Response:
        body, content_type = self.metrics.exposition()
        return Response(200, body, content_type)

    def info(self) -> Response:
        return json_response(200, self.settings.info())
