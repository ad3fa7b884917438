"""Fixtures for the service's tests: the app wrapped as in production, on a private registry."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from app.main import create_app
from app.settings import Settings
from kubestep_runtime import RuntimeSettings, lifecycle, wrap_wsgi
from kubestep_runtime.metrics import RequestMetrics


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", greeting="Hi")


@pytest.fixture
def wrapped(settings: Settings) -> Any:
    """The app as app/wsgi.py builds it, with its own metrics so tests stay independent."""
    lifecycle.reset()
    runtime_settings = RuntimeSettings(service_name="svc", service_version="1.2.3")
    metrics = RequestMetrics(registry=CollectorRegistry())
    yield wrap_wsgi(create_app(settings), settings=runtime_settings, metrics=metrics)
    lifecycle.reset()
