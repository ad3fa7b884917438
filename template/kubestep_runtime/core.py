"""What the WSGI and ASGI wrappers share: settings, checks, metrics, route labels, request log."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .checks import Check, Readiness
from .clashes import find_route_clashes, raise_on_clashes
from .endpoints import Endpoints
from .logs import log_request
from .metrics import RequestMetrics, default_metrics
from .routes import RouteLabeler, route_resolver
from .settings import RuntimeSettings


class Runtime:
    """Built once per wrapped app; raises RouteClashError when the app owns a probe path.

    `routes_from` is the framework object to read routes from when `app` is already
    wrapped in other middleware (e.g. a Flask app behind ProxyFix).
    """

    def __init__(
        self,
        app: Any,
        checks: Iterable[Check] = (),
        settings: RuntimeSettings | None = None,
        metrics: RequestMetrics | None = None,
        routes_from: Any = None,
        check_clashes: bool = True,
    ) -> None:
        self.settings = settings or RuntimeSettings.from_env()
        self.readiness = Readiness(
            checks,
            self.settings.ready_check_timeout,
            self.settings.ready_cache_seconds,
            self.settings.ready_requires,
        )
        self.metrics = metrics or default_metrics()
        self.endpoints = Endpoints(self.settings, self.readiness, self.metrics)
        source = app if routes_from is None else routes_from
        if check_clashes:
            raise_on_clashes(find_route_clashes(source, self.settings.paths()))
        self.labeler = RouteLabeler(route_resolver(source))

    def record(
        self, method: str, path: str, status: int, started: float, route: str | None = None
    ) -> None:
        """Count, time and log one finished request."""
        seconds = time.perf_counter() - started
        own = self.endpoints.owns(path)
        if route is None:
            route = path if own else self.labeler.label(method, path, status)
        self.metrics.observe(method, route, status, seconds)
        log_request(method, path, status, seconds * 1000, quiet=own)
