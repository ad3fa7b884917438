"""The user's answers to what kubestep could not decide, kept in `.kubestep/answers.yml`.

`inv migrate --set start_command='gunicorn app:app'` answers once; the file is committed with
the step, and every later step reads it, so an answer wins over detection from then on.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from kubestep.errors import InvalidValue, TargetError
from kubestep.inventory import safe_files
from kubestep.validators import validate

RELATIVE_PATH = ".kubestep/answers.yml"
MAX_BYTES = 64_000
HEADER = (
    "# Your answers to what kubestep could not decide (`inv migrate --set key=value`).\n"
    "# Later steps read them; they win over what the inventory detects.\n"
)
# key -> the validator kind of its value (None: any non-empty text).
KEYS: dict[str, str | None] = {
    "start_command": None,
    "port": "port",
    "requirements": None,
    "service_name": "k8s_name",
    "base_image": "image_ref",
    "release_branch": "branch_name",
    # The release one-off's command, or `none` for no release one-off.
    "release_command": None,
    # Backing services to leave out of the local run and the readiness checks (`elasticsearch`
    # when no image of it is at hand and the app copes without it), comma-separated.
    "without": None,
    # The collectstatic the image build runs (from the repo root), or `none` for none.
    "collectstatic": None,
    # The upload date pip resolves open requirements against, or `today` for today's releases.
    "resolve_before": "resolve_date",
}
# `process.NAME=COMMAND` runs (or replaces) the worker NAME; `process.NAME=none` turns it off.
PROCESS_PREFIX = "process."


def parse_sets(items: list[str]) -> dict[str, Any]:
    """`key=value` items from the command line, each key known and each value valid."""
    answers: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        process = key.startswith(PROCESS_PREFIX)
        if not sep or (key not in KEYS and not process):
            known = ", ".join([*sorted(KEYS), f"{PROCESS_PREFIX}NAME"])
            raise InvalidValue(f"--set {item!r}: use key=value with a key among {known}")
        if not value.strip():
            raise InvalidValue(f"--set {key}= needs a value")
        if process:
            validate("k8s_name", key.removeprefix(PROCESS_PREFIX))
        kind = None if process else KEYS[key]
        answers[key] = validate(kind, value.strip()) if kind else value.strip()
        if key in ("start_command", "release_command", "collectstatic") or process:
            try:
                shlex.split(value)
            except ValueError:
                raise InvalidValue(f"--set {key}={value!r}: its quotes do not pair up") from None
        if key == "port":
            answers[key] = int(answers[key])
        if key == "without":
            answers[key] = _backing_kinds(value)
    return answers


def _backing_kinds(value: str) -> str:
    from kubestep.catalog import CATALOG

    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in CATALOG]
    if unknown or not kinds:
        raise InvalidValue(
            f"--set without={value!r}: name backing services among {', '.join(CATALOG)}"
        )
    return ",".join(kinds)


def load(target: Path) -> dict[str, Any]:
    """The answers recorded in target, {} when there are none."""
    path = target / RELATIVE_PATH
    if not path.exists() and not path.is_symlink():
        return {}
    text = safe_files.read_text(target.resolve(), RELATIVE_PATH, MAX_BYTES)  # no link out
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TargetError(
            f"{RELATIVE_PATH}{line} is not valid YAML; fix it or restore it with "
            f"`git checkout -- {RELATIVE_PATH}`"
        ) from None
    if not isinstance(data, dict):
        raise TargetError(f"{RELATIVE_PATH} must hold key: value lines")
    return parse_sets([f"{key}={value}" for key, value in data.items()])


def dump(answers: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(answers, sort_keys=True, allow_unicode=True, width=100)
