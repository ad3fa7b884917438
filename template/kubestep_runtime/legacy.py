"""A legacy app's INI file, made configurable from the environment without touching its code.

The app keeps reading one INI file from the path in its own variable (LEGACY_APP_CONFIG...).
`LegacyConfig.prepare()` reads that file, lets `SECTION_KEY` in the environment override any
key, checks types and required keys (all problems at once, so the pod logs say what to fix),
writes the result to a private file under the temporary directory and points the app's
variable at it. On Kubernetes the file comes from a ConfigMap and secrets from a Secret.
"""

from __future__ import annotations

import configparser
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addresses import AddressVariable, Backing, Resolved, resolve
from .checks import Check
from .config import env_name
from .errors import ConfigError, RuntimeSetupError

__all__ = [
    "AddressVariable",
    "Backing",
    "ConfigKey",
    "LegacyConfig",
    "backing_checks",
    "wrap_legacy",
]

Sections = dict[str, dict[str, str]]
# The file the app's variable pointed at before prepare() redirected it, so that every
# process (gunicorn's master, then each worker) starts from the same source.
SOURCE_VARIABLE = "KUBESTEP_CONFIG_SOURCE"
_EXPECTED = {"int": "an integer", "float": "a number", "bool": "true or false"}
log = logging.getLogger("kubestep.config")
ready_log = logging.getLogger("kubestep.ready")


@dataclass(frozen=True)
class ConfigKey:
    """A key the app reads, as the inventory found it in the code."""

    section: str
    key: str
    type: str = "str"  # str, int, float or bool: what the code reads it as
    required: bool = False  # the code has no fallback for it

    @property
    def env_name(self) -> str:
        return env_name(self.section, self.key)


def _parser() -> configparser.ConfigParser:
    """As the app's file is written: no interpolation, keys in their own case."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def _type_problem(key: ConfigKey, value: str) -> str:
    try:
        if key.type == "int":
            int(value)
        elif key.type == "float":
            float(value)
        elif key.type == "bool" and value.lower() not in configparser.ConfigParser.BOOLEAN_STATES:
            raise ValueError(value)
    except ValueError:
        return f"invalid [{key.section}] {key.key}={value!r} (expected {_EXPECTED[key.type]})"
    return ""


@dataclass(frozen=True)
class LegacyConfig:
    """Where the app reads its INI file from, and the keys it reads."""

    path_variable: str  # '' when the app has the path written in its code
    default_path: str
    keys: tuple[ConfigKey, ...] = ()

    def source(self, environ: MutableMapping[str, str]) -> Path:
        path = environ.get(SOURCE_VARIABLE) or (
            environ.get(self.path_variable) if self.path_variable else None
        )
        return Path(path or self.default_path)

    def read(self, environ: MutableMapping[str, str]) -> Sections:
        """The file's sections (none when it is missing: the app's fallbacks apply), with the
        environment's overrides; ConfigError lists every problem."""
        parser = _parser()
        source = self.source(environ)
        try:
            parser.read(source, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError) as error:
            first_line = str(error).splitlines()[0]
            raise ConfigError([f"cannot read {source}: {first_line}"]) from None
        sections: Sections = {name: dict(parser.items(name, raw=True)) for name in parser}
        sections.pop(configparser.DEFAULTSECT, None)
        known = {(key.section, key.key) for key in self.keys}
        in_file = {(name, key) for name, values in sections.items() for key in values}
        for section_name, key_name in sorted(known | in_file):
            override = environ.get(env_name(section_name, key_name))
            if override is not None:
                sections.setdefault(section_name, {})[key_name] = override
        problems = []
        for key in self.keys:
            value = sections.get(key.section, {}).get(key.key, "").strip()
            if not value:
                if key.required:
                    problems.append(
                        f"missing [{key.section}] {key.key}: set {key.env_name} "
                        f"or add it to {source}"
                    )
            elif problem := _type_problem(key, value):
                problems.append(f"{problem}: fix {key.env_name} or {source}")
        if problems:
            raise ConfigError(problems)
        return sections

    def prepare(self, environ: MutableMapping[str, str] | None = None) -> Sections:
        """Check the configuration and point the app's variable at the file with overrides."""
        environ = os.environ if environ is None else environ
        source = self.source(environ)
        sections = self.read(environ)
        if not self.path_variable:
            overridden = [k.env_name for k in self.keys if k.env_name in environ]
            if overridden:
                log.warning(
                    "the app reads %s from a fixed path: %s cannot override it",
                    source,
                    ", ".join(overridden),
                )
            return sections
        environ[SOURCE_VARIABLE] = str(source)
        environ[self.path_variable] = str(_write(sections, source.name))
        return sections


def _write(sections: Sections, name: str) -> Path:
    """The merged file, private to this user, replaced atomically (workers may race)."""
    directory = Path(tempfile.gettempdir()) / f"kubestep-config-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    parser = _parser()
    parser.read_dict(sections)
    handle, scratch = tempfile.mkstemp(dir=directory, prefix=".", suffix=".ini")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        parser.write(out)
    target = directory / name
    os.replace(scratch, target)
    return target


def _check(backing: Backing, resolved: Resolved) -> Check:
    """Ready when one of the endpoints accepts a connection (a client tries them in turn)."""

    def probe(timeout: float) -> None:
        if resolved.problem:
            raise ConfigError([resolved.problem])
        error: OSError | None = None
        for endpoint in resolved.endpoints:
            try:
                endpoint.connect(timeout)
                return
            except OSError as failed:
                error = failed
        assert error is not None
        raise error

    return Check(backing.kind, probe)


def backing_checks(
    sections: Sections,
    services: Iterable[Backing | tuple[str, str, int]],
    environ: Mapping[str, str] | None = None,
) -> list[Check]:
    """A TCP readiness check per backing service, at the address the app uses (see
    addresses.py); each says once, in the log, where it looks and why."""
    environ = os.environ if environ is None else environ
    checks = []
    for service in services:
        if isinstance(service, tuple):  # (kind, config section, default port)
            service = Backing(service[0], service[2], section=service[1])
        resolved = resolve(service, sections, environ)
        if resolved.problem:
            ready_log.warning("readiness check %s cannot probe: %s", service.kind, resolved.problem)
        else:
            where = ", ".join(str(endpoint) for endpoint in resolved.endpoints)
            ready_log.info("readiness check %s: %s (from %s)", service.kind, where, resolved.origin)
        checks.append(_check(service, resolved))
    return checks


def wrap_legacy(app: Any, interface: str, name: str, **options: Any) -> Any:
    """Wrap the app as the WSGI or ASGI app kubestep found it to be; an app of the other kind
    (gunicorn's threads cannot run a coroutine) stops the worker with one line."""
    from .asgi import wrap_asgi
    from .autodetect import is_asgi
    from .wsgi import wrap_wsgi

    if interface == "asgi":
        return wrap_asgi(app, **options)
    if is_asgi(app):
        raise RuntimeSetupError(
            f"{name} is an ASGI app, but kubestep_gunicorn.py serves it as WSGI: set "
            'worker_class = "uvicorn_worker.UvicornWorker" there and INTERFACE = "asgi" in '
            "kubestep_app.py, and add uvicorn-worker to requirements-kubestep.txt"
        )
    return wrap_wsgi(app, **options)
