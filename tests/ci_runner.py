"""Run a generated project's CI files on this machine: the shell steps of a GitHub workflow or a
Travis file, in order, with the environment variables each CI sets.

No CI service is imitated beyond that: `uses:` actions are not run (the project directory is
the checkout), and a step the test names in `skip` is reported as skipped with its reason.
Expressions and conditions outside the small subset the generated files use are an error, so
a change to the files that this runner cannot follow fails loudly instead of passing.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GITHUB_SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*))"
)
_FUNCTIONS = {"startsWith", "endsWith", "contains", "failure", "success", "always", "cancelled"}


@dataclass(frozen=True)
class Event:
    """What triggered the run: push or pull_request, the git ref and commit."""

    name: str
    ref: str
    sha: str

    @property
    def ref_name(self) -> str:
        return self.ref.split("/", 2)[-1]

    @property
    def tag(self) -> str:
        return self.ref_name if self.ref.startswith("refs/tags/") else ""


@dataclass
class StepRun:
    job: str
    name: str
    command: str
    returncode: int | None
    output: str = ""
    skipped: str = ""


@dataclass
class Run:
    steps: list[StepRun] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.returncode in (0, None) for step in self.steps)

    def step(self, job: str, name: str) -> StepRun | None:
        """The job's step whose name starts with name, or None when it did not run."""
        return next((s for s in self.steps if s.job == job and s.name.startswith(name)), None)

    def output(self) -> str:
        return "\n".join(f"--- {s.job}: {s.name}\n{s.output}" for s in self.steps)


def evaluate(expression: str, context: dict[str, Any], failed: bool = False) -> Any:
    """A GitHub Actions expression: context paths, 'strings', == != && || !, a few functions."""
    python: list[str] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"the runner cannot read {expression!r} at {position}")
        position = match.end()
        if match["string"] is not None:
            python.append(repr(match["string"][1:-1]))
        elif match["op"]:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        elif match["name"] in _FUNCTIONS:
            python.append(f"_{match['name']}")
        else:
            python.append(repr(_lookup(context, match["name"])))
    functions = {
        "_startsWith": lambda text, prefix: str(text).startswith(prefix),
        "_endsWith": lambda text, suffix: str(text).endswith(suffix),
        "_contains": lambda text, part: part in text,
        "_failure": lambda: failed,
        "_success": lambda: not failed,
        "_always": lambda: True,
        "_cancelled": lambda: False,
    }
    # Only the tokens above reach eval: context values are repr()-quoted literals.
    return eval("".join(python), {"__builtins__": {}}, functions)


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if path.startswith("secrets.") and part not in value:
            return ""  # GitHub gives an unset secret as ''
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"the runner knows no {path!r} (at {part!r})")
        value = value[part]
    return value


def substitute(text: str, context: dict[str, Any]) -> str:
    return _EXPRESSION.sub(lambda match: str(evaluate(match[1], context)), text)


def _read_pairs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {key: value for key, value in pairs}


def run_github(
    project: Path,
    event: Event,
    *,
    secrets: dict[str, str],
    env: dict[str, str],
    skip: dict[str, str],
    workflow: str = ".github/workflows/kubestep.yml",
) -> Run:
    """Every job whose `if:` holds for event, in file order (needs are earlier jobs)."""
    data = yaml.safe_load((project / workflow).read_text())
    triggers = data.get("on", data.get(True))
    if event.name not in triggers:
        raise ValueError(f"{workflow} does not run on {event.name}")
    github = {
        "sha": event.sha,
        "ref": event.ref,
        "ref_name": event.ref_name,
        "event_name": event.name,
        "workspace": str(project),
    }
    context: dict[str, Any] = {"github": github, "secrets": secrets, "needs": {}}
    run = Run()
    for job_id, job in data["jobs"].items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if any(need not in context["needs"] for need in needs):
            continue  # a job it needs was skipped or failed
        if "if" in job and not evaluate(job["if"], context):
            continue
        run.jobs.append(job_id)
        outputs = _run_github_job(project, job_id, job, data, event, context, env, skip, run)
        if outputs is not None:
            context["needs"][job_id] = {"outputs": outputs, "result": "success"}
    return run


def _run_github_job(
    project: Path,
    job_id: str,
    job: dict[str, Any],
    data: dict[str, Any],
    event: Event,
    context: dict[str, Any],
    env: dict[str, str],
    skip: dict[str, str],
    run: Run,
) -> dict[str, str] | None:
    """Run the job's steps; its outputs, or None when it failed."""
    with tempfile.TemporaryDirectory(prefix=f"runner-{job_id}-") as temp:
        runner = Path(temp)
        context = {**context, "runner": {"temp": str(runner / "tmp")}, "steps": {}}
        (runner / "tmp").mkdir()
        job_env = {
            **os.environ,
            **env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_SHA": event.sha,
            "GITHUB_REF": event.ref,
            "GITHUB_REF_NAME": event.ref_name,
            "GITHUB_EVENT_NAME": event.name,
            "GITHUB_WORKSPACE": str(project),
            "RUNNER_TEMP": str(runner / "tmp"),
        }
        for scope in (data.get("env") or {}, job.get("env") or {}):
            job_env.update({key: substitute(str(value), context) for key, value in scope.items()})
        failed = False
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "").split("\n")[0]
            condition = step.get("if", "success()")
            if not evaluate(condition, context, failed):
                continue
            if "uses" in step:
                run.steps.append(StepRun(job_id, name, step["uses"], None, skipped="an action"))
                continue
            if name in skip:
                run.steps.append(StepRun(job_id, name, step["run"], None, skipped=skip[name]))
                continue
            files = {key: runner / f"{key}-{number}" for key in ("output", "env", "path")}
            step_env = {
                **job_env,
                "GITHUB_OUTPUT": str(files["output"]),
                "GITHUB_ENV": str(files["env"]),
                "GITHUB_PATH": str(files["path"]),
            }
            step_env.update(
                {
                    key: substitute(str(value), context)
                    for key, value in (step.get("env") or {}).items()
                }
            )
            script = runner / f"step-{number}.sh"
            script.write_text(substitute(step["run"], context))
            result = subprocess.run(
                [*GITHUB_SHELL, str(script)],
                cwd=project,
                env=step_env,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            run.steps.append(
                StepRun(job_id, name, step["run"], result.returncode, result.stdout + result.stderr)
            )
            failed = failed or result.returncode != 0
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": _read_pairs(files["output"])}
            job_env.update(_read_pairs(files["env"]))
            if files["path"].exists():
                added = files["path"].read_text().split()
                job_env["PATH"] = os.pathsep.join([*added, job_env["PATH"]])
        if failed:
            return None
        outputs = job.get("outputs") or {}
        return {key: substitute(str(value), context) for key, value in outputs.items()}


def travis_condition(condition: str, event: Event) -> bool:
    """A Travis `if:` made of `type = X`, `branch = X`, `tag IS present|blank` and AND."""
    values = {
        "type": "pull_request" if event.name == "pull_request" else "push",
        "branch": event.ref_name,
        "tag": event.tag,
    }
    result = True
    for term in condition.split(" AND "):
        words = term.split()
        if len(words) == 3 and words[1] == "=" and words[0] in values:
            result = result and values[words[0]] == words[2]
        elif len(words) == 3 and words[1] == "IS" and words[0] in values:
            present = bool(values[words[0]])
            result = result and (present if words[2] == "present" else not present)
        else:
            raise ValueError(f"the runner cannot read the Travis condition {condition!r}")
    return result


def run_travis(
    project: Path,
    event: Event,
    *,
    secrets: dict[str, str],
    env: dict[str, str],
    skip: dict[str, str],
) -> Run:
    """Every stage whose `if:` holds, in order; each job as Travis runs it, in one shell."""
    data = yaml.safe_load((project / ".travis.yml").read_text())
    stages = [stage["name"] for stage in data["stages"] if travis_condition(stage["if"], event)]
    run = Run()
    for stage in stages:
        for job in data["jobs"]["include"]:
            if job["stage"] == stage:
                run.jobs.append(stage)
                run.steps.append(
                    _run_travis_job(project, stage, job, data, event, secrets, env, skip)
                )
                if run.steps[-1].returncode != 0:
                    return run  # a failed stage stops the build
    return run


def _run_travis_job(
    project: Path,
    stage: str,
    job: dict[str, Any],
    data: dict[str, Any],
    event: Event,
    secrets: dict[str, str],
    env: dict[str, str],
    skip: dict[str, str],
) -> StepRun:
    def phase(name: str) -> list[str]:
        value = job.get(name, data.get(name, []))
        return [value] if isinstance(value, str) else list(value)

    lines = ["travis_failed=0"]
    lines += [f"export {assignment}" for assignment in data["env"]["global"]]
    for command in phase("install"):
        if command in skip:
            lines.append("echo " + shlex.quote(f"skipped {command}: {skip[command]}"))
        else:
            lines.append(f"{command} || exit 100")
    lines += [f"{command} || travis_failed=1" for command in phase("script")]
    lines.append('if [ "$travis_failed" != 0 ]; then')
    lines += [f"  {command}" for command in phase("after_failure")] or ["  true"]
    lines.append("fi")
    lines.append('exit "$travis_failed"')
    with tempfile.TemporaryDirectory(prefix=f"travis-{stage}-") as home:
        travis_env = {
            **os.environ,
            **env,
            **secrets,
            "HOME": home,
            "CI": "true",
            "TRAVIS": "true",
            "TRAVIS_BUILD_DIR": str(project),
            "TRAVIS_COMMIT": event.sha,
            "TRAVIS_BRANCH": event.ref_name,
            "TRAVIS_TAG": event.tag,
            "TRAVIS_EVENT_TYPE": "pull_request" if event.name == "pull_request" else "push",
            "TRAVIS_PULL_REQUEST": "1" if event.name == "pull_request" else "false",
        }
        # Docker's client config stays where the machine has it.
        travis_env.setdefault(
            "DOCKER_CONFIG", str(Path(os.environ.get("HOME", "/root")) / ".docker")
        )
        result = subprocess.run(
            ["bash", "-c", "\n".join(lines)],
            cwd=project,
            env=travis_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    return StepRun(stage, stage, "\n".join(lines), result.returncode, result.stdout + result.stderr)
