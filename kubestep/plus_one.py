"""What the +1 step needs to serve a legacy app behind kubestep_runtime: WSGI or ASGI, which app
object, which gunicorn worker and packages, and where each backing service's address comes from.

One decision per question, each with its reason, from the inventory and the start decision; a
question kubestep cannot answer stops the step with one line naming the answer that fixes it.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

from kubestep import decide
from kubestep.catalog import CATALOG
from kubestep.errors import StepError
from kubestep.local_env import backing_variables

ASGI_WORKER = "uvicorn_worker.UvicornWorker"
WSGI_WORKER = "gthread"
# uvicorn-worker 0.4.0 needs uvicorn 0.36 or later (it uses its loop factory); 0.3.0 runs on
# the uvicorn versions before, which an app may pin.
UVICORN_WORKER = "uvicorn-worker==0.4.0"
UVICORN_WORKER_BEFORE_0_36 = "uvicorn-worker==0.3.0"
UVICORN = "uvicorn==0.38.0"
# Channels serves websockets, which uvicorn speaks only with a websocket library installed.
WEBSOCKETS = "websockets==15.0.1"
_ASGI_FRAMEWORKS = {"fastapi", "starlette"}
_WSGI_FRAMEWORKS = {"flask", "django", "wsgi", "bottle", "pyramid"}


def _dependency_specs(inventory: dict[str, Any]) -> dict[str, str]:
    return {
        str(d.get("name", "")).lower(): str(d.get("spec", ""))
        for d in inventory.get("dependencies", [])
        if d.get("scope", "runtime") == "runtime"
    }


def interface(
    candidate: dict[str, Any], inventory: dict[str, Any], app_kind: str | None
) -> tuple[str, str]:
    """("asgi" or "wsgi", why): what the repo's own server serves, else the app, else the
    framework."""
    server = candidate.get("server") or ""
    names = _dependency_specs(inventory)
    source = candidate.get("source", "the start command")
    _refuse_own_event_loops(candidate, inventory, source)
    if server == "django-runserver" and "channels" in names:
        return "asgi", f"runserver with channels installed serves ASGI ({source})"
    if server.startswith("uvicorn") or candidate.get("kind") == "asgi":
        return "asgi", f"{server or 'its server'} serves it as ASGI ({source})"
    if candidate.get("kind") == "wsgi":
        return "wsgi", f"{server or 'its server'} serves it as WSGI ({source})"
    if app_kind in ("asgi", "wsgi"):
        return app_kind, f"the app object is {app_kind.upper()}"
    framework = str((inventory.get("framework") or {}).get("value") or "")
    if framework in _ASGI_FRAMEWORKS:
        return "asgi", f"{framework} apps are ASGI"
    if framework in _WSGI_FRAMEWORKS:
        return "wsgi", f"{framework} apps are WSGI"
    raise StepError(
        "step +1 cannot tell whether the app is WSGI or ASGI: answer with "
        "`--set start_command='gunicorn MODULE:APP'` (WSGI) or "
        "`--set start_command='uvicorn MODULE:APP'` (ASGI)"
    )


_WORKER_CLASS = re.compile(r"(?:-k|--worker-class)[ =]['\"]?([\w.]+)")
# Servers of their own, neither WSGI nor ASGI.
_OWN_LOOPS = {"aiohttp": "an aiohttp app", "tornado": "a Tornado app"}


def _refuse_own_event_loops(
    candidate: dict[str, Any], inventory: dict[str, Any], source: str
) -> None:
    """aiohttp and Tornado apps speak neither WSGI nor ASGI (gunicorn runs them through their
    own worker class): wrapping one as WSGI would start a server that cannot serve it."""
    worker = _WORKER_CLASS.search(candidate.get("command", ""))
    imported = {str(item.get("value")) for item in inventory.get("imports", [])}
    kind = next((name for name in _OWN_LOOPS if worker and name in worker.group(1)), None)
    framework = (inventory.get("framework") or {}).get("value")
    if kind is None and not framework and not worker:  # `python run.py` of a Tornado app
        kind = next((name for name in _OWN_LOOPS if name in imported), None)
    if kind is None:
        return
    how = f"gunicorn's worker class {worker.group(1)}" if worker else f"{kind}'s own server"
    raise StepError(
        f"step +1: the app runs under {how} ({source}), {_OWN_LOOPS[kind]}, neither WSGI nor ASGI, "
        "which kubestep's runtime wraps: serve /health, /ready and /metrics from the app "
        "itself (steps 1-4 stand without +1)"
    )


def _module_file(target: Path, module: str, workdir: str) -> str | None:
    """The repo path of a dotted module, looked up where the server imports it from."""
    relative = module.replace(".", "/")
    for folder in dict.fromkeys((workdir, "", "src")):
        for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
            path = f"{folder}/{candidate}" if folder else candidate
            if (target / path).is_file():
                return path
    return None


def app_object(
    app: str, from_command: bool, kind: str, target: Path | None, workdir: str
) -> tuple[str, str]:
    """(module:attribute, why). Django has a wsgi.py and an asgi.py: the one its server runs,
    not the first the inventory came across. Without a target the sibling module is not
    looked for (the +1 step looked when it ran)."""
    if not app or ":" not in app:
        raise StepError(
            "step +1 cannot tell which app object to wrap (no MODULE:APP in the start command "
            "or the code): answer with `--set start_command='gunicorn MODULE:APP'`"
        )
    module, _, attribute = app.partition(":")
    head, _, last = module.rpartition(".")
    other = {"asgi": "wsgi", "wsgi": "asgi"}.get(last)
    if from_command or other != kind:
        return app, "the start command names it" if from_command else "found in the code"
    sibling = f"{head}.{kind}" if head else kind
    if target is None or _module_file(target, sibling, workdir):
        return f"{sibling}:{attribute}", f"{kind.upper()} is what the repo runs"
    raise StepError(
        f"step +1: the repo runs its app as {kind.upper()}, but only {app} was found: answer "
        f"with `--set start_command=...` naming the {kind.upper()} app ({sibling}:{attribute})"
    )


_CD_PREFIX = re.compile(r"^\s*cd\s+['\"]?([^\s'\";&|]+)['\"]?\s*&&")


def working_directory(candidate: dict[str, Any], app: str, target: Path | None) -> str:
    """Where the old start command ran the app (a compose build context, a leading `cd DIR &&`);
    else, when the app's module is not at the top of the repo, the one folder that has it."""
    match = _CD_PREFIX.match(candidate.get("command") or "")
    workdir = (candidate.get("workdir") or (match.group(1) if match else "")).strip("/")
    workdir = "" if workdir == "." else workdir
    module = app.partition(":")[0]
    if workdir or target is None or not module or _module_file(target, module, ""):
        return workdir
    relative = module.replace(".", "/")
    folders = sorted(
        {
            str(found.relative_to(target)).removesuffix(f"/{relative}.py")
            for found in target.glob(f"*/{relative}.py")
        }
        | {
            str(found.relative_to(target)).removesuffix(f"/{relative}/__init__.py")
            for found in target.glob(f"*/{relative}/__init__.py")
        }
    )
    if len(folders) == 1:
        return folders[0]
    raise StepError(
        f"step +1 cannot find the module of {app} "
        f"({'in ' + ', '.join(folders) if folders else 'nowhere in the repo'}): answer with "
        f"`--set start_command='cd DIR && ...'` naming the folder the app runs from"
    )


# A clause that bounds a version from above: ==, <=, <, ~= and Poetry's ^ and ~.
_UPPER_BOUND = re.compile(r"(==|<=|<|~=|\^|~)\s*v?([0-9]+(?:\.[0-9]+)*)")


def admits(spec: str, minimum: tuple[int, ...]) -> bool:
    """Whether a requirement spec lets pip pick a version at or above minimum."""
    for operator, text in _UPPER_BOUND.findall(spec):
        version = tuple(int(part) for part in text.split("."))
        if operator == "<" and version <= minimum:
            return False
        if operator != "<" and version < minimum:
            return False
    return True


def server_requirements(kind: str, inventory: dict[str, Any]) -> list[str]:
    """What the image installs beside the app's own requirements to serve it under gunicorn."""
    specs = _dependency_specs(inventory)
    gunicorn = specs.get("gunicorn")
    if gunicorn is not None and not admits(gunicorn, (20, 1)):
        # Measured: the image's `gunicorn>=20.1` and a repo's gunicorn==20.0.4 do not resolve.
        _stop_on_pin(
            inventory,
            "gunicorn",
            "the runtime starts `kubestep_app:create_application()`, an app factory call "
            "gunicorn reads from 20.1",
            "20.1",
        )
    if kind != "asgi":
        return []
    uvicorn = specs.get("uvicorn")
    if uvicorn is not None and not admits(uvicorn, (0, 15)):
        _stop_on_pin(inventory, "uvicorn", "gunicorn's uvicorn worker needs uvicorn 0.15", "0.15")
    websockets = specs.get("websockets")
    if websockets is not None and not admits(websockets, (10, 4)):
        # Measured: websockets==8.1 beside a raised uvicorn: `No module named
        # 'websockets.datastructures'` in every worker, which never booted.
        _stop_on_pin(
            inventory,
            "websockets",
            "the uvicorn the worker needs imports websockets.datastructures and asks for 10.4",
            "10.4",
        )
    old = uvicorn is not None and not admits(uvicorn, (0, 36))
    lines = [UVICORN_WORKER_BEFORE_0_36 if old else UVICORN_WORKER]
    if uvicorn is None:
        lines.append(UVICORN)
    if "channels" in specs and "websockets" not in specs and "wsproto" not in specs:
        lines.append(WEBSOCKETS)
    return lines


def _stop_on_pin(inventory: dict[str, Any], name: str, why: str, minimum: str) -> None:
    """The one-line stop for a pin the runtime cannot serve, in the form of step 2's."""
    found: dict[str, Any] = next(
        (d for d in inventory.get("dependencies", []) if d.get("name") == name), {}
    )
    raise StepError(
        f"step +1: the app pins {found.get('spec', name)} "
        f"({found.get('source', 'the requirements')}): {why}; raise it to >={minimum}, "
        "commit, and run the step again"
    )


def _without_credentials(value: Any) -> str:
    """A URL default as the check needs it: scheme, hosts, path; never a user or password."""
    text = "" if value is None else str(value)
    if "://" not in text:
        return text
    parts = urllib.parse.urlsplit(text)
    hosts = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, hosts, parts.path, parts.query, ""))


def backing_addresses(
    inventory: dict[str, Any], services: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Per backing service: its kind (the compose and Kubernetes service name), default port,
    INI section, and the variables the code reads its address from (as local.env sets them)."""
    kinds = [service["kind"] for service in services]
    variables = backing_variables(inventory.get("config", {}).get("env_vars", []), kinds)
    return [
        {
            "kind": service["kind"],
            "port": CATALOG[service["kind"]].port,
            "section": service.get("section", ""),
            "variables": [
                {**v, "default": _without_credentials(v["default"])}
                for v in variables[service["kind"]]
            ],
        }
        for service in services
    ]


_DEFAULT_CALLABLE_SERVERS = {"gunicorn", "uwsgi"}


def runtime_answers(
    inventory: dict[str, Any],
    services: list[dict[str, str]],
    user: dict[str, Any],
    target: Path | None = None,
) -> dict[str, Any]:
    """The `legacy.runtime` answer of the +1 step; StepError when kubestep cannot tell."""
    choice = decide.start_command(inventory, user)
    candidate = choice.candidate if isinstance(choice, decide.Choice) else {}
    entry_app = (inventory.get("entrypoint") or {}).get("app") or {}
    from_command = bool(candidate.get("app"))
    # `rank.app:create_app\(\)` in a Procfile is the shell's quoting of `create_app()`.
    app = (candidate.get("app") or entry_app.get("value") or "").replace("\\", "")
    if from_command and ":" not in app and candidate.get("server") in _DEFAULT_CALLABLE_SERVERS:
        app += ":application"  # `gunicorn myproject.wsgi`: both servers' default callable
    app_kind = entry_app.get("kind") if not from_command else None
    kind, why = interface(candidate, inventory, app_kind)
    workdir = working_directory(candidate, app, target)
    app, app_why = app_object(app, from_command, kind, target, workdir)
    return {
        "interface": kind,
        "interface_reason": why,
        "app": app,
        "app_reason": app_why,
        "worker_class": ASGI_WORKER if kind == "asgi" else WSGI_WORKER,
        "requirements": server_requirements(kind, inventory),
        "workdir": workdir,
        "backing": backing_addresses(inventory, services),
    }


def recorded_runtime(
    inventory: dict[str, Any], services: list[dict[str, str]], user: dict[str, Any]
) -> dict[str, Any]:
    """runtime_answers for the recorded answers of every step: the question instead of an
    error, which only the +1 step raises."""
    try:
        return runtime_answers(inventory, services, user)
    except StepError as error:
        return {"question": str(error)}
