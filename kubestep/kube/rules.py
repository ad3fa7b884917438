"""kubestep's best-practice rules: each has a stable ID, a severity, and a check that yields
one message per problem. Objects opt out with the annotation SKIP_ANNOTATION (reason required)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kubestep.kube.model import LONG_RUNNING, Obj, Severity, containers, dig, pod_template
from kubestep.secrets import secret_looking, secrets_in_ini

SKIP_ANNOTATION = "kubestep.dev/skip-rules"
LABELS_ALL = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "team",
)
LABELS_WORKLOAD = (
    *LABELS_ALL,
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "environment",
    "tier",
)
Check = Callable[[Obj, list[Obj]], Iterator[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    check: Check


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, title: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[rule_id] = Rule(rule_id, severity, title, check)
        return check

    return register


def _pod_spec(obj: Obj) -> Obj | None:
    template = pod_template(obj)
    spec = template.get("spec") if template else None
    return spec if isinstance(spec, dict) else None


def _effective(pod_spec: Obj, container: Obj, field: str) -> object:
    """A securityContext field as the kubelet sees it: the container's wins over the pod's."""
    value = dig(container, "securityContext", field)
    return dig(pod_spec, "securityContext", field) if value is None else value


@rule("KS001", Severity.ERROR, "liveness and readiness probes")
def probes_present(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    if spec is None or obj.get("kind") not in LONG_RUNNING:
        return
    for c in containers(spec, init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
        if missing:
            yield f"container {c.get('name')!r} has no {' and no '.join(missing)}"


@rule("KS002", Severity.ERROR, "probes target a served port")
def probe_ports(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec, init=False) if spec else ():
        ports = c.get("ports") or []
        numbers = {p.get("containerPort") for p in ports}
        names = {p.get("name") for p in ports if p.get("name")}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            for action in ("httpGet", "tcpSocket", "grpc"):
                port = dig(c, probe, action, "port")
                if port is None or port in numbers or port in names:
                    continue
                if isinstance(port, str) and port.isdigit() and int(port) in numbers:
                    continue
                declared = ", ".join(str(x) for x in sorted(names) + sorted(numbers)) or "none"
                yield (
                    f"container {c.get('name')!r} {probe} targets port {port!r}, "
                    f"which it does not declare (declared: {declared})"
                )


@rule("KS003", Severity.ERROR, "cpu and memory requests and limits")
def resources(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        missing = [
            f"{kind}.{resource}"
            for kind in ("requests", "limits")
            for resource in ("cpu", "memory")
            if not dig(c, "resources", kind, resource)
        ]
        if missing:
            yield f"container {c.get('name')!r} sets no {', '.join(missing)}"


def image_tag_problem(image: str) -> str:
    """Why image is not pinned, or '' when it has a digest or a tag other than latest."""
    if "@sha256:" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag: it means latest, which changes under you"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses latest: pin a version tag or a digest"
    return ""


@rule("KS004", Severity.ERROR, "pinned image tags")
def image_tags(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        if problem := image_tag_problem(str(c.get("image", ""))):
            yield f"container {c.get('name')!r}: {problem}"


@rule("KS005", Severity.ERROR, "non-root with a numeric user")
def non_root(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        assert spec is not None
        user = _effective(spec, c, "runAsUser")
        if _effective(spec, c, "runAsNonRoot") is not True:
            yield f"container {c.get('name')!r} does not set runAsNonRoot: true"
        elif not isinstance(user, int) or user <= 0:
            yield (
                f"container {c.get('name')!r} has no numeric runAsUser above 0 (the "
                "kubelet cannot verify a named image user is non-root)"
            )


@rule("KS006", Severity.ERROR, "no privilege escalation")
def no_privilege_escalation(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        if dig(c, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"container {c.get('name')!r} does not set allowPrivilegeEscalation: false"
        if dig(c, "securityContext", "privileged"):
            yield f"container {c.get('name')!r} is privileged"


@rule("KS007", Severity.ERROR, "capabilities: drop ALL")
def capabilities(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        if "ALL" not in (dig(c, "securityContext", "capabilities", "drop") or []):
            yield f"container {c.get('name')!r} does not drop ALL capabilities"
        added = set(dig(c, "securityContext", "capabilities", "add") or []) - {"NET_BIND_SERVICE"}
        if added:
            yield f"container {c.get('name')!r} adds capabilities {sorted(added)}"


@rule("KS008", Severity.ERROR, "seccomp profile RuntimeDefault")
def seccomp(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        profile = dig(c, "securityContext", "seccompProfile", "type") or dig(
            spec, "securityContext", "seccompProfile", "type"
        )
        if profile not in ("RuntimeDefault", "Localhost"):
            yield f"container {c.get('name')!r} has seccompProfile {profile!r}, not RuntimeDefault"


@rule("KS009", Severity.WARNING, "read-only root filesystem")
def read_only_root(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj)
    for c in containers(spec) if spec else ():
        if dig(c, "securityContext", "readOnlyRootFilesystem") is not True:
            yield (
                f"container {c.get('name')!r} has a writable root filesystem "
                "(set readOnlyRootFilesystem: true and mount an emptyDir on /tmp)"
            )


@rule("KS010", Severity.ERROR, "required labels")
def labels(obj: Obj, _: list[Obj]) -> Iterator[str]:
    template = pod_template(obj) if obj.get("kind") != "Pod" else None
    required = LABELS_WORKLOAD if template or obj.get("kind") == "Pod" else LABELS_ALL
    for where, meta in (
        ("", obj.get("metadata")),
        ("pod template ", (template or {}).get("metadata")),
    ):
        if where and template is None:
            continue
        present = (meta or {}).get("labels") or {}
        missing = [label for label in required if not present.get(label)]
        if missing:
            yield f"{where}labels miss {', '.join(missing)}"


def _selects(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


@rule("KS011", Severity.ERROR, "selector matches the pod template")
def selector_matches(obj: Obj, _: list[Obj]) -> Iterator[str]:
    template = pod_template(obj)
    if template is None or obj.get("kind") in ("Pod", "Job", "CronJob"):
        return
    selector = dig(obj, "spec", "selector") or {}
    template_labels = dig(template, "metadata", "labels") or {}
    if not selector or not _selects(selector, template_labels):
        yield (
            f"selector {selector} does not select the pod template's labels "
            f"{template_labels}: the API server refuses it"
        )


@rule("KS012", Severity.ERROR, "Service selects a workload and a declared port")
def service_targets(obj: Obj, objects: list[Obj]) -> Iterator[str]:
    selector = dig(obj, "spec", "selector")
    if obj.get("kind") != "Service" or not selector:
        return
    namespace = dig(obj, "metadata", "namespace")
    pods = [
        t
        for o in objects
        if (t := pod_template(o))
        and o.get("kind") != "Service"
        and dig(o, "metadata", "namespace") == namespace
        and _selects({"matchLabels": selector}, dig(t, "metadata", "labels") or {})
    ]
    if not pods:
        yield f"selector {selector} selects no workload in the set: it would have no endpoints"
        return
    declared = {
        value
        for t in pods
        for c in containers(t.get("spec") or {}, init=False)
        for p in c.get("ports") or []
        for value in (p.get("name"), p.get("containerPort"))
    }
    for port in dig(obj, "spec", "ports") or []:
        target = port.get("targetPort", port.get("port"))
        if target not in declared:
            yield (
                f"port {port.get('name') or port.get('port')!r} targets {target!r}, which no "
                "selected container declares"
            )


@rule("KS013", Severity.ERROR, "no secrets in ConfigMaps")
def configmap_secrets(obj: Obj, _: list[Obj]) -> Iterator[str]:
    if obj.get("kind") != "ConfigMap":
        return
    for key, value in (obj.get("data") or {}).items():
        key, value = str(key), str(value)
        # A whole config file (a legacy INI) is checked entry by entry, then as a whole.
        reasons = secrets_in_ini(key, value) if "\n" in value else []
        for reason in reasons or filter(None, [secret_looking(key, value)]):
            yield f"{reason}: put it in the Secret the platform provides, not in the repository"


@rule("KS014", Severity.ERROR, "no Secret objects in the repository")
def no_secrets(obj: Obj, _: list[Obj]) -> Iterator[str]:
    if obj.get("kind") == "Secret" and (obj.get("data") or obj.get("stringData")):
        yield "a Secret with values would put them in the repository: reference it instead"


@rule("KS015", Severity.WARNING, "rollouts that fail fast and keep capacity")
def rollout_safety(obj: Obj, _: list[Obj]) -> Iterator[str]:
    if obj.get("kind") != "Deployment":
        return
    strategy = dig(obj, "spec", "strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or str(
        dig(strategy, "rollingUpdate", "maxUnavailable")
    ) not in ("0", "0%"):
        yield "use a RollingUpdate with maxUnavailable: 0, so a bad release never removes a pod"
    deadline = dig(obj, "spec", "progressDeadlineSeconds")
    if not isinstance(deadline, int) or deadline > 300:
        yield (
            f"progressDeadlineSeconds is {deadline or 600}: set 60-300 so a failing "
            "rollout is reported (and rolled back) within minutes"
        )


@rule("KS016", Severity.ERROR, "no host namespaces or host paths")
def host_access(obj: Obj, _: list[Obj]) -> Iterator[str]:
    spec = _pod_spec(obj) or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            yield f"the pod sets {field}: true"
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')!r} mounts a host path"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@rule("KS017", Severity.ERROR, "ExternalName names a DNS name, never an IP")
def external_name(obj: Obj, _: list[Obj]) -> Iterator[str]:
    if obj.get("kind") != "Service" or dig(obj, "spec", "type") != "ExternalName":
        return
    target = str(dig(obj, "spec", "externalName") or "")
    if not target:
        yield "an ExternalName Service without spec.externalName resolves to nothing"
    elif _is_ip(target):
        yield (
            f"externalName {target!r} is an IP, which cluster DNS does not resolve (it "
            "becomes a CNAME to a name that does not exist): use a Service without a "
            "selector and an EndpointSlice with that address"
        )


@rule("KS018", Severity.ERROR, "an EndpointSlice belongs to its Service")
def endpoint_slice_service(obj: Obj, objects: list[Obj]) -> Iterator[str]:
    if obj.get("kind") != "EndpointSlice":
        return
    name = (dig(obj, "metadata", "labels") or {}).get("kubernetes.io/service-name")
    if not name:
        yield (
            "no label kubernetes.io/service-name: no Service uses this EndpointSlice, so its "
            "addresses are never reached"
        )
        return
    namespace = dig(obj, "metadata", "namespace")
    service = next(
        (
            o
            for o in objects
            if o.get("kind") == "Service"
            and dig(o, "metadata", "name") == name
            and dig(o, "metadata", "namespace") == namespace
        ),
        None,
    )
    if service is None:
        return  # the Service may live elsewhere; nothing to compare with
    if dig(service, "spec", "selector"):
        yield (
            f"Service {name!r} has a selector: its own EndpointSlices replace this one; "
            "a Service for fixed addresses has no selector"
        )
    wanted = {p.get("name") or "" for p in dig(service, "spec", "ports") or []}
    for port in obj.get("ports") or []:
        if (port.get("name") or "") not in wanted:
            yield (
                f"port name {port.get('name') or ''!r} is not a port of Service {name!r} "
                f"({', '.join(sorted(repr(w) for w in wanted)) or 'none'}): traffic never "
                "reaches it"
            )
