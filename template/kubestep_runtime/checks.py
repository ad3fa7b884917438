"""Readiness checks with a timeout each and a short-lived cached result.

Kubelet probes every pod every few seconds; caching the outcome for READY_CACHE_SECONDS keeps
a fleet of pods from turning readiness probes into load on the database they check.
READY_REQUIRES picks the checks that decide readiness: when a dependency some routes can do
without is down, pods stay in the Service and answer those routes ("degraded").
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from . import lifecycle
from .errors import ConfigError

log = logging.getLogger("kubestep.ready")
OK = "ok"


@dataclass(frozen=True)
class Check:
    """A named probe of a dependency: `probe(timeout)` returns normally when it is usable."""

    name: str
    probe: Callable[[float], object]


def tcp_check(name: str, host: str, port: int) -> Check:
    """Ready when a TCP connection to host:port opens within the timeout."""

    def probe(timeout: float) -> None:
        with socket.create_connection((host, port), timeout=timeout):
            pass

    return Check(name, probe)


def callable_check(name: str, func: Callable[[], object]) -> Check:
    """Ready when `func()` returns anything but False and raises nothing."""

    def probe(timeout: float) -> None:
        if func() is False:
            raise RuntimeError("returned False")

    return Check(name, probe)


@dataclass(frozen=True)
class ReadyResult:
    ready: bool
    status: str
    checks: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        failing = sorted(name for name, state in self.checks.items() if state != OK)
        return {"status": self.status, "checks": self.checks, "failing": failing}


def required_checks(requires: str, names: list[str]) -> set[str]:
    """The check names that decide readiness for READY_REQUIRES=all|none|name,name...;
    a ConfigError naming the known checks when a name is not one of them."""
    value = requires.strip().lower() or "all"
    if value == "all":
        return set(names)
    if value == "none":
        return set()
    wanted = {name.strip() for name in requires.split(",") if name.strip()}
    unknown = sorted(wanted - set(names))
    if unknown:
        known = ", ".join(sorted(names)) or "none defined"
        raise ConfigError(
            [
                f"invalid READY_REQUIRES={requires!r}: no readiness check named "
                f"{', '.join(unknown)} (the checks: {known}; or all, none)"
            ]
        )
    return wanted


class Readiness:
    """Runs the checks concurrently, each bounded by `timeout`, and caches the outcome."""

    def __init__(
        self,
        checks: Iterable[Check],
        timeout: float,
        cache_seconds: float,
        requires: str = "all",
    ) -> None:
        self.checks = list(checks)
        names = [check.name for check in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"readiness check names must be unique, got {names}")
        self.required = required_checks(requires, names)
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, ReadyResult] | None = None
        self._running: dict[str, Future[object]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def result(self) -> ReadyResult:
        """Draining wins over everything; otherwise a result at most cache_seconds old."""
        if lifecycle.is_draining():
            return ReadyResult(False, "draining")
        with self._lock:  # one refresh at a time; concurrent probes reuse it
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.cache_seconds:
                self._cached = (now, self._run())
            return self._cached[1]

    def _run(self) -> ReadyResult:
        if not self.checks:
            return ReadyResult(True, "ready")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(self.checks), thread_name_prefix="ready")
        for check in self.checks:
            # A check still hung from an earlier round is not started twice: no thread pile-up.
            previous = self._running.get(check.name)
            if previous is None or previous.done():
                self._running[check.name] = self._pool.submit(check.probe, self.timeout)
        deadline = time.monotonic() + self.timeout
        states = {
            check.name: self._state(check.name, deadline - time.monotonic())
            for check in self.checks
        }
        ready = all(states[name] == OK for name in self.required)
        healthy = all(state == OK for state in states.values())
        status = "ready" if healthy else "degraded" if ready else "unready"
        return ReadyResult(ready, status, states)

    def _state(self, name: str, remaining: float) -> str:
        try:
            self._running[name].result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            log.warning("readiness check %s timed out after %.1fs", name, self.timeout)
            return "timeout"
        except Exception as error:
            log.warning("readiness check %s failed: %s", name, error)
            # Only the exception type leaves the pod: messages may name internal hosts.
            return type(error).__name__
        return OK
