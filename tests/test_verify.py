"""kubestep.verify: its pure checks, its CLI, its checks against the real runtime over HTTP,
and (Docker tier) the whole run against a freshly generated service."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from kubestep.errors import InvalidValue
from kubestep.verify import cli, contract, live, web
from kubestep.verify.compose import Compose
from kubestep.verify.live import Target
from kubestep.verify.report import FAIL, OK, SKIP, Report, Result, summary
from kubestep.verify.web import Answer
from tests.docker_helpers import compose_leftovers
from tests.render import generate

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import RuntimeSettings, callable_check, lifecycle, wrap_wsgi
from kubestep_runtime.metrics import RequestMetrics
from prometheus_client import CollectorRegistry

METRICS = """\
# HELP http_requests_total h
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/status",status="200"} 7.0
http_requests_total{method="GET",route="/status",status="404"} 2.0
http_requests_total{method="GET",route="/other",status="200"} 100.0
# HELP http_request_duration_seconds h
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",method="GET",route="/status"} 9.0
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/status"} 9.0
http_request_duration_seconds_count{method="GET",route="/status"} 9.0
http_request_duration_seconds_sum{method="GET",route="/status"} 0.2
# HELP http_requests_in_progress g
# TYPE http_requests_in_progress gauge
http_requests_in_progress 1.0
"""
EMPTY_METRICS = """\
# HELP http_requests_in_progress g
# TYPE http_requests_in_progress gauge
http_requests_in_progress 0.0
"""


def request_line(**fields: Any) -> str:
    record = {"message": "GET /status 200 1.2ms", "method": "GET", "path": "/status"}
    record.update({"status": 200, "duration_ms": 1.2}, **fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def statuses(results: list[Result]) -> list[str]:
    return [r.status for r in results]


# --- results and their lines -----------------------------------------------------------


def test_result_lines_align_and_carry_the_reason() -> None:
    assert Result(OK, "/health 200").line() == "ok    /health 200"
    assert Result(FAIL, "/ready 200", "answered 503").line() == "FAIL  /ready 200: answered 503"
    assert Result(SKIP, "graceful", "no backing").line() == "skip  graceful: no backing"


def test_summary_counts_each_outcome_and_fails_on_any_failure() -> None:
    results = [Result(OK, "a"), Result(OK, "b"), Result(SKIP, "c"), Result(FAIL, "d")]
    assert summary(results) == "verify FAILED: 2 ok, 1 failed, 1 skipped"
    assert summary(results[:3]) == "verify passed: 2 ok, 0 failed, 1 skipped"
    lines: list[str] = []
    report = Report(lines.append)
    report.add(Result(OK, "a"))
    assert not report.failed and lines == ["ok    a"]
    report.add(Result(FAIL, "b", "why"))
    assert report.failed and lines[-1] == "FAIL  b: why"


# --- /metrics --------------------------------------------------------------------------


def test_route_requests_sum_every_status_of_that_route_only() -> None:
    families = contract.parse_metrics(METRICS)
    assert contract.route_requests(families, "/status") == 9
    assert contract.route_requests(families, "/other") == 100
    assert contract.route_requests(families, "/missing") == 0


def test_metrics_pass_when_the_counter_grew_by_the_requests_made() -> None:
    results = contract.metrics_results(EMPTY_METRICS, METRICS, "/status", 9)
    assert statuses(results) == [OK, OK, OK, OK]
    assert results[1].detail == "grew by 9"
    assert results[3].detail == "1"  # the in-progress gauge's value


def test_metrics_fail_when_the_counter_grew_less_than_the_requests_made() -> None:
    grew_by_9 = contract.metrics_results(EMPTY_METRICS, METRICS, "/status", 10)
    assert grew_by_9[1].status == FAIL and grew_by_9[1].detail == "grew by 9"
    # The same scrape twice: nothing was counted in between.
    unchanged = contract.metrics_results(METRICS, METRICS, "/status", 1)
    assert unchanged[1].status == FAIL and unchanged[1].detail == "grew by 0"


def test_metrics_fail_without_the_histogram_or_the_gauge() -> None:
    no_histogram = "\n".join(
        line
        for line in METRICS.splitlines()
        if "duration" not in line and "in_progress" not in line
    )
    results = contract.metrics_results(EMPTY_METRICS, no_histogram + "\n", "/status", 9)
    assert statuses(results) == [OK, OK, FAIL, FAIL]
    # A histogram for another route is not one for this route.
    assert statuses(contract.metrics_results(EMPTY_METRICS, METRICS, "/other", 1))[2] == FAIL


def test_unparsable_metrics_are_one_failure_not_an_exception() -> None:
    results = contract.metrics_results(EMPTY_METRICS, "<html>oops</html>\n", "/", 5)
    assert len(results) == 1
    assert results[0].status == FAIL
    assert results[0].detail.startswith("not the Prometheus text format")


# --- logs ------------------------------------------------------------------------------


def test_json_logs_with_a_request_line_pass() -> None:
    text = '{"message": "Starting gunicorn", "level": "INFO"}\n\n' + request_line() + "\n"
    assert statuses(contract.log_results(text, "/status")) == [OK, OK]


def test_the_first_non_json_line_is_named() -> None:
    text = "\n".join(
        [request_line(), "2026-01-01 INFO [gunicorn.error] Booting worker", "plain again", "[1]"]
    )
    results = contract.log_results(text, "/status")
    assert statuses(results) == [FAIL, OK]
    assert results[0].detail == (
        "line 2 of 4 is not a JSON object: '2026-01-01 INFO [gunicorn.error] Booting worker'"
    )


def test_json_that_is_not_an_object_fails() -> None:
    results = contract.log_results(request_line() + '\n"just a string"\n', "/status")
    assert results[0].status == FAIL and "line 2 of 2" in results[0].detail


def test_request_lines_need_the_route_and_every_request_field() -> None:
    for line in (request_line(duration_ms=None), request_line(path="/other")):
        results = contract.log_results(line, "/status")
        assert statuses(results) == [OK, FAIL], line
        assert results[1].detail == "none among 1 JSON line(s)"


def test_no_logs_at_all_fail() -> None:
    assert statuses(contract.log_results("\n\n", "/")) == [FAIL, FAIL]


# --- /ready and /info bodies -----------------------------------------------------------


def ready(status: int, **checks: str) -> Answer:
    failing = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "ready" if status == 200 else "unready", "checks": checks, "failing": failing}
    return Answer(status, json.dumps(body))


def test_ready_needs_200_and_every_backing_check_ok() -> None:
    assert (
        contract.ready_problem(ready(200, postgres="ok", redis="ok"), ["postgres", "redis"]) is None
    )
    assert contract.ready_problem(ready(200), []) is None
    missing = contract.ready_problem(ready(200, db="ok"), ["postgres"])
    assert missing == "checks not ok: postgres: no such check (checks: ['db'])"
    down = contract.ready_problem(ready(503, postgres="ConnectionRefusedError"), ["postgres"])
    assert down == "answered 503 unready, failing ['postgres']"
    assert contract.ready_problem(Answer(200, "fine"), ["postgres"]) == "body has no checks: 'fine'"


def test_failing_means_503_with_that_name_in_failing() -> None:
    assert contract.is_failing(ready(503, postgres="gaierror", redis="ok"), "postgres")
    assert not contract.is_failing(ready(503, postgres="gaierror", redis="ok"), "redis")
    assert not contract.is_failing(Answer(503, '{"status": "draining"}'), "postgres")


def test_info_needs_exactly_the_four_keys() -> None:
    info = {"name": "a", "version": "1", "git_revision": "abc", "build_time": "now"}
    assert contract.info_problem(Answer(200, json.dumps(info))) is None
    leaky = contract.info_problem(Answer(200, json.dumps({**info, "env": "x"})))
    assert leaky is not None and "'env'" in leaky
    assert contract.info_problem(Answer(404, "{}")) == "answered 404"


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "My.Service"
    directory.mkdir()
    (directory / "compose.yaml").write_text("services: {app: {image: x}}\n")
    return directory


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--grace", "soon"], "error: argument --grace: invalid float value: 'soon'"),
        (["--grace", "-1"], "error: --grace -1 must be 0 or more seconds"),
        (["--route", "status"], "error: --route 'status' must start with '/'"),
        (["--bogus"], "error: unrecognized arguments: --bogus"),
        (["--name", "..."], "error: --name '...' has no letter or digit to name a compose project"),
    ],
)
def test_bad_usage_is_one_line_and_exit_1(
    project: Path, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--project-dir", str(project), *arguments]) == 1
    captured = capsys.readouterr()
    assert captured.err == message + "\n"
    assert captured.out == ""


def test_a_directory_without_compose_yaml_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--project-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {str(tmp_path)!r} has no compose.yaml\n"


def test_a_missing_compose_binary_is_one_line_and_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--project-dir", str(project), "--compose", "/nonexistent"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: '/nonexistent' is not installed or not on PATH")


def test_the_compose_project_name_is_derived_from_the_directory(project: Path) -> None:
    options = cli.parse_options(["--project-dir", str(project)])
    assert options.project == "my-service-verify"
    assert options.compose_command == ("docker", "compose")
    assert cli.parse_options(["--project-dir", str(project), "--name", "shop"]).project == (
        "shop-verify"
    )


def test_probe_paths_are_options_and_each_must_be_a_path(project: Path) -> None:
    options = cli.parse_options(["--project-dir", str(project), "--health-path", "/healthz"])
    assert (options.health_path, options.ready_path) == ("/healthz", "/ready")
    with pytest.raises(InvalidValue, match=r"^--ready-path 'readyz' must start with '/'$"):
        cli.parse_options(["--project-dir", str(project), "--ready-path", "readyz"])


FAKE_COMPOSE = """\
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "port": os.environ.get("LOCAL_PORT"),
                          "log_format": os.environ.get("LOG_FORMAT")}) + "\\n")
command = [a for a in sys.argv[1:] if a not in ("-p", "shop-verify")]
if command[:1] == ["config"]:
    print("app\\npostgres")
elif command[:1] == ["up"]:
    sys.exit("Building app\\nfailed to solve: base image not found")
elif command[:1] == ["logs"]:
    print("error: missing required environment variable ENVIRONMENT")
"""


@pytest.fixture
def fake_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A compose stand-in whose `up` fails; it records every call with its environment."""
    script = tmp_path / "fake_compose.py"
    script.write_text(FAKE_COMPOSE)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    return f"{sys.executable} {script}", log


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_failed_start_is_reported_then_torn_down(
    project: Path, fake_compose: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    command, log = fake_compose
    arguments = ["--project-dir", str(project), "--name", "shop", "--backing", "postgres"]
    assert cli.main([*arguments, "--compose", command]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("FAIL  compose up: ")
    assert out[1].endswith("failed: failed to solve: base image not found")
    assert out[2] == "      | error: missing required environment variable ENVIRONMENT"
    assert out[-1] == "verify FAILED: 0 ok, 1 failed, 0 skipped"
    made = calls(log)
    assert [c["argv"][2:4] for c in made] == [
        ["config", "--services"],
        ["up", "--build"],
        ["logs", "--no-color"],
        ["down", "--volumes"],
    ]
    up = made[1]
    assert up["argv"][:2] == ["-p", "shop-verify"] and "--wait" in up["argv"]
    assert up["log_format"] == "json"
    assert out[0] == f"verify shop-verify: app on http://127.0.0.1:{up['port']}"


def test_keep_leaves_the_project_up(
    project: Path, fake_compose: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    command, log = fake_compose
    cli.main(["--project-dir", str(project), "--name", "shop", "--keep", "--compose", command])
    assert "down" not in {arg for c in calls(log) for arg in c["argv"]}
    assert "kept: " in capsys.readouterr().out


def test_backing_services_must_be_compose_services(
    project: Path, fake_compose: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    command, log = fake_compose
    arguments = ["--project-dir", str(project), "--name", "shop", "--backing", "redis"]
    assert cli.main([*arguments, "--compose", command]) == 1
    assert capsys.readouterr().err == (
        "error: redis: not in compose.yaml (services: ['app', 'postgres'])\n"
    )
    assert len(calls(log)) == 1  # nothing was started


# --- the checks against the real runtime, served over HTTP -------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


RELEASE = threading.Event()


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """/status answers at once; /slow once RELEASE is set (a request held in flight)."""
    if environ["PATH_INFO"] == "/slow":
        RELEASE.wait(10)
    status = "200 OK" if environ["PATH_INFO"] in ("/status", "/slow") else "404 Not Found"
    start_response(status, [("Content-Type", "text/plain")])
    return [b"hi"]


@pytest.fixture
def database() -> dict[str, bool]:
    return {"up": True}


@pytest.fixture
def served(database: dict[str, bool], tmp_path: Path) -> Iterator[Target]:
    """kubestep_runtime around a small app on a free port, with a "postgres" check."""
    lifecycle.reset()
    app = wrap_wsgi(
        hello,
        checks=[callable_check("postgres", lambda: database["up"])],
        settings=RuntimeSettings(service_name="svc", ready_cache_seconds=0),
        metrics=RequestMetrics(CollectorRegistry()),
    )
    RELEASE.clear()
    server = make_server("127.0.0.1", 0, app, _ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    compose = Compose(("false",), "svc-verify", tmp_path, {})
    try:
        yield Target(compose, server.server_port, "app", "/status", ("postgres",), 20.0)
    finally:
        RELEASE.set()
        server.shutdown()
        server.server_close()
        lifecycle.reset()


def test_the_endpoint_checks_pass_against_the_runtime(served: Target) -> None:
    lines: list[str] = []
    live.check_endpoints(served, Report(lines.append))
    assert lines == [
        "ok    /health 200",
        "ok    /ready 200 with postgres ok",
        "ok    /info has exactly name, version, git_revision, build_time",
        "ok    GET /status answers 5 times: 200",
        "ok    /metrics parses",
        "ok    http_requests_total{route='/status'} counts the 5 requests: grew by 5",
        "ok    http_request_duration_seconds histogram has buckets for /status",
        "ok    http_requests_in_progress gauge is exposed: 0",
    ]


def test_ready_fails_on_the_runtime_when_the_backing_check_fails(
    served: Target, database: dict[str, bool]
) -> None:
    database["up"] = False
    answer = web.http_get(served.port, "/ready")
    assert contract.is_failing(answer, "postgres")
    assert contract.ready_problem(answer, ["postgres"]) == (
        "answered 503 unready, failing ['postgres']"
    )
    database["up"] = True
    assert web.poll(served.port, "/ready", lambda a: a.status == 200, 2) is None


def test_a_held_request_shows_in_the_in_progress_gauge(served: Target) -> None:
    assert live.in_progress(served.port) == 0
    assert not live._wait_in_flight(served.port, timeout=0.3)
    request = live.InFlight(served.port, "/slow")
    request.start()
    assert live._wait_in_flight(served.port, timeout=5)
    assert request.status is None  # still held
    RELEASE.set()
    request.join(5)
    assert request.status == 200 and request.outcome == "answered 200"
    assert live.in_progress(served.port) == 0


def test_draining_counts_as_not_ready(served: Target) -> None:
    still_ready = live._not_ready_after_sigterm(served.port, timeout=0.3)
    assert still_ready.status == FAIL and still_ready.detail == "still 200 0.3 s after SIGTERM"
    lifecycle.start_draining()
    assert live._not_ready_after_sigterm(served.port).line() == (
        "ok    /ready not 200 after SIGTERM: 503 draining"
    )


def test_no_answer_counts_as_not_ready_and_says_why() -> None:
    port = web.free_port()
    result = live._not_ready_after_sigterm(port)
    assert result.line() == "ok    /ready not 200 after SIGTERM: no answer (connection refused)"
    request = live.InFlight(port, "/status")
    request.run()
    assert request.status is None and request.outcome == "no response (connection refused)"
    last = web.poll(port, "/ready", lambda a: True, timeout=0)
    assert last == "no answer (connection refused)"


# --- Docker tier -----------------------------------------------------------------------


@pytest.mark.docker
def test_verify_passes_on_a_new_service(
    tmp_path: Path,
    base_image: str,
    ca_bundle: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = generate(tmp_path / "shop", service_name="shop", base_image=base_image)
    if ca_bundle:
        shutil.copy(ca_bundle, project / ".ca-bundle" / "ca.crt")
    monkeypatch.setenv("BASE_IMAGE", base_image)
    monkeypatch.setenv("IMAGE", "kubestep-test/verify")
    monkeypatch.setenv("TAG", "verify")
    monkeypatch.delenv("COMPOSE", raising=False)
    code = cli.main(["--project-dir", str(project), "--name", "kubestep-test-shop"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok    every log line is a JSON object" in out
    assert "skip  graceful stop with a request in flight: no --backing service" in out
    assert out.rstrip().endswith("verify passed: 11 ok, 0 failed, 2 skipped")
    assert compose_leftovers("kubestep-test-shop-verify") == {}
