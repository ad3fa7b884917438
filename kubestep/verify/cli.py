"""The command: parse and check the options, run every check, print the summary, exit code."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import kubestep.verify
from kubestep.errors import InvalidValue, KubestepError
from kubestep.probe_paths import DEFAULTS
from kubestep.verify.compose import COMPOSE_FILES, Compose, ComposeError, compose_project
from kubestep.verify.live import (
    Target,
    check_endpoints,
    check_graceful_stop,
    check_logs,
    check_readiness_follows,
)
from kubestep.verify.report import FAIL, OK, Report, Result, summary
from kubestep.verify.web import NoAnswer, free_port, poll


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting 2: one line, exit 1."""

    def error(self, message: str) -> NoReturn:
        raise InvalidValue(message)


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="python -m kubestep.verify", description=kubestep.verify.__doc__.split("\n\n")[0]
    )
    add = parser.add_argument
    add(
        "--project-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the generated project (default .)",
    )
    add("--service", default="app", help="compose service of the app (default app)")
    add("--name", help="compose project is <name>-verify (default: the directory's name)")
    add("--route", default="/", help="an app route to exercise (default /)")
    for kind, usual in DEFAULTS.items():
        add(
            f"--{kind}-path",
            default=usual,
            metavar="PATH",
            help=f"where the runtime serves {usual.lstrip('/')} (default {usual})",
        )
    add(
        "--backing",
        action="append",
        default=[],
        metavar="NAME",
        help="a compose service the app depends on (repeatable); the first is paused to hold "
        "a request to --route in flight",
    )
    add(
        "--grace",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="the app's GRACEFUL_TIMEOUT (default 20)",
    )
    add("--keep", action="store_true", help="leave the containers running afterwards")
    add(
        "--compose",
        default=os.environ.get("COMPOSE") or "docker compose",
        help="the compose command (default $COMPOSE or 'docker compose')",
    )
    args = parser.parse_args(argv)
    directory = args.project_dir.resolve()
    if not directory.is_dir():
        raise InvalidValue(f"--project-dir {str(args.project_dir)!r} is not a directory")
    if not any((directory / name).is_file() for name in COMPOSE_FILES):
        raise InvalidValue(f"{str(args.project_dir)!r} has no compose.yaml")
    for option, value in [
        ("route", args.route),
        *((f"{k}-path", getattr(args, f"{k}_path")) for k in DEFAULTS),
    ]:
        if not value.startswith("/"):
            raise InvalidValue(f"--{option} {value!r} must start with '/'")
    if args.grace < 0:
        raise InvalidValue(f"--grace {args.grace:g} must be 0 or more seconds")
    args.compose_command = tuple(shlex.split(args.compose))
    if not args.compose_command:
        raise InvalidValue("--compose is empty: give the compose command, e.g. 'docker compose'")
    args.project = compose_project(args.name or directory.name)
    args.project_dir = directory
    return args


def verify(args: argparse.Namespace, report: Report) -> None:
    """Start the project, run every check into report, and always tear down unless --keep."""
    _require_prometheus_client()
    port = free_port()
    env = {**os.environ, "LOCAL_PORT": str(port), "LOG_FORMAT": "json"}
    compose = Compose(args.compose_command, args.project, args.project_dir, env)
    services = compose.run("config", "--services").split()
    unknown = [s for s in (args.service, *args.backing) if s not in services]
    if unknown:
        raise InvalidValue(f"{', '.join(unknown)}: not in compose.yaml (services: {services})")
    paths = {kind: getattr(args, f"{kind}_path") for kind in DEFAULTS}
    target = Target(compose, port, args.service, args.route, tuple(args.backing), args.grace, paths)
    report.out(f"verify {args.project}: {args.service} on http://127.0.0.1:{port}")
    wait = [] if "docker-compose" in Path(args.compose_command[0]).name else ["--wait"]
    try:
        try:
            compose.run("up", "--build", "--detach", *wait, timeout=1800)
        except ComposeError as error:
            report.add(Result(FAIL, "compose up", str(error)))
            _show_logs(compose, args.service, report)
            return
        report.add(Result(OK, "compose up"))
        if not wait:  # compose v1 cannot wait for the healthcheck
            poll(port, paths["ready"], lambda answer: answer.status == 200, 60)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("endpoints", lambda: check_endpoints(target, report)),
            ("logs", lambda: check_logs(target, report)),
            ("readiness", lambda: check_readiness_follows(target, report)),
            ("graceful stop", lambda: check_graceful_stop(target, report)),
        ]
        for name, step in steps:
            try:
                step()
            except (ComposeError, NoAnswer) as error:
                report.add(Result(FAIL, name, str(error)))
    finally:
        if args.keep:
            down = f"{' '.join(compose.command)} -p {args.project} down --volumes"
            report.out(f"kept: `{down}` in {args.project_dir} removes it")
        else:
            _tear_down(compose, report)


def _require_prometheus_client() -> None:
    """Checked before anything starts: without it /metrics cannot be read at the end."""
    try:
        import prometheus_client.parser  # noqa: F401
    except ImportError:
        raise KubestepError(
            "prometheus_client is not installed: verify parses /metrics with it "
            "(pip install prometheus-client)"
        ) from None


def _show_logs(compose: Compose, service: str, report: Report) -> None:
    try:
        logs = compose.run("logs", "--no-color", "--no-log-prefix", "--tail", "20", service)
    except ComposeError:
        return
    report.note(logs.rstrip("\n").splitlines())


def _tear_down(compose: Compose, report: Report) -> None:
    try:
        compose.run("down", "--volumes", "--remove-orphans")
    except ComposeError as error:
        report.add(Result(FAIL, "tear down", str(error)))


def main(argv: Sequence[str] | None = None) -> int:
    report = Report()
    try:
        args = parse_options(argv)
        verify(args, report)
    except KubestepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if report.results:
        print(summary(report.results))
    return 1 if report.failed or not report.results else 0
