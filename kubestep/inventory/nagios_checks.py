"""Classify a resolved Nagios command line: http, tcp, process, disk, system or custom.

Each kind maps to something Kubernetes has: an HTTP or TCP probe, a process count that a
liveness probe replaces, a volume usage alert, or a custom script to keep as a job or metric.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from kubestep.inventory.model import Check

# Plugins from monitoring-plugins; any other program is the team's own script.
STANDARD_PLUGINS = {
    "check_http",
    "check_curl",
    "check_tcp",
    "check_procs",
    "check_disk",
    "check_load",
    "check_swap",
    "check_ping",
    "check_ssh",
    "check_users",
    "check_ntp",
    "check_ntp_time",
    "check_dns",
    "check_mysql",
    "check_pgsql",
    "check_smtp",
    "check_file_age",
    "check_log",
    "check_mailq",
    "check_nrpe",
    "check_dummy",
    "check_apt",
    "check_uptime",
    "check_mem",
}
_STATUS = re.compile(r"\b([1-5]\d\d)\b")


def classify(
    name: str, command_line: str, source: str, find_file: Callable[[str], str | None]
) -> Check:
    """A Check for command_line; find_file maps a script name to its path in the repo."""
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = command_line.split()
    program = words[0] if words else ""
    plugin = program.rsplit("/", 1)[-1]
    options = _options(words[1:])
    check = Check(name=name, kind="custom", source=source, command=command_line)
    if plugin in ("check_http", "check_curl"):
        check.kind = "http"
        check.port = _int(options.get("-p") or options.get("--port")) or (
            443 if "-S" in options or "--ssl" in options else 80
        )
        check.path = options.get("-u") or options.get("--url") or "/"
        expect = _STATUS.search(options.get("-e") or options.get("--expect") or "")
        check.expect_status = int(expect.group(1)) if expect else None
    elif plugin == "check_tcp":
        check.kind, check.port = "tcp", _int(options.get("-p") or options.get("--port"))
    elif plugin == "check_procs":
        check.kind = "process"
        check.process = options.get("-C") or options.get("--command")
        check.args = [value for key in ("-a", "--argument-array") if (value := options.get(key))]
        check.warning, check.critical = options.get("-w"), options.get("-c")
        check.min, check.max = count_range(check.critical or check.warning or "")
    elif plugin == "check_disk":
        check.kind = "disk"
        check.path = options.get("-p") or options.get("--path") or options.get("-r")
        check.warning = options.get("-w") or options.get("--warning")
        check.critical = options.get("-c") or options.get("--critical")
    elif plugin in STANDARD_PLUGINS:
        check.kind, check.args = "system", words[1:]
    else:
        check.script = find_file(plugin) or program
        check.args = words[1:]
        check.warning = options.get("-w") or options.get("--warning")
        check.critical = options.get("-c") or options.get("--critical")
    return check


def count_range(text: str) -> tuple[int | None, int | None]:
    """A Nagios range as (min, max): '1:10' -> (1, 10), '1:' -> (1, None), '10' -> (0, 10)."""
    if not text or text.startswith("@"):
        return None, None  # inverted ranges alert inside; they do not bound a count
    low, colon, high = text.partition(":")
    if not colon:
        return 0, _int(low)
    return (None if low in ("", "~") else _int(low)), _int(high)


def _options(words: list[str]) -> dict[str, str]:
    """-p 8080, -p8080, --port=8080 and --port 8080 alike; flags map to ''."""
    options: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-") or len(word) < 2:
            continue
        if word.startswith("--") and "=" in word:
            key, _, value = word.partition("=")
            options[key] = value
        elif not word.startswith("--") and len(word) > 2:
            options[word[:2]] = word[2:]
        elif index < len(words) and not re.match(r"^-[A-Za-z-]", words[index]):
            options[word] = words[index]
            index += 1
        else:
            options[word] = ""
    return options


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None
