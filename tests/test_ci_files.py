"""Step 5's CI files, as rendered for a new service and for the migrated example: actionlint,
the CI schemas, shellcheck of every command, and the deploy path through make's dry run."""

import os
import stat
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kubestep.errors import InvalidValue
from tests.ci_tools import (
    actionlint,
    check_jsonschema,
    expected_deploy,
    kubectl_lines,
    shell_blocks,
    shellcheck,
)
from tests.legacy_repo import migrated_copy
from tests.render import VENV_BIN, generate, make

DIGEST = "sha256:" + "ab" * 32
CI_FILES = (".github/workflows/kubestep.yml", ".travis.yml")


@pytest.fixture(scope="module", params=["new", "migrated"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "new":
        return generate(folder / "shop", image="registry.example.com/team/shop")
    return migrated_copy(folder / "legacy-app", "5")


def test_ci_files_are_rendered(project: Path) -> None:
    for name in (*CI_FILES, "make/ci.mk", "kube/deployer/rbac.yaml"):
        assert (project / name).is_file(), name
    assert "AS test" in (project / "Dockerfile").read_text()


def test_the_workflow_passes_actionlint(project: Path) -> None:
    result = actionlint(project / CI_FILES[0])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 file(s), 0 problem(s)" in result.stdout


def test_actionlint_really_reports_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nosuch }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1 and "nosuch" in result.stdout


@pytest.mark.parametrize(
    ("name", "schema"), [(CI_FILES[0], "vendor.github-workflows"), (CI_FILES[1], "vendor.travis")]
)
def test_ci_files_match_their_schemas(project: Path, name: str, schema: str) -> None:
    result = check_jsonschema(schema, project / name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", CI_FILES)
def test_every_command_passes_shellcheck(project: Path, name: str) -> None:
    blocks = shell_blocks(project / name)
    assert len(blocks) >= 8
    for block in blocks:
        result = shellcheck(block)
        assert result.returncode == 0, f"{block}\n{result.stdout}"


def test_ci_files_are_yamllint_clean(project: Path) -> None:
    config = yaml.safe_dump(
        {"extends": "default", "rules": {"line-length": {"max": 120}, "document-start": "disable"}}
    )
    files = [*CI_FILES, "kube/deployer/rbac.yaml"]
    result = subprocess.run(
        [VENV_BIN / "yamllint", "--strict", "-d", config, *files],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_ci_only_calls_make_targets(project: Path) -> None:
    for name in CI_FILES:
        for block in shell_blocks(project / name):
            for command in block.replace("&&", "\n").splitlines():
                command = command.strip()
                assert command.startswith(("make ", "echo ", "export ")), (name, command)


def test_production_deploys_behind_its_environment_one_at_a_time(project: Path) -> None:
    jobs = yaml.safe_load((project / CI_FILES[0]).read_text())["jobs"]
    for env in ("staging", "production"):
        assert jobs[env]["environment"] == env
        assert jobs[env]["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
    rebuilds = [
        s
        for s in jobs["production"]["steps"]
        if {"ci", "docker_build"} & set(s.get("run", "").split())
    ]
    assert rebuilds == [], "production must deploy the digest built on the release branch"
    failure_steps = [s for s in jobs["staging"]["steps"] if s.get("if") == "failure()"]
    assert [s["run"] for s in failure_steps] == ["make status ENV=staging"]


def deployer(project: Path, namespace: str) -> list[dict]:
    text = (project / "kube/deployer/rbac.yaml").read_text().replace("__NAMESPACE__", namespace)
    return list(yaml.safe_load_all(text))


def test_the_deployer_is_namespaced_and_least_privilege(project: Path) -> None:
    objects = deployer(project, "shop-staging")
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Role", "RoleBinding"]
    for item in objects:
        kubernetes_validate.validate(item, "1.31", strict=True)
        assert item["metadata"]["namespace"] == "shop-staging"
    rules = objects[1]["rules"]
    granted = {
        (group, resource) for r in rules for group in r["apiGroups"] for resource in r["resources"]
    }
    verbs = {verb for r in rules for verb in r["verbs"]}
    assert "*" not in verbs and not any("*" in pair for pair in granted)
    assert (
        not {("", "secrets"), ("", "pods/exec"), ("rbac.authorization.k8s.io", "roles")} & granted
    )
    assert not {"escalate", "bind", "impersonate", "deletecollection"} & verbs
    deletable = {resource for r in rules if "delete" in r["verbs"] for resource in r["resources"]}
    assert not {"namespaces", "pods", "replicasets", "leases"} & deletable
    namespace_rule = next(r for r in rules if r["resources"] == ["namespaces"])
    assert namespace_rule["resourceNames"] == ["shop-staging"]


def test_deploy_applies_the_digest_through_kube_apply(project: Path) -> None:
    service = yaml.safe_load((project / ".copier-answers.yml").read_text())["service_name"]
    result = make(project, "kube_deploy", ENV="staging", TAG="abc123", DIGEST=DIGEST, DRY_RUN="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert kubectl_lines(result.stdout) == expected_deploy(project, service, "staging")
    objects = yaml.safe_load_all((project / "build/kube/staging.deploy.yaml").read_text())
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(f":abc123@{DIGEST}")


def test_deploy_without_a_digest_is_one_clear_error(project: Path) -> None:
    (project / "build/ci/image.digest").unlink(missing_ok=True)
    result = make(project, "kube_deploy", ENV="staging", DRY_RUN="1")
    assert result.returncode != 0
    assert "error: no digest to deploy" in result.stderr
    assert "kubectl" not in result.stdout


def test_deploy_refuses_an_unknown_environment(project: Path) -> None:
    result = make(project, "kube_deploy", ENV="prod", DIGEST=DIGEST, DRY_RUN="1")
    assert result.returncode != 0 and "ENV=prod is not an environment" in result.stderr


def credentials(project: Path, kubeconfig: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(project), "kube_credentials", *[f"{k}={v}" for k, v in env.items()]],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "DEPLOY_KUBECONFIG": "apiVersion: v1\n"},
    )


def test_cluster_credentials_go_to_a_private_file_outside_the_tree(
    project: Path, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "runner" / "kubeconfig"
    result = credentials(project, kubeconfig)
    assert result.returncode == 0, result.stderr
    assert kubeconfig.read_text() == "apiVersion: v1\n"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert "apiVersion" not in result.stdout, "a secret must never reach the log"
    inside = credentials(project, project / "build" / "kubeconfig")
    assert inside.returncode != 0 and "inside the work tree" in inside.stderr
    assert not (project / "build" / "kubeconfig").exists()
    empty = credentials(project, kubeconfig, KUBECONFIG_SECRET="DEPLOY_KUBECONFIG_STAGING")
    assert empty.returncode != 0 and "DEPLOY_KUBECONFIG_STAGING is empty" in empty.stderr


def test_the_release_branch_is_the_repos_own(project: Path) -> None:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    if answers["origin"] == "new":
        assert answers["release_branch"] == "main"
    else:  # the migrated example has one branch, and no CI file naming another
        branch = subprocess.run(
            ["git", "-C", str(project), "branch", "--show-current"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert answers["release_branch"] == branch
    workflow = yaml.safe_load((project / CI_FILES[0]).read_text())
    assert workflow["on"]["push"]["branches"] == [answers["release_branch"]]


@pytest.mark.parametrize("branch", ["", "-x", "a..b", "feature/", "with space", "x.lock"])
def test_a_bad_release_branch_is_refused(tmp_path: Path, branch: str) -> None:
    with pytest.raises(InvalidValue, match="is not a usable branch name"):
        generate(tmp_path / "svc", release_branch=branch)


def test_kube_deployer_writes_the_namespaced_rbac_and_applies_it(project: Path) -> None:
    service = yaml.safe_load((project / ".copier-answers.yml").read_text())["service_name"]
    result = make(project, "kube_deployer", ENV="production", DRY_RUN="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert kubectl_lines(result.stdout) == [
        "kubectl apply --filename build/kube/production.yaml"
        " --selector kubestep.dev/apply-first=true",
        "kubectl apply --filename build/kube/production.deployer.yaml",
    ]
    written = list(
        yaml.safe_load_all((project / "build/kube/production.deployer.yaml").read_text())
    )
    assert {o["metadata"]["namespace"] for o in written} == {f"{service}-production"}
