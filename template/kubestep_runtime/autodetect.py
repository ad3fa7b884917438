"""`wrap()`: pick the WSGI or ASGI wrapper from the shape of the app."""

from __future__ import annotations

import inspect
from typing import Any

from .asgi import wrap_asgi
from .wsgi import wrap_wsgi


def is_asgi(app: Any) -> bool:
    """ASGI apps are coroutine functions, or objects whose `__call__` is one."""
    if inspect.iscoroutinefunction(app):
        return True
    return callable(app) and inspect.iscoroutinefunction(app.__call__)


def wrap(app: Any, **options: Any) -> Any:
    """Wrap a WSGI or ASGI app with /health, /ready, /metrics, /info and request logs.

    Typed `Any` because the kind is only known at run time; `wrap_wsgi` and `wrap_asgi`
    return precise types.
    """
    if is_asgi(app):
        return wrap_asgi(app, **options)
    return wrap_wsgi(app, **options)
