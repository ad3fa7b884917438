"""What wrap_wsgi costs per request: one Flask route served with and without it, in one run.

Every request to a generated service goes through the middleware (a route label, two metric
updates in the multiprocess files, one JSON log line), so its overhead is paid on every call.

    .venv/bin/python bench/middleware_overhead.py [--concurrency 8] [--requests 3000] [--rounds 12]

Both variants run at the same time under real gunicorn with the template's gunicorn.conf.py
(same workers, threads and worker class, multiprocess metrics, LOG_FORMAT=json to /dev/null)
on 127.0.0.1, and are loaded in alternating rounds (plain first, then wrapped first) so that
drift hits both alike. The client threads share the CPUs with the servers: compare the
ratios, not absolute figures, across machines. Besides throughput and latency it prints the
servers' own CPU time per request (master and workers, from /proc), which other load on the
machine hardly changes. Exits 1 when any request fails or answers anything but 200 "hello".
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.docker_helpers import free_port, terminate

BENCH = Path(__file__).resolve().parent
TEMPLATE = BENCH.parent / "template"

WORKERS, THREADS = 2, 4  # the template's defaults, set explicitly for both variants
VARIANTS = {"plain": "plain_app()", "wrapped": "wrapped_app()"}
BODY = b"hello"
totals_lock = threading.Lock()


def plain_app() -> Flask:
    """The bare app: gunicorn loads it as `middleware_overhead:plain_app()`."""
    app = Flask("bench")
    app.add_url_rule("/hello", "hello", lambda: BODY.decode())
    return app


def wrapped_app() -> Any:
    """The same app behind the runtime, as a generated service's wsgi.py builds it."""
    from kubestep_runtime import wrap_wsgi  # here, so that plain workers never import it

    return wrap_wsgi(plain_app())


def wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/hello")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn on port {port} did not serve /hello within 20 s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and of its live children (gunicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone in the meantime
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


@contextmanager
def gunicorn(app: str) -> Iterator[Server]:
    """Serve `middleware_overhead:<app>` on a free port."""
    port = free_port()
    drop = ("GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        ENVIRONMENT="bench",
        LOG_FORMAT="json",
        WEB_CONCURRENCY=str(WORKERS),
        WEB_THREADS=str(THREADS),
        # This module, and the runtime: it ships inside the template, not installed.
        PYTHONPATH=os.pathsep.join([str(BENCH), str(TEMPLATE)]),
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", f"middleware_overhead:{app}"]
    process = subprocess.Popen(
        command, cwd=TEMPLATE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_serving(port, process)
        yield Server(port, process.pid)
    finally:
        terminate(process, timeout=30)


@dataclass
class Totals:
    """What one variant accumulated over its rounds."""

    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    round_rps: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request, in microseconds."""
        return self.cpu_seconds / self.requests * 1e6


def client(port: int, count: int, start: threading.Barrier, totals: Totals) -> None:
    """`count` GETs on one keep-alive connection, reconnecting after a failure."""
    latencies: list[float] = []
    errors = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start.wait()
    for _ in range(count):
        began = time.perf_counter()
        try:
            connection.request("GET", "/hello")
            response = connection.getresponse()
            ok = response.status == 200 and response.read() == BODY
        except (OSError, http.client.HTTPException):
            connection.close()
            ok = False
        latencies.append(time.perf_counter() - began)
        errors += not ok
    connection.close()
    with totals_lock:
        totals.latencies += latencies
        totals.errors += errors


def run_round(server: Server, concurrency: int, requests: int, totals: Totals) -> float:
    """Send `requests` GETs over `concurrency` connections; returns requests per second."""
    port = server.port
    cpu_before = cpu_seconds(server.pid)
    counts = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    threads = [
        threading.Thread(target=client, args=(port, count, start, totals)) for count in counts
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    totals.cpu_seconds += cpu_seconds(server.pid) - cpu_before
    totals.requests += requests
    totals.seconds += seconds
    totals.round_rps.append(requests / seconds)
    return requests / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=12, help="measured rounds per variant")
    parser.add_argument("--warmup", type=int, default=1000, help="unmeasured requests first")
    args = parser.parse_args()
    print(
        f"Flask GET /hello under gunicorn ({WORKERS} gthread workers x {THREADS} threads), "
        f"{args.concurrency} connections, {args.rounds} rounds x {args.requests} requests"
    )
    with gunicorn(VARIANTS["plain"]) as plain, gunicorn(VARIANTS["wrapped"]) as wrapped:
        servers = {"plain": plain, "wrapped": wrapped}
        totals = {name: Totals() for name in servers}
        for name, server in servers.items():
            warmup = Totals()
            run_round(server, args.concurrency, args.warmup, warmup)
            totals[name].errors += warmup.errors
        for number in range(1, args.rounds + 1):
            order = list(servers) if number % 2 else list(reversed(servers))
            figures = {
                name: run_round(servers[name], args.concurrency, args.requests, totals[name])
                for name in order
            }
            shown = ", ".join(f"{name} {figures[name]:.0f}" for name in servers)
            print(f"round {number} req/s: {shown}")
    print(
        f"{'variant':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'errors':>7}"
    )
    for name, total in totals.items():
        print(
            f"{name:<8} {total.rps:>8.0f} {total.percentile_ms(50):>8.2f} "
            f"{total.percentile_ms(99):>8.2f} {total.cpu_us:>11.0f} {total.errors:>7}"
        )
    plain_totals, wrapped_totals = totals["plain"], totals["wrapped"]
    round_ratios = [
        w / p for w, p in zip(wrapped_totals.round_rps, plain_totals.round_rps, strict=True)
    ]
    print(
        f"wrapped/plain: req/s {wrapped_totals.rps / plain_totals.rps:.2f} "
        f"(median of rounds {statistics.median(round_ratios):.2f}), "
        f"p99 {wrapped_totals.percentile_ms(99) / plain_totals.percentile_ms(99):.2f}, "
        f"server CPU per request {wrapped_totals.cpu_us / plain_totals.cpu_us:.2f} "
        f"({wrapped_totals.cpu_us - plain_totals.cpu_us:+.0f} us)"
    )
    errors = plain_totals.errors + wrapped_totals.errors
    if errors:
        sys.exit(f"error: {errors} requests failed or did not answer 200 {BODY!r}")


if __name__ == "__main__":
    main()
