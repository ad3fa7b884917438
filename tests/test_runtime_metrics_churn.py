"""/metrics stays a whole, parsable 200 while gunicorn workers die and are replaced.

A starting worker creates each multiprocess .db file empty and sizes it a moment later;
prometheus_client fails the whole scrape on such a file (prometheus/client_python#1199).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from tests.docker_helpers import free_port, terminate

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import RuntimeSettings, call_wsgi, wrap_wsgi
from kubestep_runtime.metrics import RequestMetrics

TEMPLATE = Path(__file__).resolve().parents[1] / "template"

WORKERS = 4
KILLS = 40  # alternately SIGTERM and SIGKILL, one every KILL_INTERVAL seconds
KILL_INTERVAL = 0.05
SCRAPERS = 4
MIN_SCRAPES = 50  # per scraper, and scraping goes on until the last kill
GIVE_UP_AFTER = 30.0  # seconds: bounds the run; the kills take ~3 s
DROPPED = "dropped"  # the serving worker was killed mid-request: expected under SIGKILL
OK = "ok"


def hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]


def request_totals(text: str) -> list[tuple[str, float]]:
    return [
        (s.labels["route"], s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "http_requests_total"
    ]


def test_an_empty_metrics_file_leaves_the_scrape_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = wrap_wsgi(hello, settings=RuntimeSettings(), metrics=RequestMetrics(CollectorRegistry()))
    written = MmapedDict(str(tmp_path / "counter_101.db"))
    labels = (["method", "route", "status"], ["GET", "/", "200"])
    key = mmap_key("http_requests", "http_requests_total", *labels, "HTTP requests handled.")
    written.write_value(key, 3.0, 0.0)
    written.close()
    # Worker 102 was killed between creating its files and sizing them.
    (tmp_path / "counter_102.db").touch()
    (tmp_path / "histogram_102.db").touch()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    response = call_wsgi(app, "/metrics")

    assert response.status == 200
    assert request_totals(response.body.decode()) == [("/", 3.0)]


def start_gunicorn(port: int, metrics_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """The starter app under the template's gunicorn.conf.py, quiet but for warnings."""
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}
    env.update(
        ENVIRONMENT="test",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        WEB_CONCURRENCY=str(WORKERS),
        GRACEFUL_TIMEOUT="1",
        LOG_LEVEL="warning",
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "app.wsgi:application"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=TEMPLATE, env=env, stdout=out, stderr=out)


def wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):  # 10 s
        assert process.poll() is None, "gunicorn exited during start-up"
        if scrape(port) == OK:
            return
        time.sleep(0.05)
    raise AssertionError("gunicorn did not serve /metrics within 10 s")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [int(pid) for pid in children.read_text().split()]
    except OSError:  # the master is gone: nothing left to kill
        return []


class WorkerKiller(threading.Thread):
    """Kills one worker at a time, so that replacements start while others serve scrapes."""

    def __init__(self, master: int) -> None:
        super().__init__()
        self.master = master
        self.kills = 0
        self.done = threading.Event()

    def run(self) -> None:
        while self.kills < KILLS and not self.done.wait(KILL_INTERVAL):
            pids = worker_pids(self.master)
            if not pids:
                continue
            sig = signal.SIGKILL if self.kills % 2 else signal.SIGTERM
            try:
                os.kill(pids[self.kills % len(pids)], sig)
            except ProcessLookupError:  # exited by itself in the meantime
                continue
            self.kills += 1
        self.done.set()


def scrape(port: int) -> str:
    """OK, DROPPED, or what was wrong with the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        return DROPPED
    finally:
        connection.close()
    if response.status != 200:
        return f"status {response.status}: {body[:80]!r}"
    try:
        list(text_string_to_metric_families(body.decode()))
    except Exception as error:
        return f"unparsable: {error!r}"
    return OK


def scrape_until(port: int, kills_done: threading.Event) -> Counter[str]:
    """Scrape from SCRAPERS threads until the kills are over, MIN_SCRAPES each at least."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def scraper() -> None:
        count = 0
        while count < MIN_SCRAPES or not kills_done.is_set():
            outcome = scrape(port)
            with lock:
                outcomes[outcome] += 1
            count += 1

    threads = [threading.Thread(target=scraper) for _ in range(SCRAPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_metrics_stay_whole_while_workers_are_replaced(tmp_path: Path) -> None:
    port = free_port()
    process = start_gunicorn(port, tmp_path / "metrics", tmp_path / "gunicorn.log")
    killer = WorkerKiller(process.pid)
    give_up = threading.Timer(GIVE_UP_AFTER, killer.done.set)
    try:
        wait_until_serving(port, process)
        killer.start()
        give_up.start()
        outcomes = scrape_until(port, killer.done)
    finally:
        killer.done.set()
        give_up.cancel()
        if killer.is_alive():
            killer.join()
        terminate(process)

    failures = {outcome: n for outcome, n in outcomes.items() if outcome not in (OK, DROPPED)}
    assert failures == {}, f"{failures} of {sum(outcomes.values())} scrapes"
    assert killer.kills == KILLS
    assert outcomes[OK] >= sum(outcomes.values()) // 2
