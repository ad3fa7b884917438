"""Whether the image collects a Django project's static files at build, and with what.

collectstatic writes the files (and the manifest a manifest storage looks every
`{% static %}` up in) that the web process serves: run by the web command in a container
whose root is read-only it fails, and run by a one-off its files never reach the web. Heroku's
Python buildpack runs it at every build; kubestep's image build does the same, in a stage of
its own whose result the service stage copies (template/Dockerfile.jinja).
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass
from typing import Any

from kubestep import decide
from kubestep.decide_processes import NONE, STATIC_KEY, Split, collectstatic_part
from kubestep.inventory import roles


@dataclass(frozen=True)
class StaticBuild:
    """The collectstatic the image build runs, from the repo root, and why."""

    command: str
    source: str
    reason: str


def static_build(
    inventory: dict[str, Any], split: Split, answers: dict[str, Any]
) -> tuple[StaticBuild | None, list[str]]:
    """The answer, else the web command's collectstatic, else a release command's, else the
    one a manifest storage in the settings needs; with a note when the answer turns it off."""
    answer = str(answers.get(STATIC_KEY) or "")
    if answer == NONE:
        return None, ["no collectstatic at build: your answer collectstatic=none"]
    if answer:
        return StaticBuild(answer, ".kubestep/answers.yml", "your answer"), []
    if split.build:
        command = decide.process_command({**split.web, "command": split.build})[0]
        return StaticBuild(command, split.web.get("source", ""), "the web command ran it"), []
    for candidate in sorted(inventory.get("start_candidates", []), key=decide._rank):
        if candidate.get("role") != roles.RELEASE or decide._templated(candidate):
            continue
        part = collectstatic_part(decide.process_command(candidate)[0])
        if part:
            return StaticBuild(part, candidate["source"], "the release command ran it"), []
    evidence = next(iter(inventory.get("collected_static", [])), None)
    if evidence is None:
        return None, []
    folder = posixpath.dirname(evidence["value"])
    command = "python manage.py collectstatic --noinput"
    return StaticBuild(
        f"cd {shlex.quote(folder)} && {command}" if folder else command,
        evidence["source"],
        "the settings use a manifest static storage, whose pages need the manifest",
    ), []
