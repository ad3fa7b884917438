"""READY_REQUIRES: which readiness checks take a pod out of the Service when they fail. A
real cluster showed that with every check required, a PostgreSQL outage removed every pod, so
even /health and routes that need no database became unreachable."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import RuntimeSettings, call_wsgi, callable_check, lifecycle, wrap_wsgi
from kubestep_runtime.errors import ConfigError
from kubestep_runtime.metrics import RequestMetrics
from prometheus_client import CollectorRegistry


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]


def down() -> None:
    raise ConnectionRefusedError("db1.internal:5432")


CHECKS = [callable_check("postgres", down), callable_check("redis", lambda: True)]


def app_with(requires: str | None) -> Any:
    environ = {} if requires is None else {"READY_REQUIRES": requires}
    settings = RuntimeSettings.from_env(environ)
    return wrap_wsgi(
        hello,
        checks=CHECKS,
        settings=settings,
        metrics=RequestMetrics(CollectorRegistry()),
    )


@pytest.fixture(autouse=True)
def clean_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    lifecycle.reset()
    yield
    lifecycle.reset()


def test_by_default_every_check_decides() -> None:
    for requires in (None, "all", "ALL"):
        response = call_wsgi(app_with(requires), "/ready")
        assert response.status == 503
        assert response.json()["status"] == "unready"
        assert response.json()["failing"] == ["postgres"]


def test_none_keeps_serving_degraded_and_still_reports_the_failure() -> None:
    response = call_wsgi(app_with("none"), "/ready")
    assert response.status == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"postgres": "ConnectionRefusedError", "redis": "ok"},
        "failing": ["postgres"],
    }


def test_names_pick_the_checks_that_decide() -> None:
    assert call_wsgi(app_with("redis"), "/ready").status == 200
    assert call_wsgi(app_with("redis"), "/ready").json()["status"] == "degraded"
    assert call_wsgi(app_with("redis, postgres"), "/ready").status == 503


def test_draining_wins_over_none() -> None:
    app = app_with("none")
    lifecycle.start_draining()
    assert call_wsgi(app, "/ready").status == 503


def test_an_unknown_name_is_one_line_naming_the_checks() -> None:
    with pytest.raises(ConfigError) as raised:
        app_with("postgress")
    assert str(raised.value) == (
        "invalid READY_REQUIRES='postgress': no readiness check named postgress "
        "(the checks: postgres, redis; or all, none)"
    )
