"""Alerts by labels: from the labels every manifest carries (service, team, environment) to
alert rules, their promtool unit tests and the Alertmanager route that pages the team.

One rule group per environment; the PrometheusRule of an environment is its group, the plain
Prometheus rule file has them all. Each alert is built with the series that make it fire, so
every alert gets a unit test that fails when the rule is wrong.
"""

from __future__ import annotations

import textwrap
from typing import Any

from kubestep.jinja_ext import k8s_slug, probe_path
from kubestep.keep import checks as nagios
from kubestep.keep import cron
from kubestep.keep.model import Alert, Service, monitoring_labels, selector, series

PRODUCTION = "production"


def service_of(answers: dict[str, Any]) -> Service:
    """The Service for a set of copier answers (a new service has metrics from the start)."""
    legacy = answers.get("legacy") or {}
    new = answers.get("origin") == "new"
    name = answers["service_name"]
    repository = answers.get("repository_url") or ""
    checks = [] if new else list(legacy.get("checks") or [])
    cron_entries = [] if new else cron.entries(legacy.get("cron_jobs") or [], name)
    return Service(
        name=name,
        team=answers.get("team", "platform"),
        environments=list(answers.get("environments") or []),
        has_metrics=new or bool(answers.get("smarter")),
        runbook=f"{repository.rstrip('/')}/README.rst" if repository else "README.rst",
        checks=checks,
        jobs=bool(nagios.cronjob_checks(checks) or cron_entries),
        metrics_path=probe_path(legacy, "metrics"),
        ready_path=probe_path(legacy, "ready"),
    )


def instance_down(service: Service, env: str) -> Alert:
    """No scrape of /metrics (or, before +1, of the status check) succeeds in env."""
    page = env == PRODUCTION
    severity, duration = ("page", "4m") if page else ("warning", "10m")
    summary = f"{service.name} is down in {env}"
    if service.has_metrics:
        labels = {"job": service.name, "environment": env}
        up = series("up", **labels, instance="10.0.0.1:8000")
        return Alert(
            "InstanceDown",
            f"up{selector(**labels)} == 0",
            description=f"Prometheus cannot scrape /metrics of {service.name}.",
            firing={up: "0x20"},
            healthy={up: "1x20"},
            result_labels={**labels, "instance": "10.0.0.1:8000"},
            duration=duration,
            severity=severity,
            summary=summary,
        )
    check = nagios.status_probe_name(service)
    labels = {"service": service.name, "environment": env, "check": check}
    probe = series("probe_success", **labels, instance="status")
    return Alert(
        "InstanceDown",
        f"probe_success{selector(**labels)} == 0",
        description=f"The blackbox probe {check} of {service.name} fails.",
        firing={probe: "0x20"},
        healthy={probe: "1x20"},
        result_labels={**labels, "instance": "status"},
        duration=duration,
        severity=severity,
        summary=summary,
    )


def kubernetes_alerts(service: Service, env: str) -> list[Alert]:
    """What kube-state-metrics shows about the workload: restarts, replicas, rollouts."""
    ns = service.namespace(env)
    deployment = {"namespace": ns, "deployment": service.name}
    restarts = series(
        "kube_pod_container_status_restarts_total", namespace=ns, container="app", pod="p-1"
    )
    spec = series("kube_deployment_spec_replicas", **deployment)
    available = series("kube_deployment_status_replicas_available", **deployment)
    condition = {**deployment, "condition": "Progressing", "status": "false"}
    stuck = series("kube_deployment_status_condition", **condition)
    alerts = [
        Alert(
            "CrashLooping",
            "increase(kube_pod_container_status_restarts_total"
            f"{selector(namespace=ns, container='app')}[15m]) > 3",
            "5m",
            "warning",
            f"{service.name} restarts again and again in {env}",
            "A container of the service restarted more than 3 times in 15 minutes.",
            firing={restarts: "0+1x30"},
            healthy={restarts: "0x30"},
            result_labels={"namespace": ns, "container": "app", "pod": "p-1"},
        ),
        Alert(
            "ReplicasMismatch",
            f"kube_deployment_spec_replicas{selector(**deployment)}\n"
            f"  != kube_deployment_status_replicas_available{selector(**deployment)}",
            "15m",
            "warning",
            f"{service.name} runs fewer replicas than it should in {env}",
            "Available replicas differ from the Deployment's replicas for 15 minutes.",
            firing={spec: "3x30", available: "1x30"},
            healthy={spec: "3x30", available: "3x30"},
            result_labels=deployment,
        ),
        Alert(
            "RolloutStuck",
            f"kube_deployment_status_condition{selector(**condition)} == 1",
            "5m",
            "warning",
            f"A rollout of {service.name} is stuck in {env}",
            "The Deployment exceeded its progress deadline: the new pods do not become ready.",
            firing={stuck: "1x20"},
            healthy={stuck: "0x20"},
            result_labels=condition,
        ),
    ]
    if service.jobs:
        job = series("kube_job_status_failed", namespace=ns, job_name=f"{service.name}-x-1")
        alerts.append(
            Alert(
                "JobFailed",
                f'kube_job_status_failed{{namespace="{ns}", job_name=~"{service.name}-.+"}} > 0',
                "1m",
                "warning",
                f"A CronJob of {service.name} failed in {env}",
                "A job (a former cron entry, or a Nagios check kept as a CronJob) exited "
                "non-zero: kubectl logs job/<job_name> shows why.",
                firing={job: "1x20"},
                healthy={job: "0x20"},
                result_labels={"namespace": ns, "job_name": f"{service.name}-x-1"},
            )
        )
    return alerts


def request_alerts(service: Service, env: str) -> list[Alert]:
    """Errors and latency from the +1 metrics (http_requests_total, the latency histogram)."""
    if not service.has_metrics:
        return []
    labels = {"job": service.name, "environment": env}
    requests = "http_requests_total"
    errors = series(requests, **labels, route="/", status="500")
    ok = series(requests, **labels, route="/", status="200")
    bucket = "http_request_duration_seconds_bucket"
    buckets = {
        le: series(bucket, **labels, route="/", le=le) for le in ("0.5", "1.0", "2.5", "+Inf")
    }
    return [
        Alert(
            "HighErrorRatio",
            f'sum(rate({requests}{{job="{service.name}", environment="{env}", status=~"5.."}}[5m]))'
            f"\n  / sum(rate({requests}{selector(**labels)}[5m]))\n  > 0.05",
            "10m",
            "warning",
            f"{service.name} answers more than 5% of requests with 5xx in {env}",
            "The ratio of 5xx responses was above 5% for 10 minutes.",
            firing={errors: "0+10x30", ok: "0+10x30"},
            healthy={errors: "0x30", ok: "0+10x30"},
        ),
        Alert(
            "HighLatency",
            "histogram_quantile(0.99,\n"
            f"  sum by (le) (rate({bucket}{selector(**labels)}[5m]))\n) > 1",
            "10m",
            "warning",
            f"{service.name} is slow in {env}",
            "The 99th percentile of request latency was above 1 s for 10 minutes.",
            firing={
                buckets["0.5"]: "0x30",
                buckets["1.0"]: "0x30",
                buckets["2.5"]: "0x30",
                buckets["+Inf"]: "0+10x30",
            },
            healthy={name: "0+10x30" for name in buckets.values()},
        ),
    ]


def alerts_for(service: Service, env: str) -> list[Alert]:
    """Every alert of env, in a stable order."""
    return [
        instance_down(service, env),
        *kubernetes_alerts(service, env),
        *request_alerts(service, env),
        *nagios.check_alerts(service, env),
    ]


def anchor(alert_name: str) -> str:
    """The README section id docutils gives the title 'Alert <name>'."""
    return k8s_slug(f"alert-{alert_name}")


def _wrapped(expr: str, width: int = 90) -> str:
    """A long expression over several lines (PromQL ignores newlines; label values here are
    DNS labels, without spaces), so the YAML stays readable."""
    lines = []
    for line in expr.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        lines += textwrap.wrap(
            line,
            width,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [line]
    return "\n".join(lines)


def rule(service: Service, env: str, alert: Alert) -> dict[str, Any]:
    return {
        "alert": alert.name,
        "expr": _wrapped(alert.expr),
        "for": alert.duration,
        "labels": _static_labels(service, env, alert),
        "annotations": _annotations(service, alert),
    }


def _static_labels(service: Service, env: str, alert: Alert) -> dict[str, str]:
    return {
        "severity": alert.severity,
        "team": service.team,
        "service": service.name,
        "environment": env,
        **alert.extra_labels,
    }


def _annotations(service: Service, alert: Alert) -> dict[str, str]:
    return {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": f"{service.runbook}#{anchor(alert.name)}",
    }


def group(service: Service, env: str) -> dict[str, Any]:
    return {
        "name": f"{service.name}-{env}",
        "rules": [rule(service, env, alert) for alert in alerts_for(service, env)],
    }


def rule_file(service: Service) -> dict[str, Any]:
    """The plain Prometheus rule file: every environment's group."""
    return {"groups": [group(service, env) for env in service.environments]}


def prometheus_rule(service: Service, env: str) -> dict[str, Any]:
    """The prometheus-operator PrometheusRule of one environment."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": service.name, "labels": monitoring_labels(service)},
        "spec": {"groups": [group(service, env)]},
    }


def unit_tests(service: Service, rule_file_name: str) -> dict[str, Any]:
    """promtool unit tests: each alert fires on its series after `for`, and not when healthy."""
    tests = []
    for env in service.environments:
        for alert in alerts_for(service, env):
            at = f"{_minutes(alert.duration) + 5}m"
            expected = {
                "exp_labels": {
                    **alert.result_labels,
                    **_static_labels(service, env, alert),
                },
                "exp_annotations": _annotations(service, alert),
            }
            for name, inputs, alerts in (
                (f"{alert.name} fires in {env}", alert.firing, [expected]),
                (f"{alert.name} stays quiet in {env} when healthy", alert.healthy, []),
            ):
                tests.append(
                    {
                        "name": name,
                        "interval": "1m",
                        "input_series": [{"series": s, "values": v} for s, v in inputs.items()],
                        "alert_rule_test": [
                            {"eval_time": at, "alertname": alert.name, "exp_alerts": alerts}
                        ],
                    }
                )
    return {"rule_files": [rule_file_name], "evaluation_interval": "1m", "tests": tests}


def _minutes(duration: str) -> int:
    return int(duration.removesuffix("m"))


def alertmanager_config(service: Service) -> dict[str, Any]:
    """A complete Alertmanager config whose route and receivers are the team's snippet:
    `severity=page` to the pager, the rest to the team's chat; keys are read from files."""
    team = service.team
    secrets = "/etc/alertmanager/secrets"
    matchers = [f'team="{team}"']
    return {
        "route": {
            "receiver": f"{team}-chat",
            "group_by": ["alertname", "service", "environment"],
            "routes": [
                {
                    "receiver": f"{team}-pager",
                    "matchers": [*matchers, 'severity="page"'],
                    "group_wait": "30s",
                    "repeat_interval": "1h",
                },
                {"receiver": f"{team}-chat", "matchers": matchers, "repeat_interval": "12h"},
            ],
        },
        "receivers": [
            {
                "name": f"{team}-pager",
                "pagerduty_configs": [
                    {"routing_key_file": f"{secrets}/{team}-pagerduty-routing-key"}
                ],
            },
            {
                "name": f"{team}-chat",
                "slack_configs": [
                    {
                        "api_url_file": f"{secrets}/{team}-slack-webhook-url",
                        "channel": f"#{team}-alerts",
                        "send_resolved": True,
                    }
                ],
            },
        ],
    }
