"""Step 5 on legacy repos that have CI files of their own: theirs kept, kubestep's beside them,
what they know in the inventory, and a release branch kubestep cannot tell asked for."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kubestep.errors import StepError
from kubestep.migrate import migrate
from kubestep.steps import continuous_deployment
from tests.ci_tools import check_jsonschema
from tests.legacy_repo import GIT_IDENTITY, git, legacy_copy, tracked_files
from tests.render import VENV_BIN

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "ci"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def with_files(repo: Path, files: dict[str, str], message: str) -> Path:
    for rel, fixture in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, repo / rel)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return repo


@pytest.fixture(scope="module")
def travis_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example with a Travis file and a GitHub workflow of its own, on branch master,
    before and after `inv migrate --step 5`."""
    repo = legacy_copy(tmp_path_factory.mktemp("travis") / "travis-shop")
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        git(repo, "branch", "--move", "master")
        files = {".travis.yml": "travis.yml", ".github/workflows/ci.yml": "github-ci.yml"}
        before = tracked_files(with_files(repo, files, "Travis and GitHub CI"))
        migrate(repo, "5", out=lambda line: None)
    return {"repo": repo, "before": before}


@pytest.fixture
def gitlab_repo(tmp_path: Path) -> Path:
    """The example with GitLab CI and a Jenkinsfile, and a develop branch beside master."""
    repo = legacy_copy(tmp_path / "gitlab-shop")
    git(repo, "branch", "--move", "master")
    repo = with_files(repo, {".gitlab-ci.yml": "gitlab-ci.yml", "Jenkinsfile": "Jenkinsfile"}, "CI")
    git(repo, "branch", "develop")
    return repo


def test_their_ci_files_are_kept_and_kubesteps_go_beside_them(
    travis_repo: dict[str, object],
) -> None:
    repo, before = travis_repo["repo"], travis_repo["before"]
    assert isinstance(repo, Path) and isinstance(before, dict)
    after = tracked_files(repo)
    for name in (".travis.yml", ".github/workflows/ci.yml"):
        assert after[name] == before[name], f"{name} must be kept as it is"
    assert "kubestep step 5" in git(repo, "log", "-1", "--format=%s")
    message = git(repo, "log", "-1", "--format=%b")
    assert "add .travis.yml.kubestep (kubestep's version: yours at .travis.yml is kept" in message
    assert "beside .github/workflows/ci.yml, .travis.yml, kept as they are" in message
    # kubestep's Travis file is written beside theirs, valid, ready to merge by hand.
    aside = repo / ".travis.yml.kubestep"
    assert check_jsonschema("vendor.travis", aside).returncode == 0
    assert "branch = master" in aside.read_text()
    workflow = yaml.safe_load((repo / ".github/workflows/kubestep.yml").read_text())
    assert workflow["on"]["push"]["branches"] == ["master"]


def test_what_their_ci_knows_is_in_the_inventory(travis_repo: dict[str, object]) -> None:
    repo = travis_repo["repo"]
    assert isinstance(repo, Path)
    inventory = yaml.safe_load((repo / ".kubestep" / "inventory.yml").read_text())
    found = {item["path"]: item for item in inventory["ci_files"]}
    assert found[".travis.yml"]["branches"] == ["master"]
    assert [c["value"] for c in found[".travis.yml"]["test_commands"]] == [
        "PYTHONPATH=. pytest tests"
    ]
    assert [s["value"] for s in found[".github/workflows/ci.yml"]["secrets"]] == ["PYPI_TOKEN"]


def test_an_unclear_release_branch_stops_step_5_naming_the_candidates(gitlab_repo: Path) -> None:
    migrate(gitlab_repo, "4", out=lambda line: None)
    head = git(gitlab_repo, "rev-parse", "HEAD")
    result = subprocess.run(
        [VENV_BIN / "inv", "-r", str(REPO), "migrate", "--step", "5", "--target", str(gitlab_repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "error: step 5 cannot tell which branch releases to staging: candidates develop, master, "
        "release (from the repo's branches and CI files); answer it "
        "with `inv migrate --step 5 ... --set release_branch=NAME`"
    ]
    assert "Traceback" not in result.stderr
    assert git(gitlab_repo, "rev-parse", "HEAD") == head
    assert git(gitlab_repo, "status", "--porcelain") == ""
    # The answer, once given, wins from then on.
    migrate(gitlab_repo, "5", out=lambda line: None, sets=["release_branch=release"])
    assert "release_branch: release" in (gitlab_repo / ".kubestep/answers.yml").read_text()
    assert "branch = release" in (gitlab_repo / ".travis.yml").read_text()
    assert (gitlab_repo / ".gitlab-ci.yml").read_text() == (FIXTURES / "gitlab-ci.yml").read_text()


def test_a_makefile_with_cis_target_names_is_refused() -> None:
    answers = {"origin": "legacy", "legacy": {"make_targets": ["run", "ci", "kube_deploy"]}}
    with pytest.raises(StepError, match=r"already has: ci, kube_deploy; rename yours"):
        continuous_deployment.decide(Path("."), answers)
