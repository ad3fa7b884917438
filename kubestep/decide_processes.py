"""The decision for every process but the web one: workers, schedulers and the release one-off.

Each worker or scheduler a Procfile, a process manager (systemd, upstart, supervisor) or
config management (Puppet, Chef, Ansible) starts becomes a process that runs from the same
image; the same process named in two places is one, its surest place winning (ORIGIN_RANK).
Release commands (`manage.py migrate`, `flask db upgrade`, `collectstatic`, a Procfile
`release:`) become one one-off that runs before the web process, and a web shell line that
runs them before its server (`flask db upgrade; gunicorn app:app`) is split in two, so that
two replicas never migrate at once and a failed migration stops the release, not the server.
Nothing is dropped silently: what kubestep does not run says why in `notes`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from kubestep import decide
from kubestep.errors import InvalidValue
from kubestep.inventory import roles
from kubestep.jinja_ext import k8s_slug

RUNNING = (roles.WORKER, roles.SCHEDULER)
NONE = "none"  # the answer that turns a process (or the release) off
PROCESS_KEY = "process."
RELEASE_KEY = "release_command"
STATIC_KEY = "collectstatic"  # the image build's collectstatic (kubestep/decide_static.py)
# Compose service names kubestep's compose.yaml already uses.
_TAKEN = {"app", "release"}


@dataclass(frozen=True)
class Process:
    """A process that runs from the service's image, as the container runs it."""

    name: str
    role: str
    command: str
    argv: list[str]
    source: str
    changes: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # the other places that start it


@dataclass(frozen=True)
class Release:
    """The one-off that runs before the web process: its commands in order, where each is."""

    commands: list[str]
    argv: list[str]
    sources: list[str]
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Split:
    """A web candidate with the release commands its shell line ran before the server, and
    the collectstatic it ran, which the image build runs instead (kubestep/decide_static.py)."""

    web: dict[str, Any]
    release: list[str]
    notes: list[str]
    build: str = ""


_CELERY_DETACH = re.compile(r"\s(--detach|-D)(?=\s|$)")
# Relative or absolute: the image's root is read-only, and the platform collects stdout.
_CELERY_FILES = re.compile(
    r"\s(--logfile|-f|--pidfile|--statedb)[ =]['\"]?[^\s'\"-][^\s'\"]*['\"]?"
)


def container_command(candidate: dict[str, Any]) -> tuple[str, list[str]]:
    """A worker's command as the image runs it: the web edits that hold for any process
    (no `poetry run`, log files to stdout, its working directory), and no daemon mode."""
    command, notes = decide.process_command(candidate)
    if re.search(r"\bcelery\b", command):
        new = _CELERY_DETACH.sub("", command)
        if new != command:
            command = new
            notes.append("--detach dropped: the container's main process stays in the foreground")
        new = _CELERY_FILES.sub("", command)
        if new != command:
            command = new
            notes.append("log, pid and state files dropped: celery logs to stdout, root read-only")
    return command, notes


# Options that take no value, so the word after one is an argument (`rq worker --burst mail`).
_FLAGS = {
    "--burst", "-b", "--with-scheduler", "--beat", "-B", "-E", "--task-events", "--detach",
    "-D", "--quiet", "-q", "--without-gossip", "--without-mingle", "--without-heartbeat",
    "--verbose", "-v", "--noinput", "--no-input", "-u",
}  # fmt: skip
_KEPT_OPTIONS = {"-A": "app", "--app": "app", "-Q": "queues", "--queues": "queues"}


def signature(command: str) -> tuple[str, ...]:
    """What makes two command lines the same process: the program, its app and queues and
    its words, not its log level, concurrency or the path it is run by."""
    try:
        words = shlex.split(command)
    except ValueError:
        return tuple(command.split())
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        option, equals, value = word.partition("=")
        if option in _KEPT_OPTIONS and equals:
            kept.append(f"{_KEPT_OPTIONS[option]}={value}")
        elif option in _KEPT_OPTIONS and index + 1 < len(words):
            kept.append(f"{_KEPT_OPTIONS[option]}={words[index + 1]}")
            index += 1
        elif word.startswith("-"):
            # An option's value is the next word when it is no subcommand-looking word.
            if not equals and word not in _FLAGS and _is_option_value(words, index):
                index += 1
        elif word not in ("exec", "python", "python3", "&&", ";"):
            kept.append(word.rsplit("/", 1)[-1] if index == 0 else word)
        index += 1
    return tuple(kept)


_SUBCOMMANDS = {"worker", "beat", "scheduler", "flower", "events"}


def _is_option_value(words: list[str], index: int) -> bool:
    if index + 1 >= len(words) or index == 0:
        return False
    following = words[index + 1]
    return not following.startswith("-") and following not in _SUBCOMMANDS


def _name(candidate: dict[str, Any], taken: set[str]) -> str:
    base = k8s_slug(candidate.get("name") or candidate["role"])
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def processes(
    inventory: dict[str, Any], answers: dict[str, Any], taken: set[str] | None = None
) -> tuple[list[Process], list[str]]:
    """The workers and schedulers to run next to the web process, and notes on what was
    seen but is not run (and why). Answers `process.NAME=...` replace or add one;
    `process.NAME=none` turns one off."""
    taken = {*_TAKEN, *(taken or set())}
    notes: list[str] = []
    candidates = [c for c in inventory.get("start_candidates", []) if c.get("role") in RUNNING]
    usable = [c for c in candidates if not decide._templated(c)]
    for candidate in candidates:
        if candidate not in usable and not any(
            signature(u["command"]) == signature(candidate["command"]) for u in usable
        ):
            notes.append(
                f"{_describe(candidate)} comes from a template kubestep cannot resolve: not run; "
                f"answer with --set {PROCESS_KEY}{k8s_slug(candidate.get('name') or 'worker')}="
                "'...'"
            )
    groups: list[list[dict[str, Any]]] = []
    for candidate in sorted(usable, key=decide._rank):
        identity = (candidate["role"], signature(container_command(candidate)[0]))
        for group in groups:
            if (group[0]["role"], signature(container_command(group[0])[0])) == identity:
                group.append(candidate)
                break
        else:
            groups.append([candidate])
    chosen: dict[str, Process] = {}
    for group in groups:
        best = group[0]
        name = _name(best, taken | set(chosen))
        command, changes = container_command(best)
        chosen[name] = Process(
            name=name,
            role=best["role"],
            command=command,
            argv=decide.container_argv({**best, "command": command, "workdir": None}),
            source=best["source"],
            changes=changes,
            also=[c["source"] for c in group[1:]],
        )
    for key, value in sorted(answers.items()):
        if not key.startswith(PROCESS_KEY):
            continue
        name = key.removeprefix(PROCESS_KEY)
        if name in taken:
            raise InvalidValue(f"--set {key}: {name!r} is taken by the {name} service; use another")
        if str(value) == NONE:
            if chosen.pop(name, None) is None:
                notes.append(f"--set {key}=none names no process (found: {_names(chosen)})")
            continue
        role = roles.classify_safely(str(value))[0]
        chosen[name] = Process(
            name=name,
            role=role if role in RUNNING else roles.WORKER,
            command=str(value),
            argv=decide.container_argv({"command": str(value)}),
            source=".kubestep/answers.yml",
        )
    notes += _not_run(inventory)
    return list(chosen.values()), notes


def _names(chosen: dict[str, Process]) -> str:
    return ", ".join(chosen) or "none"


def _describe(candidate: dict[str, Any]) -> str:
    return f"{candidate['command']!r} ({candidate['source']})"


def _not_run(inventory: dict[str, Any]) -> list[str]:
    """A Procfile line kubestep cannot place (neither web, worker, scheduler nor release):
    listed, so that it is not dropped unseen."""
    notes = []
    for candidate in inventory.get("start_candidates", []):
        if candidate.get("origin") == "procfile" and candidate.get("role") == roles.OTHER:
            name = k8s_slug(candidate.get("name") or "process")
            notes.append(
                f"the Procfile's {candidate.get('name')!r} process ({candidate['command']!r}, "
                f"{candidate['source']}) is neither a web server, a worker, a scheduler nor a "
                f"release command: not run; run it with --set {PROCESS_KEY}{name}='...'"
            )
    return notes


# A shell line kubestep splits only when it is a plain sequence: no pipes, `||`, background
# jobs, subshells or command substitution, whose meaning a split could change.
_NOT_A_SEQUENCE = re.compile(r"\|\||\||(?<!&)&(?!&)|`|\$\(|\(|\)|\n|\bif\b|\bwhile\b|\buntil\b")
_SETUP = re.compile(r"^(cd\s+\S+|export\s+\w+=\S*|\w+=\S*)$")
# Commands that write files the web process serves: a one-off's files never reach it, so
# they belong in the image build. collectstatic goes there (kubestep/decide_static.py);
# compilemessages, which needs gettext, stays where it was, with a note.
_BUILD_TIME = re.compile(r"\bmanage\.py\s+(collectstatic|compilemessages)\b")
COLLECTSTATIC = re.compile(r"\bmanage\.py\s+collectstatic\b")


def _segments(command: str) -> list[tuple[str, str]] | None:
    """command as (separator before it, part) pairs, or None when quotes hide a separator."""
    parts: list[tuple[str, str]] = []
    separator, start, quote, index = "", 0, "", 0
    while index < len(command):
        char = command[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif command.startswith("&&", index) or char == ";":
            parts.append((separator, command[start:index].strip()))
            separator = "&&" if char == "&" else ";"
            index += len(separator)
            start = index
            continue
        index += 1
    if quote:
        return None
    parts.append((separator, command[start:].strip()))
    return parts


def split_release(web: dict[str, Any], collect: bool = True) -> Split:
    """The web candidate without the release commands its shell line runs first.

    `cd src && python manage.py migrate && gunicorn ...` becomes the release `cd src && python
    manage.py migrate` and the web `cd src && gunicorn ...`. Only the leading run of release
    commands moves (setup such as `cd` goes to both; collectstatic stays with the web): one
    after another command stays, as the order may matter. A script run as itself is left as
    it is: kubestep does not rewrite the repo's scripts, and one that waits for the database
    in a loop before it migrates is already safe to run in a container. Unless collect is
    False (the answer collectstatic=none), a collectstatic goes to the image build."""
    command = web.get("command", "")
    if web.get("script") and web["script"] in command:
        first = web.get("runs_first") or []
        note = (
            f"{web['script']} runs as itself and keeps running {'; '.join(first)} before its "
            "server: kubestep does not rewrite it into a release one-off"
        )
        return Split(web, [], [note] if first else [])
    if _NOT_A_SEQUENCE.search(command):
        return Split(web, [], [])
    parts = _segments(command)
    if not parts or len(parts) < 2:
        return Split(web, [], [])
    setup: list[tuple[str, str]] = []
    release: list[tuple[str, str]] = []
    build: list[tuple[str, str]] = []
    notes: list[str] = []
    rest_from = len(parts) - 1
    for index, (separator, part) in enumerate(parts[:-1]):
        if _SETUP.match(part):
            setup.append((separator, part))
        elif collect and COLLECTSTATIC.search(part) and not build:
            build.append((separator, part))
            notes.append(
                f"{part} moved from the web command to the image build ({web['source']}): "
                "the files it writes must be in the image, whose root is read-only"
            )
        elif _BUILD_TIME.search(part):
            notes.append(
                f"{part!r} stays in the web command ({web['source']}): the files it writes "
                "must be in the web container; best run it in the image build instead"
            )
        elif roles.classify_safely(part)[0] == roles.RELEASE:
            release.append((separator, part))
        else:
            rest_from = index
            break
    later = [
        p
        for _, p in parts[rest_from:-1]
        if roles.classify_safely(p)[0] == roles.RELEASE and not _BUILD_TIME.search(p)
    ]
    if later:
        notes.append(
            f"{', '.join(repr(p) for p in later)} stays in the web command "
            f"({web['source']}): another command runs before it"
        )
    build_line = collectstatic_part(command) if build else ""
    if not release and not build:
        return Split(web, [], notes)
    kept = [pair for pair in parts if pair not in release and pair not in build]
    web = {**web, "command": _join(kept)}
    if not release:
        return Split(web, [], notes, build_line)
    moved = [part for _, part in release]
    release_line = _join([pair for pair in parts[:rest_from] if pair in release or pair in setup])
    notes.append(
        f"{'; '.join(moved)} moved from the web command to the release one-off "
        "(`make release`), which runs before the web process starts"
    )
    return Split(web, [release_line], notes, build_line)


def _join(parts: list[tuple[str, str]]) -> str:
    line = ""
    for index, (separator, part) in enumerate(parts):
        if index == 0:
            line = part
        else:
            line += f" {separator} {part}" if separator == "&&" else f"; {part}"
    return line


def release(
    inventory: dict[str, Any], answers: dict[str, Any], split: Split
) -> tuple[Release | None, list[str]]:
    """The release one-off: the answer, else the repo's release commands (a Procfile
    `release:`, a unit that migrates) then those split out of the web command, each once."""
    if RELEASE_KEY in answers:
        value = str(answers[RELEASE_KEY])
        if value == NONE:
            return None, ["no release one-off: your answer release_command=none"]
        argv = decide.container_argv({"command": value})
        return Release([value], argv, [".kubestep/answers.yml"]), []
    found = [
        c
        for c in inventory.get("start_candidates", [])
        if c.get("role") == roles.RELEASE and not decide._templated(c)
    ]
    commands: list[str] = []
    sources: list[str] = []
    changes: list[str] = []
    seen: set[tuple[str, ...]] = set()
    warnings: list[str] = []
    lines = [(c, c) for c in sorted(found, key=decide._rank)]
    lines += [({**split.web, "command": line}, split.web) for line in split.release]
    for candidate, origin in lines:
        command, notes = decide.process_command(candidate)
        collects = answers.get(STATIC_KEY) != NONE
        if candidate is origin and collects and collectstatic_part(command):
            warnings.append(
                f"{collectstatic_part(command)} moved from the release command "
                f"({origin['source']}) to the image build: the files it writes must be in the "
                "image the web process runs"
            )
            command = without_collectstatic(command)
            if not command:
                continue
        if candidate is origin and _BUILD_TIME.search(command):
            warnings.append(
                f"the release command {command!r} ({origin['source']}) writes files that stay "
                "in the one-off's container: run it in the image build for the web to serve them"
            )
        steps = _steps(command)
        if steps <= seen:
            continue  # an earlier release command already runs it
        seen |= steps
        commands.append(command)
        sources.append(origin["source"])
        changes += notes
    if not commands:
        return None, warnings
    # Each in its own subshell: a `cd` of one does not move the next.
    line = commands[0] if len(commands) == 1 else " && ".join(f"({c})" for c in commands)
    return Release(commands, decide.container_argv({"command": line}), sources, changes), warnings


def collectstatic_part(command: str) -> str:
    """The collectstatic a plain shell line runs, with the setup (`cd`) before it, joined by
    `&&` so that a failure fails the image build; "" when it runs none (or quotes hide it)."""
    parts = _segments(command) if not _NOT_A_SEQUENCE.search(command) else None
    for index, (_, part) in enumerate(parts or []):
        if COLLECTSTATIC.search(part):
            setup = [p for _, p in (parts or [])[:index] if _SETUP.match(p)]
            return " && ".join([*setup, part])
    return ""


def without_collectstatic(command: str) -> str:
    """command without its collectstatic; "" when only setup would be left."""
    parts = _segments(command) or []
    kept = [pair for pair in parts if not COLLECTSTATIC.search(pair[1])]
    if all(_SETUP.match(part) for _, part in kept):
        return ""
    return _join(kept)


def _steps(command: str) -> set[tuple[str, ...]]:
    """The signatures of what a line runs, its setup (`cd`, `export`) left out."""
    parts = _segments(command) or [("", command)]
    return {signature(part) for _, part in parts if not _SETUP.match(part)}
