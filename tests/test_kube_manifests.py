"""Step 4 as a user meets it: render a service, run its kube targets, check what they write
and the exact kubectl commands they would run (DRY_RUN=1, or a fake kubectl)."""

import copy
import os
import pty
import subprocess
from pathlib import Path

import copier
import pytest
import yaml

from kubestep.kube.model import load_documents
from kubestep.kube.schema import supported_versions
from kubestep.kube.validate import main as validate_main
from kubestep.kube.validate import validate_manifests, validate_target
from tests.render import VENV_BIN

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "kube"
REGENERATE = os.environ.get("KUBESTEP_REGENERATE_GOLDEN") == "1"
ENVIRONMENTS = ["canary", "production", "staging"]
YAMLLINT = {"extends": "relaxed", "rules": {"line-length": {"max": 120}}}


def render(dst: Path, **data: object) -> Path:
    answers = {"service_name": "shop", "team": "platform", **data}
    copier.run_copy(str(REPO), dst, data=answers, defaults=True, unsafe=True, quiet=True)
    return dst


def make(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        # kube_apply validates with `python3 -m kubestep.kube.validate`: this venv's.
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    if check and result.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned(output: str) -> list[str]:
    """The kubectl commands a DRY_RUN=1 run printed (make echoes `echo kubectl ...` first)."""
    return [
        line
        for line in output.splitlines()
        if line.startswith("kubectl ") and not line.startswith("kubectl kustomize")
    ]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(tmp_path_factory.mktemp("new") / "shop")
    for env in ENVIRONMENTS:
        make(project, "kube_create_config", f"ENV={env}", "TAG=1.0.0")
    return project


def objects_of(project: Path, env: str) -> list[dict]:
    path = project / "build" / "kube" / f"{env}.yaml"
    return load_documents(path.read_text(), str(path))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_passes_schemas_and_rules(service: Path, env: str) -> None:
    findings = validate_manifests(objects_of(service, env))
    assert findings == []
    assert supported_versions()[0] == "1.29"


def test_environments_differ_only_where_they_should(service: Path) -> None:
    def pick(env: str, kind: str) -> dict:
        return next(o for o in objects_of(service, env) if o["kind"] == kind)

    production, staging = pick("production", "Deployment"), pick("staging", "Deployment")
    assert (production["spec"]["replicas"], staging["spec"]["replicas"]) == (3, 2)
    assert pick("canary", "Deployment")["spec"]["replicas"] == 1
    assert production["metadata"]["namespace"] == "shop-production"
    hosts = {env: pick(env, "Ingress")["spec"]["rules"][0]["host"] for env in ENVIRONMENTS}
    assert hosts == {
        "canary": "shop.canary.example.com",
        "production": "shop.example.com",
        "staging": "shop.staging.example.com",
    }
    container = production["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/platform/shop:1.0.0"
    assert container["resources"]["requests"]["memory"] == "256Mi"
    assert pick("staging", "ConfigMap")["data"]["ENVIRONMENT"] == "staging"
    assert (service / "config" / "production.env").read_text().count("ENVIRONMENT=production")


def test_staging_matches_the_golden_file(service: Path) -> None:
    rendered = (service / "build" / "kube" / "staging.yaml").read_text()
    golden = GOLDEN / "staging.yaml"
    if REGENERATE:
        golden.write_text(rendered)
    assert rendered == golden.read_text(), "regenerate with KUBESTEP_REGENERATE_GOLDEN=1"


def test_rendered_yaml_is_lint_clean(service: Path) -> None:
    files = [
        *sorted((service / "kube").rglob("*.yaml")),
        *sorted((service / "build" / "kube").glob("*.yaml")),
    ]
    result = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "yamllint"),
            "--strict",
            "-d",
            yaml.safe_dump(YAMLLINT),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_the_admission_policy_is_valid_from_1_30(service: Path) -> None:
    policy = service / "kube" / "policy" / "admission-policy.yaml"
    assert validate_main(["--min-version", "1.30", str(policy)]) == 0
    kinds = [o["kind"] for o in load_documents(policy.read_text(), "policy")]
    assert kinds == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]


def test_validate_target_renders_every_environment(service: Path) -> None:
    results = validate_target(service)
    assert sorted(results) == sorted([*ENVIRONMENTS, "policy"])
    assert all(findings == [] for findings in results.values())


def test_kube_apply_plans_a_deploy_of_the_whole_release(service: Path) -> None:
    result = make(
        service,
        "kube_apply",
        "ENV=staging",
        "TAG=1.0.0",
        "DRY_RUN=1",
        "DEPLOYED_AT=2025-01-01T00:00:00Z",
    )
    deploy = "build/kube/staging.deploy.yaml"
    assert f"python3 -m kubestep.kube.validate {deploy}" in result.stdout  # run, offline
    assert "0 error(s), 0 warning(s)" in result.stdout
    get = "--namespace shop-staging --output json"
    write = "kubectl replace --filename - --output json"
    assert planned(result.stdout) == [
        "kubectl get namespace shop-staging --output json",
        f"kubectl get lease shop-deploy {get}",
        write,
        f"kubectl apply --dry-run=server --filename {deploy} --output json",
        f"kubectl get configmap shop-releases {get}",
        f"kubectl get deployment shop {get}",
        write,
        f"kubectl apply --filename {deploy}",
        f"kubectl get deployment shop {get}",
        write,
        write,
    ]
    assert "fail when CrashLoopBackOff|ImagePullBackOff|ErrImagePull" in result.stdout
    stamped = next(
        o
        for o in load_documents((service / deploy).read_text(), deploy)
        if o["kind"] == "Deployment"
    )
    annotations = stamped["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubestep.dev/deployed-at"] == "2025-01-01T00:00:00Z"


def test_kube_rollback_plans_the_last_release_as_a_whole(service: Path) -> None:
    result = make(service, "kube_rollback", "ENV=staging", "DRY_RUN=1")
    assert planned(result.stdout) == [
        "kubectl get lease shop-deploy --namespace shop-staging --output json",
        "kubectl replace --filename - --output json",
        "kubectl get configmap shop-releases --namespace shop-staging --output json",
        "kubectl apply --filename build/kube/staging.last-good.yaml",
        "kubectl replace --filename - --output json",
        "kubectl replace --filename - --output json",
    ]


def test_ssh_asks_for_a_tty_only_with_a_terminal_and_runs_cmd(service: Path) -> None:
    exec_ = "kubectl exec --stdin"
    where = "deployment/shop --namespace shop-staging --container app --"
    result = make(service, "ssh", "ENV=staging", "DRY_RUN=1")
    assert planned(result.stdout) == [f"{exec_} {where} sh"]
    result = make(service, "ssh", "ENV=staging", "DRY_RUN=1", "CMD=id -u; echo 'it''s'")
    assert planned(result.stdout) == [f"{exec_} {where} sh -c id -u; echo 'it''s'"]
    primary, secondary = pty.openpty()
    try:
        with_terminal = subprocess.run(
            ["make", "--no-print-directory", "ssh", "ENV=staging", "DRY_RUN=1", "POD=shop-1"],
            cwd=service,
            stdin=secondary,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert planned(with_terminal.stdout) == [
        "kubectl exec --stdin --tty shop-1 --namespace shop-staging --container app -- sh"
    ]


@pytest.mark.parametrize(
    ("args", "commands"),
    [
        (
            ["status"],
            [
                "kubectl get deployment,replicaset,pod,service,ingress,poddisruptionbudget,"
                "horizontalpodautoscaler --namespace shop-staging --selector "
                "app.kubernetes.io/name=shop --output wide",
                "kubectl rollout status deployment/shop --namespace shop-staging --watch=false",
            ],
        ),
        (
            ["logs"],
            ["kubectl logs deployment/shop --namespace shop-staging --container app --tail 200"],
        ),
        (
            ["logs", "POD=shop-1", "TAIL=5", "FOLLOW=1"],
            ["kubectl logs shop-1 --namespace shop-staging --container app --tail 5 --follow"],
        ),
        (
            ["events"],
            ["kubectl get events --namespace shop-staging --sort-by .metadata.creationTimestamp"],
        ),
        (["events", "POD=shop-1"], ["kubectl podevents shop-staging shop-1"]),
        (["diagnose"], ["kubectl diagnose --namespace shop-staging shop"]),
    ],
)
def test_cluster_targets_run_exact_commands(
    service: Path, args: list[str], commands: list[str]
) -> None:
    result = make(service, *args, "ENV=staging", "DRY_RUN=1")
    assert planned(result.stdout) == commands
    assert f"echo {commands[0]}" in result.stdout  # make echoes each command before it runs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kube_apply"], "ENV is required: use ENV=<canary|production|staging>"),
        (
            ["logs", "ENV=qa"],
            "ENV=qa is not an environment of shop: use "
            "ENV=<canary|production|staging> or add it with make kube_env ENV=qa",
        ),
        (["kube_env", "ENV=Q_A"], "ENV='Q_A' is not a valid environment name"),
    ],
)
def test_a_wrong_env_is_one_line(service: Path, args: list[str], message: str) -> None:
    result = make(service, *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_kube_env_adds_an_environment(tmp_path: Path) -> None:
    project = render(
        tmp_path / "shop", environments=["staging"], ingress_class="traefik", domain="corp.test"
    )
    make(project, "kube_env", "ENV=qa", "REPLICAS=4")
    make(project, "kube_create_config", "ENV=qa", "TAG=2.0.0")
    objects = objects_of(project, "qa")
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    ingress = next(o for o in objects if o["kind"] == "Ingress")
    assert deployment["spec"]["replicas"] == 4
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["rules"][0]["host"] == "shop.qa.corp.test"
    assert validate_manifests(objects) == []


def test_autoscaling_component_validates(tmp_path: Path) -> None:
    project = render(tmp_path / "shop", environments=["production"])
    make(project, "kube_env", "ENV=production")
    overlay = project / "kube" / "overlays" / "production" / "kustomization.yaml"
    text = overlay.read_text().replace(
        "# components:\n#   - ../../components/autoscaling",
        "components:\n  - ../../components/autoscaling",
    )
    overlay.write_text(text.replace("replicas:\n  - name: shop\n    count: 3\n", ""))
    make(project, "kube_create_config", "ENV=production", "TAG=2.0.0")
    objects = objects_of(project, "production")
    assert "HorizontalPodAutoscaler" in [o["kind"] for o in objects]
    assert "replicas" not in next(o for o in objects if o["kind"] == "Deployment")["spec"]
    assert validate_manifests(objects) == []


def test_legacy_service_probes_its_nagios_check(tmp_path: Path) -> None:
    legacy = {
        "status_path": "/status",
        "start_argv": ["gunicorn", "--bind", "0.0.0.0:8080", "shop:app"],
        "user": {"name": "shop", "uid": 1500},
        "checks": [
            {"kind": "process", "process": "gunicorn"},
            {"kind": "http", "port": 8081, "path": "/status"},
        ],
    }
    project = render(tmp_path / "shop", origin="legacy", step=4, port=8080, legacy=legacy)
    make(project, "kube_create_config", "ENV=staging", "TAG=0.9.0")
    objects = objects_of(project, "staging")
    pod = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/status", "port": "status"}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": 8080,
        "status": 8081,
    }
    assert pod["spec"]["securityContext"]["runAsUser"] == 1500
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "false"
    assert validate_manifests(objects) == []


def test_the_admission_policy_cel_enforces_the_critical_rules(service: Path) -> None:
    """Evaluates the policy's CEL with cel-python (a dev dependency; skipped without it)."""
    celpy = pytest.importorskip("celpy")
    policy = load_documents(
        (service / "kube" / "policy" / "admission-policy.yaml").read_text(), "policy"
    )[0]["spec"]
    cel = celpy.Environment()

    def allowed(obj: dict) -> list[bool]:
        variables = celpy.celtypes.MapType()
        activation = {"object": celpy.json_to_cel(obj), "variables": variables}
        for variable in policy["variables"]:
            value = cel.program(cel.compile(variable["expression"])).evaluate(activation)
            variables[celpy.celtypes.StringType(variable["name"])] = value
        return [
            bool(cel.program(cel.compile(v["expression"])).evaluate(activation))
            for v in policy["validations"]
        ]

    good = next(o for o in objects_of(service, "staging") if o["kind"] == "Deployment")
    assert allowed(good) == [True] * 4
    assert allowed({"kind": "Pod", "spec": good["spec"]["template"]["spec"]}) == [True] * 4
    for change, expected in [
        (("securityContext", "runAsUser", 0), [False, True, True, True]),
        (("securityContext", "allowPrivilegeEscalation", True), [True, False, True, True]),
        (("resources", "limits", {}), [True, True, False, True]),
    ]:
        bad = copy.deepcopy(good)
        section, key, value = change
        bad["spec"]["template"]["spec"]["containers"][0][section][key] = value
        assert allowed(bad) == expected, change
    for image in ("shop:latest", "registry:5000/shop"):
        bad = copy.deepcopy(good)
        bad["spec"]["template"]["spec"]["containers"][0]["image"] = image
        assert allowed(bad) == [True, True, True, False], image
