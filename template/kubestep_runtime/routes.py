"""Route labels for metrics: the framework's route template, or a bounded bucket of the path.

A label per raw path (`/users/1`, `/users/2`, scanners' random 404s) would grow without limit
and take Prometheus down with it; templates and buckets keep the series count bounded.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

Resolver = Callable[[str, str], "str | None"]
"""(method, path) -> the app's route template for it, or None when no route matches."""

UNMATCHED = "<unmatched>"
OTHER = "<other>"
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,})$"
)


def flask_resolver(app: Any) -> Resolver:
    """Flask/werkzeug: the matching `url_rule` string, e.g. `/items/<int:item_id>`."""

    def resolve(method: str, path: str) -> str | None:
        try:
            rule, _ = app.url_map.bind("localhost").match(path, method, return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect: no template
            return None
        return str(rule.rule)

    return resolve


def django_resolver() -> Resolver:
    """Django: the resolver's route, e.g. `/items/<int:pk>/` (or the regex of a re_path)."""
    from django.urls import resolve as django_resolve

    def resolve(method: str, path: str) -> str | None:
        try:
            match = django_resolve(path)
        except Exception:  # Resolver404, or a urlconf that cannot load
            return None
        return "/" + str(match.route)

    return resolve


def starlette_resolver(app: Any) -> Resolver:
    """Starlette/FastAPI: the path of the first route that matches, e.g. `/items/{item_id}`."""

    def resolve(method: str, path: str) -> str | None:
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        for route in app.routes:
            match, _ = route.matches(scope)
            if match.name != "NONE":
                return str(getattr(route, "path", path))
        return None

    return resolve


def route_resolver(app: Any) -> Resolver | None:
    """The resolver for the framework `app` belongs to, or None for plain WSGI/ASGI."""
    if callable(getattr(getattr(app, "url_map", None), "bind", None)):
        return flask_resolver(app)
    if type(app).__module__.startswith("django."):
        return django_resolver()
    if isinstance(getattr(app, "routes", None), list):
        return starlette_resolver(app)
    return None


class PathBucketer:
    """Label for paths without a template: ids collapsed, 404s pooled, distinct labels capped."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, path: str, status: int) -> str:
        if status == 404:
            return UNMATCHED
        segments = path.split("/")
        normalized = "/".join(":id" if _ID_SEGMENT.match(s) else s for s in segments)
        with self._lock:
            if normalized in self._seen:
                return normalized
            if len(self._seen) < self.limit:
                self._seen.add(normalized)
                return normalized
        return OTHER


class RouteLabeler:
    """Picks the template when the framework gives one, else the bucket.

    Resolving a path costs a route match per request; the answers for the first `cache_size`
    (method, path) pairs are kept, as an app's routes do not change once it serves. Later
    pairs are resolved each time, so that a scan of random paths cannot grow the cache.
    """

    def __init__(self, resolver: Resolver | None, limit: int = 100, cache_size: int = 1000) -> None:
        self.resolver = resolver
        self.bucketer = PathBucketer(limit)
        self.cache_size = cache_size
        self._templates: dict[tuple[str, str], str | None] = {}

    def label(self, method: str, path: str, status: int) -> str:
        if self.resolver is not None:
            key = (method, path)
            try:
                template = self._templates[key]
            except KeyError:
                template = self.resolver(method, path)
                if len(self._templates) < self.cache_size:
                    self._templates[key] = template
            if template is not None:
                return template
        return self.bucketer.label(path, status)
