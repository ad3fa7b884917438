"""kubectl diagnose and kubectl podevents on recorded, real-shaped API objects, and their
one-line failure without a cluster."""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubestep import kubectl_plugins
from kubestep.kube import diagnosis
from kubestep.kube.model import load_documents

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kube"
NS = "shop-staging"
CRASH, PULL, UNREADY = "shop-7c9f8d6b5d-2nq8w", "shop-7c9f8d6b5d-k4d9z", "shop-7c9f8d6b5d-p2m7c"
SELECTOR = "app.kubernetes.io/instance=shop-staging,app.kubernetes.io/name=shop"


class RecordedCluster:
    """Answers the exact kubectl commands the plugins run with recorded output."""

    def __init__(self, pods: str = "pods.json") -> None:
        self.calls: list[list[str]] = []
        self.answers = {
            ("get", "deployment", "shop", "--namespace", NS, "--output", "json"): "deployment.json",
            ("get", "pods", "--namespace", NS, "--selector", SELECTOR, "--output", "json"): pods,
            ("get", "pods", "--namespace", NS, "--output", "json"): pods,
            (
                "get",
                "replicasets",
                "--namespace",
                NS,
                "--selector",
                SELECTOR,
                "--output",
                "json",
            ): "replicasets.json",
            **{
                self.events(pod): f"events-{name}.json"
                for pod, name in ((CRASH, "crashloop"), (PULL, "imagepull"), (UNREADY, "readiness"))
            },
            (
                "logs",
                CRASH,
                "--namespace",
                NS,
                "--container",
                "app",
                "--tail",
                "40",
                "--previous",
            ): "logs-crashloop-previous.txt",
            (
                "logs",
                UNREADY,
                "--namespace",
                NS,
                "--container",
                "app",
                "--tail",
                "40",
            ): "logs-readiness.txt",
        }

    @staticmethod
    def events(pod: str) -> tuple[str, ...]:
        return (
            "get",
            "events",
            "--namespace",
            NS,
            "--field-selector",
            f"involvedObject.name={pod}",
            "--output",
            "json",
        )

    def __call__(self, args: Sequence[str]) -> str:
        self.calls.append(list(args))
        name = self.answers.get(tuple(args))
        if name is None:
            raise kubectl_plugins.KubectlError(f"unexpected `kubectl {' '.join(args)}`")
        return (FIXTURES / name).read_text()


def pods() -> dict[str, dict]:
    return {
        p["metadata"]["name"]: p
        for p in load_documents((FIXTURES / "pods.json").read_text(), "pods.json")
    }


def test_container_problems_say_what_an_operator_needs() -> None:
    by_pod = {name: diagnosis.container_problems(pod) for name, pod in pods().items()}
    assert by_pod["shop-5d4b9c8f7a-x7kq2"] == []
    [crash] = by_pod[CRASH]
    assert crash.state.startswith("waiting: CrashLoopBackOff: back-off 2m40s")
    assert (crash.restarts, crash.previous_logs, crash.has_run) == (5, True, True)
    assert crash.last_termination == "last run: exit code 3 (Error) at 2025-03-04T09:15:02Z"
    [pull] = by_pod[PULL]
    assert pull.state.startswith("waiting: ImagePullBackOff: Back-off pulling image")
    assert "not found" in pull.state and not pull.has_run
    [unready] = by_pod[UNREADY]
    assert unready.state == ("running since 2025-03-04T09:12:44Z, not ready (readiness probe)")


def test_events_are_oldest_first_with_counts() -> None:
    events = load_documents((FIXTURES / "events-readiness.json").read_text(), "events")
    lines = diagnosis.format_events(events)
    assert lines[0].startswith("2025-03-04T09:12:41Z Normal Scheduled: Successfully assigned")
    assert lines[-1] == (
        "2025-03-04T09:15:39Z Warning Unhealthy (x35): Readiness probe "
        "failed: HTTP probe failed with statuscode: 503"
    )


def test_diagnose_a_failed_rollout() -> None:
    cluster = RecordedCluster()
    lines = kubectl_plugins.diagnose(cluster, NS, "shop")
    text = "\n".join(lines)
    assert lines[:2] == [
        "deployment/shop: 3/3 ready, 1 updated, 1 unavailable",
        '  Progressing False (ProgressDeadlineExceeded): ReplicaSet "shop-7c9f8d6b5d" has '
        "timed out progressing.",
    ]
    assert "shop-5d4b9c8f7a-x7kq2" not in text  # the ready pod of the old release
    assert f"pod/{CRASH}: Running, 0/1 containers ready, on worker-2, new release" in lines
    assert "    last run: exit code 3 (Error) at 2025-03-04T09:15:02Z" in lines
    assert "  logs of app (previous run, last 40 lines):" in lines
    assert any("DATABASE_URL is required" in line for line in lines)
    assert f"pod/{PULL}: Pending, 0/1 containers ready, on worker-1, new release" in lines
    assert "  logs of app: none, it has not started" in lines
    assert any("Warning Failed (x4): Failed to pull image" in line for line in lines)
    assert any(
        "Readiness probe failed: HTTP probe failed with statuscode: 503" in line for line in lines
    )
    assert any("readiness check redis failed" in line for line in lines)
    logs = [call for call in cluster.calls if call[0] == "logs"]
    assert [call[1] for call in logs] == [CRASH, UNREADY]


def test_diagnose_mid_rollout_shows_the_new_release_first_and_marks_terminating() -> None:
    """The old release's pod is being stopped (deletionTimestamp): it comes last, marked, and
    its logs (the old release's) are not shown as if they explained the failure."""
    cluster = RecordedCluster(pods="pods-rollout.json")
    lines = kubectl_plugins.diagnose(cluster, NS, "shop")
    pods = [line for line in lines if line.startswith("pod/")]
    assert pods == [
        f"pod/{CRASH}: Running, 0/1 containers ready, on worker-2, new release",
        f"pod/{PULL}: Pending, 0/1 containers ready, on worker-1, new release",
        f"pod/{UNREADY}: Running, 0/1 containers ready, on worker-3, new release",
        "pod/shop-5d4b9c8f7a-x7kq2: Terminating since 2025-03-04T09:13:10Z (was Running), "
        "0/1 containers ready, on worker-2, old release",
    ]
    assert lines[-1] == "  logs and events: skipped, the pod is being stopped"
    fetched = [call[1] for call in cluster.calls if call[0] == "logs"]
    assert "shop-5d4b9c8f7a-x7kq2" not in fetched


def test_diagnose_when_everything_is_ready() -> None:
    cluster = RecordedCluster(pods="pods-ready.json")
    assert kubectl_plugins.diagnose(cluster, NS, None) == [f"all 1 pod(s) in {NS} are ready"]
    assert cluster.calls == [["get", "pods", "--namespace", NS, "--output", "json"]]


def test_logs_that_cannot_be_read_do_not_stop_the_diagnosis() -> None:
    cluster = RecordedCluster()
    del cluster.answers[("logs", UNREADY, "--namespace", NS, "--container", "app", "--tail", "40")]
    lines = kubectl_plugins.diagnose(cluster, NS, "shop")
    assert any(line.startswith("  logs of app (current run): unavailable:") for line in lines)


def test_podevents_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert kubectl_plugins.podevents_main([NS, PULL], run=RecordedCluster()) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and out[-1].endswith("Warning Failed (x9): Error: ImagePullBackOff")


def test_diagnose_main_prints_one_line_on_kubectl_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert kubectl_plugins.diagnose_main(["-n", "elsewhere", "shop"], run=RecordedCluster()) == 1
    err = capsys.readouterr().err
    assert err.startswith("kubectl-diagnose: unexpected `kubectl get deployment shop")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("plugin", "args"),
    [("kubectl-diagnose", ["-n", NS, "shop"]), ("kubectl-podevents", [NS, CRASH])],
)
def test_without_a_cluster_one_line_and_exit_1(
    tmp_path: Path, plugin: str, args: list[str]
) -> None:
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "missing")}
    script = Path(sys.executable).parent / plugin
    result = subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{plugin}: `kubectl get ")
    assert "Traceback" not in result.stderr


def test_a_missing_kubectl_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBESTEP_KUBECTL", "/nonexistent/kubectl")
    with pytest.raises(kubectl_plugins.KubectlError, match="not installed"):
        kubectl_plugins.run_kubectl(["get", "pods"])
