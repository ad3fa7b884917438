"""Nagios checks in the cluster: each check from step 2's checks/ becomes a blackbox Probe, an
alert on metrics the cluster already has, or (a custom plugin) a CronJob that runs its script,
so no monitoring is lost. `translations` says which and why, for the README and the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubestep.jinja_ext import k8s_slug
from kubestep.keep.model import Alert, Service, monitoring_labels, selector, series

# The platform's blackbox exporter; the Probe objects name it (docs/alerts.rst).
BLACKBOX_PROBER = "blackbox-exporter.monitoring.svc:9115"
CHECK_SCHEDULE = "*/5 * * * *"


@dataclass(frozen=True)
class Translation:
    """What one Nagios check became in the cluster, and why."""

    name: str
    source: str
    became: str
    reason: str


def check_name(check: dict[str, Any]) -> str:
    """The check's name as checks/ has it (step 2)."""
    return k8s_slug(check.get("name") or check["kind"])


def http_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in checks if c.get("kind") == "http"]


def cronjob_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Custom plugins: only their own script knows what they check."""
    return [c for c in checks if c.get("kind") == "custom" and c.get("script")]


def status_probe_name(service: Service) -> str:
    """The probe that tells whether the service is up when it has no /metrics yet."""
    found = http_checks(service.checks)
    return check_name(found[0]) if found else "tcp"


def cronjob_name(service: Service, check: dict[str, Any]) -> str:
    # A CronJob's name leaves 11 characters for its jobs' suffix.
    return k8s_slug(f"{service.name}-check-{check_name(check)}")[:52].rstrip("-")


def _target(service: Service, env: str, check: dict[str, Any] | None) -> str:
    host = f"{service.name}.{service.namespace(env)}.svc"
    if check is None:
        return f"{host}:80"
    return f"http://{host}{check.get('path') or '/'}"


def _probe_labels(service: Service, env: str, name: str) -> dict[str, str]:
    return {"service": service.name, "environment": env, "check": name, "team": service.team}


def probes(service: Service, env: str) -> list[dict[str, Any]]:
    """The blackbox Probes of env: each HTTP check, or a TCP probe when nothing else says
    whether the service is up."""
    wanted: list[tuple[str, str, str]] = [
        (check_name(c), "http_2xx", _target(service, env, c)) for c in http_checks(service.checks)
    ]
    tcp = [c for c in service.checks if c.get("kind") == "tcp"]
    wanted += [
        (
            check_name(c),
            "tcp_connect",
            f"{service.name}.{service.namespace(env)}.svc:{c.get('port') or 80}",
        )
        for c in tcp
    ]
    if not wanted and not service.has_metrics:
        wanted = [("tcp", "tcp_connect", _target(service, env, None))]
    if not wanted:  # a new service: its readiness from outside the pod
        wanted = [
            (
                "ready",
                "http_2xx",
                f"http://{service.name}.{service.namespace(env)}.svc{service.ready_path}",
            )
        ]
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Probe",
            "metadata": {
                "name": k8s_slug(f"{service.name}-{name}")[:63].rstrip("-"),
                "labels": monitoring_labels(service),
            },
            "spec": {
                "interval": "60s",
                "module": module,
                "prober": {"url": BLACKBOX_PROBER},
                "targets": {
                    "staticConfig": {
                        "static": [target],
                        "labels": _probe_labels(service, env, name),
                    }
                },
            },
        }
        for name, module, target in wanted
    ]


def _probe_failed(service: Service, env: str, check: dict[str, Any]) -> Alert:
    name = check_name(check)
    labels = {"service": service.name, "environment": env, "check": name}
    probe = series("probe_success", **labels, instance="probe")
    return Alert(
        "ProbeFailed",
        f"probe_success{selector(**labels)} == 0",
        "5m",
        "warning",
        f"The check {check.get('name') or name} of {service.name} fails in {env}",
        f"The blackbox probe {name} ({check.get('source')}) fails.",
        firing={probe: "0x20"},
        healthy={probe: "1x20"},
        result_labels={**labels, "instance": "probe"},
        extra_labels={"check": name},
    )


def _no_ready_pods(service: Service, env: str, check: dict[str, Any]) -> Alert:
    minimum = int(check.get("min") or 1)
    labels = {"namespace": service.namespace(env), "deployment": service.name}
    available = series("kube_deployment_status_replicas_available", **labels)
    return Alert(
        "NoReadyPods",
        f"kube_deployment_status_replicas_available{selector(**labels)} < {minimum}",
        "5m",
        "page" if env == "production" else "warning",
        f"{service.name} has fewer than {minimum} ready pod(s) in {env}",
        f"Was the Nagios check {check.get('name')!r}: each pod runs one {check.get('process')} "
        "server, so its minimum count is now one of ready pods.",
        firing={available: "0x20"},
        healthy={available: f"{minimum}x20"},
        result_labels=labels,
    )


def _percent(text: object, default: int) -> int:
    try:
        return int(str(text).rstrip("%"))
    except ValueError:
        return default


def _disk_low(service: Service, env: str, check: dict[str, Any]) -> Alert:
    critical = _percent(check.get("critical"), 10)
    labels = {"namespace": service.namespace(env), "container": "app"}
    usage = series("container_fs_usage_bytes", **labels, pod="p-1")
    limit = series("container_fs_limit_bytes", **labels, pod="p-1")
    return Alert(
        "DiskSpaceLow",
        f"100 * (1 - container_fs_usage_bytes{selector(**labels)}\n"
        f"  / container_fs_limit_bytes{selector(**labels)}) < {critical}",
        "10m",
        "warning",
        f"{service.name}'s container filesystem has less than {critical}% free in {env}",
        f"Was the Nagios check {check.get('name')!r} on {check.get('path')}: in the cluster "
        "the container's filesystem (its writable layer on the node) is what fills up.",
        firing={usage: f"{100 - critical // 2}x20", limit: "100x20"},
        healthy={usage: "10x20", limit: "100x20"},
        result_labels={**labels, "pod": "p-1"},
    )


def check_alerts(service: Service, env: str) -> list[Alert]:
    """The alerts that replace the checks (the status probe is InstanceDown's already)."""
    alerts = []
    status = None if service.has_metrics else status_probe_name(service)
    for check in service.checks:
        kind = check.get("kind")
        if kind in ("http", "tcp") and check_name(check) != status:
            alerts.append(_probe_failed(service, env, check))
        elif kind == "process":
            alerts.append(_no_ready_pods(service, env, check))
        elif kind == "disk":
            alerts.append(_disk_low(service, env, check))
    if not service.checks and service.has_metrics:  # the Probe of /ready (see probes())
        alerts.append(_probe_failed(service, env, {"name": "ready", "source": "/ready"}))
    return alerts


def translations(service: Service) -> list[Translation]:
    """What each Nagios check became, with the reason."""
    status = None if service.has_metrics else status_probe_name(service)
    result = []
    for check in service.checks:
        kind, name = check.get("kind"), check.get("name") or check["kind"]
        source = str(check.get("source", "?"))
        if kind in ("http", "tcp"):
            module = "http_2xx" if kind == "http" else "tcp_connect"
            alert = "InstanceDown" if check_name(check) == status else "ProbeFailed"
            became = f"blackbox Probe ({module}) and the alert {alert}"
            reason = "the same request, made from the platform's blackbox exporter"
        elif kind == "process":
            became = "the alert NoReadyPods (kube-state-metrics)"
            reason = "a pod runs one server process; the kubelet restarts it, ready pods count"
        elif kind == "disk":
            became = "the alert DiskSpaceLow (cAdvisor's container_fs_usage_bytes)"
            reason = f"{check.get('path')} is not a disk of its own in the container"
        elif kind == "custom" and check.get("script"):
            became = (
                f"CronJob running checks/{check_name(check)} ({CHECK_SCHEDULE}), alert JobFailed"
            )
            reason = (
                "a custom plugin: only its script knows what it checks, so it keeps running, "
                "in the service's image (which must have the tools the script calls)"
            )
        elif kind == "system":
            became = "nothing in this repository: the platform's node alerts"
            reason = "a check of the host (load, swap, users), which the service no longer owns"
        else:
            became = "nothing: listed for a person to decide"
            reason = "the plugin's script is not in the repository, so it cannot run as a CronJob"
        result.append(Translation(str(name), source, became, reason))
    return result
