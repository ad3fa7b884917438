"""A minimal in-process WSGI client, so a service's own tests need no extra dependency."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults


@dataclass(frozen=True)
class TestResponse:
    __test__ = False  # not a pytest test class
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call_wsgi(
    app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
    path: str,
    method: str = "GET",
) -> TestResponse:
    """Run one request through `app`, closing the body as a real server does."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    setup_testing_defaults(environ)
    environ["wsgi.errors"] = io.StringIO()
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return TestResponse(int(status.split(" ", 1)[0]), dict(headers), body)
