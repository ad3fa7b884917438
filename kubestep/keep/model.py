"""The data step 6's builders share: the service as the answers describe it, and an alert
with the series that fire it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Alert:
    """One alerting rule and a minimal history of series that fires it."""

    name: str
    expr: str
    duration: str
    severity: str
    summary: str
    description: str
    # Input series (promtool notation) that make expr true, and the labels the result keeps.
    firing: dict[str, str]
    healthy: dict[str, str]
    result_labels: dict[str, str] = field(default_factory=dict)
    extra_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    """What the alerts need to know about the service (from the answers)."""

    name: str
    team: str
    environments: list[str]
    has_metrics: bool
    runbook: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    jobs: bool = False
    # Where the +1 runtime serves them (kubestep/probe_paths.py: off the app's own routes).
    metrics_path: str = "/metrics"
    ready_path: str = "/ready"

    def namespace(self, env: str) -> str:
        return f"{self.name}-{env}"


def selector(**labels: str) -> str:
    return "{" + ", ".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def series(metric: str, **labels: str) -> str:
    return metric + selector(**labels)


def monitoring_labels(service: Service) -> dict[str, str]:
    """The labels of every monitoring object of a service (rules, probes, monitors)."""
    return {
        "app.kubernetes.io/name": service.name,
        "app.kubernetes.io/part-of": service.name,
        "app.kubernetes.io/component": "monitoring",
        "app.kubernetes.io/managed-by": "kubestep",
        "team": service.team,
    }
