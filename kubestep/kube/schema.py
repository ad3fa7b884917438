"""Schema validation against every Kubernetes version kubestep supports (1.29 to the newest
kubernetes-validate knows), strict: unknown fields and kinds are errors."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache

import kubernetes_validate
from kubernetes_validate import utils
from packaging.version import Version

from kubestep.kube import custom_resources
from kubestep.kube.model import Finding, Obj, Severity, ref

OLDEST_SUPPORTED = "1.29"


def supported_versions(minimum: str = OLDEST_SUPPORTED) -> list[str]:
    """'1.29', '1.30', ... up to the newest version the installed kubernetes-validate has."""
    known = {utils.major_minor(version) for version in utils.all_versions()}
    return sorted((v for v in known if Version(v) >= Version(minimum)), key=Version)


@cache
def _problem(document: str, version: str) -> tuple[str, str] | None:
    """(kind of problem, message) for one object and version, or None when it is valid.

    Cached on the serialised object, so validating the same object again costs nothing.
    """
    obj = json.loads(document)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except utils.ValidationError as error:
        path = ".".join(str(item) for item in error.path) or "(top)"
        return "KS100", f"{path}: {error.message}"
    except utils.SchemaNotFoundError:
        return "KS101", f"{obj.get('apiVersion')} {obj.get('kind')} is not served"
    return None


def schema_findings(obj: Obj, versions: list[str], source: str = "") -> list[Finding]:
    """One finding per distinct problem, naming the versions that have it."""
    if custom_resources.known(obj):  # a CRD kubestep bundles: its schema, whatever the version
        problems = custom_resources.problems(obj) if versions else []
        return [Finding("KS100", Severity.ERROR, ref(obj), problem, source) for problem in problems]
    document = json.dumps(obj, sort_keys=True, default=str)
    by_problem: dict[tuple[str, str], list[str]] = defaultdict(list)
    for version in versions:
        problem = _problem(document, version)
        if problem:
            by_problem[problem].append(version)
    findings = []
    for (rule, message), failing in by_problem.items():
        if rule == "KS101" and len(failing) == len(versions):
            findings.append(
                Finding(
                    "KS102",
                    Severity.WARNING,
                    ref(obj),
                    f"no schema for {obj.get('apiVersion')} {obj.get('kind')} in any supported "
                    "version (a custom resource?): not schema-checked",
                    source,
                )
            )
            continue
        findings.append(
            Finding(
                rule, Severity.ERROR, ref(obj), f"{message} (Kubernetes {_span(failing)})", source
            )
        )
    return findings


def _span(versions: list[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{', '.join(versions)}"
