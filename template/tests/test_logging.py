"""Logs are JSON lines with logstash field names when LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from kubestep_runtime import call_wsgi, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    yield
    configure_logging({})


def test_request_line_is_json_with_logstash_names(
    wrapped: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Configured inside the test so that the handler writes to the captured stdout.
    configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "info"})
    call_wsgi(wrapped, "/")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    request = next(line for line in lines if line["logger_name"] == "kubestep.request")
    assert {"@timestamp", "@version", "message", "level"} <= request.keys()
    assert request["level"] == "INFO"
    assert (request["method"], request["path"], request["status"]) == ("GET", "/", 200)
    assert request["duration_ms"] >= 0


def test_text_format_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging({})
    logging.getLogger("svc").warning("plain")
    assert "WARNING [svc] plain" in capsys.readouterr().out
