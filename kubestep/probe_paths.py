"""Where the +1 runtime serves /health, /ready, /metrics and /info: free of the app's routes.

Many legacy apps already serve /health or /metrics. The runtime refuses to hide a route of
the app (it stops with a line naming the clash), so the step picks, per probe, the first
usual path that no route the inventory found answers, and the image, the compose
healthcheck, the Kubernetes probes and `make verify` all use that one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubestep.inventory.route_patterns import concrete_path, serves

CANDIDATES: dict[str, tuple[str, ...]] = {
    "health": ("/health", "/healthz", "/-/health", "/_kubestep/health"),
    "ready": ("/ready", "/readyz", "/-/ready", "/_kubestep/ready"),
    "metrics": ("/metrics", "/-/metrics", "/_kubestep/metrics"),
    "info": ("/info", "/-/info", "/_kubestep/info"),
}
DEFAULTS = {kind: paths[0] for kind, paths in CANDIDATES.items()}
ENV_NAMES = {
    "health": "HEALTH_PATH",
    "ready": "READY_PATH",
    "metrics": "METRICS_PATH",
    "info": "INFO_PATH",
}


def route_serving(routes: Iterable[dict[str, Any]], path: str) -> dict[str, Any] | None:
    """The first route found in the app's code that answers path, if any."""
    return next((r for r in routes if serves(str(r.get("pattern", "")), path)), None)


def choose(routes: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """The probe paths, and one note per probe moved off its usual path (or unable to)."""
    chosen: dict[str, str] = {}
    notes: list[str] = []
    for kind, candidates in CANDIDATES.items():
        usual = route_serving(routes, candidates[0])
        if usual is None:
            chosen[kind] = candidates[0]
            continue
        free = next((path for path in candidates if route_serving(routes, path) is None), None)
        where = f"{usual['path']}, {usual['source']}"
        if free is None:
            chosen[kind] = candidates[0]
            notes.append(
                f"the app serves {candidates[0]} itself ({where}) and every other path kubestep "
                f"would use ({', '.join(candidates[1:])}): the +1 runtime stops on the clash; "
                f"set {ENV_NAMES[kind]} (config/local.env, the environments' config) to a free path"
            )
            continue
        chosen[kind] = free
        notes.append(
            f"the app serves {candidates[0]} itself ({where}): the +1 step serves its "
            f"{kind} probe on {free} ({ENV_NAMES[kind]})"
        )
    return chosen, notes


def moved(chosen: dict[str, str]) -> dict[str, str]:
    """The runtime variables to set: the probes not on their usual path."""
    return {ENV_NAMES[kind]: path for kind, path in chosen.items() if path != DEFAULTS[kind]}


def answers_get(route: dict[str, Any]) -> bool:
    """A GET may answer it: it declares GET, or the code does not say which methods it takes."""
    methods = route.get("methods")
    return methods is None or "GET" in methods


def sample_route(routes: list[dict[str, Any]], status_path: str) -> str:
    """A real route to exercise a running service with: the status check's path, else /, else
    the first concrete route a GET may answer with nothing unsure about it; '' when the code
    shows none."""
    if status_path:
        return status_path
    concrete = [
        str(r["path"])
        for r in routes
        if not r.get("note")
        and answers_get(r)
        and concrete_path(str(r.get("path", "")), str(r.get("pattern", "")))
    ]
    if "/" in concrete:
        return "/"
    return concrete[0] if concrete else ""
