"""The starter app under real gunicorn: probes, metrics across workers, fail-fast, SIGTERM."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.docker_helpers import free_port, terminate

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
SLOW_APP = """
import time
from kubestep_runtime import wrap_wsgi

def slow(environ, start_response):
    time.sleep(1.5)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]

application = wrap_wsgi(slow)
"""


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "GUNICORN_CMD_ARGS")}
    env.update({"ENVIRONMENT": "test", "WEB_CONCURRENCY": "2", "GRACEFUL_TIMEOUT": "5", **extra})
    return env


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 10:
        assert process.poll() is None, "gunicorn exited during start-up"
        try:
            if get(url + "/health")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("gunicorn did not become healthy within 10 s")


def start(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [*GUNICORN, "--bind", f"127.0.0.1:{port}", app]
    return subprocess.Popen(
        command, cwd=TEMPLATE, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    metrics_dir = tmp_path / "metrics"
    port = free_port()
    process = start(
        "app.wsgi:application",
        port,
        base_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), LOG_FORMAT="json"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url, metrics_dir
    finally:
        terminate(process)


def test_probes_and_greeting(server: tuple[str, Path]) -> None:
    url, _ = server
    assert get(url + "/") == (200, b'{"message": "Hello"}\n')
    assert get(url + "/ready")[0] == 200
    status, body = get(url + "/info")
    assert status == 200
    assert b"git_revision" in body
    assert get(url + "/nope")[0] == 404


def root_count(url: str) -> list[float]:
    text = get(url + "/metrics")[1].decode()
    return [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "http_requests_total" and s.labels["route"] == "/"
    ]


def settled_count(url: str, expected: float, timeout: float = 5.0) -> list[float]:
    """The root counter once it reads expected (bounded): a worker records a request after
    its response has gone out, so a scrape right after the last response can precede it."""
    deadline = time.monotonic() + timeout
    count = root_count(url)
    while count != [expected] and time.monotonic() < deadline:
        time.sleep(0.05)
        count = root_count(url)
    return count


def test_metrics_count_requests_across_workers(server: tuple[str, Path]) -> None:
    url, metrics_dir = server
    for _ in range(20):
        get(url + "/")
    assert settled_count(url, 20.0) == [20.0]
    # Stop every worker that served: their replacements never saw a request, so a correct
    # count can only come from aggregating the files the old workers left behind.
    served = {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("counter_*.db")}
    for pid in served:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in served) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Replacement workers may still be booting: wait until one serves (bounded).
    while get(url + "/health")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    get(url + "/")
    assert settled_count(url, 21.0) == [21.0]
    assert root_count(url) == [21.0]


def test_missing_environment_exits_with_one_line() -> None:
    env = base_env()
    del env["ENVIRONMENT"]
    started = time.monotonic()
    result = subprocess.run(
        [*GUNICORN, "--bind", f"127.0.0.1:{free_port()}", "app.wsgi:application"],
        cwd=TEMPLATE,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert time.monotonic() - started < 5
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: missing required environment variable ENVIRONMENT"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    (tmp_path / "slowapp.py").write_text(SLOW_APP, encoding="utf-8")
    env = base_env(PYTHONPATH=f"{tmp_path}{os.pathsep}{TEMPLATE}", WEB_CONCURRENCY="1")
    port = free_port()
    process = start("slowapp:application", port, env)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        keep_alive.request("GET", "/ready")
        first = keep_alive.getresponse()
        first.read()
        assert first.status == 200

        result: dict[str, object] = {}
        slow = threading.Thread(
            target=lambda: result.update(slow=get(f"http://127.0.0.1:{port}/slow"))
        )
        slow.start()
        time.sleep(0.3)  # the slow request is now in flight
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        keep_alive.request("GET", "/ready")  # a probe on a connection opened before SIGTERM
        ready = keep_alive.getresponse()
        assert ready.status == 503
        assert b'"draining"' in ready.read()

        slow.join(timeout=10)
        assert result["slow"] == (200, b"done")
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - signalled < 5  # within GRACEFUL_TIMEOUT
    finally:
        terminate(process)
