"""Detect app routes that the probe endpoints would hide, and name them clearly."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from .errors import RouteClashError
from .routes import route_resolver

HINT = "set HEALTH_PATH, READY_PATH, METRICS_PATH or INFO_PATH to a free path"


def find_route_clashes(app: Any, paths: Iterable[str]) -> list[str]:
    """One message per probe path that Flask, Django or Starlette would route to the app.

    Plain WSGI/ASGI apps have no route table to ask; see `probe_wsgi_clashes`.
    """
    resolver = route_resolver(app)
    if resolver is None:
        return []
    clashes = []
    for path in paths:
        template = resolver("GET", path)
        if template is not None:
            clashes.append(f"the app already serves {path} (its route {template})")
    return clashes


def probe_wsgi_clashes(app: Any, paths: Iterable[str]) -> list[str]:
    """Call a plain WSGI app with GET for each path: anything but 404 is a clash.

    Opt-in only: calling the app runs its code, which may touch databases at start-up.
    """
    clashes = []
    for path in paths:
        status = _get_status(app, path)
        if status is not None and not status.startswith("404"):
            clashes.append(f"the app already serves {path} (GET answered {status})")
    return clashes


def _get_status(app: Any, path: str) -> str | None:
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        for _ in body:  # a generator app calls start_response only once iterated
            pass
    finally:
        if hasattr(body, "close"):
            body.close()
    return statuses[0] if statuses else None


def raise_on_clashes(clashes: list[str]) -> None:
    if clashes:
        raise RouteClashError(f"{'; '.join(clashes)}: {HINT}")
