"""kubestep's rules, one failing fixture each, on the golden staging set as the good case."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubestep.keep.bridge import objects as bridge_objects
from kubestep.keep.bridge import targets
from kubestep.kube.model import load_documents
from kubestep.kube.rules import RULES, image_tag_problem
from kubestep.kube.schema import supported_versions
from kubestep.kube.validate import main, validate_manifests
from kubestep.secrets import secret_looking

GOLDEN = Path(__file__).resolve().parent / "golden" / "kube" / "staging.yaml"
Obj = dict[str, Any]


@pytest.fixture
def objects() -> list[Obj]:
    return load_documents(GOLDEN.read_text(), str(GOLDEN))


def of(objects: list[Obj], kind: str) -> Obj:
    return next(o for o in objects if o["kind"] == kind)


def container(objects: list[Obj]) -> Obj:
    return of(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def pod_spec(objects: list[Obj]) -> Obj:
    return of(objects, "Deployment")["spec"]["template"]["spec"]


def _set(path: str, value: object) -> Callable[[list[Obj]], None]:
    """A mutation of the Deployment's first container: 'a.b.c' set to value (None deletes)."""

    def mutate(objects: list[Obj]) -> None:
        *parents, last = path.split(".")
        target = container(objects)
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value

    return mutate


def _pod(key: str, value: object) -> Callable[[list[Obj]], None]:
    return lambda objects: pod_spec(objects).__setitem__(key, value)


def _bridged(host: str, change: Callable[[list[Obj]], None]) -> Callable[[list[Obj]], None]:
    """Add the step-6 bridge of a legacy PostgreSQL host (changed by `change`) to the set."""

    def mutate(objects: list[Obj]) -> None:
        namespace = of(objects, "Deployment")["metadata"]["namespace"]
        (target,) = targets({"database": {"host": host, "port": "5432"}}, [], "shop")
        bridge = bridge_objects([target], "shop", "platform", namespace)
        change(bridge)
        objects.extend(bridge)

    return mutate


def _configmap(key: str, value: str) -> Callable[[list[Obj]], None]:
    return lambda objects: of(objects, "ConfigMap")["data"].__setitem__(key, value)


def _add_secret(objects: list[Obj]) -> None:
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "shop-secrets",
                "namespace": "shop-staging",
                "labels": of(objects, "Service")["metadata"]["labels"],
            },
            "stringData": {"DB": "x"},
        }
    )


def _drop_label(objects: list[Obj]) -> None:
    del of(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]["team"]


def _selector(objects: list[Obj]) -> None:
    of(objects, "Deployment")["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "x"


def _service_selector(objects: list[Obj]) -> None:
    of(objects, "Service")["spec"]["selector"] = {"app.kubernetes.io/name": "other"}


def _service_port(objects: list[Obj]) -> None:
    of(objects, "Service")["spec"]["ports"][0]["targetPort"] = "web"


def _recreate(objects: list[Obj]) -> None:
    of(objects, "Deployment")["spec"]["strategy"] = {"type": "Recreate"}


FAILING: dict[str, list[Callable[[list[Obj]], None]]] = {
    "KS001": [_set("readinessProbe", None), _set("livenessProbe", None)],
    "KS002": [
        _set("readinessProbe.httpGet.port", "metrics"),
        _set("livenessProbe.httpGet.port", 9000),
    ],
    "KS003": [_set("resources.limits", None), _set("resources", None)],
    "KS004": [
        _set("image", "registry.example.com/platform/shop:latest"),
        _set("image", "registry.example.com:5000/platform/shop"),
    ],
    "KS005": [
        _set("securityContext.runAsUser", 0),
        lambda o: (
            _set("securityContext.runAsNonRoot", None)(o),
            pod_spec(o)["securityContext"].pop("runAsNonRoot"),
        ),
    ],
    "KS006": [
        _set("securityContext.allowPrivilegeEscalation", True),
        _set("securityContext.privileged", True),
    ],
    "KS007": [
        _set("securityContext.capabilities", None),
        _set("securityContext.capabilities.add", ["SYS_ADMIN"]),
    ],
    "KS008": [
        lambda o: pod_spec(o)["securityContext"].pop("seccompProfile"),
        _set("securityContext.seccompProfile", {"type": "Unconfined"}),
    ],
    "KS009": [_set("securityContext.readOnlyRootFilesystem", False)],
    "KS010": [_drop_label, lambda o: of(o, "Service")["metadata"]["labels"].pop("team")],
    "KS011": [_selector],
    "KS012": [_service_selector, _service_port],
    "KS013": [
        _configmap("DATABASE_PASSWORD", "hunter2"),
        _configmap("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"),
        _configmap("SIGNING", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
        _configmap("legacy-app.ini", "[database]\nhost = db\npassword = hunter2\n"),
    ],
    "KS014": [_add_secret],
    "KS015": [_recreate, lambda o: of(o, "Deployment")["spec"].pop("progressDeadlineSeconds")],
    "KS016": [
        _pod("hostNetwork", True),
        _pod("volumes", [{"name": "docker", "hostPath": {"path": "/var/run"}}]),
    ],
    "KS017": [
        _bridged(
            "10.1.2.3",
            lambda objs: objs[0]["spec"].update(type="ExternalName", externalName="10.1.2.3"),
        )
    ],
    "KS018": [
        _bridged(
            "10.1.2.3", lambda objs: objs[1]["metadata"]["labels"].pop("kubernetes.io/service-name")
        ),
        _bridged("10.1.2.3", lambda objs: objs[1]["ports"][0].update(name="postgres")),
        _bridged("10.1.2.3", lambda objs: objs[0]["spec"].update(selector={"app": "db"})),
    ],
}


def test_bridged_legacy_hosts_are_clean(objects: list[Obj]) -> None:
    for host in ("10.1.2.3", "db1.internal", "fd00::5"):
        _bridged(host, lambda objs: None)(objects)
    assert validate_manifests(objects) == []


def test_the_golden_set_is_clean(objects: list[Obj]) -> None:
    assert validate_manifests(objects, versions=[]) == []


def test_every_rule_has_a_failing_fixture() -> None:
    assert sorted(FAILING) == sorted(RULES)


@pytest.mark.parametrize(
    ("rule_id", "mutate"),
    [(rule_id, mutate) for rule_id, mutations in FAILING.items() for mutate in mutations],
)
def test_a_rule_finds_its_problem(
    objects: list[Obj], rule_id: str, mutate: Callable[[list[Obj]], None]
) -> None:
    mutate(objects)
    found = validate_manifests(objects, versions=[], rules=[rule_id])
    assert [f.rule for f in found] and {f.rule for f in found} == {rule_id}
    assert all(f.severity == RULES[rule_id].severity for f in found)


def test_an_opt_out_needs_a_reason(objects: list[Obj]) -> None:
    _set("securityContext.readOnlyRootFilesystem", False)(objects)
    annotations = of(objects, "Deployment")["metadata"].setdefault("annotations", {})
    annotations["kubestep.dev/skip-rules"] = "KS009: the legacy app writes its PID file to /app"
    assert validate_manifests(objects, versions=[]) == []
    for bad in ("KS009", "KS009: because", "KS999: no such rule here", "readonly: reasons"):
        annotations["kubestep.dev/skip-rules"] = bad
        rules = sorted(f.rule for f in validate_manifests(objects, versions=[]))
        assert rules == ["KS000", "KS009"], bad


def test_schema_problems_name_the_versions(objects: list[Obj]) -> None:
    container(objects)["livenessProbe"]["httpGet"]["paht"] = "/health"
    found = validate_manifests(objects, versions=["1.29", "1.37"], rules=[])
    assert [(f.rule, f.object) for f in found] == [("KS100", "Deployment/shop-staging/shop")]
    assert "paht" in found[0].message and "1.29, 1.37" in found[0].message


def test_a_kind_a_version_does_not_serve_is_an_error() -> None:
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "p"},
        "spec": {"policyName": "p", "validationActions": ["Deny"]},
    }
    found = validate_manifests([policy], versions=["1.29", "1.30"], rules=[])
    assert [(f.rule, f.message.endswith("(Kubernetes 1.29)")) for f in found] == [("KS101", True)]
    custom = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}}
    assert [f.rule for f in validate_manifests([custom], rules=[])] == ["KS102"]


def test_versions_run_from_1_29_to_the_newest_known() -> None:
    versions = supported_versions()
    assert versions[0] == "1.29" and versions[-1] >= "1.37"
    assert supported_versions("1.30")[0] == "1.30"


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("shop:1.0", True),
        ("registry:5000/shop:1.0", True),
        ("shop@sha256:" + "a" * 64, True),
        ("shop", False),
        ("registry:5000/shop", False),
        ("shop:latest", False),
    ],
)
def test_image_tags(image: str, pinned: bool) -> None:
    assert (image_tag_problem(image) == "") is pinned


@pytest.mark.parametrize(
    ("key", "value", "secret"),
    [
        ("LOG_LEVEL", "INFO", False),
        ("GREETING", "Hello from shop", False),
        ("MONKEY_MODE", "on", False),
        ("CACHE_URL", "redis://redis:6379/0", False),
        ("REQUEST_ID_HEADER", "X-Request-Id", False),
        ("BUILD", "3f2a9c1d0e8b7a6f", False),
        ("API_KEY", "x", True),
        ("SECRET_KEY", "x", True),
        ("AUTH_TOKEN", "x", True),
        ("UPSTREAM", "https://bot:pa55word@api.example.com/", True),
        ("AWS", "AKIAIOSFODNN7EXAMPLE", True),
        ("SESSION", "q8ZVh3Lr0x7KpT2mW9bNcY4sJfA6gD1eR5uIoE", True),
    ],
)
def test_secret_looking_values(key: str, value: str, secret: bool) -> None:
    assert bool(secret_looking(key, value)) is secret


def test_cli_json_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], objects: list[Obj]
) -> None:
    assert main([str(GOLDEN)]) == 0
    assert "0 error(s), 0 warning(s); schemas of Kubernetes 1.29 to" in capsys.readouterr().out
    bad = copy.deepcopy(objects)
    _set("image", "shop")(bad)
    _set("securityContext.readOnlyRootFilesystem", False)(bad)
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": bad}))
    assert main(["--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["errors"], report["warnings"]) == (1, 1)
    assert {f["rule"]: f["severity"] for f in report["findings"]} == {
        "KS004": "error",
        "KS009": "warning",
    }
    assert report["findings"][0]["source"] == str(path)


def test_cli_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.yaml")]) == 1
    assert main(["--rules", "KS001,KS404", str(GOLDEN)]) == 1
    (tmp_path / "x.yaml").write_text("- just\n- a list\n")
    assert main([str(tmp_path / "x.yaml")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "KS404" in lines[1]
