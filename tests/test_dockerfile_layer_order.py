"""Render tier: the Dockerfile puts what changes per build after its last layer, in every shape.

A new service, a legacy one after step 2 and one after +1 render from the same template; the
Docker tier (test_docker_layer_reuse.py) proves the effect on real layers for a new service.
"""

import re
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader

from kubestep.jinja_ext import KubestepExtension
from kubestep.paths import REPO

LAYER_INSTRUCTIONS = {"RUN", "COPY", "ADD", "WORKDIR"}
PER_BUILD = re.compile(r"\$\{?(VERSION|REVISION|BUILD_TIME)\b")
COMMON = {
    "service_name": "orders",
    "description": "Orders.",
    "base_image": "python:3.11-slim-bookworm",
    "port": 8080,
}
LEGACY = {
    "requirements": "requirements/prod.txt",
    "system_packages": ["libpq5"],
    "system_packages_source": "puppet/manifests/init.pp",
    "user": {"name": "legacy", "uid": 990},
    "start_argv": ["./run.sh"],
}
SHAPES = {
    "new service": {"origin": "new", "smarter": True},
    "legacy, step 2": {"origin": "legacy", "smarter": False, "legacy": LEGACY},
    "legacy, +1": {"origin": "legacy", "smarter": True, "legacy": LEGACY},
}


def render_dockerfile(answers: dict[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(REPO / "template"), extensions=[KubestepExtension]
    )
    return environment.get_template("Dockerfile.jinja").render(**COMMON, **answers)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage(dockerfile: str) -> list[tuple[str, str]]:
    """The instructions of the stage the image is: `service`, up to the next FROM."""
    parsed = instructions(dockerfile)
    start = parsed.index(("FROM", "${BASE_IMAGE} AS service")) + 1
    ends = [i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM" and i >= start]
    return parsed[start : ends[0] if ends else len(parsed)]


@pytest.fixture(params=sorted(SHAPES), scope="module")
def stage(request: pytest.FixtureRequest) -> list[tuple[str, str]]:
    return final_stage(render_dockerfile(SHAPES[request.param]))


def test_per_build_values_are_used_only_after_the_last_layer(
    stage: list[tuple[str, str]],
) -> None:
    last_layer = max(i for i, (keyword, _) in enumerate(stage) if keyword in LAYER_INSTRUCTIONS)
    users = [
        i for i, (keyword, args) in enumerate(stage) if keyword != "ARG" and PER_BUILD.search(args)
    ]
    assert users and min(users) > last_layer, stage
    assert {stage[i][0] for i in users} == {"LABEL", "ENV"}
    assert all(keyword in {"LABEL", "ENV", "CMD"} for keyword, _ in stage[last_layer + 1 :])


def test_no_run_follows_the_per_build_arguments(stage: list[tuple[str, str]]) -> None:
    # The classic builder passes build args to every RUN after their ARG, changing its cache key.
    declared = [
        i for i, (keyword, args) in enumerate(stage) if keyword == "ARG" and "VERSION" in args
    ]
    assert len(declared) == 1
    assert all(keyword != "RUN" for keyword, _ in stage[declared[0] :])


def test_the_code_is_the_last_layer_and_the_venv_comes_before_it(
    stage: list[tuple[str, str]],
) -> None:
    copies = [args for keyword, args in stage if keyword == "COPY"]
    assert copies[0] == "--from=build /opt/venv /opt/venv"
    assert copies[-1] in ("app/ ./app/", ". ./")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_tests_come_after_the_image_and_the_image_is_the_default(shape: str) -> None:
    # The classic builder builds every stage above --target, needed or not: below the
    # service stage, the test stage costs `make docker_build --target service` nothing.
    stages = [
        args
        for keyword, args in instructions(render_dockerfile(SHAPES[shape]))
        if keyword == "FROM"
    ]
    service = stages.index("${BASE_IMAGE} AS service")
    assert all(not args.endswith(" AS test") for args in stages[:service])
    assert stages[-1] == "service" if "build AS test" in stages else service == len(stages) - 1


def test_make_builds_the_service_stage() -> None:
    makefile = (REPO / "template" / "make" / "docker.mk.jinja").read_text()
    assert "--target service --tag $(IMAGE):$(TAG)" in makefile


def test_the_venv_is_made_without_pip() -> None:
    dockerfile = render_dockerfile(SHAPES["new service"])
    assert "python -m venv --without-pip /opt/venv" in dockerfile
    assert "/opt/venv/bin/pip" not in dockerfile
