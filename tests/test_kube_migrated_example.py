"""Step 4 on the migrated example: its manifests validate in every environment, carry the
legacy INI file as a ConfigMap without its secrets, and probe what Nagios checked."""

import os
import shutil
from pathlib import Path

import pytest

from kubestep.kube.model import load_documents
from kubestep.kube.validate import validate_target
from tests.legacy_repo import git, migrated_copy
from tests.render import make

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "kube"
REGENERATE = os.environ.get("KUBESTEP_REGENERATE_GOLDEN") == "1"
ENVIRONMENTS = ["canary", "production", "staging"]
INI = "/etc/legacy-app/legacy-app.ini"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = migrated_copy(tmp_path_factory.mktemp("kube") / "legacy-app", "4")
    for name in ENVIRONMENTS:
        result = make(repo, "kube_create_config", f"ENV={name}", "TAG=1.4.2")
        assert result.returncode == 0, result.stderr
    return repo


def objects(project: Path, env: str) -> dict[str, dict]:
    path = project / "build" / "kube" / f"{env}.yaml"
    return {
        f"{o['kind']}/{o['metadata']['name']}": o for o in load_documents(path.read_text(), env)
    }


def test_make_validate_passes_for_every_environment(project: Path) -> None:
    result = make(project, "validate", "TAG=1.4.2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s); schemas of Kubernetes 1.29 to" in result.stdout
    assert all(findings == [] for findings in validate_target(project).values())


def test_step_4_wrote_an_overlay_and_config_per_environment(project: Path) -> None:
    for env in ENVIRONMENTS:
        assert (project / "kube" / "overlays" / env / "kustomization.yaml").is_file()
        assert (project / "config" / f"{env}.env").is_file()
        assert (project / "config" / f"{env}.ini").is_file()
    assert git(project, "status", "--porcelain") == ""
    assert "build/" in (project / ".gitignore").read_text()
    assert "kube/deploy/__main__.py" in git(project, "ls-files", "kube/deploy").splitlines()


def test_kube_apply_plans_the_deploy_of_the_migrated_service(project: Path) -> None:
    result = make(project, "kube_apply", "ENV=staging", "TAG=1.4.2", "DRY_RUN=1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kubectl apply --filename build/kube/staging.deploy.yaml" in result.stdout.splitlines()
    assert "kubectl get lease legacy-app-deploy --namespace legacy-app-staging" in result.stdout


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_legacy_ini_is_mounted_from_a_configmap_without_secrets(
    project: Path, env: str
) -> None:
    found = objects(project, env)
    deployment = found["Deployment/legacy-app"]
    pod = deployment["spec"]["template"]["spec"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == INI)
    assert mount == {
        "mountPath": INI,
        "name": "config-file",
        "readOnly": True,
        "subPath": "legacy-app.ini",
    }
    volume = next(v for v in pod["volumes"] if v["name"] == "config-file")
    configmap = found[f"ConfigMap/{volume['configMap']['name']}"]
    ini = configmap["data"]["legacy-app.ini"]
    assert "\nhost = db1.internal\n" in ini and "\nmax_age_days = 30\n" in ini
    assert "\npassword =\n" in ini and "changeme" not in ini
    assert configmap["metadata"]["namespace"] == f"legacy-app-{env}"
    assert pod["securityContext"]["runAsUser"] == 990


def test_probes_follow_the_nagios_check_and_liveness_spares_the_database(project: Path) -> None:
    container = objects(project, "staging")["Deployment/legacy-app"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/status", "port": "http"}
    # /status checks PostgreSQL and Redis: as liveness, an outage would restart every pod.
    assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
    assert container["startupProbe"]["tcpSocket"] == {"port": "http"}
    assert container["ports"] == [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]
    assert container["image"] == "registry.example.com/platform/legacy-app:1.4.2"


def test_staging_matches_the_golden_file(project: Path) -> None:
    rendered = (project / "build" / "kube" / "staging.yaml").read_text()
    golden = GOLDEN / "legacy-app-staging.yaml"
    if REGENERATE:
        golden.write_text(rendered)
    assert rendered == golden.read_text(), "regenerate with KUBESTEP_REGENERATE_GOLDEN=1"


def test_a_changed_ini_renames_the_configmap_so_pods_roll(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "legacy-app"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build"))

    def configmap_name() -> str:
        assert make(copy, "kube_create_config", "ENV=staging", "TAG=1").returncode == 0
        volumes = objects(copy, "staging")["Deployment/legacy-app"]["spec"]["template"]["spec"][
            "volumes"
        ]
        return next(v["configMap"]["name"] for v in volumes if v["name"] == "config-file")

    before = configmap_name()
    ini = copy / "config" / "staging.ini"
    ini.write_text(ini.read_text().replace("host = db1.internal", "host = db-staging.internal"))
    assert configmap_name() != before


def test_a_password_written_into_the_ini_fails_validation(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "legacy-app"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build"))
    ini = copy / "config" / "staging.ini"
    ini.write_text(ini.read_text().replace("\npassword =\n", "\npassword = hunter2\n"))
    result = make(copy, "validate", "ENV=staging")
    assert result.returncode != 0
    assert "KS013" in result.stdout and "key 'password' names a secret" in result.stdout
