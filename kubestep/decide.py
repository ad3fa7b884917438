"""The decisions kubestep takes from an inventory, one function each, never a guess.

Each ranks what the readers found and returns a Choice with its reason and source, or Unsure
naming the answer key, the candidates and how to answer. A user's answer (`--set key=value`,
kept in .kubestep/answers.yml) always wins over detection.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory import roles

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
    "script": 5,
    "make": 6,
    "python-main": 7,
    "readme": 8,
}
_ORIGIN_WORDS = {
    "dockerfile": "the repo's Dockerfile",
    "compose": "the repo's compose file",
    "procfile": "the Procfile",
    "systemd": "the systemd unit",
    "upstart": "the upstart job",
    "supervisor": "the supervisor program",
    "puppet": "Puppet",
    "chef": "Chef",
    "ansible": "Ansible",
    "uwsgi-ini": "the uwsgi .ini",
    "gunicorn-config": "the gunicorn config",
    "script": "a start script",
    "make": "a make target",
    "python-main": "the module's __main__ block",
    "readme": "the README",
}
_SHELL_SYNTAX = re.compile(r"[;&|<>`$()*?~]|^\s*(cd|export|source|\.)\s|^\s*\w+=")
_PREFIX_EXEC = re.compile(r"^(?P<head>.*(?:&&|;)\s*)(?P<last>(?!exec\b)[^;&|]+)$", re.S)


@dataclass(frozen=True)
class Choice:
    value: Any
    reason: str
    source: str
    candidate: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unsure:
    key: str
    question: str
    candidates: list[str]

    def message(self) -> str:
        listed = "; ".join(self.candidates) or "none found"
        return (
            f"kubestep cannot decide {self.key}: {self.question} (candidates: {listed}); "
            f"answer once with `inv migrate ... --set {self.key}='...'`"
        )


def _rank(candidate: dict[str, Any]) -> int:
    """A script ranks as the place that runs it (a Dockerfile's boot.sh as the Dockerfile)."""
    if candidate.get("started_by"):
        return ORIGIN_RANK.get(candidate["started_by"], 9)
    return ORIGIN_RANK.get(candidate.get("origin", ""), 9)


def _describe(candidate: dict[str, Any]) -> str:
    return f"{candidate['command']!r} ({candidate.get('origin')}, {candidate['source']})"


def _same_process(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two candidates start the same process: the same line, or the same server and app."""
    if " ".join(a["command"].split()) == " ".join(b["command"].split()):
        return True
    return bool(a.get("server") and a.get("app")) and (a.get("server"), a.get("app")) == (
        b.get("server"),
        b.get("app"),
    )


def start_command(inventory: dict[str, Any], answers: dict[str, Any]) -> Choice | Unsure:
    """The web process's start command: a production server first, the surest place first."""
    if answers.get("start_command"):
        command = str(answers["start_command"])
        found = roles.candidate(command, ".kubestep/answers.yml:1", "answer", name="web")
        from kubestep.inventory.plain import to_plain

        return Choice(command, "your answer", ".kubestep/answers.yml", to_plain(found))
    candidates = inventory.get("start_candidates", [])
    startable = [c for c in candidates if c.get("role") in roles.STARTABLE]
    web = [c for c in startable if c["role"] == roles.WEB] or startable
    if not web:
        others = [_describe(c) for c in candidates if c.get("role") != "config"][:6]
        return Unsure(
            "start_command",
            "no command in the repo starts a web server",
            others,
        )
    best = min(_rank(c) for c in web)
    top = [c for c in web if _rank(c) == best]
    distinct: list[dict[str, Any]] = []
    for candidate in top:
        if not any(_same_process(candidate, kept) for kept in distinct):
            distinct.append(candidate)
    if len(distinct) > 1:
        return Unsure(
            "start_command",
            "several commands start a web server, equally surely",
            [_describe(c) for c in distinct],
        )
    chosen = distinct[0]
    origin = chosen.get("origin")
    reason = f"the {chosen['role']} process that {_ORIGIN_WORDS.get(origin or '', origin)} starts"
    if chosen.get("started_by"):
        started_by = chosen["started_by"]
        reason = f"the script that {_ORIGIN_WORDS.get(started_by, started_by)} runs"
    if chosen["role"] == roles.DEV:
        reason += " (a development server: the only web start the repo names)"
    return Choice(chosen["command"], reason, chosen["source"], chosen)


def container_argv(candidate: dict[str, Any]) -> list[str]:
    """The exec-form CMD for a start command: a shell line runs under sh, its server exec'd.

    `exec` before the last command of `a && b` lets the server get SIGTERM from the engine.
    """
    command = container_command(candidate)
    if not _SHELL_SYNTAX.search(command):
        try:
            return shlex.split(command)
        except ValueError:
            pass
    match = _PREFIX_EXEC.match(command)
    if match and not match.group("last").lstrip().startswith("exec "):
        command = f"{match.group('head')}exec {match.group('last').lstrip()}"
    elif not match and not command.startswith("exec "):
        command = f"exec {command}"
    return ["/bin/sh", "-c", command]


_RUNNERS = re.compile(r"\b(poetry|pipenv|uv)\s+run\s+")
_UNIX_BIND = re.compile(r"(?P<option>-b|--bind)(?P<sep>[ =])['\"]?unix:[^\s'\"]+['\"]?")
_UWSGI_SOCKET = re.compile(r"(?P<option>--socket|-s)(?P<sep>[ =])['\"]?[^\s'\"]+['\"]?")


def container_command(candidate: dict[str, Any]) -> str:
    """The start command as the image runs it, each change from the repo's line on purpose.

    The image installs the dependencies in a venv on PATH, so `poetry run X` is X; and a
    server bound to a unix socket for a front nginx binds $PORT instead, since in a container
    the platform routes to a TCP port.
    """
    command = _RUNNERS.sub("", candidate["command"].strip())
    if candidate.get("server") == "gunicorn":
        command = _UNIX_BIND.sub("--bind 0.0.0.0:${PORT}", command)
    if candidate.get("server") == "uwsgi" and not re.search(r"--http", command):
        command = _UWSGI_SOCKET.sub("--http-socket :${PORT}", command)
    return command


def port(inventory: dict[str, Any], chosen: dict[str, Any], answers: dict[str, Any]) -> Choice:
    """The port the web process listens on: the answer, its command, its config, EXPOSE."""
    if answers.get("port"):
        return Choice(int(answers["port"]), "your answer", ".kubestep/answers.yml")
    if chosen.get("port") and not roles.has_default_port(chosen):
        return Choice(int(chosen["port"]), "its start command", chosen["source"])
    exposed = sorted(
        {p for f in inventory.get("container_files", []) for p in f.get("exposes", [])}
    )
    if len(exposed) == 1:
        return Choice(exposed[0], "the port the repo's container files expose", "EXPOSE")
    if chosen.get("port"):
        note = chosen.get("port_note") or "its server's default"
        return Choice(int(chosen["port"]), note, chosen["source"])
    return Choice(8000, "no port named anywhere: kubestep's default, set as $PORT", "kubestep")


_PRODUCTION_REQUIREMENTS = ("prod", "production", "base", "common", "main", "deploy", "runtime")
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
LOOKED_FOR_DEPENDENCIES = (
    "requirements*.txt, requirements/*.txt, pyproject.toml, setup.py, setup.cfg, Pipfile"
)


def requirements(inventory: dict[str, Any], answers: dict[str, Any]) -> Choice:
    """What the image installs: a requirements file, the project itself, a Pipfile, or nothing.

    The value is the file (or "." for the project, "" for nothing); reason is its kind.
    """
    if answers.get("requirements"):
        value = str(answers["requirements"])
        kind = "project" if value == "." else "requirements"
        return Choice(value, kind, ".kubestep/answers.yml")
    files = [f for f in inventory.get("requirements_files", []) if not _is_dev(f)]
    root = [f for f in files if "/" not in f]
    nested = [f for f in files if f.startswith("requirements/")]
    if "requirements.txt" in root:
        return Choice("requirements.txt", "requirements", "requirements.txt")
    for group in (nested, root):
        for word in _PRODUCTION_REQUIREMENTS:
            for path in group:
                if word in path.rsplit("/", 1)[-1].lower():
                    return Choice(path, "requirements", path)
        if len(group) == 1:
            return Choice(group[0], "requirements", group[0])
    sources = {d.get("source", "").rsplit(":", 1)[0] for d in inventory.get("dependencies", [])}
    if sources & set(_PROJECT_FILES) or inventory.get("packaging"):
        return Choice(".", "project", next(iter(sorted(sources & set(_PROJECT_FILES))), "."))
    if "Pipfile" in sources:
        return Choice("Pipfile", "pipfile", "Pipfile")
    if root or nested:
        return Choice("", "none", f"several requirements files: {', '.join(root + nested)}")
    return Choice("", "none", f"looked at: {LOOKED_FOR_DEPENDENCIES}")


def _is_dev(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return bool(re.search(r"(dev|test|lint|doc|ci|check|local)", name))
