"""The decisions kubestep takes from an inventory, one function each, never a guess.

Each ranks what the readers found and returns a Choice with its reason and source, or Unsure
naming the answer key, the candidates and how to answer. A user's answer (`--set key=value`,
kept in .kubestep/answers.yml) always wins over detection.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory import roles

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
    "paste-ini": "the PasteDeploy .ini",
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
        return roles.ORIGIN_RANK.get(candidate["started_by"], 9)
    return roles.ORIGIN_RANK.get(candidate.get("origin", ""), 9)


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


_TEMPLATE_MARK = re.compile(r"\{\{|\{%|<%")


def _templated(candidate: dict[str, Any]) -> bool:
    return bool(_TEMPLATE_MARK.search(candidate["command"]))


def _runs_one_of(command: str, scripts: set[str]) -> bool:
    """`sh heroku.sh` only runs a script that has a candidate of its own: the same process."""
    words = {word.removeprefix("./") for word in command.split()}
    return any(script in words for script in scripts)


_PYTHON = re.compile(r"^(?:\S*/)?python(?:\d+(?:\.\d+)?)?$")


def _running_main_scripts(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`python ./run.py --port=8000` in a Dockerfile or a supervisor program runs the script
    whose `__main__` serves (the python-main candidate): the same process, as surely as its own
    place says, with its own arguments."""
    mains = {
        posixpath.normpath(c["command"].split()[-1]): c
        for c in candidates
        if c.get("origin") == "python-main" and c.get("role") in roles.STARTABLE
    }
    found = []
    for candidate in candidates:
        try:
            words = shlex.split(candidate["command"])
        except ValueError:
            words = []
        main = (
            mains.get(posixpath.normpath(words[1]))
            if candidate.get("role") == roles.OTHER and len(words) >= 2 and _PYTHON.match(words[0])
            else None
        )
        if main is not None:
            served = {key: main[key] for key in ("role", "server", "note") if main.get(key)}
            candidate = {**candidate, **served}
        found.append(candidate)
    return found


def start_command(inventory: dict[str, Any], answers: dict[str, Any]) -> Choice | Unsure:
    """The web process's start command: a production server first, the surest place first."""
    if answers.get("start_command"):
        command = str(answers["start_command"])
        found = roles.candidate(command, ".kubestep/answers.yml:1", "answer", name="web")
        from kubestep.inventory.plain import to_plain

        return Choice(command, "your answer", ".kubestep/answers.yml", to_plain(found))
    candidates = _running_main_scripts(inventory.get("start_candidates", []))
    startable = [c for c in candidates if c.get("role") in roles.STARTABLE]
    # A raw Jinja/ERB template yields to the same command as config management rendered it.
    startable = [c for c in startable if not _templated(c)] or startable
    web = [c for c in startable if c["role"] == roles.WEB] or startable
    if not web:
        others = [_describe(c) for c in candidates if c.get("role") != "config"][:6]
        return Unsure(
            "start_command",
            "no command in the repo starts a web server",
            others,
        )
    scripts = {c["script"] for c in web if c.get("script")}
    web = [c for c in web if c.get("script") or not _runs_one_of(c["command"], scripts)]
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
    if "{{" in container_command(chosen) or "<%" in chosen["command"]:
        return Unsure(
            "start_command",
            "the web command comes from a template whose values kubestep cannot resolve",
            [_describe(chosen)],
        )
    if chosen.get("server") == "pserve" and chosen.get("loopback"):
        ini = chosen["source"].rsplit(":", 1)[0]
        return Unsure(
            "start_command",
            f"pserve serves {ini} on the loopback interface (its [server:main]), which no "
            "command line can move, and the container needs every interface: run it with "
            f"`gunicorn --paste {ini} --bind 0.0.0.0:$PORT`, or change [server:main]",
            [_describe(chosen)],
        )
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


_RUNNERS = re.compile(r"(?:\S*/)?\b(?:poetry|pipenv|uv)\b[^;&|]*?\srun\s+")
_RELOAD = re.compile(r"\s--reload\b(?![-=])")
_LOG_FILE = re.compile(r"(--access-logfile|--error-logfile|--log-file)([ =])['\"]?/[^\s'\"]+['\"]?")
_UWSGI_LOGTO = re.compile(r"\s--(?:logto|daemonize)[ =]\S+")
_UNIX_BIND = re.compile(r"(-b|--bind)[ =]['\"]?unix:[^\s'\"]+['\"]?")
_LOOPBACK = r"['\"]?(?:localhost|127\.0\.0\.1)"
_LOOPBACK_BIND = re.compile(
    rf"(-b|--bind|--http|--http-socket|--listen)([ =]){_LOOPBACK}(:\S+?)['\"]?(?=\s|$)"
)
_LOOPBACK_HOST = re.compile(r"(--host|-h|-b)([ =])['\"]?(?:localhost|127\.0\.0\.1)['\"]?(?=\s|$)")
# uwsgi's virtualenv of the old box (`--home /srv/app/venv`): the image's is /opt/venv.
_UWSGI_HOME = re.compile(
    r"(--home|-H|--virtualenv|--venv|--pyhome)([ =])['\"]?/(?!opt/venv\b)[^\s'\"]+['\"]?"
)
_UWSGI_SOCKET = re.compile(r"(--socket|-s)[ =]['\"]?[^\s'\"]+['\"]?")
# Servers that bind the loopback interface unless told otherwise, and how to tell them.
_ALL_INTERFACES = {
    "uvicorn": ("--host", "--host 0.0.0.0"),
    "daphne": ("-b", "-b 0.0.0.0"),
    "hypercorn": ("--bind", "--bind 0.0.0.0:${PORT}"),
    "flask": ("--host", "--host 0.0.0.0"),
}


def container_command(candidate: dict[str, Any]) -> str:
    """The start command as the image runs it; changes(candidate) says what changed and why."""
    return _container_command(candidate)[0]


def changes(candidate: dict[str, Any]) -> list[str]:
    """What kubestep changed in the repo's start command for the container, each with why."""
    return _container_command(candidate)[1]


def _container_command(candidate: dict[str, Any]) -> tuple[str, list[str]]:
    """The image installs the dependencies in a venv on PATH, so `poetry run X` is X; in a
    container the platform routes to a TCP port on every interface, so a server bound to a
    unix socket (for a front nginx) or to the loopback interface binds 0.0.0.0 instead."""
    command = candidate["command"].strip()
    server = candidate.get("server") or ""
    notes: list[str] = []
    if candidate.get("script") and candidate["script"] in command:
        return command, notes  # the script itself runs: its server line is its own business

    def edit(pattern: re.Pattern[str], replacement: str, why: str) -> None:
        nonlocal command
        new = pattern.sub(replacement, command)
        if new != command:
            command = new
            notes.append(why)

    edit(_RUNNERS, "", "`poetry run`/`pipenv run` dropped: the venv is on PATH")
    edit(_RELOAD, "", "--reload dropped: the image's code never changes under the server")
    edit(
        _LOG_FILE,
        r"\1\2-",
        "log files became stdout: the platform collects it, the root is read-only",
    )
    edit(_UWSGI_LOGTO, "", "--logto dropped: uwsgi logs to stdout, the platform collects it")
    if server == "gunicorn":
        edit(_UNIX_BIND, "--bind 0.0.0.0:${PORT}", "a unix socket bind became TCP $PORT")
    if server == "uwsgi":
        edit(_UWSGI_HOME, r"\1\g<2>/opt/venv", "uwsgi's virtualenv is the image's, /opt/venv")
    if server == "uwsgi" and "--http" not in command:
        edit(_UWSGI_SOCKET, "--http-socket :${PORT}", "a uwsgi socket became HTTP on $PORT")
    edit(_LOOPBACK_BIND, r"\1\g<2>0.0.0.0\3", "a loopback bind became 0.0.0.0")
    edit(_LOOPBACK_HOST, r"\1\g<2>0.0.0.0", "a loopback host became 0.0.0.0")
    option, added = _ALL_INTERFACES.get(server, ("", ""))
    if (
        option
        and not re.search(rf"(^|\s){re.escape(option)}[\s=]", command)
        and not (server == "hypercorn" and re.search(r"(^|\s)-b[\s=]", command))
    ):
        command = f"{command} {added}"
        notes.append(f"{added} added: {server} binds the loopback interface by default")
    if server == "django-runserver" and not re.search(r"runserver\s+\S*\d", command):
        command = re.sub(r"(runserver)", r"\1 0.0.0.0:${PORT}", command, count=1)
        notes.append("runserver binds 0.0.0.0:$PORT, not its loopback default")
    if server == "gunicorn" and candidate.get("loopback") and "--bind 0.0.0.0" not in command:
        command = f"{command} --bind 0.0.0.0:${{PORT}}"
        notes.append("--bind 0.0.0.0:$PORT added: its config binds the loopback interface")
    if server == "uwsgi" and candidate.get("loopback") and "--http" not in command:
        command = f"{command} --http-socket :${{PORT}}"
        notes.append("--http-socket :$PORT added: its .ini serves no HTTP on every interface")
    workdir = (candidate.get("workdir") or "").strip("/")
    if workdir and workdir != "." and not command.startswith("cd "):
        command = f"cd {shlex.quote(workdir)} && {command}"
        notes.append(f"runs in {workdir}/, where {candidate.get('origin')} runs it")
    return command, notes


def process_command(candidate: dict[str, Any]) -> tuple[str, list[str]]:
    """Any other process's command as the image runs it (a worker, a release command), with
    what changed and why: the edits of the web command that hold for every process."""
    command = candidate["command"].strip()
    notes: list[str] = []
    for pattern, replacement, why in (
        (_RUNNERS, "", "`poetry run`/`pipenv run` dropped: the venv is on PATH"),
        (_LOG_FILE, r"\1\2-", "log files became stdout: the platform collects it"),
    ):
        new = pattern.sub(replacement, command)
        if new != command:
            command = new
            notes.append(why)
    workdir = (candidate.get("workdir") or "").strip("/")
    if workdir and workdir != "." and not command.startswith("cd "):
        command = f"cd {shlex.quote(workdir)} && {command}"
        notes.append(f"runs in {workdir}/, where {candidate.get('origin')} runs it")
    return command, notes


def port(
    inventory: dict[str, Any], chosen: dict[str, Any], answers: dict[str, Any]
) -> Choice | Unsure:
    """The port the web process listens on: the answer, its command, its config, EXPOSE;
    kubestep's 8000 only where the command listens on $PORT, else it asks."""
    if answers.get("port"):
        return Choice(int(answers["port"]), "your answer", ".kubestep/answers.yml")
    if chosen.get("port") and not roles.has_default_port(chosen):
        return Choice(int(chosen["port"]), "its start command", chosen["source"])
    chosen_file = chosen.get("source", "").rsplit(":", 1)[0]
    exposed = sorted(
        {
            p
            for f in inventory.get("container_files", [])
            if "/" not in f["path"] or f["path"] == chosen_file
            for p in f.get("exposes", [])
        }
    )
    if len(exposed) == 1:
        return Choice(exposed[0], "the port the repo's container files expose", "EXPOSE")
    if chosen.get("port"):
        note = chosen.get("port_note") or "its server's default"
        return Choice(int(chosen["port"]), note, chosen["source"])
    named = _PORT_OPTION.search(chosen.get("command", ""))
    if named:  # `python ./run.py --port=8000`: a script's own option says it
        return Choice(int(named.group(1)), "its start command's --port", chosen["source"])
    if chosen and not _READS_PORT.search(container_command(chosen)):
        return Unsure(
            "port",
            f"nothing in the repo says which port `{chosen['command']}` listens on",
            [],
        )
    return Choice(8000, "no port named anywhere: kubestep's default, set as $PORT", "kubestep")


_READS_PORT = re.compile(r"\$\{?PORT\b")
_PORT_OPTION = re.compile(r"(?:^|\s)--port[= ]['\"]?(\d{2,5})\b")


_PRODUCTION_REQUIREMENTS = ("prod", "production", "base", "common", "main", "deploy", "runtime")
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
LOOKED_FOR_DEPENDENCIES = (
    "requirements*.txt, requirements/*.txt, pyproject.toml, setup.py, setup.cfg, Pipfile"
)


def requirements(inventory: dict[str, Any], answers: dict[str, Any]) -> Choice:
    """What the image installs: a requirements file, the project itself, a Pipfile, or nothing.

    The value is the file (or "." for the project, "" for nothing); reason is its kind. A
    file that only includes one other (`-r requirements/prod.txt`) stands for that one.
    """
    if answers.get("requirements"):
        value = str(answers["requirements"])
        kind = "project" if value == "." else "requirements"
        return Choice(value, kind, ".kubestep/answers.yml")
    chosen = _requirements_file(inventory)
    if chosen:
        return Choice(_through_single_includes(inventory, chosen), "requirements", chosen)
    sources = {d.get("source", "").rsplit(":", 1)[0] for d in inventory.get("dependencies", [])}
    if any(d.get("manager") == "poetry" for d in inventory.get("dependencies", [])):
        return Choice("pyproject.toml", "packages", "pyproject.toml [tool.poetry.dependencies]")
    if sources & set(_PROJECT_FILES):
        return Choice(".", "project", sorted(sources & set(_PROJECT_FILES))[0])
    if "Pipfile" in sources:
        return Choice("Pipfile", "pipfile", "Pipfile")
    return Choice("", "none", f"looked at: {LOOKED_FOR_DEPENDENCIES}")


def _requirements_file(inventory: dict[str, Any]) -> str:
    """The root requirements.txt, else a production one, else the only one, shallowest first."""
    files = [
        f
        for f in inventory.get("requirements_files", [])
        if not _is_dev(f) and not re.match(r"^(docs?|tests?|examples?)/", f)
    ]
    by_depth: dict[int, list[str]] = {}
    for path in files:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        depth = 0 if folder in ("", "requirements") else folder.count("/") + 1
        by_depth.setdefault(depth, []).append(path)
    for depth in sorted(by_depth):
        group = by_depth[depth]
        plain = [f for f in group if f.rsplit("/", 1)[-1] == "requirements.txt"]
        if len(plain) == 1:
            return plain[0]
        for word in _PRODUCTION_REQUIREMENTS:
            named = [f for f in group if word in f.rsplit("/", 1)[-1].lower()]
            if len(named) == 1:
                return named[0]
        if len(group) == 1:
            return group[0]
    return ""


def _through_single_includes(inventory: dict[str, Any], path: str) -> str:
    includes = inventory.get("requirements_includes", [])
    own = {d.get("source", "").rsplit(":", 1)[0] for d in inventory.get("dependencies", [])}
    for _ in range(5):
        mine = [i["includes"] for i in includes if i["file"] == path]
        if path in own or len(mine) != 1 or mine[0] not in inventory.get("requirements_files", []):
            return path
        path = mine[0]
    return path


def requirements_closure(inventory: dict[str, Any], path: str) -> list[str]:
    """path and every file it includes, at any depth: the build stage copies all of them."""
    includes = inventory.get("requirements_includes", [])
    closure, todo = [], [path]
    while todo:
        current = todo.pop(0)
        if current in closure:
            continue
        closure.append(current)
        todo.extend(i["includes"] for i in includes if i["file"] == current)
    return closure


def _is_dev(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return bool(re.search(r"(dev|test|lint|doc|ci|check|local)", name))


KUBESTEP_PYTHON = "3.11"
_EXACT_VERSION_FILES = ("runtime.txt", ".python-version")


def python_version(inventory: dict[str, Any]) -> Choice:
    """The Python the image runs: the one the repo pins exactly (runtime.txt, .python-version,
    its own Dockerfile's `FROM python:X.Y`), else kubestep's 3.11. A range (requires-python,
    python_requires, Poetry's `python = "^3.8"`) does not make kubestep pick an older one."""
    fact = inventory.get("python_version") or {}
    source = str(fact.get("source", ""))
    if source.rsplit(":", 1)[0].rsplit("/", 1)[-1] in _EXACT_VERSION_FILES and fact.get("value"):
        return Choice(_major_minor(str(fact["value"])), "pinned exactly", source)
    for found in inventory.get("container_files", []):
        base = str(found.get("base_image") or "")
        match = re.match(r"^(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)", base)
        if found.get("kind") == "dockerfile" and "/" not in found["path"] and match:
            return Choice(
                match.group(1), f"the base image of its own Dockerfile ({base})", found["source"]
            )
    return Choice(KUBESTEP_PYTHON, "kubestep's default", "kubestep")


# The day each Python's first release came out: releases uploaded before it ship no wheels
# for it, and their C extensions often no longer compile against it.
PYTHON_RELEASED = {
    "3.8": "2019-10-14",
    "3.9": "2020-10-05",
    "3.10": "2021-10-04",
    "3.11": "2022-10-24",
    "3.12": "2023-10-02",
    "3.13": "2024-10-07",
    "3.14": "2025-10-07",
}


def resolve_before(inventory: dict[str, Any], python: str, answers: dict[str, Any]) -> Choice:
    """The upload time pip resolves against (value "" for today's releases), so requirements
    left open get the releases of the day their files were last committed, not today's.

    Only where the image's Python already existed that day: releases of an older day lack its
    wheels, and today's releases with kubestep's companion bounds build more of them.
    """
    answer = str(answers.get("resolve_before") or "")
    if answer:
        value = "" if answer == "today" else answer
        return Choice(value, "your answer", ".kubestep/answers.yml")
    fact = inventory.get("dependencies_date") or {}
    date = str(fact.get("value") or "")
    if not date:
        return Choice("", "no commit dates the dependency files (no git history)", "kubestep")
    day, released = date[:10], PYTHON_RELEASED.get(python)
    if released is None or day < released:
        known = f" ({released})" if released else ""
        return Choice(
            "",
            f"the dependency files ({day}) predate Python {python}{known}, whose wheels the "
            "releases of their day lack",
            str(fact.get("source", "")),
        )
    return Choice(
        date,
        f"the releases of {day}, when the dependency files were last committed",
        str(fact.get("source", "")),
    )


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def base_image_for(version: str) -> str:
    """The official slim image of that Python (bookworm where it exists)."""
    major_minor = tuple(int(part) for part in version.split("."))
    suite = "bullseye" if major_minor < (3, 7) else "bookworm"
    return f"python:{version}-slim-{suite}"
