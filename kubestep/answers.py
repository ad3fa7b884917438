"""From an inventory to copier answers: the one place that decides what the template gets.

Data flows one way: inventory (what the legacy repo has) -> answers (what to render). Values
are plain data so that they can be recorded in .copier-answers.yml and edited there.
"""

import copy
import posixpath
import re
from dataclasses import asdict
from typing import Any

from kubestep import decide, decide_processes, decide_static, probe_paths, writable
from kubestep.build_packages import build_packages, incompatible_pins
from kubestep.catalog import CATALOG
from kubestep.companion_pins import companion_bounds, installed_check
from kubestep.jinja_ext import k8s_slug
from kubestep.local_env import local_env
from kubestep.plus_one import recorded_runtime
from kubestep.removed_names import newest_python_with, stdlib_removals, unbuildable_removals
from kubestep.secrets import secret_looking, withheld
from kubestep.system_packages import split_packages

# What every Python base image already has; the Dockerfile installs only the rest.
_BASE_IMAGE_PACKAGES = {
    "python3",
    "python3-venv",
    "python3-pip",
    "python3-dev",
    "python",
    "ca-certificates",
    "python3-virtualenv",
    "virtualenv",
}


def _value(fact: Any, default: Any = None) -> Any:
    """The value of a fact {value, source}, or the fact itself when it is plain."""
    if isinstance(fact, dict):
        return fact.get("value", default)
    return default if fact is None else fact


def _source_file(fact: Any) -> str:
    source = fact.get("source", "") if isinstance(fact, dict) else ""
    return source.rsplit(":", 1)[0]


def _start(inventory: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The start decision as the template needs it, or the question when kubestep is unsure."""
    choice = decide.start_command(inventory, user)
    if isinstance(choice, decide.Unsure):
        return {"question": choice.message()}
    collect = user.get(decide_processes.STATIC_KEY) != decide_processes.NONE
    split = decide_processes.split_release(choice.candidate, collect)
    candidate = split.web
    return {
        "argv": decide.container_argv(candidate),
        "split": split,
        "command": candidate["command"],
        "source": choice.source,
        "reason": choice.reason,
        "role": candidate.get("role"),
        "app": candidate.get("app") or "",
        "server": candidate.get("server") or "",
        "candidate": candidate,
    }


def _user(inventory: dict[str, Any]) -> dict[str, Any]:
    service_users = {s.get("user") for s in inventory.get("services", []) if s.get("user")}
    users = [u for u in inventory.get("users", []) if u.get("uid")]
    users.sort(key=lambda u: u.get("name") not in service_users)
    if users:
        return {"name": users[0]["name"], "uid": int(users[0]["uid"])}
    return {}


def _secret(key: dict[str, Any]) -> str:
    """Why a config key's values stay out of the answers ('' when they may go in)."""
    return key.get("secret") or withheld(key["key"], key.get("default"), key.get("example_value"))


def _config_sections(inventory: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The config file's sections as the example shows them (the code's defaults otherwise);
    a secret-looking key is there, empty: its value never goes into the answers."""
    sections: dict[str, dict[str, str]] = {}
    for key in inventory.get("config", {}).get("keys", []):
        value = None if _secret(key) else key.get("example_value", key.get("default"))
        sections.setdefault(key["section"], {})[key["key"]] = "" if value is None else str(value)
    return sections


def _config_key(key: dict[str, Any]) -> dict[str, Any]:
    """What the template needs of a config key: a secret one has its reason, no default."""
    reason = _secret(key)
    names = ("section", "key", "default", "type", "required", "source")
    recorded = {name: None if reason and name == "default" else key.get(name) for name in names}
    return {**recorded, "secret": reason} if reason else recorded


def _local_config(inventory: dict[str, Any], services: list[dict[str, str]]) -> dict[str, Any]:
    """The config file's sections for a local run: example values, backing services local."""
    sections = _config_sections(inventory)
    for service in services:
        local = CATALOG[service["kind"]].local_settings
        section = sections.get(service.get("section", ""), {})
        for name in section:
            if name in local:
                section[name] = local[name]
    return sections


def _config_file(inventory: dict[str, Any]) -> dict[str, str]:
    """The INI file the service reads at run time: its path, env override and example."""
    files = inventory.get("config", {}).get("files", [])
    merged: dict[str, str] = {}
    for found in files:  # one fact may name the path, another the example of the same file
        for key in ("path", "env_var", "example"):
            if found.get(key) and key not in merged:
                merged[key] = str(found[key])
    if "path" not in merged:
        return {}
    if not merged["path"].startswith("/"):  # read from the working directory, /app
        merged["path"] = posixpath.normpath(posixpath.join("/app", merged["path"]))
    return merged


def _backing_services(inventory: dict[str, Any], user: dict[str, Any]) -> list[dict[str, str]]:
    services: list[dict[str, str]] = []
    left_out = set(str(user.get("without") or "").split(","))
    for found in inventory.get("backing_services", []):
        if found.get("kind") in left_out:
            continue
        if found.get("kind") in CATALOG and found["kind"] not in {s["kind"] for s in services}:
            services.append({"kind": found["kind"], "section": found.get("config_section") or ""})
    return services


def _python_packages(app: str) -> list[str]:
    """The top-level package of the app, which `make lint` byte-compiles."""
    return [app.split(":")[0].split(".")[0]] if app else ["."]


# The program a server command runs, and the release the image installs when no dependency
# declares it (the old box had it from apt or a config-management pip task): each builds and
# runs on Python 3.11. `flask run` needs Flask, which the app declares or cannot run at all.
_SERVER_PINS = {
    "gunicorn": "gunicorn==23.0.0",
    "uwsgi": "uwsgi==2.0.28",
    "uvicorn": "uvicorn==0.38.0",
    "hypercorn": "hypercorn==0.17.3",
    "daphne": "daphne==4.1.2",
    "waitress-serve": "waitress==3.0.2",
}


def _undeclared_server(
    installed: list[dict[str, Any]], start: dict[str, Any], requirements: decide.Choice
) -> dict[str, str] | None:
    """The server the start command runs when no file the image installs declares it, as a
    dependency the image adds (an installed project brings its own, or fails on its own terms).
    A config-management `pip: name=uwsgi` task declares it for the old box, not for the image."""
    server = start.get("server") or ""
    pin = _SERVER_PINS.get(server)
    names = {d.get("name") for d in installed}
    if pin is None or requirements.reason == "project" or pin.split("==")[0] in names:
        return None
    source = (start.get("candidate") or {}).get("source") or "the start command"
    return {"name": pin.split("==")[0], "spec": pin, "source": source, "scope": "runtime"}


# Variables kubestep's image sets itself, or that belong to the old image's layout.
_IMAGE_OWNED_ENV = re.compile(
    r"^(PATH|HOME|LANG|LC_\w+|PYTHON\w*|PIP_\w+|PORT|VIRTUAL_ENV|DEBIAN_FRONTEND|TZ|"
    r"SERVICE_NAME|SERVICE_VERSION|GIT_REVISION|BUILD_TIME)$"
)


def _image_environment(inventory: dict[str, Any]) -> dict[str, str]:
    """ENV of the repo's top-level Dockerfile that the app may need (FLASK_APP=...), without
    secrets, paths of the old image or what kubestep's image sets itself."""
    result: dict[str, str] = {}
    for variable in inventory.get("environment", []):
        source = variable.get("source", "")
        value = variable.get("value")
        if not re.match(r"^[Dd]ockerfile:\d+$", source) or value is None:
            continue
        name = variable["name"]
        if _IMAGE_OWNED_ENV.match(name) or secret_looking(name, str(value)) or "$" in str(value):
            continue
        if str(value).startswith("/"):
            continue  # a path of the old image's layout
        result[name] = str(value)
    return result


def _with_build_stage(needs: dict[str, Any], packages: list[str]) -> dict[str, Any]:
    """Compilers and headers the old setup installed go to the build stage too."""
    if not packages:
        return needs
    why = [*needs["why"], f"the old setup installed {', '.join(packages)}"]
    return {**needs, "build": sorted({*needs["build"], *packages}), "why": why}


def _modern(version: str) -> bool:
    """Python 3.10 and later, where the old C extensions in build_packages.INCOMPATIBLE fail."""
    return tuple(int(part) for part in version.split(".")[:2]) >= (3, 10)


def _installed_dependencies(
    inventory: dict[str, Any], requirements: decide.Choice
) -> list[dict[str, Any]]:
    """The dependencies the image really installs: those of the files it copies."""
    dependencies = inventory.get("dependencies", [])
    if requirements.reason == "requirements":
        files = set(decide.requirements_closure(inventory, requirements.value))
    elif requirements.reason == "project":
        files = {"pyproject.toml", "setup.py", "setup.cfg"}
    elif requirements.reason in ("pipfile", "packages"):
        files = {"Pipfile", "pyproject.toml", "poetry.lock"}
    else:
        return []
    return [d for d in dependencies if d.get("source", "").rsplit(":", 1)[0] in files]


def _decision_notes(
    start: dict[str, Any], requirements: decide.Choice, server: dict[str, str] | None
) -> list[str]:
    """What a reviewer of step 2 must know about its decisions: printed and in the README."""
    notes = []
    if requirements.reason == "none":
        notes.append(
            f"no Python dependencies found ({requirements.source}): the image installs none"
        )
    if server:
        notes.append(
            f"the start command runs {start['server']}, which no dependency declares (the old "
            f"box installed it outside the app): the image installs {server['spec']}; declare "
            f"your own in {requirements.value or 'requirements.txt'} to choose the release"
        )
    return notes


def _processes(
    inventory: dict[str, Any],
    user: dict[str, Any],
    start: dict[str, Any],
    services: list[dict[str, str]],
) -> tuple[list[decide_processes.Process], decide_processes.Release | None, list[str]]:
    """Workers, schedulers and the release one-off, with notes on what is not run."""
    split = start.get("split") or decide_processes.Split({}, [], [])
    taken = {s["kind"] for s in services}
    processes, notes = decide_processes.processes(inventory, user, taken)
    release, release_notes = decide_processes.release(inventory, user, split)
    moved = [note for note in split.notes if " moved from " in note]
    return processes, release, [*notes, *release_notes, *(n for n in split.notes if n not in moved)]


def _sample(variable: dict[str, Any]) -> str:
    """What the repo's own environment sets a variable to, or a withheld URL's scheme."""
    return str(
        variable.get("value") or (f"{variable['scheme']}://" if variable.get("scheme") else "")
    )


def _required_env(entries: list[Any]) -> dict[str, str]:
    """The variables the code reads without a default, as config/local.env sets them: the
    compose services' local addresses, or the placeholder that names what to set."""
    return {e.name: e.value for e in entries if e.required and e.value is not None}


def _start_changes(start: dict[str, Any]) -> list[str]:
    """What changed in the web command: container edits, release commands moved out of it."""
    if "candidate" not in start:
        return []
    split = start["split"]
    return [*decide.changes(start["candidate"]), *(n for n in split.notes if " moved from " in n)]


def _port(
    inventory: dict[str, Any], start: dict[str, Any], user: dict[str, Any]
) -> tuple[int, str]:
    """(port, question): the question when kubestep cannot tell, which step 2 asks."""
    choice = decide.port(inventory, start.get("candidate", {}), user)
    if isinstance(choice, decide.Unsure):
        return 8000, choice.message()
    return int(choice.value), ""


def _app_routes(inventory: dict[str, Any]) -> list[dict[str, Any]]:
    """The routes of the app being served: a Django project's urlpatterns, not the routes of a
    bot or a tool beside it (probes stay off every route the code declares)."""
    django = _value(inventory.get("framework")) == "django"
    return [r for r in inventory.get("routes", []) if (r.get("kind") == "django") == django]


def _status_path(checks: list[dict[str, Any]]) -> str:
    return next((c["path"] for c in checks if c.get("kind") == "http" and c.get("path")), "")


def legacy_answers(inventory: dict[str, Any], user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `legacy` answer: what the template needs to know about the legacy service.

    user holds the answers to what kubestep could not decide (`--set key=value`).
    """
    user = user or {}
    start = _start(inventory, user)
    requirements = decide.requirements(inventory, user)
    dev_requirements = [f for f in inventory.get("requirements_files", []) if "dev" in f]
    packages = [
        p for p in inventory.get("system_packages", []) if p["name"] not in _BASE_IMAGE_PACKAGES
    ]
    runtime_packages, build_stage_packages, package_notes = split_packages(packages)
    services = _backing_services(inventory, user)
    checks = inventory.get("checks", [])
    status_path = _status_path(checks)
    config_file = _config_file(inventory)
    readme = inventory.get("readme") or {}
    app = start.get("app") or _value(inventory.get("entrypoint", {}).get("app"), "")
    if app and ":" not in app:  # `gunicorn myproject.wsgi`: the callable is `application`
        app += ":application"
    installed = _installed_dependencies(inventory, requirements)
    server = _undeclared_server(installed, start, requirements)
    notes = _decision_notes(start, requirements, server)
    notes += package_notes
    installed += [server] if server else []
    bounds = companion_bounds(installed, inventory.get("imported_names", []))
    port, port_question = _port(inventory, start, user)
    notes += [f"the image also installs {bound['spec']}: {bound['why']}" for bound in bounds]
    python = decide.python_version(inventory)
    resolve = decide.resolve_before(inventory, python.value, user)
    if resolve.value:
        notes.append(
            f"pip resolves what the requirements leave open as of {resolve.value} "
            f"({resolve.reason}; `--set resolve_before=today` for today's releases)"
        )
    processes, release, process_notes = _processes(inventory, user, start, services)
    notes += process_notes
    env_entries = local_env(
        inventory.get("config", {}).get("env_vars", []),
        [s["kind"] for s in services],
        {e["name"]: _sample(e) for e in inventory.get("environment", [])},
    )
    static, static_notes = decide_static.static_build(
        inventory, start.get("split") or decide_processes.Split({}, [], []), user
    )
    notes += static_notes
    if static:
        notes.append(
            f"the image build runs `{static.command}` ({static.reason}, {static.source}): "
            "`--set collectstatic=none` to not"
        )
    routes = inventory.get("routes", [])
    chosen_probes, probe_notes = probe_paths.choose(routes)
    return {
        "notes": notes,
        "image_env": _image_environment(inventory),
        "app": app,
        "start": {key: value for key, value in start.items() if key not in ("candidate", "split")},
        "start_argv": start.get("argv", []),
        "run_command": start.get("command", ""),
        "port": port,
        "port_question": port_question,
        "requirements": requirements.value,
        "requirements_kind": requirements.reason,
        "requirements_source": requirements.source,
        "requirements_files": decide.requirements_closure(inventory, requirements.value)
        if requirements.reason == "requirements"
        else [],
        # The server the start command runs, when nothing the image installs declares it.
        "server_install": [server["spec"]] if server else [],
        "pip_specs": [
            d["spec"]
            for d in inventory.get("dependencies", [])
            if d.get("scope") == "runtime"
            and (d.get("source", "").startswith("Pipfile:") or d.get("manager") == "poetry")
        ],
        "build_packages": _with_build_stage(build_packages(installed), build_stage_packages),
        "python": {"version": python.value, "reason": python.reason, "source": python.source},
        "resolve_before": {
            "date": resolve.value,
            "reason": resolve.reason,
            "source": resolve.source,
        },
        "incompatible_pins": incompatible_pins(installed) if _modern(python.value) else [],
        "unbuildable_removals": unbuildable_removals(inventory.get("imported_names", []))
        if _modern(python.value)
        else [],
        # Names Python itself removed by the image's Python: the code needs an older one.
        "python_removals": stdlib_removals(inventory.get("imported_names", []), python.value),
        "newest_python_with": newest_python_with(inventory.get("imported_names", []), python.value),
        "companion_bounds": bounds,
        "companion_check": installed_check(installed),
        "start_changes": _start_changes(start),
        "processes": [asdict(process) for process in processes],
        "release": asdict(release) if release else {},
        "python2_files": inventory.get("python2_files", []),
        "imports_pkg_resources": any(
            item.get("value") == "pkg_resources" for item in inventory.get("imports", [])
        ),
        "dependency_names": sorted(
            {d["name"] for d in inventory.get("dependencies", []) if d.get("scope") == "runtime"}
        ),
        "dev_requirements": dev_requirements[0] if dev_requirements else "",
        "packages": _python_packages(app),
        "system_packages": runtime_packages,
        "system_packages_source": ", ".join(sorted({_source_file(p) for p in packages})),
        "user": _user(inventory),
        "config_file": config_file,
        "config_keys": [_config_key(key) for key in inventory.get("config", {}).get("keys", [])],
        "local_config": _local_config(inventory, services) if config_file else {},
        "example_config": _config_sections(inventory) if config_file else {},
        "local_env": [asdict(entry) for entry in env_entries],
        # The settings import at build with what config/local.env gives the keys they require.
        "static_build": {
            **asdict(static),
            "env": {**_image_environment(inventory), **_required_env(env_entries)},
        }
        if static
        else {},
        "backing_services": services,
        # How the +1 step serves the app and finds its backing services (kubestep/plus_one.py).
        "runtime": recorded_runtime(inventory, services, user),
        "status_path": status_path,
        # Where +1 serves its probes (off the app's own routes) and a route to exercise.
        "probe_paths": chosen_probes,
        "probe_env": probe_paths.moved(chosen_probes),
        "probe_notes": probe_notes,  # said by the +1 step, which serves them
        "sample_route": probe_paths.sample_route(_app_routes(inventory), status_path),
        "checks": checks,
        "cron_jobs": inventory.get("cron_jobs", []),
        "users": inventory.get("users", []),
        "managed_files": inventory.get("managed_files", []),
        "services": inventory.get("services", []),
        "make_targets": [t["name"] for t in inventory.get("make_targets", [])],
        "readme": readme.get("path", ""),
    }


def answers_from_inventory(
    inventory: dict[str, Any], step: int, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    """All copier answers for a legacy service at step, derived from its inventory."""
    service = inventory.get("service", {})
    legacy = legacy_answers(inventory, user)
    name = k8s_slug((user or {}).get("service_name") or service.get("name") or "legacy-service")
    legacy["writable"] = writable.mounts(
        inventory.get("writable_paths", []), legacy["start"].get("argv") or [], name
    )
    legacy["notes"] = legacy["notes"] + [
        f"the code writes {w['path']} ({w['why']}, {w['source']}), which holds its own code: "
        "under the read-only root that fails; point it at another directory"
        for w in legacy["writable"]
        if w["mount"] == "note"
    ]
    answers: dict[str, Any] = {
        "origin": "legacy",
        "step": step,
        "smarter": False,
        "service_name": name,
        "port": legacy["port"],
        "legacy": legacy,
    }
    python = decide.python_version(inventory)
    if (user or {}).get("base_image"):
        answers["base_image"] = user["base_image"]  # type: ignore[index]
    elif python.value != decide.KUBESTEP_PYTHON:
        answers["base_image"] = decide.base_image_for(python.value)
    if service.get("description"):
        answers["description"] = " ".join(str(service["description"]).split())
    return answers


def without_secret_values(answers: dict[str, Any]) -> dict[str, Any]:
    """Recorded answers with no value of a secret-looking config key: earlier versions of
    kubestep recorded them, and every later step would carry them into history again."""
    legacy = answers.get("legacy")
    if not isinstance(legacy, dict) or not legacy.get("config_keys"):
        return answers
    legacy = copy.deepcopy(legacy)
    example = legacy.get("example_config") or {}
    local = legacy.get("local_config") or {}
    keys = []
    for key in legacy["config_keys"]:
        section, name = key.get("section", ""), key.get("key", "")
        shown = example.get(section, {}).get(name)
        reason = key.get("secret") or withheld(name, key.get("default"), shown)
        if reason:
            key = {**key, "default": None, "secret": reason}
            if shown is not None:
                if local.get(section, {}).get(name) == shown:
                    local[section][name] = ""
                example[section][name] = ""
        keys.append(key)
    legacy["config_keys"] = keys
    return {**answers, "legacy": legacy}
