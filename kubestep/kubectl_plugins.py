"""kubectl plugins, installed as console scripts with kubestep:

    kubectl diagnose -n NAMESPACE [DEPLOYMENT]   why pods are not ready, with events and logs
    kubectl podevents NAMESPACE POD              one pod's events, oldest first

Both call the real kubectl through one runner (tests replace it); without a reachable
cluster they print one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kubestep.errors import KubestepError
from kubestep.kube import diagnosis

Runner = Callable[[Sequence[str]], str]
_KLOG_LINE = re.compile(r"^[IWEF]\d{4} ")


class KubectlError(KubestepError):
    """kubectl failed: the cluster is unreachable, or it refused the request."""


def run_kubectl(args: Sequence[str]) -> str:
    """kubectl's stdout; a KubectlError with kubectl's own last message when it fails."""
    kubectl = os.environ.get("KUBESTEP_KUBECTL", "kubectl")
    try:
        result = subprocess.run(
            [kubectl, *args], capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise KubectlError(f"{kubectl!r} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise KubectlError(f"`kubectl {' '.join(args)}` did not answer within 60 s") from None
    if result.returncode != 0:
        lines = [
            line
            for line in result.stderr.splitlines()
            if line.strip() and not _KLOG_LINE.match(line)
        ]
        reason = lines[-1].strip() if lines else f"exit code {result.returncode}"
        raise KubectlError(f"`kubectl {' '.join(args)}` failed: {reason}")
    return result.stdout


def _json(run: Runner, args: Sequence[str]) -> Any:
    output = run(args)
    try:
        return json.loads(output)
    except json.JSONDecodeError:
        raise KubectlError(f"`kubectl {' '.join(args)}` did not return JSON") from None


def pod_events(run: Runner, namespace: str, pod: str) -> list[dict[str, Any]]:
    document = _json(
        run,
        [
            "get",
            "events",
            "--namespace",
            namespace,
            "--field-selector",
            f"involvedObject.name={pod}",
            "--output",
            "json",
        ],
    )
    return list(document.get("items") or [])


def _indent(lines: Sequence[str], prefix: str = "    ") -> list[str]:
    return [prefix + line for line in lines]


def diagnose(run: Runner, namespace: str, deployment: str | None, tail: int = 40) -> list[str]:
    """The diagnosis as lines: the deployment, then each pod that is not ready with its
    containers' states, restarts, last termination, events and logs."""
    lines: list[str] = []
    selector: list[str] = []
    current_hash = ""
    if deployment:
        name = deployment.removeprefix("deployment/").removeprefix("deployment.apps/")
        found = _json(
            run, ["get", "deployment", name, "--namespace", namespace, "--output", "json"]
        )
        lines.extend(diagnosis.deployment_summary(found))
        selector = ["--selector", diagnosis.selector_argument(found)]
        current_hash = _current_template_hash(run, namespace, selector, found)
    pods = _json(run, ["get", "pods", "--namespace", namespace, *selector, "--output", "json"])
    items = list(pods.get("items") or [])
    unready = [pod for pod in items if not diagnosis.is_ready(pod) or diagnosis.is_terminating(pod)]
    if not unready:
        lines.append(f"all {len(items)} pod(s) in {namespace} are ready")
        return lines
    for pod in diagnosis.release_order(unready, current_hash):
        pod_name = pod["metadata"]["name"]
        lines.append("")
        lines.append(diagnosis.pod_summary(pod, current_hash))
        if diagnosis.is_terminating(pod):
            lines.append("  logs and events: skipped, the pod is being stopped")
            continue
        if pod_problem := diagnosis.pod_problem(pod):
            lines.append(f"  pod: {pod_problem}")
        problems = diagnosis.container_problems(pod)
        for problem in problems:
            lines.append(f"  container {problem.name}: {problem.state}")
            lines.append(f"    restarts: {problem.restarts}")
            if problem.last_termination:
                lines.append(f"    {problem.last_termination}")
        events = diagnosis.format_events(pod_events(run, namespace, pod_name))
        lines.append("  events:" if events else "  events: none")
        lines.extend(_indent(events))
        for problem in problems:
            lines.extend(_logs(run, namespace, problem, tail))
    return lines


def _current_template_hash(
    run: Runner, namespace: str, selector: list[str], deployment: dict[str, Any]
) -> str:
    """The new release's pod-template-hash; '' when the ReplicaSets cannot be read."""
    try:
        found = _json(
            run, ["get", "replicasets", "--namespace", namespace, *selector, "--output", "json"]
        )
    except KubectlError:
        return ""
    return diagnosis.current_template_hash(deployment, list(found.get("items") or []))


def _logs(run: Runner, namespace: str, problem: diagnosis.ContainerProblem, tail: int) -> list[str]:
    if not problem.has_run:
        return [f"  logs of {problem.name}: none, it has not started"]
    args = [
        "logs",
        problem.pod,
        "--namespace",
        namespace,
        "--container",
        problem.name,
        "--tail",
        str(tail),
    ]
    if problem.previous_logs:
        args.append("--previous")
    which = "previous run" if problem.previous_logs else "current run"
    try:
        output = run(args)
    except KubectlError as error:
        return [f"  logs of {problem.name} ({which}): unavailable: {error}"]
    return [
        f"  logs of {problem.name} ({which}, last {tail} lines):",
        *_indent(output.rstrip("\n").splitlines() or ["(empty)"]),
    ]


def podevents(run: Runner, namespace: str, pod: str) -> list[str]:
    events = diagnosis.format_events(pod_events(run, namespace, pod))
    return events or [f"no events for pod/{pod} in {namespace} (events expire after an hour)"]


def _main(
    prog: str,
    argv: Sequence[str] | None,
    build: Callable[[argparse.Namespace], list[str]],
    parser: argparse.ArgumentParser,
) -> int:
    args = parser.parse_args(argv)
    try:
        lines = build(args)
    except KubestepError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def diagnose_main(argv: Sequence[str] | None = None, run: Runner = run_kubectl) -> int:
    """`kubectl diagnose -n NAMESPACE [DEPLOYMENT]`."""
    parser = argparse.ArgumentParser(
        prog="kubectl diagnose",
        description=(
            "Explain why pods are not ready: container states, restarts, last exit, events, logs."
        ),
    )
    parser.add_argument("-n", "--namespace", default="default")
    parser.add_argument("deployment", nargs="?", help="only this deployment's pods")
    parser.add_argument("--tail", type=int, default=40, help="log lines per container")
    return _main(
        "kubectl-diagnose", argv, lambda a: diagnose(run, a.namespace, a.deployment, a.tail), parser
    )


def podevents_main(argv: Sequence[str] | None = None, run: Runner = run_kubectl) -> int:
    """`kubectl podevents NAMESPACE POD`."""
    parser = argparse.ArgumentParser(
        prog="kubectl podevents", description="One pod's events, oldest first."
    )
    parser.add_argument("namespace")
    parser.add_argument("pod")
    return _main("kubectl-podevents", argv, lambda a: podevents(run, a.namespace, a.pod), parser)
