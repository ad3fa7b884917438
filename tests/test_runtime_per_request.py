"""kubestep_runtime's per-request shortcuts give exactly what the general paths give.

Each request writes a log line, two metrics and a route label; the shortcuts that make this
cheap (a JSON formatter, a direct request line, cached metric children and route answers)
must never change a field, a label or a count.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import configure_logging, json_format, logs
from kubestep_runtime.json_format import JsonFormatter
from kubestep_runtime.logs import log_request, logging_dict
from kubestep_runtime.metrics import RequestMetrics
from kubestep_runtime.routes import RouteLabeler
from prometheus_client import CollectorRegistry
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

KUBESTEP_OPTIONS = {
    key: value
    for key, value in logging_dict({"LOG_FORMAT": "json"})["formatters"]["default"].items()
    if key != "()"
}
FORMATTER_OPTIONS = {
    "kubestep's": KUBESTEP_OPTIONS,
    "library defaults": {},
    "not ascii": {**KUBESTEP_OPTIONS, "json_ensure_ascii": False},
    "timestamp=True": {"timestamp": True},
    "renames, statics and a prefix": {
        "fmt": "%(message)s %(name)s %(levelname)s",
        "rename_fields": {"message": "msg", "path": "url.path"},
        "static_fields": {"app": "100% orders", "path": "shadowed"},
        "prefix": "LOG %s ",
        "timestamp": "time",
    },
    "defaults (library only)": {**KUBESTEP_OPTIONS, "defaults": {"region": "eu"}},
    "indent (no request line)": {**KUBESTEP_OPTIONS, "json_indent": 2},
    "asctime (library only)": {"fmt": "%(asctime)s %(message)s"},
    "a reserved request field (library only)": {"reserved_attrs": ["status"]},
}
TEMPLATE_LESS = {name for name in FORMATTER_OPTIONS if name.endswith(("(library only)", "line)"))}


def orders_record(**changes: Any) -> logging.LogRecord:
    values: dict[str, Any] = {
        "msg": "paid %s",
        "args": ("caf\u00e9",),
        "exc_info": None,
        "extra": {"order_id": 7, "when": datetime.date(2026, 12, 1), "note": 'a "quote"'},
        "sinfo": None,
    }
    values.update(changes)
    return logging.getLogger("orders").makeRecord(
        "orders", logging.WARNING, __file__, 1, func="test", **values
    )


def failed() -> Any:
    try:
        raise ValueError("boom")
    except ValueError:
        return sys.exc_info()


RECORDS = {
    "extras": lambda: orders_record(),
    "no extras": lambda: orders_record(extra=None, args=()),
    "an exception": lambda: orders_record(exc_info=failed()),
    "a dict message": lambda: orders_record(msg={"event": "paid"}, args=()),
    "stack info": lambda: orders_record(sinfo="Stack (most recent call last):\n  here"),
    "a request": lambda: logs._request_record(logging.INFO, "GET", '/caf\u00e9/"1"%', 404, 1.25),
}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure_logging({})


@pytest.mark.parametrize("record", sorted(RECORDS))
@pytest.mark.parametrize("options", sorted(FORMATTER_OPTIONS))
def test_the_formatter_writes_what_python_json_logger_writes(options: str, record: str) -> None:
    made = RECORDS[record]()
    ours = JsonFormatter(**FORMATTER_OPTIONS[options]).format(made)
    assert ours == LibraryJsonFormatter(**FORMATTER_OPTIONS[options]).format(made)


@pytest.mark.parametrize("options", sorted(FORMATTER_OPTIONS))
@pytest.mark.parametrize("path", ["/orders/7", '/caf\u00e9/"quoted"/100%'])
def test_a_request_line_is_the_line_of_its_record(options: str, path: str) -> None:
    record = logs._request_record(logging.INFO, "POST", path, 201, 12.34567)
    line = JsonFormatter(**FORMATTER_OPTIONS[options]).request_line(
        (record.getMessage(), "INFO", logs.REQUEST_LOGGER),
        "POST",
        path,
        201,
        round(12.34567, 3),
        record.created,
    )
    if options in TEMPLATE_LESS:
        assert line is None
    else:
        assert line == LibraryJsonFormatter(**FORMATTER_OPTIONS[options]).format(record)


def test_the_configured_console_gets_the_request_line_without_a_record(
    restore_logging: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging({"LOG_FORMAT": "json"})
    with monkeypatch.context() as patched:
        patched.setattr(logs, "_request_record", lambda *a: pytest.fail("made a record"))
        log_request("GET", "/orders/7", 200, 1.5, quiet=False)
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "GET /orders/7 200 1.5ms"
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == (
        "GET",
        "/orders/7",
        200,
        1.5,
    )


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_another_handler_gets_a_record_and_the_console_the_same_line(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging({"LOG_FORMAT": "json"})
    log_request("GET", "/orders/7", 200, 1.5, quiet=False)  # the direct line
    collected = Collected()
    logging.getLogger().addHandler(collected)
    try:
        log_request("GET", "/orders/7", 200, 1.5, quiet=False)  # a record, through logging
    finally:
        logging.getLogger().removeHandler(collected)
    direct, through_logging = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    del direct["@timestamp"], through_logging["@timestamp"]
    assert list(direct.items()) == list(through_logging.items())
    assert [r.getMessage() for r in collected.records] == ["GET /orders/7 200 1.5ms"]
    assert collected.records[0].__dict__["status"] == 200


def test_a_filter_on_the_request_logger_still_sees_every_record(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging({"LOG_FORMAT": "json"})
    request_logger = logging.getLogger(logs.REQUEST_LOGGER)
    no_probes = logging.Filter("nothing")  # passes no record of kubestep.request
    request_logger.addFilter(no_probes)
    try:
        log_request("GET", "/orders/7", 200, 1.5, quiet=False)
    finally:
        request_logger.removeFilter(no_probes)
    assert capsys.readouterr().out == ""


def test_metrics_count_every_series_with_cached_children() -> None:
    metrics = RequestMetrics(CollectorRegistry())
    for method, status in [("GET", 200), ("GET", 200), ("GET", 500), ("BREW", 200), ("PURR", 200)]:
        metrics.observe(method, "/pot", status, 0.02)
    registry = metrics.registry
    assert registry is not None

    def count(method: str, status: str) -> float | None:
        labels = {"method": method, "route": "/pot", "status": status}
        return registry.get_sample_value("http_requests_total", labels)

    assert (count("GET", "200"), count("GET", "500"), count("other", "200")) == (2, 1, 2)
    buckets = registry.get_sample_value(
        "http_request_duration_seconds_bucket", {"method": "GET", "route": "/pot", "le": "0.025"}
    )
    assert buckets == 3
    assert len(metrics._series) == 3  # unusual methods share one series, and one cache entry


def test_route_answers_are_cached_up_to_a_bound() -> None:
    calls: list[str] = []

    def resolver(method: str, path: str) -> str | None:
        calls.append(path)
        return "/users/<id>" if path.startswith("/users/") else None

    labeler = RouteLabeler(resolver, cache_size=2)
    for path in ["/users/1", "/users/1", "/users/2", "/users/3", "/users/3"]:
        assert labeler.label("GET", path, 200) == "/users/<id>"
    assert labeler.label("GET", "/nowhere", 404) == "<unmatched>"
    assert calls == ["/users/1", "/users/2", "/users/3", "/users/3", "/nowhere"]


def test_the_timestamp_is_datetimes_to_the_microsecond() -> None:
    # Formatted once per second and then only its microseconds: the same text, roundings too.
    second = 1764680000
    created = [second + n / 1e6 for n in range(-1500, 1500)]
    created += [second + (n + 0.5) / 1e6 for n in range(-1500, 1500)]  # halves, to even
    created += [second + 0.9999996, 0.0, 0.5, 1.9999999, 253402300799.5, second]
    for value in created + created[::-7]:
        expected = datetime.datetime.fromtimestamp(value, tz=datetime.UTC).isoformat()
        assert json_format.iso_timestamp(value) == expected, value


def test_cached_series_write_what_the_public_api_writes() -> None:
    # The cached writers go to the values under the children, skipping per-call checks: the
    # samples must be those of count.inc() and observe(), bounds, zero and +Inf included.
    durations = [0.0, 0.004, 0.005, 0.0050001, 0.02, 1.0, 9.99, 30.0, 31.0, 1e6, float("nan")]
    cached, public = RequestMetrics(CollectorRegistry()), RequestMetrics(CollectorRegistry())
    for seconds in durations * 2:
        cached.observe("GET", "/pot", 200, seconds)
        public.requests.labels("GET", "/pot", "200").inc()
        public.latency.labels("GET", "/pot").observe(seconds)
    cached.started(), cached.started(), cached.finished()
    public.in_flight.inc(), public.in_flight.inc(), public.in_flight.dec()

    def samples(metrics: RequestMetrics) -> list[tuple[str, dict[str, str], float]]:
        assert metrics.registry is not None
        found = []
        for metric in metrics.registry.collect():
            for sample in metric.samples:
                if not sample.name.endswith("_created"):
                    value = -1.0 if sample.value != sample.value else sample.value  # NaN sum
                    found.append((sample.name, sample.labels, value))
        return found

    assert samples(cached) == samples(public)
