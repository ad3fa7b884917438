"""WSGI middleware: serve the probe endpoints, and measure and log every other request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .core import Runtime

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class _Exchange:
    """One app request: captures its status, wraps its body, records it exactly once on close.

    One object per request instead of closures and a body wrapper: this runs on every call.
    Latency includes streaming the body, as the server calls `close()` after sending it.
    """

    __slots__ = ("body", "method", "path", "runtime", "started", "status", "upstream")

    def __init__(
        self, runtime: Runtime, environ: Environ, upstream: StartResponse, started: float
    ) -> None:
        self.runtime = runtime
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO") or "/"
        self.upstream: StartResponse | None = upstream
        self.started = started
        self.status = 500  # what a crash before start_response amounts to
        self.body: Iterable[bytes] = ()

    def start_response(self, status_line: str, headers: list[Any], exc_info: Any = None) -> Any:
        self.status = int(status_line.split(" ", 1)[0])
        if exc_info is None:
            return self.upstream(status_line, headers)  # type: ignore[misc]
        return self.upstream(status_line, headers, exc_info)  # type: ignore[misc]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finish()

    def finish(self) -> None:
        if self.upstream is None:  # recorded already
            return
        self.upstream = None
        runtime = self.runtime
        runtime.metrics.finished()
        runtime.record(self.method, self.path, self.status, self.started)


class RuntimeWSGI:
    """The wrapped app; `runtime` gives access to readiness, metrics and settings."""

    def __init__(self, app: WSGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        runtime = self.runtime
        path = environ.get("PATH_INFO") or "/"
        if runtime.endpoints.owns(path):
            method = environ.get("REQUEST_METHOD", "GET")
            response = runtime.endpoints.respond(method, path)
            assert response is not None
            start_response(response.status_line, response.headers())
            runtime.record(method, path, response.status, started)
            return [response.body]
        exchange = _Exchange(runtime, environ, start_response, started)
        runtime.metrics.started()
        try:
            exchange.body = self.app(environ, exchange.start_response)
        except BaseException:
            exchange.status = 500
            exchange.finish()
            raise
        return exchange


def wrap_wsgi(app: WSGIApp, **options: Any) -> RuntimeWSGI:
    """Wrap a WSGI app; options are those of `Runtime` (checks, settings, routes_from, ...)."""
    return RuntimeWSGI(app, Runtime(app, **options))
