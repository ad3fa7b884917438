"""Step 6's files as text: what the template includes (through kubestep's Jinja extension)
and what the step writes per environment. Each function takes the copier answers."""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

import yaml

from kubestep.keep import alerts, bridge, checks, cron
from kubestep.keep.model import Service, monitoring_labels

Answers = dict[str, Any]
ENV_PLACEHOLDER = "__ENV__"
RULE_FILE = "alerts.yml"


class _Dumper(yaml.SafeDumper):
    """No `&id001` anchors: each object spells its labels out, as a person would; a text of
    several lines (a long PromQL expression) as a literal block."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(documents: list[dict[str, Any]], header: str = "") -> str:
    """YAML documents as kubestep writes them: keys in order, `---` between documents."""
    body = "---\n".join(
        yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=80, allow_unicode=True)
        for document in documents
    )
    return (header + body) if documents else header


def comment(text: str) -> str:
    lines = [wrapped for line in text.strip().splitlines() for wrapped in textwrap.wrap(line, 96)]
    return "".join(f"# {line}\n" for line in lines)


def service_monitor(service: Service) -> dict[str, Any]:
    """Scrape /metrics of every pod behind the Service; the target keeps the Service's
    environment and team labels, which the alerts select on."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": service.name, "labels": monitoring_labels(service)},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": service.name}},
            "endpoints": [{"port": "http", "path": service.metrics_path, "interval": "30s"}],
            "targetLabels": ["environment", "team"],
        },
    }


def monitoring(answers: Answers, env: str = ENV_PLACEHOLDER) -> str:
    """kube/overlays/<env>/monitoring.yaml: ServiceMonitor, Probes and PrometheusRule."""
    service = alerts.service_of(answers)
    documents = [service_monitor(service)] if service.has_metrics else []
    documents += checks.probes(service, env)
    documents.append(alerts.prometheus_rule(service, env))
    header = comment(
        f"Monitoring of {service.name} in {env} (prometheus-operator custom resources): "
        + ("the ServiceMonitor scrapes /metrics, " if service.has_metrics else "")
        + "the Probes replace the Nagios checks, the PrometheusRule holds the alerts "
        "(the same as monitoring/alerts.yml). See the README's Alerts section."
    )
    return dump(documents, header)


def rule_file(answers: Answers) -> str:
    service = alerts.service_of(answers)
    header = comment(
        f"Alert rules of {service.name} for a plain Prometheus (rule_files:), one group per "
        "environment; kube/overlays/<env>/monitoring.yaml has the same as PrometheusRules. "
        "Check: promtool check rules monitoring/alerts.yml; "
        "promtool test rules monitoring/alerts.test.yml"
    )
    return dump([alerts.rule_file(service)], header)


def rule_tests(answers: Answers) -> str:
    service = alerts.service_of(answers)
    header = comment(
        "promtool unit tests: every alert fires on its series and stays quiet otherwise."
    )
    return dump([alerts.unit_tests(service, RULE_FILE)], header)


def alertmanager(answers: Answers) -> str:
    service = alerts.service_of(answers)
    header = comment(
        f"Alertmanager route and receivers of team {service.team}: merge `route.routes` and "
        "`receivers` into the platform's alertmanager.yml. severity=page goes to the pager. "
        "The keys live in files the platform mounts, never in this repository. "
        "Check: amtool check-config monitoring/alertmanager.yml"
    )
    return dump([alerts.alertmanager_config(service)], header)


def example_targets(answers: Answers) -> list[bridge.LegacyTarget]:
    """The legacy hosts the legacy config's example names (every environment's default)."""
    legacy = answers.get("legacy") or {}
    return bridge.targets(
        legacy.get("example_config") or {},
        legacy.get("backing_services") or [],
        answers["service_name"],
    )


def bridge_manifest(answers: Answers, env: str, found: list[bridge.LegacyTarget]) -> str:
    """kube/bridge/<env>.yaml: the legacy hosts of env by cluster name."""
    name = answers["service_name"]
    namespace = f"{name}-{env}"
    notes = "\n".join(bridge.warnings(found))
    header = comment(
        f"The legacy services {name} uses in {env}, by cluster name in {namespace}: its config "
        f"(config/{env}.ini) names these Services instead of the hosts. A DNS name is an "
        "ExternalName Service, an IP a Service with its EndpointSlice. Change a host here."
        + (f"\n{notes}" if notes else "")
    )
    return dump(bridge.objects(found, name, answers.get("team", "platform"), namespace), header)


def _host_renames(answers: Answers) -> dict[str, str]:
    return {t.host: t.name for t in example_targets(answers)}


def cronjob(
    answers: Answers, name: str, schedule: str, command: list[str], why: str
) -> dict[str, Any]:
    """A CronJob with the Deployment's image, config and security, one run at a time."""
    legacy = answers.get("legacy") or {}
    service = answers["service_name"]
    uid = int((legacy.get("user") or {}).get("uid") or 10001)
    config_file = legacy.get("config_file") or {}
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if config_file.get("path"):
        path = str(config_file["path"])
        mounts.append(
            {
                "name": "config-file",
                "mountPath": path,
                "subPath": path.rsplit("/", 1)[-1],
                "readOnly": True,
            }
        )
        volumes.append({"name": "config-file", "configMap": {"name": f"{service}-config-file"}})
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": labels, "annotations": {"kubestep.dev/from": why}},
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": 3600,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": False,
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": uid,
                                "runAsGroup": uid,
                                "fsGroup": uid,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [
                                {
                                    "name": "job",
                                    "image": f"{answers['image']}:unreleased",
                                    "command": command,
                                    "envFrom": [
                                        {"configMapRef": {"name": f"{service}-config"}},
                                        {
                                            "secretRef": {
                                                "name": f"{service}-secrets",
                                                "optional": True,
                                            }
                                        },
                                    ],
                                    "resources": {
                                        "requests": {"cpu": "50m", "memory": "128Mi"},
                                        "limits": {"cpu": "1", "memory": "256Mi"},
                                    },
                                    "securityContext": {
                                        "runAsNonRoot": True,
                                        "runAsUser": uid,
                                        "runAsGroup": uid,
                                        "allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]},
                                    },
                                    "volumeMounts": mounts,
                                }
                            ],
                            "volumes": volumes,
                        },
                    },
                }
            },
        },
    }


def job_entries(answers: Answers) -> list[tuple[str, str, list[str], str]]:
    """(name, schedule, command, why) of every CronJob: cron entries, then custom checks."""
    legacy = answers.get("legacy") or {}
    service = alerts.service_of(answers)
    found = [
        (e.name, e.schedule, e.command, f"cron: {e.original} ({', '.join(e.sources)})")
        for e in cron.entries(legacy.get("cron_jobs") or [], service.name)
    ]
    renames = _host_renames(answers)
    for check in checks.cronjob_checks(service.checks):
        extra: list[str] = []
        args = [str(a) for a in check.get("args") or []]
        for flag, value in itertools.pairwise(args):
            if value in renames:  # the legacy host, now a cluster name in every namespace
                extra += [flag, renames[value]]
        command = [f"checks/{checks.check_name(check)}", *extra]
        found.append(
            (
                checks.cronjob_name(service, check),
                checks.CHECK_SCHEDULE,
                command,
                f"Nagios: {check.get('name')} ({check.get('source')})",
            )
        )
    return found


def jobs(answers: Answers) -> str:
    """kube/jobs/cronjobs.yaml."""
    documents = [cronjob(answers, *entry) for entry in job_entries(answers)]
    header = comment(
        "The legacy cron entries and the Nagios checks only a script can run, as CronJobs: "
        "same schedule (UTC), same command, the service's image and config, never two at once."
    )
    return dump(documents, header)


def has_jobs(answers: Answers) -> bool:
    return bool(job_entries(answers)) if answers.get("origin") == "legacy" else False


def translations(answers: Answers) -> list[checks.Translation]:
    return checks.translations(alerts.service_of(answers))


def alert_names(answers: Answers) -> list[tuple[str, str, str]]:
    """(name, anchor, summary) of each distinct alert, for the README's runbook."""
    service = alerts.service_of(answers)
    seen: dict[str, tuple[str, str, str]] = {}
    for env in service.environments or ["production"]:
        for alert in alerts.alerts_for(service, env):
            seen.setdefault(alert.name, (alert.name, alerts.anchor(alert.name), alert.description))
    return list(seen.values())
