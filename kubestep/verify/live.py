"""The checks against the running service: they drive it over HTTP and compose, and report."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from kubestep.probe_paths import DEFAULTS
from kubestep.verify.compose import Compose
from kubestep.verify.contract import (
    IN_PROGRESS_GAUGE,
    INFO_KEYS,
    gauge_value,
    info_problem,
    is_failing,
    log_results,
    metrics_results,
    parse_metrics,
    ready_problem,
)
from kubestep.verify.report import FAIL, SKIP, Report, Result, outcome
from kubestep.verify.web import NoAnswer, describe, http_get, poll

REQUESTS = 5  # route requests that /metrics must count
HELD_AFTER_SIGTERM_S = 0.5  # the backing service stays paused this long after the signal


@dataclass(frozen=True)
class Target:
    """The running project under test."""

    compose: Compose
    port: int
    service: str
    route: str
    backing: tuple[str, ...]
    grace: float
    # Where the runtime serves its endpoints (the +1 step moves them off the app's routes).
    paths: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))

    def path(self, kind: str) -> str:
        return self.paths.get(kind) or DEFAULTS[kind]


def check_endpoints(target: Target, report: Report) -> None:
    port, route = target.port, target.route
    health, ready, info, metrics = (target.path(k) for k in ("health", "ready", "info", "metrics"))
    report.add(outcome(poll(port, health, lambda a: a.status == 200, 30) is None, f"{health} 200"))
    problem = ready_problem(http_get(port, ready), target.backing)
    with_checks = f" with {', '.join(target.backing)} ok" if target.backing else ""
    report.add(outcome(problem is None, f"{ready} 200{with_checks}", problem or ""))
    problem = info_problem(http_get(port, info))
    report.add(
        outcome(problem is None, f"{info} has exactly {', '.join(INFO_KEYS)}", problem or "")
    )
    before = http_get(port, metrics).body
    statuses = []
    for _ in range(REQUESTS):
        try:
            statuses.append(str(http_get(port, route, timeout=30).status))
        except NoAnswer as error:
            statuses.append(f"no answer ({error})")
    answered = all(s.isdigit() and int(s) < 500 for s in statuses)
    report.add(
        outcome(answered, f"GET {route} answers {REQUESTS} times", ", ".join(sorted(set(statuses))))
    )
    after = http_get(port, metrics)
    if after.status != 200:
        report.add(outcome(False, f"{metrics} 200", f"answered {after.status}"))
        return
    for result in metrics_results(before, after.body, route, REQUESTS):
        report.add(result)


def check_logs(target: Target, report: Report) -> None:
    text = target.compose.run("logs", "--no-color", "--no-log-prefix", target.service)
    for result in log_results(text, target.route):
        report.add(result)


def check_readiness_follows(target: Target, report: Report) -> None:
    """/ready must fail while a backing service is down, and recover once it is back."""
    if not target.backing:
        report.add(
            Result(SKIP, f"{target.path('ready')} follows backing services", "no --backing service")
        )
        return
    for name in target.backing:
        _follow(target, name, report)


def _follow(target: Target, name: str, report: Report) -> None:
    ready = target.path("ready")
    target.compose.run("stop", name)
    last = poll(target.port, ready, lambda answer: is_failing(answer, name), 20)
    report.add(outcome(last is None, f"{ready} 503 failing {name} while it is stopped", last or ""))
    target.compose.run("start", name)
    last = poll(target.port, ready, lambda answer: answer.status == 200, 60)
    report.add(outcome(last is None, f"{ready} 200 again once {name} is back", last or ""))


class InFlight(threading.Thread):
    """One request to the route in the background; `outcome` says how it ended."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.outcome = "no response yet"
        self.status: int | None = None

    def run(self) -> None:
        try:
            self.status = http_get(self.port, self.path, timeout=60).status
            self.outcome = f"answered {self.status}"
        except NoAnswer as error:
            self.outcome = f"no response ({error})"


def in_progress(port: int, metrics: str = DEFAULTS["metrics"]) -> float:
    """http_requests_in_progress now; 0 when /metrics does not answer or parse."""
    try:
        families = parse_metrics(http_get(port, metrics, 2.0).body)
    except (NoAnswer, ValueError):
        return 0
    return gauge_value(families, IN_PROGRESS_GAUGE) or 0


def _wait_in_flight(port: int, timeout: float, metrics: str = DEFAULTS["metrics"]) -> bool:
    deadline = time.monotonic() + timeout
    while in_progress(port, metrics) < 1:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _not_ready_after_sigterm(
    port: int, ready: str = DEFAULTS["ready"], timeout: float = 5.0, wait: float = 1.0
) -> Result:
    check = f"{ready} not 200 after SIGTERM"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = http_get(port, ready, timeout=wait)
        except NoAnswer as error:
            return outcome(True, check, f"no answer ({error})")
        if answer.status != 200:
            return outcome(True, check, describe(answer))
        time.sleep(0.1)
    return outcome(False, check, f"still 200 {timeout:g} s after SIGTERM")


def _exit_result(target: Target, container: str, signalled: float) -> Result:
    check = f"{target.service} exits 0 within {target.grace + 5:g} s of SIGTERM"
    deadline = signalled + target.grace + 5
    while True:
        state = target.compose.docker(
            "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container
        ).split()
        elapsed = time.monotonic() - signalled
        if state[0] in ("exited", "dead"):
            code = int(state[1])
            return outcome(code == 0, check, f"exit code {code} after {elapsed:.1f} s")
        if time.monotonic() > deadline:
            return outcome(False, check, f"still {state[0]} after {elapsed:.1f} s")
        time.sleep(0.25)


def check_graceful_stop(target: Target, report: Report) -> None:
    """A request held by a paused backing service must finish after SIGTERM, exit code 0."""
    check = "graceful stop with a request in flight"
    if not target.backing:
        report.add(Result(SKIP, check, "no --backing service to hold a request in flight"))
        return
    held = target.backing[0]
    container = target.compose.run("ps", "-q", target.service).strip()
    if not container:
        report.add(Result(FAIL, check, f"{target.service} has no running container"))
        return
    request = InFlight(target.port, target.route)
    target.compose.run("pause", held)
    try:
        request.start()
        seen = _wait_in_flight(target.port, timeout=10, metrics=target.path("metrics"))
        # The held request must still be waiting when the signal lands and for a moment
        # after, yet the app's own timeouts (libpq's connect_timeout is 2 s) must not end it
        # first: signal the container directly, not through a second compose start-up.
        target.compose.docker("kill", "--signal", "SIGTERM", container)
        signalled = time.monotonic()
        not_ready = _not_ready_after_sigterm(target.port, target.path("ready"), wait=0.4)
        time.sleep(max(0.0, signalled + HELD_AFTER_SIGTERM_S - time.monotonic()))
    finally:
        target.compose.run("unpause", held)
    why_not = f"{IN_PROGRESS_GAUGE} stayed 0 for 10 s: does {target.route} use {held}?"
    in_flight = f"GET {target.route} in flight while {held} is paused"
    report.add(outcome(seen, in_flight, "" if seen else why_not))
    report.add(not_ready)
    request.join(60)
    report.add(outcome(request.status == 200, "the in-flight request completes", request.outcome))
    report.add(_exit_result(target, container, signalled))
