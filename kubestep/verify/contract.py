"""The service's contract as pure checks of its answers, testable without running anything."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kubestep.verify.report import Result, outcome
from kubestep.verify.web import Answer, describe

INFO_KEYS = ("name", "version", "git_revision", "build_time")
REQUEST_COUNTER = "http_requests_total"
LATENCY_HISTOGRAM = "http_request_duration_seconds"
IN_PROGRESS_GAUGE = "http_requests_in_progress"


def ready_problem(answer: Answer, backing: Sequence[str]) -> str | None:
    """Why answer is not a 200 /ready with every backing check "ok"; None when it is."""
    body = answer.json()
    if answer.status != 200:
        return f"answered {describe(answer)}"
    if not isinstance(body, dict) or not isinstance(body.get("checks"), dict):
        return f"body has no checks: {answer.body.strip()[:80]!r}"
    checks = body["checks"]
    wrong = [
        f"{name}: {checks.get(name, 'no such check')}"
        for name in backing
        if checks.get(name) != "ok"
    ]
    if wrong:
        return f"checks not ok: {', '.join(wrong)} (checks: {sorted(checks)})"
    return None


def is_failing(answer: Answer, name: str) -> bool:
    body = answer.json()
    failing = body.get("failing") if isinstance(body, dict) else None
    return answer.status == 503 and isinstance(failing, list) and name in failing


def info_problem(answer: Answer) -> str | None:
    body = answer.json()
    if answer.status != 200:
        return f"answered {answer.status}"
    if not isinstance(body, dict):
        return f"body is not a JSON object: {answer.body.strip()[:80]!r}"
    if sorted(body) != sorted(INFO_KEYS):
        return f"keys are {sorted(body)}, want exactly {list(INFO_KEYS)}"
    return None


def parse_metrics(text: str) -> list[Any]:
    """The metric families of a Prometheus text exposition; ValueError when it is not one."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        return list(text_string_to_metric_families(text))
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(f"not the Prometheus text format: {error}") from None


def route_requests(families: Sequence[Any], route: str) -> float:
    """Requests to route that http_requests_total counts, over every method and status."""
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == REQUEST_COUNTER and sample.labels.get("route") == route
    )


def gauge_value(families: Sequence[Any], name: str) -> float | None:
    values = [s.value for f in families if f.name == name and f.type == "gauge" for s in f.samples]
    return sum(values) if values else None


def has_histogram(families: Sequence[Any], name: str, route: str) -> bool:
    return any(
        family.name == name
        and family.type == "histogram"
        and any(
            s.name == f"{name}_bucket" and s.labels.get("route") == route for s in family.samples
        )
        for family in families
    )


def metrics_results(before: str, after: str, route: str, requests: int) -> list[Result]:
    """The /metrics checks, from a scrape before and one after `requests` calls of route."""
    try:
        counted_before = route_requests(parse_metrics(before), route)
        families = parse_metrics(after)
    except ValueError as error:
        return [outcome(False, "/metrics parses", str(error))]
    grew = route_requests(families, route) - counted_before
    gauge = gauge_value(families, IN_PROGRESS_GAUGE)
    return [
        outcome(True, "/metrics parses"),
        outcome(
            grew >= requests,
            f"{REQUEST_COUNTER}{{route={route!r}}} counts the {requests} requests",
            f"grew by {grew:g}",
        ),
        outcome(
            has_histogram(families, LATENCY_HISTOGRAM, route),
            f"{LATENCY_HISTOGRAM} histogram has buckets for {route}",
        ),
        outcome(
            gauge is not None,
            f"{IN_PROGRESS_GAUGE} gauge is exposed",
            "" if gauge is None else f"{gauge:g}",
        ),
    ]


def log_results(text: str, route: str) -> list[Result]:
    """Every non-empty line is a JSON object, and one of them logs a request to route."""
    lines = [line for line in text.splitlines() if line.strip()]
    records: list[dict[str, Any]] = []
    first_bad: str | None = None
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        elif first_bad is None:
            first_bad = f"line {number} of {len(lines)} is not a JSON object: {line[:120]!r}"
    request_keys = ("method", "status", "duration_ms")
    logged = any(r.get("path") == route and all(k in r for k in request_keys) for r in records)
    return [
        outcome(
            bool(lines) and first_bad is None,
            "every log line is a JSON object",
            first_bad or ("" if lines else "no log lines at all"),
        ),
        outcome(
            logged,
            f"a request log line has path {route} with {', '.join(request_keys)}",
            "" if logged else f"none among {len(records)} JSON line(s)",
        ),
    ]
