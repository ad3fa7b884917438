"""Migration tier: the +1 step on examples/legacy-app wraps the app without changing its code."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubestep.errors import StepError
from kubestep.inventory import collect
from kubestep.kube.model import load_documents
from kubestep.migrate import migrate
from kubestep.paths import EXAMPLE
from kubestep.steps import parse_step
from tests.legacy_repo import (
    GIT_IDENTITY,
    commit_all_at,
    git,
    legacy_copy,
    migrated_copy,
    write_tree,
)
from tests.render import VENV_BIN

APP_CODE = ("legacy_app/web.py", "legacy_app/config.py", "legacy_app/db.py", "run.sh")


@pytest.fixture(scope="module")
def smarter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example migrated straight to +1 (steps 1-3 run first, 4 is not needed)."""
    repo = migrated_copy(tmp_path_factory.mktemp("plus-one") / "legacy-app", "+1")
    return {"repo": repo, "original": {path: (EXAMPLE / path).read_bytes() for path in APP_CODE}}


def test_plus_one_runs_the_steps_it_needs_then_itself(smarter: dict[str, object]) -> None:
    repo = smarter["repo"]
    subjects = git(repo, "log", "--reverse", "--format=%s").splitlines()
    assert [s.split(":")[0] for s in subjects[1:]] == [
        "kubestep step 1",
        "kubestep step 2",
        "kubestep step 3",
        "kubestep step +1",
    ]
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["step"], answers["smarter"]) == (3, True)
    assert parse_step("7") == parse_step("+1")


def test_the_app_code_is_unchanged(smarter: dict[str, object]) -> None:
    repo, original = smarter["repo"], smarter["original"]
    for path in APP_CODE:
        assert (repo / path).read_bytes() == original[path], path
    changed = git(repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert not [path for path in changed if path.startswith("legacy_app/")]


def test_the_image_starts_the_wrapped_app(smarter: dict[str, object]) -> None:
    repo = smarter["repo"]
    dockerfile = (repo / "Dockerfile").read_text()
    # The service stage's command, above the code (it is the same in every release).
    command = (
        'CMD ["gunicorn", "--config", "kubestep_gunicorn.py", "kubestep_app:create_application()"]'
    )
    assert dockerfile.splitlines().count(command) == 1
    assert "(was: ./run.sh, from run.sh:16)" in dockerfile
    assert "--requirement /tmp/requirements-kubestep.txt" in dockerfile
    hadolint = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"], cwd=repo, capture_output=True, text=True
    )
    assert hadolint.returncode == 0, hadolint.stdout
    app = (repo / "kubestep_app.py").read_text()
    assert "from legacy_app.web import application as legacy_application" in app
    assert 'ConfigKey("database", "port", "int")' in app
    assert 'Backing("postgres", 5432, section="database")' in app
    assert 'Backing("redis", 6379, section="cache")' in app
    assert 'INTERFACE = "wsgi"' in app
    gunicorn = (repo / "kubestep_gunicorn.py").read_text()
    assert 'worker_class = "gthread"' in gunicorn and "uvicorn" not in gunicorn
    assert "verify:" in (repo / "make" / "compose.mk").read_text()


def run_in(repo: Path, code: str, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], **environ},
    )


def test_the_rendered_config_overrides_and_fails_fast(
    smarter: dict[str, object], tmp_path: Path
) -> None:
    repo = smarter["repo"]
    ini = repo / "config" / "local.ini"
    read = "from kubestep_app import CONFIG; print(CONFIG.prepare()['database'])"
    ok = run_in(
        repo, read, LEGACY_APP_CONFIG=str(ini), DATABASE_HOST="db.staging", TMPDIR=str(tmp_path)
    )
    assert ok.returncode == 0, ok.stderr
    assert "'host': 'db.staging'" in ok.stdout and "'port': '5432'" in ok.stdout
    fail = (
        "from kubestep_app import CONFIG; from kubestep_runtime import fail_fast; "
        "fail_fast(CONFIG.prepare)"
    )
    bad = run_in(repo, fail, LEGACY_APP_CONFIG=str(ini), DATABASE_PORT="five")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: invalid [database] port='five' (expected an integer)")
    assert "Traceback" not in bad.stderr


def test_step_4_after_plus_one_probes_the_new_endpoints(
    smarter: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "legacy-app"
    git(smarter["repo"], "clone", "--quiet", str(smarter["repo"]), str(repo))
    migrate(repo, "4", out=lambda line: None)
    deployment = next(
        o
        for o in load_documents((repo / "kube" / "base" / "deployment.yaml").read_text(), "d")
        if o["kind"] == "Deployment"
    )
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert "SECTION_KEY overrides [section] key" in (repo / "config" / "staging.ini").read_text()


def test_plus_one_twice_changes_nothing(smarter: dict[str, object]) -> None:
    repo = smarter["repo"]
    head = git(repo, "rev-parse", "HEAD")
    lines: list[str] = []
    assert migrate(repo, "+1", out=lines.append) == []
    assert lines == [f"step +1 is already done in {repo.resolve()}: nothing to change"]
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_pin_raised_after_a_plus_one_stop_is_seen_when_the_step_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stop says "raise it, commit, and run the step again": the step must read the repo
    # as it is then, not the inventory recorded at step 2.
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    files = {
        "greeter/__init__.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        "Procfile": "web: gunicorn --bind 0.0.0.0:$PORT greeter:app\n",
        "requirements.txt": "flask\ngunicorn==20.0.4\n",
    }
    repo = legacy_copy(tmp_path / "greeter", write_tree(tmp_path / "source", files))
    migrate(repo, "3", out=lambda line: None)
    with pytest.raises(StepError, match=r"pins gunicorn==20\.0\.4 \(requirements\.txt:2\)"):
        migrate(repo, "+1", out=lambda line: None)
    (repo / "requirements.txt").write_text("flask\ngunicorn>=20.1\n")
    commit_all_at(repo, "", "Raise gunicorn as kubestep said")
    migrate(repo, "+1", out=lambda line: None)
    own = (repo / "requirements-kubestep.txt").read_text()
    # kubestep's own requirements file is not read back as the app's.
    assert "requirements-kubestep.txt" not in str(collect(repo).to_dict()["dependencies"])
    assert "gunicorn>=20.1" in own
