"""Migration tier: step 6 on examples/legacy-app, its legacy hosts as cluster names per
environment, its cron entry and Nagios checks in the cluster, its alerts checked by promtool."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kubestep.kube.model import load_documents
from kubestep.kube.validate import validate_manifests
from kubestep.migrate import migrate, recorded_answers
from tests.legacy_repo import git, migrated_copy
from tests.monitoring_tools import require_tools, run
from tests.render import VENV_BIN, make

ENVIRONMENTS = ("canary", "production", "staging")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example migrated with `inv migrate --step 6`: steps 1 to 4, then 6."""
    return migrated_copy(tmp_path_factory.mktemp("step6") / "legacy-app", "6")


@pytest.fixture(scope="module")
def step4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example after step 4, for the tests that change it before step 6."""
    return migrated_copy(tmp_path_factory.mktemp("step4") / "legacy-app", "4")


def objects(repo: Path, env: str) -> list[dict]:
    result = make(repo, "kube_create_config", f"ENV={env}", "TAG=1.2.3")
    assert result.returncode == 0, result.stderr
    path = repo / "build" / "kube" / f"{env}.yaml"
    return load_documents(path.read_text(), str(path))


def test_step_6_runs_the_steps_it_needs_then_itself(repo: Path) -> None:
    subjects = git(repo, "log", "--reverse", "--format=%s").splitlines()[1:]
    assert [s.split(":")[0] for s in subjects] == [f"kubestep step {n}" for n in "12346"]
    answers = recorded_answers(repo)
    assert (answers["step"], answers["keep_running"], answers["smarter"]) == (4, True, False)
    assert migrate(repo, "6", out=lambda line: None) == []  # safe to run twice


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_validates_with_its_bridge_monitoring_and_cronjobs(
    repo: Path, env: str
) -> None:
    found = objects(repo, env)
    assert validate_manifests(found) == []
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in found}
    namespace = f"legacy-app-{env}"
    for name, host in (("postgres", "db1.internal"), ("redis", "cache1.internal")):
        service = by_kind[("Service", name)]
        assert service["metadata"]["namespace"] == namespace
        assert service["spec"] == {**service["spec"], "type": "ExternalName", "externalName": host}
        assert "selector" not in service["spec"]  # the overlay's selector labels stay off it
    assert by_kind[("CronJob", "legacy-app-purge")]["spec"]["schedule"] == "*/15 * * * *"
    assert ("CronJob", "legacy-app-check-legacy-app-orders-backlog") in by_kind
    assert {"PrometheusRule", "Probe"} <= {kind for kind, _ in by_kind}
    # The CronJobs' pods are not the Service's: another name.
    app = by_kind[("Service", "legacy-app")]["spec"]["selector"]
    purge = by_kind[("CronJob", "legacy-app-purge")]["spec"]["jobTemplate"]["spec"]["template"]
    assert purge["metadata"]["labels"]["app.kubernetes.io/name"] != app["app.kubernetes.io/name"]
    image = purge["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/platform/legacy-app:1.2.3"


def test_the_config_names_the_cluster_services(repo: Path) -> None:
    for env in ENVIRONMENTS:
        text = (repo / "config" / f"{env}.ini").read_text()
        assert "host = postgres" in text and "host = redis" in text
        assert "db1.internal" in text  # kept, in the comment that says where it went
    local = (repo / "config" / "local.ini").read_text()
    assert "host = postgres" in local  # compose's service, unchanged


def test_the_generated_files_are_lint_clean(repo: Path) -> None:
    files = [*sorted((repo / "kube").rglob("*.yaml")), *sorted((repo / "monitoring").glob("*"))]
    config = "{extends: relaxed, rules: {line-length: {max: 120}}}"
    result = subprocess.run(
        [str(VENV_BIN / "yamllint"), "--strict", "-d", config, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_promtool_and_amtool_accept_the_rules_tests_and_route(repo: Path) -> None:
    require_tools()
    monitoring = repo / "monitoring"
    checked = run("promtool", "check", "rules", "alerts.yml", cwd=monitoring)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run("promtool", "test", "rules", "alerts.test.yml", cwd=monitoring)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    route = run("amtool", "check-config", "alertmanager.yml", cwd=monitoring)
    assert route.returncode == 0, route.stdout + route.stderr


def test_the_unit_tests_fail_when_a_rule_is_wrong(repo: Path, tmp_path: Path) -> None:
    require_tools()
    shutil.copy(repo / "monitoring" / "alerts.test.yml", tmp_path)
    rules = (repo / "monitoring" / "alerts.yml").read_text()
    assert "== 0" in rules
    (tmp_path / "alerts.yml").write_text(rules.replace("== 0", "== 2", 1))
    tested = run("promtool", "test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "InstanceDown" in tested.stdout + tested.stderr


def test_a_later_environment_gets_monitoring_and_a_bridge(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "legacy-app"
    shutil.copytree(repo, copy)
    assert make(copy, "kube_env", "ENV=qa").returncode == 0
    assert (copy / "kube" / "bridge" / "qa.yaml").is_file()
    assert "legacy-app-qa" in (copy / "kube" / "overlays" / "qa" / "monitoring.yaml").read_text()
    assert validate_manifests(objects(copy, "qa")) == []


def test_each_environment_bridges_its_own_hosts(step4: Path, tmp_path: Path) -> None:
    repo = shutil.copytree(step4, tmp_path / "legacy-app")
    ini = repo / "config" / "production.ini"
    ini.write_text(ini.read_text().replace("host = db1.internal", "host = 10.20.0.5"))
    git(repo, "commit", "--quiet", "--all", "--message", "production's database")
    migrate(repo, "6", out=lambda line: None)
    production = yaml.safe_load_all((repo / "kube" / "bridge" / "production.yaml").read_text())
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in production}
    assert by_kind[("Service", "postgres")]["spec"]["type"] == "ClusterIP"
    slice_ = by_kind[("EndpointSlice", "postgres-legacy")]
    assert slice_["endpoints"] == [{"addresses": ["10.20.0.5"]}]
    assert "; legacy host 10.20.0.5" in ini.read_text()
    staging = (repo / "kube" / "bridge" / "staging.yaml").read_text()
    assert "externalName: db1.internal" in staging
    assert validate_manifests(objects(repo, "production")) == []


def test_a_broken_environment_config_stops_the_step_and_changes_nothing(
    step4: Path, tmp_path: Path
) -> None:
    repo = shutil.copytree(step4, tmp_path / "legacy-app")
    ini = repo / "config" / "staging.ini"
    ini.write_text("host = db1.internal\n" + ini.read_text())  # a key before any [section]
    git(repo, "commit", "--quiet", "--all", "--message", "a broken staging config")
    head = git(repo, "rev-parse", "HEAD")
    result = subprocess.run(
        [str(VENV_BIN / "inv"), "migrate", "--step", "6", "--target", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "config/staging.ini does not parse" in line and "Traceback" not in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""


def test_plus_one_after_step_6_switches_the_alerts_to_the_metrics(
    repo: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(repo, tmp_path / "legacy-app")
    migrate(copy, "+1", out=lambda line: None)
    found = objects(copy, "production")
    assert validate_manifests(found) == []
    assert "ServiceMonitor" in {o["kind"] for o in found}
    rules = yaml.safe_load((copy / "monitoring" / "alerts.yml").read_text())
    down = next(
        r
        for g in rules["groups"]
        for r in g["rules"]
        if r["alert"] == "InstanceDown" and r["labels"]["environment"] == "production"
    )
    assert down["expr"] == 'up{job="legacy-app", environment="production"} == 0'
    assert "host = postgres" in (copy / "config" / "production.ini").read_text()


def test_every_runbook_url_has_its_section_in_the_readme(repo: Path) -> None:
    readme = (repo / "README.rst").read_text()
    rules = yaml.safe_load((repo / "monitoring" / "alerts.yml").read_text())
    for rule in (r for g in rules["groups"] for r in g["rules"]):
        title = f"Alert {rule['alert']}"
        assert f"\n{title}\n{'^' * len(title)}\n" in readme, title
        assert rule["annotations"]["runbook_url"].endswith(f"#alert-{rule['alert'].lower()}")
    assert "legacy-app orders backlog" in readme  # the checks table, with what each became
