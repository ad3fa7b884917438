"""ASGI middleware with the same endpoints, metrics and request log as the WSGI one."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .core import Runtime
from .endpoints import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RuntimeASGI:
    """The wrapped app; websocket and lifespan traffic passes straight through."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        settings = runtime.settings
        self.inline_paths = {settings.health_path, settings.info_path}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        started = time.perf_counter()
        if self.runtime.endpoints.owns(path):
            response = await self._respond(method, path)
            await _send_response(send, response)
            self.runtime.record(method, path, response.status, started)
            return
        await self._call_app(scope, receive, send, started)

    async def _respond(self, method: str, path: str) -> Response:
        respond = self.runtime.endpoints.respond
        if path in self.inline_paths:  # liveness must not wait for a busy thread pool
            response = respond(method, path)
        else:  # readiness checks and metrics files block: keep them off the event loop
            response = await asyncio.get_running_loop().run_in_executor(None, respond, method, path)
        assert response is not None
        return response

    async def _call_app(self, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        in_flight = self.runtime.metrics.in_flight
        in_flight.inc()
        try:
            await self.app(scope, receive, capture)
        finally:
            in_flight.dec()
            route = getattr(scope.get("route"), "path", None)  # set by Starlette's router
            self.runtime.record(scope["method"], scope["path"], status, started, route)


async def _send_response(send: Send, response: Response) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def single_callable(app: Any) -> ASGIApp:
    """An ASGI 3 app as it is; an ASGI 2 one (`app(scope)` returns the coroutine function,
    as in Channels 2) adapted, as uvicorn and asgiref do."""
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(app.__call__):
        return app  # type: ignore[no-any-return]

    async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope)(receive, send)

    return asgi3


def wrap_asgi(app: Any, **options: Any) -> RuntimeASGI:
    """Wrap an ASGI app; options are those of `Runtime` (checks, settings, routes_from, ...)."""
    return RuntimeASGI(single_callable(app), Runtime(app, **options))
