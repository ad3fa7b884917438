"""kubestep_runtime around real frameworks: FastAPI (ASGI), Flask and Django (WSGI)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

import django
import flask
import httpx
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, JsonResponse
from django.urls import path as django_path
from fastapi import FastAPI
from kubestep_runtime import (
    RouteClashError,
    RuntimeSettings,
    call_wsgi,
    find_route_clashes,
    lifecycle,
    wrap,
)
from kubestep_runtime.metrics import RequestMetrics
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families


def routes_counted(metrics_text: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(metrics_text)
        for s in family.samples
        if s.name == "http_requests_total"
    }


def options() -> dict[str, Any]:
    return {"settings": RuntimeSettings(), "metrics": RequestMetrics(CollectorRegistry())}


@pytest.fixture(autouse=True)
def clean_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    lifecycle.reset()
    yield
    lifecycle.reset()


# --- FastAPI / ASGI -------------------------------------------------------------------------


def fastapi_app() -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return api


def asgi_get(app: Any, *paths: str) -> list[httpx.Response]:
    """GET each path in turn through httpx's in-process ASGI transport."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get(path) for path in paths]

    return asyncio.run(run())


def test_fastapi_endpoints_and_route_templates() -> None:
    app = wrap(fastapi_app(), **options())
    health, ready, info, item, *_, metrics = asgi_get(
        app,
        "/health",
        "/ready",
        "/info",
        "/items/1",
        "/items/2",
        "/items/not-a-number",
        "/nowhere/1",
        "/metrics",
    )
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert info.json()["name"] == "unknown"
    assert item.json() == {"item_id": 1}
    counts = routes_counted(metrics.text)
    assert counts[("/items/{item_id}", "200")] == 2
    assert counts[("/items/{item_id}", "422")] == 1
    assert counts[("<unmatched>", "404")] == 1


def test_fastapi_readiness_drains() -> None:
    lifecycle.start_draining()
    (response,) = asgi_get(wrap(fastapi_app(), **options()), "/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "draining"


def test_fastapi_clash_is_reported() -> None:
    api = fastapi_app()

    @api.get("/metrics")
    async def own_metrics() -> str:
        return "mine"

    with pytest.raises(RouteClashError, match=r"already serves /metrics \(its route /metrics\)"):
        wrap(api, **options())


# --- Flask ----------------------------------------------------------------------------------


def flask_app() -> flask.Flask:
    app = flask.Flask("shop")

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    return app


def test_flask_route_templates_and_endpoints() -> None:
    app = wrap(flask_app(), **options())
    assert call_wsgi(app, "/orders/7").json() == {"order_id": 7}
    call_wsgi(app, "/orders/8")
    call_wsgi(app, "/random-scanner-path")
    assert call_wsgi(app, "/health").json() == {"status": "ok"}
    counts = routes_counted(call_wsgi(app, "/metrics").body.decode())
    assert counts[("/orders/<int:order_id>", "200")] == 2
    assert counts[("<unmatched>", "404")] == 1


def test_flask_clash_is_reported() -> None:
    app = flask_app()
    app.add_url_rule("/health", "health", lambda: "ok")
    assert find_route_clashes(app, ["/health", "/ready"]) == [
        "the app already serves /health (its route /health)"
    ]
    with pytest.raises(RouteClashError, match="HEALTH_PATH"):
        wrap(app, **options())


def test_flask_behind_other_middleware_uses_routes_from() -> None:
    inner = flask_app()
    outer = inner.wsgi_app  # e.g. what ProxyFix would wrap
    app = wrap(outer, routes_from=inner, **options())
    call_wsgi(app, "/orders/3")
    counts = routes_counted(call_wsgi(app, "/metrics").body.decode())
    assert counts[("/orders/<int:order_id>", "200")] == 1


# --- Django ---------------------------------------------------------------------------------


def django_article(request: HttpRequest, slug: str) -> JsonResponse:
    return JsonResponse({"slug": slug})


urlpatterns = [django_path("articles/<slug:slug>/", django_article)]


@pytest.fixture(scope="module")
def django_app() -> WSGIHandler:
    if not django_settings.configured:
        django_settings.configure(
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["*"],
            SECRET_KEY="test-only",
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
        )
        django.setup()
    return WSGIHandler()


def test_django_route_templates_and_endpoints(django_app: WSGIHandler) -> None:
    app = wrap(django_app, **options())
    assert call_wsgi(app, "/articles/hello/").json() == {"slug": "hello"}
    call_wsgi(app, "/articles/world/")
    call_wsgi(app, "/nothing-here/")
    assert call_wsgi(app, "/ready").status == 200
    counts = routes_counted(call_wsgi(app, "/metrics").body.decode())
    assert counts[("/articles/<slug:slug>/", "200")] == 2
    assert counts[("<unmatched>", "404")] == 1


def test_django_clash_is_reported(django_app: WSGIHandler) -> None:
    clashes = find_route_clashes(django_app, ["/articles/health/", "/health"])
    assert clashes == [
        "the app already serves /articles/health/ (its route /articles/<slug:slug>/)"
    ]
