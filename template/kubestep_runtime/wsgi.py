"""WSGI middleware: serve the probe endpoints, and measure and log every other request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .core import Runtime

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class _RecordOnClose:
    """Wraps the body so that latency includes streaming it and is recorded exactly once."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self.on_close = self.on_close, None
            if on_close is not None:
                on_close()


class RuntimeWSGI:
    """The wrapped app; `runtime` gives access to readiness, metrics and settings."""

    def __init__(self, app: WSGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        started = time.perf_counter()
        response = self.runtime.endpoints.respond(method, path)
        if response is not None:
            start_response(response.status_line, response.headers())
            self.runtime.record(method, path, response.status, started)
            return [response.body]
        return self._call_app(environ, start_response, method, path, started)

    def _call_app(
        self,
        environ: Environ,
        start_response: StartResponse,
        method: str,
        path: str,
        started: float,
    ) -> Iterable[bytes]:
        status = [500]  # what a crash before start_response amounts to

        def capture(status_line: str, headers: list[Any], exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            if exc_info is None:
                return start_response(status_line, headers)
            return start_response(status_line, headers, exc_info)

        in_flight = self.runtime.metrics.in_flight
        in_flight.inc()

        def finish() -> None:
            in_flight.dec()
            self.runtime.record(method, path, status[0], started)

        try:
            body = self.app(environ, capture)
        except BaseException:
            status[0] = 500
            finish()
            raise
        return _RecordOnClose(body, finish)


def wrap_wsgi(app: WSGIApp, **options: Any) -> RuntimeWSGI:
    """Wrap a WSGI app; options are those of `Runtime` (checks, settings, routes_from, ...)."""
    return RuntimeWSGI(app, Runtime(app, **options))
