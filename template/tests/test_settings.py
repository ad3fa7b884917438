"""Configuration errors stop the service with one line on stderr, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import load_settings
from kubestep_runtime import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults() -> None:
    settings = load_settings({"ENVIRONMENT": "local"})
    assert (settings.environment, settings.greeting, settings.port) == ("local", "Hello", 8000)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"PORT": "eighty"})
    assert error.value.problems == [
        "missing required environment variable ENVIRONMENT",
        "invalid PORT='eighty' (expected an integer)",
    ]


def test_missing_environment_fails_fast() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ENVIRONMENT"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "error: missing required environment variable ENVIRONMENT\n"
