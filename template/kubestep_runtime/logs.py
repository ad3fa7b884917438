"""Log configuration shared by the app and gunicorn: JSON lines for collectors, or plain text.

The JSON field names are logstash's (`@timestamp`, `@version`, `message`, `level`,
`logger_name`) so that Elasticsearch/Loki pipelines need no per-service mapping.
"""

from __future__ import annotations

import logging
import logging.config
import os
import time
from collections.abc import Mapping
from typing import Any

from .config import EnvReader
from .json_format import JsonFormatter

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
            "()": "kubestep_runtime.json_format.JsonFormatter",
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


_request_logger = logging.getLogger(REQUEST_LOGGER)
REQUEST_MESSAGE = "%s %s %s %.1fms"


def log_request(method: str, path: str, status: int, duration_ms: float, quiet: bool) -> None:
    """One line per request; probe traffic (`quiet`) only at DEBUG so it does not drown logs.

    This runs on every request. When the line's only destination is kubestep's own console
    handler with its JSON format (as configured), the line is written straight from the
    values, as that handler would write the record; otherwise a record goes through logging.
    Either way the record skips `Logger.log`'s stack walk for the caller's file and line, which
    no kubestep format shows.
    """
    level = logging.DEBUG if quiet else logging.INFO
    if not _request_logger.isEnabledFor(level):
        return
    console = _sole_json_console(level)
    if console is not None:
        handler, formatter = console
        message = REQUEST_MESSAGE % (method, path, status, duration_ms)
        line = formatter.request_line(
            (message, logging.getLevelName(level), REQUEST_LOGGER),
            method,
            path,
            status,
            round(duration_ms, 3),
            time.time(),
        )
        if line is not None:
            _write(handler, line, lambda: _request_record(level, method, path, status, duration_ms))
            return
    _request_logger.handle(_request_record(level, method, path, status, duration_ms))


def _request_record(
    level: int, method: str, path: str, status: int, duration_ms: float
) -> logging.LogRecord:
    extra = {"method": method, "path": path, "status": status, "duration_ms": round(duration_ms, 3)}
    args = (method, path, status, duration_ms)
    return _request_logger.makeRecord(
        REQUEST_LOGGER, level, __file__, 0, REQUEST_MESSAGE, args, None, "log_request", extra
    )


def _sole_json_console(level: int) -> tuple[logging.StreamHandler[Any], JsonFormatter] | None:
    """The one handler a request record would reach, if it is a console with our JSON format.

    Any other set-up (more handlers, filters, another format) returns None: logging decides.
    """
    if _request_logger.filters:
        return None
    handlers: list[logging.Handler] = []
    logger: logging.Logger | None = _request_logger
    while logger is not None:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    if len(handlers) != 1:
        return None
    handler, formatter = handlers[0], handlers[0].formatter
    if (
        type(handler) is not logging.StreamHandler
        or type(formatter) is not JsonFormatter
        or handler.filters
        or level < handler.level
    ):
        return None
    return handler, formatter


def _write(handler: logging.StreamHandler[Any], line: str, record: Any) -> None:
    """What `Handler.handle` and `StreamHandler.emit` do with a formatted line."""
    handler.acquire()
    try:
        handler.stream.write(line + handler.terminator)
        handler.flush()
    except RecursionError:
        raise
    except Exception:
        handler.handleError(record())
    finally:
        handler.release()
