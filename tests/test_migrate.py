"""Migration tier: examples/legacy-app moved through steps 1-4, one commit each, nothing lost."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubestep import migrate as migration
from kubestep.errors import StepError, TargetError
from kubestep.migrate import migrate
from kubestep.steps import STEPS
from tests.legacy_repo import GIT_IDENTITY, git, legacy_copy, run_inv, tracked_files
from tests.render import VENV_BIN, make

REPO = Path(__file__).resolve().parents[1]
# Files a step moves rather than keeps in place: where their content lives now.
MOVED = {"Makefile": "legacy.mk", "README.md": "README.rst"}


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    return legacy_copy(tmp_path / "legacy-app")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example after steps 1 to 4, run one by one; with its state after each."""
    env = pytest.MonkeyPatch()
    for name, value in GIT_IDENTITY.items():
        env.setenv(name, value)
    repo = legacy_copy(tmp_path_factory.mktemp("migrated") / "legacy-app")
    original = tracked_files(repo)
    heads = [git(repo, "rev-parse", "HEAD")]
    for step in ("1", "2", "3", "4"):
        migrate(repo, step, out=lambda line: None)
        heads.append(git(repo, "rev-parse", "HEAD"))
    env.undo()
    return {"repo": repo, "original": original, "heads": heads}


def commit_subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--reverse", "--format=%s").splitlines()


def test_each_step_is_one_commit_with_a_clear_message(migrated: dict[str, object]) -> None:
    repo = migrated["repo"]
    subjects = commit_subjects(repo)
    assert subjects[0] == "The legacy service"
    assert [s.split(":")[0] for s in subjects[1:]] == [
        "kubestep step 1",
        "kubestep step 2",
        "kubestep step 3",
        "kubestep step 4",
    ]
    assert git(repo, "status", "--porcelain") == ""
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert answers["step"] == 4 and answers["origin"] == "legacy"
    assert answers["smarter"] is False


def test_every_legacy_file_survives(migrated: dict[str, object]) -> None:
    repo = migrated["repo"]
    for path, content in migrated["original"].items():
        if path in MOVED:
            assert content.decode().strip() in (repo / MOVED[path]).read_text() or all(
                line.strip() in (repo / MOVED[path]).read_text()
                for line in content.decode().splitlines()
                if line.strip()
            ), path
        else:
            assert (repo / path).read_bytes() == content, path


def test_step_1_makes_the_makefile_the_single_entry_point(migrated: dict[str, object]) -> None:
    repo = migrated["repo"]
    assert "include legacy.mk" in (repo / "Makefile").read_text()
    result = make(repo)
    assert result.returncode == 0, result.stderr
    assert "run_local" in result.stdout
    # The legacy targets still work as they did.
    dry = make(repo, "test", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "pytest tests" in dry.stdout


def test_step_1_resurrects_the_readme_from_the_inventory(migrated: dict[str, object]) -> None:
    readme = (migrated["repo"] / "README.rst").read_text()
    assert readme.startswith("legacy-app\n==========\n")
    for fact in (
        "legacy_app.web:application",
        "postgres",
        "redis",
        "/status",
        "Legacy README (README.md)",
        "make run_local",
    ):
        assert fact in readme, fact
    assert (migrated["repo"] / ".kubestep" / "inventory.yml").is_file()


def test_step_2_dockerfile_carries_what_config_management_knew(
    migrated: dict[str, object],
) -> None:
    repo = migrated["repo"]
    dockerfile = (repo / "Dockerfile").read_text()
    assert "libpq5" in dockerfile
    assert "--uid 990" in dockerfile and "\nUSER 990\n" in dockerfile
    assert 'CMD ["./run.sh"]' in dockerfile
    result = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
    readme = (repo / "README.rst").read_text()
    assert "Operations\n----------" in readme and "*/15 * * * *" in readme


def test_step_2_turns_nagios_checks_into_runnable_scripts(migrated: dict[str, object]) -> None:
    checks = migrated["repo"] / "checks"
    scripts = sorted(p.name for p in checks.iterdir() if p.name != "run_check.py")
    assert len(scripts) == 4, scripts
    for name in scripts:
        path = checks / name
        assert os.access(path, os.X_OK), name
        result = subprocess.run(
            [VENV_BIN / "shellcheck", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout


def test_an_http_check_script_fails_on_a_closed_port(migrated: dict[str, object]) -> None:
    script = next((migrated["repo"] / "checks").glob("*http*"))
    result = subprocess.run(
        [str(script), "--port", "1"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert result.returncode == 2, result.stdout
    assert result.stdout.startswith("CRITICAL - ")


def test_step_3_compose_runs_the_service_with_its_backing_services(
    migrated: dict[str, object],
) -> None:
    repo = migrated["repo"]
    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    assert set(compose["services"]) == {"app", "postgres", "redis"}
    assert compose["services"]["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16}"
    assert "postgres-data" in compose["volumes"]
    local_ini = (repo / "config" / "local.ini").read_text()
    assert "host = postgres" in local_ini and "host = redis" in local_ini
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_rerunning_a_finished_step_changes_nothing(migrated: dict[str, object]) -> None:
    repo = migrated["repo"]
    head = git(repo, "rev-parse", "HEAD")
    lines: list[str] = []
    assert migrate(repo, "3", out=lines.append) == []
    assert migrate(repo, "2", out=lines.append) == []
    assert git(repo, "rev-parse", "HEAD") == head
    assert "already done" in lines[0]


def test_dry_run_prints_the_plan_and_diff_and_touches_nothing(legacy: Path) -> None:
    before = tracked_files(legacy)
    head = git(legacy, "rev-parse", "HEAD")
    lines: list[str] = []
    migrate(legacy, "2", dry_run=True, out=lines.append)
    output = "\n".join(lines)
    assert "=== kubestep step 1" in output and "=== kubestep step 2" in output
    assert "+++ b/Dockerfile" in output
    assert git(legacy, "rev-parse", "HEAD") == head
    assert tracked_files(legacy) == before
    assert git(legacy, "status", "--porcelain") == ""


def test_a_failing_step_leaves_the_target_as_it_was(
    legacy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tracked_files(legacy)
    head = git(legacy, "rev-parse", "HEAD")
    real_apply = migration.apply_changes

    def apply_half_then_fail(root: Path, changes: list[migration.Change]) -> None:
        real_apply(root, changes[: len(changes) // 2])
        raise OSError("disk full (injected)")

    monkeypatch.setattr(migration, "apply_changes", apply_half_then_fail)
    with pytest.raises(StepError, match="step 1 failed, the target is as it was: disk full"):
        migrate(legacy, "1", out=lambda line: None)
    assert git(legacy, "rev-parse", "HEAD") == head
    assert git(legacy, "status", "--porcelain", "--ignored") == ""
    assert tracked_files(legacy) == before


def test_your_edits_are_merged_into_the_next_step(legacy: Path) -> None:
    migrate(legacy, "1", out=lambda line: None)
    readme = legacy / "README.rst"
    readme.write_text(
        readme.read_text().replace("Quick start\n", "On call: #orders-team.\n\nQuick start\n", 1)
    )
    git(legacy, "commit", "--quiet", "--all", "--message", "Say who is on call")
    migrate(legacy, "2", out=lambda line: None)
    text = readme.read_text()
    assert "On call: #orders-team." in text and "Operations\n----------" in text


@pytest.mark.parametrize("name", ["Dockerfile", "dockerfile"])
def test_a_users_dockerfile_is_kept_aside_and_later_steps_merge(legacy: Path, name: str) -> None:
    theirs = (
        'FROM python:3.9-slim\nRUN apt-get update && apt-get install -y libpq5\nCMD ["./run.sh"]\n'
    )
    (legacy / name).write_text(theirs)
    git(legacy, "add", name)
    git(legacy, "commit", "--quiet", "--message", "An old Dockerfile")
    migrate(legacy, "2", out=lambda line: None)
    assert (legacy / "Dockerfile.legacy").read_text() == theirs
    assert "USER 990" in (legacy / "Dockerfile").read_text()
    assert "libpq5" in (legacy / "Dockerfile").read_text()  # its knowledge was read
    assert not (legacy / "Dockerfile.kubestep").exists() and not (legacy / "dockerfile").exists()
    migrate(legacy, "+1", out=lambda line: None)  # kubestep's own Dockerfile merges, no clash
    assert (legacy / "Dockerfile.legacy").read_text() == theirs
    assert "kubestep_gunicorn.py" in (legacy / "Dockerfile").read_text()


def test_a_users_compose_file_is_kept_aside(legacy: Path) -> None:
    theirs = "services:\n  web:\n    build: .\n    ports: ['8080:8080']\n"
    (legacy / "docker-compose.yml").write_text(theirs)
    git(legacy, "add", "docker-compose.yml")
    git(legacy, "commit", "--quiet", "--message", "An old compose file")
    migrate(legacy, "3", out=lambda line: None)
    assert (legacy / "docker-compose.legacy.yml").read_text() == theirs
    assert not (legacy / "docker-compose.yml").exists()
    assert "legacy-app" in (legacy / "compose.yaml").read_text()


def test_no_web_service_stops_before_any_commit(legacy: Path) -> None:
    for path in ("run.sh", "deploy/legacy-app.service", "legacy_app/web.py", "Makefile"):
        git(legacy, "rm", "--quiet", path)
    git(legacy, "commit", "--quiet", "--message", "No web process")
    with pytest.raises(StepError, match=r"cannot decide start_command|no web service found"):
        migrate(legacy, "3", out=lambda line: None)
    assert git(legacy, "log", "--format=%s").splitlines()[0] == "No web process"
    assert git(legacy, "status", "--porcelain").strip() in ("", "?? .kubestep/")


def test_an_answer_decides_the_start_command(legacy: Path) -> None:
    (legacy / "run.sh").unlink()
    git(legacy, "rm", "--quiet", "--cached", "run.sh")
    git(legacy, "commit", "--quiet", "--message", "No start script")
    migrate(
        legacy,
        "2",
        out=lambda line: None,
        sets=["start_command=gunicorn --bind 0.0.0.0:8080 legacy_app.web:application"],
    )
    dockerfile = (legacy / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "--bind", "0.0.0.0:8080", "legacy_app.web:application"]' in dockerfile
    assert "start_command: gunicorn" in (legacy / ".kubestep/answers.yml").read_text()


def test_a_step_not_built_yet_says_so(legacy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STEPS, 5, dataclasses.replace(STEPS[5], available=False))
    with pytest.raises(StepError, match=r"step 5 .* is not available yet"):
        migrate(legacy, "5", out=lambda line: None)
    assert git(legacy, "log", "--format=%s") == "The legacy service"


@pytest.mark.parametrize("step", ["0", "8", "seven", "+2"])
def test_unknown_steps_are_refused(legacy: Path, step: str) -> None:
    with pytest.raises(StepError, match="is not a step: use one of 1, 2, 3"):
        migrate(legacy, step)


def test_a_dirty_tree_is_refused(legacy: Path) -> None:
    (legacy / "run.sh").write_text("changed\n")
    with pytest.raises(TargetError, match=r"uncommitted changes \(run\.sh\)"):
        migrate(legacy, "1")


def test_a_missing_git_identity_is_refused_before_anything_changes(
    legacy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in GIT_IDENTITY:
        monkeypatch.delenv(name)
    for name in ("EMAIL", "GIT_CONFIG_GLOBAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    head = subprocess.run(
        ["git", "-C", str(legacy), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout
    with pytest.raises(TargetError, match="git has no author identity"):
        migrate(legacy, "1")
    assert (
        subprocess.run(
            ["git", "-C", str(legacy), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == head
    )
    assert not (legacy / "README.rst").exists()


def test_a_directory_that_is_not_a_git_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="is not a git repository"):
        migrate(tmp_path, "1")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["migrate", "--step", "1", "--target", "/nonexistent"], "is not a directory"),
        (["migrate", "--step", "9", "--target", "."], "is not a step"),
        (["status", "--target", "/nonexistent"], "is not a directory"),
        (["inventory", "--target", "/nonexistent"], "/nonexistent"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(arguments: list[str], message: str) -> None:
    result = run_inv(*arguments)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_status_shows_done_steps_and_what_comes_next(legacy: Path) -> None:
    migrate(legacy, "1", out=lambda line: None)
    result = run_inv("status", "--target", str(legacy))
    assert result.returncode == 0, result.stderr
    assert "steps done: 1\n" in result.stdout
    assert "[             done]  1" in result.stdout
    assert "[             next]  2" in result.stdout
    assert "+ checks/" in result.stdout


def test_a_lowercase_makefile_does_not_shadow_kubesteps(legacy: Path) -> None:
    git(legacy, "mv", "Makefile", "makefile")
    git(legacy, "commit", "--quiet", "--message", "A lowercase makefile")
    original = (legacy / "makefile").read_text()
    migrate(legacy, "1", out=lambda line: None)
    assert not (legacy / "makefile").exists()
    assert (legacy / "legacy.mk").read_text() == original
    assert "include legacy.mk" in (legacy / "Makefile").read_text()
