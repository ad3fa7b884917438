"""CI pipelines the repo already has (GitHub Actions, Travis, GitLab CI, Jenkins).

Step 5 keeps them and puts kubestep's jobs beside them; what they know (the branches they
build, the commands that test, the secrets they use) is recorded here with its source, so that
a reviewer can carry it over and step 5 can tell which branch releases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from kubestep.inventory.model import CiFile, Evidence, Inventory
from kubestep.inventory.tree import SourceTree, at, line_of

SYSTEMS = {
    ".github/workflows/*.yml": "github-actions",
    ".github/workflows/*.yaml": "github-actions",
    ".travis.yml": "travis",
    ".gitlab-ci.yml": "gitlab-ci",
    "Jenkinsfile": "jenkins",
}
# Commands that run a test suite, whatever the tool.
_TEST_COMMAND = re.compile(
    r"\b(pytest|py\.test|tox|nox|unittest|nosetests|make\s+(\S+\s+)*(test|check)\b"
    r"|manage\.py\s+test|npm\s+(run\s+)?test)"
)
_GITHUB_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")
# A variable a script reads whose name says it holds a credential.
_SECRET_VARIABLE = re.compile(
    r"\$\{?([A-Z][A-Z0-9_]*(?:PASSWORD|PASS|TOKEN|SECRET|KEY|CREDENTIALS|USERNAME|USER)[A-Z0-9_]*)"
)
_JENKINS_CREDENTIALS = re.compile(r"""credentials(?:Id)?\s*[:(]\s*['"]([^'"]+)['"]""")
_JENKINS_SH = re.compile(r"""\bsh\s*(?:\(\s*)?(?:script:\s*)?(['"]{1,3})(.+?)\1""")
_JENKINS_BRANCH = re.compile(r"""\bbranch\s+['"]([^'"*]+)['"]""")
_GITLAB_BRANCH = re.compile(r"""\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*==\s*['"]([^'"]+)['"]""")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    paths = [
        rel
        for rel in tree.matching(*SYSTEMS)
        if "/" not in rel or rel.startswith(".github/workflows/")
    ]
    return tree.per_file(paths, parse)


def system_of(rel: str) -> str:
    if rel.startswith(".github/"):
        return "github-actions"
    return SYSTEMS[rel.rsplit("/", 1)[-1]]


def parse(rel: str, text: str) -> Inventory:
    found = Inventory()
    system = system_of(rel)
    if system == "jenkins":
        commands = [match[2] for match in _JENKINS_SH.finditer(text)]
        branches = _JENKINS_BRANCH.findall(text)
        secrets = _JENKINS_CREDENTIALS.findall(text)
    else:
        data = yaml.load(text, Loader=_OnIsAKey)
        if not isinstance(data, dict):
            found.warn(at(rel, 1), "not a CI pipeline: the file is not a YAML mapping")
            return found
        commands = list(_commands(data, system))
        branches = _branches(data, system, text)
        secrets = _GITHUB_SECRET.findall(text) if system == "github-actions" else []
    secrets += [name for command in commands for name in _SECRET_VARIABLE.findall(command)]
    found.ci_files.append(
        CiFile(
            path=rel,
            system=system,
            source=at(rel, 1),
            branches=_unique(b for b in branches if "*" not in b),
            test_commands=[
                Evidence(value=command, source=at(rel, line_of(text, command.split("\n")[0])))
                for command in _unique(commands)
                if _TEST_COMMAND.search(command)
            ],
            secrets=[
                Evidence(value=name, source=at(rel, line_of(text, name)))
                for name in _unique(secrets)
            ],
        )
    )
    return found


class _OnIsAKey(yaml.SafeLoader):
    """YAML 1.1 reads `on:` as True; CI files mean the key 'on'."""


_OnIsAKey.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _commands(data: dict[str, Any], system: str) -> Iterable[str]:
    """Every shell command the pipeline runs, in file order."""
    if system == "github-actions":
        for job in (data.get("jobs") or {}).values():
            for step in (job or {}).get("steps") or []:
                if isinstance(step, dict) and isinstance(step.get("run"), str):
                    yield step["run"].strip()
        return
    phases: tuple[str, ...] = (
        "before_install",
        "install",
        "before_script",
        "script",
        "after_success",
        "deploy",
    )
    if system == "gitlab-ci":
        phases = ("before_script", "script", "after_script")
    sections = [data, *[job for job in _jobs(data, system) if isinstance(job, dict)]]
    for section in sections:
        for phase in phases:
            value = section.get(phase)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield item.strip()


def _jobs(data: dict[str, Any], system: str) -> list[Any]:
    if system == "travis":
        jobs = data.get("jobs") or data.get("matrix") or {}
        return list(jobs.get("include") or []) if isinstance(jobs, dict) else []
    return [
        value for key, value in data.items() if not key.startswith(".") and isinstance(value, dict)
    ]


def _branches(data: dict[str, Any], system: str, text: str) -> list[str]:
    """The branches the pipeline builds or deploys from, as the file names them."""
    if system == "github-actions":
        on = data.get("on")
        events = on if isinstance(on, dict) else {}
        names: list[str] = []
        for event in ("push", "pull_request"):
            settings = events.get(event)
            if isinstance(settings, dict):
                names += [str(name) for name in settings.get("branches") or []]
        return names
    if system == "travis":
        branches = data.get("branches")
        only = branches.get("only") if isinstance(branches, dict) else None
        return [str(name) for name in only or []]
    names = _GITLAB_BRANCH.findall(text)
    for job in _jobs(data, system):
        only = job.get("only") if isinstance(job, dict) else None
        if isinstance(only, list):
            names += [str(name) for name in only if name not in ("merge_requests", "tags")]
    return names


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
