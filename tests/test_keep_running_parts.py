"""Step 6's builders on their own: legacy hosts to cluster names, cron entries to CronJobs,
Nagios checks to probes, alerts and CronJobs, alerts to promtool unit tests."""

from pathlib import Path

import pytest
import yaml

from kubestep.answers import answers_from_inventory
from kubestep.inventory import collect
from kubestep.keep import alerts, bridge, checks, cron, files
from kubestep.kube.custom_resources import CRDS
from kubestep.paths import EXAMPLE


def example_answers() -> dict:
    answers = answers_from_inventory(collect(EXAMPLE).to_dict(), 4)
    return {
        **answers,
        "keep_running": True,
        "team": "shop-team",
        "image": "registry.example.com/shop-team/legacy-app",
        "environments": ["staging", "production"],
        "repository_url": "https://git.example.com/shop-team/legacy-app/-/blob/main",
    }


def test_a_dns_name_becomes_an_external_name_and_an_ip_a_service_with_endpoints() -> None:
    found = bridge.targets(
        {
            "database": {"host": "db1.internal", "port": "5433"},
            "cache": {"host": "10.0.0.7"},
            "billing": {"url": "https://billing.corp.example:8443/api"},
            "local": {"host": "localhost"},
            "server": {"port": "8080"},
        },
        [{"kind": "postgres", "section": "database"}, {"kind": "redis", "section": "cache"}],
        "legacy-app",
    )
    assert [(t.name, t.host, t.port) for t in found] == [
        ("postgres", "db1.internal", 5433),
        ("redis", "10.0.0.7", 6379),
        ("billing", "billing.corp.example", 8443),
    ]
    objs = bridge.objects(found, "legacy-app", "shop-team", "legacy-app-staging")
    kinds = [(o["kind"], o["metadata"]["name"], o["spec"].get("type")) for o in objs if "spec" in o]
    assert kinds == [
        ("Service", "postgres", "ExternalName"),
        ("Service", "redis", "ClusterIP"),
        ("Service", "billing", "ExternalName"),
    ]
    (slice_,) = [o for o in objs if o["kind"] == "EndpointSlice"]
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "redis"
    assert slice_["endpoints"] == [{"addresses": ["10.0.0.7"]}]
    assert slice_["ports"][0]["name"] == objs[1]["spec"]["ports"][0]["name"]
    assert "selector" not in objs[1]["spec"]
    (warning,) = bridge.warnings(found)
    assert "Host: billing" in warning and "billing.corp.example" in warning


def test_a_name_that_clashes_with_the_service_gets_a_prefix() -> None:
    found = bridge.targets({"shop": {"host": "shop1.internal"}}, [], "shop")
    assert [t.name for t in found] == ["legacy-shop"]


def test_the_config_names_the_cluster_services_and_keeps_every_other_line() -> None:
    text = "; my notes\n[database]\nhost = db1.internal\nport = 5432\n[api]\nurl = http://api.corp:81/v1\n"
    found = bridge.targets(
        {"database": {"host": "db1.internal"}, "api": {"url": "http://api.corp:81/v1"}},
        [{"kind": "postgres", "section": "database"}],
        "app",
    )
    result = bridge.repoint_ini(text, found, "in app-staging")
    assert result.splitlines() == [
        "; my notes",
        "[database]",
        "; legacy host db1.internal: the Service postgres in app-staging",
        "host = postgres",
        "port = 5432",
        "[api]",
        "; legacy host api.corp: the Service api in app-staging",
        "url = http://api:81/v1",
    ]


def test_the_example_cron_entries_are_one_cronjob() -> None:
    legacy = example_answers()["legacy"]
    assert len(legacy["cron_jobs"]) == 3  # the crontab, Puppet and Chef
    (entry,) = cron.entries(legacy["cron_jobs"], "legacy-app")
    assert (entry.name, entry.schedule) == ("legacy-app-purge", "*/15 * * * *")
    assert entry.command == ["python", "-m", "legacy_app.purge"]
    assert len(entry.sources) == 3


def test_a_shell_command_keeps_its_shell() -> None:
    (entry,) = cron.entries(
        [{"schedule": "0 3 * * *", "command": "cd /opt/x && ./backup.sh | gzip > /dev/null"}], "x"
    )
    assert entry.command[:2] == ["sh", "-c"] and entry.name == "x-backup"


def test_each_example_check_has_a_translation_with_its_reason() -> None:
    found = files.translations(example_answers())
    became = {t.name: t.became for t in found}
    assert len(found) == 4
    assert "Probe (http_2xx)" in became["legacy-app HTTP /status"]
    assert "NoReadyPods" in became["legacy-app gunicorn processes"]
    assert "DiskSpaceLow" in became["/var/log disk space"]
    assert "CronJob" in became["legacy-app orders backlog"]
    assert all(t.reason for t in found)


def test_the_custom_check_cronjob_reaches_the_bridged_database() -> None:
    answers = example_answers()
    jobs = {name: (schedule, command) for name, schedule, command, _ in files.job_entries(answers)}
    assert jobs["legacy-app-check-legacy-app-orders-backlog"] == (
        "*/5 * * * *",
        ["checks/legacy-app-orders-backlog", "-H", "postgres"],
    )
    (cronjob,) = [
        d
        for d in yaml.safe_load_all(files.jobs(answers))
        if d["metadata"]["name"] == "legacy-app-purge"
    ]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/shop-team/legacy-app:unreleased"
    assert pod["securityContext"]["runAsUser"] == 990  # the legacy user, as the Deployment


def test_every_alert_carries_severity_team_and_a_runbook() -> None:
    answers = example_answers()
    service = alerts.service_of(answers)
    rules = [r for g in alerts.rule_file(service)["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= {
        "InstanceDown",
        "CrashLooping",
        "ReplicasMismatch",
        "RolloutStuck",
        "NoReadyPods",
        "DiskSpaceLow",
        "JobFailed",
    }
    for r in rules:
        assert r["labels"]["team"] == "shop-team" and r["labels"]["severity"] in ("page", "warning")
        assert r["annotations"]["runbook_url"].startswith(
            "https://git.example.com/shop-team/legacy-app/-/blob/main/README.rst#alert-"
        )
    down = {r["labels"]["environment"]: r for r in rules if r["alert"] == "InstanceDown"}
    assert (down["production"]["labels"]["severity"], down["production"]["for"]) == ("page", "4m")
    assert down["staging"]["labels"]["severity"] == "warning"
    # Before +1 there is no /metrics: the status check's probe tells whether it is up.
    assert down["production"]["expr"].startswith("probe_success{")


def test_after_plus_one_the_alerts_use_the_metrics() -> None:
    service = alerts.service_of({**example_answers(), "smarter": True})
    names = [a.name for a in alerts.alerts_for(service, "production")]
    assert "HighErrorRatio" in names and "HighLatency" in names
    assert alerts.instance_down(service, "production").expr == (
        'up{job="legacy-app", environment="production"} == 0'
    )


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    service = alerts.service_of(example_answers())
    tests = alerts.unit_tests(service, "alerts.yml")["tests"]
    rules = alerts.rule_file(service)["groups"]
    assert len(tests) == 2 * sum(len(g["rules"]) for g in rules)


def test_the_route_pages_only_for_severity_page() -> None:
    config = alerts.alertmanager_config(alerts.service_of(example_answers()))
    pager, chat = config["route"]["routes"]
    assert pager["matchers"] == ['team="shop-team"', 'severity="page"']
    assert pager["receiver"] == "shop-team-pager" and chat["receiver"] == "shop-team-chat"
    text = yaml.safe_dump(config)
    assert "routing_key_file" in text and "routing_key:" not in text  # never a key in the repo


def test_probes_target_the_service_in_each_namespace() -> None:
    service = alerts.service_of(example_answers())
    (probe,) = checks.probes(service, "staging")
    static = probe["spec"]["targets"]["staticConfig"]
    assert static["static"] == ["http://legacy-app.legacy-app-staging.svc/status"]
    assert static["labels"]["check"] == "legacy-app-http-status"


def test_the_bundled_crds_are_the_upstream_files() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "crds" / "monitoring.coreos.com"
    bundled = sorted(CRDS.glob("*.yaml"))
    assert [p.name for p in bundled] == [
        "monitoring.coreos.com_probes.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
        "monitoring.coreos.com_servicemonitors.yaml",
    ]
    if not shared.is_dir():
        pytest.skip(f"no upstream copy at {shared} to compare with")
    for path in bundled:
        assert path.read_bytes() == (shared / path.name).read_bytes(), path.name
