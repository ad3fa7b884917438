"""Docker tier of step 5: the generated GitHub workflow and Travis file run step by step on this
machine, against a real registry on 127.0.0.1; deploys go through kube_apply's dry run (there is
no cluster here, so no test claims a rollout)."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ci_runner import Event, Run, run_github, run_travis
from tests.ci_tools import expected_deploy, kubectl_lines
from tests.docker_helpers import docker
from tests.legacy_repo import GIT_IDENTITY, git, migrated_copy
from tests.registry import local_registry, manifest
from tests.render import VENV_BIN, generate, make

pytestmark = pytest.mark.docker

SERVICE = "cd-shop"
NAME = f"kubestep-test/{SERVICE}"
KUBECONFIG_TEXT = "apiVersion: v1\nkind: Config\n"
# kubestep and kubectl come from this checkout's venv, which is first on PATH.
SKIP_GITHUB = {"Deploy tools": "this checkout's kubestep and kubectl are on PATH"}
SKIP_TRAVIS = {"make ci_tools": "this checkout's kubestep and kubectl are on PATH"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> Iterator[str]:
    with local_registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, registry: str, base_image: str) -> Path:
    project = generate(
        tmp_path_factory.mktemp("cd") / SERVICE, image=f"{registry}/{NAME}", base_image=base_image
    )
    git(project, "init", "--quiet", "--initial-branch", "main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "A new service")
    return project


def ci_env(ca_bundle: str | None) -> dict[str, str]:
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "CA_BUNDLE": ca_bundle or "",
        "DRY_RUN": "1",
    }


def deployed_image(project: Path, env: str) -> str:
    text = (project / f"build/kube/{env}.deploy.yaml").read_text()
    return next(line.split()[-1] for line in text.splitlines() if "image: " in line)


@pytest.fixture(scope="module")
def github_push(project: Path, registry: str, ca_bundle: str | None) -> Run:
    sha = git(project, "rev-parse", "HEAD")
    return run_github(
        project,
        Event("push", "refs/heads/main", sha),
        secrets={"DEPLOY_KUBECONFIG": KUBECONFIG_TEXT},
        env=ci_env(ca_bundle),
        skip=SKIP_GITHUB,
    )


def test_a_push_to_main_builds_pushes_and_deploys_the_digest_to_staging(
    github_push: Run, project: Path, registry: str
) -> None:
    assert github_push.ok, github_push.output()[-6000:]
    assert github_push.jobs == ["build", "staging"]
    sha = git(project, "rev-parse", "HEAD")
    digest, _ = manifest(registry, NAME, sha)
    pushed = github_push.step("build", "Push the image")
    assert f"pushed {registry}/{NAME}@{digest}" in pushed.output
    deploy = github_push.step("staging", "Deploy the digest")
    assert kubectl_lines(deploy.output) == expected_deploy(project, SERVICE, "staging")
    assert deployed_image(project, "staging") == f"{registry}/{NAME}:{sha}@{digest}"
    credentials = github_push.step(
        "staging",
        "Cluster credentials",
    )
    assert credentials.returncode == 0 and "apiVersion" not in credentials.output


def test_a_tag_promotes_the_same_digest_to_production(
    github_push: Run, project: Path, registry: str, ca_bundle: str | None
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    run = run_github(
        project,
        Event("push", "refs/tags/1.0.0", sha),
        secrets={"DEPLOY_KUBECONFIG": KUBECONFIG_TEXT},
        env=ci_env(ca_bundle),
        skip=SKIP_GITHUB,
    )
    assert run.ok, run.output()[-6000:]
    assert run.jobs == ["production"]
    built, _ = manifest(registry, NAME, sha)
    released, _ = manifest(registry, NAME, "1.0.0")
    assert released == built
    deploy = run.step("production", "Deploy the digest")
    assert kubectl_lines(deploy.output) == expected_deploy(project, SERVICE, "production")
    assert deployed_image(project, "production") == f"{registry}/{NAME}:{sha}@{built}"


def test_a_tag_of_a_commit_ci_never_built_fails_without_a_rebuild(
    github_push: Run, project: Path, ca_bundle: str | None
) -> None:
    run = run_github(
        project,
        Event("push", "refs/tags/0.0.1", "0" * 40),
        secrets={"DEPLOY_KUBECONFIG": KUBECONFIG_TEXT},
        env=ci_env(ca_bundle),
        skip=SKIP_GITHUB,
    )
    assert not run.ok
    promote = run.step(
        "production",
        "Tag the image",
    )
    assert "was never pushed: tag a commit that CI built on main" in promote.output
    deploy = run.step("production", "Deploy the digest")
    assert deploy is None


def test_a_pull_request_runs_the_test_stage_and_validation(
    github_push: Run, project: Path, ca_bundle: str | None
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    run = run_github(
        project,
        Event("pull_request", "refs/pull/7/merge", sha),
        secrets={},
        env=ci_env(ca_bundle),
        skip=SKIP_GITHUB,
    )
    assert run.ok, run.output()[-6000:]
    assert run.jobs == ["test"]
    tested = run.step("test", "Lint and test")
    assert tested is not None and tested.returncode == 0 and "--target test" in tested.output
    validated = run.step("test", "Validate")
    assert validated is not None and validated.returncode == 0


def test_travis_runs_the_same_pipeline(
    github_push: Run, project: Path, registry: str, ca_bundle: str | None
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    secrets = {"DEPLOY_KUBECONFIG_STAGING": "YXBpVmVyc2lvbjogdjEK"}  # base64 of apiVersion: v1
    run = run_travis(
        project,
        Event("push", "refs/heads/main", sha),
        secrets=secrets,
        env=ci_env(ca_bundle),
        skip=SKIP_TRAVIS,
    )
    assert run.ok, run.output()[-6000:]
    assert run.jobs == ["build", "staging"]
    digest, _ = manifest(registry, NAME, sha)
    assert kubectl_lines(run.steps[1].output) == expected_deploy(project, SERVICE, "staging")
    assert f"is {registry}/{NAME}@{digest}" in run.steps[1].output
    assert deployed_image(project, "staging") == f"{registry}/{NAME}:{sha}@{digest}"


def test_a_failing_test_fails_make_ci_and_tags_no_image(
    github_push: Run, project: Path, tmp_path: Path, ca_bundle: str | None
) -> None:
    broken = tmp_path / SERVICE
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns("build"))
    (broken / "tests" / "test_broken.py").write_text(
        "def test_the_change_broke_it() -> None:\n    assert 1 + 1 == 3\n"
    )
    result = make(broken, "ci", TAG="broken", CA_BUNDLE=ca_bundle or "")
    assert result.returncode != 0
    assert "1 failed" in result.stdout and "test_the_change_broke_it" in result.stdout
    inspect = subprocess.run(
        ["docker", "image", "inspect", f"{SERVICE}-test:broken"], capture_output=True, check=False
    )
    assert inspect.returncode != 0, "a failing test stage must tag nothing"


# Last of the new service's tests: it removes the built image, which the others reuse.
def test_a_pull_by_digest_gives_the_same_image(
    github_push: Run, project: Path, registry: str
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    digest, _ = manifest(registry, NAME, sha)
    built = docker("image", "inspect", "--format", "{{.Id}}", f"{registry}/{NAME}:{sha}").strip()
    by_digest = f"{registry}/{NAME}@{digest}"
    _, document = manifest(registry, NAME, digest)
    assert document["config"]["digest"] == built  # the registry holds the image built here
    # Without the local image (every name of it), so that the pull downloads it.
    docker("image", "rm", "--force", built)
    docker("pull", "--quiet", by_digest)
    assert docker("image", "inspect", "--format", "{{.Id}}", by_digest).strip() == built


def test_the_migrated_example_runs_the_same_pipeline(
    tmp_path: Path, registry: str, base_image: str, ca_bundle: str | None
) -> None:
    """examples/legacy-app after step 5: its own tests in the test stage, push, deploy."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        repo = migrated_copy(tmp_path / "legacy-app", "5")
    sha = git(repo, "rev-parse", "HEAD")
    image = f"{registry}/kubestep-test/legacy-app"
    run = run_github(
        repo,
        Event("push", f"refs/heads/{git(repo, 'branch', '--show-current')}", sha),
        secrets={"DEPLOY_KUBECONFIG": KUBECONFIG_TEXT},
        env={**ci_env(ca_bundle), "IMAGE": image, "BASE_IMAGE": base_image},
        skip=SKIP_GITHUB,
    )
    assert run.ok, run.output()[-6000:]
    assert run.jobs == ["build", "staging"]
    digest, _ = manifest(registry, "kubestep-test/legacy-app", sha)
    deploy = run.step("staging", "Deploy the digest")
    assert deploy is not None
    assert kubectl_lines(deploy.output) == expected_deploy(repo, "legacy-app", "staging")
    assert deployed_image(repo, "staging") == f"{image}:{sha}@{digest}"
