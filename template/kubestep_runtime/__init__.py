"""kubestep_runtime: make a WSGI or ASGI app a good Kubernetes citizen.

    from kubestep_runtime import wrap, tcp_check
    application = wrap(app, checks=[tcp_check("db", "postgres", 5432)])

Names are imported on first use, so that importing the package (as gunicorn.conf.py does in
the master) stays cheap and does not import prometheus_client before its mode is chosen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .asgi import wrap_asgi
    from .autodetect import wrap
    from .checks import Check, callable_check, tcp_check
    from .clashes import find_route_clashes, probe_wsgi_clashes
    from .config import EnvReader, fail_fast, require
    from .errors import ConfigError, RouteClashError, RuntimeSetupError
    from .legacy import ConfigKey, LegacyConfig, backing_checks
    from .lifecycle import install_sigterm_handler, is_draining, start_draining
    from .logs import configure_logging
    from .settings import RuntimeSettings
    from .testing import call_wsgi
    from .wsgi import wrap_wsgi

_EXPORTS = {
    "wrap": "autodetect",
    "wrap_wsgi": "wsgi",
    "wrap_asgi": "asgi",
    "Check": "checks",
    "tcp_check": "checks",
    "callable_check": "checks",
    "find_route_clashes": "clashes",
    "probe_wsgi_clashes": "clashes",
    "EnvReader": "config",
    "fail_fast": "config",
    "ConfigKey": "legacy",
    "LegacyConfig": "legacy",
    "backing_checks": "legacy",
    "require": "config",
    "ConfigError": "errors",
    "RouteClashError": "errors",
    "RuntimeSetupError": "errors",
    "install_sigterm_handler": "lifecycle",
    "is_draining": "lifecycle",
    "start_draining": "lifecycle",
    "configure_logging": "logs",
    "RuntimeSettings": "settings",
    "call_wsgi": "testing",
}
__all__ = [
    "Check",
    "ConfigError",
    "ConfigKey",
    "EnvReader",
    "LegacyConfig",
    "RouteClashError",
    "RuntimeSettings",
    "RuntimeSetupError",
    "backing_checks",
    "call_wsgi",
    "callable_check",
    "configure_logging",
    "fail_fast",
    "find_route_clashes",
    "install_sigterm_handler",
    "is_draining",
    "probe_wsgi_clashes",
    "require",
    "start_draining",
    "tcp_check",
    "wrap",
    "wrap_asgi",
    "wrap_wsgi",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
