"""Render tier: a new service has step 6 from the start (monitoring by labels, probes,
alerts with unit tests); with Consul, the catalog sync opt-in and the platform's fragments."""

from pathlib import Path

import pytest
import yaml

from kubestep.errors import InvalidValue
from kubestep.keep import consul
from kubestep.kube.custom_resources import problems
from kubestep.kube.model import load_documents
from kubestep.kube.validate import validate_manifests
from tests.monitoring_tools import require_tools, run
from tests.render import generate, make

ENVIRONMENTS = ("canary", "production", "staging")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(
        tmp_path_factory.mktemp("keep") / "shop", service_name="shop", service_discovery="consul"
    )


def objects(project: Path, env: str) -> list[dict]:
    result = make(project, "kube_create_config", f"ENV={env}", "TAG=2.0.0")
    assert result.returncode == 0, result.stderr
    path = project / "build" / "kube" / f"{env}.yaml"
    return load_documents(path.read_text(), str(path))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_is_monitored_by_its_labels(shop: Path, env: str) -> None:
    found = objects(shop, env)
    assert validate_manifests(found) == []
    by_kind = {o["kind"]: o for o in found}
    monitor = by_kind["ServiceMonitor"]
    assert monitor["metadata"]["namespace"] == f"shop-{env}"
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "shop"}
    assert monitor["spec"]["targetLabels"] == ["environment", "team"]
    service = by_kind["Service"]
    assert service["metadata"]["labels"]["environment"] == env  # what targetLabels copies
    assert service["metadata"]["annotations"]["consul.hashicorp.com/service-name"] == (
        "shop" if env == "production" else f"shop-{env}"
    )
    (group,) = by_kind["PrometheusRule"]["spec"]["groups"]
    names = {r["alert"] for r in group["rules"]}
    assert {"InstanceDown", "HighErrorRatio", "HighLatency", "ProbeFailed"} <= names
    assert all(
        f'namespace="shop-{env}"' in r["expr"] or f'environment="{env}"' in r["expr"]
        for r in group["rules"]
    )


def test_custom_resources_are_checked_against_their_crds(shop: Path) -> None:
    monitor = next(o for o in objects(shop, "staging") if o["kind"] == "ServiceMonitor")
    assert problems(monitor) == []
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    assert any("intervall" in problem for problem in problems(monitor))
    (finding,) = validate_manifests([monitor], rules=[])
    assert finding.rule == "KS100" and "intervall" in finding.message


def test_the_new_service_rules_pass_promtool(shop: Path) -> None:
    require_tools()
    monitoring = shop / "monitoring"
    for command in (
        ("promtool", "check", "rules", "alerts.yml"),
        ("promtool", "test", "rules", "alerts.test.yml"),
        ("amtool", "check-config", "alertmanager.yml"),
    ):
        result = run(*command, cwd=monitoring)
        assert result.returncode == 0, result.stdout + result.stderr


def test_consul_gets_the_platform_fragments(shop: Path) -> None:
    values = yaml.safe_load((shop / "platform" / "consul-sync-values.yaml").read_text())
    sync = values["syncCatalog"]
    assert (sync["enabled"], sync["toConsul"], sync["toK8S"], sync["default"]) == (
        True,
        True,
        True,
        False,
    )
    assert sorted(sync["k8sAllowNamespaces"]) == [f"shop-{env}" for env in ENVIRONMENTS]
    assert "consul:53 {" in (shop / "platform" / "coredns-consul.conf").read_text()
    assert "Consul\n~~~~~~" in (shop / "README.rst").read_text()


def test_without_consul_there_is_no_platform_directory(tmp_path: Path) -> None:
    project = generate(tmp_path / "plain", service_name="plain")
    assert not (project / "platform").exists()
    assert "consul" not in (project / "kube" / "base" / "service.yaml").read_text()
    readme = (project / "README.rst").read_text()
    assert "Alert InstanceDown\n^^^^" in readme  # the runbook the alerts point at


def test_consul_is_found_in_a_legacy_config() -> None:
    legacy = {"example_config": {"database": {"host": "db.service.consul"}}}
    assert consul.found({"origin": "legacy", "legacy": legacy})
    assert not consul.found(
        {"origin": "legacy", "legacy": {"example_config": {"db": {"host": "db1"}}}}
    )
    assert consul.found({"origin": "legacy", "legacy": {"system_packages": ["consul"]}})


def test_a_repository_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidValue, match=r"'ftp://git\.example\.com/shop' is not an http\(s\) URL"
    ):
        generate(
            tmp_path / "shop", service_name="shop", repository_url="ftp://git.example.com/shop"
        )
    assert not (tmp_path / "shop").exists() or not any((tmp_path / "shop").iterdir())
