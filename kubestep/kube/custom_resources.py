"""Schema validation of the prometheus-operator custom resources step 6 writes (Probe,
PrometheusRule, ServiceMonitor) against their CRDs, bundled in kube/crds/, strict like the
built-in kinds: a field the CRD does not define is an error, not silently pruned."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kubestep.kube.model import Obj

CRDS = Path(__file__).parent / "crds"


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict JSON schema of every served version."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def _strict(schema: Any) -> Any:
    """No unknown fields where the CRD lists the properties (as the API server prunes them)."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
            schema["properties"].setdefault("apiVersion", {"type": "string"})
            schema["properties"].setdefault("kind", {"type": "string"})
            schema["properties"].setdefault("metadata", {"type": "object"})
        for value in schema.values():
            _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)
    return schema


def known(obj: Obj) -> bool:
    """Whether a bundled CRD defines obj's apiVersion and kind."""
    return (obj.get("apiVersion"), obj.get("kind")) in _schemas()


def problems(obj: Obj) -> list[str]:
    """'path: message' for each way obj breaks its CRD's schema."""
    schema = _schemas()[(str(obj.get("apiVersion")), str(obj.get("kind")))]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    ]
