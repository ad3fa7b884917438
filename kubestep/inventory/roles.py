"""What a command line starts: the web server, a development server, a worker, a release task.

A repo names many commands (Procfile lines, units, scripts, make targets); only the web one
may become the image's start command, so each is classified by what it runs, and by the name
its process manager gives it (a Procfile `web:` is web whatever it runs).
"""

from __future__ import annotations

import re
from typing import Any

from kubestep.inventory import commandline
from kubestep.inventory.commandline import ServerCommand
from kubestep.inventory.model import StartCandidate
from kubestep.inventory.shell import Expanded

WEB = "web"
DEV = "dev"  # a development server (flask run, runserver, app.run()): web, but a last resort
WORKER = "worker"
SCHEDULER = "scheduler"
RELEASE = "release"
OTHER = "other"
STARTABLE = (WEB, DEV)

# How deliberate a place that starts a process is: the lower, the surer it is the real one.
# The repo's own container files come first: the team's latest word on running in a container.
ORIGIN_RANK = {
    "answer": -1,
    "dockerfile": 0,
    "compose": 0,
    "procfile": 1,
    "systemd": 2,
    "upstart": 2,
    "supervisor": 2,
    "puppet": 3,
    "chef": 3,
    "ansible": 3,
    "uwsgi-ini": 4,
    "gunicorn-config": 4,
    "paste-ini": 4,
    "script": 5,
    "make": 6,
    "python-main": 7,
    "readme": 8,
}

_DEV_SERVERS = {"flask", "django-runserver"}
# A server that restarts on each code change (uvicorn, gunicorn, hypercorn `--reload`) is
# the development way to run it: a production start elsewhere in the repo is the surer one.
_RELOADING = re.compile(r"\s--reload\b(?![-=])")
_WORKER = re.compile(
    r"\bcelery\b.*\bworker\b|\brq\s+worker\b|\brqworker\b|\bdramatiq\b|\bhuey_consumer\b"
    r"|\barq\b|\bmanage\.py\s+(rqworker|celery|qcluster|process_tasks|runworker)\b"
)
_SCHEDULER = re.compile(
    r"\bcelery\b.*\bbeat\b|\brqscheduler\b|\bmanage\.py\s+(rqscheduler|celerybeat|run_huey)\b"
)
_RELEASE = re.compile(
    r"\bmanage\.py\s+(migrate|collectstatic|compilemessages|createcachetable)\b"
    r"|\bflask\s+db\s+upgrade\b|\balembic\s+upgrade\b|\bdb\s+upgrade\b"
)
_NAMED = {
    "web": WEB,
    "release": RELEASE,
    "worker": WORKER,
    "clock": SCHEDULER,
    "scheduler": SCHEDULER,
    "beat": SCHEDULER,
}


def classify(
    line: str, name: str | None = None, known: dict[str, Expanded] | None = None
) -> tuple[str, ServerCommand | None]:
    """The role of line (and the server it starts, if any); ValueError on broken quoting."""
    command = commandline.parse(_jinja_as_shell(line), known)
    named = _NAMED.get(re.sub(r"[-_]?\d+$", "", (name or "").lower()))
    if command is not None:
        dev = command.server in _DEV_SERVERS or _RELOADING.search(line) is not None
        return (DEV if dev else WEB), command
    if named:
        return named, None
    if _SCHEDULER.search(line):
        return SCHEDULER, None
    if _WORKER.search(line):
        return WORKER, None
    if _RELEASE.search(line):
        return RELEASE, None
    return OTHER, None


_JINJA = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def compact_templates(line: str) -> str:
    """`{{ app_dir }}` as one word `{{app_dir}}`, so a templated command splits into words."""
    return _JINJA.sub(lambda match: "{{" + match.group(1) + "}}", line)


def _jinja_as_shell(line: str) -> str:
    """`{{ app_dir }}/bin/gunicorn` (an Ansible or Chef template) read as `${app_dir}/bin/...`."""
    return re.sub(
        r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}",
        lambda m: "${" + m.group(1).replace(".", "_") + "}",
        line,
    )


def candidate(
    line: str,
    source: str,
    origin: str,
    *,
    name: str | None = None,
    known: dict[str, Expanded] | None = None,
    script: str | None = None,
) -> StartCandidate:
    """A start candidate for line, with the server, app, port and workers it names.

    ValueError when its quoting is broken. A port that is only the server's default says so
    in `note`, so a surer source (a config file, EXPOSE) can replace it.
    """
    line = compact_templates(line)
    role, command = classify(line, name, known)
    found = StartCandidate(
        command=re.sub(r"^\s*exec\s+", "", line.strip()),
        source=source,
        origin=origin,
        role=role,
        name=name,
        script=script,
    )
    if command is None:
        return found
    found.server, found.app, found.kind = command.server, command.app, command.kind
    if command.port is not None:
        found.port, found.port_env = command.port.value, command.port.env_var
        found.port_note = command.port.note
    if command.workers is not None:
        found.workers, found.workers_env = command.workers.value, command.workers.env_var
    return found


def has_default_port(found: StartCandidate | dict[str, Any]) -> bool:
    """Whether the candidate's port is only its server's default (or not known at all)."""
    if isinstance(found, dict):
        return found.get("port") is None or "default" in (found.get("port_note") or "")
    return found.port is None or "default" in (found.port_note or "")


def classify_safely(
    line: str, name: str | None = None, known: dict[str, Expanded] | None = None
) -> tuple[str, ServerCommand | None]:
    """classify, with a line whose quoting is broken taken as starting nothing known."""
    try:
        return classify(line, name, known)
    except ValueError:
        return OTHER, None
