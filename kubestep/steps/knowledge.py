"""Step 2, get back the knowledge: from what Puppet, Chef, the old boxes and Nagios knew to a
Dockerfile, a README "Operations" section and runnable checks, because that knowledge lives
nowhere else and the container must carry it."""

import shlex
from pathlib import Path
from typing import Any

from kubestep.decide import base_image_for
from kubestep.errors import StepError
from kubestep.jinja_ext import k8s_slug
from kubestep.merge import Change
from kubestep.steps import Answers, Step
from kubestep.steps.adopt import adopt_dockerfile, note_ignored_runtime_files

_HEADER = (
    "#!/bin/sh\n"
    "# From Nagios: {name} ({source}). Exit codes as Nagios: 0 OK, 1 WARNING, 2 CRITICAL.\n"
)


def _runner(kind: str, options: dict[str, Any]) -> str:
    flags = " ".join(
        f"--{key} {shlex.quote(str(value))}"
        for key, value in options.items()
        if value not in (None, "")
    )
    return f'exec python3 "$(dirname "$0")/run_check.py" {kind} {flags} "$@"\n'


def check_script(check: dict[str, Any]) -> str:
    """A runnable script for one Nagios-derived check."""
    header = _HEADER.format(name=check.get("name", check["kind"]), source=check.get("source", "?"))
    kind = check["kind"]
    if kind == "http":
        return header + _runner(
            "http",
            {
                "port": check.get("port"),
                "path": check.get("path"),
                "expect": check.get("expect_status"),
            },
        )
    if kind == "process":
        return header + _runner(
            "process",
            {"name": check.get("process"), "min": check.get("min"), "max": check.get("max")},
        )
    if kind == "disk":
        return header + _runner(
            "disk",
            {
                "path": check.get("path"),
                "warning": check.get("warning"),
                "critical": check.get("critical"),
            },
        )
    arguments = " ".join(shlex.quote(str(arg)) for arg in check.get("args", []))
    script = shlex.quote(check.get("script", ""))
    return header + f'cd "$(dirname "$0")/.." && exec ./{script} {arguments} "$@"\n'.replace(
        "  ", " "
    )


def check_files(answers: Answers) -> dict[str, str]:
    """checks/<name>: one executable script per check the inventory found."""
    files = {}
    for check in answers.get("legacy", {}).get("checks", []):
        if check.get("kind") == "custom" and not check.get("script"):
            continue
        files[f"checks/{k8s_slug(check.get('name') or check['kind'])}"] = check_script(check)
    return files


def require_decisions(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    """Stop before a Dockerfile starts a guess: the web process must be decided or answered."""
    legacy = answers.get("legacy", {})
    python2 = [f for f in legacy.get("python2_files", []) if not f["source"].startswith("fabfile")]
    app_file = legacy.get("app", "").split(":")[0].replace(".", "/")
    pinned = legacy.get("python", {})
    if str(pinned.get("version", "")).startswith("2."):
        raise StepError(
            f"the repo pins Python {pinned['version']} ({pinned.get('source')}): kubestep's images "
            "run Python 3; port the code first (e.g. with 2to3 or pyupgrade), then rerun"
        )
    files = {f["source"].rsplit(":", 1)[0] for f in python2}
    if len(files) >= 2 or (app_file and any(f["source"].startswith(app_file) for f in python2)):
        where = ", ".join(f"{item['source']} ({item['value']})" for item in python2[:2])
        raise StepError(
            f"the code is Python 2 ({len(files)} files, e.g. {where}): kubestep's images "
            "run Python 3.11; port it first (e.g. with 2to3 or pyupgrade), then rerun"
        )
    removals = legacy.get("unbuildable_removals", [])
    gone = legacy.get("python_removals", [])
    if removals or gone:  # before the pins: raising one would not serve this code
        version = pinned.get("version", "3.11")
        older = base_image_for(legacy.get("newest_python_with") or "3.9")
        raise StepError(
            f"the code needs a release older than Python {version} runs: "
            f"{'; '.join([*removals, *gone])}; port those imports (the release notes name what "
            f"replaced them), or answer with `inv migrate ... --set base_image={older}` (an "
            "older Python)"
        )
    pins = legacy.get("incompatible_pins", [])
    if pins:
        raise StepError(
            f"the requirements pin {'; '.join(pins)}: kubestep's image runs Python 3.11, "
            "so the build would fail; change the pin, or answer with `inv migrate ... --set "
            "base_image=python:3.9-slim-bookworm` (an older Python) or `--set "
            "requirements=FILE` (a file whose pins build)"
        )
    if not legacy.get("start_argv"):
        question = legacy.get("start", {}).get("question", "")
        if not legacy.get("app") and "no command" in question:
            raise StepError(
                f"no web service found in {target} (looked at: Procfile, systemd, upstart and "
                "supervisor units, uwsgi/gunicorn/PasteDeploy configs, Dockerfiles, compose "
                "files, Puppet, Chef, Ansible, scripts, Makefile, README, Python code); if it "
                "has one, answer "
                "with `inv migrate ... --set start_command='...'`"
            )
        raise StepError(question or "kubestep cannot decide start_command")
    if legacy.get("port_question"):
        raise StepError(legacy["port_question"])
    changes = note_ignored_runtime_files(changes, target, answers)
    return adopt_dockerfile(changes, target, answers)


STEP = Step(
    number=2,
    label="2",
    title="get back the knowledge: Dockerfile, checks/, README Operations",
    adds=[
        "Dockerfile from the inventory: system packages from Puppet/Chef, the service user "
        "with its uid, the real start command; .dockerignore",
        "checks/: each Nagios check as a runnable script (later probes and alerts)",
        "README 'Operations': cron jobs, users and files the old boxes had, and where they went",
    ],
    extra_files=check_files,
    adjust=require_decisions,
)
