"""Step 6, keep it running: from Nagios on boxes, cron on one host and hosts in a config file
to alerts by labels, probes, CronJobs and legacy services bridged into cluster DNS, because a
migration is done only when it is operated.

The template renders the monitoring, the CronJobs and a bridge skeleton from the answers;
this module bridges each environment's own legacy hosts (from its config/<env>.ini, which may
differ from the example) and points that config at the cluster names.
"""

import configparser
from pathlib import Path

from kubestep.errors import StepError
from kubestep.keep import bridge, files
from kubestep.merge import Change, File, read_file
from kubestep.steps import Answers, Step


def _sections(path: str, text: str) -> dict[str, dict[str, str]]:
    """The sections of an environment's INI file; a file that does not parse stops the step
    (its hosts cannot be read, and the service could not read it either)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        reason = " ".join(str(error).split())
        raise StepError(f"{path} does not parse ({reason}): fix it, then rerun step 6") from None
    return {name: dict(parser[name]) for name in parser.sections()}


def environments(target: Path, answers: Answers) -> list[str]:
    """The answered environments and every overlay the target has (`make kube_env` adds some)."""
    overlays = target / "kube" / "overlays"
    found = {p.name for p in overlays.iterdir() if p.is_dir()} if overlays.is_dir() else set()
    return sorted(found | set(answers.get("environments") or []))


def bridge_environments(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    """Per environment: kube/bridge/<env>.yaml from its own config, and the config re-pointed."""
    legacy = answers.get("legacy") or {}
    if not legacy.get("config_file"):
        return changes
    planned = {change.path: change for change in changes}
    result = list(changes)
    for env in environments(target, answers):
        ini_path = f"config/{env}.ini"
        change = planned.get(ini_path)
        current = change.file if change and change.file else read_file(target, ini_path)
        if current is None:
            continue
        found = bridge.targets(
            _sections(ini_path, current.text),
            legacy.get("backing_services") or [],
            answers["service_name"],
        )
        bridge_path = f"kube/bridge/{env}.yaml"
        manifest = File(files.bridge_manifest(answers, env, found))
        result = [c for c in result if c.path not in (ini_path, bridge_path)]
        result.append(Change(bridge_path, "add", manifest, f"{len(found)} legacy host(s) of {env}"))
        if found:
            note = f"in {answers['service_name']}-{env} (kube/bridge/{env}.yaml)"
            text = bridge.repoint_ini(current.text, found, note)
            warnings = "; ".join(bridge.warnings(found))
            result.append(
                Change(
                    ini_path,
                    "update",
                    File(text, current.executable),
                    "hosts now name cluster Services"
                    + (f"; warning: {warnings}" if warnings else ""),
                )
            )
        elif change:
            result.append(change)
    return result


STEP = Step(
    number=6,
    label="6",
    title="keep it running: legacy services in cluster DNS, alerts by labels, CronJobs",
    answer="keep_running",
    needs=4,
    adds=[
        "kube/bridge/<env>.yaml: each legacy host of config/<env>.ini as a Service "
        "(ExternalName, or a Service and EndpointSlice for an IP); the config names it",
        "monitoring/: alert rules by labels (promtool unit tests), Alertmanager route; "
        "kube/overlays/<env>/monitoring.yaml: PrometheusRule, ServiceMonitor, Probes",
        "Nagios checks as probes and alerts; custom plugins and cron entries as CronJobs "
        "(kube/jobs)",
    ],
    adjust=bridge_environments,
)
