"""Jinja helpers for copier.yml and the template, so template logic stays declarative."""

import json
import re
import shlex

from jinja2 import Environment
from jinja2.ext import Extension

from kubestep import __version__
from kubestep.catalog import backing_service
from kubestep.secrets import secret_key
from kubestep.validators import problem

_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def k8s_slug(value: str) -> str:
    """Turn a directory or project name into a DNS label suggestion ('My_App' -> 'my-app')."""
    slug = _NOT_DNS.sub("-", str(value).lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:63].rstrip("-")
    return slug or "my-service"


def env_name_of(value: str) -> str:
    """The environment variable a config key is read from ('database.host' -> 'DATABASE_HOST')."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(value)).strip("_").upper()


def probe_path(legacy: object, kind: str) -> str:
    """Where the +1 runtime serves probe kind ('health'): the step's choice, else the usual."""
    from kubestep.probe_paths import DEFAULTS

    chosen = legacy.get("probe_paths") if isinstance(legacy, dict) else None
    return str((chosen or {}).get(kind) or DEFAULTS[kind])


def problems(values: object, kind: str) -> str:
    """The first problem in a list of values, or '' when all are valid."""
    if not isinstance(values, list):
        return f"{values!r} is not a list"
    return next((message for value in values if (message := problem(kind, value))), "")


def docstring_text(value: object) -> str:
    """`value` as it reads inside a triple-quoted Python string: no escapes, no end quote."""
    return str(value).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


class KubestepExtension(Extension):
    """Registers kubestep's filters, the `secret_key` test, the backing_service() and
    probe_path() lookups and step 6's step6() and step6_items()."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["problem"] = lambda value, kind: problem(kind, value)
        environment.filters["problems"] = problems
        environment.filters["k8s_slug"] = k8s_slug
        environment.filters["shell_quote"] = shlex.quote
        # Dockerfile exec form: JSON, without the HTML escaping of Jinja's tojson (\u0026).
        environment.filters["exec_form"] = json.dumps
        environment.filters["env_name_of"] = env_name_of
        # A legacy command quoted in a generated docstring: `create_app\(\)` must stay text.
        environment.filters["docstring_text"] = docstring_text
        environment.tests["secret_key"] = secret_key
        environment.globals["backing_service"] = backing_service
        environment.globals["probe_path"] = probe_path
        from kubestep.keep.jinja import step6, step6_items  # step 6 builds on these helpers

        environment.globals["step6"] = step6
        environment.globals["step6_items"] = step6_items
        environment.globals["kubestep_version"] = lambda: __version__
