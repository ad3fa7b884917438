"""The template's door to step 6: `{{ step6('monitoring', '__ENV__') }}` renders one file
from the answers in the template's context, so the YAML is built (and tested) in Python."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from kubestep.keep import consul, files

_FILES = {
    "monitoring": files.monitoring,
    "rules": files.rule_file,
    "rule_tests": files.rule_tests,
    "alertmanager": files.alertmanager,
    "jobs": files.jobs,
}


def answers_of(context: Context) -> dict[str, Any]:
    return {key: value for key, value in context.get_all().items() if not key.startswith("_")}


@pass_context
def step6(context: Context, kind: str, *args: str) -> str:
    """The text of one step-6 file, or a fact about the answers ('has_jobs', 'bridged')."""
    answers = answers_of(context)
    if kind == "has_jobs":
        return "yes" if files.has_jobs(answers) else ""
    if kind == "bridged":
        legacy = answers.get("origin") == "legacy"
        return "yes" if legacy and files.example_targets(answers) else ""
    if kind == "consul_found":
        return "yes" if consul.found(answers) else ""
    if kind == "consul_values":
        return files.dump(
            [consul.sync_values(answers)],
            files.comment(
                "consul-k8s Helm values for the platform team's release (helm upgrade consul "
                "hashicorp/consul -f ...): catalog sync in both directions. See the README."
            ),
        )
    if kind == "coredns":
        return consul.coredns_stanza()
    if kind == "bridge":
        return files.bridge_manifest(answers, args[0], files.example_targets(answers))
    return _FILES[kind](answers, *args)


@pass_context
def step6_items(context: Context, kind: str) -> list[Any]:
    """Lists for the README: 'alerts' (name, anchor, summary), 'checks' (translations),
    'bridged' (legacy targets), 'jobs' (name, schedule, command, why)."""
    answers = answers_of(context)
    if kind == "alerts":
        return files.alert_names(answers)
    if kind == "checks":
        return files.translations(answers)
    if kind == "bridged":
        return files.example_targets(answers) if answers.get("origin") == "legacy" else []
    if kind == "jobs":
        return files.job_entries(answers) if answers.get("origin") == "legacy" else []
    raise KeyError(kind)
