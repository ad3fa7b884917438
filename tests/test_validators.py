"""Validators by kind: good values pass, bad ones are refused with a message naming them."""

import pytest

from kubestep.errors import InvalidValue
from kubestep.jinja_ext import env_name_of, k8s_slug, problems
from kubestep.validators import problem, validate

GOOD = {
    "k8s_name": ["a", "my-service", "svc2", "a" * 63],
    "port": [1024, 8000, "8080", 65535],
    "image_ref": [
        "python:3.11-slim-bookworm",
        "registry.example.com:5000/team/app:1.2.3",
        "kubestep-local/python:3.11-bookworm",
        "app@sha256:" + "a" * 64,
    ],
    "image_repository": ["registry.example.com/team/app", "app", "localhost:5000/x/y"],
    "env_name": ["DATABASE_URL", "_X", "a1"],
    "probe_path": ["/health", "/", "/api/v1/ready"],
}
BAD = {
    "k8s_name": ["", "My-Service", "my_service", "-a", "a-", "1abc", "a" * 64, None],
    "port": [0, 80, 1023, 65536, "http", None],
    "image_ref": ["", "Python:3.11", "app:", "a b", "app:tag with space", None],
    "image_repository": ["app:1.0", "app@sha256:" + "a" * 64, "UPPER/app", ""],
    "env_name": ["", "1X", "A-B", "A B"],
    "probe_path": ["", "health", "/a?b=1", "/a b"],
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in GOOD.items() for v in vs])
def test_good_values_pass(kind: str, value: object) -> None:
    validate(kind, value)
    assert problem(kind, value) == ""


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in BAD.items() for v in vs])
def test_bad_values_are_refused_with_the_value_quoted(kind: str, value: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        validate(kind, value)
    message = str(refused.value)
    assert repr(value) in message
    assert "\n" not in message
    assert problem(kind, value) == message


def test_port_message_says_why_low_ports_are_refused() -> None:
    assert "need root" in problem("port", 80)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown validator kind 'nope'"):
        validate("nope", "x")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My_Service", "my-service"),
        ("legacy-app", "legacy-app"),
        ("123", "my-service"),
        ("2fast", "fast"),
        ("a" * 80, "a" * 63),
    ],
)
def test_k8s_slug_suggests_a_valid_name(name: str, slug: str) -> None:
    assert k8s_slug(name) == slug
    assert problem("k8s_name", k8s_slug(name)) == ""


def test_env_name_of_config_keys() -> None:
    assert env_name_of("database.host") == "DATABASE_HOST"
    assert env_name_of("cache-port") == "CACHE_PORT"


def test_problems_reports_the_first_bad_list_item() -> None:
    assert problems(["staging", "production"], "k8s_name") == ""
    assert "'Prod'" in problems(["staging", "Prod"], "k8s_name")
    assert "is not a list" in problems("staging", "k8s_name")
