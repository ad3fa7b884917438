"""The CI files reader: the branches, test commands and secrets of four CI systems."""

from pathlib import Path

from kubestep.inventory import ci_files
from kubestep.inventory.collect import collect

FIXTURES = Path(__file__).parent / "fixtures" / "ci"


def parsed(rel: str, fixture: str) -> dict:
    found = ci_files.parse(rel, (FIXTURES / fixture).read_text()).to_dict()
    (only,) = found["ci_files"]
    return only


def values(items: list[dict]) -> list[str]:
    return [item["value"] for item in items]


def test_travis() -> None:
    found = parsed(".travis.yml", "travis.yml")
    assert found["system"] == "travis" and found["branches"] == ["master"]
    assert found["test_commands"] == [
        {"value": "PYTHONPATH=. pytest tests", "source": ".travis.yml:11"}
    ]
    assert values(found["secrets"]) == ["DOCKER_USERNAME", "DOCKER_PASSWORD"]
    assert found["secrets"][0]["source"] == ".travis.yml:13"


def test_github_actions() -> None:
    found = parsed(".github/workflows/ci.yml", "github-ci.yml")
    assert found["system"] == "github-actions" and found["branches"] == ["master"]
    assert values(found["test_commands"]) == ["PYTHONPATH=. python -m pytest tests"]
    assert found["test_commands"][0]["source"] == ".github/workflows/ci.yml:15"
    assert values(found["secrets"]) == ["PYPI_TOKEN"]


def test_gitlab_ci() -> None:
    found = parsed(".gitlab-ci.yml", "gitlab-ci.yml")
    assert found["system"] == "gitlab-ci" and found["branches"] == ["master"]
    assert values(found["test_commands"]) == ["make test"]
    assert values(found["secrets"]) == ["DEPLOY_SSH_KEY"]


def test_jenkins() -> None:
    found = parsed("Jenkinsfile", "Jenkinsfile")
    assert found["system"] == "jenkins" and found["branches"] == ["release"]
    assert values(found["test_commands"]) == ["PYTHONPATH=. pytest tests"]
    assert values(found["secrets"]) == ["nexus-deploy"]


def test_a_file_that_is_not_a_pipeline_is_a_warning() -> None:
    found = ci_files.parse(".travis.yml", "- just\n- a list\n").to_dict()
    assert found["ci_files"] == []
    assert found["warnings"][0]["source"] == ".travis.yml:1"


def test_collect_reads_top_level_ci_files_only(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        (FIXTURES / "github-ci.yml").read_text()
    )
    (tmp_path / ".travis.yml").write_text((FIXTURES / "travis.yml").read_text())
    (tmp_path / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "vendor" / "lib" / ".travis.yml").write_text("language: c\n")
    paths = [found.path for found in collect(tmp_path).ci_files]
    assert paths == [".github/workflows/ci.yml", ".travis.yml"]
