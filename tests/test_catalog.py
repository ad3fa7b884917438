"""The backing-service catalog: every kind runs in compose with a healthcheck and an image
variable, and `make run_local` says in one line which variable to set when its image is
neither here nor pullable (Elasticsearch and MongoDB have no local image)."""

import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from kubestep.catalog import CATALOG
from kubestep.migrate import migrate
from kubestep.paths import SCRIPTS
from tests.docker_helpers import compose_leftovers
from tests.legacy_repo import GIT_IDENTITY, git, legacy_copy
from tests.render import VENV_BIN

BUILD_SCRIPT = SCRIPTS / "build-local-images.sh"

# A client library per kind, each of which the inventory reads as that backing service.
CLIENTS = {
    "mysql": "PyMySQL==1.1.1",
    "rabbitmq": "pika==1.3.2",
    "memcached": "pymemcache==4.0.0",
    "mongodb": "pymongo==4.8.0",
    "elasticsearch": "elasticsearch==8.13.2",
}
PULL_ERROR = (
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: '
    "lookup registry-1.docker.io: no such host"
)
# docker for the image check: `compose version` and `compose config` are the real ones where
# there is a docker (they read files only), `compose up` pretends; `image inspect` and `pull`
# answer from FAKE_PRESENT and FAKE_PULLABLE.
FAKE_DOCKER = f"""#!/usr/bin/env bash
echo "$*" >>"$FAKE_DOCKER_LOG"
case "$1 $2" in
    "compose up") exit 0 ;;
    "compose version" | "compose config") [ -n "$REAL_DOCKER" ] && exec "$REAL_DOCKER" "$@" ;;
    image*) [[ " $FAKE_PRESENT " == *" ${{@: -1}} "* ]] ;;
    pull*)
        [[ " $FAKE_PULLABLE " == *" ${{@: -1}} "* ]] && exit 0
        echo '{PULL_ERROR}' >&2
        exit 1 ;;
    *) exit 1 ;;
esac
"""

FAKE_COMPOSE_V1 = """#!/usr/bin/env bash
echo "docker-compose $*" >>"$FAKE_DOCKER_LOG"
[ "$1" = up ]
"""


def test_every_kind_has_a_healthcheck_an_image_variable_and_local_settings() -> None:
    for kind, service in CATALOG.items():
        assert service.image_variable == f"{kind.upper()}_IMAGE"
        assert service.healthcheck[0] in ("CMD", "CMD-SHELL"), kind
        assert len(service.healthcheck) > 1, kind
        assert service.local_settings["host"] == kind
        assert service.local_settings["port"] == str(service.port)
        assert f"{kind}:{service.port}" in service.local_url


def test_only_kinds_debian_packages_have_a_local_image() -> None:
    without = {kind for kind, service in CATALOG.items() if not service.local_image}
    assert without == {"elasticsearch", "mongodb"}
    assert CATALOG["mysql"].local_image_name == "mariadb"
    assert CATALOG["mongodb"].local_image_name == ""


@pytest.fixture(scope="module")
def every_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/legacy-app with a client for every other kind too, after step 3."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        repo = legacy_copy(tmp_path_factory.mktemp("catalog") / "legacy-app")
        requirements = repo / "requirements.txt"
        requirements.write_text(requirements.read_text() + "\n".join(CLIENTS.values()) + "\n")
        git(repo, "commit", "--quiet", "--all", "--message", "Every kind of backing service")
        migrate(repo, "3", out=lambda line: None)
    return repo


def test_compose_runs_every_kind_with_its_healthcheck(every_service: Path) -> None:
    compose = yaml.safe_load((every_service / "compose.yaml").read_text())
    assert set(compose["services"]) == {"app", *CATALOG}
    for kind, service in CATALOG.items():
        rendered = compose["services"][kind]
        assert rendered["image"] == f"${{{service.image_variable}:-{service.default_image}}}"
        assert rendered["healthcheck"]["test"] == service.healthcheck
        assert compose["services"]["app"]["depends_on"][kind] == {"condition": "service_healthy"}
    # Plain JSON in the file, not Jinja's HTML-safe \u0026 escapes.
    assert "\\u00" not in (every_service / "compose.yaml").read_text()
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=every_service,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def run_local(
    project: Path, tmp_path: Path, present: list[str], pullable: Sequence[str] = (), **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """`make run_local` with the fake docker; its result and the docker commands it ran."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    for name in ("docker", "docker-compose"):  # Compose v1 where there is no v2
        (fake_bin / name).write_text(FAKE_DOCKER if name == "docker" else FAKE_COMPOSE_V1)
        (fake_bin / name).chmod(0o755)
    log = tmp_path / "docker.log"
    log.write_text("")
    result = subprocess.run(
        ["make", "-C", str(project), "run_local"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")},
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "REAL_DOCKER": shutil.which("docker") or "",
            "FAKE_DOCKER_LOG": str(log),
            "FAKE_PRESENT": " ".join(present),
            "FAKE_PULLABLE": " ".join(pullable),
            **env,
        },
    )
    return result, log.read_text()


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_run_local_names_the_variable_of_an_image_it_cannot_get(
    every_service: Path, tmp_path: Path
) -> None:
    defaults = [s.default_image for kind, s in CATALOG.items() if kind != "elasticsearch"]
    result, calls = run_local(every_service, tmp_path, present=defaults)
    assert result.returncode != 0
    image = CATALOG["elasticsearch"].default_image
    assert errors(result) == [
        f"error: ELASTICSEARCH_IMAGE: image {image} is not here and cannot be pulled "
        "(no such host); build or mirror one and set ELASTICSEARCH_IMAGE, or, if the app "
        f"copes without it, leave it out: inv migrate --step 3 --target {every_service} "
        "--set without=elasticsearch"
    ]
    assert f"pull --quiet {image}" in calls
    assert "compose up" not in calls


@pytest.mark.parametrize("compose", ["v2", "v1"])
def test_run_local_checks_the_image_an_override_names(
    every_service: Path, tmp_path: Path, compose: str
) -> None:
    """Compose v2 resolves the image itself; without it, the variable or the default counts."""
    if compose == "v2" and not shutil.which("docker"):
        pytest.skip("no docker client for Compose v2")
    defaults = [s.default_image for kind, s in CATALOG.items() if kind != "mysql"]
    mirrored = "mirror.example.com/mysql:8.4"
    only_v1 = {"REAL_DOCKER": ""} if compose == "v1" else {}
    result, calls = run_local(
        every_service, tmp_path, present=defaults, MYSQL_IMAGE=mirrored, **only_v1
    )
    assert ("docker-compose config" in calls) == (compose == "v1")
    assert errors(result) == [
        f"error: MYSQL_IMAGE: image {mirrored} is not here and cannot be pulled (no such host); "
        "build or mirror one and set MYSQL_IMAGE (kubestep builds kubestep-local/mariadb:10.11 "
        f"with inv local-images mariadb), or, if the app copes without it, leave it out: "
        f"inv migrate --step 3 --target {every_service} --set without=mysql"
    ]


def test_run_local_pulls_a_missing_image_where_a_registry_answers(
    every_service: Path, tmp_path: Path
) -> None:
    defaults = [s.default_image for s in CATALOG.values()]
    mongo = CATALOG["mongodb"].default_image
    present = [image for image in defaults if image != mongo]
    result, calls = run_local(every_service, tmp_path, present=present, pullable=[mongo])
    assert result.returncode == 0, result.stderr
    assert f"MONGODB_IMAGE: pulling {mongo}" in result.stdout
    assert f"pull --quiet {mongo}" in calls
    assert "compose up --build --detach" in calls


@pytest.mark.docker
def test_the_local_images_come_up_healthy_by_the_compose_checks(
    every_service: Path, docker_engine: None
) -> None:
    """The rendered compose services, on the images `inv local-images` builds: each one
    healthy by its own catalog check, `$$` escapes and all."""
    kinds = [kind for kind, service in CATALOG.items() if service.local_image]
    names = [CATALOG[kind].local_image_name for kind in kinds]
    subprocess.run(["bash", str(BUILD_SCRIPT), *names], check=True, capture_output=True)
    project = f"kubestep-catalog-{uuid.uuid4().hex[:8]}"
    compose = ["docker", "compose", "--project-name", project]
    env = {
        **os.environ,
        **{CATALOG[kind].image_variable: CATALOG[kind].local_image for kind in kinds},
    }
    try:
        up = subprocess.run(
            [*compose, "up", "--detach", "--wait", "--wait-timeout", "90", *kinds],
            cwd=every_service,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert up.returncode == 0, up.stderr
        states = subprocess.run(
            [*compose, "ps", "--format", "{{.Service}} {{.Health}}"],
            cwd=every_service,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        assert sorted(line for line in states if line) == sorted(f"{k} healthy" for k in kinds)
    finally:
        subprocess.run(
            [*compose, "down", "--volumes", "--timeout", "5"],
            cwd=every_service,
            env=env,
            capture_output=True,
            check=False,
        )
    assert compose_leftovers(project) == {}
