"""kubestep_runtime configuration: typed env, fail-fast, INI overrides, JSON logs, lazy imports."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

import kubestep_runtime
from kubestep_runtime import (
    ConfigError,
    EnvReader,
    RuntimeSettings,
    configure_logging,
    fail_fast,
    require,
)
from kubestep_runtime.logs import logging_dict

TEMPLATE = Path(__file__).resolve().parents[1] / "template"


def test_reader_types_and_defaults() -> None:
    env = EnvReader({"N": "3", "F": "0.5", "B": "yes", "C": "JSON", "EMPTY": "  "})
    assert env.integer("N", 1) == 3
    assert env.number("F", 1.0) == 0.5
    assert env.flag("B", False) is True
    assert env.choice("C", "text", ("text", "json")) == "json"
    assert env.text("EMPTY", "default") == "default"
    assert env.integer("ABSENT", 7) == 7
    env.check()


def test_every_problem_is_listed_in_one_error() -> None:
    env = EnvReader({"PORT": "http", "WORKERS": "0", "DEBUG": "maybe", "HEALTH_PATH": "health"})
    env.require("ENVIRONMENT")
    env.integer("PORT", 8000)
    env.integer("WORKERS", 2, minimum=1)
    env.flag("DEBUG", False)
    env.url_path("HEALTH_PATH", "/health")
    with pytest.raises(ConfigError) as error:
        env.check()
    assert error.value.problems == [
        "missing required environment variable ENVIRONMENT",
        "invalid PORT='http' (expected an integer)",
        "invalid WORKERS='0' (expected an integer >= 1)",
        "invalid DEBUG='maybe' (expected one of 0, 1, false, no, off, on, true, yes)",
        "invalid HEALTH_PATH='health' (expected a path starting with /, without spaces or query)",
    ]
    assert str(error.value).count(";") == 4


def test_require() -> None:
    assert require("A", {"A": "x"}) == "x"
    with pytest.raises(ConfigError, match="missing required environment variable B"):
        require("B", {})


def test_fail_fast_prints_one_line_and_exits_2() -> None:
    def load() -> None:
        require("ENVIRONMENT", {})

    stream = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        fail_fast(load, stream)
    assert exit_info.value.code == 2
    assert stream.getvalue() == "error: missing required environment variable ENVIRONMENT\n"
    assert fail_fast(lambda: 42) == 42


def test_runtime_settings_reject_duplicate_paths() -> None:
    with pytest.raises(ConfigError, match="probe paths must differ"):
        RuntimeSettings.from_env({"READY_PATH": "/health"})


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure_logging({})


def test_json_logs_use_logstash_names(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})
    logging.getLogger("orders").info("paid", extra={"order_id": 7})
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "paid"
    assert line["level"] == "INFO"
    assert line["logger_name"] == "orders"
    assert line["@version"] == "1"
    assert line["@timestamp"].endswith("+00:00")
    assert line["order_id"] == 7


def test_gunicorn_loggers_share_the_format_and_access_is_quiet() -> None:
    config = logging_dict({"LOG_FORMAT": "json", "LOG_LEVEL": "info"})
    assert config["loggers"]["gunicorn.error"]["level"] == "INFO"
    assert config["loggers"]["gunicorn.access"]["level"] == "WARNING"
    assert config["formatters"]["default"]["()"] == "kubestep_runtime.json_format.JsonFormatter"


def test_plain_is_text() -> None:
    config = logging_dict({"LOG_FORMAT": "plain"})
    assert "()" not in config["formatters"]["default"]


def test_bad_log_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"LOG_FORMAT='xml'.*LOG_LEVEL='loud'"):
        logging_dict({"LOG_FORMAT": "xml", "LOG_LEVEL": "loud"})


def test_public_api_resolves() -> None:
    for name in kubestep_runtime.__all__:
        assert getattr(kubestep_runtime, name) is not None
    with pytest.raises(AttributeError):
        kubestep_runtime.nothing  # noqa: B018


def test_package_and_hooks_import_without_prometheus_client() -> None:
    """The gunicorn master imports these before PROMETHEUS_MULTIPROC_DIR is decided."""
    code = (
        "import sys, kubestep_runtime.gunicorn_hooks, kubestep_runtime.config, "
        "kubestep_runtime.logs; print('prometheus_client' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=TEMPLATE, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
