"""`make kube_apply` and `make kube_rollback` of a generated service against a fake kubectl
(tests/fake_cluster.py) that records every command and answers with recorded API objects:
each defect a real cluster showed (issue 15) has a test here."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fake_cluster import FakeCluster, locked_state
from tests.render import VENV_BIN, generate

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "template" / "kube" / "deploy"
FAKE = f"{sys.executable} {REPO / 'tests' / 'fake_cluster.py'}"
IMAGE = "registry.example.com/platform/shop"
NS = "shop-staging"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("deploy") / "shop", service_name="shop")


@pytest.fixture
def service(rendered: Path, tmp_path: Path) -> Path:
    """A fresh copy of the rendered service, and an empty cluster (state.json next to it)."""
    project = tmp_path / "shop"
    shutil.copytree(rendered, project)
    (tmp_path / "state.json").write_text("{}")
    return project


def state_path(service: Path) -> Path:
    return service.parent / "state.json"


def state(service: Path) -> dict[str, Any]:
    with locked_state(state_path(service)) as current:
        return current


def set_state(service: Path, **values: Any) -> None:
    with locked_state(state_path(service)) as current:
        current.update(values)


def environment(service: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_KUBE_STATE": str(state_path(service)),
    }


def make_args(target: str, tag: str, variables: dict[str, str]) -> list[str]:
    # The offline rules have a test of their own; elsewhere `true` stands in (1 s less each).
    settings = {"ENV": "staging", "TAG": tag, "KUBECTL": FAKE, "POLL": "0.05s"}
    settings.update({"KUBE_VALIDATE": "true", **variables})
    return ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in settings.items())]


def deploy(
    service: Path, tag: str, target: str = "kube_apply", **variables: str
) -> subprocess.CompletedProcess[str]:
    set_state(service, log=[], clocked=[])
    return subprocess.run(
        make_args(target, tag, variables),
        cwd=service,
        capture_output=True,
        text=True,
        env=environment(service),
        timeout=120,
        check=False,
    )


def exit_code(result: subprocess.CompletedProcess[str]) -> int:
    """The driver's exit code, which make reports as `Error N` (make itself exits 2)."""
    if result.returncode == 0:
        return 0
    found = re.search(r"\] Error (\d+)$", result.stderr, re.MULTILINE)
    assert found, result.stderr
    return int(found[1])


def changes(service: Path) -> list[str]:
    """Every command of the last deploy but the reads."""
    return [entry for entry in state(service)["log"] if not entry.startswith("get ")]


def snapshot(service: Path) -> dict[str, Any]:
    """Every object of the release as the API server has it, without what the server itself
    changes on each write (resourceVersion, generation, status, the revision counter)."""
    found = {}
    for name, obj in state(service)["objects"].items():
        if name.startswith(("Lease/", "ConfigMap/shop-staging/shop-releases")):
            continue
        obj = json.loads(json.dumps(obj))
        obj.pop("status", None)
        for field in ("resourceVersion", "generation"):
            obj["metadata"].pop(field, None)
        (obj["metadata"].get("annotations") or {}).pop("deployment.kubernetes.io/revision", None)
        found[name] = obj
    return found


def behave(service: Path, tag: str, how: str, after: float = 0) -> None:
    current = state(service).get("behaviour", {})
    current[f"{IMAGE}:{tag}"] = {"state": how, "after": after}
    set_state(service, behaviour=current)


def first_good_release(service: Path) -> dict[str, Any]:
    result = deploy(service, "1.0.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{IMAGE}:1.0.0 is live in staging" in result.stdout
    return snapshot(service)


# 1. A first deploy that fails is not "rolled back" --------------------------------------
def test_a_failed_first_deploy_says_what_is_left_and_has_its_own_exit_code(
    service: Path,
) -> None:
    behave(service, "1.0.0", "imagepull")
    result = deploy(service, "1.0.0", FAIL_GRACE="0")
    assert exit_code(result) == 5
    assert "rolled back" not in result.stderr.replace("nothing was rolled back", "")
    assert "this was the first deploy of staging" in result.stderr
    assert "left in namespace shop-staging: configmap/shop-config-" in result.stderr
    assert "deployment/shop has 0 of 2 pods ready" in result.stderr
    assert "kubectl scale deployment/shop --replicas 0 --namespace shop-staging" in result.stderr
    assert "kubectl delete --filename build/kube/staging.deploy.yaml" in result.stderr
    assert not any(entry.startswith("rollout undo") for entry in changes(service))
    assert "diagnose --namespace shop-staging shop" in changes(service)
    assert "Deployment/shop-staging/shop" in state(service)["objects"]  # left, as it says
    again = deploy(service, "1.0.0", target="kube_rollback")
    assert exit_code(again) == 1
    assert "has no good release on record (its first deploy, 1.0.0, failed)" in again.stderr


# 2. A failed upgrade leaves every object as the last good release had it ----------------
def test_a_failed_upgrade_restores_every_object_of_the_last_good_release(service: Path) -> None:
    good = first_good_release(service)
    # A real change to the release besides the image: a new ConfigMap (its name has a hash).
    with (service / "config" / "staging.env").open("a") as env:
        env.write("FEATURE_X=on\n")
    behave(service, "1.0.1", "crashloop")
    result = deploy(service, "1.0.1", FAIL_GRACE="0")
    assert exit_code(result) == 4, result.stderr
    assert "1.0.1 did not roll out in staging (pod/shop-" in result.stderr
    assert "CrashLoopBackOff" in result.stderr
    assert "rolled back to 1.0.0, every object as that release had it" in result.stderr
    assert snapshot(service) == good
    log = changes(service)
    added = next(e for e in log if e.startswith("delete configmap/shop-config-"))
    assert log == [
        "replace --filename - --output json <Lease shop-deploy>",
        "apply --dry-run=server --filename build/kube/staging.deploy.yaml --output json",
        "replace --filename - --output json <ConfigMap shop-releases>",
        "apply --filename build/kube/staging.deploy.yaml",
        "diagnose --namespace shop-staging shop",
        "apply --filename build/kube/staging.last-good.yaml",
        added,
        "replace --filename - --output json <ConfigMap shop-releases>",
        "replace --filename - --output json <Lease shop-deploy>",
    ]
    assert (
        "holderIdentity" not in state(service)["objects"]["Lease/shop-staging/shop-deploy"]["spec"]
    )


def test_kube_rollback_goes_back_one_release_as_a_whole(service: Path) -> None:
    good = first_good_release(service)
    with (service / "config" / "staging.env").open("a") as env:
        env.write("FEATURE_X=on\n")
    assert deploy(service, "1.0.1").returncode == 0
    assert snapshot(service) != good
    result = deploy(service, "1.0.1", target="kube_rollback")
    assert result.returncode == 0, result.stderr
    assert "staging is back at 1.0.0, every object as it had them" in result.stdout
    assert snapshot(service) == good
    again = deploy(service, "1.0.1", target="kube_rollback")
    assert exit_code(again) == 1
    assert "has no release before 1.0.0 on record" in again.stderr


def test_without_a_record_the_rollback_says_it_restored_the_pod_template_only(
    service: Path,
) -> None:
    """An environment deployed before the record existed: `rollout undo`, said plainly."""
    first_good_release(service)
    objects = state(service)["objects"]
    del objects["ConfigMap/shop-staging/shop-releases"]
    set_state(service, objects=objects)
    behave(service, "1.0.1", "crashloop")
    result = deploy(service, "1.0.1", FAIL_GRACE="0")
    assert exit_code(result) == 4
    assert "rolled back the Deployment's pod template only (kubectl rollout undo)" in result.stderr
    assert "rollout undo deployment/shop --namespace shop-staging" in changes(service)


# 3. Nothing changes when the release would be refused -----------------------------------
def test_a_release_the_admission_policy_denies_changes_nothing(service: Path) -> None:
    good = first_good_release(service)
    set_state(service, deny={"Deployment": "containers must not run as root (KS005)"})
    with (service / "config" / "staging.env").open("a") as env:
        env.write("FEATURE_X=on\n")
    result = deploy(service, "1.0.1")
    assert exit_code(result) == 1
    assert "refused the release in its dry run" in result.stderr
    assert "denied request: containers must not run as root (KS005)" in result.stderr
    assert "nothing of it was changed" in result.stderr
    assert snapshot(service) == good
    assert changes(service) == [
        "replace --filename - --output json <Lease shop-deploy>",
        "apply --dry-run=server --filename build/kube/staging.deploy.yaml --output json",
        "replace --filename - --output json <Lease shop-deploy>",
    ]


def test_the_offline_rules_run_before_any_kubectl(service: Path) -> None:
    result = deploy(service, "latest", KUBE_VALIDATE="python -m kubestep.kube.validate")
    assert exit_code(result) == 1
    assert "KS004" in result.stdout
    assert "breaks `make validate`'s rules (above): nothing was changed" in result.stderr
    assert state(service)["log"] == []


def test_a_first_deploy_dry_runs_the_namespace_then_the_release(service: Path) -> None:
    set_state(service, deny={"Deployment": "image tag latest (KS004)"})
    result = deploy(service, "1.0.0")
    assert exit_code(result) == 1
    assert changes(service) == [
        "apply --dry-run=server --filename build/kube/staging.deploy.yaml "
        "--selector kubestep.dev/apply-first=true",
        "apply --filename build/kube/staging.deploy.yaml --selector kubestep.dev/apply-first=true",
        "create --filename - --output json <Lease shop-deploy>",
        "apply --dry-run=server --filename build/kube/staging.deploy.yaml --output json",
        "replace --filename - --output json <Lease shop-deploy>",
    ]
    kinds = sorted(name.split("/")[0] for name in state(service)["objects"])
    assert kinds == ["Lease", "Namespace"]


# 8. One deploy at a time, and "is live" only when it is ----------------------------------
def test_a_second_deploy_fails_with_one_line_naming_the_holder(service: Path) -> None:
    first_good_release(service)
    behave(service, "1.0.1", "ready", after=6.0)  # a slow rollout keeps the lease held
    set_state(service, log=[])
    first = subprocess.Popen(
        make_args("kube_apply", "1.0.1", {}),
        cwd=service,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(service),
    )
    deadline = time.monotonic() + 60
    while "apply --filename build/kube/staging.deploy.yaml" not in state(service)["log"]:
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = subprocess.run(
        make_args("kube_apply", "1.0.2", {}),
        cwd=service,
        capture_output=True,
        text=True,
        env=environment(service),
        timeout=120,
        check=False,
    )
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert f"{IMAGE}:1.0.1 is live in staging" in out
    assert exit_code(second) == 3
    [line] = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: staging is being deployed by ")
    assert f"kube_apply staging {IMAGE}:1.0.1" in line or f"apply staging {IMAGE}:1.0.1" in line
    assert "is live" not in second.stdout
    live = state(service)["objects"]["Deployment/shop-staging/shop"]
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == f"{IMAGE}:1.0.1"


def test_is_live_only_after_checking_the_live_image(service: Path) -> None:
    first_good_release(service)
    set_state(service, tamper_image=f"{IMAGE}:1.0.2")  # someone's `kubectl set image`
    result = deploy(service, "1.0.1")
    assert exit_code(result) == 7
    assert "is live" not in result.stdout
    assert f"runs {IMAGE}:1.0.2" in result.stderr
    assert f"not {IMAGE}:1.0.1" in result.stderr


# The driver in-process: a fake clock, recorded timings, the lease's compare-and-swap ----
class FakeClock:
    def __init__(self) -> None:
        self.moment = 1_741_079_560.0  # 2025-03-04T09:12:40Z, the recorded deploy

    def now(self) -> float:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += seconds


def load_driver(name: str) -> Any:
    if str(DRIVER) not in sys.path:
        sys.path.insert(0, str(DRIVER))
    if name == "__main__":
        spec = importlib.util.spec_from_file_location("kube_deploy_main", DRIVER / "__main__.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(name)


class InProcess:
    """The driver's main() against a FakeCluster, both on one fake clock."""

    def __init__(self, service: Path) -> None:
        result = subprocess.run(
            make_args("kube_apply", "1.0.0", {"DRY_RUN": "1"}),
            cwd=service,
            capture_output=True,
            text=True,
            env=environment(service),
            check=False,
        )
        assert result.returncode == 0, result.stderr
        self.template = (service / "build" / "kube" / "staging.deploy.yaml").read_text()
        self.service = service
        self.clock = FakeClock()
        self.state: dict[str, Any] = {}
        self.cluster = FakeCluster(self.state, now=self.clock.now)
        self.main = load_driver("__main__")
        self.answer = load_driver("deploy_kubectl").Answer

    def run(self, args: list[str], stdin: str | None = None) -> Any:
        return self.answer(*self.cluster(args, stdin))

    def deploy(self, tag: str, *options: str) -> int:
        manifest = self.service / "build" / "kube" / f"staging.{tag}.yaml"
        manifest.write_text(
            self.template.replace(":1.0.0", f":{tag}")
            .replace("version: 1.0.0", f"version: {tag}")
            .replace("2025-01-01T00:00:00Z", f"at-{self.clock.now()}")
        )
        self.state["log"], self.state["clocked"] = [], []
        argv = [
            "apply",
            *("--env", "staging", "--namespace", NS, "--deployment", "shop"),
            *("--manifest", str(manifest), "--what", f"{IMAGE}:{tag}", *options),
        ]
        return int(self.main.main(argv, run=self.run, now=self.clock.now, sleep=self.clock.sleep))

    def rollback(self) -> int:
        argv = ["rollback", "--env", "staging", "--namespace", NS, "--deployment", "shop"]
        argv += ["--manifest", str(self.service / "build" / "kube" / "staging.deploy.yaml")]
        return int(self.main.main(argv, run=self.run, now=self.clock.now, sleep=self.clock.sleep))

    def seconds_to_verdict(self) -> float:
        """From the apply of the release to the diagnosis of its failure, on the fake clock."""
        clocked = self.state["clocked"]
        applied = next(t for t, e in clocked if e.startswith("apply --filename /"))
        judged = next(t for t, e in clocked if e.startswith("diagnose"))
        return float(judged - applied)


# 4. A failing release fails in seconds, not at the 90 s progress deadline ---------------
# The recorded events of the crash-looping pod (events-crashloop.json): created 1 s after the
# deploy, started at 2 s, first BackOff at 5 s; the unpullable one: ErrImagePull at 3 s.
@pytest.mark.parametrize(
    ("how", "visible_after", "grace", "within"),
    [
        ("crashloop", 5, "10s", (15, 17)),
        ("imagepull", 3, "10s", (13, 15)),
        ("oom", 4, "10s", (14, 16)),
        ("configerror", 2, "10s", (12, 14)),
        ("crashloop", 5, "0", (5, 7)),
    ],
)
def test_a_failing_release_is_rolled_back_well_under_30_s(
    service: Path, how: str, visible_after: float, grace: str, within: tuple[float, float]
) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    run.state["behaviour"] = {f"{IMAGE}:1.0.1": {"state": how, "after": visible_after}}
    assert run.deploy("1.0.1", "--fail-grace", grace) == 4
    low, high = within
    assert low <= run.seconds_to_verdict() <= high


def test_a_slow_starter_is_not_failed_by_the_grace(service: Path) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    run.state["behaviour"] = {f"{IMAGE}:1.0.1": {"state": "ready", "after": 45}}
    assert run.deploy("1.0.1") == 0
    assert run.state["objects"]["ConfigMap/shop-staging/shop-releases"]["data"]["good.json"]


def test_a_release_that_never_gets_ready_fails_at_the_timeout(service: Path) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    run.state["behaviour"] = {f"{IMAGE}:1.0.1": {"state": "ready", "after": 1000}}
    assert run.deploy("1.0.1", "--timeout", "30s") == 4
    assert 30 <= run.seconds_to_verdict() <= 33


def test_an_expired_lease_is_taken_over_with_compare_and_swap(service: Path) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    lease = run.state["objects"]["Lease/shop-staging/shop-deploy"]
    lease["spec"].update(
        holderIdentity="ci@runner-2 (pid 7, apply staging 0.9.9)",
        renewTime="2025-03-04T09:10:00.000000Z",  # long before the fake clock's now
        leaseDurationSeconds=60,
    )
    assert run.deploy("1.0.1") == 0
    assert run.state["log"][1:3] == [
        "get lease shop-deploy --namespace shop-staging --output json",
        "replace --filename - --output json <Lease shop-deploy>",
    ]
    assert run.state["objects"]["Lease/shop-staging/shop-deploy"]["spec"]["leaseTransitions"] >= 1


def test_a_lease_renewed_in_time_is_respected(service: Path) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    lease = run.state["objects"]["Lease/shop-staging/shop-deploy"]
    renewed = load_driver("deploy_lease").micro_time(run.clock.now() - 30)
    lease["spec"].update(holderIdentity="ci@runner-2 (pid 7)", renewTime=renewed)
    assert run.deploy("1.0.1") == 3
    assert not any(e.startswith("apply") for e in run.state["log"])
    assert run.deploy("1.0.1", "--lock-wait", "45s") == 0  # the holder's lease expires at 30 s


def test_a_lost_create_race_reads_the_winner() -> None:
    clock, state = FakeClock(), {"objects": {}}
    cluster = FakeCluster(state, now=clock.now)
    lease_module, kubectl_module = load_driver("deploy_lease"), load_driver("deploy_kubectl")
    winner = lease_module.Lease(
        kubectl_module.Kubectl(lambda a, s=None: kubectl_module.Answer(*cluster(a, s))),
        NS,
        "shop-deploy",
        "alice",
        60,
        clock.now,
        clock.sleep,
    )
    state["objects"]["Namespace//shop-staging"] = {"kind": "Namespace", "metadata": {}}
    calls: list[list[str]] = []

    def racing(args: list[str], stdin: str | None = None) -> Any:
        calls.append(list(args))
        if args[0] == "create" and winner.held is None:
            winner.acquire(0)  # alice creates it between bob's read and bob's create
        return kubectl_module.Answer(*cluster(args, stdin))

    loser = lease_module.Lease(
        kubectl_module.Kubectl(racing), NS, "shop-deploy", "bob", 60, clock.now, clock.sleep
    )
    with pytest.raises(lease_module.Locked, match="alice"):
        loser.acquire(0)
    assert [c[0] for c in calls] == ["get", "create", "get"]


def test_durations_and_exit_codes_are_documented() -> None:
    main = load_driver("__main__")
    assert [main.seconds(t) for t in ("90", "90s", "2m", "500ms")] == [90, 90, 120, 0.5]
    docs = (REPO / "docs" / "kubernetes.rst").read_text()
    for code in main.EXIT:
        assert re.search(rf"^``{code}``\s", docs, re.MULTILINE), code


def test_a_deploy_cut_off_after_its_apply_releases_the_lock_and_can_be_undone(
    service: Path,
) -> None:
    run = InProcess(service)
    assert run.deploy("1.0.0") == 0
    good = {k: v["metadata"].get("labels") for k, v in run.state["objects"].items()}
    applied = run.run

    def interrupted(args: list[str], stdin: str | None = None) -> Any:
        answer = applied(args, stdin)
        if list(args[:2]) == ["apply", "--filename"]:
            raise KeyboardInterrupt  # Ctrl-C right after the apply
        return answer

    run.run = interrupted  # type: ignore[method-assign]
    assert run.deploy("1.0.1") == 6
    lease = run.state["objects"]["Lease/shop-staging/shop-deploy"]
    assert "holderIdentity" not in lease["spec"]
    record = run.state["objects"]["ConfigMap/shop-staging/shop-releases"]["data"]
    assert "1.0.1" in record["attempt.json"]
    run.run = applied  # type: ignore[method-assign]
    assert run.rollback() == 0
    labels = {k: v["metadata"].get("labels") for k, v in run.state["objects"].items()}
    assert {k: labels[k] for k in good} == good
    record = run.state["objects"]["ConfigMap/shop-staging/shop-releases"]["data"]
    assert "attempt.json" not in record
