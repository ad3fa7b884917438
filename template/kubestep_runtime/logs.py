"""Log configuration shared by the app and gunicorn: JSON lines for collectors, or plain text.

The JSON field names are logstash's (`@timestamp`, `@version`, `message`, `level`,
`logger_name`) so that Elasticsearch/Loki pipelines need no per-service mapping.
"""

from __future__ import annotations

import logging
import logging.config
import os
from collections.abc import Mapping
from typing import Any

from .config import EnvReader

REQUEST_LOGGER = "kubestep.request"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
JSON_FORMAT = "%(message)s %(levelname)s %(name)s"
LEVELS = ("debug", "info", "warning", "error", "critical")


def logging_dict(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict for LOG_FORMAT/LOG_LEVEL; gunicorn takes it as is."""
    env = EnvReader(environ)
    log_format = env.choice("LOG_FORMAT", "text", ("text", "plain", "json"))
    level = env.choice("LOG_LEVEL", "info", LEVELS).upper()
    env.check()
    formatter: dict[str, Any] = {"format": TEXT_FORMAT}
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FORMAT,
            "rename_fields": {"levelname": "level", "name": "logger_name"},
            "static_fields": {"@version": "1"},
            "timestamp": "@timestamp",
        }
    # Logs are an event stream on stdout; stderr is kept for the one-line start-up errors.
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stdout",
    }
    own = {"handlers": ["console"], "level": level, "propagate": False}
    # kubestep.request already logs each request with structured fields; gunicorn's access
    # lines (same format) would double the volume, so they only appear at WARNING and up.
    access = {**own, "level": "WARNING" if level in ("DEBUG", "INFO") else level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"gunicorn.error": own, "gunicorn.access": access},
    }


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Apply `logging_dict()` to this process; safe to call again (e.g. in each worker)."""
    logging.config.dictConfig(logging_dict(os.environ if environ is None else environ))


def log_request(method: str, path: str, status: int, duration_ms: float, quiet: bool) -> None:
    """One line per request; probe traffic (`quiet`) only at DEBUG so it does not drown logs."""
    logger = logging.getLogger(REQUEST_LOGGER)
    level = logging.DEBUG if quiet else logging.INFO
    if not logger.isEnabledFor(level):
        return
    logger.log(
        level,
        "%s %s %s %.1fms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
        },
    )
