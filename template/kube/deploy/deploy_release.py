"""What a release is made of, and the record of an environment's releases in the cluster.

A release is every object of one rendered manifest. The record is a ConfigMap in the
environment's namespace holding the last good release's manifest and object list (and the one
before it, and the release being attempted), so that a failed release can be undone as a whole:
re-apply the last good manifest, delete what the failed release added.
"""

from __future__ import annotations

import json
from typing import Any

from deploy_kubectl import Kubectl
from deploy_watch import dig

SLOTS = ("good", "previous", "attempt")
MANAGED = {"app.kubernetes.io/managed-by": "kubestep", "kubestep.dev/record": "releases"}


def object_ref(obj: dict[str, Any]) -> str:
    """`kind.group/name` as kubectl delete takes it (deployment.apps/shop, service/shop)."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    kind = str(obj.get("kind") or "").lower()
    return (
        f"{kind}.{group}/{dig(obj, 'metadata', 'name')}"
        if group
        else (f"{kind}/{dig(obj, 'metadata', 'name')}")
    )


class Release:
    """One release: its manifest text and what the server said its objects are."""

    def __init__(self, manifest: str, objects: list[dict[str, Any]], deployment: str) -> None:
        self.manifest = manifest
        self.refs = sorted({object_ref(o) for o in objects})
        workload = next(
            (
                o
                for o in objects
                if o.get("kind") == "Deployment" and dig(o, "metadata", "name") == deployment
            ),
            None,
        )
        pod = dig(workload, "spec", "template") or {}
        self.images = [str(c.get("image")) for c in dig(pod, "spec", "containers") or []]
        self.deployed_at = str(
            dig(pod, "metadata", "annotations", "kubestep.dev/deployed-at") or ""
        )
        self.version = str(dig(workload, "metadata", "labels", "app.kubernetes.io/version") or "?")

    def to_data(self, slot: str) -> dict[str, str]:
        meta: dict[str, object] = {"refs": self.refs, "images": self.images}
        meta.update(deployed_at=self.deployed_at, version=self.version)
        return {f"{slot}.yaml": self.manifest, f"{slot}.json": json.dumps(meta, sort_keys=True)}

    @classmethod
    def from_data(cls, data: dict[str, str], slot: str) -> Release | None:
        if not data.get(f"{slot}.yaml"):
            return None
        meta = json.loads(data.get(f"{slot}.json") or "{}")
        release = cls(data[f"{slot}.yaml"], [], "")
        release.refs = list(meta.get("refs") or [])
        release.images = list(meta.get("images") or [])
        release.deployed_at = str(meta.get("deployed_at") or "")
        release.version = str(meta.get("version") or "?")
        return release


class Record:
    """The ConfigMap <deployment>-releases: read once, written with create or replace."""

    def __init__(self, kubectl: Kubectl, namespace: str, deployment: str) -> None:
        self.kubectl, self.namespace = kubectl, namespace
        self.name = f"{deployment}-releases"
        self.obj = kubectl.get("configmap", self.name, namespace)
        data = dict((self.obj or {}).get("data") or {})
        self.slots = {slot: Release.from_data(data, slot) for slot in SLOTS}

    def write(self, **slots: Release | None) -> None:
        self.slots.update(slots)
        data: dict[str, str] = {}
        for slot, release in self.slots.items():
            if release is not None:
                data.update(release.to_data(slot))
        body = self.obj or {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": MANAGED},
        }
        body["data"] = data
        verb = "replace" if self.obj else "create"
        self.obj = self.kubectl.json(verb, "--filename", "-", stdin=json.dumps(body))
