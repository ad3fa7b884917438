"""copier.yml's questions as Python sees them, to check `--set key=value` answers before copier.

copier stays the one place that declares a question (its type, choices and validator kind);
this module reads that declaration, so `inv new` refuses exactly what copier would, with one
line instead of copier's traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from kubestep.errors import InvalidValue
from kubestep.paths import REPO
from kubestep.validators import validate

# Answers kubestep itself sets for a legacy migration; a new service never takes them.
MIGRATION_ONLY = {"origin", "step", "smarter", "continuous_deployment", "keep_running", "legacy"}
_KIND = re.compile(r"\|\s*(problems?)\('([a-z0-9_]+)'\)")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Question:
    """One copier question: its answer type, its choices and the validator kind it uses."""

    name: str
    type: str
    choices: tuple[Any, ...] = ()
    kind: str = ""
    many: bool = False


@cache
def questions() -> dict[str, Question]:
    """The questions a new service may answer, in copier.yml's order."""
    data = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    found = {}
    for name, spec in data.items():
        if name.startswith("_") or name in MIGRATION_ONLY or not isinstance(spec, dict):
            continue
        match = _KIND.search(str(spec.get("validator", "")))
        choices = spec.get("choices") or ()
        values = tuple(choices.values() if isinstance(choices, dict) else choices)
        found[name] = Question(
            name=name,
            type=spec.get("type", "str"),
            choices=values,
            kind=match.group(2) if match else "",
            many=match is not None and match.group(1) == "problems",
        )
    return found


def parse_settings(settings: list[str]) -> dict[str, str]:
    """`key=value` strings as a mapping; a malformed or repeated one is an InvalidValue."""
    answers: dict[str, str] = {}
    for setting in settings:
        key, equals, value = setting.partition("=")
        key = key.strip()
        if not equals or not key:
            raise InvalidValue(f"--set {setting!r} is not key=value (e.g. --set port=8080)")
        if key in answers:
            raise InvalidValue(f"--set {key}= is given twice: give each answer once")
        answers[key] = value
    return answers


def _convert(question: Question, text: str) -> Any:
    if question.type == "int":
        try:
            return int(text)
        except ValueError:
            raise InvalidValue(f"{text!r} is not a whole number") from None
    if question.type == "bool":
        if text.lower() not in _TRUE | _FALSE:
            raise InvalidValue(f"{text!r} is not true or false")
        return text.lower() in _TRUE
    if question.type == "yaml" or question.many:
        if text.lstrip().startswith("["):
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError:
                raise InvalidValue(f"{text!r} is not a YAML list") from None
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def check_answer(name: str, text: str) -> Any:
    """The typed answer to question name, or InvalidValue naming the question and the rule."""
    known = questions()
    if name in MIGRATION_ONLY:
        raise InvalidValue(f"{name} is set by `inv migrate`, not for a new service")
    if name not in known:
        raise InvalidValue(f"{name!r} is not a question: use one of {', '.join(known)}")
    question = known[name]
    try:
        value = _convert(question, text)
        if question.choices and value not in question.choices:
            allowed = ", ".join(str(choice) for choice in question.choices)
            raise InvalidValue(f"{value!r} is not one of {allowed}")
        if question.kind:
            if question.many and not isinstance(value, list):
                raise InvalidValue(f"{value!r} is not a list")
            for item in value if question.many else [value]:
                validate(question.kind, item)
    except InvalidValue as error:
        raise InvalidValue(f"{name}: {error}") from None
    return value


def check_answers(answers: dict[str, str]) -> dict[str, Any]:
    """Every answer typed and checked, in the order given."""
    return {name: check_answer(name, text) for name, text in answers.items()}
