"""Container files the repo already has: Dockerfiles (any case, any suffix) and compose files.

They are the team's latest word on how the service runs: the base image, the system packages
it needs, its environment, the port it exposes, its user and its start command all become
facts with sources, so kubestep's own Dockerfile (the one the Makefile, compose and Kubernetes
build) starts the same way. The files themselves are kept (step 2 moves a root Dockerfile aside).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import yaml

from kubestep.inventory import roles
from kubestep.inventory.model import (
    ContainerFile,
    EnvVar,
    Evidence,
    Inventory,
    SystemPackage,
    User,
)
from kubestep.inventory.tree import SourceTree, at

_DOCKERFILE = re.compile(r"(^|.*\.)dockerfile(\..+)?$", re.IGNORECASE)
_COMPOSE = re.compile(r"^(docker-)?compose(\.[\w-]+)?\.ya?ml$", re.IGNORECASE)
_INSTRUCTION = re.compile(r"^([A-Za-z]+)\s+(.*)$", re.DOTALL)
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b(.*?)(?:&&|;|\|\||$)", re.S)
_APK_INSTALL = re.compile(r"\bapk\s+add\b(.*?)(?:&&|;|\|\||$)", re.S)


def is_dockerfile(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return bool(_DOCKERFILE.match(name)) and not name.lower().endswith((".kubestep", ".md"))


def is_compose_file(rel: str) -> bool:
    return bool(_COMPOSE.match(rel.rsplit("/", 1)[-1]))


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    result.merge(tree.per_file([rel for rel in tree.files if is_dockerfile(rel)], parse_dockerfile))
    for candidate in result.start_candidates:
        candidate.workdir = _dockerfile_context(candidate.source.rsplit(":", 1)[0], tree.files)
    result.merge(tree.per_file([rel for rel in tree.files if is_compose_file(rel)], parse_compose))
    return result


_PROJECT_FILES = re.compile(r"(requirements[^/]*\.txt|pyproject\.toml|setup\.py|manage\.py)$")


def _dockerfile_context(rel: str, files: list[str]) -> str | None:
    """A Dockerfile in a folder that holds the code (`project/Dockerfile.prod` beside
    project/requirements.txt) is built from that folder: its CMD runs there. One beside no
    code (`docker/Dockerfile`) is built from elsewhere, which it does not say."""
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    if not folder:
        return None
    inside = [f.removeprefix(folder + "/") for f in files if f.startswith(folder + "/")]
    return folder if any(_PROJECT_FILES.match(name) for name in inside if "/" not in name) else None


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuations joined and comments dropped."""
    result: list[tuple[int, str, str]] = []
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not parts and (not line or line.startswith("#")):
            continue
        if parts and line.startswith("#"):
            continue
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(part.strip() for part in parts if part.strip())
        parts = []
        match = _INSTRUCTION.match(joined)
        if match:
            result.append((start, match.group(1).upper(), match.group(2).strip()))
    return result


def _words(arguments: str) -> tuple[list[str], bool]:
    """Exec form (a JSON list) or shell form; True when it was exec form."""
    if arguments.startswith("["):
        try:
            value = json.loads(arguments)
        except ValueError:
            return [arguments], False
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value, True
    return [arguments], False


def parse_dockerfile(rel: str, text: str) -> Inventory:
    found = Inventory()
    record = ContainerFile(path=rel, kind="dockerfile", source=at(rel, 1))
    entrypoint: tuple[int, list[str], bool] | None = None
    command: tuple[int, list[str], bool] | None = None
    for number, name, arguments in instructions(text):
        source = at(rel, number)
        if name == "FROM":
            record.base_image = arguments.split()[0] if arguments else None
            found.system_packages = []  # only the final stage's packages are the image's
            entrypoint = command = None  # only the final stage runs
        elif name == "RUN":
            for package, manager in _installed_packages(arguments):
                found.system_packages.append(
                    SystemPackage(name=package, source=source, manager=manager)
                )
        elif name == "ENV":
            found.environment.extend(_env_pairs(arguments, source))
        elif name == "EXPOSE":
            record.exposes.extend(
                int(port) for port in re.findall(r"\b(\d{2,5})(?:/tcp)?\b", arguments)
            )
        elif name == "USER":
            record.user = arguments.split()[0] if arguments else None
        elif name == "ENTRYPOINT":
            entrypoint = (number, *_words(arguments))
        elif name == "CMD":
            command = (number, *_words(arguments))
    if record.user and not record.user.split(":")[0].isdigit() and record.user != "root":
        found.users.append(
            User(name=record.user.split(":")[0], source=record.source, manager="dockerfile")
        )
    found.container_files.append(record)
    line = _start_line(entrypoint, command)
    if line:
        number = (command or entrypoint)[0]  # type: ignore[index]
        _add_candidate(found, line, at(rel, number), "dockerfile", None, record.exposes)
    return found


def _start_line(
    entrypoint: tuple[int, list[str], bool] | None, command: tuple[int, list[str], bool] | None
) -> str:
    """The shell line the container runs: ENTRYPOINT then CMD, as the Docker engine joins them."""
    parts: list[str] = []
    for item in (entrypoint, command):
        if item is None:
            continue
        _, words, exec_form = item
        if exec_form:
            if words[:2] in (["/bin/sh", "-c"], ["sh", "-c"]) and len(words) == 3:
                parts.append(words[2])
            else:
                parts.append(shlex.join(words))
        else:
            parts.append(words[0])
        if item is entrypoint and not exec_form:
            break  # a shell-form ENTRYPOINT ignores CMD
    return " ".join(parts).strip()


def _installed_packages(arguments: str) -> list[tuple[str, str]]:
    """(package, manager) for each `apt-get install` ("dockerfile") and `apk add` ("apk")."""
    packages: list[tuple[str, str]] = []
    for pattern, manager in ((_APT_INSTALL, "dockerfile"), (_APK_INSTALL, "apk")):
        for match in pattern.finditer(arguments):
            for word in match.group(1).split():
                if word.startswith("-") or "$" in word:
                    continue
                if re.match(r"^[a-z0-9][a-z0-9+.:=~-]*$", word):
                    packages.append((word.split("=", 1)[0], manager))
    return packages


def _env_pairs(arguments: str, source: str) -> list[EnvVar]:
    try:
        words = shlex.split(arguments)
    except ValueError:
        return []
    if len(words) >= 2 and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
        return [EnvVar(name=words[0], value=" ".join(words[1:]), source=source)]
    pairs = [word.split("=", 1) for word in words if "=" in word]
    return [EnvVar(name=name, value=value, source=source) for name, value in pairs]


def parse_compose(rel: str, text: str) -> Inventory:
    found = Inventory()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        found.warn(at(rel, line), "not valid YAML: the compose file is kept but not read")
        return found
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        found.warn(at(rel, 1), "no services: mapping, not read as a compose file")
        return found
    record = ContainerFile(path=rel, kind="compose", source=at(rel, 1), services=list(services))
    found.container_files.append(record)
    for name, service in services.items():
        image = service.get("image") if isinstance(service, dict) else None
        if isinstance(image, str) and "build" not in service:  # never str() of a YAML bomb
            line = _line_of_key(text, str(name))
            record.images.append(Evidence(value=image, source=at(rel, line)))
        if not isinstance(service, dict) or "build" not in service:
            continue
        source = at(rel, _line_of_key(text, str(name)))
        command = _compose_command(service.get("command"))
        ports = _container_ports(service.get("ports"))
        record.exposes.extend(ports)
        found.environment.extend(_compose_environment(service.get("environment"), source))
        if command:
            _add_candidate(found, command, source, "compose", str(name), ports)
            found.start_candidates[-1].workdir = _build_context(service.get("build"), rel)
    return found


def _build_context(build: Any, rel: str) -> str | None:
    """The repo directory a compose service's image is built from: where its command runs."""
    context = build.get("context", ".") if isinstance(build, dict) else build
    if not isinstance(context, str) or "://" in context:
        return None
    base = rel.rsplit("/", 1)[0] if "/" in rel else ""
    path = f"{base}/{context}" if base else context
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts) or None


def _compose_command(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return shlex.join(str(item) for item in value)
    return value.strip() if isinstance(value, str) else ""


def _container_ports(value: Any) -> list[int]:
    ports: list[int] = []
    for item in value if isinstance(value, list) else []:
        target = item.get("target") if isinstance(item, dict) else str(item).rsplit(":", 1)[-1]
        digits = re.match(r"^(\d+)", str(target or ""))
        if digits:
            ports.append(int(digits.group(1)))
    return ports


def _compose_environment(value: Any, source: str) -> list[EnvVar]:
    if isinstance(value, dict):
        return [
            EnvVar(name=str(key), value=None if item is None else str(item), source=source)
            for key, item in value.items()
        ]
    pairs = [str(item).split("=", 1) for item in value] if isinstance(value, list) else []
    return [
        EnvVar(name=pair[0], value=pair[1] if len(pair) > 1 else None, source=source)
        for pair in pairs
    ]


def _line_of_key(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"^\s+{re.escape(key)}\s*:", line):
            return number
    return 1


def _add_candidate(
    found: Inventory, line: str, source: str, origin: str, name: str | None, exposes: list[int]
) -> None:
    try:
        candidate = roles.candidate(line, source, origin, name=name)
    except ValueError as error:
        found.warn(source, f"cannot read command line: {error}")
        return
    if roles.has_default_port(candidate) and len(set(exposes)) == 1:
        candidate.port = exposes[0]
        candidate.port_note = f"from EXPOSE/ports in {source.rsplit(':', 1)[0]}"
    found.start_candidates.append(candidate)
