"""What validation works on (API objects as dicts) and what it reports (findings)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from kubestep.errors import InvalidValue

Obj = dict[str, Any]
# Workload kinds and the path from the object to its pod template.
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem of one object: the rule that found it, how bad, and what to change."""

    rule: str
    severity: Severity
    object: str
    message: str
    source: str = ""

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}

    def __str__(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"{self.severity.upper():7} {self.rule} {self.object}: {self.message}{where}"


def ref(obj: Obj) -> str:
    """Kind/namespace/name, the way findings name an object."""
    meta = obj.get("metadata") or {}
    parts = [str(obj.get("kind", "?")), meta.get("namespace"), meta.get("name", "?")]
    return "/".join(str(part) for part in parts if part)


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where a step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def pod_template(obj: Obj) -> Obj | None:
    """The pod template of a workload ({metadata, spec}), the pod itself, or None."""
    if obj.get("kind") == "Pod":
        return obj
    path = POD_TEMPLATE_PATHS.get(str(obj.get("kind")))
    template = dig(obj, *path) if path else None
    return template if isinstance(template, dict) else None


def containers(pod_spec: Obj, init: bool = True) -> Iterator[Obj]:
    yield from pod_spec.get("containers") or []
    if init:
        yield from pod_spec.get("initContainers") or []


def load_documents(text: str, source: str) -> list[Obj]:
    """The objects of a YAML stream; `kind: List` is unpacked, empty documents are skipped."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise InvalidValue(f"{source} is not valid YAML: {error}".splitlines()[0]) from None
    objects: list[Obj] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or "kind" not in document:
            raise InvalidValue(f"{source} holds {document!r:.60}, not a Kubernetes object")
        if document["kind"] == "List":
            objects.extend(document.get("items") or [])
        else:
            objects.append(document)
    return objects


def load_files(paths: list[Path]) -> list[tuple[Obj, str]]:
    """Every object of the files, each with the file it came from."""
    loaded: list[tuple[Obj, str]] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidValue(f"cannot read {str(path)!r}: {error.strerror}") from None
        loaded.extend((obj, str(path)) for obj in load_documents(text, str(path)))
    return loaded
