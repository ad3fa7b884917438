"""Render tier: `copier copy` of a new service into tmp dirs, and the result's own checks."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kubestep.errors import InvalidValue
from tests.render import VENV_BIN, generate, make, unrendered_files

ANSWER_SETS = {
    "defaults": {},
    "custom": {
        "service_name": "orders-api",
        "description": 'Takes "orders" & ships them.',
        "team": "shop",
        "port": 9090,
        "image": "registry.internal:5000/shop/orders-api",
        "base_image": "registry.internal:5000/python:3.11",
    },
}


@pytest.fixture(scope="module", params=sorted(ANSWER_SETS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp(request.param) / "my-service"
    return generate(destination, **ANSWER_SETS[request.param])


def answers_of(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def test_everything_is_rendered(project: Path) -> None:
    for name in (
        "Makefile",
        "README.rst",
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "config/local.env",
        "app/wsgi.py",
        "kubestep_runtime/__init__.py",
        "gunicorn.conf.py",
        "requirements.txt",
        ".copier-answers.yml",
    ):
        assert (project / name).is_file(), name
    assert unrendered_files(project) == []


def test_answers_are_recorded_for_copier_update(project: Path) -> None:
    answers = answers_of(project)
    assert answers["origin"] == "new"
    assert answers["service_name"] in {"my-service", "orders-api"}
    assert "_src_path" in answers and "_commit" in answers


def test_service_name_defaults_to_the_directory_name(tmp_path: Path) -> None:
    project = generate(tmp_path / "Billing_Service")
    assert answers_of(project)["service_name"] == "billing-service"


def test_make_help_is_the_default_goal_and_lists_every_target(project: Path) -> None:
    result = make(project)
    assert result.returncode == 0, result.stderr
    for target in (
        "install",
        "test",
        "lint",
        "run",
        "docker_build",
        "docker_push",
        "run_local",
        "stop_local",
        "logs_local",
    ):
        assert f"  {target} " in result.stdout, target


def test_make_prints_the_commands_it_runs(project: Path) -> None:
    result = make(project, "docker_build", "--dry-run", TAG="1.2.3", CA_BUNDLE="")
    assert result.returncode == 0, result.stderr
    answers = answers_of(project)
    assert f"--tag {answers['image']}:1.2.3 ." in result.stdout
    assert f"--build-arg BASE_IMAGE={answers['base_image']}" in result.stdout


def test_generated_project_passes_its_own_lint_and_tests(project: Path) -> None:
    result = make(project, "lint", "test", VENV=str(VENV_BIN.parent))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_dockerfile_is_hadolint_clean(project: Path) -> None:
    result = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_dockerfile_takes_a_base_image_and_runs_as_a_numeric_user(project: Path) -> None:
    dockerfile = (project / "Dockerfile").read_text()
    base = answers_of(project)["base_image"]
    assert f"ARG BASE_IMAGE={base}\n" in dockerfile
    assert dockerfile.count("FROM ${BASE_IMAGE}") == 2
    assert "\nUSER 10001\n" in dockerfile
    for label in ("version", "revision", "created"):
        assert f"org.opencontainers.image.{label}=" in dockerfile


def test_dependencies_are_installed_before_the_code_is_copied(project: Path) -> None:
    dockerfile = (project / "Dockerfile").read_text()
    assert dockerfile.index("pip install") < dockerfile.index("COPY app/")


def test_dockerignore_keeps_secrets_and_caches_out(project: Path) -> None:
    ignored = (project / ".dockerignore").read_text().split()
    for pattern in (".git", ".venv", "**/__pycache__", ".env"):
        assert pattern in ignored


def test_compose_file_is_valid_and_local_only(project: Path) -> None:
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    app = yaml.safe_load((project / "compose.yaml").read_text())["services"]["app"]
    assert app["init"] is True
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])
    assert app["env_file"] == ["config/local.env"]
    assert "healthcheck" in app


def test_yaml_files_are_yamllint_clean(project: Path) -> None:
    config = json.dumps(
        {
            "extends": "default",
            "rules": {
                "line-length": {"max": 120},
                "document-start": "disable",
                # copier writes lists without indentation; both styles are valid YAML.
                "indentation": {"indent-sequences": "whatever"},
            },
        }
    )
    result = subprocess.run(
        [VENV_BIN / "yamllint", "-s", "-d", config, "compose.yaml", ".copier-answers.yml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_readme_documents_targets_and_configuration(project: Path) -> None:
    readme = (project / "README.rst").read_text()
    for word in (
        "run_local",
        "stop_local",
        "docker_build",
        "ENVIRONMENT",
        "LOG_FORMAT",
        "CA_BUNDLE",
        "BASE_IMAGE",
        "bash-completion",
        "copier update",
    ):
        assert word in readme, word


@pytest.mark.parametrize(
    ("answers", "quoted"),
    [
        ({"service_name": "Bad_Name"}, "'Bad_Name'"),
        ({"port": 80}, "80"),
        ({"image": "registry/app:latest"}, "'registry/app:latest'"),
        ({"base_image": "Not An Image"}, "'Not An Image'"),
        ({"team": "Team A"}, "'Team A'"),
        ({"environments": ["Prod"]}, "'Prod'"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, answers: dict[str, object], quoted: str
) -> None:
    destination = tmp_path / "svc"
    with pytest.raises(InvalidValue) as refused:
        generate(destination, **answers)
    assert quoted in str(refused.value)
    assert not destination.exists()


def test_a_non_empty_destination_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidValue, match="is not empty"):
        generate(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
