#!/usr/bin/env python3
"""Run one health check the way Nagios did, from inside the container or a probe.

Exit codes follow Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, with one status line, so
the same checks serve `docker compose exec`, Kubernetes exec probes and alerting.
Only the standard library: it runs in any image with Python.
"""

import argparse
import os
import shutil
import sys
import urllib.error
import urllib.request

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


def check_http(args: argparse.Namespace) -> tuple[int, str]:
    """GET http://host:port/path and compare the status with the expected one."""
    url = f"http://{args.host}:{args.port}{args.path}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        return CRITICAL, f"{url} did not answer: {error}"
    if status != args.expect:
        return CRITICAL, f"{url} answered {status}, expected {args.expect}"
    return OK, f"{url} answered {status}"


def _command_lines() -> list[str]:
    lines = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    lines.append(cmdline.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return lines


def check_process(args: argparse.Namespace) -> tuple[int, str]:
    """Count processes whose command line contains name; outside [min, max] is critical."""
    count = sum(1 for line in _command_lines() if args.name in line)
    if not args.min <= count <= args.max:
        return CRITICAL, f"{count} processes match {args.name!r}, expected {args.min}-{args.max}"
    return OK, f"{count} processes match {args.name!r}"


def _percent(text: str) -> float:
    return float(text.rstrip("%"))


def check_disk(args: argparse.Namespace) -> tuple[int, str]:
    """Free space on path as a percentage, against warning and critical thresholds."""
    if not os.path.exists(args.path):
        return UNKNOWN, f"{args.path} does not exist"
    usage = shutil.disk_usage(args.path)
    free = 100.0 * usage.free / usage.total if usage.total else 0.0
    message = f"{free:.0f}% free on {args.path}"
    if free < _percent(args.critical):
        return CRITICAL, message
    if free < _percent(args.warning):
        return WARNING, message
    return OK, message


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = top.add_subparsers(dest="kind", required=True)
    http = kinds.add_parser("http", help="an HTTP status check")
    http.add_argument("--host", default=os.environ.get("CHECK_HOST", "127.0.0.1"))
    http.add_argument("--port", type=int, required=True)
    http.add_argument("--path", default="/")
    http.add_argument("--expect", type=int, default=200)
    http.add_argument("--timeout", type=float, default=5.0)
    http.set_defaults(run=check_http)
    process = kinds.add_parser("process", help="a process count check")
    process.add_argument("--name", required=True)
    process.add_argument("--min", type=int, default=1)
    process.add_argument("--max", type=int, default=1_000_000)
    process.set_defaults(run=check_process)
    disk = kinds.add_parser("disk", help="a free disk space check")
    disk.add_argument("--path", default="/")
    disk.add_argument("--warning", default="20%")
    disk.add_argument("--critical", default="10%")
    disk.set_defaults(run=check_disk)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code, message = args.run(args)
    print(f"{NAMES[code]} - {message}")
    return code


if __name__ == "__main__":
    sys.exit(main())
