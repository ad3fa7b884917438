"""The service's endpoints, called in-process the way gunicorn calls them."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.settings import Settings
from kubestep_runtime import call_wsgi, lifecycle


def test_root_greets_with_the_configured_greeting() -> None:
    response = call_wsgi(create_app(Settings(environment="test", greeting="Hi")), "/")
    assert response.status == 200
    assert response.json() == {"message": "Hi"}


def test_unknown_path_is_a_json_404() -> None:
    response = call_wsgi(create_app(Settings(environment="test")), "/nope")
    assert response.status == 404
    assert response.json() == {"error": "not found"}


def test_probe_endpoints(wrapped: Any) -> None:
    assert call_wsgi(wrapped, "/health").json() == {"status": "ok"}
    assert call_wsgi(wrapped, "/ready").status == 200
    info = call_wsgi(wrapped, "/info").json()
    assert info == {
        "name": "svc",
        "version": "1.2.3",
        "git_revision": "unknown",
        "build_time": "unknown",
    }


def test_ready_fails_while_draining(wrapped: Any) -> None:
    lifecycle.start_draining()
    response = call_wsgi(wrapped, "/ready")
    assert response.status == 503
    assert response.json()["status"] == "draining"
    assert call_wsgi(wrapped, "/health").status == 200


def test_metrics_count_requests(wrapped: Any) -> None:
    call_wsgi(wrapped, "/")
    call_wsgi(wrapped, "/")
    call_wsgi(wrapped, "/missing")
    text = call_wsgi(wrapped, "/metrics").body.decode()
    counts = {
        (s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "http_requests"
        for s in family.samples
        if s.name == "http_requests_total"
    }
    assert counts[("/", "200")] == 2
    assert counts[("<unmatched>", "404")] == 1
