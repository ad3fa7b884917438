"""Process managers and server configs: upstart jobs, supervisor programs, uwsgi and gunicorn.

Before systemd and containers, services ran under upstart or supervisor, with the server's
own options in a uwsgi .ini or a gunicorn config module. Each job or program becomes a
service unit (its command a start candidate), each server config a candidate or the port,
workers and app that a command naming it (`--ini`, `--config`) inherits.
"""

from __future__ import annotations

import ast
import configparser
import re

from kubestep.inventory import roles
from kubestep.inventory.model import EnvVar, Inventory, ServiceUnit, StartCandidate
from kubestep.inventory.tree import SourceTree, at, line_of

_UPSTART_HINT = re.compile(r"^\s*(start on|respawn|exec|script|setuid)\b", re.M)
_SUPERVISOR_PROGRAM = re.compile(r"^\s*\[program:([^\]]+)\]", re.M)
_GUNICORN_CONFIG = re.compile(r"(^|/)(gunicorn[\w.-]*\.py|[\w.-]*gunicorn[\w.-]*\.conf\.py)$")
CONFIG_ROLE = "config"  # a server config: not a command of its own unless it names the app


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    conf_files = tree.matching("*.conf", "*.ini")
    result.merge(tree.per_file(conf_files, _parse_conf_or_ini))
    gunicorn = [rel for rel in tree.python_files() if _GUNICORN_CONFIG.search(rel)]
    result.merge(tree.per_file(gunicorn, parse_gunicorn_config))
    return result


def _parse_conf_or_ini(rel: str, text: str) -> Inventory:
    if _SUPERVISOR_PROGRAM.search(text):
        return parse_supervisor(rel, text)
    if re.search(r"^\s*\[uwsgi\]", text, re.M):
        return parse_uwsgi_ini(rel, text)
    if _PASTE_SERVER.search(text) and _PASTE_APP.search(text):
        return parse_paste_ini(rel, text)
    if rel.endswith(".conf") and _UPSTART_HINT.search(text) and "[" not in text.split("\n", 1)[0]:
        return parse_upstart(rel, text)
    return Inventory()


def parse_upstart(rel: str, text: str) -> Inventory:
    """An upstart job: `exec CMD` or the last command of its `script` block, setuid, chdir, env."""
    found = Inventory()
    name = rel.rsplit("/", 1)[-1].removesuffix(".conf")
    unit = ServiceUnit(name=name, manager="upstart", source=at(rel, 1))
    in_script = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if in_script:
            if line == "end script":
                in_script = False
            elif not re.match(r"^(export|set|cd|\.|source|if|fi|then|else)\b", line):
                unit.command, unit.source = line, at(rel, number)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "script":
            in_script = True
        elif keyword == "exec" and rest:
            unit.command, unit.source = rest.strip(), at(rel, number)
        elif keyword == "setuid":
            unit.user = rest.strip()
        elif keyword == "chdir":
            unit.working_directory = rest.strip()
        elif keyword == "env" and "=" in rest:
            key, _, value = rest.strip().partition("=")
            found.environment.append(
                EnvVar(name=key, value=value.strip("\"'"), source=at(rel, number))
            )
    if unit.command:
        found.services.append(unit)
    return found


def _ini(rel: str, text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";", "#"))
    parser.read_string(text, source=rel)
    return parser


def parse_supervisor(rel: str, text: str) -> Inventory:
    """Each `[program:x]` of a supervisor config: command, directory, user, environment."""
    found = Inventory()
    parser = _ini(rel, text)
    for section in parser.sections():
        if not section.startswith("program:"):
            continue
        name = section.removeprefix("program:")
        command = parser.get(section, "command", fallback="").strip()
        if not command:
            continue
        source = at(rel, line_of(text, "command", line_of(text, f"[{section}]")))
        found.services.append(
            ServiceUnit(
                name=name,
                manager="supervisor",
                source=source,
                user=parser.get(section, "user", fallback=None),
                command=" ".join(command.split()),
                working_directory=parser.get(section, "directory", fallback=None),
            )
        )
        for pair in re.findall(
            r'([A-Za-z_]\w*)=("[^"]*"|[^,]*)', parser.get(section, "environment", fallback="")
        ):
            found.environment.append(EnvVar(name=pair[0], value=pair[1].strip('"'), source=source))
    return found


def parse_uwsgi_ini(rel: str, text: str) -> Inventory:
    """A uwsgi .ini: the app it loads, the socket it binds, its processes."""
    found = Inventory()
    parser = _ini(rel, text)
    options = dict(parser.items("uwsgi"))
    words = ["uwsgi"]
    for key in ("http", "http-socket", "socket", "module", "wsgi-file", "callable", "processes"):
        if options.get(key):
            words += [f"--{key}", options[key].split()[0]]
    candidate = roles.candidate(" ".join(words), at(rel, 1), "uwsgi-ini")
    candidate.command = f"uwsgi --ini {rel}"
    http = options.get("http") or options.get("http-socket") or ""
    if not http:
        candidate.port, candidate.port_note = None, "no HTTP socket: uwsgi protocol only"
        candidate.loopback = True  # the container needs an HTTP socket on every interface
        candidate.note = "binds a uwsgi-protocol socket= (for a front web server), not HTTP"
    elif http.startswith(("127.0.0.1", "localhost")):
        candidate.loopback = True
    found.start_candidates.append(candidate)
    return found


_PASTE_SERVER = re.compile(r"^\s*\[server:main\]", re.M)
_PASTE_APP = re.compile(r"^\s*\[(app|pipeline|composite):main\]", re.M)
# A PasteDeploy .ini that reads like a development one: by its name, or what its app loads.
_DEV_INI = re.compile(r"(^|[/_.-])(dev|development|local|test|testing)[^/]*\.ini$")
_DEV_SETTINGS = re.compile(r"pyramid_debugtoolbar|reload_templates\s*=\s*true", re.I)
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def parse_paste_ini(rel: str, text: str) -> Inventory:
    """A PasteDeploy .ini (Pyramid, Pylons): `pserve` serves its [app:main] with the server
    its [server:main] names, on the host and port it says (`listen = *:6543`, or `host` and
    `port`). A development .ini (its name, the debug toolbar, template reloading) is the
    development way to run it; the command cannot move the port, so the ini's is the port."""
    found = Inventory()
    parser = _ini(rel, text)
    server = dict(parser.items("server:main"))
    listen = (server.get("listen") or "").split()
    host, _, port = listen[0].rpartition(":") if listen else (server.get("host", ""), "", "")
    port = port or server.get("port", "")
    candidate = roles.candidate(
        f"pserve {rel}", at(rel, line_of(text, "[server:main]")), "paste-ini"
    )
    app_text = text[_PASTE_APP.search(text).start() :]  # type: ignore[union-attr]
    dev = _DEV_INI.search(rel) is not None or _DEV_SETTINGS.search(app_text) is not None
    candidate.role = roles.DEV if dev else roles.WEB
    candidate.server, candidate.kind = "pserve", "wsgi"
    candidate.note = f"serves [app:main] with {server.get('use', 'the [server:main] server')}"
    if port.isdigit():
        candidate.port, candidate.port_note = int(port), "[server:main]"
    else:
        candidate.port_note = "no literal port in [server:main]"
    candidate.loopback = host.strip("*") in _LOOPBACK_HOSTS or (
        not listen and not server.get("host")
    )
    found.start_candidates.append(candidate)
    return found


def parse_gunicorn_config(rel: str, text: str) -> Inventory:
    """A gunicorn config module: bind, workers and wsgi_app as literal assignments."""
    found = Inventory()
    values: dict[str, object] = {}
    for node in ast.parse(text, filename=rel).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    values[target.id] = None
    bind = values.get("bind")
    bind = bind[0] if isinstance(bind, list | tuple) and bind else bind
    app = values.get("wsgi_app")
    words = ["gunicorn"]
    if isinstance(bind, str):
        words += ["--bind", bind]
    if isinstance(values.get("workers"), int):
        words += ["--workers", str(values["workers"])]
    if isinstance(app, str):
        words.append(app)
    candidate = roles.candidate(" ".join(words), at(rel, 1), "gunicorn-config")
    candidate.command = f"gunicorn --config {rel}"
    if not isinstance(app, str):
        candidate.role = CONFIG_ROLE
    if not isinstance(bind, str):
        candidate.port, candidate.port_note = None, "no literal bind"
    elif bind.startswith(("127.0.0.1", "localhost")):
        candidate.loopback = True
    found.start_candidates.append(candidate)
    return found


def config_for(command: str, candidates: list[StartCandidate]) -> StartCandidate | None:
    """The uwsgi .ini or gunicorn config a command line names (`--ini X`, `-c X`)."""
    match = re.search(r"(?:--ini|--config|-c)[\s=]+['\"]?([^\s'\"]+)", command) or re.search(
        r"\buwsgi\s+([^\s-][^\s]*\.ini)\b", command
    )
    if match is None:
        return None
    named = match.group(1).lstrip("./")
    for found in candidates:
        if found.origin not in ("uwsgi-ini", "gunicorn-config"):
            continue
        path = found.source.rsplit(":", 1)[0]
        if path == named or path.endswith("/" + named) or named.endswith("/" + path):
            return found
    return None
