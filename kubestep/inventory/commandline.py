"""Server command lines: gunicorn, uwsgi, uvicorn, hypercorn, daphne, waitress, flask, Django.

From one command line comes what the container needs to start the same way: the WSGI/ASGI
object (`module:attr`), the port it binds and how many workers it forks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubestep.inventory import shell
from kubestep.inventory.shell import Expanded


@dataclass(frozen=True)
class Server:
    """How one server program spells its options."""

    name: str
    kind: str
    default_port: int | None
    port_options: tuple[str, ...] = ()
    bind_options: tuple[str, ...] = ()
    worker_options: tuple[str, ...] = ()
    app_options: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()


_GUNICORN_FLAGS = "-D -R --daemon --reload --preload --check-config --print-config --spew"
SERVERS = {
    "gunicorn": Server(
        "gunicorn",
        "wsgi",
        8000,
        bind_options=("-b", "--bind"),
        worker_options=("-w", "--workers"),
        flags=frozenset(f"{_GUNICORN_FLAGS} --capture-output --reuse-port --no-sendfile".split()),
    ),
    "uvicorn": Server(
        "uvicorn",
        "asgi",
        8000,
        port_options=("--port",),
        worker_options=("--workers",),
        flags=frozenset(
            [
                "--reload",
                "--factory",
                "--proxy-headers",
                "--no-proxy-headers",
                "--access-log",
                "--no-access-log",
                "--use-colors",
                "--no-use-colors",
                "--server-header",
                "--no-server-header",
            ]
        ),
    ),
    "hypercorn": Server(
        "hypercorn",
        "asgi",
        8000,
        bind_options=("-b", "--bind"),
        worker_options=("-w", "--workers"),
        flags=frozenset(["--reload", "--debug", "--access-log"]),
    ),
    "daphne": Server(
        "daphne",
        "asgi",
        8000,
        port_options=("-p", "--port"),
        flags=frozenset(["--proxy-headers", "-v"]),
    ),
    "waitress-serve": Server(
        "waitress-serve",
        "wsgi",
        8080,
        port_options=("--port",),
        bind_options=("--listen",),
        flags=frozenset(["--call", "--expose-tracebacks"]),
    ),
    "uwsgi": Server(
        "uwsgi",
        "wsgi",
        None,
        bind_options=("--http", "--http-socket", "--socket", "-s"),
        worker_options=("--processes", "-p", "--workers"),
        app_options=("--module", "-w", "--wsgi-file"),
        flags=frozenset(
            [
                "--master",
                "-M",
                "--enable-threads",
                "--die-on-term",
                "--vacuum",
                "--lazy-apps",
                "--need-app",
                "--single-interpreter",
                "--strict",
                "--thunder-lock",
            ]
        ),
    ),
    "flask": Server(
        "flask",
        "wsgi",
        5000,
        port_options=("--port", "-p"),
        app_options=("--app",),
        flags=frozenset(["--reload", "--debug", "--no-debug", "--debugger"]),
    ),
    "django-runserver": Server("django-runserver", "wsgi", 8000),
}
_PREFIXES = {"exec", "nohup", "env", "time", "command"}
# Programs that run the server for someone else: read through them to the server.
_WRAPPERS = {
    ("poetry", "run"),
    ("pipenv", "run"),
    ("newrelic-admin", "run-program"),
    ("tini", "--"),
    ("uv", "run"),
}
_RUNNERS = {"poetry", "pipenv", "uv"}
_WRAPPER_PROGRAMS = {"ddtrace-run", "dumb-init", "tini", "opentelemetry-instrument"}
_APP_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*(\(.*\))?)?$")


@dataclass
class Setting:
    value: int | None
    env_var: str | None = None
    note: str | None = None


@dataclass
class ServerCommand:
    server: str
    kind: str
    app: str | None = None
    port: Setting | None = None
    workers: Setting | None = None
    options: dict[str, str] = field(default_factory=dict)


def mentions_server(line: str) -> bool:
    return (
        re.search(
            r"\b(gunicorn|uwsgi|uvicorn|hypercorn|daphne|waitress-serve|"
            r"flask\s+run|manage\.py\s+runserver)\b",
            line,
        )
        is not None
    )


def parse(line: str, known: dict[str, Expanded] | None = None) -> ServerCommand | None:
    """The server started by line, or None; ValueError when its quoting is broken."""
    known = known or {}
    segments = shell.commands(line)
    if segments is None:
        raise ValueError(f"unbalanced quotes in {line.strip()!r}")
    for words in segments:
        program, args = _program(words)
        if program in SERVERS:
            return _read_options(SERVERS[program], args, known)
    return None


def _program(words: list[str]) -> tuple[str | None, list[str]]:
    while words:
        if words[0] in _PREFIXES or re.match(r"^\w+=", words[0]):
            words = words[1:]
        elif words[0].rsplit("/", 1)[-1] in _RUNNERS and "run" in words:
            words = words[words.index("run") + 1 :]  # pipenv --python X run gunicorn ...
        elif (words[0].rsplit("/", 1)[-1], *words[1:2]) in _WRAPPERS:
            words = words[2:]
        elif words[0].rsplit("/", 1)[-1] in _WRAPPER_PROGRAMS:
            words = words[1:]
        else:
            break
    if not words:
        return None, []
    name = words[0].rsplit("/", 1)[-1]
    if re.match(r"^python[\d.]*$", name) and len(words) > 2 and words[1] == "-m":
        name, words = words[2], words[2:]
    elif re.match(r"^python[\d.]*$", name) and len(words) > 2 and words[1].endswith("manage.py"):
        return ("django-runserver", words[3:]) if words[2] == "runserver" else (None, [])
    if name == "flask":
        rest = [word for word in words[1:] if word != "run"]
        return ("flask", rest) if "run" in words else (None, [])
    return name, words[1:]


def _read_options(server: Server, args: list[str], known: dict[str, Expanded]) -> ServerCommand:
    options, positional = _split_options(server, args)
    command = ServerCommand(server=server.name, kind=server.kind, options=options)
    for option in server.port_options:
        if option in options:
            command.port = _number(shell.expand(options[option], known))
    for option in server.bind_options:
        if option in options and command.port is None:
            command.port = _number(_port_part(shell.expand(options[option], known)))
    for option in server.worker_options:
        if option in options:
            command.workers = _number(shell.expand(options[option], known))
    command.app = _app(server, options, positional, known)
    if server.name == "uwsgi" and positional and positional[0].endswith(".ini"):
        options.setdefault("--ini", positional[0])
    if "uvicorn" in options.get("-k", options.get("--worker-class", "")).lower():
        command.kind = "asgi"
    if server.name == "django-runserver" and positional:
        command.port = _number(_port_part(shell.expand(positional[0], known)))
    if command.port is None and server.default_port:
        command.port = Setting(server.default_port, note=f"{server.name} default")
    elif command.port and command.port.value is None and server.default_port:
        command.port.value = server.default_port
        command.port.note = f"{command.port.note}; {server.name} default when unset"
    return command


def _split_options(server: Server, args: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    words = iter(args)
    for word in words:
        if not word.startswith("-") or word == "-":
            positional.append(word)
        elif "=" in word and word.startswith("--"):
            name, _, value = word.partition("=")
            options[name] = value
        elif word in server.flags:
            options[word] = ""
        elif not word.startswith("--") and len(word) > 2:
            options[word[:2]] = word[2:]  # -w4
        else:
            options[word] = next(words, "")
    return options, positional


def _app(
    server: Server, options: dict[str, str], positional: list[str], known: dict[str, Expanded]
) -> str | None:
    for option in server.app_options:
        if option in options:
            value = shell.expand(options[option], known).text
            if value.endswith(".py"):  # uwsgi --wsgi-file app.py --callable app
                module = value.removesuffix(".py").removeprefix("./").replace("/", ".")
                return f"{module}:{options.get('--callable', 'application')}"
            if server.name == "uwsgi" and ":" not in value:
                return f"{value}:{options.get('--callable', 'application')}"
            return value
    if server.name == "flask" and "FLASK_APP" in known:
        return known["FLASK_APP"].text
    for word in positional:
        if _APP_REFERENCE.match(word):
            return word
    return None


def _port_part(bind: Expanded) -> Expanded:
    """'0.0.0.0:8080' -> '8080', a bare port stays; a unix socket or a host alone has none."""
    text = bind.text
    if text.startswith("unix:") or "/" in text:
        text = ""
    elif ":" in text:
        text = text.rsplit(":", 1)[-1]
    elif not (text.isdigit() or text.startswith("$")):
        text = ""
    return Expanded(text, env_var=bind.env_var, resolved=bind.resolved)


def _number(word: Expanded) -> Setting | None:
    if not word.text:
        return None
    if word.text.isdigit():
        return Setting(int(word.text), env_var=word.env_var)
    if word.env_var:
        return Setting(None, env_var=word.env_var, note=f"set from ${word.env_var} at run time")
    return Setting(None, note=f"not a number: {word.text!r}")
