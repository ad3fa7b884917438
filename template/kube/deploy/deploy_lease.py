"""One deploy per environment at a time: a coordination.k8s.io Lease in the namespace.

Taken with a compare-and-swap (`kubectl create` when there is none, `kubectl replace` with the
resourceVersion that was read otherwise), renewed while the deploy runs, released on every
exit path. A deploy that was killed holds it only until `ttl` seconds after its last renewal.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import socket
from collections.abc import Callable
from typing import Any

from deploy_kubectl import Kubectl, KubectlFailed


class Locked(Exception):
    """Another deploy holds the environment."""

    def __init__(self, holder: str, since: str) -> None:
        self.holder, self.since = holder, since
        super().__init__(f"{holder} since {since}")


class LockLost(Exception):
    """Someone took the lease while this deploy held it (it expired, or was taken by hand)."""


def micro_time(moment: float) -> str:
    """Kubernetes MicroTime, e.g. 2025-03-04T09:12:40.000000Z."""
    when = datetime.datetime.fromtimestamp(moment, tz=datetime.timezone.utc)  # noqa: UP017 (Python 3.9)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    text = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def identity(what: str) -> str:
    """Who deploys what, as another deploy will name the holder."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()}, {what})"


class Lease:
    """The lease `name` in `namespace`, held by `holder` for `ttl` seconds per renewal."""

    def __init__(
        self,
        kubectl: Kubectl,
        namespace: str,
        name: str,
        holder: str,
        ttl: int,
        now: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.kubectl, self.namespace, self.name = kubectl, namespace, name
        self.holder, self.ttl, self.now, self.sleep = holder, ttl, now, sleep
        self.held: dict[str, Any] | None = None
        self.renewed_at = 0.0

    def _body(self, current: dict[str, Any] | None) -> dict[str, Any]:
        now = micro_time(self.now())
        body: dict[str, Any] = current or {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "kubestep"},
            },
            "spec": {},
        }
        spec = body.setdefault("spec", {})
        if spec.get("holderIdentity") != self.holder:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + bool(current)
        spec.update(holderIdentity=self.holder, leaseDurationSeconds=self.ttl, renewTime=now)
        return body

    def _free(self, lease: dict[str, Any]) -> bool:
        spec = lease.get("spec") or {}
        if not spec.get("holderIdentity") or spec.get("holderIdentity") == self.holder:
            return True
        renewed = spec.get("renewTime") or spec.get("acquireTime")
        if not renewed:
            return True
        ttl = float(spec.get("leaseDurationSeconds") or self.ttl)
        return parse_time(renewed) + ttl <= self.now()

    def _write(self, verb: str, body: dict[str, Any], quiet: bool = False) -> bool:
        """True when the write won; False when another writer was first (retry)."""
        try:
            self.held = self.kubectl.json(
                verb, "--filename", "-", stdin=json.dumps(body), quiet=quiet
            )
        except KubectlFailed as error:
            if error.already_exists or error.conflict:
                return False
            raise
        self.renewed_at = self.now()
        return True

    def acquire(self, wait: float) -> None:
        """Take the lease, waiting up to `wait` seconds for the holder; Locked after that."""
        deadline = self.now() + wait
        said = False
        while True:
            current = self.kubectl.get("lease", self.name, self.namespace)
            if current is None:
                if self._write("create", self._body(None)):
                    return
                continue
            if self._free(current):
                if self._write("replace", self._body(current)):
                    return
                continue
            spec = current.get("spec") or {}
            if self.now() >= deadline:
                raise Locked(str(spec.get("holderIdentity")), str(spec.get("acquireTime")))
            if not said:
                print(f"waiting for the deploy of {spec.get('holderIdentity')} to finish")
                said = True
            self.sleep(min(2.0, max(deadline - self.now(), 0.0)))

    def renew(self) -> None:
        """Renew once a third of the ttl has passed; LockLost when someone took it."""
        if self.held is None or self.now() - self.renewed_at < self.ttl / 3:
            return
        if not self._write("replace", self._body(self.held), quiet=True):
            self.held = None
            raise LockLost(f"lease/{self.name} in {self.namespace} was taken by someone else")

    def release(self) -> None:
        """Give the lease up; a lease someone else took meanwhile is left alone."""
        if self.held is None:
            return
        body = dict(self.held)
        body["spec"] = {
            k: v for k, v in (body.get("spec") or {}).items() if k not in ("holderIdentity",)
        }
        try:
            self._write("replace", body)
        except KubectlFailed as error:
            print(f"warning: could not release lease/{self.name}: {error}")
        self.held = None
