"""Request metrics and their exposition, correct with one process or many gunicorn workers.

With PROMETHEUS_MULTIPROC_DIR set (before prometheus_client is first imported) every worker
writes its samples to files there, and `/metrics` in any worker aggregates all of them.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def method_label(method: str) -> str:
    """Arbitrary methods would each create a series; anything unusual becomes `other`."""
    return method if method in KNOWN_METHODS else "other"


class WrittenFilesCollector(MultiProcessCollector):
    """prometheus_client's collector, minus the files that no worker has sized yet.

    A worker creates each .db file empty and sizes it a moment later; a scrape that reads it
    in between fails the whole merge with struct.error (a 500), and a worker killed in that
    moment leaves the empty file behind for good (prometheus/client_python#1199). An empty
    file holds no samples, so leaving it out loses nothing.
    """

    def __init__(self, path: str, registry: CollectorRegistry) -> None:
        self.path = path
        super().__init__(registry, path)

    def collect(self) -> Iterable[Metric]:
        with os.scandir(self.path) as entries:
            files = [entry.path for entry in entries if _has_samples(entry)]
        return self.merge(files, accumulate=True)


def _has_samples(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.name.endswith(".db") and entry.stat().st_size > 0
    except FileNotFoundError:  # a dead worker's live gauge, removed by child_exit
        return False


class RequestMetrics:
    """The HTTP RED metrics: requests by method/route/status, latency, requests in flight."""

    def __init__(self, registry: CollectorRegistry | None = REGISTRY) -> None:
        self.registry = registry
        self.requests = Counter(
            "http_requests",
            "HTTP requests handled, by method, route template and status code.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to the end of its response body.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled right now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._record_in_flight = _value_writer(self.in_flight, self.in_flight.inc)
        self._series: dict[tuple[str, str, int], Callable[[float], None]] = {}

    def started(self) -> None:
        """A request came in (the in-flight gauge)."""
        self._record_in_flight(1)

    def finished(self) -> None:
        """A request left, however it ended."""
        self._record_in_flight(-1)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method_label(method), route, status)
        record = self._series.get(key)
        if record is None:
            # The first time: count before the histogram's children are made, as a scrape
            # right after the response should already see the request.
            count = self.requests.labels(key[0], route, str(status))
            count.inc()
            latency = self.latency.labels(key[0], route)
            latency.observe(seconds)
            self._series[key] = _series_writer(count, latency)
            return
        record(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format body and its content type, aggregated across workers if needed."""
        if multiprocess_enabled():
            # Process/platform collectors cannot be aggregated across workers: in this mode
            # CPU and memory come from the kubelet's container metrics instead.
            registry = CollectorRegistry()
            WrittenFilesCollector(os.environ[MULTIPROC_ENV], registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry or REGISTRY), CONTENT_TYPE_LATEST


def _value_writer(metric: Any, public: Callable[[float], None]) -> Callable[[float], None]:
    """The `inc` of the value under a child metric (the multiprocess file, or a float).

    A child's own `inc`/`observe` checks its labels and finds its bucket on every call; a
    request pays only for the writes. Another prometheus_client without these attributes gets
    its public methods (`public`), unchanged.
    """
    value = getattr(metric, "_value", None)
    return value.inc if callable(getattr(value, "inc", None)) else public


def _series_writer(count: Any, latency: Any) -> Callable[[float], None]:
    """Record one request of a series: its count, its latency's sum and bucket.

    What `count.inc()` and `latency.observe(seconds)` write (the first bucket whose bound is
    not below `seconds`; the last bound is +Inf), without their per-call checks.
    """
    try:
        add_count = count._value.inc
        add_sum = latency._sum.inc
        buckets = [bucket.inc for bucket in latency._buckets]
        bounds = list(latency._upper_bounds)
    except AttributeError:  # another prometheus_client: its public API

        def record_public(seconds: float) -> None:
            count.inc()
            latency.observe(seconds)

        return record_public

    def record(seconds: float) -> None:
        if seconds != seconds:  # NaN: in no bucket, as observe() has it
            count.inc()
            latency.observe(seconds)
            return
        add_count(1)
        add_sum(seconds)
        buckets[bisect_left(bounds, seconds)](1)

    return record


_default: RequestMetrics | None = None


def default_metrics() -> RequestMetrics:
    """The process-wide instance on the default registry, created on first use only."""
    global _default
    if _default is None:
        _default = RequestMetrics()
    return _default
