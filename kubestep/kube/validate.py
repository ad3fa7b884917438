"""Validate Kubernetes manifests: schemas of every supported version, then kubestep's rules.

    python -m kubestep.kube.validate [--format json] [--min-version 1.30] FILE...

Exit 1 when any finding is an error (or a file cannot be read), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from kubestep.errors import InvalidValue, KubestepError
from kubestep.inventory import safe_files
from kubestep.kube.model import Finding, Obj, Severity, dig, load_documents, load_files, ref
from kubestep.kube.rules import RULES, SKIP_ANNOTATION
from kubestep.kube.schema import OLDEST_SUPPORTED, schema_findings, supported_versions

_SKIP_ENTRY = re.compile(r"^(?P<rule>KS\d{3})\s*:\s*(?P<reason>.*)$")
# The admission policy API (admissionregistration.k8s.io/v1) is served from 1.30 on.
POLICY_MIN_VERSION = "1.30"
POLICY_FILE = Path("kube/policy/admission-policy.yaml")


def skipped_rules(obj: Obj) -> tuple[set[str], list[Finding]]:
    """The rules obj opts out of, and a KS000 finding per malformed opt-out.

    The annotation holds 'KS004: why; KS009: why' (';' or newlines between entries).
    """
    text = dig(obj, "metadata", "annotations", SKIP_ANNOTATION)
    if text is None:
        return set(), []
    skipped, problems = set(), []
    for entry in filter(None, (part.strip() for part in re.split(r"[;\n]", str(text)))):
        match = _SKIP_ENTRY.match(entry)
        problem = ""
        if match is None:
            problem = f"{entry!r} is not 'KSnnn: reason'"
        elif match["rule"] not in RULES:
            problem = f"{match['rule']} is not a rule (known: {', '.join(sorted(RULES))})"
        elif len(match["reason"].split()) < 2:
            problem = f"skipping {match['rule']} needs a reason of a few words, got {entry!r}"
        else:
            skipped.add(match["rule"])
        if problem:
            problems.append(
                Finding("KS000", Severity.ERROR, ref(obj), f"{SKIP_ANNOTATION}: {problem}")
            )
    return skipped, problems


def validate_manifests(
    objects: Sequence[Obj],
    versions: Sequence[str] | None = None,
    rules: Iterable[str] | None = None,
    sources: Sequence[str] | None = None,
) -> list[Finding]:
    """Every finding for objects: schema problems per version, then the rules' findings.

    :param versions: Kubernetes versions to check the schemas of (default: 1.29 to newest);
        an empty list skips schema validation.
    :param rules: rule IDs to run (default: all).
    :param sources: where each object came from (a file name), for the messages.
    """
    versions = supported_versions() if versions is None else list(versions)
    selected = [RULES[rule_id] for rule_id in (rules if rules is not None else sorted(RULES))]
    objects = list(objects)
    findings: list[Finding] = []
    for index, obj in enumerate(objects):
        source = sources[index] if sources else ""
        skipped, problems = skipped_rules(obj)
        findings.extend(problems)
        findings.extend(f for f in schema_findings(obj, versions, source) if f.rule not in skipped)
        for rule in selected:
            if rule.id in skipped:
                continue
            findings.extend(
                Finding(rule.id, rule.severity, ref(obj), message, source)
                for message in rule.check(obj, objects)
            )
    return findings


def render_environment(project: Path, environment: str, kubectl: str = "kubectl") -> list[Obj]:
    """The objects of kube/overlays/<environment>, rendered offline with kubectl kustomize."""
    overlay = project / "kube" / "overlays" / environment
    command = [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(overlay)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise KubestepError(
            f"{kubectl!r} is not installed: kubectl renders the manifests"
        ) from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InvalidValue(f"kube/overlays/{environment} does not render: {reason}")
    return load_documents(result.stdout, f"kube/overlays/{environment}")


def validate_target(project: Path, kubectl: str = "kubectl") -> dict[str, list[Finding]]:
    """Findings per environment of a generated project, and for its admission policy.

    Renders every kube/overlays/<env> with kubectl kustomize (what `inv validate --target`
    runs); the key 'policy' holds the findings of kube/policy/admission-policy.yaml.
    """
    overlays = project / "kube" / "overlays"
    environments = (
        sorted(p.name for p in overlays.iterdir() if p.is_dir()) if (overlays.is_dir()) else []
    )
    if not environments:
        raise InvalidValue(
            f"{str(project)!r} has no kube/overlays/<env>: run "
            "`make kube_env ENV=<env>` there first"
        )
    results = {
        env: validate_manifests(render_environment(project, env, kubectl), sources=None)
        for env in environments
    }
    policy = project / POLICY_FILE
    if os.path.lexists(policy):  # read as any file of a repository: never through a link out
        text = safe_files.read_text(project.resolve(), POLICY_FILE.as_posix())
        objects = load_documents(text, str(POLICY_FILE))
        results["policy"] = validate_manifests(
            objects,
            supported_versions(POLICY_MIN_VERSION),
            sources=[str(POLICY_FILE)] * len(objects),
        )
    return results


def report(findings: list[Finding], versions: list[str], output_format: str) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    if output_format == "json":
        return json.dumps(
            {
                "versions": versions,
                "errors": errors,
                "warnings": warnings,
                "findings": [f.as_dict() for f in findings],
            },
            indent=2,
        )
    lines = [str(f) for f in findings]
    lines.append(
        f"{errors} error(s), {warnings} warning(s); schemas of Kubernetes "
        f"{versions[0] if versions else '-'} to {versions[-1] if versions else '-'}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kubestep.kube.validate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--format", choices=["human", "json"], default="human")
    parser.add_argument(
        "--min-version",
        default=OLDEST_SUPPORTED,
        help=f"oldest Kubernetes version to check (default {OLDEST_SUPPORTED})",
    )
    parser.add_argument("--rules", help="comma-separated rule IDs to run (default: all)")
    args = parser.parse_args(argv)
    try:
        versions = supported_versions(args.min_version)
        rules = args.rules.split(",") if args.rules else None
        unknown = [r for r in rules or [] if r not in RULES]
        if unknown:
            raise InvalidValue(
                f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}"
            )
        loaded = load_files(args.files)
        findings = validate_manifests(
            [o for o, _ in loaded], versions, rules, [s for _, s in loaded]
        )
    except KubestepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report(findings, versions, args.format))
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
