"""kubestep_runtime around a plain WSGI app: endpoints, metrics, route labels, readiness."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import (
    RouteClashError,
    RuntimeSettings,
    call_wsgi,
    callable_check,
    lifecycle,
    probe_wsgi_clashes,
    tcp_check,
    wrap,
    wrap_wsgi,
)
from kubestep_runtime.checks import Readiness
from kubestep_runtime.clashes import raise_on_clashes
from kubestep_runtime.metrics import RequestMetrics
from kubestep_runtime.routes import PathBucketer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families


def hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A plain app: 200 under /users/..., /boom raises, everything else 404."""
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("boom")
    status = "200 OK" if path == "/" or path.startswith("/users/") else "404 Not Found"
    start_response(status, [("Content-Type", "text/plain")])
    return [b"hi"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request_counts(app: Any) -> dict[tuple[str, str, str], float]:
    text = call_wsgi(app, "/metrics").body.decode()
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "http_requests_total"
    }


@pytest.fixture(autouse=True)
def clean_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    lifecycle.reset()
    yield
    lifecycle.reset()


def wrapped(app: Any = hello, **options: Any) -> Any:
    options.setdefault("settings", RuntimeSettings(service_name="svc"))
    return wrap_wsgi(app, metrics=RequestMetrics(CollectorRegistry()), **options)


def test_probe_endpoints_answer_json_and_pass_the_rest_through() -> None:
    app = wrapped()
    assert call_wsgi(app, "/health").json() == {"status": "ok"}
    assert call_wsgi(app, "/ready").json() == {"status": "ready", "checks": {}, "failing": []}
    assert call_wsgi(app, "/info").json()["name"] == "svc"
    assert call_wsgi(app, "/").body == b"hi"
    assert call_wsgi(app, "/health").headers["Cache-Control"] == "no-store"


def test_info_holds_only_the_build_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_NAME", "orders")
    monkeypatch.setenv("GIT_REVISION", "abc123")
    monkeypatch.setenv("DATABASE_PASSWORD", "s3cret")
    app = wrap_wsgi(hello, metrics=RequestMetrics(CollectorRegistry()))
    response = call_wsgi(app, "/info")
    assert set(response.json()) == {"name", "version", "git_revision", "build_time"}
    assert response.json()["git_revision"] == "abc123"
    assert b"s3cret" not in response.body


def test_paths_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_PATH", "/-/live")
    app = wrap_wsgi(hello, metrics=RequestMetrics(CollectorRegistry()))
    assert call_wsgi(app, "/-/live").json() == {"status": "ok"}
    assert call_wsgi(app, "/health").status == 404


def test_only_get_and_head_reach_probes() -> None:
    app = wrapped()
    assert call_wsgi(app, "/health", "HEAD").body == b""
    response = call_wsgi(app, "/health", "POST")
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_metrics_count_by_method_route_and_status() -> None:
    app = wrapped()
    for path in ("/", "/", "/users/1", "/users/2", "/nope-1", "/nope-2"):
        call_wsgi(app, path)
    call_wsgi(app, "/", "BREW")
    counts = request_counts(app)
    assert counts[("GET", "/", "200")] == 2
    assert counts[("GET", "/users/:id", "200")] == 2
    assert counts[("GET", "<unmatched>", "404")] == 2
    assert counts[("other", "/", "200")] == 1


def test_crash_counts_as_500_and_in_flight_returns_to_zero() -> None:
    app = wrapped()
    with pytest.raises(RuntimeError):
        call_wsgi(app, "/boom")
    text = call_wsgi(app, "/metrics").body.decode()
    assert 'http_requests_total{method="GET",route="/boom",status="500"} 1.0' in text
    assert "http_requests_in_progress 0.0" in text  # probe requests are not app work


def test_latency_includes_streaming_the_body() -> None:
    def slow_body(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        time.sleep(0.05)
        yield b"b"

    app = wrapped(slow_body)
    call_wsgi(app, "/")
    text = call_wsgi(app, "/metrics").body.decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    total = next(
        s.value
        for s in families["http_request_duration_seconds"].samples
        if s.name.endswith("_sum") and s.labels["route"] == "/"
    )
    assert total >= 0.05


def test_bucketer_caps_distinct_labels() -> None:
    bucketer = PathBucketer(limit=2)
    labels = [bucketer.label(f"/p{n}", 200) for n in range(4)]
    assert labels == ["/p0", "/p1", "<other>", "<other>"]
    assert bucketer.label("/a/550e8400-e29b-41d4-a716-446655440000", 200) == "<other>"
    assert PathBucketer().label("/a/550e8400-e29b-41d4-a716-446655440000/b", 200) == "/a/:id/b"


def test_wrap_detects_wsgi() -> None:
    app = wrap(hello, metrics=RequestMetrics(CollectorRegistry()))
    assert call_wsgi(app, "/health").status == 200


def test_plain_wsgi_clash_is_found_by_probing() -> None:
    clashes = probe_wsgi_clashes(hello, ["/health", "/users/metrics"])
    assert clashes == ["the app already serves /users/metrics (GET answered 200 OK)"]


def test_clash_error_names_the_variables_to_change() -> None:
    with pytest.raises(RouteClashError, match=r"serves /users/x .*: set HEALTH_PATH, READY_PATH"):
        raise_on_clashes(probe_wsgi_clashes(hello, ["/users/x"]))


class TestReadiness:
    def test_closed_port_fails_with_the_check_named(self) -> None:
        check = tcp_check("db", "127.0.0.1", closed_port())
        app = wrapped(checks=[check])
        response = call_wsgi(app, "/ready")
        assert response.status == 503
        assert response.json()["failing"] == ["db"]
        assert response.json()["checks"]["db"] == "ConnectionRefusedError"

    def test_open_port_passes(self) -> None:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            check = tcp_check("cache", "127.0.0.1", server.getsockname()[1])
            assert call_wsgi(wrapped(checks=[check]), "/ready").status == 200

    def test_result_is_cached(self) -> None:
        calls: list[float] = []
        readiness = Readiness([callable_check("c", lambda: calls.append(1))], 1.0, 0.2)
        for _ in range(5):
            assert readiness.result().ready
        assert len(calls) == 1
        time.sleep(0.25)
        readiness.result()
        assert len(calls) == 2

    def test_concurrent_probes_share_one_run(self) -> None:
        calls: list[int] = []

        def slow() -> None:
            calls.append(1)
            time.sleep(0.1)

        readiness = Readiness([callable_check("slow", slow)], 1.0, 5.0)
        threads = [threading.Thread(target=readiness.result) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(calls) == 1

    def test_hung_check_times_out_and_is_not_started_twice(self) -> None:
        release = threading.Event()
        calls: list[int] = []

        def hang() -> None:
            calls.append(1)
            release.wait(5)

        readiness = Readiness([callable_check("hang", hang)], timeout=0.2, cache_seconds=0)
        started = time.monotonic()
        result = readiness.result()
        assert time.monotonic() - started < 0.5
        assert (result.ready, result.checks) == (False, {"hang": "timeout"})
        readiness.result()
        assert len(calls) == 1
        release.set()

    def test_false_means_unready(self) -> None:
        readiness = Readiness([callable_check("flag", lambda: False)], 1.0, 0)
        assert readiness.result().checks == {"flag": "RuntimeError"}

    def test_draining_fails_readiness_but_not_liveness(self) -> None:
        app = wrapped()
        lifecycle.start_draining()
        assert call_wsgi(app, "/ready").status == 503
        assert call_wsgi(app, "/ready").json()["status"] == "draining"
        assert call_wsgi(app, "/health").status == 200
        assert call_wsgi(app, "/").status == 200
