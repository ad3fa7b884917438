"""Whether a rollout is done, still going, or has failed, from the API objects alone.

The rules of `kubectl rollout status`, plus what it does not look at: the pods of the new
ReplicaSet. A crash loop or an unpullable image shows in their container states seconds after
the apply, long before the Deployment's progress deadline; a grace lets slow starters through.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Waiting reasons that do not heal by waiting: the kubelet backs off and tries again forever.
FATAL_WAITING = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
)
REVISION = "deployment.kubernetes.io/revision"


def dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class Progress(NamedTuple):
    done: bool
    failure: str  # why the rollout cannot succeed any more, or ''
    summary: str


def rollout_progress(deployment: dict[str, Any]) -> Progress:
    """kubectl rollout status's verdict on the Deployment as the API server has it."""
    name = f"deployment/{dig(deployment, 'metadata', 'name')}"
    status = deployment.get("status") or {}
    generation = int(dig(deployment, "metadata", "generation") or 0)
    if int(status.get("observedGeneration") or 0) < generation:
        return Progress(False, "", f"{name}: waiting for the controller to see the change")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and (
            condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return Progress(False, f"{name} exceeded its progress deadline", "")
    wanted = dig(deployment, "spec", "replicas")
    wanted = 1 if wanted is None else int(wanted)
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < wanted:
        return Progress(False, "", f"{name}: {updated} of {wanted} new pods created")
    if replicas > updated:
        return Progress(False, "", f"{name}: {replicas - updated} old pods still terminating")
    if available < updated:
        return Progress(False, "", f"{name}: {available} of {updated} new pods available")
    return Progress(True, "", f"{name}: {available} of {wanted} pods available")


def new_replicaset(deployment: dict[str, Any], replicasets: list[Any]) -> dict[str, Any] | None:
    """The ReplicaSet of the Deployment's current revision (the release being rolled out)."""
    revision = dig(deployment, "metadata", "annotations", REVISION)
    uid = dig(deployment, "metadata", "uid")
    for replicaset in replicasets:
        owners = dig(replicaset, "metadata", "ownerReferences") or []
        if uid and not any(owner.get("uid") == uid for owner in owners):
            continue
        if revision and dig(replicaset, "metadata", "annotations", REVISION) == revision:
            return replicaset  # type: ignore[no-any-return]
    return None


class Fatal(NamedTuple):
    pod: str
    container: str
    reason: str
    message: str

    def __str__(self) -> str:
        text = f"pod/{self.pod} container {self.container}: {self.reason}"
        return f"{text}: {self.message}" if self.message else text


def fatal_states(pods: list[Any]) -> list[Fatal]:
    """Every container of pods in a state that waiting does not heal."""
    found = []
    for pod in pods:
        if dig(pod, "metadata", "deletionTimestamp"):
            continue
        name = str(dig(pod, "metadata", "name"))
        statuses = [
            *(dig(pod, "status", "initContainerStatuses") or []),
            *(dig(pod, "status", "containerStatuses") or []),
        ]
        for status in statuses:
            waiting = dig(status, "state", "waiting") or {}
            killed = [
                dig(status, which, "terminated")
                for which in ("state", "lastState")
                if dig(status, which, "terminated", "reason") == "OOMKilled"
            ]
            if waiting.get("reason") in FATAL_WAITING:
                reason, message = waiting["reason"], str(waiting.get("message") or "")
                if killed:
                    reason += " (last run OOMKilled: over its memory limit)"
            elif killed:
                reason, message = "OOMKilled", "over its memory limit"
            else:
                continue
            found.append(Fatal(name, str(status.get("name")), reason, message.strip()))
    return found


class FailFast:
    """Fails a rollout when a fatal state has lasted `grace` seconds (0: at first sight)."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.first_seen: dict[tuple[str, str], float] = {}

    def verdict(self, fatal: list[Fatal], now: float) -> list[Fatal]:
        """The fatal states that have outlasted the grace; forgets states that healed."""
        keys = {(f.pod, f.container): f for f in fatal}
        self.first_seen = {k: self.first_seen.get(k, now) for k in keys}
        return [f for k, f in keys.items() if now - self.first_seen[k] >= self.grace]
