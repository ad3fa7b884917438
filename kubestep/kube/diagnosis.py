"""Why pods are not ready, from the API objects alone: pure functions over the JSON that
`kubectl get pods -o json` and `kubectl get events -o json` return."""

from __future__ import annotations

from dataclasses import dataclass

from kubestep.kube.model import Obj, dig


@dataclass(frozen=True)
class ContainerProblem:
    """A container that is not ready: what state it is in and what happened last."""

    pod: str
    name: str
    state: str
    restarts: int
    last_termination: str
    has_run: bool

    @property
    def previous_logs(self) -> bool:
        """The logs that explain a crash are the previous run's."""
        return self.restarts > 0


def _state(status: Obj) -> str:
    state = status.get("state") or {}
    if waiting := state.get("waiting"):
        return _join(f"waiting: {waiting.get('reason', '?')}", waiting.get("message"))
    if terminated := state.get("terminated"):
        return _termination(terminated, "terminated")
    if running := state.get("running"):
        return f"running since {running.get('startedAt', '?')}, not ready (readiness probe)"
    return "unknown state"


def _termination(terminated: Obj, prefix: str) -> str:
    code, reason = terminated.get("exitCode", "?"), terminated.get("reason", "?")
    text = f"{prefix}: exit code {code} ({reason})"
    if terminated.get("finishedAt"):
        text += f" at {terminated['finishedAt']}"
    return _join(text, terminated.get("message"))


def _join(text: str, message: str | None) -> str:
    return f"{text}: {message.strip()}" if message and message.strip() else text


def container_problems(pod: Obj) -> list[ContainerProblem]:
    """Every container (init containers first) of pod that is not ready."""
    name = dig(pod, "metadata", "name") or "?"
    statuses = [
        *(dig(pod, "status", "initContainerStatuses") or []),
        *(dig(pod, "status", "containerStatuses") or []),
    ]
    problems = []
    for status in statuses:
        if status.get("ready"):
            continue
        terminated = dig(status, "state", "terminated")
        if (
            terminated
            and terminated.get("exitCode") == 0
            and terminated.get("reason") == "Completed"
        ):
            continue  # a finished init container
        last = dig(status, "lastState", "terminated")
        restarts = int(status.get("restartCount") or 0)
        has_run = bool(restarts or dig(status, "state", "running") or terminated)
        problems.append(
            ContainerProblem(
                pod=name,
                name=status.get("name", "?"),
                state=_state(status),
                restarts=restarts,
                last_termination=_termination(last, "last run") if last else "",
                has_run=has_run,
            )
        )
    return problems


def pod_problem(pod: Obj) -> str:
    """Why the pod as a whole is not running (unschedulable, evicted), or ''."""
    phase = dig(pod, "status", "phase")
    for condition in dig(pod, "status", "conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return _join(
                f"not scheduled ({condition.get('reason', '?')})", condition.get("message")
            )
    if phase in ("Failed", "Unknown"):
        return _join(
            f"{phase} ({dig(pod, 'status', 'reason') or '?'})", dig(pod, "status", "message")
        )
    return ""


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in dig(pod, "status", "conditions") or []
    )


def is_terminating(pod: Obj) -> bool:
    """Being deleted: the kubelet is stopping it (its phase still says Running)."""
    return bool(dig(pod, "metadata", "deletionTimestamp"))


def current_template_hash(deployment: Obj, replicasets: list[Obj]) -> str:
    """The pod-template-hash of the Deployment's current revision (the release rolling out),
    or '' when no ReplicaSet of it carries that revision."""
    revision_key = "deployment.kubernetes.io/revision"
    revision = dig(deployment, "metadata", "annotations", revision_key)
    for replicaset in replicasets:
        if revision and dig(replicaset, "metadata", "annotations", revision_key) == revision:
            return str(dig(replicaset, "metadata", "labels", "pod-template-hash") or "")
    return ""


def release_order(pods: list[Obj], current_hash: str) -> list[Obj]:
    """The current release's pods first, then the others; terminating ones last in each."""

    def rank(pod: Obj) -> tuple[bool, bool, str]:
        old = bool(current_hash) and (
            dig(pod, "metadata", "labels", "pod-template-hash") != current_hash
        )
        return old, is_terminating(pod), str(dig(pod, "metadata", "name"))

    return sorted(pods, key=rank)


def pod_summary(pod: Obj, current_hash: str = "") -> str:
    statuses = dig(pod, "status", "containerStatuses") or []
    ready = sum(bool(s.get("ready")) for s in statuses)
    node = dig(pod, "spec", "nodeName") or "no node"
    phase = dig(pod, "status", "phase") or "?"
    if is_terminating(pod):
        phase = f"Terminating since {dig(pod, 'metadata', 'deletionTimestamp')} (was {phase})"
    release = ""
    if current_hash:
        template_hash = dig(pod, "metadata", "labels", "pod-template-hash")
        release = ", new release" if template_hash == current_hash else ", old release"
    return (
        f"pod/{dig(pod, 'metadata', 'name')}: {phase}, "
        f"{ready}/{len(statuses)} containers ready, on {node}{release}"
    )


def _event_time(event: Obj) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or dig(event, "metadata", "creationTimestamp")
        or ""
    )


def format_events(events: list[Obj]) -> list[str]:
    """One line per event, oldest first: time, type, reason, count, message."""
    lines = []
    for event in sorted(events, key=_event_time):
        count = event.get("count") or dig(event, "series", "count") or 1
        times = f" (x{count})" if count > 1 else ""
        lines.append(
            f"{_event_time(event)} {event.get('type', '?')} {event.get('reason', '?')}"
            f"{times}: {(event.get('message') or '').strip()}"
        )
    return lines


def deployment_summary(deployment: Obj) -> list[str]:
    """Replica counts and the conditions that are not fine (e.g. ProgressDeadlineExceeded)."""
    status = deployment.get("status") or {}
    lines = [
        f"deployment/{dig(deployment, 'metadata', 'name')}: "
        f"{status.get('readyReplicas', 0)}/{dig(deployment, 'spec', 'replicas') or 0} ready, "
        f"{status.get('updatedReplicas', 0)} updated, "
        f"{status.get('unavailableReplicas', 0)} unavailable"
    ]
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True" or condition.get("reason") in (
            "ProgressDeadlineExceeded",
            "ReplicaSetCreateError",
        ):
            lines.append(
                f"  {condition.get('type')} {condition.get('status')} "
                f"({condition.get('reason')}): {condition.get('message', '')}"
            )
    return lines


def selector_argument(deployment: Obj) -> str:
    """The deployment's matchLabels as a kubectl --selector value."""
    labels = dig(deployment, "spec", "selector", "matchLabels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
