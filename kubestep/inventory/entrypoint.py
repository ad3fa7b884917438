"""How the service starts: every command that starts one of its processes, as candidates.

Procfile lines, service units of every manager (systemd, upstart, supervisor, Puppet, Chef,
Ansible), start scripts, make recipes and README instructions each report what they start;
server configs (uwsgi .ini, gunicorn config) lend their port and app to the commands naming
them. kubestep/decide.py then picks the web process, and the entrypoint facts show its pick.
"""

from __future__ import annotations

import os
import re

from kubestep.inventory import process_managers, roles, shell
from kubestep.inventory.model import Fact, Inventory, Process, Script, StartCandidate
from kubestep.inventory.tree import SourceTree, at

_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.+)$")
_START_NAME = re.compile(r"(^|[-_])(run|start|serve|server|entrypoint|boot|launch)([-_.]|$)")
_TEST_NAME = re.compile(r"test|check[-_]?style|lint")
_TEST_COMMAND = re.compile(r"\b(pytest|py\.test|nosetests|tox|unittest)\b")
_START_TARGETS = {"run", "start", "serve", "server", "up"}
_README_COMMAND = re.compile(r"^\s*(?:\$\s+|>\s+)?(.*\S)\s*$")
# A script that only works on the old box: absolute paths of its layout, a venv to activate.
_HOST_BOUND = re.compile(
    r"(^|[\s;&])(cd\s+(?![\"']?\$\(dirname)\S+|(source|\.)\s+\S*activate\b|\S*/(opt|srv|home|var/www|usr/local/\w+)/\S+)",
    re.M,
)
_DAEMON = re.compile(r"\s(--daemon|-D)\b")
_HOST_PROGRAM = re.compile(r"^(?:\S*/)?(?:venv|\.venv|env|virtualenv|bin)/(?:bin/)?([\w.-]+)$")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    started_by = _scripts_started_by(tree, found)
    for rel in tree.matching("Procfile", top_level=True):
        _read_procfile(rel, tree.text(rel) or "", result)
    for unit in found.services:
        if unit.command:
            _add(result, _localised(tree, unit.command), unit.source, unit.manager, unit.name)
    for rel in _shell_scripts(tree):
        text = tree.text(rel) or ""
        has_server = _read_script(tree, rel, text, started_by.get(rel), result)
        result.scripts.append(
            Script(
                path=rel,
                role=_role(rel, text, rel in started_by or has_server),
                source=at(rel, 1),
            )
        )
    for target in found.make_targets:
        for line in target.recipe:
            if roles.classify_safely(line)[0] in roles.STARTABLE:
                _add(result, line, target.source, "make", target.name)
    _read_readme(tree, found, result)
    everything = [*found.start_candidates, *result.start_candidates]
    for candidate in result.start_candidates:
        _inherit_server_config(candidate, everything)
    return result


def _read_procfile(rel: str, text: str, found: Inventory) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line.strip())
        if match is None:
            found.warn(at(rel, number), f"not a Procfile 'name: command' line: {line.strip()!r}")
            continue
        name, command = match.groups()
        candidate = _add(found, command, at(rel, number), "procfile", name)
        if name != "web" and (candidate is None or candidate.role not in roles.STARTABLE):
            found.processes.append(Process(name=name, command=command, source=at(rel, number)))


def _read_script(
    tree: SourceTree, rel: str, text: str, started: str | None, found: Inventory
) -> bool:
    """Server lines of a script. The candidate runs the script itself, as the old box did,
    unless the script only works there (absolute paths, `cd`, a venv to activate, a server
    sent to the background): then its server line runs directly, its variables resolved."""
    known = shell.variables(text)
    host_bound = _host_bound(text)
    added = False
    release: list[str] = []
    for number, line in shell.logical_lines(text):
        role = roles.classify_safely(line, known=known)[0]
        if role == roles.RELEASE:
            release.append(_release_part(line))
        if role not in roles.STARTABLE:
            continue
        foreground = _DAEMON.sub("", line).rstrip(" &")
        candidate = _add(found, foreground, at(rel, number), "script", None, known)
        if candidate is None:
            continue
        candidate.script, candidate.started_by = rel, started
        if _needs_container_changes(candidate):
            candidate.command = _resolved(candidate.command, known)
            candidate.note = f"{rel} binds where a container cannot be reached: its line runs"
        elif host_bound or foreground != line:
            why = (
                "sends the server to the background"
                if foreground != line
                else (
                    f"assumes the old box ({host_bound.group(0).strip()!r})" if host_bound else ""
                )
            )
            candidate.command = _resolved(candidate.command, known)
            candidate.note = f"{rel} {why}: its server line runs directly"
        else:
            candidate.note = "; ".join(filter(None, [f"runs: {candidate.command}", candidate.note]))
            candidate.command = _script_command(tree, rel, text)
            candidate.runs_first = list(release)
        added = True
    return added


def _release_part(line: str) -> str:
    """`flask db upgrade` of `until flask db upgrade; do`: the command, not the shell around it."""
    for part in re.split(r"&&|\|\||;", line):
        part = re.sub(r"^\s*((until|while|if|then|do|!)\s+)*", "", part).strip()
        if roles.classify_safely(part)[0] == roles.RELEASE:
            return part
    return line.strip()


def _needs_container_changes(candidate: StartCandidate) -> bool:
    from kubestep import decide
    from kubestep.inventory.plain import to_plain

    plain = to_plain(candidate)
    plain.pop("script", None)
    return bool(decide.changes(plain))


def _host_bound(text: str) -> re.Match[str] | None:
    """The first line part that ties a script to the old box, unless the script tests for it
    first (`if [ -f /opt/app/venv/bin/activate ]`): a guarded path is container-safe."""
    tested = set(re.findall(r"(?:-[fedx]|test\s+-[fedx])\s+[\"']?([^\s\"'\]]+)", text))
    for match in _HOST_BOUND.finditer(text):
        words = re.findall(r"/[^\s\"';&]+", match.group(0))
        if not words or not any(word in tested for word in words):
            return match
    return None


def _resolved(line: str, known: dict[str, shell.Expanded]) -> str:
    """A script's line with its own variables filled in; environment variables stay."""
    words = []
    for word in line.split():
        expanded = shell.expand(word, known)
        words.append(expanded.text if expanded.resolved and "$" not in expanded.text else word)
    return " ".join(word for word in words if word)


def _script_command(tree: SourceTree, rel: str, text: str) -> str:
    if os.access(tree.root / rel, os.X_OK) and text.startswith("#!"):
        return f"./{rel}"
    shebang = text.split("\n", 1)[0]
    return f"{'bash' if 'bash' in shebang else 'sh'} {rel}"


def _add(
    found: Inventory,
    line: str,
    source: str,
    origin: str,
    name: str | None,
    known: dict[str, shell.Expanded] | None = None,
) -> StartCandidate | None:
    try:
        candidate = roles.candidate(line, source, origin, name=name, known=known)
    except ValueError as error:
        found.warn(source, f"cannot read command line: {error}")
        return None
    found.start_candidates.append(candidate)
    return candidate


def _localised(tree: SourceTree, command: str) -> str:
    """A host command as the container runs it: venv programs by name, repo files by path.

    `/srv/app/venv/bin/gunicorn -c /etc/app/gunicorn.py` becomes `gunicorn -c gunicorn.py`
    when the repo has that file: the image puts its venv on PATH and the repo at its WORKDIR.
    """
    words = roles.compact_templates(command).split()
    for index, word in enumerate(words):
        program = _HOST_PROGRAM.match(word)
        if index == 0 and program:
            words[index] = program.group(1)
        elif word.startswith("/") and (rel := tree.find_by_suffix(word.rsplit("/", 1)[-1])):
            words[index] = rel
    return " ".join(words)


def _inherit_server_config(candidate: StartCandidate, everything: list[StartCandidate]) -> None:
    """A command naming a uwsgi .ini or gunicorn config takes its port, workers and app."""
    config = process_managers.config_for(
        candidate.command + " " + (candidate.note or ""), everything
    )
    if config is None:
        return
    if roles.has_default_port(candidate) and config.port is not None:
        candidate.port, candidate.port_env = config.port, config.port_env
        candidate.port_note = f"from {config.source.rsplit(':', 1)[0]}"
    candidate.app = candidate.app or config.app
    candidate.loopback = candidate.loopback or config.loopback
    if candidate.workers is None:
        candidate.workers, candidate.workers_env = config.workers, config.workers_env


def _read_readme(tree: SourceTree, found: Inventory, result: Inventory) -> None:
    """Server commands a README tells people to run (the least sure place): in code blocks
    (indented, fenced or `$ `-prefixed) and in inline code spans."""
    if found.readme is None:
        return
    text = tree.text(found.readme.path) or ""
    in_fence = False
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        lines = re.findall(r"``?([^`]+)``?", raw)
        match = _README_COMMAND.match(raw)
        if match and (in_fence or raw.startswith(("    ", "\t", "$ ", "> "))):
            lines.append(match.group(1).removeprefix("$ "))
        for line in lines:
            if roles.classify_safely(line)[0] in roles.STARTABLE:
                _add(result, line.strip(), at(found.readme.path, number), "readme", None)


def set_entrypoint(found: Inventory, chosen: StartCandidate | None, source: str) -> None:
    """Show the start decision in the inventory's entrypoint facts."""
    if chosen is None:
        return
    entry = found.entrypoint
    if chosen.app:
        entry.app = Fact(value=chosen.app, kind=chosen.kind, source=source)
    if chosen.server:
        entry.server = Fact(value=chosen.server, source=source)
    entry.command = Fact(value=chosen.command, source=source, note=chosen.note)
    if chosen.port is not None or chosen.port_env:
        entry.port = Fact(chosen.port, source, env_var=chosen.port_env, note=chosen.port_note)
    if chosen.workers is not None or chosen.workers_env:
        entry.workers = Fact(chosen.workers, source, env_var=chosen.workers_env)


def _shell_scripts(tree: SourceTree) -> list[str]:
    scripts = set(tree.matching("*.sh", "*.bash"))
    for rel in tree.matching("bin/*", "scripts/*"):
        if "." not in rel.rsplit("/", 1)[-1] and (tree.text(rel) or "").startswith("#!"):
            scripts.add(rel)
    return sorted(scripts)


def _scripts_started_by(tree: SourceTree, found: Inventory) -> dict[str, str]:
    """Scripts that a unit, the Procfile, a container file or a run/start target runs, each
    with the origin that runs it (its rank is that origin's)."""
    lines = [(unit.command, unit.manager) for unit in found.services if unit.command]
    lines += [
        (text, "procfile")
        for rel in tree.matching("Procfile", top_level=True)
        if (text := tree.text(rel))
    ]
    lines += [(candidate.command, candidate.origin) for candidate in found.start_candidates]
    for target in found.make_targets:
        if target.name in _START_TARGETS:
            lines.extend((line, "make") for line in target.recipe)
    started: dict[str, str] = {}
    for line, origin in lines:
        for word in re.findall(r"[\w./${}-]+\.sh\b|\bbin/[\w.-]+|\bscripts/[\w.-]+", line):
            rel = tree.find_by_suffix(word.rsplit("/", 1)[-1] if word.startswith("/") else word)
            if rel and (rel not in started or _rank(origin) < _rank(started[rel])):
                started[rel] = origin
    return started


def _rank(origin: str) -> int:
    return roles.ORIGIN_RANK.get(origin, 9)


def _role(rel: str, text: str, starts: bool) -> str:
    name = rel.rsplit("/", 1)[-1].lower()
    if starts:
        return "start"
    if _TEST_NAME.search(name) or _TEST_COMMAND.search(text):
        return "test"
    return "start" if _START_NAME.search(name.rsplit(".", 1)[0]) else "other"
