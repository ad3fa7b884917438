"""HTTP GETs to the service on 127.0.0.1, where no answer is an outcome to report, not a crash."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Without a proxy handler urllib would send 127.0.0.1 through $http_proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NoAnswer(Exception):
    """No HTTP response: refused, reset, closed or timed out (the message says which)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _no_answer_reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def http_get(port: int, path: str, timeout: float = 3.0) -> Answer:
    """GET http://127.0.0.1:port/path; an HTTP error status is an answer, none is NoAnswer."""
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return Answer(response.status, response.read().decode(errors="replace"))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(errors="replace"))
    except (OSError, http.client.HTTPException) as error:
        raise NoAnswer(_no_answer_reason(error)) from None


def describe(answer: Answer) -> str:
    body = answer.json()
    if isinstance(body, dict) and "status" in body:
        failing = body.get("failing")
        return f"{answer.status} {body['status']}" + (f", failing {failing}" if failing else "")
    return f"{answer.status} {answer.body.strip()[:80]!r}"


def poll(port: int, path: str, wanted: Callable[[Answer], bool], timeout: float) -> str | None:
    """None once GET path answers as wanted within timeout, else what it last answered."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = http_get(port, path, timeout=2.0)
            if wanted(answer):
                return None
            last = describe(answer)
        except NoAnswer as error:
            last = f"no answer ({error})"
        if time.monotonic() > deadline:
            return last
        time.sleep(0.25)


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
